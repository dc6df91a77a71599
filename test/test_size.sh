#!/bin/bash
# Sizes a reader can hold (STYLE.md rule 11, "functions about a screen", and "a file that does
# five jobs" left behind): no C file of lib/ or daemon/ over MAX_FILE lines, no function over
# MAX_FUNC lines. A function runs from its "{" at column 0 to its "}" at column 0 (Linux braces,
# which clang-format enforces); its name is read from the signature above. The exceptions are
# files and functions not yet split; an exception that is no longer needed is named (a note,
# not a failure: it may be split on another branch) so that it is taken off the list.
# Prints "N passed, N failed".
set -uo pipefail
cd "${TG_SRC:-$(dirname "$0")/..}" || exit 1
MAX_FILE=800
MAX_FUNC=120
# Not yet split (daemon start-up and the CLI's explain, the engine, offline inspection).
file_exceptions='daemon/tlsgated.c daemon/inspect.c daemon/engine.c'
func_exceptions='daemon/tlsgated.c:main daemon/ctl_policy.c:ctl_explain_main'
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
listed() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

mapfile -t files < <(ls lib/*.c daemon/*.c)
if [ "${#files[@]}" -lt 50 ]; then
	bad "only ${#files[@]} C files found under lib/ and daemon/"
	echo "$pass passed, $fail failed"
	exit 1
fi

long_files=()
for f in "${files[@]}"; do
	n=$(wc -l <"$f")
	[ "$n" -gt "$MAX_FILE" ] && long_files+=("$f:$n")
done
news=() stale=()
for e in "${long_files[@]}"; do listed "${e%%:*}" "$file_exceptions" || news+=("$e"); done
for x in $file_exceptions; do
	printf '%s\n' "${long_files[@]}" | grep -q "^$x:" || stale+=("$x")
done
if [ "${#news[@]}" -eq 0 ]; then
	ok "files: none over $MAX_FILE lines but the ${file_exceptions// /, } (of ${#files[@]})"
else
	bad "files over $MAX_FILE lines: ${news[*]} (split them along their seams)"
fi
[ "${#stale[@]}" -eq 0 ] ||
	echo "note: file exceptions no longer needed, take them off the list: ${stale[*]}"

# "LINES FILE:NAME" for every function definition.
lens=$(awk '
FNR == 1 { sig = ""; inbody = 0 }
!inbody && /^[A-Za-z_].*\(/ { sig = $0 }
!inbody && /^{$/ && sig != "" {
	inbody = 1; start = FNR
	s = sig; sub(/\(.*/, "", s); n = split(s, parts, /[ *]+/); name = parts[n]
	next
}
inbody && /^}/ { print FNR - start + 1, FILENAME ":" name; inbody = 0; sig = "" }
' "${files[@]}")
nfuncs=$(printf '%s\n' "$lens" | wc -l)
long_funcs=$(printf '%s\n' "$lens" | awk -v max="$MAX_FUNC" '$1 > max {print $2 "(" $1 ")"}')
news=() stale=()
for e in $long_funcs; do listed "${e%%(*}" "$func_exceptions" || news+=("$e"); done
for x in $func_exceptions; do
	printf '%s\n' "$long_funcs" | grep -q "^$x(" || stale+=("$x")
done
if [ "$nfuncs" -lt 500 ]; then
	bad "functions: only $nfuncs found (the brace counter lost its way)"
elif [ "${#news[@]}" -eq 0 ]; then
	ok "functions: none over $MAX_FUNC lines but ${func_exceptions// /, } (of $nfuncs)"
else
	bad "functions over $MAX_FUNC lines: ${news[*]} (split them at their steps)"
fi
[ "${#stale[@]}" -eq 0 ] ||
	echo "note: function exceptions no longer needed, take them off the list: ${stale[*]}"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
