#!/bin/bash
# scripts/install.sh - install tlsgate on this machine (Debian 12), as root:
#   /usr/sbin/tlsgated, /usr/sbin/tlsgatectl, /usr/sbin/tlsgate-setup (its version written in)
#   /usr/share/tlsgate/tlsgate-marks.env, /usr/share/tlsgate/content/ (the content package),
#   /usr/share/tlsgate/schema.json (the policy's JSON Schema, for editors: "$schema")
#   /usr/share/man/man8/{tlsgated,tlsgatectl,tlsgate-setup}.8, /usr/share/man/man5/tlsgate-policy.5
#   /usr/share/bash-completion/completions/{tlsgatectl,tlsgate-setup}
#   /etc/tlsgate/policy.json (the default policy, only if none is there: yours is kept)
#   /etc/default/tlsgate (LAN interfaces and queues, only if none is there)
#   /etc/systemd/system/tlsgated.service, /etc/logrotate.d/tlsgate (the event log's rotation)
# It builds its own Release tree first (build-release/, never the sanitizer build of
# scripts/test.sh in build/), and refuses binaries built with a sanitizer. Options:
#   --prefix-root DIR   install below DIR instead of / (for packaging and tests; or DESTDIR=DIR)
#   --build-dir DIR     the Release build tree (default build-release/ of the source tree)
#   --no-build          install what the build tree has, without building
# Then: edit /etc/default/tlsgate (TLSGATE_LAN=...), `systemctl daemon-reload`,
# `systemctl enable --now tlsgated`.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
root=${DESTDIR:-/} build=1 tree=$src/build-release
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix-root) root=${2:?--prefix-root needs a directory}; shift 2 ;;
	--build-dir) tree=${2:?--build-dir needs a directory}; shift 2 ;;
	--no-build) build=0; shift ;;
	-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
if [ "$root" = / ] && [ "$(id -u)" -ne 0 ]; then
	echo "install.sh: run as root (or use --prefix-root DIR)" >&2
	exit 1
fi
bin=$tree/bin
if [ "$build" = 1 ]; then
	# shellcheck source=deps.sh
	. "$src/scripts/deps.sh"
	tg_install_deps
	cmake -S "$src" -B "$tree" -DCMAKE_BUILD_TYPE=Release -DTG_SANITIZE=OFF -DTG_FUZZ=OFF \
		>/dev/null
	cmake --build "$tree" -j"$(nproc)" --target tlsgated tlsgatectl
fi
for b in tlsgated tlsgatectl; do
	[ -x "$bin/$b" ] || { echo "install.sh: $bin/$b missing (build first)" >&2; exit 1; }
	# A sanitizer build is a test build: slow, and it aborts the daemon on what it finds.
	syms=$(nm -D "$bin/$b")
	if grep -qx 'TG_SANITIZE:BOOL=ON' "$tree/CMakeCache.txt" 2>/dev/null ||
		grep -qE ' (__asan_init|__ubsan_handle_[a-z_]+|__tsan_init|__msan_init)$' <<<"$syms"; then
		echo "install.sh: $bin/$b is a sanitizer build (TG_SANITIZE): not installed;" \
			"build a Release tree (without --no-build, or --build-dir DIR of one)" >&2
		exit 1
	fi
done
version=$("$bin/tlsgatectl" --version)
version=${version#tlsgatectl }
[ "$("$bin/tlsgated" --version)" = "tlsgated $version" ] ||
	{ echo "install.sh: $bin/tlsgated and tlsgatectl disagree on the version" >&2; exit 1; }
r=${root%/}
share=$r/usr/share
install -d "$r/usr/sbin" "$share/tlsgate" "$r/etc/tlsgate" "$r/etc/default" \
	"$r/etc/systemd/system" "$share/man/man5" "$share/man/man8" \
	"$share/bash-completion/completions"
install -m 0755 "$bin/tlsgated" "$bin/tlsgatectl" "$r/usr/sbin/"
# tlsgate-setup carries the version of the binaries it is installed with (its --version).
sed "s/^TG_VERSION=\$/TG_VERSION=$version/" "$src/scripts/tlsgate-setup" >"$r/usr/sbin/tlsgate-setup.new"
grep -qx "TG_VERSION=$version" "$r/usr/sbin/tlsgate-setup.new" ||
	{ echo "install.sh: no TG_VERSION= line in scripts/tlsgate-setup" >&2; exit 1; }
chmod 0755 "$r/usr/sbin/tlsgate-setup.new"
mv "$r/usr/sbin/tlsgate-setup.new" "$r/usr/sbin/tlsgate-setup"
install -m 0644 "$src/scripts/tlsgate-marks.env" "$src/policy/schema.json" "$share/tlsgate/"
rm -rf "$share/tlsgate/content.new"
cp -r "$src/policy/content" "$share/tlsgate/content.new"
rm -rf "$share/tlsgate/content"
mv "$share/tlsgate/content.new" "$share/tlsgate/content"
install -m 0644 "$src"/docs/man/*.8 "$share/man/man8/"
install -m 0644 "$src"/docs/man/*.5 "$share/man/man5/"
# bash-completion loads a command's completion from the file of its name: one file, two names.
install -m 0644 "$src/scripts/tlsgate-completion.bash" "$share/bash-completion/completions/tlsgatectl"
ln -sf tlsgatectl "$share/bash-completion/completions/tlsgate-setup"
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
"$r/usr/sbin/tlsgatectl" policy check "$r/etc/tlsgate/policy.json" --content "$share/tlsgate/content"
echo "installed tlsgate $version below $root; set TLSGATE_LAN in $r/etc/default/tlsgate, then:"
echo "  systemctl daemon-reload && systemctl enable --now tlsgated"
