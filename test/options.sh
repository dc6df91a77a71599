# test/options.sh - the programs' long options, read from their sources, for the tests that
# check the man pages (test_man.sh) and the bash completion (test_completion.sh) against them.
# Sourced, with $src the source tree. Each function prints one "--option" per line, sorted.
# shellcheck shell=bash disable=SC2154 # $src is the sourcing test's

# function_body FILE FUNCTION: the lines of FUNCTION in FILE, from its head ("int FUNCTION(",
# "static void FUNCTION(") to its closing brace.
function_body()
{
	awk -v fn="$2" '
		$0 ~ "^(static )?(int|void) " fn "\\(" { on = 1 }
		on && /^}/ { on = 0 }
		on' "$src/$1"
}

# getopt_options FILE FUNCTION: the long options of the getopt table in FUNCTION of FILE
# ("{ "name", required_argument, ..." lines between the function's head and its closing brace).
getopt_options()
{
	function_body "$1" "$2" |
		grep -oE '\{ "[a-z0-9-]+", (no|required|optional)_argument' |
		sed -E 's/^\{ "([a-z0-9-]+)".*/--\1/' | sort -u
}

# The tlsgatectl subcommands and where their options are: "WORDS FILE FUNCTION [FILE FUNCTION
# [ROW]]". The commands that ask the running daemon share one parser, ctl_opts_parse, whose
# table holds every option any of them takes; the options only some take (--user, --client,
# --ttl, --format) are enabled per command by CTL_OPT_* bits. The second FILE FUNCTION says
# where the command passes its bits: the third argument of FUNCTION's ctl_opts_parse call or,
# with ROW, the row of FUNCTION's table of subcommands that starts { "ROW", BITS,.
ctl_subcommands()
{
	cat <<'EOT'
inspect daemon/ctl_inspect.c ctl_inspect_main
policy:check daemon/ctl_policy.c ctl_policy_main
policy:push daemon/ctl_control.c ctl_opts_parse daemon/ctl_live.c ctl_policy_cmd_main
policy:show daemon/ctl_control.c ctl_opts_parse daemon/ctl_live.c ctl_policy_cmd_main
policy:rollback daemon/ctl_control.c ctl_opts_parse daemon/ctl_live.c ctl_policy_cmd_main
explain daemon/ctl_policy.c ctl_explain_parse
status daemon/ctl_control.c ctl_opts_parse daemon/ctl_control.c simple
reload daemon/ctl_control.c ctl_opts_parse daemon/ctl_control.c simple
flows daemon/ctl_control.c ctl_opts_parse daemon/ctl_control.c simple
log:reopen daemon/ctl_control.c ctl_opts_parse daemon/ctl_control.c simple
stats daemon/ctl_control.c ctl_opts_parse daemon/ctl_control.c ctl_stats_main
bypass:list daemon/ctl_control.c ctl_opts_parse daemon/ctl_bypass.c ctl_bypass_main list
bypass:add daemon/ctl_control.c ctl_opts_parse daemon/ctl_bypass.c ctl_bypass_main add
bypass:del daemon/ctl_control.c ctl_opts_parse daemon/ctl_bypass.c ctl_bypass_main del
bypass:flush daemon/ctl_control.c ctl_opts_parse daemon/ctl_bypass.c ctl_bypass_main flush
ca:init daemon/ctl_ca.c ctl_ca_init
ca:export daemon/ctl_ca.c ctl_ca_export
ca:show daemon/ctl_ca.c ctl_ca_show
EOT
}

# ctl_bits FILE FUNCTION [ROW]: the CTL_OPT_* bits FUNCTION of FILE gives ctl_opts_parse, one a
# line; "0" alone when it gives none. Nothing when neither the call nor the row is there.
ctl_bits()
{
	local found
	if [ -n "${3:-}" ]; then
		found=$(function_body "$1" "$2" | grep -oE "\{ \"$3\", [A-Z_ |0]+,")
	else
		found=$(function_body "$1" "$2" | grep -oE 'ctl_opts_parse\([^,]+, [^,]+, [A-Z_ |0]+,')
	fi
	[ -n "$found" ] || return 0
	grep -oE 'CTL_OPT_[A-Z]+' <<<"$found" || echo 0
}

# ctl_opt_bits: "--option CTL_OPT_BIT" for each option of ctl_opts_parse that a bit enables,
# read from its table ({ "user", required_argument, NULL, 'u' }) and its bit of each option
# character (ch == 'u' ? CTL_OPT_USER).
ctl_opt_bits()
{
	function_body daemon/ctl_control.c ctl_opts_parse | awk -v q="'" '
		match($0, "\\{ \"[a-z0-9-]+\", [a-z_]+, NULL, " q "." q " \\}") {
			s = substr($0, RSTART, RLENGTH)
			split(s, f, "\"")
			opt[substr(s, RLENGTH - 3, 1)] = "--" f[2]
		}
		match($0, "ch == " q "." q " +\\? CTL_OPT_[A-Z]+") {
			s = substr($0, RSTART, RLENGTH)
			n = split(s, f, " ")
			bit[substr(s, 8, 1)] = f[n]
		}
		END { for (c in bit) if (c in opt) print opt[c], bit[c] }' | sort
}

# ctl_subcommand_options FILE FUNCTION [FILE FUNCTION [ROW]] (a line of ctl_subcommands but its
# words): the options of that subcommand. Nothing when its bits cannot be read.
ctl_subcommand_options()
{
	local bits map opt bit
	if [ $# -le 2 ]; then
		getopt_options "$1" "$2"
		return
	fi
	bits=$(ctl_bits "$3" "$4" "${5:-}")
	[ -n "$bits" ] || return 0
	map=$(ctl_opt_bits)
	getopt_options "$1" "$2" | while read -r opt; do
		bit=$(awk -v o="$opt" '$1 == o { print $2 }' <<<"$map")
		if [ -z "$bit" ] || grep -qx -- "$bit" <<<"$bits"; then
			echo "$opt"
		fi
	done
}

# The commands of tlsgatectl's dispatch table.
ctl_commands()
{
	grep -oE '^\s*\{ "[a-z]+", ctl_[a-z_]+_main' "$src/daemon/tlsgatectl.c" |
		sed -E 's/^\s*\{ "([a-z]+)".*/\1/' | sort -u
}

# Every long option of tlsgatectl, all subcommands.
ctl_options()
{
	local file fn
	while read -r _ file fn _; do
		getopt_options "$file" "$fn"
	done < <(ctl_subcommands) | sort -u
}

tlsgated_options()
{
	getopt_options daemon/tlsgated.c parse_opts
}

# tlsgate-setup's options: the labels of the case statement of its option loop, one option per
# label ("\t--lan) ...", "\t-h | --help)").
setup_options()
{
	sed -n '/^while \[ \$# -gt 0 \]; do$/,/^done$/p' "$src/scripts/tlsgate-setup" |
		grep -oE '^	(-h \| )?--[a-z0-9-]+\)' | grep -oE -- '--[a-z0-9-]+' | sort -u
}
