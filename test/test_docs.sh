#!/bin/bash
# Every document the code cites is in the repository. A citation is a NAME.md in lib/, daemon/,
# scripts/ or CMakeLists.txt (comments, strings, docstrings); with a directory
# ("policy/README.md") it is relative to the top of the tree, a bare name ("DESIGN.md", as in
# "DESIGN.md section 3") is next to the citing file or in docs/ (DESIGN.md, HANDOFF.md,
# STYLE.md). Also: the README's table of the tree names docs/.
# Prints "N passed, N failed".
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src" || exit 1
pass=0 fail=0 n=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# Lines "FILE:LINE:CITATION", every citation of every file.
cites=$(grep -rnoE '[A-Za-z0-9_./-]*\b[A-Z][A-Z0-9_]*\.md\b' lib daemon scripts CMakeLists.txt)
while IFS=: read -r file line cite; do
	[ -n "$file" ] || continue
	n=$((n + 1))
	case $cite in
	*/*) found=$cite ;;
	*)
		found=""
		for d in "$(dirname "$file")" docs; do
			[ -f "$d/$cite" ] && found=$d/$cite && break
		done
		;;
	esac
	if [ -n "$found" ] && [ -f "$found" ]; then
		ok
	else
		ko "$file:$line cites $cite, which is not in the repository"
	fi
done <<<"$cites"
# The three documents the code names most are there, so the loop above had work to do.
for d in DESIGN HANDOFF STYLE; do
	c=$(grep -c "$d\.md" <<<"$cites")
	if [ -f "docs/$d.md" ] && [ "$c" -ge 1 ]; then ok; else
		ko "docs/$d.md: present? cited $c times"; fi
done
if [ "$n" -ge 50 ]; then ok; else ko "only $n citations found"; fi
if grep -qE '^\| `docs/` \|' README.md; then ok; else ko "README.md's table of the tree has no docs/"; fi
echo "$n citations checked"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
