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
file_exceptions='daemon/tlsgated.c daemon/engine.c daemon/proxy.c'
func_exceptions='daemon/tlsgated.c:main daemon/tlsgated.c:parse_opts daemon/ctl_policy.c:ctl_explain_parse'
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

# judge WHAT MAX EXCEPTIONS ADVICE: stdin has "LINES NAME" lines; any over MAX not among the
# EXCEPTIONS fails; an exception not over MAX is named.
judge() {
	local what=$1 max=$2 exceptions=$3 advice=$4 long news=() stale=() e x
	mapfile -t long < <(awk -v max="$max" '$1 > max { print $2 "(" $1 ")" }')
	for e in "${long[@]}"; do listed "${e%%(*}" "$exceptions" || news+=("$e"); done
	for x in $exceptions; do
		printf '%s\n' "${long[@]}" | grep -q "^$x(" || stale+=("$x")
	done
	if [ "${#news[@]}" -eq 0 ]; then
		ok "$what: none over $max lines but ${exceptions// /, }"
	else
		bad "$what over $max lines: ${news[*]} ($advice)"
	fi
	[ "${#stale[@]}" -eq 0 ] ||
		echo "note: no longer over $max lines, take them off the $what exceptions: ${stale[*]}"
}

judge files "$MAX_FILE" "$file_exceptions" "split them along their seams" \
	< <(wc -l "${files[@]}" | grep -v ' total$')

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
if [ "$nfuncs" -lt 500 ]; then
	bad "functions: only $nfuncs found in ${#files[@]} files (the brace counter lost its way)"
else
	judge functions "$MAX_FUNC" "$func_exceptions" "split them at their steps" \
		< <(printf '%s\n' "$lens")
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
