/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_policy.c - `tlsgatectl policy check FILE [--content DIR]` and `tlsgatectl explain ...`.
 *
 * Both read the policy and the content package from files (size-capped before reading), hand
 * the bytes to the library, and print what it says: diagnostics as "error: PATH: MESSAGE" /
 * "warning: PATH: MESSAGE" on stderr; the result on stdout: check's verdict ("FILE: valid (N
 * warnings)" or "FILE: invalid"), explain's decision as one JSON object.
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
#include "tlsgate/domain.h"
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
	return load_content_report("tlsgatectl", dir, key, d);
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

/* Load @file against @content; diagnostics on stderr. Returns the policy or NULL. */
struct tg_policy *ctl_load_policy(const char *file, const struct tg_content *content,
				  const uint8_t key[static 16])
{
	return load_policy_report("tlsgatectl", file, content, key, NULL);
}

int ctl_policy_main(int argc, char **argv)
{
	static const struct option opts[] = { { "content", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *content_dir = NULL;
	int ch;

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
	return load_check("tlsgatectl", argv[optind], content_dir, stdout);
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

void ctl_decision_from(struct ctl_decision *cd, const struct tg_policy *p,
		       const struct tg_content *c, const struct tg_decision *dc, struct ev_flow *fl,
		       const char **type)
{
	cd->p = p;
	cd->c = c;
	cd->dc = *dc;
	ev_ctx_of(&cd->ctx, p, c, &cd->dc);
	if (cd->dc.fail != TG_FLOW_FAIL_NONE)
		fl->fail = tg_flow_fail_text(cd->dc.fail);
	*type = ev_type(fl, tg_action_text(cd->dc.action), &cd->ctx);
}

int ctl_decision_of(struct ctl_decision *cd, const struct tg_policy *p, const struct tg_content *c,
		    const struct tg_flow_facts *f, struct ev_flow *fl, const char **type)
{
	struct tg_decision dc;

	if (tg_classify(p, c, NULL, f, 0, &dc) != TG_OK)
		return -1;
	ctl_decision_from(cd, p, c, &dc, fl, type);
	return (int)cd->dc.action;
}

void ctl_decision_line(FILE *out, const struct ctl_decision *cd, const struct ev_flow *fl,
		       const char *type)
{
	struct jw w;

	jw_init(&w, out);
	ev_write_head(&w, ev_now_ms(), type);
	(void)ev_write_flow(&w, fl);
	ctl_decision_members(&w, cd);
	jw_obj_end(&w);
	jw_line_end(&w);
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
		"usage: tlsgatectl explain [--policy FILE [--content DIR] | --control PATH]\n"
		"         --src IP [--mac MAC]\n"
		"         [--dst IP] [--dport N] [--sport N] (--sni NAME | --http-host HOST\n"
		"         [--http-path P] | --dns NAME | --quic) [--os OS] [--ech] [--user U] "
		"[--ja4 FP]\n"
		"         [--fail FAILURE | --unparsable | --incomplete] [--upstream-excluded]\n"
		"  --os: android ios windows macos linux chromeos other (as the passive hint), or "
		"a\n"
		"        hint family: apple (macos or ios), linux-family (linux, android, "
		"chromeos)\n"
		"  --sni NAME, --dns NAME: a domain name (\"\": none); --http-host\n"
		"        NAME[:PORT] or [IPv6][:PORT]. A malformed name is refused, unless\n"
		"        --fail invalid-name asks how the gateway decides it\n"
		"  without --policy: the running daemon's decision (its policy, its bypass "
		"table)\n");
	return f == stdout ? 0 : 2;
}

/* A port as text: 1..65535, digits only. */
static bool ctl_port_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	unsigned long v;

	if (n == 0 || n > 5 || s[n] != '\0')
		return false;
	v = strtoul(s, NULL, 10);
	return v >= 1 && v <= 65535;
}

/*
 * The name of --sni, --http-host or --dns (@opt, @v): what a client would send there, "" for
 * none (a ClientHello without SNI). A malformed one is refused (it is most often a typo),
 * unless the question is how the gateway decides a flow that sends one (--fail invalid-name,
 * checked by the caller). A Host may carry a port and may be an IPv6 literal in brackets. 0,
 * or -1 with the reason printed.
 */
static int ctl_explain_name(FILE *err, const char *opt, const char *v, bool host)
{
	const char *name = v, *port = NULL, *why = NULL;
	char norm[TG_CAP_NAME_LEN + 1];
	size_t len = strlen(v), norm_len;
	uint8_t fam, addr[16];
	enum tg_err e;

	if (len == 0)
		return 0;
	if (host && v[0] == '[') {
		const char *rb = strchr(v, ']');

		name = v + 1;
		len = rb ? (size_t)(rb - name) : 0;
		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			why = "expected [IPv6] or [IPv6]:PORT";
		else if (tg_addr_parse(name, len, &fam, addr) != TG_OK || fam != 6)
			why = "not an IPv6 address between the brackets";
		else if (rb[1] == ':')
			port = rb + 2;
	} else {
		const char *colon = host ? strchr(v, ':') : NULL;

		if (colon) {
			len = (size_t)(colon - v);
			port = colon + 1;
		}
		e = tg_domain_normalize((const uint8_t *)v, len, norm, &norm_len);
		if (e != TG_OK)
			why = tg_strerror(e);
	}
	if (why == NULL && port && !ctl_port_ok(port))
		why = "the port is not a number in 1..65535";
	if (why == NULL)
		return 0;
	fprintf(err,
		"tlsgatectl explain: %s \"%s\": %s (to see how the gateway decides a flow that "
		"sends it, add --fail invalid-name)\n",
		opt, v, why);
	return -1;
}

static int ctl_parse_mac(const char *s, uint8_t mac[static 6])
{
	size_t i;

	if (strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++) {
		char hex[3] = { s[3 * i], s[3 * i + 1], '\0' };

		/* strspn, not strtoul alone: that would take " 1", "+1" and "-1" too */
		if (strspn(hex, "0123456789abcdefABCDEF") != 2 ||
		    (i < 5 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-'))
			return -1;
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	return 0;
}

static struct tg_span ctl_span(const char *s)
{
	struct tg_span sp = { (const uint8_t *)s, s ? strlen(s) : 0 };

	return sp;
}

int ctl_explain_parse(int argc, char **argv, struct ctl_explain_args *a, FILE *err)
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
		OPT_CONTROL,
		OPT_JSON,
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
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = NULL, *content_dir = NULL, *src = NULL, *dst = NULL;
	bool dport_set = false, quic = false;
	struct tg_flow_facts f;
	uint8_t fam;
	int ch, os;

	memset(&f, 0, sizeof(f));
	f.kind = TG_FLOW_OTHER;
	f.dport = 443;
	f.sport = 40000;
	memset(a, 0, sizeof(*a));
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
				fprintf(err,
					"tlsgatectl explain: --mac \"%s\": expected six hex bytes "
					"(02:00:5e:00:00:01)\n",
					optarg);
				return 2;
			}
			f.has_mac = true;
			break;
		case OPT_DPORT:
		case OPT_SPORT:
			if (!ctl_port_ok(optarg)) {
				fprintf(err,
					"tlsgatectl explain: --%s \"%s\": not a port (1..65535)\n",
					ch == OPT_DPORT ? "dport" : "sport", optarg);
				return 2;
			}
			if (ch == OPT_SPORT) {
				f.sport = (uint16_t)strtoul(optarg, NULL, 10);
				break;
			}
			f.dport = (uint16_t)strtoul(optarg, NULL, 10);
			dport_set = true;
			break;
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
				fprintf(err, "tlsgatectl explain: unknown --os %s\n", optarg);
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
				fprintf(err, "tlsgatectl explain: unknown --fail %s\n", optarg);
				return 2;
			}
			f.fail = (enum tg_flow_fail)why;
			break;
		}
		case OPT_EXCLUDED:
			f.upstream_excluded = true;
			break;
		case OPT_CONTROL:
			a->control = optarg;
			break;
		case OPT_JSON:
			break;
		case OPT_HELP:
			a->help = true;
			return 0;
		default:
			return ctl_explain_usage(err);
		}
	}
	if (src == NULL || optind != argc ||
	    (f.kind == TG_FLOW_OTHER && f.fail == TG_FLOW_FAIL_NONE && !quic))
		return ctl_explain_usage(err);
	if (f.fail != TG_FLOW_FAIL_INVALID_NAME &&
	    ((f.sni.p && ctl_explain_name(err, "--sni", (const char *)f.sni.p, false) == -1) ||
	     (f.http_host.p &&
	      ctl_explain_name(err, "--http-host", (const char *)f.http_host.p, true) == -1) ||
	     (f.dns_name.p &&
	      ctl_explain_name(err, "--dns", (const char *)f.dns_name.p, false) == -1)))
		return 2;
	if (f.fail != TG_FLOW_FAIL_NONE && f.kind == TG_FLOW_OTHER)
		f.kind = TG_FLOW_TLS;
	if (quic)
		f.kind = TG_FLOW_QUIC;
	if (tg_addr_parse(src, strlen(src), &f.family, f.src) != TG_OK) {
		fprintf(err, "tlsgatectl explain: --src \"%s\": not an IPv4 or IPv6 address\n",
			src);
		return 2;
	}
	if (dst && (tg_addr_parse(dst, strlen(dst), &fam, f.dst) != TG_OK || fam != f.family)) {
		fprintf(err,
			"tlsgatectl explain: --dst \"%s\": not an IPv%u address (the family of "
			"--src)\n",
			dst, f.family);
		return 2;
	}
	a->policy = policy;
	a->content_dir = content_dir;
	a->f = f;
	return 0;
}

int ctl_explain_main(int argc, char **argv)
{
	struct ctl_explain_args a;
	struct ctl_decision cd;
	struct ev_flow fl;
	const char *type = NULL;
	struct tg_content *c = NULL;
	struct tg_policy *p = NULL;
	struct tg_diag *d = NULL;
	uint8_t key[16], fkey[16];
	int rc;

	optind = 1;
	rc = ctl_explain_parse(argc, argv, &a, stderr);
	if (rc != 0 || a.help)
		return a.help ? ctl_explain_usage(stdout) : rc;
	if (a.policy == NULL)
		return ctl_explain_usage(stderr);
	rc = 1;
	d = calloc(1, sizeof(*d));
	if (d == NULL || ctl_key(key) == -1)
		goto out;
	tg_diag_init(d);
	c = ctl_load_content(a.content_dir, key, d);
	if (c == NULL)
		goto out;
	p = ctl_load_policy(a.policy, c, key);
	if (p == NULL)
		goto out;
	if (getrandom(fkey, sizeof(fkey), 0) != (ssize_t)sizeof(fkey))
		goto out;
	ev_flow_of_facts(&fl, fkey, &a.f);
	if (ctl_decision_of(&cd, p, c, &a.f, &fl, &type) < 0) {
		fprintf(stderr, "tlsgatectl explain: cannot classify\n");
		goto out;
	}
	ctl_decision_line(stdout, &cd, &fl, type);
	rc = 0;
out:
	tg_policy_free(p);
	tg_content_free(c);
	free(d);
	return rc;
}
