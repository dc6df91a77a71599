#!/bin/bash
# scripts/install.sh into a scratch root: every file lands, the installed CLI accepts the
# installed policy against the installed content, and a second run keeps an edited policy.
set -euo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
pass=0 fail=0
check() { if "${@:2}"; then pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi; }
if ! "$src/scripts/install.sh" --prefix-root "$root" --no-build >"$root.log" 2>&1; then
	cat "$root.log"; rm -f "$root.log"
	echo "0 passed, 1 failed"; exit 1
fi
for f in usr/sbin/tlsgated usr/sbin/tlsgatectl usr/sbin/tlsgate-setup \
	usr/share/tlsgate/tlsgate-marks.env usr/share/tlsgate/content/pinned.json \
	etc/tlsgate/policy.json etc/default/tlsgate etc/systemd/system/tlsgated.service \
	etc/logrotate.d/tlsgate; do
	check "$f installed" test -e "$root/$f"
done
check "installed policy is valid" "$root/usr/sbin/tlsgatectl" policy check "$root/etc/tlsgate/policy.json" \
	--content "$root/usr/share/tlsgate/content"
echo '{"version": 1, "description": "mine"}' >"$root/etc/tlsgate/policy.json"
"$src/scripts/install.sh" --prefix-root "$root" --no-build >/dev/null 2>&1
check "an edited policy survives a reinstall" grep -q mine "$root/etc/tlsgate/policy.json"
rc=0
"$src/scripts/install.sh" --bogus 2>/dev/null || rc=$?
check "bad option: exit 2" [ "$rc" -eq 2 ]
rm -f "$root.log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
