# test/options.sh - the programs' long options, read from their sources, for the tests that
# check the man pages (test_man.sh) and the bash completion (test_completion.sh) against them.
# Sourced, with $src the source tree. Each function prints one "--option" per line, sorted.
# shellcheck shell=bash disable=SC2154 # $src is the sourcing test's

# getopt_options FILE FUNCTION: the long options of the getopt table in FUNCTION of FILE
# ("{ "name", required_argument, ..." lines between the function's head and its closing brace).
getopt_options()
{
	awk -v fn="$2" '
		$0 ~ "^(static )?(int|void) " fn "\\(" { on = 1 }
		on && /^}/ { on = 0 }
		on' "$src/$1" |
		grep -oE '\{ "[a-z0-9-]+", (no|required|optional)_argument' |
		sed -E 's/^\{ "([a-z0-9-]+)".*/--\1/' | sort -u
}

# The tlsgatectl subcommands and where their options are: "WORDS FILE FUNCTION".
ctl_subcommands()
{
	cat <<'EOT'
inspect daemon/ctl_inspect.c ctl_inspect_main
policy:check daemon/ctl_policy.c ctl_policy_main
explain daemon/ctl_policy.c ctl_explain_main
stats daemon/ctl_control.c ctl_stats_main
bypass:list daemon/ctl_control.c ctl_bypass_main
ca:init daemon/ctl_ca.c ctl_ca_init
ca:export daemon/ctl_ca.c ctl_ca_export
ca:show daemon/ctl_ca.c ctl_ca_show
EOT
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
	while read -r _ file fn; do
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
