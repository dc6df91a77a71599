/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_inspect.c - tlsgatectl inspect FILE.pcap... [--policy P [--content DIR]]: the command
 * around inspect.c; with --policy, the decision given to each line's flow (tg_classify over
 * the same facts tlsgated builds; no dynamic bypass table offline).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/policy.h"

#include "ctl.h"
#include "inspect.h"
#include "jsonw.h"

static void inspect_usage(FILE *f)
{
	fprintf(f, "usage: tlsgatectl inspect FILE.pcap... [--policy FILE [--content DIR]]\n"
		   "  one JSON object per line for each TLS ClientHello, DNS message, HTTP\n"
		   "  request, failed TCP flow and parser failure in each pcap or pcapng capture,\n"
		   "  as tlsgated's event lines; with --policy, each line tlsgated decides also\n"
		   "  carries the decision the policy gives it (as tlsgatectl explain)\n");
}

/* --policy: classify each line's flow offline (no dynamic bypass table). */
struct inspect_policy {
	struct tg_policy *p;
	struct tg_content *c;
	struct ctl_decision last; /* of the line being written */
};

static int hook_decide(void *arg, const struct tg_flow_facts *f, struct ev_flow *fl,
		       const char **type)
{
	struct inspect_policy *ip = arg;

	return ctl_decision_of(&ip->last, ip->p, ip->c, f, fl, type);
}

static void hook_members(void *arg, struct jw *w)
{
	const struct inspect_policy *ip = arg;

	ctl_decision_members(w, &ip->last);
}

int ctl_inspect_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "policy", required_argument, NULL, 'p' },
		{ "content", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct inspect_hooks hooks = { hook_decide, hook_members };
	const char *policy = NULL, *content = NULL;
	struct inspect_policy ip;
	struct tg_diag *d = NULL;
	uint8_t key[16];
	int c, i, rc = 0;

	memset(&ip, 0, sizeof(ip));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			inspect_usage(stdout);
			return 0;
		case 'p':
			policy = optarg;
			break;
		case 'c':
			content = optarg;
			break;
		default:
			inspect_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		inspect_usage(stderr);
		return 2;
	}
	if (policy != NULL) {
		d = calloc(1, sizeof(*d));
		if (d == NULL || ctl_key(key) == -1)
			goto fail;
		tg_diag_init(d);
		ip.c = ctl_load_content(content, key, d);
		if (ip.c == NULL)
			goto fail;
		ip.p = ctl_load_policy(policy, ip.c, key);
		if (ip.p == NULL)
			goto fail;
	}
	for (i = optind; i < argc; i++)
		if (inspect_file(argv[i], stdout, policy ? &hooks : NULL, &ip) != 0)
			rc = 1;
out:
	tg_policy_free(ip.p);
	tg_content_free(ip.c);
	free(d);
	return rc;
fail:
	rc = 1;
	goto out;
}
