#!/bin/bash
# The daemon (daemon/marks.h) and the ruleset (scripts/tlsgate-marks.env) must agree on every
# mark bit: a mismatch would make decisions invisible to the kernel or queue packets forever.
set -euo pipefail
cd "${TG_SRC:-$(dirname "$0")/..}"
pass=0 fail=0
while IFS='=' read -r key val; do
	case "$key" in ''|'#'*) continue ;; esac
	hdr=$(awk -v k="$key" '$1 == "#define" && $2 == k {print $3}' daemon/marks.h)
	hdr=${hdr%u}
	if [ -z "$hdr" ]; then
		echo "FAIL $key: not in daemon/marks.h"; fail=$((fail + 1)); continue
	fi
	if [ $((hdr)) -ne $((val)) ]; then
		echo "FAIL $key: marks.h $hdr != tlsgate-marks.env $val"; fail=$((fail + 1)); continue
	fi
	pass=$((pass + 1))
done < scripts/tlsgate-marks.env
[ "$pass" -ge 8 ] || { echo "FAIL: only $pass constants compared"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
