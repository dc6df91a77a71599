# tlsgate-completion.bash - bash completion for tlsgatectl and tlsgate-setup.
#
# scripts/install.sh installs it as /usr/share/bash-completion/completions/tlsgatectl, with
# tlsgate-setup a link to it (bash-completion loads a command's file by the command's name);
# without bash-completion, `source` it. It needs nothing from bash-completion. The option lists
# are the programs' own (the getopt tables of daemon/ctl_*.c, for the commands that ask the
# daemon the options of ctl_opts_parse their CTL_OPT_* bits enable, tlsgate-setup's option
# loop): test/test_completion.sh fails when they differ.
# shellcheck shell=bash

# _tlsgate_reply WORDS: the words of WORDS that start with the current word.
_tlsgate_reply()
{
	local cur=${COMP_WORDS[COMP_CWORD]}

	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

# _tlsgate_files [-d] [GLOB]: file names (-d: directories only) for the current word.
_tlsgate_files()
{
	local cur=${COMP_WORDS[COMP_CWORD]}

	if [ "${1:-}" = -d ]; then
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
	compopt -o filenames 2>/dev/null || true
}

_tlsgatectl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd=${COMP_WORDS[1]:-} sub=${COMP_WORDS[2]:-} opts
	# The options of the commands that ask the running daemon (ctl_opts_parse).
	local daemon="--json --control --help"

	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		_tlsgate_reply "inspect policy explain status reload stats flows bypass log ca --help
			--version"
		return 0
	fi
	# Values of the option before the current word.
	case $prev in
	--policy | --out) _tlsgate_files; return 0 ;;
	--content | --dir) _tlsgate_files -d; return 0 ;;
	--control) _tlsgate_files; return 0 ;;
	--format)
		if [ "$cmd" = stats ]; then
			_tlsgate_reply "json prometheus"
		else
			_tlsgate_reply "pem der"
		fi
		return 0
		;;
	--os)
		_tlsgate_reply "android ios windows macos linux chromeos other apple linux-family"
		return 0
		;;
	--fail)
		_tlsgate_reply "unparsable-client-hello incomplete-client-hello non-tls
			reassembly-conflict reassembly-window malformed-packet tcp-fast-open midstream
			overload adoption invalid-name unparsable-dns cert-mint"
		return 0
		;;
	--src | --dst | --mac | --dport | --sport | --sni | --http-host | --http-path | --dns | \
		--user | --client | --ttl | --ja4 | --cn | --days)
		return 0
		;;
	esac
	case $cmd in
	inspect) opts="--policy --content --help" ;;
	explain)
		opts="--policy --content --control --json --src --mac --dst --dport --sport --sni --os
			--ech --user --http-host --http-path --dns --quic --ja4 --unparsable --incomplete
			--fail --upstream-excluded --help"
		;;
	status | reload | flows) opts=$daemon ;;
	stats) opts="--format $daemon" ;;
	policy | bypass | log | ca)
		if [ "$COMP_CWORD" -eq 2 ]; then
			case $cmd in
			policy) _tlsgate_reply "check push show rollback --help" ;;
			bypass) _tlsgate_reply "list add del flush --help" ;;
			log) _tlsgate_reply "reopen --help" ;;
			ca) _tlsgate_reply "init export show --help" ;;
			esac
			return 0
		fi
		case $cmd/$sub in
		policy/check) opts="--content --help" ;;
		policy/push | policy/show | policy/rollback | log/reopen) opts=$daemon ;;
		bypass/add) opts="--user --client --ttl $daemon" ;;
		bypass/list | bypass/del | bypass/flush) opts="--user --client $daemon" ;;
		ca/init) opts="--dir --cn --days --help" ;;
		ca/export) opts="--dir --format --out --help" ;;
		ca/show) opts="--dir --json --help" ;;
		*) return 0 ;;
		esac
		;;
	*) return 0 ;;
	esac
	case $cur in
	-*) _tlsgate_reply "$opts" ;;
	*)
		# Operands: capture files (inspect), the policy file (policy check, policy push).
		case $cmd/$sub in
		inspect/* | policy/check | policy/push) _tlsgate_files ;;
		*) _tlsgate_reply "$opts" ;;
		esac
		;;
	esac
	return 0
}

_tlsgate_setup()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} ifs="" f

	COMPREPLY=()
	case $prev in
	--lan)
		# The interfaces, but lo: tlsgate never touches the router's own traffic.
		for f in /sys/class/net/*; do
			[ -e "$f" ] && [ "${f##*/}" != lo ] && ifs+=" ${f##*/}"
		done
		_tlsgate_reply "$ifs"
		return 0
		;;
	--marks) _tlsgate_files; return 0 ;;
	--queues | --queue-num | --ports | --http-ports | --dns-ports | --dot-ports | \
		--quic-ports | --mark-* | --table | --rule-pref)
		return 0
		;;
	esac
	case $cur in
	-*)
		_tlsgate_reply "--lan --queues --queue-num --ports --http-ports --dns-ports
			--dot-ports --quic-ports --no-ipv6 --dry-run --marks --mark-decision-mask
			--mark-pass --mark-block --mark-adopt --mark-drop --mark-inspect --mark-local
			--mark-rst --mark-stream --table --rule-pref --help --version"
		;;
	*) _tlsgate_reply "up down status" ;;
	esac
	return 0
}

complete -F _tlsgatectl tlsgatectl
complete -F _tlsgate_setup tlsgate-setup
