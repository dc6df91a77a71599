#!/bin/bash
# scripts/tlsgate-completion.bash, sourced in bash and called as bash calls it (COMP_WORDS,
# COMP_CWORD): the candidates for commands, subcommands, option values, and every long option
# of each subcommand's getopt table (test/options.sh reads them from the sources; for the
# commands that ask the daemon, the options of ctl_opts_parse their CTL_OPT_* bits enable), so
# that the completion cannot fall behind the programs. Prints "N passed, N failed".
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=options.sh
. "$src/test/options.sh"
# shellcheck source=../scripts/tlsgate-completion.bash
. "$src/scripts/tlsgate-completion.bash"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# complete_is FUNCTION "EXPECTED WORDS" WORD...: complete the last WORD of the command line.
complete_is()
{
	local fn=$1 want got
	want=$(tr -s '[:space:]' '\n' <<<"$2" | sed '/^$/d' | sort -u)
	shift 2
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	"$fn"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u)
	if [ "$got" = "$want" ]; then
		ok
	else
		ko "$* -> [$(tr '\n' ' ' <<<"$got")], expected [$(tr '\n' ' ' <<<"$want")]"
	fi
}

# Every command of tlsgatectl's dispatch table, and nothing else.
complete_is _tlsgatectl "$(ctl_commands) --help --version" tlsgatectl ''
complete_is _tlsgatectl "explain" tlsgatectl ex
complete_is _tlsgatectl "--help --version" tlsgatectl --
complete_is _tlsgatectl "check push show rollback --help" tlsgatectl policy ''
complete_is _tlsgatectl "init" tlsgatectl ca i
complete_is _tlsgatectl "list add del flush --help" tlsgatectl bypass ''
complete_is _tlsgatectl "reopen --help" tlsgatectl log ''
complete_is _tlsgatectl "status stats" tlsgatectl stat

# Each subcommand offers exactly the options of its getopt table.
while read -r words spec; do
	# shellcheck disable=SC2086 # FILE FUNCTION [FILE FUNCTION [ROW]], split on purpose
	want=$(ctl_subcommand_options $spec)
	if [ -z "$want" ]; then
		ko "no options read for $words from $spec"
		continue
	fi
	# shellcheck disable=SC2086 # the subcommand's words, split on purpose
	complete_is _tlsgatectl "$want" tlsgatectl ${words//:/ } --
done < <(ctl_subcommands)
# Where the daemon's commands differ: only bypass add takes --ttl, only stats --format, and
# status, reload, flows, log reopen and policy push, show, rollback neither --user nor --client.
complete_is _tlsgatectl "--client --control --help --json --user" tlsgatectl bypass flush --
complete_is _tlsgatectl "--client --control --help --json --ttl --user" tlsgatectl bypass add --
complete_is _tlsgatectl "--control --format --help --json" tlsgatectl stats --
complete_is _tlsgatectl "--control --help --json" tlsgatectl status --
complete_is _tlsgatectl "--control --help --json" tlsgatectl policy push --
complete_is _tlsgatectl "--sni --sport --src" tlsgatectl explain --policy p.json --s
complete_is _tlsgatectl "--upstream-excluded --unparsable --user" tlsgatectl explain --u

# Option values: explain --fail takes the failure names of lib/classify.c, --os the OS names
# and the hint families; a free value (--src) gets nothing.
fails=$(sed -n '/^} cl_fails\[/,/^};/p' "$src/lib/classify.c" | grep -oE '"[a-z0-9-]+" \}' |
	tr -d '"} ' | grep -vx none)
complete_is _tlsgatectl "$fails" tlsgatectl explain --fail ''
complete_is _tlsgatectl "reassembly-conflict reassembly-window" tlsgatectl explain --fail re
oses=$(sed -n '/cl_os_texts\[TG_OS__COUNT\] = {/,/};/p' "$src/lib/classify.c" | grep -oE '"[a-z]+"' |
	tr -d '"')
complete_is _tlsgatectl "$oses apple linux-family" tlsgatectl explain --os ''
complete_is _tlsgatectl "" tlsgatectl explain --src ''
complete_is _tlsgatectl "pem der" tlsgatectl ca export --format ''
complete_is _tlsgatectl "json prometheus" tlsgatectl stats --format ''
complete_is _tlsgatectl "" tlsgatectl explain --sport ''
complete_is _tlsgatectl "" tlsgatectl bypass add --client ''
complete_is _tlsgatectl "" tlsgatectl bypass add --ttl ''

# Files and directories where a path goes.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/content.d"
touch "$work/policy.json" "$work/capture.pcap"
complete_is _tlsgatectl "$work/policy.json" tlsgatectl explain --policy "$work/pol"
complete_is _tlsgatectl "$work/content.d" tlsgatectl policy check --content "$work/c"
complete_is _tlsgatectl "$work/policy.json" tlsgatectl policy push "$work/pol"
complete_is _tlsgatectl "$work/policy.json" tlsgatectl status --control "$work/pol"
complete_is _tlsgatectl "$work/capture.pcap" tlsgatectl inspect "$work/cap"

# tlsgate-setup: its commands, every option of its option loop, interfaces but lo for --lan.
complete_is _tlsgate_setup "up down status" tlsgate-setup ''
complete_is _tlsgate_setup "$(setup_options)" tlsgate-setup --
complete_is _tlsgate_setup "--mark-pass" tlsgate-setup --mark-p
ifs=$(for f in /sys/class/net/*; do [ "${f##*/}" = lo ] || echo "${f##*/}"; done)
complete_is _tlsgate_setup "$ifs" tlsgate-setup --lan ''
complete_is _tlsgate_setup "" tlsgate-setup --queues ''

# The registrations bash uses.
if complete -p tlsgatectl 2>/dev/null | grep -q -- '-F _tlsgatectl tlsgatectl$'; then ok; else
	ko "tlsgatectl is not registered: $(complete -p tlsgatectl 2>&1)"; fi
if complete -p tlsgate-setup 2>/dev/null | grep -q -- '-F _tlsgate_setup tlsgate-setup$'; then
	ok
else
	ko "tlsgate-setup is not registered: $(complete -p tlsgate-setup 2>&1)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
