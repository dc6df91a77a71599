/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tlsgatectl - the administrator's tool. Subcommands are dispatched from one table. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

struct ctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "inspect", ctl_inspect_main,
	  "inspect FILE.pcap [--policy P]    one JSON line per ClientHello, DNS message, HTTP "
	  "request" },
	{ "policy", ctl_policy_main,
	  "policy check FILE [--content DIR]    validate a policy (errors and warnings)" },
	{ "explain", ctl_explain_main,
	  "explain --policy FILE --src IP --sni NAME [...]    one flow's decision as JSON" },
	{ "stats", ctl_stats_main, "stats [--control PATH]    the running daemon's counters" },
	{ "bypass", ctl_bypass_main,
	  "bypass list [--json]|flush [--control PATH]    the dynamic bypass table" },
	{ "log", ctl_log_main,
	  "log reopen [--control PATH]    the daemon reopens its event log file (rotation)" },
	{ "ca", ctl_ca_main,
	  "ca init|export|show [--dir DIR]    the gateway's CA: create, export for clients, show" },
};

static int usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: tlsgatectl COMMAND [ARGS]\ncommands:\n");
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		fprintf(f, "  %s\n", ctl_cmds[i].usage);
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
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(argv[1], ctl_cmds[i].name) == 0)
			return ctl_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tlsgatectl: unknown command \"%s\"\n", argv[1]);
	return usage(stderr);
}
