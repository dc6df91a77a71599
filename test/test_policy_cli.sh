#!/bin/bash
# tlsgatectl policy check / explain against the policy files:
# - every policy under policy/ is accepted (exit 0);
# - every test/data/policy-invalid/NN-name.json is rejected (exit 1) and stderr carries the exact
#   line of NN-name.err;
# - every <name>.scenarios.json next to <name>.json gives the expected {action, reason, rule}.
# - explain decides failures: --fail reassembly-conflict, and a server name with a port.
# The content package is policy/content (or $TLSGATE_CONTENT).
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
ctl=${TG_BIN:-$src/build/bin}/tlsgatectl
content=${TLSGATE_CONTENT:-$src/policy/content}
if [ ! -d "$content" ]; then
	echo "no content package at $content: skipped"
	exit 77
fi
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}

while IFS= read -r f; do
	if out=$("$ctl" policy check "$f" --content "$content" 2>&1); then
		ok
	else
		ko "$f rejected: $out"
	fi
done < <(find "$src/policy" -name '*.json' ! -name '*.scenarios.json' ! -path '*/content/*' \
	! -name schema.json | sort)

n=0
for f in "$src"/test/data/policy-invalid/*.json; do
	n=$((n + 1))
	want=$(head -n 1 "${f%.json}.err")
	out=$("$ctl" policy check "$f" --content "$content" 2>&1)
	rc=$?
	if [ $rc -ne 1 ]; then
		ko "$(basename "$f"): exit $rc, expected 1"
	elif ! grep -qxF -- "$want" <<<"$out"; then
		ko "$(basename "$f"): expected \"$want\", got: $out"
	else
		ok
	fi
done
[ "$n" -ge 50 ] && ok || ko "only $n invalid policies (want >= 50)"

while IFS= read -r sc; do
	pol=${sc%.scenarios.json}.json
	res=$(python3 - "$ctl" "$pol" "$content" "$sc" <<'PY'
import json, subprocess, sys
ctl, pol, content, sc = sys.argv[1:]
ok = bad = 0
for i, s in enumerate(json.load(open(sc))):
    cmd = [ctl, "explain", "--policy", pol, "--content", content] + s["args"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    try:
        got = json.loads(r.stdout)
    except ValueError:
        got = {}
    want = s["expect"]
    diff = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    if r.returncode != 0 or diff:
        bad += 1
        print("FAIL: %s[%d] %s: rc %d %s %s" % (sc, i, s.get("comment", ""), r.returncode, diff,
                                               r.stderr.strip()))
    else:
        ok += 1
print("RESULT %d %d" % (ok, bad))
PY
)
	grep -v '^RESULT' <<<"$res"
	read -r _ o b < <(grep '^RESULT' <<<"$res")
	pass=$((pass + ${o:-0}))
	fail=$((fail + ${b:-1}))
done < <(find "$src/policy" -name '*.scenarios.json' | sort)

# Failures are facts of the decision like any other: one named with --fail, and a server name
# that is no host name (a port in it), under the default policy.
explain_is() { # explain_is "ACTION REASON" ARGS...: the default policy's decision for ARGS
	local want=$1 got
	shift
	got=$("$ctl" explain --policy "$src/policy/default.json" --content "$content" \
		--src 192.168.1.10 --dst 192.0.2.80 --dport 443 "$@" |
		python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["action"], d["reason"])')
	if [ "$got" = "$want" ]; then ok; else ko "explain $*: \"$got\", expected \"$want\""; fi
}
explain_is "block fail-conflict" --fail reassembly-conflict --sni www.example.com
explain_is "block fail-invalid-name" --sni 'www.example.com:443'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
