/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_policy.c - `tlsgatectl policy check FILE [--content DIR]` and `tlsgatectl explain ...`.
 *
 * Both read the policy and the content package from files (size-capped before reading), hand
 * the bytes to the library, and print what it says: diagnostics as "error: PATH: MESSAGE" /
 * "warning: PATH: MESSAGE" on stderr, a decision as one JSON object on stdout.
 *
 * The content package directory is --content DIR, else $TLSGATE_CONTENT, else
 * policy/content of the source tree the binary was built in (BIN/../../policy/content, for
 * build/bin/tlsgatectl), else /usr/share/tlsgate/content.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlsgate/caps.h"
#include "tlsgate/catdb.h"
#include "tlsgate/cidr.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/policy.h"

#include "ctl.h"

#define CTL_SYSTEM_CONTENT "/usr/share/tlsgate/content"

/* Read @path whole into a new buffer if it is at most @cap bytes. 0, or -1 (reported). */
static int ctl_read_file(const char *path, size_t cap, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t got = 0;
	int fd, rc = -1;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		fprintf(stderr, "tlsgatectl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "tlsgatectl: %s: not a regular file\n", path);
		goto out;
	}
	if ((uint64_t)st.st_size > cap) {
		fprintf(stderr, "tlsgatectl: %s: larger than %zu bytes\n", path, cap);
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (b == NULL) {
		fprintf(stderr, "tlsgatectl: %s: out of memory\n", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "tlsgatectl: %s: %s\n", path,
				n == 0 ? "file shrank while reading" : strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	b = NULL;
	rc = 0;
out:
	free(b);
	close(fd);
	return rc;
}

static bool ctl_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The default content directory (see the file comment) into @out. */
static const char *ctl_content_dir(char *out, size_t cap)
{
	char exe[PATH_MAX - 32];
	const char *env = getenv("TLSGATE_CONTENT");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			n = snprintf(out, cap, "%s/../../policy/content", exe);
			if (n > 0 && (size_t)n < cap && ctl_is_dir(out))
				return out;
		}
	}
	return CTL_SYSTEM_CONTENT;
}

static void ctl_print_diag(const struct tg_diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s: %s\n", d->msg[i].level == TG_DIAG_ERROR ? "error" : "warning",
			d->msg[i].text);
	if (d->errors + d->warnings > d->n)
		fprintf(stderr, "(%zu more messages not shown)\n", d->errors + d->warnings - d->n);
}

static int ctl_key(uint8_t key[static 16])
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(key + got, 16 - got, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "tlsgatectl: getrandom: %s\n", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/*
 * Load the content package from @dir (NULL: default). Missing files are absent files; a
 * missing directory is an error. Returns the package or NULL (reported).
 */
static struct tg_content *ctl_load_content(const char *dir, const uint8_t key[static 16],
					   struct tg_diag *d)
{
	static const char *const names[] = TG_CONTENT_FILE_NAMES;
	struct tg_content_files files;
	struct tg_span *spans[6] = { &files.manifest, &files.pinned, &files.apps,
				     &files.m365,     &files.doh,    &files.categories };
	struct tg_content *c = NULL;
	char dbuf[PATH_MAX];
	size_t i;
	enum tg_err e;

	memset(&files, 0, sizeof(files));
	if (dir == NULL)
		dir = ctl_content_dir(dbuf, sizeof(dbuf));
	if (!ctl_is_dir(dir)) {
		fprintf(stderr,
			"tlsgatectl: content package %s: not a directory (use --content DIR)\n",
			dir);
		return NULL;
	}
	for (i = 0; i < 6; i++) {
		char path[PATH_MAX + 32];
		uint8_t *buf;
		size_t len;

		int pn = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);

		if (pn < 0 || (size_t)pn >= sizeof(path) || access(path, F_OK) == -1)
			continue;
		if (ctl_read_file(path, i == 5 ? TG_CAP_CATDB_BYTES : TG_CAP_CONTENT_BYTES, &buf,
				  &len) == -1)
			goto out;
		spans[i]->p = buf;
		spans[i]->len = len;
	}
	e = tg_content_load(&files, key, d, &c);
	if (e != TG_OK) {
		ctl_print_diag(d);
		fprintf(stderr, "tlsgatectl: content package %s: %s\n", dir, tg_strerror(e));
	}
out:
	for (i = 0; i < 6; i++)
		free((void *)(uintptr_t)spans[i]->p);
	return c;
}

static int ctl_policy_usage(FILE *f)
{
	fprintf(f, "usage: tlsgatectl policy check FILE [--content DIR]\n");
	return f == stdout ? 0 : 2;
}

/* Load @file against @content; diagnostics printed. Returns the policy or NULL. */
static struct tg_policy *ctl_load_policy(const char *file, const struct tg_content *content,
					 const uint8_t key[static 16], bool print_ok)
{
	struct tg_policy *p = NULL;
	struct tg_diag *d = calloc(1, sizeof(*d));
	uint8_t *buf = NULL;
	size_t len;
	enum tg_err e;

	if (d == NULL)
		return NULL;
	if (ctl_read_file(file, TG_CAP_POLICY_BYTES, &buf, &len) == -1)
		goto out;
	tg_diag_init(d);
	e = tg_policy_load(buf, len, content, key, d, &p);
	ctl_print_diag(d);
	if (e != TG_OK)
		fprintf(stderr, "%s: invalid: %s\n", file, tg_strerror(e));
	else if (print_ok)
		fprintf(stderr, "%s: valid (%zu warning%s)\n", file, d->warnings,
			d->warnings == 1 ? "" : "s");
out:
	free(buf);
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

static void ctl_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void ctl_kv_str(FILE *f, const char *key, const char *v, bool *first)
{
	fprintf(f, "%s\"%s\":", *first ? "" : ",", key);
	*first = false;
	if (v)
		ctl_json_str(f, v);
	else
		fputs("null", f);
}

static void ctl_print_decision(FILE *f, const struct tg_policy *p, const struct tg_content *c,
			       const struct tg_decision *dc)
{
	const struct tg_catdb *db = NULL;
	bool first = true, inner;
	char rule[32];
	size_t i;

	(void)db;
	fputc('{', f);
	ctl_kv_str(f, "action", tg_action_text(dc->action), &first);
	ctl_kv_str(f, "reason", tg_reason_text(dc->reason), &first);
	ctl_kv_str(f, "rule", dc->rule_name, &first);
	snprintf(rule, sizeof(rule), "%s[%d]",
		 dc->rule_list == TG_RULES_FILTERING ? "filtering" : "decryption", dc->rule);
	ctl_kv_str(f, "rule_path", dc->rule >= 0 ? rule : NULL, &first);
	ctl_kv_str(f, "alert",
		   dc->alert_rule >= 0
			   ? tg_policy_rule_name(p, TG_RULES_FILTERING, (size_t)dc->alert_rule)
			   : NULL,
		   &first);
	ctl_kv_str(f, "name", dc->name_len ? dc->name : NULL, &first);
	ctl_kv_str(f, "user", dc->user_name, &first);
	fputs(",\"groups\":[", f);
	inner = true;
	for (i = 0; i < tg_policy_group_count(p); i++) {
		if (!(dc->groups[i / 64] >> (i % 64) & 1))
			continue;
		if (!inner)
			fputc(',', f);
		ctl_json_str(f, tg_policy_group_name(p, i));
		inner = false;
	}
	fputc(']', f);
	ctl_kv_str(f, "app", dc->app_name, &first);
	fputs(",\"categories\":[", f);
	inner = true;
	for (i = 0; i < TG_CAP_CATEGORIES; i++) {
		if (!tg_catset_has(&dc->categories, (unsigned)i))
			continue;
		if (!inner)
			fputc(',', f);
		ctl_json_str(f, tg_content_category_name(c, (unsigned)i));
		inner = false;
	}
	fputc(']', f);
	if (dc->reputation)
		fprintf(f, ",\"reputation\":%u", dc->reputation);
	else
		fputs(",\"reputation\":null", f);
	if (dc->pinned >= 0) {
		const struct tg_content_pin *pin = tg_content_pin_get(c, (size_t)dc->pinned);

		fputs(",\"pinned\":{", f);
		inner = true;
		ctl_kv_str(f, "pattern", pin->pattern, &inner);
		ctl_kv_str(f, "app", pin->app, &inner);
		ctl_kv_str(f, "reason", pin->reason, &inner);
		ctl_kv_str(f, "source", pin->source, &inner);
		fputc('}', f);
	}
	ctl_kv_str(f, "m365", dc->m365 ? tg_m365_cat_text(dc->m365) : NULL, &first);
	fprintf(f, ",\"bypass_allowed\":%s", dc->bypass_allowed ? "true" : "false");
	fputs(",\"posture\":{\"os\":[", f);
	inner = true;
	for (i = 0; i < TG_OS__COUNT; i++) {
		if (!(dc->posture.os_mask >> i & 1))
			continue;
		if (!inner)
			fputc(',', f);
		ctl_json_str(f, tg_os_text((enum tg_os)i));
		inner = false;
	}
	fprintf(f, "],\"managed\":%s,\"source\":\"%s\"", dc->posture.managed ? "true" : "false",
		dc->posture.source == TG_POSTURE_PUSHED ? "pushed"
		: dc->posture.source == TG_POSTURE_HINT ? "hint"
							: "none");
	if (dc->posture.endpoint) {
		inner = false;
		ctl_kv_str(f, "endpoint", dc->posture.endpoint, &inner);
	}
	fputs("}}\n", f);
}

static int ctl_explain_usage(FILE *f)
{
	fprintf(f,
		"usage: tlsgatectl explain --policy FILE [--content DIR] --src IP [--mac MAC]\n"
		"         [--dst IP] [--dport N] (--sni NAME | --http-host HOST [--http-path P] |\n"
		"         --dns NAME | --quic) [--os OS] [--ech] [--user U] [--ja4 FP]\n"
		"         [--unparsable | --incomplete] [--upstream-excluded]\n"
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
		{ "upstream-excluded", no_argument, NULL, OPT_EXCLUDED },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = NULL, *content_dir = NULL, *src = NULL, *dst = NULL;
	bool dport_set = false, quic = false;
	struct tg_flow_facts f;
	struct tg_decision dc;
	struct tg_content *c = NULL;
	struct tg_policy *p = NULL;
	struct tg_diag *d = NULL;
	uint8_t key[16], fam;
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
		case OPT_DPORT: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > 65535) {
				fprintf(stderr, "tlsgatectl explain: bad --dport %s\n", optarg);
				return 2;
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
			f.ch_state = TG_CH_UNPARSABLE;
			break;
		case OPT_INCOMPLETE:
			f.ch_state = TG_CH_INCOMPLETE;
			break;
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
	    (f.kind == TG_FLOW_OTHER && f.ch_state == TG_CH_OK && !quic))
		return ctl_explain_usage(stderr);
	if (f.ch_state != TG_CH_OK)
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
	if (tg_classify(p, c, NULL, &f, 0, &dc) != TG_OK) {
		fprintf(stderr, "tlsgatectl explain: cannot classify\n");
		goto out;
	}
	ctl_print_decision(stdout, p, c, &dc);
	rc = 0;
out:
	tg_policy_free(p);
	tg_content_free(c);
	free(d);
	return rc;
}
