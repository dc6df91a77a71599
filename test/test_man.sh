#!/bin/bash
# The man pages in docs/man/: groff and man read each without a single warning, and they cannot
# fall behind the programs: every long option of each program's getopt table (test/options.sh
# reads them from the sources) is in its page, --version in each program's page, every
# tlsgatectl command in tlsgatectl(8), every field name of policy/schema.json in
# tlsgate-policy(5), and no page names an option that no program has. Without groff or man the
# test is skipped (77), except under CI (CI set), where it fails: scripts/deps.sh installs them.
# Prints "N passed, N failed".
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=options.sh
. "$src/test/options.sh"
man=$src/docs/man
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

for tool in groff man; do
	command -v "$tool" >/dev/null && continue
	if [ -n "${CI:-}" ]; then
		echo "$tool is missing under CI (scripts/deps.sh installs groff-base and man-db)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "skipped: $tool is missing (scripts/deps.sh installs it)"
	exit 77
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pages="tlsgated.8 tlsgatectl.8 tlsgate-setup.8 tlsgate-policy.5"
for p in $pages; do
	f=$man/$p
	if [ ! -f "$f" ]; then
		ko "$p missing"
		continue
	fi
	# groff with every warning (-ww) and tbl, as man would run it; then man itself.
	if groff -t -ww -z -man -Tutf8 "$f" 2>"$work/w" && [ ! -s "$work/w" ]; then
		ok
	else
		ko "groff -ww warns on $p: $(cat "$work/w")"
	fi
	if MANWIDTH=80 man --warnings -E UTF-8 -l "$f" >/dev/null 2>"$work/w" && [ ! -s "$work/w" ]
	then
		ok
	else
		ko "man --warnings on $p: $(cat "$work/w")"
	fi
	# The page as a reader sees it: plain text, "\-" as "-".
	groff -t -man -Tascii -P-cbou "$f" 2>/dev/null >"$work/$p.txt"
	name=${p%.*} sect=${p##*.}
	th=$(sed -n 's/\\//g; s/^\.TH \([^ ]*\) \([^ ]*\).*/\1 \2/p' "$f")
	if [ "$th" = "${name^^} $sect" ]; then ok; else ko "$p: .TH \"$th\", expected \"${name^^} $sect\""; fi
done

# has PAGE WORD...: each WORD appears in PAGE's text as a whole word.
has() {
	local p=$1 w
	shift
	for w in "$@"; do
		if grep -qE -- "(^|[^A-Za-z0-9_-])$(sed 's/[][$.*^]/\\&/g' <<<"$w")([^A-Za-z0-9_-]|$)" \
			"$work/$p.txt"; then
			ok
		else
			ko "$p does not mention $w"
		fi
	done
}

mapfile -t o < <(tlsgated_options)
[ "${#o[@]}" -ge 15 ] || ko "only ${#o[@]} tlsgated options read from the source"
has tlsgated.8 "${o[@]}" --version
mapfile -t o < <(ctl_options)
[ "${#o[@]}" -ge 25 ] || ko "only ${#o[@]} tlsgatectl options read from the source"
has tlsgatectl.8 "${o[@]}" --version
mapfile -t o < <(ctl_commands)
[ "${#o[@]}" -ge 6 ] || ko "only ${#o[@]} tlsgatectl commands read from the source"
has tlsgatectl.8 "${o[@]}" check list flush init export show
mapfile -t o < <(setup_options)
[ "${#o[@]}" -ge 20 ] || ko "only ${#o[@]} tlsgate-setup options read from the source"
has tlsgate-setup.8 "${o[@]}" up down status
mapfile -t o < <(python3 - "$src/policy/schema.json" <<'PY'
import json, sys
names = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "properties" and isinstance(v, dict):
                names.update(v)
            walk(v)
    elif isinstance(o, list):
        for x in o:
            walk(x)
walk(json.load(open(sys.argv[1])))
print("\n".join(sorted(names)))
PY
)
[ "${#o[@]}" -ge 80 ] || ko "only ${#o[@]} field names read from policy/schema.json"
has tlsgate-policy.5 "${o[@]}"

# No invented options: every --option a page names is one a program has (the proxy workers'
# and the CA process's internal arguments included, and the iptables NFQUEUE option the rules
# use).
{
	tlsgated_options
	ctl_options
	setup_options
	printf '%s\n' --version --proxy-worker --ca-process --queue-bypass
} | sort -u >"$work/known"
for p in $pages; do
	grep -ohE -- '(^|[^A-Za-z0-9_-])--[a-z0-9][a-z0-9-]*' "$work/$p.txt" | grep -oE -- '--.*' |
		sort -u >"$work/named"
	unknown=$(comm -23 "$work/named" "$work/known" | tr '\n' ' ')
	if [ -z "$unknown" ]; then ok; else ko "$p names options no program has: $unknown"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
