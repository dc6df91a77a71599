#!/bin/bash
# scripts/install.sh into a scratch root (a DESTDIR): it builds its own Release tree
# (build-release/), every file lands, the installed programs are no sanitizer build and all say
# the version of CMakeLists.txt's project(), man finds the installed pages, bash registers the
# installed completion, the installed CLI accepts the installed policy against the installed
# content, a second run keeps an edited policy, and a sanitizer build is refused.
set -euo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
asan_build=${TG_BUILD:-$src/build}
work=$(mktemp -d)
root=$work/root
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { if "${@:2}"; then pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi; }
if ! "$src/scripts/install.sh" --prefix-root "$root" >"$work/log" 2>&1; then
	cat "$work/log"
	echo "0 passed, 1 failed"; exit 1
fi
for f in usr/sbin/tlsgated usr/sbin/tlsgatectl usr/sbin/tlsgate-setup \
	usr/share/tlsgate/tlsgate-marks.env usr/share/tlsgate/content/pinned.json \
	usr/share/tlsgate/schema.json \
	usr/share/man/man8/tlsgated.8 usr/share/man/man8/tlsgatectl.8 \
	usr/share/man/man8/tlsgate-setup.8 usr/share/man/man5/tlsgate-policy.5 \
	usr/share/bash-completion/completions/tlsgatectl \
	usr/share/bash-completion/completions/tlsgate-setup \
	etc/tlsgate/policy.json etc/default/tlsgate etc/systemd/system/tlsgated.service \
	etc/logrotate.d/tlsgate; do
	check "$f installed" test -e "$root/$f"
done
check "the schema is policy/schema.json" cmp -s "$src/policy/schema.json" \
	"$root/usr/share/tlsgate/schema.json"

# A Release build: no sanitizer runtime in the installed binaries.
for b in tlsgated tlsgatectl; do
	syms=$(nm -D "$root/usr/sbin/$b")
	check "$b has symbols to look at" [ -n "$syms" ]
	check "$b: no ASan/UBSan symbols" [ -z "$(grep -E '__(asan|ubsan|tsan|msan)_' <<<"$syms")" ]
done
check "built in build-release/" grep -qx 'CMAKE_BUILD_TYPE:STRING=Release' \
	"$src/build-release/CMakeCache.txt"

# One version, CMake's, from all three programs (the installed tlsgate-setup away from the
# source tree's CMakeLists.txt).
version=$(sed -n 's/^project(tlsgate VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
check "a version in CMakeLists.txt" [ -n "$version" ]
for b in tlsgated tlsgatectl tlsgate-setup; do
	out=$("$root/usr/sbin/$b" --version 2>&1) || out="exit $?: $out"
	check "$b --version: \"$out\"" [ "$out" = "$b $version" ]
done

# man finds the installed pages by name; bash registers the installed completion.
for p in tlsgated tlsgatectl tlsgate-setup tlsgate-policy; do
	check "man finds $p" test -n "$(MANPATH=$root/usr/share/man man -w "$p" 2>/dev/null)"
done
check "man tlsgatectl renders it" grep -q 'explain' \
	<(MANPATH=$root/usr/share/man MANWIDTH=80 man tlsgatectl 2>/dev/null)
c=$root/usr/share/bash-completion/completions
check "completion registered for both commands" [ "$(bash -c ". '$c/tlsgate-setup'
	complete -p tlsgatectl tlsgate-setup" | wc -l)" -eq 2 ]

check "installed policy is valid" "$root/usr/sbin/tlsgatectl" policy check "$root/etc/tlsgate/policy.json" \
	--content "$root/usr/share/tlsgate/content"
echo '{"version": 1, "description": "mine"}' >"$root/etc/tlsgate/policy.json"
"$src/scripts/install.sh" --prefix-root "$root" --no-build >/dev/null 2>&1
check "an edited policy survives a reinstall" grep -q mine "$root/etc/tlsgate/policy.json"
DESTDIR=$work/dest "$src/scripts/install.sh" --no-build >/dev/null 2>&1
check "DESTDIR= installs there" test -x "$work/dest/usr/sbin/tlsgated"
rc=0
"$src/scripts/install.sh" --bogus 2>/dev/null || rc=$?
check "bad option: exit 2" [ "$rc" -eq 2 ]

# A sanitizer build is refused: by its CMake cache, and by its symbols without one.
mkdir -p "$work/fake/bin"
cp "$root/usr/sbin/tlsgated" "$root/usr/sbin/tlsgatectl" "$work/fake/bin/"
echo 'TG_SANITIZE:BOOL=ON' >"$work/fake/CMakeCache.txt"
rc=0
"$src/scripts/install.sh" --build-dir "$work/fake" --no-build --prefix-root "$work/r2" \
	>/dev/null 2>"$work/err" || rc=$?
check "a TG_SANITIZE tree is refused" [ "$rc" -eq 1 ]
check "...saying why" grep -q 'is a sanitizer build' "$work/err"
check "...installing nothing" [ ! -e "$work/r2/usr/sbin/tlsgated" ]
if [ -x "$asan_build/bin/tlsgated" ] &&
	grep -q ' __asan_init$' <<<"$(nm -D "$asan_build/bin/tlsgated")"; then
	rm -f "$work/fake/CMakeCache.txt"
	cp "$asan_build/bin/tlsgated" "$asan_build/bin/tlsgatectl" "$work/fake/bin/"
	rc=0
	"$src/scripts/install.sh" --build-dir "$work/fake" --no-build --prefix-root "$work/r2" \
		>/dev/null 2>"$work/err" || rc=$?
	check "ASan binaries without a CMake cache are refused" [ "$rc" -eq 1 ]
	check "...and nothing installed" [ ! -e "$work/r2/usr/sbin/tlsgated" ]
else
	echo "note: $asan_build has no ASan build: the symbol check of install.sh not exercised"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
