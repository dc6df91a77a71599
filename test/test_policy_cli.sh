#!/bin/bash
# tlsgatectl policy check / explain against the policy files:
# - every policy under policy/ is accepted (exit 0);
# - every test/data/policy-invalid/NN-name.json is rejected (exit 1) and stderr carries the exact
#   line of NN-name.err;
# - every <name>.scenarios.json next to <name>.json gives the expected {action, reason, rule}.
# - explain decides failures: --fail reassembly-conflict, --fail invalid-name with a server
#   name with a port; it refuses malformed names and addresses (exit 2, the reason on stderr);
# - policy check and tlsgated --check-config report every error alike, the verdict on stdout.
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
explain_is "block fail-invalid-name" --fail invalid-name --sni 'www.example.com:443'
explain_is "block fail-invalid-name" --fail invalid-name --sni 'bad name.example.com'
explain_is "pass not-tls" --http-host 'www.example.com:8080'
explain_is "pass not-tls" --http-host '[2001:db8::1]:8080'

# A malformed value is refused with what is wrong with it (exit 2, nothing on stdout), unless
# --fail invalid-name asks how such a name is decided.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
explain_refuses() { # explain_refuses "ERROR LINE" ARGS...
	local want=$1 out err rc=0
	shift
	out=$("$ctl" explain --policy "$src/policy/default.json" --content "$content" "$@" \
		2>"$tmp/err") || rc=$?
	err=$(cat "$tmp/err")
	if [ "$rc" -eq 2 ] && [ -z "$out" ] && [ "$err" = "$want" ]; then
		ok
	else
		ko "explain $*: rc $rc, stdout \"$out\", stderr \"$err\", expected \"$want\""
	fi
}
hint="(to see how the gateway decides a flow that sends it, add --fail invalid-name)"
explain_refuses "tlsgatectl explain: --sni \"bad name\": character not allowed in a domain name $hint" \
	--src 192.168.1.10 --sni 'bad name'
explain_refuses "tlsgatectl explain: --sni \"www.example.com:443\": character not allowed in a domain name $hint" \
	--src 192.168.1.10 --sni 'www.example.com:443'
explain_refuses "tlsgatectl explain: --dns \"x-.example.com\": label starts or ends with a hyphen $hint" \
	--src 192.168.1.10 --dns 'x-.example.com'
explain_refuses "tlsgatectl explain: --http-host \"a.example:0\": the port is not a number in 1..65535 $hint" \
	--src 192.168.1.10 --http-host 'a.example:0'
explain_refuses "tlsgatectl explain: --http-host \"[2001:db8::zz]\": not an IPv6 address between the brackets $hint" \
	--src 192.168.1.10 --http-host '[2001:db8::zz]'
explain_refuses "tlsgatectl explain: --src \"192.168.1\": not an IPv4 or IPv6 address" \
	--src 192.168.1 --sni www.example.com
explain_refuses "tlsgatectl explain: --dst \"2001:db8::1\": not an IPv4 address (the family of --src)" \
	--src 192.168.1.10 --dst 2001:db8::1 --sni www.example.com
explain_refuses "tlsgatectl explain: --mac \"-1:00:00:00:00:01\": expected six hex bytes (02:00:5e:00:00:01)" \
	--src 192.168.1.10 --mac -1:00:00:00:00:01 --sni www.example.com
explain_refuses "tlsgatectl explain: --dport \" 443\": not a port (1..65535)" \
	--src 192.168.1.10 --dport ' 443' --sni www.example.com

# policy check and tlsgated --check-config load the same way and say the same: every error
# and warning on stderr, the verdict on stdout (exit 1 invalid, 0 valid).
daemon=$(dirname "$ctl")/tlsgated
echo '{"version": 1, "settings": {"ech": "maybe", "quic": 1}, "filtering": [{"name": "x"}],
 "bogus": 2}' >"$tmp/four-errors.json"
check_same() { # check_same POLICY RC STDOUT: both programs give RC and STDOUT, the same stderr
	local pol=$1 want_rc=$2 want_out=$3 rc1=0 rc2=0 out1 out2
	out1=$("$ctl" policy check "$pol" --content "$content" 2>"$tmp/e1") || rc1=$?
	out2=$("$daemon" --check-config --policy "$pol" --content "$content" 2>"$tmp/e2") || rc2=$?
	if [ "$rc1" -ne "$want_rc" ] || [ "$rc2" -ne "$want_rc" ] || [ "$out1" != "$want_out" ] ||
		[ "$out2" != "$want_out" ]; then
		ko "$pol: policy check rc $rc1 \"$out1\", --check-config rc $rc2 \"$out2\"; expected rc $want_rc \"$want_out\""
	elif ! diff -u <(sed 's/^tlsgatectl:/PROG:/' "$tmp/e1") \
		<(sed 's/^tlsgated:/PROG:/' "$tmp/e2") >"$tmp/diff"; then
		ko "$pol: policy check and --check-config report differently: $(cat "$tmp/diff")"
	else
		ok
	fi
}
if [ -x "$daemon" ]; then
	check_same "$tmp/four-errors.json" 1 "$tmp/four-errors.json: invalid"
	n=$(grep -c '^error: ' "$tmp/e2")
	if [ "$n" -eq 4 ]; then ok; else ko "--check-config: $n errors, expected 4: $(cat "$tmp/e2")"; fi
	check_same "$src/policy/default.json" 0 "$src/policy/default.json: valid (0 warnings)"
	if [ ! -s "$tmp/e2" ]; then ok; else ko "a valid policy, stderr: $(cat "$tmp/e2")"; fi
	check_same "$tmp/missing.json" 1 ""
	if grep -qxF "tlsgated: $tmp/missing.json: No such file or directory" "$tmp/e2"; then
		ok
	else
		ko "a missing policy, stderr: $(cat "$tmp/e2")"
	fi
else
	ko "no tlsgated next to $ctl"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
