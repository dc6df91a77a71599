#!/bin/bash
# scripts/install.sh - install tlsgate on this machine (Debian 12), as root:
#   /usr/sbin/tlsgated, /usr/sbin/tlsgatectl, /usr/sbin/tlsgate-setup
#   /usr/share/tlsgate/tlsgate-marks.env, /usr/share/tlsgate/content/ (the content package)
#   /etc/tlsgate/policy.json (the default policy, only if none is there: yours is kept)
#   /etc/default/tlsgate (LAN interfaces and queues, only if none is there)
#   /etc/systemd/system/tlsgated.service, /etc/logrotate.d/tlsgate (the event log's rotation)
# It builds first (Release) unless build/bin has the binaries. Options:
#   --prefix-root DIR   install below DIR instead of / (for packaging and tests)
#   --no-build          use what build/bin has
# Then: edit /etc/default/tlsgate (TLSGATE_LAN=...), `systemctl daemon-reload`,
# `systemctl enable --now tlsgated`.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
root=/ build=1
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix-root) root=${2:?--prefix-root needs a directory}; shift 2 ;;
	--no-build) build=0; shift ;;
	-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
if [ "$root" = / ] && [ "$(id -u)" -ne 0 ]; then
	echo "install.sh: run as root (or use --prefix-root DIR)" >&2
	exit 1
fi
bin=$src/build/bin
if [ "$build" = 1 ] && { [ ! -x "$bin/tlsgated" ] || [ ! -x "$bin/tlsgatectl" ]; }; then
	# shellcheck source=deps.sh
	. "$src/scripts/deps.sh"
	tg_install_deps
	cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$src/build" -j"$(nproc)" --target tlsgated tlsgatectl
fi
for b in tlsgated tlsgatectl; do
	[ -x "$bin/$b" ] || { echo "install.sh: $bin/$b missing (build first)" >&2; exit 1; }
done
r=${root%/}
install -d "$r/usr/sbin" "$r/usr/share/tlsgate" "$r/etc/tlsgate" "$r/etc/default" \
	"$r/etc/systemd/system"
install -m 0755 "$bin/tlsgated" "$bin/tlsgatectl" "$src/scripts/tlsgate-setup" "$r/usr/sbin/"
install -m 0644 "$src/scripts/tlsgate-marks.env" "$r/usr/share/tlsgate/"
rm -rf "$r/usr/share/tlsgate/content.new"
cp -r "$src/policy/content" "$r/usr/share/tlsgate/content.new"
rm -rf "$r/usr/share/tlsgate/content"
mv "$r/usr/share/tlsgate/content.new" "$r/usr/share/tlsgate/content"
install -m 0644 "$src/scripts/tlsgated.service" "$r/etc/systemd/system/"
install -D -m 0644 "$src/scripts/tlsgate.logrotate" "$r/etc/logrotate.d/tlsgate"
# The daemon runs as a dynamic user: the policy must be readable by it.
[ -e "$r/etc/tlsgate/policy.json" ] || install -m 0644 "$src/policy/default.json" "$r/etc/tlsgate/policy.json"
if [ ! -e "$r/etc/default/tlsgate" ]; then
	cat >"$r/etc/default/tlsgate" <<'EOT'
# tlsgate: the LAN interfaces whose traffic is inspected (space or comma separated), and the
# number of NFQUEUE queues (one daemon thread each). See tlsgate-setup --help.
TLSGATE_LAN=
TLSGATE_QUEUES=1
EOT
fi
"$r/usr/sbin/tlsgatectl" policy check "$r/etc/tlsgate/policy.json" --content "$r/usr/share/tlsgate/content"
echo "installed below $root; set TLSGATE_LAN in $r/etc/default/tlsgate, then:"
echo "  systemctl daemon-reload && systemctl enable --now tlsgated"
