/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_policy.c - `tlsgatectl policy check FILE [--content DIR]` and `tlsgatectl explain ...`.
 *
 * Both read the policy and the content package from files (size-capped before reading), hand
 * the bytes to the library, and print what it says: diagnostics as "error: PATH: MESSAGE" /
 * "warning: PATH: MESSAGE" on stderr, a decision as one JSON object on stdout.
 *
 * The content package directory is --content DIR, else the default of load.h:
 * $TLSGATE_CONTENT, else
 * policy/content of the source tree the binary was built in (BIN/../../policy/content, for
 * build/bin/tlsgatectl), else /usr/share/tlsgate/content.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsgate/caps.h"
#include "tlsgate/catdb.h"
#include "tlsgate/cidr.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/policy.h"

#include <sys/random.h>

#include "ctl.h"
#include "event.h"
#include "jsonw.h"
#include "load.h"

#define CTL_SYSTEM_CONTENT "/usr/share/tlsgate/content"

/* The content package (NULL: the default directory), errors and diagnostics on stderr. */
struct tg_content *ctl_load_content(const char *dir, const uint8_t key[static 16],
				    struct tg_diag *d)
{
	struct tg_content *c;
	char err[512];

	c = load_content(dir, key, d, err, sizeof(err));
	if (c == NULL) {
		load_print_diag(stderr, d);
		fprintf(stderr, "tlsgatectl: %s\n", err);
	}
	return c;
}

int ctl_key(uint8_t key[static 16])
{
	char err[128];

	if (load_key(key, err, sizeof(err)) == -1) {
		fprintf(stderr, "tlsgatectl: %s\n", err);
		return -1;
	}
	return 0;
}

static int ctl_policy_usage(FILE *f)
{
	fprintf(f, "usage: tlsgatectl policy check FILE [--content DIR]\n");
	return f == stdout ? 0 : 2;
}

/* Load @file against @content; diagnostics printed. Returns the policy or NULL. */
struct tg_policy *ctl_load_policy(const char *file, const struct tg_content *content,
				  const uint8_t key[static 16], bool print_ok)
{
	struct tg_policy *p;
	struct tg_diag *d = calloc(1, sizeof(*d));
	char err[512];

	if (d == NULL)
		return NULL;
	tg_diag_init(d);
	p = load_policy(file, content, key, d, err, sizeof(err));
	load_print_diag(stderr, d);
	if (p == NULL && d->n == 0)
		fprintf(stderr, "tlsgatectl: %s\n", err);
	else if (p == NULL)
		fprintf(stderr, "%s: invalid\n", file);
	else if (print_ok)
		fprintf(stderr, "%s: valid (%zu warning%s)\n", file, d->warnings,
			d->warnings == 1 ? "" : "s");
	free(d);
	return p;
}

int ctl_policy_main(int argc, char **argv)
{
	static const struct option opts[] = { { "content", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *content_dir = NULL;
	struct tg_content *c = NULL;
	struct tg_policy *p = NULL;
	struct tg_diag *d = NULL;
	uint8_t key[16];
	int ch, rc = 1;

	if (argc < 2 || strcmp(argv[1], "check") != 0)
		return ctl_policy_usage(
			argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
				? stdout
				: stderr);
	argc--;
	argv++;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			content_dir = optarg;
			break;
		case 'h':
			return ctl_policy_usage(stdout);
		default:
			return ctl_policy_usage(stderr);
		}
	}
	if (optind != argc - 1)
		return ctl_policy_usage(stderr);
	d = calloc(1, sizeof(*d));
	if (d == NULL || ctl_key(key) == -1)
		goto out;
	tg_diag_init(d);
	c = ctl_load_content(content_dir, key, d);
	if (c == NULL)
		goto out;
	p = ctl_load_policy(argv[optind], c, key, true);
	rc = p ? 0 : 1;
out:
	tg_policy_free(p);
	tg_content_free(c);
	free(d);
	return rc;
}

/* --- explain ------------------------------------------------------------------------------------ */

static void kv_opt(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	if (v)
		jw_str(w, v);
	else
		jw_null(w);
}

int ctl_decision_of(struct ctl_decision *cd, const struct tg_policy *p, const struct tg_content *c,
		    const struct tg_flow_facts *f, struct ev_flow *fl, const char **type)
{
	cd->p = p;
	cd->c = c;
	if (tg_classify(p, c, NULL, f, 0, &cd->dc) != TG_OK)
		return -1;
	ev_ctx_of(&cd->ctx, p, c, &cd->dc);
	if (cd->dc.fail != TG_FLOW_FAIL_NONE)
		fl->fail = tg_flow_fail_text(cd->dc.fail);
	*type = ev_type(fl, tg_action_text(cd->dc.action), &cd->ctx);
	return (int)cd->dc.action;
}

/* "explain": what the classifier found besides the members every event line has. */
static void ctl_explain_json(struct jw *w, const struct tg_policy *p, const struct tg_content *c,
			     const struct tg_decision *dc)
{
	size_t i;

	jw_key(w, "explain");
	jw_obj_begin(w);
	kv_opt(w, "name", dc->name_len ? dc->name : NULL);
	jw_key(w, "categories");
	jw_arr_begin(w);
	for (i = 0; i < TG_CAP_CATEGORIES; i++)
		if (tg_catset_has(&dc->categories, (unsigned)i))
			jw_str(w, tg_content_category_name(c, (unsigned)i));
	jw_arr_end(w);
	jw_key(w, "reputation");
	if (dc->reputation)
		jw_uint(w, dc->reputation);
	else
		jw_null(w);
	if (dc->pinned >= 0) {
		const struct tg_content_pin *pin = tg_content_pin_get(c, (size_t)dc->pinned);

		jw_key(w, "pinned");
		jw_obj_begin(w);
		kv_opt(w, "pattern", pin->pattern);
		kv_opt(w, "app", pin->app);
		kv_opt(w, "reason", pin->reason);
		kv_opt(w, "source", pin->source);
		jw_obj_end(w);
	}
	kv_opt(w, "m365", dc->m365 ? tg_m365_cat_text(dc->m365) : NULL);
	jw_kv_bool(w, "bypass_allowed", dc->bypass_allowed);
	jw_key(w, "posture");
	jw_obj_begin(w);
	jw_key(w, "os");
	jw_arr_begin(w);
	for (i = 0; i < TG_OS__COUNT; i++)
		if (dc->posture.os_mask >> i & 1)
			jw_str(w, tg_os_text((enum tg_os)i));
	jw_arr_end(w);
	jw_kv_bool(w, "managed", dc->posture.managed);
	jw_kv_str(w, "source",
		  dc->posture.source == TG_POSTURE_PUSHED ? "pushed"
		  : dc->posture.source == TG_POSTURE_HINT ? "hint"
							  : "none");
	if (dc->posture.endpoint)
		jw_kv_str(w, "endpoint", dc->posture.endpoint);
	jw_obj_end(w);
	(void)p;
	jw_obj_end(w);
}

void ctl_decision_members(struct jw *w, const struct ctl_decision *cd)
{
	ev_write_ctx(w, &cd->ctx);
	ev_write_verdict(w, tg_action_text(cd->dc.action), tg_reason_text(cd->dc.reason));
	ctl_explain_json(w, cd->p, cd->c, &cd->dc);
}

static int ctl_explain_usage(FILE *f)
{
	fprintf(f,
		"usage: tlsgatectl explain --policy FILE [--content DIR] --src IP [--mac MAC]\n"
		"         [--dst IP] [--dport N] [--sport N]\n"
		"         (--sni NAME | --http-host HOST [--http-path P] | --dns NAME | --quic)\n"
		"         [--os OS] [--ech] [--user U] [--ja4 FP]\n"
		"         [--fail FAILURE | --unparsable | --incomplete] [--upstream-excluded]\n"
		"  --os: android ios windows macos linux chromeos other (as the passive hint), or "
		"a\n"
		"        hint family: apple (macos or ios), linux-family (linux, android, "
		"chromeos)\n");
	return f == stdout ? 0 : 2;
}

static int ctl_parse_mac(const char *s, uint8_t mac[static 6])
{
	size_t i;

	if (strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++) {
		char hex[3] = { s[3 * i], s[3 * i + 1], '\0' };
		char *end;
		unsigned long v = strtoul(hex, &end, 16);

		if (*end || (i < 5 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-'))
			return -1;
		mac[i] = (uint8_t)v;
	}
	return 0;
}

static struct tg_span ctl_span(const char *s)
{
	struct tg_span sp = { (const uint8_t *)s, s ? strlen(s) : 0 };

	return sp;
}

int ctl_explain_main(int argc, char **argv)
{
	enum {
		OPT_POLICY = 256,
		OPT_CONTENT,
		OPT_SRC,
		OPT_MAC,
		OPT_DST,
		OPT_DPORT,
		OPT_SPORT,
		OPT_SNI,
		OPT_OS,
		OPT_ECH,
		OPT_USER,
		OPT_HOST,
		OPT_PATH,
		OPT_DNS,
		OPT_QUIC,
		OPT_JA4,
		OPT_UNPARSABLE,
		OPT_INCOMPLETE,
		OPT_FAIL,
		OPT_EXCLUDED,
		OPT_HELP,
	};
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "content", required_argument, NULL, OPT_CONTENT },
		{ "src", required_argument, NULL, OPT_SRC },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "dst", required_argument, NULL, OPT_DST },
		{ "dport", required_argument, NULL, OPT_DPORT },
		{ "sport", required_argument, NULL, OPT_SPORT },
		{ "sni", required_argument, NULL, OPT_SNI },
		{ "os", required_argument, NULL, OPT_OS },
		{ "ech", no_argument, NULL, OPT_ECH },
		{ "user", required_argument, NULL, OPT_USER },
		{ "http-host", required_argument, NULL, OPT_HOST },
		{ "http-path", required_argument, NULL, OPT_PATH },
		{ "dns", required_argument, NULL, OPT_DNS },
		{ "quic", no_argument, NULL, OPT_QUIC },
		{ "ja4", required_argument, NULL, OPT_JA4 },
		{ "unparsable", no_argument, NULL, OPT_UNPARSABLE },
		{ "incomplete", no_argument, NULL, OPT_INCOMPLETE },
		{ "fail", required_argument, NULL, OPT_FAIL },
		{ "upstream-excluded", no_argument, NULL, OPT_EXCLUDED },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = NULL, *content_dir = NULL, *src = NULL, *dst = NULL;
	bool dport_set = false, quic = false;
	struct tg_flow_facts f;
	struct ctl_decision cd;
	struct ev_flow fl;
	const char *type = NULL;
	struct tg_content *c = NULL;
	struct tg_policy *p = NULL;
	struct tg_diag *d = NULL;
	uint8_t key[16], fkey[16], fam;
	int ch, rc = 2, os;

	memset(&f, 0, sizeof(f));
	f.kind = TG_FLOW_OTHER;
	f.dport = 443;
	f.sport = 40000;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_POLICY:
			policy = optarg;
			break;
		case OPT_CONTENT:
			content_dir = optarg;
			break;
		case OPT_SRC:
			src = optarg;
			break;
		case OPT_DST:
			dst = optarg;
			break;
		case OPT_MAC:
			if (ctl_parse_mac(optarg, f.mac) == -1) {
				fprintf(stderr, "tlsgatectl explain: bad --mac %s\n", optarg);
				return 2;
			}
			f.has_mac = true;
			break;
		case OPT_DPORT:
		case OPT_SPORT: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > 65535) {
				fprintf(stderr, "tlsgatectl explain: bad --%s %s\n",
					ch == OPT_DPORT ? "dport" : "sport", optarg);
				return 2;
			}
			if (ch == OPT_SPORT) {
				f.sport = (uint16_t)v;
				break;
			}
			f.dport = (uint16_t)v;
			dport_set = true;
			break;
		}
		case OPT_SNI:
			f.kind = TG_FLOW_TLS;
			f.sni = ctl_span(optarg);
			break;
		case OPT_OS:
			os = tg_os_parse(optarg, strlen(optarg));
			if (os >= 0)
				f.hint_os_mask = (uint8_t)(1u << os);
			else if (strcmp(optarg, "apple") == 0)
				f.hint_os_mask = TG_OS_MASK_APPLE;
			else if (strcmp(optarg, "linux-family") == 0)
				f.hint_os_mask = TG_OS_MASK_LINUX;
			else {
				fprintf(stderr, "tlsgatectl explain: unknown --os %s\n", optarg);
				return 2;
			}
			f.hint_confidence = 100;
			break;
		case OPT_ECH:
			f.ech = true;
			break;
		case OPT_USER:
			f.user = ctl_span(optarg);
			break;
		case OPT_HOST:
			f.kind = TG_FLOW_HTTP;
			f.http_host = ctl_span(optarg);
			if (!dport_set)
				f.dport = 80;
			break;
		case OPT_PATH:
			f.http_path = ctl_span(optarg);
			break;
		case OPT_DNS:
			f.kind = TG_FLOW_DNS;
			f.dns_name = ctl_span(optarg);
			if (!dport_set)
				f.dport = 53;
			break;
		case OPT_QUIC:
			quic = true;
			break;
		case OPT_JA4:
			f.ja4 = ctl_span(optarg);
			break;
		case OPT_UNPARSABLE:
			f.fail = TG_FLOW_FAIL_UNPARSABLE_CH;
			break;
		case OPT_INCOMPLETE:
			f.fail = TG_FLOW_FAIL_INCOMPLETE_CH;
			break;
		case OPT_FAIL: {
			int why = tg_flow_fail_parse(optarg, strlen(optarg));

			if (why < 0) {
				fprintf(stderr, "tlsgatectl explain: unknown --fail %s\n", optarg);
				return 2;
			}
			f.fail = (enum tg_flow_fail)why;
			break;
		}
		case OPT_EXCLUDED:
			f.upstream_excluded = true;
			break;
		case OPT_HELP:
			return ctl_explain_usage(stdout);
		default:
			return ctl_explain_usage(stderr);
		}
	}
	if (policy == NULL || src == NULL || optind != argc ||
	    (f.kind == TG_FLOW_OTHER && f.fail == TG_FLOW_FAIL_NONE && !quic))
		return ctl_explain_usage(stderr);
	if (f.fail != TG_FLOW_FAIL_NONE && f.kind == TG_FLOW_OTHER)
		f.kind = TG_FLOW_TLS;
	if (quic)
		f.kind = TG_FLOW_QUIC;
	if (tg_addr_parse(src, strlen(src), &f.family, f.src) != TG_OK) {
		fprintf(stderr, "tlsgatectl explain: bad --src %s\n", src);
		return 2;
	}
	if (dst && (tg_addr_parse(dst, strlen(dst), &fam, f.dst) != TG_OK || fam != f.family)) {
		fprintf(stderr, "tlsgatectl explain: bad --dst %s (same family as --src)\n", dst);
		return 2;
	}
	rc = 1;
	d = calloc(1, sizeof(*d));
	if (d == NULL || ctl_key(key) == -1)
		goto out;
	tg_diag_init(d);
	c = ctl_load_content(content_dir, key, d);
	if (c == NULL)
		goto out;
	p = ctl_load_policy(policy, c, key, false);
	if (p == NULL)
		goto out;
	if (getrandom(fkey, sizeof(fkey), 0) != (ssize_t)sizeof(fkey))
		goto out;
	ev_flow_of_facts(&fl, fkey, &f);
	if (ctl_decision_of(&cd, p, c, &f, &fl, &type) < 0) {
		fprintf(stderr, "tlsgatectl explain: cannot classify\n");
		goto out;
	}
	{
		struct jw w;

		jw_init(&w, stdout);
		ev_write_head(&w, ev_now_ms(), type);
		(void)ev_write_flow(&w, &fl);
		ctl_decision_members(&w, &cd);
		jw_obj_end(&w);
		jw_line_end(&w);
	}
	rc = 0;
out:
	tg_policy_free(p);
	tg_content_free(c);
	free(d);
	return rc;
}
