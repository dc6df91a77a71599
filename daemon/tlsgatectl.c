/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tlsgatectl - the administrator's tool. Subcommands are dispatched from one table. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "version.h"

struct ctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "inspect", ctl_inspect_main,
	  "inspect FILE.pcap [--policy P]    one JSON line per ClientHello, DNS message, HTTP "
	  "request" },
	{ "policy", ctl_policy_cmd_main,
	  "policy check FILE [--content DIR]    validate a policy (errors and warnings)\n"
	  "  policy push FILE | show | rollback    the running daemon's policy" },
	{ "explain", ctl_explain_cmd_main,
	  "explain [--policy FILE] --src IP --sni NAME [...]    one flow's decision as JSON\n"
	  "                      (without --policy: the running daemon's)" },
	{ "status", ctl_daemon_main,
	  "status    the running daemon: version, uptime, policy, last reload" },
	{ "reload", ctl_daemon_main, "reload    load the policy again and say whether it loaded" },
	{ "stats", ctl_stats_main,
	  "stats [--format json|prometheus]    the running daemon's counters" },
	{ "flows", ctl_daemon_main, "flows    the intercepted connections the proxy holds" },
	{ "bypass", ctl_bypass_main,
	  "bypass list|add|del|flush [HOST] [--user U | --client IP]    the dynamic bypass table" },
	{ "log", ctl_log_main,
	  "log reopen [--control PATH]    the daemon reopens its event log file (rotation)" },
	{ "ca", ctl_ca_main,
	  "ca init|export|show [--dir DIR]    the gateway's CA: create, export for clients, show" },
};

static int usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: tlsgatectl COMMAND [ARGS]\n       tlsgatectl --version\ncommands:\n");
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		fprintf(f, "  %s\n", ctl_cmds[i].usage);
	fprintf(f, "The commands that ask the running daemon (policy push|show|rollback, explain\n"
		   "without --policy, status, reload, stats, flows, bypass) take --control PATH\n"
		   "(default " CTL_CONTROL_DEFAULT ") and --json (the daemon's answer as one\n"
		   "JSON line), and exit with\n"
		   "  0  done\n"
		   "  1  the daemon refused or failed the request (its error on stderr)\n"
		   "  2  usage error\n"
		   "  3  the daemon is unreachable (not running, or no such control socket)\n");
	fprintf(f,
		"Results go to stdout, errors and warnings to stderr; COMMAND --help says more.\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tlsgatectl %s\n", TG_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(argv[1], ctl_cmds[i].name) == 0)
			return ctl_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tlsgatectl: unknown command \"%s\"\n", argv[1]);
	return usage(stderr);
}
