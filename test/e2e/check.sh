# check.sh - the checks of the namespace tests (test_e2e, test_evasion, test_proxy,
# test_datapath, test_control), sourced: each check prints "ok   ..." or "FAIL ..." and counts
# into $pass and $fail, which the sourcing test prints at its end.
# shellcheck shell=bash
pass=${pass:-0} fail=${fail:-0}

ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check()
{
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
# wait_until COMMAND...: poll COMMAND every 0.1 s until it succeeds, at most 10 s (then fails).
wait_until()
{
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
# more_than N COMMAND...: COMMAND prints a number greater than N.
more_than() { [ "$("${@:2}")" -gt "$1" ]; }
