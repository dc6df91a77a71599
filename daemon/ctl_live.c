/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_live.c - the policy commands that talk to the running daemon: `tlsgatectl policy
 * push FILE | show | rollback`, and `tlsgatectl explain` without --policy (the decision of the
 * running policy and its live bypass table). `policy check` and the offline explain stay in
 * ctl_policy.c; these commands pass to them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tlsgate/caps.h"

#include "caps.h"
#include "ctl.h"
#include "load.h"

static void policy_live_usage(FILE *f)
{
	fprintf(f,
		"usage: tlsgatectl policy check FILE [--content DIR]\n"
		"       tlsgatectl policy push FILE [--json] [--control PATH]\n"
		"       tlsgatectl policy show [--json] [--control PATH]\n"
		"       tlsgatectl policy rollback [--json] [--control PATH]\n"
		"  check     validate a policy file here (errors and warnings)\n"
		"  push      send FILE to the running daemon, which validates and compiles it and\n"
		"            swaps it in without dropping a flow, and keeps it in its state\n"
		"            directory (it wins over --policy at the next start); a bad policy is\n"
		"            refused with its error (exit 1) and changes nothing\n"
		"  show      print the policy in force (--json: with its file and SHA-256)\n"
		"  rollback  go back to the policy in force before the last push or rollback\n");
}

static void policy_print(const cJSON *r, const char *what)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "policy");

	printf("%s: sha256 %s (was %s), kept in %s\n", what, ctl_str(p, "sha256"),
	       ctl_str(r, "previous_sha256"), ctl_str(p, "path"));
}

int ctl_policy_cmd_main(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	uint8_t *buf = NULL;
	char err[512], line[32], *raw = NULL;
	struct ctl_opts o;
	size_t len = 0;
	cJSON *r;
	int rc;

	if (strcmp(sub, "push") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "rollback") != 0) {
		if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
			policy_live_usage(stdout);
			return CTL_EXIT_OK;
		}
		return ctl_policy_main(argc, argv);
	}
	rc = ctl_opts_parse(argc - 1, argv + 1, 0, &o, policy_live_usage);
	if (rc != 0)
		return rc == -1 ? CTL_EXIT_OK : rc;
	if (o.nargs != (strcmp(sub, "push") == 0 ? 1 : 0)) {
		policy_live_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (o.nargs == 1 &&
	    load_file(o.args[0], TG_CAP_POLICY_BYTES, &buf, &len, err, sizeof(err)) == -1) {
		fprintf(stderr, "tlsgatectl: %s\n", err);
		return CTL_EXIT_ERROR;
	}
	snprintf(line, sizeof(line), "policy %s", sub);
	/* An empty file still has a body: the daemon says what is wrong with it. */
	rc = ctl_ask(o.control, line,
		     o.nargs == 1 ? (buf != NULL ? buf : (const uint8_t *)"") : NULL, len, &r,
		     &raw);
	free(buf);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (o.json) {
		fputs(raw, stdout);
	} else if (strcmp(sub, "show") == 0) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "text");

		fputs(cJSON_IsString(t) ? t->valuestring : "", stdout);
	} else {
		policy_print(r, strcmp(sub, "push") == 0 ? "pushed" : "rolled back");
	}
	free(raw);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

int ctl_explain_cmd_main(int argc, char **argv)
{
	struct ctl_explain_args a;
	size_t len = 0, n;
	char *body = NULL, *raw = NULL;
	cJSON *r;
	int i, rc;

	optind = 1;
	rc = ctl_explain_parse(argc, argv, &a, stderr);
	if (rc != 0)
		return rc;
	if (a.help || a.policy != NULL)
		return ctl_explain_main(argc, argv);
	/* The options go to the daemon as they are, each ended by a NUL; it parses them alike. */
	for (i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > CONTROL_EXPLAIN_MAX) {
		fprintf(stderr, "tlsgatectl explain: options over %d bytes\n", CONTROL_EXPLAIN_MAX);
		return CTL_EXIT_USAGE;
	}
	body = malloc(len ? len : 1);
	if (body == NULL)
		return CTL_EXIT_ERROR;
	for (i = 1, n = 0; i < argc; i++) {
		memcpy(body + n, argv[i], strlen(argv[i]) + 1);
		n += strlen(argv[i]) + 1;
	}
	rc = ctl_ask(a.control != NULL ? a.control : CTL_CONTROL_DEFAULT, "explain",
		     (const uint8_t *)body, len, &r, &raw);
	free(body);
	if (rc != CTL_EXIT_OK)
		return rc;
	fputs(raw, stdout);
	free(raw);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}
