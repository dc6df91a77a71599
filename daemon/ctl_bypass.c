/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_bypass.c - `tlsgatectl bypass list|add|del|flush`: the running daemon's dynamic bypass
 * table (hosts learned per user or client, clients in the ca_missing state), read and edited
 * over the control socket (ctlsrv.c answers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "caps.h"
#include "ctl.h"

static void bypass_usage(FILE *f)
{
	fprintf(f,
		"usage: tlsgatectl bypass list [--user U | --client IP] [--json]\n"
		"       tlsgatectl bypass add HOST (--user U | --client IP) [--ttl SECONDS] "
		"[--json]\n"
		"       tlsgatectl bypass del HOST (--user U | --client IP) [--json]\n"
		"       tlsgatectl bypass flush [--user U | --client IP] [--json]\n"
		"  list   the dynamic bypass table: hosts learned per user or client, and clients\n"
		"         in the ca_missing state (one user's or client's with --user, --client)\n"
		"  add    pass HOST undecrypted for that user or client, as a learned entry would\n"
		"         (for --ttl seconds, default the policy's dynamic_bypass.ttl_s)\n"
		"  del    forget that entry: HOST is decrypted again for them\n"
		"  flush  forget every entry (or one user's or client's): pinned hosts are\n"
		"         decrypted again until re-learned\n"
		"  every command: --control PATH (default %s)\n",
		CTL_CONTROL_DEFAULT);
}

/* The table as lines: state, who, host, rejections, seconds left. */
static void bypass_print(const cJSON *r)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(r, "bypass"), *e;

	printf("%-10s %-40s %-40s %10s %12s\n", "STATE", "WHO", "HOST", "REJECTIONS",
	       "EXPIRES_IN_S");
	cJSON_ArrayForEach(e, arr)
	{
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "user");
		char who[96];

		if (cJSON_IsString(u))
			snprintf(who, sizeof(who), "user:%s", u->valuestring);
		else
			snprintf(who, sizeof(who), "%s", ctl_str(e, "client"));
		printf("%-10s %-40s %-40s %10.0f %12.0f\n", ctl_str(e, "state"), who,
		       ctl_str(e, "sni"), ctl_num(e, "rejections"), ctl_num(e, "expires_in_s"));
	}
}

/* " user=U" or " client=IP" for the request line; 0 or -1 (message printed). */
static int who_words(const struct ctl_opts *o, char *out, size_t cap)
{
	out[0] = '\0';
	if (o->user != NULL) {
		if (ctl_word_ok("--user", o->user) == -1)
			return -1;
		snprintf(out, cap, " user=%s", o->user);
	} else if (o->client != NULL) {
		if (ctl_word_ok("--client", o->client) == -1)
			return -1;
		snprintf(out, cap, " client=%s", o->client);
	}
	return 0;
}

int ctl_bypass_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		unsigned opts;
		int nargs; /* HOST or not */
		bool who; /* --user or --client required */
	} subs[] = {
		{ "list", CTL_OPT_USER | CTL_OPT_CLIENT, 0, false },
		{ "add", CTL_OPT_USER | CTL_OPT_CLIENT | CTL_OPT_TTL, 1, true },
		{ "del", CTL_OPT_USER | CTL_OPT_CLIENT, 1, true },
		{ "flush", CTL_OPT_USER | CTL_OPT_CLIENT, 0, false },
	};
	char line[CONTROL_LINE_MAX], who[CONTROL_LINE_MAX / 2], *raw = NULL;
	struct ctl_opts o;
	size_t i;
	cJSON *r;
	int rc;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		bypass_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			break;
	if (i == sizeof(subs) / sizeof(subs[0])) {
		fprintf(stderr, "tlsgatectl bypass: unknown subcommand \"%s\"\n", argv[1]);
		bypass_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	rc = ctl_opts_parse(argc - 1, argv + 1, subs[i].opts, &o, bypass_usage);
	if (rc != 0)
		return rc == -1 ? CTL_EXIT_OK : rc;
	if (o.nargs != subs[i].nargs || (subs[i].who && o.user == NULL && o.client == NULL)) {
		bypass_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (who_words(&o, who, sizeof(who)) == -1 ||
	    (o.nargs == 1 && ctl_word_ok("HOST", o.args[0]) == -1) ||
	    (o.ttl != NULL && ctl_word_ok("--ttl", o.ttl) == -1))
		return CTL_EXIT_USAGE;
	snprintf(line, sizeof(line), "bypass %s%s%s%s%s%s", subs[i].name, o.nargs ? " host=" : "",
		 o.nargs ? o.args[0] : "", who, o.ttl ? " ttl=" : "", o.ttl ? o.ttl : "");
	rc = ctl_ask(o.control, line, NULL, 0, &r, &raw);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (o.json)
		fputs(raw, stdout);
	else if (strcmp(subs[i].name, "list") == 0)
		bypass_print(r);
	else
		printf("%s: %.0f entr%s\n", subs[i].name, ctl_num(r, "entries"),
		       ctl_num(r, "entries") == 1 ? "y" : "ies");
	free(raw);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}
