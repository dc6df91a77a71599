#!/bin/bash
# Machines enforce the style (STYLE.md rule 15): clang-format with the repository's .clang-format
# over the C of lib/, daemon/ and the unit, fuzz and bench tests, and clang-tidy with its
# .clang-tidy over lib/ and daemon/, through the build's compile_commands.json. Any finding
# fails. Without the tools the test is skipped (77), except under CI (CI set), where it fails:
# scripts/deps.sh installs them. Prints "N passed, N failed".
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TG_BUILD:-$src/build}
cd "$src" || exit 1
pass=0 fail=0

for tool in clang-format clang-tidy; do
	command -v "$tool" >/dev/null && continue
	if [ -n "${CI:-}" ]; then
		echo "$tool is missing under CI (scripts/deps.sh installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "skipped: $tool is missing (scripts/deps.sh installs it)"
	exit 77
done

ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# Every C file the rules cover, found by name so that a new one is covered without a list.
mapfile -t fmt_files < <(find lib daemon test/unit test/fuzz test/bench -name '*.[ch]' | sort)
if [ "${#fmt_files[@]}" -lt 50 ]; then
	bad "clang-format: only ${#fmt_files[@]} C files found under lib daemon test/{unit,fuzz,bench}"
elif clang-format --dry-run --Werror "${fmt_files[@]}" >"${TMPDIR:-/tmp}/tg-format.$$" 2>&1; then
	ok "clang-format: ${#fmt_files[@]} files as .clang-format says"
else
	grep 'error:' "${TMPDIR:-/tmp}/tg-format.$$" | cut -d: -f1 | sort | uniq -c |
		sed 's/^/     /'
	head -n 40 "${TMPDIR:-/tmp}/tg-format.$$"
	bad "clang-format: files differ from .clang-format (clang-format -i FILE shows how)"
fi
rm -f "${TMPDIR:-/tmp}/tg-format.$$"

# clang-tidy needs the compile commands of this build (CMAKE_EXPORT_COMPILE_COMMANDS).
if [ ! -f "$build/compile_commands.json" ]; then
	bad "clang-tidy: $build/compile_commands.json missing (configure with CMake first)"
else
	mapfile -t tidy_files < <(find lib daemon -name '*.c' | sort)
	out=${TMPDIR:-/tmp}/tg-tidy.$$
	t0=$(date +%s)
	# One process per file, as many at once as there are CPUs; --warnings-as-errors makes any
	# finding a non-zero exit, which xargs passes on (123).
	printf '%s\n' "${tidy_files[@]}" |
		xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet --warnings-as-errors='*' \
			>"$out" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	if [ "$rc" -eq 0 ] && ! grep -q 'error:' "$out"; then
		ok "clang-tidy: ${#tidy_files[@]} files of lib/ and daemon/ without a finding (${secs} s)"
	else
		grep -E '(warning|error):' "$out" | head -n 40
		bad "clang-tidy: findings in lib/ or daemon/ (exit $rc, ${secs} s)"
	fi
	rm -f "$out"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
