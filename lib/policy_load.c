/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy_load.c - JSON to compiled policy and content package. The ONLY file that includes
 * cJSON (STYLE.md rule 12): the parse tree never leaves it.
 *
 * Input: UTF-8 JSON (RFC 8259) in a caller's buffer, at most TG_CAP_POLICY_BYTES (policy) or
 * TG_CAP_CONTENT_BYTES (content files). Before cJSON sees it, a linear pre-scan rejects nesting
 * deeper than TG_CAP_JSON_DEPTH and "\u0000" escapes (cJSON would cut a string there), so
 * neither cJSON's recursion nor a truncated name can surprise the validator.
 *
 * The policy walk is strict (policy/README.md "Strictness"): closed objects, one type per
 * value, every reference resolved. Each error names its path ("decryption[3].match.apps[1]")
 * and, for unknown names, the nearest known one by edit distance. Structural errors are all
 * reported (up to the diag cap) in one pass; the policy is compiled only if there were none,
 * then linted (warnings). Content files are read leniently (unknown fields are ignored: a newer
 * package may carry more) but every value used is checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tlsgate/domain.h"
#include "policy_impl.h"

#define LD_PATH_MAX 512

struct ld_agroup {
	char *name;
	uint64_t *apps; /* bitmap over all apps */
};

struct ld_bind {
	struct tg_cidr pfx;
	struct pol_bind rec;
	char origin[96]; /* path of the binding, for conflict errors */
};

struct ld_macbind {
	uint8_t mac[6];
	struct pol_bind rec;
	char origin[96];
};

struct ld {
	struct tg_diag *d;
	const uint8_t *key;
	const char *file; /* prefix for content files, NULL for the policy */
	char path[LD_PATH_MAX];
	size_t plen;
	size_t errors;
	struct tg_policy *p;
	const struct tg_content *c;
	struct ld_agroup *agroups;
	size_t n_agroups;
	struct ld_bind *binds;
	size_t n_binds, cap_binds;
	struct ld_macbind *macs;
	size_t n_macs, cap_macs;
	size_t app_words;
};

/* --- paths and messages --------------------------------------------------------------------- */

static size_t ld_push_key(struct ld *l, const char *k)
{
	size_t old = l->plen;
	int n = snprintf(l->path + l->plen, sizeof(l->path) - l->plen, "%s%s", l->plen ? "." : "",
			 k);

	if (n > 0)
		l->plen = l->plen + (size_t)n < sizeof(l->path) ? l->plen + (size_t)n
								: sizeof(l->path) - 1;
	return old;
}

static size_t ld_push_idx(struct ld *l, size_t i)
{
	size_t old = l->plen;
	int n = snprintf(l->path + l->plen, sizeof(l->path) - l->plen, "[%zu]", i);

	if (n > 0)
		l->plen = l->plen + (size_t)n < sizeof(l->path) ? l->plen + (size_t)n
								: sizeof(l->path) - 1;
	return old;
}

static void ld_pop(struct ld *l, size_t old)
{
	l->plen = old;
	l->path[old] = '\0';
}

__attribute__((format(printf, 3, 0))) static void ld_vmsg(struct ld *l, enum tg_diag_level level,
							  const char *fmt, va_list ap)
{
	char msg[TG_CAP_DIAG_TEXT];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (level == TG_DIAG_ERROR)
		l->errors++;
	tg_diag_add(l->d, level, "%s%s%s: %s", l->file ? l->file : "", l->file ? ": " : "",
		    l->plen ? l->path : "(top level)", msg);
}

__attribute__((format(printf, 2, 3))) static void ld_err(struct ld *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ld_vmsg(l, TG_DIAG_ERROR, fmt, ap);
	va_end(ap);
}

/* --- suggestions ------------------------------------------------------------------------------ */

static char ld_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Edit distance (optimal string alignment: insert, delete, substitute, swap two adjacent),
 * case-insensitive, of strings of at most TG_CAP_POLICY_NAME bytes. */
static size_t ld_distance(const char *a, const char *b)
{
	size_t la = strnlen(a, TG_CAP_POLICY_NAME), lb = strnlen(b, TG_CAP_POLICY_NAME), i, j;
	size_t rows[3][TG_CAP_POLICY_NAME + 1];

	for (j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (i = 1; i <= la; i++) {
		size_t *cur = rows[i % 3], *up = rows[(i - 1) % 3], *up2 = rows[(i + 1) % 3];

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = up[j - 1] + (ld_lower(a[i - 1]) != ld_lower(b[j - 1]));

			if (up[j] + 1 < best)
				best = up[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ld_lower(a[i - 1]) == ld_lower(b[j - 2]) &&
			    ld_lower(a[i - 2]) == ld_lower(b[j - 1]) && up2[j - 2] + 1 < best)
				best = up2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return rows[la % 3][lb];
}

struct ld_sugg {
	const char *want;
	const char *best;
	size_t dist;
};

static void ld_sugg_try(struct ld_sugg *s, const char *cand)
{
	size_t d;

	if (cand == NULL)
		return;
	d = ld_distance(s->want, cand);
	if (d < s->dist) {
		s->dist = d;
		s->best = cand;
	}
}

/* Error "unknown WHAT "NAME"" with a suggestion when one is close enough. */
static void ld_unknown(struct ld *l, const char *what, const struct ld_sugg *s)
{
	size_t len = strlen(s->want), limit = len <= 4 ? 1 : len / 3;

	if (s->best && s->dist <= limit)
		ld_err(l, "unknown %s \"%s\" (did you mean \"%s\"?)", what, s->want, s->best);
	else
		ld_err(l, "unknown %s \"%s\"", what, s->want);
}

/* --- JSON access -------------------------------------------------------------------------------- */

/*
 * Pre-scan: depth and "\u0000", outside cJSON. Strings are skipped with their escapes. Returns
 * false after reporting the first problem with its line and column.
 */
static bool ld_prescan(struct ld *l, const uint8_t *s, size_t len, enum tg_err *e)
{
	size_t i, line = 1, col0 = 0, depth = 0;
	bool in_str = false;

	for (i = 0; i < len; i++) {
		uint8_t ch = s[i];

		if (ch == '\n') {
			line++;
			col0 = i + 1;
		}
		if (in_str) {
			if (ch == '\\' && i + 1 < len) {
				if (s[i + 1] == 'u' && i + 5 < len &&
				    memcmp(s + i + 2, "0000", 4) == 0) {
					ld_err(l,
					       "line %zu, column %zu: \\u0000 is not allowed in a "
					       "string",
					       line, i - col0 + 1);
					*e = TG_ERR_JSON;
					return false;
				}
				i++;
			} else if (ch == '"') {
				in_str = false;
			}
			continue;
		}
		if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > TG_CAP_JSON_DEPTH) {
				ld_err(l, "line %zu, column %zu: nested deeper than %d levels",
				       line, i - col0 + 1, TG_CAP_JSON_DEPTH);
				*e = TG_ERR_CAP;
				return false;
			}
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
		}
	}
	return true;
}

static cJSON *ld_parse(struct ld *l, const uint8_t *s, size_t len, size_t cap, enum tg_err *e)
{
	const char *end = NULL;
	cJSON *root;
	size_t i, line = 1, col0 = 0, off;

	if (len > cap) {
		ld_err(l, "larger than %zu bytes", cap);
		*e = TG_ERR_CAP;
		return NULL;
	}
	if (!ld_prescan(l, s, len, e))
		return NULL;
	root = cJSON_ParseWithLengthOpts((const char *)s, len, &end, false);
	off = end ? (size_t)((const uint8_t *)end - s) : len;
	if (root != NULL) {
		while (off < len &&
		       (s[off] == ' ' || s[off] == '\t' || s[off] == '\n' || s[off] == '\r'))
			off++;
		if (off == len)
			return root;
		cJSON_Delete(root);
		root = NULL;
	}
	if (off > len)
		off = len;
	for (i = 0; i < off; i++)
		if (s[i] == '\n') {
			line++;
			col0 = i + 1;
		}
	ld_err(l, "line %zu, column %zu: %s", line, off - col0 + 1,
	       len == 0 ? "empty input, expected a JSON object" : "JSON syntax error");
	*e = TG_ERR_JSON;
	return NULL;
}

/*
 * Check that @o is an object whose keys are all in @keys (NULL-terminated) without
 * duplicates; store the child for keys[i] in vals[i] (NULL when absent). Unknown and duplicate
 * keys are reported and skipped. Returns false (reported) when @o is not an object.
 */
static bool ld_obj(struct ld *l, const cJSON *o, const char *const *keys, const cJSON **vals)
{
	const cJSON *it;
	size_t n = 0, i;

	while (keys[n])
		n++;
	for (i = 0; i < n; i++)
		vals[i] = NULL;
	if (!cJSON_IsObject(o)) {
		ld_err(l, "expected an object");
		return false;
	}
	for (it = o->child; it; it = it->next) {
		struct ld_sugg s = { it->string, NULL, (size_t)-1 };
		size_t old;

		for (i = 0; i < n; i++)
			if (strcmp(keys[i], it->string) == 0)
				break;
		if (i < n && vals[i] == NULL) {
			vals[i] = it;
			continue;
		}
		old = ld_push_key(l, it->string);
		if (i < n) {
			ld_err(l, "duplicate key");
		} else {
			for (i = 0; i < n; i++)
				ld_sugg_try(&s, keys[i]);
			if (s.best && s.dist <= (strlen(s.want) <= 4 ? 1 : strlen(s.want) / 3))
				ld_err(l, "unknown field (did you mean \"%s\"?)", s.best);
			else
				ld_err(l, "unknown field");
		}
		ld_pop(l, old);
	}
	return true;
}

static bool ld_bool(struct ld *l, const cJSON *v, const char *key, bool def, bool *out)
{
	size_t old;

	*out = def;
	if (v == NULL)
		return true;
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return true;
	}
	old = ld_push_key(l, key);
	ld_err(l, "expected true or false");
	ld_pop(l, old);
	return false;
}

static bool ld_int(struct ld *l, const cJSON *v, const char *key, long lo, long hi, long def,
		   long *out)
{
	size_t old;
	double d;

	*out = def;
	if (v == NULL)
		return true;
	old = key && *key ? ld_push_key(l, key) : l->plen;
	if (!cJSON_IsNumber(v)) {
		ld_err(l, "expected an integer");
		goto bad;
	}
	d = v->valuedouble;
	if (!(d >= -1e15 && d <= 1e15) || d != (double)(long long)d) {
		ld_err(l, "expected an integer");
		goto bad;
	}
	if (d < (double)lo || d > (double)hi) {
		ld_err(l, "%.0f is out of range (%ld to %ld)", d, lo, hi);
		goto bad;
	}
	*out = (long)d;
	ld_pop(l, old);
	return true;
bad:
	ld_pop(l, old);
	return false;
}

/* A string value among @names (NULL-terminated); *out is its index. */
static bool ld_enum(struct ld *l, const cJSON *v, const char *key, const char *const *names,
		    int def, int *out)
{
	char list[160];
	size_t old, i, n = 0;

	*out = def;
	if (v == NULL)
		return true;
	if (cJSON_IsString(v))
		for (i = 0; names[i]; i++)
			if (strcmp(names[i], v->valuestring) == 0) {
				*out = (int)i;
				return true;
			}
	list[0] = '\0';
	for (i = 0; names[i]; i++) {
		int k = snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "", names[i]);

		if (k > 0 && (size_t)k < sizeof(list) - n)
			n += (size_t)k;
	}
	old = key ? ld_push_key(l, key) : l->plen;
	if (cJSON_IsString(v))
		ld_err(l, "\"%.64s\" is not one of %s", v->valuestring, list);
	else
		ld_err(l, "expected a string, one of %s", list);
	ld_pop(l, old);
	return false;
}

/* Name rules: 1..TG_CAP_POLICY_NAME bytes of printable ASCII, no space at either end. */
static bool ld_name_ok(const char *s)
{
	size_t n = strnlen(s, TG_CAP_POLICY_NAME + 1), i;

	if (n == 0 || n > TG_CAP_POLICY_NAME || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* @s, at most 80 bytes of it, with bytes outside printable ASCII as \xNN, into @out. */
static const char *ld_quote(const char *s, char out[static 330])
{
	size_t i, n = 0;

	for (i = 0; s[i] && i < 80; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, 330 - n, "\\x%02x", ch);
		else
			out[n++] = (char)ch;
	}
	out[n] = '\0';
	return out;
}

/* A name-valued item at the current path: returns the string or NULL (reported). */
static const char *ld_name_at(struct ld *l, const cJSON *v)
{
	if (!cJSON_IsString(v)) {
		ld_err(l, "expected a string");
		return NULL;
	}
	if (!ld_name_ok(v->valuestring)) {
		char q[330];

		ld_err(l,
		       "invalid name \"%s\": 1-%d printable ASCII characters, no space at "
		       "either end",
		       ld_quote(v->valuestring, q), TG_CAP_POLICY_NAME);
		return NULL;
	}
	return v->valuestring;
}

static char *ld_strdup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (d)
		memcpy(d, s, n + 1);
	return d;
}

/* An array of at most @max items at the current path; *n its size. */
static bool ld_array(struct ld *l, const cJSON *v, size_t max, size_t *n)
{
	*n = 0;
	if (!cJSON_IsArray(v)) {
		ld_err(l, "expected an array");
		return false;
	}
	*n = (size_t)cJSON_GetArraySize(v);
	if (*n > max) {
		ld_err(l, "more than %zu items", max);
		return false;
	}
	return true;
}

/* --- domain patterns, addresses, MACs ------------------------------------------------------------ */

static bool ld_pattern(struct ld *l, const cJSON *v, struct pol_pattern *out)
{
	char name[TG_CAP_NAME_LEN + 1];
	size_t len;
	enum tg_err e;

	out->name = NULL;
	if (!cJSON_IsString(v)) {
		ld_err(l, "expected a string");
		return false;
	}
	e = tg_dset_parse_pattern(v->valuestring, strlen(v->valuestring), name, &len, &out->kind);
	if (e != TG_OK) {
		ld_err(l, "invalid domain pattern \"%.80s\": %s", v->valuestring, tg_strerror(e));
		return false;
	}
	out->name = ld_strdup(name);
	out->len = len;
	return true;
}

static bool ld_cidr(struct ld *l, const cJSON *v, struct tg_cidr *out)
{
	enum tg_err e;

	if (!cJSON_IsString(v)) {
		ld_err(l, "expected a string");
		return false;
	}
	e = tg_cidr_parse(v->valuestring, strlen(v->valuestring), out);
	if (e != TG_OK) {
		ld_err(l, "invalid address or network \"%.80s\": %s", v->valuestring,
		       tg_strerror(e));
		return false;
	}
	return true;
}

static int ld_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = ld_lower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static bool ld_mac(struct ld *l, const cJSON *v, uint8_t mac[static 6])
{
	const char *s;
	size_t i;

	if (!cJSON_IsString(v)) {
		ld_err(l, "expected a string");
		return false;
	}
	s = v->valuestring;
	if (strlen(s) != 17)
		goto bad;
	for (i = 0; i < 6; i++) {
		int hi = ld_hex(s[3 * i]), lo = ld_hex(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-') ||
		    (i < 5 && s[3 * i + 2] != s[2]))
			goto bad;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
bad:
	ld_err(l, "invalid MAC address \"%.40s\" (expected aa:bb:cc:dd:ee:ff)", s);
	return false;
}

/* --- settings ------------------------------------------------------------------------------------ */

static const char *const ld_passblock[] = { "pass", "block", NULL };

static void ld_settings_defaults(struct tg_policy_settings *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->default_decrypt = false;
	s->implicit_bypass = true;
	s->dynamic_bypass.enabled = true;
	s->dynamic_bypass.failures = 3;
	s->dynamic_bypass.window_s = 600;
	s->dynamic_bypass.ttl_s = 86400;
	s->dynamic_bypass.per_user_max = 64;
	s->dynamic_bypass.total_max = 16384;
	s->dynamic_bypass.ca_missing_hosts = 8;
	s->dynamic_bypass.ca_missing_window_s = 300;
	s->dynamic_bypass.ca_missing_ttl_s = 3600;
	s->dynamic_bypass.ca_missing_action = TG_ACTION_PASS;
	s->upstream_excl_ttl_s = 3600;
	s->ech = TG_ECH_STRIP;
	s->quic = TG_QUIC_BLOCK;
	s->m365 = TG_M365_MICROSOFT;
	/*
	 * Fail closed where an honest stack never goes (policy/README.md "settings.fail" gives
	 * each reason); pass where honest traffic does get: overload, a daemon restart
	 * (midstream), other protocols on the port, an adoption or upstream the proxy cannot do.
	 */
	for (i = 0; i < TG_FAIL__COUNT; i++)
		s->fail[i] = TG_ACTION_BLOCK;
	s->fail[TG_FAIL_QUEUE_FULL] = TG_ACTION_PASS;
	s->fail[TG_FAIL_ADOPTION] = TG_ACTION_PASS;
	s->fail[TG_FAIL_UPSTREAM_UNSUPPORTED] = TG_ACTION_PASS;
	s->fail[TG_FAIL_MIDSTREAM] = TG_ACTION_PASS;
	s->fail[TG_FAIL_NON_TLS] = TG_ACTION_PASS;
	s->inspected_ports[0] = 443;
	s->n_inspected_ports = 1;
	s->http_ports[0] = 80;
	s->n_http_ports = 1;
	s->dns_answer = TG_DNS_NXDOMAIN;
	s->os_hint = true;
	s->os_hint_min_confidence = 60;
}

static void ld_u32(struct ld *l, const cJSON *v, const char *key, long lo, long hi, uint32_t *out)
{
	long x;

	if (ld_int(l, v, key, lo, hi, (long)*out, &x))
		*out = (uint32_t)x;
}

static void ld_dynamic_bypass(struct ld *l, const cJSON *o, struct tg_policy_settings *s)
{
	static const char *const keys[] = { "enabled",	    "failures",	 "window_s",   "ttl_s",
					    "per_user_max", "total_max", "ca_missing", NULL };
	static const char *const ca_keys[] = { "hosts", "window_s", "ttl_s", "action", NULL };
	static const char *const ca_actions[] = { "pass", "block", "decrypt", NULL };
	const cJSON *v[7], *cv[4];
	size_t old;
	int a;

	if (!ld_obj(l, o, keys, v))
		return;
	ld_bool(l, v[0], "enabled", true, &s->dynamic_bypass.enabled);
	ld_u32(l, v[1], "failures", 1, 100, &s->dynamic_bypass.failures);
	ld_u32(l, v[2], "window_s", 1, 86400, &s->dynamic_bypass.window_s);
	ld_u32(l, v[3], "ttl_s", 60, 2592000, &s->dynamic_bypass.ttl_s);
	ld_u32(l, v[4], "per_user_max", 1, 4096, &s->dynamic_bypass.per_user_max);
	ld_u32(l, v[5], "total_max", 1, 1048576, &s->dynamic_bypass.total_max);
	if (v[6] == NULL)
		return;
	old = ld_push_key(l, "ca_missing");
	if (ld_obj(l, v[6], ca_keys, cv)) {
		ld_u32(l, cv[0], "hosts", 2, 1000, &s->dynamic_bypass.ca_missing_hosts);
		ld_u32(l, cv[1], "window_s", 1, 86400, &s->dynamic_bypass.ca_missing_window_s);
		ld_u32(l, cv[2], "ttl_s", 60, 2592000, &s->dynamic_bypass.ca_missing_ttl_s);
		if (ld_enum(l, cv[3], "action", ca_actions, 0, &a))
			s->dynamic_bypass.ca_missing_action = a == 0   ? TG_ACTION_PASS
							      : a == 1 ? TG_ACTION_BLOCK
								       : TG_ACTION_DECRYPT;
	}
	ld_pop(l, old);
}

static void ld_ports(struct ld *l, const cJSON *v, const char *key, uint16_t *ports, size_t *n)
{
	size_t old = ld_push_key(l, key), cnt, i, j;
	const cJSON *it;

	if (!ld_array(l, v, TG_CAP_PORTS, &cnt))
		goto out;
	if (cnt == 0) {
		ld_err(l, "expected at least one port");
		goto out;
	}
	i = 0;
	cJSON_ArrayForEach(it, v)
	{
		size_t o2 = ld_push_idx(l, i);
		long x;

		if (!cJSON_IsNumber(it)) {
			ld_err(l, "expected an integer");
		} else if (ld_int(l, it, "", 1, 65535, 0, &x)) {
			ports[i] = (uint16_t)x;
			for (j = 0; j < i; j++)
				if (ports[j] == ports[i])
					ld_err(l, "duplicate port %ld", x);
		}
		ld_pop(l, o2);
		i++;
	}
	*n = cnt;
out:
	ld_pop(l, old);
}

static void ld_settings(struct ld *l, const cJSON *o, struct tg_policy_settings *s)
{
	static const char *const keys[] = { "default_action",
					    "implicit_bypass",
					    "dynamic_bypass",
					    "unsupported_upstream",
					    "ech",
					    "quic",
					    "m365",
					    "fail",
					    "inspected_ports",
					    "http_ports",
					    "dns",
					    "os_hint",
					    NULL };
	static const char *const def_actions[] = { "decrypt", "no-decrypt", NULL };
	static const char *const ech[] = { "strip", "block", "allow", NULL };
	static const char *const quic[] = { "block", "allow", NULL };
	static const char *const m365[] = { "microsoft", "inspect", "off", NULL };
	static const char *const fail_keys[] = { "queue_full",
						 "unparsable_client_hello",
						 "incomplete_client_hello",
						 "adoption_failure",
						 "upstream_untrusted",
						 "upstream_unsupported",
						 "cert_mint_failure",
						 "reassembly_conflict",
						 "reassembly_window",
						 "malformed_packet",
						 "tcp_fast_open",
						 "midstream",
						 "non_tls",
						 "invalid_name",
						 "unparsable_dns",
						 NULL };
	_Static_assert(sizeof(fail_keys) / sizeof(fail_keys[0]) == TG_FAIL__COUNT + 1,
		       "one settings.fail key per class, in enum order");
	static const char *const uu_keys[] = { "ttl_s", NULL };
	static const char *const dns_keys[] = { "block_answer", "sinkhole_ipv4", "sinkhole_ipv6",
						NULL };
	static const char *const dns_answers[] = { "nxdomain", "sinkhole", NULL };
	static const char *const hint_keys[] = { "enabled", "min_confidence", NULL };
	const cJSON *v[12], *sub[TG_FAIL__COUNT];
	size_t old, i;
	int x;

	if (!ld_obj(l, o, keys, v))
		return;
	if (ld_enum(l, v[0], "default_action", def_actions, 1, &x))
		s->default_decrypt = x == 0;
	ld_bool(l, v[1], "implicit_bypass", true, &s->implicit_bypass);
	if (v[2]) {
		old = ld_push_key(l, "dynamic_bypass");
		ld_dynamic_bypass(l, v[2], s);
		ld_pop(l, old);
	}
	if (v[3]) {
		old = ld_push_key(l, "unsupported_upstream");
		if (ld_obj(l, v[3], uu_keys, sub)) {
			ld_u32(l, sub[0], "ttl_s", 0, 604800, &s->upstream_excl_ttl_s);
			if (s->upstream_excl_ttl_s > 0 && s->upstream_excl_ttl_s < 60) {
				size_t o2 = ld_push_key(l, "ttl_s");

				ld_err(l, "must be 0 (disabled) or at least 60");
				ld_pop(l, o2);
			}
		}
		ld_pop(l, old);
	}
	if (ld_enum(l, v[4], "ech", ech, 0, &x))
		s->ech = (enum tg_ech_mode)x;
	if (ld_enum(l, v[5], "quic", quic, 0, &x))
		s->quic = (enum tg_quic_mode)x;
	if (ld_enum(l, v[6], "m365", m365, 0, &x))
		s->m365 = (enum tg_m365_mode)x;
	if (v[7]) {
		old = ld_push_key(l, "fail");
		if (ld_obj(l, v[7], fail_keys, sub))
			for (i = 0; i < TG_FAIL__COUNT; i++)
				if (sub[i] && ld_enum(l, sub[i], fail_keys[i], ld_passblock, 0, &x))
					s->fail[i] = x ? TG_ACTION_BLOCK : TG_ACTION_PASS;
		ld_pop(l, old);
	}
	if (v[8])
		ld_ports(l, v[8], "inspected_ports", s->inspected_ports, &s->n_inspected_ports);
	if (v[9])
		ld_ports(l, v[9], "http_ports", s->http_ports, &s->n_http_ports);
	if (v[10]) {
		old = ld_push_key(l, "dns");
		if (ld_obj(l, v[10], dns_keys, sub)) {
			uint8_t fam, a[16];

			if (ld_enum(l, sub[0], "block_answer", dns_answers, 0, &x))
				s->dns_answer = (enum tg_dns_answer)x;
			for (i = 1; i <= 2; i++) {
				size_t o2;

				if (sub[i] == NULL)
					continue;
				o2 = ld_push_key(l, dns_keys[i]);
				if (!cJSON_IsString(sub[i]))
					ld_err(l, "expected a string");
				else if (tg_addr_parse(sub[i]->valuestring,
						       strlen(sub[i]->valuestring), &fam,
						       a) != TG_OK ||
					 fam != (i == 1 ? 4 : 6))
					ld_err(l, "expected an IPv%c address", i == 1 ? '4' : '6');
				else if (i == 1)
					memcpy(s->sinkhole_ipv4, a, 4);
				else
					memcpy(s->sinkhole_ipv6, a, 16);
				ld_pop(l, o2);
			}
		}
		ld_pop(l, old);
	}
	if (v[11]) {
		old = ld_push_key(l, "os_hint");
		if (ld_obj(l, v[11], hint_keys, sub)) {
			uint32_t mc = s->os_hint_min_confidence;

			ld_bool(l, sub[0], "enabled", true, &s->os_hint);
			ld_u32(l, sub[1], "min_confidence", 0, 100, &mc);
			s->os_hint_min_confidence = (uint8_t)mc;
		}
		ld_pop(l, old);
	}
}

/* --- identities, endpoints: bindings ------------------------------------------------------------- */

/* Room for one more element in a doubling array of @elem-byte items; false: out of memory. */
static bool ld_grow(struct ld *l, void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, ncap * elem);
	if (p == NULL) {
		ld_err(l, "out of memory");
		return false;
	}
	*arr = p;
	*cap = ncap;
	return true;
}

/* What an address or MAC binding says, and where the policy said it (for conflict errors). */
static void ld_bind_fill(const struct ld *l, struct pol_bind *rec, char origin[static 96],
			 int32_t user, int32_t ep, int32_t group)
{
	rec->user = user;
	rec->endpoint = ep;
	if (group >= 0)
		rec->groups[group / 64] |= 1ull << (group % 64);
	snprintf(origin, 96, "%.95s", l->path);
}

static void ld_bind_add(struct ld *l, const struct tg_cidr *c, int32_t user, int32_t ep,
			int32_t group)
{
	struct ld_bind *b;

	if (l->n_binds >= TG_CAP_BINDINGS) {
		ld_err(l, "more than %d address bindings in the policy", TG_CAP_BINDINGS);
		return;
	}
	if (!ld_grow(l, (void **)&l->binds, &l->cap_binds, l->n_binds, sizeof(*l->binds)))
		return;
	b = &l->binds[l->n_binds++];
	memset(b, 0, sizeof(*b));
	b->pfx = *c;
	ld_bind_fill(l, &b->rec, b->origin, user, ep, group);
}

static void ld_mac_add(struct ld *l, const uint8_t mac[static 6], int32_t user, int32_t ep,
		       int32_t group)
{
	struct ld_macbind *b;

	if (l->n_macs >= TG_CAP_BINDINGS) {
		ld_err(l, "more than %d MAC bindings in the policy", TG_CAP_BINDINGS);
		return;
	}
	if (!ld_grow(l, (void **)&l->macs, &l->cap_macs, l->n_macs, sizeof(*l->macs)))
		return;
	b = &l->macs[l->n_macs++];
	memset(b, 0, sizeof(*b));
	memcpy(b->mac, mac, 6);
	ld_bind_fill(l, &b->rec, b->origin, user, ep, group);
}

/* "addresses" and "macs" of a user, group or endpoint object. */
static void ld_bindings(struct ld *l, const cJSON *addrs, const cJSON *macs, int32_t user,
			int32_t ep, int32_t group)
{
	const cJSON *it;
	size_t old, n, i;

	if (addrs) {
		old = ld_push_key(l, "addresses");
		if (ld_array(l, addrs, TG_CAP_POLICY_LIST, &n)) {
			i = 0;
			cJSON_ArrayForEach(it, addrs)
			{
				size_t o2 = ld_push_idx(l, i++);
				struct tg_cidr c;

				if (ld_cidr(l, it, &c))
					ld_bind_add(l, &c, user, ep, group);
				ld_pop(l, o2);
			}
		}
		ld_pop(l, old);
	}
	if (macs) {
		old = ld_push_key(l, "macs");
		if (ld_array(l, macs, TG_CAP_POLICY_LIST, &n)) {
			i = 0;
			cJSON_ArrayForEach(it, macs)
			{
				size_t o2 = ld_push_idx(l, i++);
				uint8_t mac[6];

				if (ld_mac(l, it, mac))
					ld_mac_add(l, mac, user, ep, group);
				ld_pop(l, o2);
			}
		}
		ld_pop(l, old);
	}
}

static int ld_group_find(const struct tg_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_groups; i++)
		if (strcmp(p->groups[i], name) == 0)
			return (int)i;
	return -1;
}

static void ld_sort_users(struct tg_policy *p)
{
	size_t i, j;

	/* A bottom-up merge sort of indexes by name (qsort has no context argument). */
	uint32_t *tmp = malloc(p->n_users * sizeof(*tmp));
	size_t width;

	for (i = 0; i < p->n_users; i++)
		p->user_sorted[i] = (uint32_t)i;
	if (tmp == NULL)
		return;
	for (width = 1; width < p->n_users; width *= 2) {
		for (i = 0; i < p->n_users; i += 2 * width) {
			size_t a = i, am = i + width < p->n_users ? i + width : p->n_users;
			size_t b = am, bm = i + 2 * width < p->n_users ? i + 2 * width : p->n_users;
			size_t k = i;

			while (a < am || b < bm) {
				if (b >= bm || (a < am && strcmp(p->users[p->user_sorted[a]],
								 p->users[p->user_sorted[b]]) <= 0))
					tmp[k++] = p->user_sorted[a++];
				else
					tmp[k++] = p->user_sorted[b++];
			}
		}
		for (j = 0; j < p->n_users; j++)
			p->user_sorted[j] = tmp[j];
	}
	free(tmp);
}

static void ld_identities(struct ld *l, const cJSON *o)
{
	static const char *const keys[] = { "users", "groups", NULL };
	static const char *const ukeys[] = { "name", "addresses", "macs", NULL };
	static const char *const gkeys[] = { "name", "members", "addresses", "macs", NULL };
	struct tg_policy *p = l->p;
	const cJSON *v[2], *it;
	size_t old, n, i;

	if (!ld_obj(l, o, keys, v))
		return;
	if (v[0]) {
		old = ld_push_key(l, "users");
		if (ld_array(l, v[0], TG_CAP_USERS, &n) && n > 0) {
			p->users = calloc(n, sizeof(*p->users));
			p->user_sorted = calloc(n, sizeof(*p->user_sorted));
			p->user_groups = calloc(n, sizeof(*p->user_groups));
			if (!p->users || !p->user_sorted || !p->user_groups) {
				ld_err(l, "out of memory");
				goto users_done;
			}
			i = 0;
			cJSON_ArrayForEach(it, v[0])
			{
				size_t o2 = ld_push_idx(l, i++), o3;
				const cJSON *u[3];
				const char *name;

				if (ld_obj(l, it, ukeys, u)) {
					o3 = ld_push_key(l, "name");
					if (u[0] == NULL)
						ld_err(l, "required");
					else if ((name = ld_name_at(l, u[0])) != NULL)
						p->users[p->n_users] = ld_strdup(name);
					ld_pop(l, o3);
					if (p->users[p->n_users] == NULL)
						p->users[p->n_users] = ld_strdup("");
					ld_bindings(l, u[1], u[2], (int32_t)p->n_users, -1, -1);
				} else {
					p->users[p->n_users] = ld_strdup("");
				}
				p->n_users++;
				ld_pop(l, o2);
			}
			ld_sort_users(p);
			for (i = 1; i < p->n_users; i++) {
				const char *a = p->users[p->user_sorted[i - 1]];
				const char *b = p->users[p->user_sorted[i]];

				if (a && b && *b && strcmp(a, b) == 0) {
					size_t hi = p->user_sorted[i] > p->user_sorted[i - 1]
							    ? p->user_sorted[i]
							    : p->user_sorted[i - 1];
					size_t o2 = ld_push_idx(l, hi), o3 = ld_push_key(l, "name");

					ld_err(l, "duplicate user \"%s\"", b);
					ld_pop(l, o3);
					ld_pop(l, o2);
				}
			}
		}
	users_done:
		ld_pop(l, old);
	}
	if (v[1]) {
		old = ld_push_key(l, "groups");
		if (ld_array(l, v[1], TG_CAP_GROUPS, &n) && n > 0) {
			p->groups = calloc(n, sizeof(*p->groups));
			if (p->groups == NULL) {
				ld_err(l, "out of memory");
				goto groups_done;
			}
			i = 0;
			cJSON_ArrayForEach(it, v[1])
			{
				size_t o2 = ld_push_idx(l, i++), o3, k, m;
				const cJSON *g[4], *mem;
				const char *name = NULL;
				int32_t gi = (int32_t)p->n_groups;

				if (!ld_obj(l, it, gkeys, g)) {
					p->groups[p->n_groups++] = ld_strdup("");
					ld_pop(l, o2);
					continue;
				}
				o3 = ld_push_key(l, "name");
				if (g[0] == NULL)
					ld_err(l, "required");
				else if ((name = ld_name_at(l, g[0])) != NULL) {
					if (ld_group_find(p, name) >= 0)
						ld_err(l, "duplicate group \"%s\"", name);
					else if (pol_user_find(p, name, strlen(name)) >= 0)
						ld_err(l, "\"%s\" is already a user name", name);
				}
				ld_pop(l, o3);
				p->groups[p->n_groups++] = ld_strdup(name ? name : "");
				if (g[1]) {
					o3 = ld_push_key(l, "members");
					if (ld_array(l, g[1], TG_CAP_USERS, &m)) {
						k = 0;
						cJSON_ArrayForEach(mem, g[1])
						{
							size_t o4 = ld_push_idx(l, k++);
							const char *un = ld_name_at(l, mem);
							int ui = un ? pol_user_find(p, un,
										    strlen(un))
								    : -1;

							if (un && ui < 0) {
								struct ld_sugg s = { un, NULL,
										     (size_t)-1 };
								size_t q;

								for (q = 0;
								     q < p->n_users && q < 10000;
								     q++)
									ld_sugg_try(&s,
										    p->users[q]);
								ld_unknown(l, "user", &s);
							} else if (ui >= 0) {
								p->user_groups[ui][gi / 64] |=
									1ull << (gi % 64);
							}
							ld_pop(l, o4);
						}
					}
					ld_pop(l, o3);
				}
				ld_bindings(l, g[2], g[3], -1, -1, gi);
				ld_pop(l, o2);
			}
		}
	groups_done:
		ld_pop(l, old);
	}
}

static const char *const ld_os_names[] = { "android", "ios",	  "windows", "macos",
					   "linux",   "chromeos", "other",   NULL };

static void ld_endpoints(struct ld *l, const cJSON *v)
{
	static const char *const keys[] = { "name", "addresses", "macs", "os", "managed", NULL };
	struct tg_policy *p = l->p;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_array(l, v, TG_CAP_POLICY_LIST, &n) || n == 0)
		return;
	p->endpoints = calloc(n, sizeof(*p->endpoints));
	if (p->endpoints == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o2 = ld_push_idx(l, i++), o3;
		const cJSON *e[5];
		struct pol_endpoint *ep = &p->endpoints[p->n_endpoints];
		int os;

		if (!ld_obj(l, it, keys, e)) {
			ld_pop(l, o2);
			continue;
		}
		if (e[0]) {
			const char *name;

			o3 = ld_push_key(l, "name");
			if ((name = ld_name_at(l, e[0])) != NULL)
				ep->name = ld_strdup(name);
			ld_pop(l, o3);
		}
		if (e[3] == NULL) {
			o3 = ld_push_key(l, "os");
			ld_err(l, "required");
			ld_pop(l, o3);
		} else if (ld_enum(l, e[3], "os", ld_os_names, 6, &os)) {
			ep->os = (uint8_t)os;
		}
		ld_bool(l, e[4], "managed", false, &ep->managed);
		if (e[1] == NULL && e[2] == NULL)
			ld_err(l, "needs \"addresses\" or \"macs\"");
		ld_bindings(l, e[1], e[2], -1, (int32_t)p->n_endpoints, -1);
		p->n_endpoints++;
		ld_pop(l, o2);
	}
}

/* Sorting and merging address bindings; each prefix inherits from the prefixes containing it. */
static int ld_cidr_cmp(const struct tg_cidr *a, const struct tg_cidr *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, 16);
	if (c)
		return c;
	return a->plen < b->plen ? -1 : a->plen > b->plen;
}

static int ld_bind_cmp(const void *a, const void *b)
{
	return ld_cidr_cmp(&((const struct ld_bind *)a)->pfx, &((const struct ld_bind *)b)->pfx);
}

static int ld_mac_cmp(const void *a, const void *b)
{
	return memcmp(((const struct ld_macbind *)a)->mac, ((const struct ld_macbind *)b)->mac, 6);
}

static bool ld_cidr_contains(const struct tg_cidr *outer, const struct tg_cidr *inner)
{
	unsigned i;

	if (outer->family != inner->family || outer->plen > inner->plen)
		return false;
	for (i = 0; i < outer->plen; i++)
		if ((outer->addr[i / 8] ^ inner->addr[i / 8]) >> (7 - i % 8) & 1)
			return false;
	return true;
}

/* Merge @src into @dst (same key); false on a user or endpoint conflict (reported). */
static bool ld_rec_merge(struct ld *l, struct pol_bind *dst, const char *dst_origin,
			 const struct pol_bind *src, const char *src_origin, const char *what)
{
	size_t i;

	for (i = 0; i < POL_GROUP_WORDS; i++)
		dst->groups[i] |= src->groups[i];
	if (src->user >= 0) {
		if (dst->user >= 0 && dst->user != src->user) {
			tg_diag_add(l->d, TG_DIAG_ERROR,
				    "%s: %s is already bound to user \"%s\" (%s)", src_origin, what,
				    l->p->users[dst->user], dst_origin);
			l->errors++;
			return false;
		}
		dst->user = src->user;
	}
	if (src->endpoint >= 0) {
		if (dst->endpoint >= 0 && dst->endpoint != src->endpoint) {
			tg_diag_add(l->d, TG_DIAG_ERROR,
				    "%s: %s is already bound to an endpoint (%s)", src_origin, what,
				    dst_origin);
			l->errors++;
			return false;
		}
		dst->endpoint = src->endpoint;
	}
	return true;
}

static void ld_bind_compile(struct ld *l)
{
	struct tg_policy *p = l->p;
	struct tg_cidrset_builder *b = NULL;
	size_t i, n = 0, *stack = NULL, depth = 0;

	if (l->n_binds) {
		qsort(l->binds, l->n_binds, sizeof(*l->binds), ld_bind_cmp);
		for (i = 0; i < l->n_binds; i++) {
			if (n && ld_cidr_cmp(&l->binds[n - 1].pfx, &l->binds[i].pfx) == 0) {
				char what[64];

				tg_addr_format(l->binds[i].pfx.family, l->binds[i].pfx.addr, what,
					       sizeof(what));
				ld_rec_merge(l, &l->binds[n - 1].rec, l->binds[n - 1].origin,
					     &l->binds[i].rec, l->binds[i].origin, "this address");
				continue;
			}
			l->binds[n++] = l->binds[i];
		}
		l->n_binds = n;
		p->binds = calloc(n, sizeof(*p->binds));
		stack = calloc(n, sizeof(*stack));
		b = tg_cidrset_builder_new();
		if (!p->binds || !stack || !b) {
			ld_err(l, "out of memory");
			goto out;
		}
		/* Sorted by (family, address, length): containing prefixes come first. */
		for (i = 0; i < n; i++) {
			struct pol_bind *r = &l->binds[i].rec;

			while (depth &&
			       !ld_cidr_contains(&l->binds[stack[depth - 1]].pfx, &l->binds[i].pfx))
				depth--;
			if (depth) {
				const struct pol_bind *up = &p->binds[stack[depth - 1]];
				size_t w;

				if (r->user < 0)
					r->user = up->user;
				if (r->endpoint < 0)
					r->endpoint = up->endpoint;
				for (w = 0; w < POL_GROUP_WORDS; w++)
					r->groups[w] |= up->groups[w];
			}
			p->binds[i] = *r;
			stack[depth++] = i;
			if (tg_cidrset_builder_add(b, &l->binds[i].pfx, (uint32_t)i) != TG_OK) {
				ld_err(l, "out of memory");
				goto out;
			}
		}
		p->n_binds = n;
		p->bind_set = tg_cidrset_build(b);
		b = NULL;
		if (p->bind_set == NULL)
			ld_err(l, "out of memory");
	}
	if (l->n_macs) {
		qsort(l->macs, l->n_macs, sizeof(*l->macs), ld_mac_cmp);
		n = 0;
		for (i = 0; i < l->n_macs; i++) {
			if (n && memcmp(l->macs[n - 1].mac, l->macs[i].mac, 6) == 0) {
				ld_rec_merge(l, &l->macs[n - 1].rec, l->macs[n - 1].origin,
					     &l->macs[i].rec, l->macs[i].origin, "this MAC");
				continue;
			}
			l->macs[n++] = l->macs[i];
		}
		l->n_macs = n;
		/* MAC records are appended to the binding table. */
		{
			struct pol_bind *nb = realloc(p->binds, (p->n_binds + n) * sizeof(*nb));

			p->macs = calloc(n, sizeof(*p->macs));
			if (nb == NULL || p->macs == NULL) {
				if (nb)
					p->binds = nb;
				ld_err(l, "out of memory");
				goto out;
			}
			p->binds = nb;
			for (i = 0; i < n; i++) {
				memcpy(p->macs[i].mac, l->macs[i].mac, 6);
				p->macs[i].bind = (uint32_t)(p->n_binds + i);
				p->binds[p->n_binds + i] = l->macs[i].rec;
			}
			p->n_binds += n;
			p->n_macs = n;
		}
	}
out:
	free(stack);
	tg_cidrset_builder_free(b);
}

/* --- applications -------------------------------------------------------------------------------- */

/* Global app index by name (content apps first), or -1. */
static int ld_app_find(const struct ld *l, const char *name)
{
	size_t i, nc = tg_content_app_count(l->c);

	for (i = 0; i < nc; i++)
		if (strcmp(tg_content_app_name(l->c, i), name) == 0)
			return (int)i;
	for (i = 0; i < l->p->n_apps; i++)
		if (l->p->apps[i].name && strcmp(l->p->apps[i].name, name) == 0)
			return (int)(nc + i);
	return -1;
}

static void ld_app_sugg(const struct ld *l, struct ld_sugg *s)
{
	size_t i, nc = tg_content_app_count(l->c);

	for (i = 0; i < nc; i++)
		ld_sugg_try(s, tg_content_app_name(l->c, i));
	for (i = 0; i < l->p->n_apps; i++)
		ld_sugg_try(s, l->p->apps[i].name);
}

/* Content group index (>= 0), admin group index (encoded -2 - i), or INT32_MIN. */
static int32_t ld_agroup_find(const struct ld *l, const char *name)
{
	size_t i;

	for (i = 0; i < tg_content_group_count(l->c); i++)
		if (strcmp(tg_content_group_name(l->c, i), name) == 0)
			return (int32_t)i;
	for (i = 0; i < l->n_agroups; i++)
		if (l->agroups[i].name && strcmp(l->agroups[i].name, name) == 0)
			return -2 - (int32_t)i;
	return INT32_MIN;
}

static void ld_agroup_sugg(const struct ld *l, struct ld_sugg *s)
{
	size_t i;

	for (i = 0; i < tg_content_group_count(l->c); i++)
		ld_sugg_try(s, tg_content_group_name(l->c, i));
	for (i = 0; i < l->n_agroups; i++)
		ld_sugg_try(s, l->agroups[i].name);
}

/* OR the apps of group @g (from ld_agroup_find) into @bits. */
static void ld_agroup_bits(const struct ld *l, int32_t g, uint64_t *bits)
{
	size_t i;

	if (g >= 0) {
		const struct content_group *cg = &l->c->groups[g];

		for (i = 0; i < cg->n_apps; i++)
			bits[cg->apps[i] / 64] |= 1ull << (cg->apps[i] % 64);
		return;
	}
	for (i = 0; i < l->app_words; i++)
		bits[i] |= l->agroups[-2 - g].apps[i];
}

static void ld_applications(struct ld *l, const cJSON *v)
{
	static const char *const keys[] = { "name", "hosts", "networks", NULL };
	struct tg_policy *p = l->p;
	struct tg_dset_builder *hb = NULL;
	struct tg_cidrset_builder *nb = NULL;
	size_t n = 0, i = 0, nc = tg_content_app_count(l->c), hosts = 0, nets = 0;
	const cJSON *it;

	if (v && (!ld_array(l, v, TG_CAP_APPS, &n)))
		n = 0;
	if (nc + n > TG_CAP_APPS) {
		ld_err(l, "more than %d applications with the content package's", TG_CAP_APPS);
		n = 0;
	}
	p->n_all_apps = nc + n;
	l->app_words = (p->n_all_apps + 63) / 64 + 1;
	if (n == 0)
		return;
	p->apps = calloc(n, sizeof(*p->apps));
	hb = tg_dset_builder_new();
	nb = tg_cidrset_builder_new();
	if (!p->apps || !hb || !nb) {
		ld_err(l, "out of memory");
		goto out;
	}
	p->n_apps = n;
	cJSON_ArrayForEach(it, v)
	{
		size_t o2 = ld_push_idx(l, i), o3, k, m;
		const cJSON *a[3], *h;
		const char *name = NULL;
		uint32_t gidx = (uint32_t)(nc + i);

		i++;
		if (!ld_obj(l, it, keys, a)) {
			ld_pop(l, o2);
			continue;
		}
		o3 = ld_push_key(l, "name");
		if (a[0] == NULL)
			ld_err(l, "required");
		else if ((name = ld_name_at(l, a[0])) != NULL) {
			if (ld_app_find(l, name) >= 0)
				ld_err(l, "duplicate application \"%s\"%s", name,
				       ld_app_find(l, name) < (int)nc ? " (a content application)"
								      : "");
			else if (tg_content_group_count(l->c) &&
				 ld_agroup_find(l, name) != INT32_MIN)
				ld_err(l, "\"%s\" is a content application group", name);
		}
		ld_pop(l, o3);
		if (name && ld_app_find(l, name) < 0)
			p->apps[i - 1].name = ld_strdup(name);
		if (a[1]) {
			o3 = ld_push_key(l, "hosts");
			if (ld_array(l, a[1], TG_CAP_POLICY_LIST, &m)) {
				k = 0;
				cJSON_ArrayForEach(h, a[1])
				{
					size_t o4 = ld_push_idx(l, k++);
					struct pol_pattern pt;

					if (ld_pattern(l, h, &pt)) {
						if (tg_dset_builder_add(hb, pt.name, pt.len,
									pt.kind, gidx) != TG_OK)
							ld_err(l, "cannot add the pattern");
						hosts++;
					}
					free(pt.name);
					ld_pop(l, o4);
				}
			}
			ld_pop(l, o3);
		}
		if (a[2]) {
			o3 = ld_push_key(l, "networks");
			if (ld_array(l, a[2], TG_CAP_POLICY_LIST, &m)) {
				k = 0;
				cJSON_ArrayForEach(h, a[2])
				{
					size_t o4 = ld_push_idx(l, k++);
					struct tg_cidr c;

					if (ld_cidr(l, h, &c)) {
						if (tg_cidrset_builder_add(nb, &c, gidx) != TG_OK)
							ld_err(l, "cannot add the network");
						nets++;
					}
					ld_pop(l, o4);
				}
			}
			ld_pop(l, o3);
		}
		if ((a[1] == NULL || cJSON_GetArraySize(a[1]) == 0) &&
		    (a[2] == NULL || cJSON_GetArraySize(a[2]) == 0))
			ld_err(l, "needs \"hosts\" or \"networks\"");
		ld_pop(l, o2);
	}
	if (hosts) {
		p->app_hosts = tg_dset_build(hb, l->key);
		hb = NULL;
	}
	if (nets) {
		p->app_nets = tg_cidrset_build(nb);
		nb = NULL;
	}
out:
	tg_dset_builder_free(hb);
	tg_cidrset_builder_free(nb);
}

static void ld_app_groups(struct ld *l, const cJSON *v)
{
	static const char *const keys[] = { "name", "apps", NULL };
	size_t n, i = 0;
	const cJSON *it;

	if (!ld_array(l, v, TG_CAP_GROUPS, &n) || n == 0)
		return;
	l->agroups = calloc(n, sizeof(*l->agroups));
	if (l->agroups == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o2 = ld_push_idx(l, i++), o3, k, m;
		struct ld_agroup *g = &l->agroups[l->n_agroups];
		const cJSON *a[2], *ai;
		const char *name = NULL;

		g->apps = calloc(l->app_words, sizeof(uint64_t));
		if (g->apps == NULL) {
			ld_err(l, "out of memory");
			ld_pop(l, o2);
			break;
		}
		if (!ld_obj(l, it, keys, a)) {
			l->n_agroups++;
			ld_pop(l, o2);
			continue;
		}
		o3 = ld_push_key(l, "name");
		if (a[0] == NULL)
			ld_err(l, "required");
		else if ((name = ld_name_at(l, a[0])) != NULL) {
			if (ld_agroup_find(l, name) != INT32_MIN)
				ld_err(l, "duplicate application group \"%s\"", name);
			else if (ld_app_find(l, name) >= 0)
				ld_err(l, "\"%s\" is already an application name", name);
		}
		ld_pop(l, o3);
		o3 = ld_push_key(l, "apps");
		if (a[1] == NULL)
			ld_err(l, "required");
		else if (ld_array(l, a[1], TG_CAP_APPS, &m)) {
			k = 0;
			cJSON_ArrayForEach(ai, a[1])
			{
				size_t o4 = ld_push_idx(l, k++);
				const char *an = ld_name_at(l, ai);
				int idx = an ? ld_app_find(l, an) : -1;

				if (an && idx < 0) {
					struct ld_sugg s = { an, NULL, (size_t)-1 };

					ld_app_sugg(l, &s);
					ld_unknown(l, "application", &s);
				} else if (idx >= 0) {
					g->apps[idx / 64] |= 1ull << (idx % 64);
				}
				ld_pop(l, o4);
			}
		}
		ld_pop(l, o3);
		if (name && ld_agroup_find(l, name) == INT32_MIN)
			g->name = ld_strdup(name);
		l->n_agroups++;
		ld_pop(l, o2);
	}
}

/* --- rules ------------------------------------------------------------------------------------------ */

static const char *const ld_activities[] = { "login", "upload", "download", "share",
					     "post",  "delete", NULL };

/* Match fields in a fixed order; @allowed is a bitmask over this table. */
enum {
	MF_USERS,
	MF_GROUPS,
	MF_SOURCES,
	MF_DESTINATIONS,
	MF_APPS,
	MF_APP_GROUPS,
	MF_CATEGORIES,
	MF_REPUTATION,
	MF_DOMAINS,
	MF_SNI,
	MF_JA4,
	MF_OS,
	MF_MANAGED,
	MF_ACTIVITIES,
	MF__COUNT,
};

static const char *const ld_match_names[MF__COUNT] = {
	"users",      "groups",	 "sources", "destinations", "apps", "app_groups", "categories",
	"reputation", "domains", "sni",	    "ja4",	    "os",   "managed",	  "activities",
};

#define MF(x) (1u << MF_##x)
#define MF_FILTERING                                                                           \
	(MF(USERS) | MF(GROUPS) | MF(SOURCES) | MF(DESTINATIONS) | MF(APPS) | MF(APP_GROUPS) | \
	 MF(CATEGORIES) | MF(REPUTATION) | MF(DOMAINS))
#define MF_DECRYPTION                                                                          \
	(MF(USERS) | MF(GROUPS) | MF(SOURCES) | MF(DESTINATIONS) | MF(APPS) | MF(APP_GROUPS) | \
	 MF(CATEGORIES) | MF(REPUTATION) | MF(SNI) | MF(JA4) | MF(OS) | MF(MANAGED))
#define MF_CASB (MF(USERS) | MF(GROUPS) | MF(APPS) | MF(APP_GROUPS) | MF(ACTIVITIES))

static int ld_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int ld_ja4_cmp(const void *a, const void *b)
{
	return memcmp(a, b, TG_CAP_JA4_LEN);
}

static bool ld_ja4_ok(const char *s)
{
	size_t i;

	if (strlen(s) != TG_CAP_JA4_LEN || s[10] != '_' || s[23] != '_')
		return false;
	if (s[0] != 't' && s[0] != 'q' && s[0] != 'd')
		return false;
	for (i = 1; i < 10; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	for (i = 11; i < TG_CAP_JA4_LEN; i++)
		if (i != 23 && !((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* A match list: an array of at most TG_CAP_POLICY_LIST items, not empty. */
static bool ld_match_array(struct ld *l, const cJSON *v, size_t *n)
{
	if (!ld_array(l, v, TG_CAP_POLICY_LIST, n))
		return false;
	if (*n == 0) {
		ld_err(l, "empty list (omit the field to match anything)");
		return false;
	}
	return true;
}

/* Name lists (users, groups, categories, apps, app_groups): each item resolved. */
static void ld_match_names_list(struct ld *l, int field, const cJSON *v, struct pol_match *m)
{
	struct tg_policy *p = l->p;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_match_array(l, v, &n))
		return;
	if (field == MF_USERS) {
		m->users = calloc(n, sizeof(*m->users));
		if (m->users == NULL) {
			ld_err(l, "out of memory");
			return;
		}
	}
	if ((field == MF_APPS || field == MF_APP_GROUPS) && m->apps == NULL) {
		m->apps = calloc(l->app_words, sizeof(uint64_t));
		if (m->apps == NULL) {
			ld_err(l, "out of memory");
			return;
		}
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);
		const char *name = ld_name_at(l, it);
		struct ld_sugg s = { name, NULL, (size_t)-1 };
		size_t q;
		int idx;

		if (name == NULL) {
			ld_pop(l, o);
			continue;
		}
		switch (field) {
		case MF_USERS:
			idx = pol_user_find(p, name, strlen(name));
			if (idx < 0) {
				for (q = 0; q < p->n_users && q < 10000; q++)
					ld_sugg_try(&s, p->users[q]);
				ld_unknown(l, "user", &s);
			} else {
				m->users[m->n_users++] = (uint32_t)idx;
			}
			break;
		case MF_GROUPS:
			idx = ld_group_find(p, name);
			if (idx < 0) {
				for (q = 0; q < p->n_groups; q++)
					ld_sugg_try(&s, p->groups[q]);
				ld_unknown(l, "group", &s);
			} else {
				m->groups[idx / 64] |= 1ull << (idx % 64);
			}
			break;
		case MF_CATEGORIES:
			idx = tg_catdb_category_id(l->c->cat, name, strlen(name));
			if (idx < 0) {
				for (q = 0; q < tg_catdb_category_count(l->c->cat); q++)
					ld_sugg_try(&s,
						    tg_catdb_category_name(l->c->cat, (unsigned)q));
				ld_unknown(l, "category", &s);
			} else {
				m->cats.w[idx / 64] |= 1ull << (idx % 64);
			}
			break;
		case MF_APPS:
			idx = ld_app_find(l, name);
			if (idx < 0) {
				ld_app_sugg(l, &s);
				ld_unknown(l, "application", &s);
			} else {
				m->apps[idx / 64] |= 1ull << (idx % 64);
			}
			break;
		case MF_APP_GROUPS: {
			int32_t g = ld_agroup_find(l, name);

			if (g == INT32_MIN) {
				ld_agroup_sugg(l, &s);
				ld_unknown(l, "application group", &s);
			} else {
				ld_agroup_bits(l, g, m->apps);
			}
			break;
		}
		default:
			break;
		}
		ld_pop(l, o);
	}
	if (field == MF_USERS)
		qsort(m->users, m->n_users, sizeof(*m->users), ld_u32_cmp);
}

static void ld_match_nets(struct ld *l, const cJSON *v, struct tg_cidrset **set,
			  struct tg_cidr **list, size_t *nl)
{
	struct tg_cidrset_builder *b;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_match_array(l, v, &n))
		return;
	*list = calloc(n, sizeof(**list));
	b = tg_cidrset_builder_new();
	if (*list == NULL || b == NULL) {
		tg_cidrset_builder_free(b);
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);
		struct tg_cidr c;

		if (ld_cidr(l, it, &c)) {
			(*list)[(*nl)++] = c;
			if (tg_cidrset_builder_add(b, &c, 0) != TG_OK)
				ld_err(l, "cannot add the network");
		}
		ld_pop(l, o);
	}
	*set = tg_cidrset_build(b);
	if (*set == NULL)
		ld_err(l, "out of memory");
}

static void ld_match_patterns(struct ld *l, const cJSON *v, struct pol_match *m)
{
	struct tg_dset_builder *b;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_match_array(l, v, &n))
		return;
	m->patterns = calloc(n, sizeof(*m->patterns));
	b = tg_dset_builder_new();
	if (m->patterns == NULL || b == NULL) {
		tg_dset_builder_free(b);
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);
		struct pol_pattern pt;

		if (ld_pattern(l, it, &pt)) {
			if (tg_dset_builder_add(b, pt.name, pt.len, pt.kind, 0) != TG_OK)
				ld_err(l, "cannot add the pattern");
			m->patterns[m->n_patterns++] = pt;
		}
		ld_pop(l, o);
	}
	m->names = tg_dset_build(b, l->key);
	if (m->names == NULL)
		ld_err(l, "out of memory");
}

static void ld_match_ja4(struct ld *l, const cJSON *v, struct pol_match *m)
{
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_match_array(l, v, &n))
		return;
	m->ja4 = calloc(n, sizeof(*m->ja4));
	if (m->ja4 == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);

		if (!cJSON_IsString(it))
			ld_err(l, "expected a string");
		else if (!ld_ja4_ok(it->valuestring))
			ld_err(l,
			       "invalid JA4 fingerprint \"%.60s\" (expected like "
			       "t13d1516h2_8daaf6152771_e5627efa2ab1)",
			       it->valuestring);
		else
			memcpy(m->ja4[m->n_ja4++], it->valuestring, TG_CAP_JA4_LEN + 1);
		ld_pop(l, o);
	}
	qsort(m->ja4, m->n_ja4, sizeof(*m->ja4), ld_ja4_cmp);
}

/* A small enum list (os, activities) as a bitmask. */
static uint8_t ld_match_enum_list(struct ld *l, const cJSON *v, const char *const *names)
{
	const cJSON *it;
	uint8_t mask = 0;
	size_t n, i = 0;
	int x;

	if (!ld_array(l, v, 16, &n))
		return 0;
	if (n == 0)
		ld_err(l, "empty list (omit the field to match anything)");
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);

		if (ld_enum(l, it, NULL, names, 0, &x))
			mask |= (uint8_t)(1u << x);
		ld_pop(l, o);
	}
	return mask;
}

static void ld_match(struct ld *l, const cJSON *o, unsigned allowed, struct pol_match *m)
{
	const char *keys[MF__COUNT + 1];
	const cJSON *v[MF__COUNT], *all[MF__COUNT];
	size_t nk = 0, f, old;

	memset(m, 0, sizeof(*m));
	m->rep_max = 5;
	for (f = 0; f < MF__COUNT; f++)
		if (allowed & (1u << f))
			keys[nk++] = ld_match_names[f];
	keys[nk] = NULL;
	if (!ld_obj(l, o, keys, v))
		return;
	nk = 0;
	for (f = 0; f < MF__COUNT; f++)
		all[f] = (allowed & (1u << f)) ? v[nk++] : NULL;
	for (f = 0; f < MF__COUNT; f++) {
		if (all[f] == NULL)
			continue;
		old = ld_push_key(l, ld_match_names[f]);
		switch (f) {
		case MF_USERS:
			m->have |= CRIT_USERS;
			ld_match_names_list(l, (int)f, all[f], m);
			break;
		case MF_GROUPS:
			m->have |= CRIT_GROUPS;
			ld_match_names_list(l, (int)f, all[f], m);
			break;
		case MF_CATEGORIES:
			m->have |= CRIT_CATS;
			ld_match_names_list(l, (int)f, all[f], m);
			break;
		case MF_APPS:
		case MF_APP_GROUPS:
			m->have |= CRIT_APPS;
			ld_match_names_list(l, (int)f, all[f], m);
			break;
		case MF_SOURCES:
			m->have |= CRIT_SOURCES;
			ld_match_nets(l, all[f], &m->src, &m->src_list, &m->n_src);
			break;
		case MF_DESTINATIONS:
			m->have |= CRIT_DESTS;
			ld_match_nets(l, all[f], &m->dst, &m->dst_list, &m->n_dst);
			break;
		case MF_DOMAINS:
		case MF_SNI:
			m->have |= CRIT_NAMES;
			ld_match_patterns(l, all[f], m);
			break;
		case MF_JA4:
			m->have |= CRIT_JA4;
			ld_match_ja4(l, all[f], m);
			break;
		case MF_OS:
			m->have |= CRIT_OS;
			m->os_mask = ld_match_enum_list(l, all[f], ld_os_names);
			break;
		case MF_ACTIVITIES:
			m->have |= CRIT_ACTIVITIES;
			m->activities = ld_match_enum_list(l, all[f], ld_activities);
			break;
		case MF_MANAGED:
			m->have |= CRIT_MANAGED;
			ld_pop(l, old);
			ld_bool(l, all[f], "managed", false, &m->managed);
			continue;
		case MF_REPUTATION: {
			static const char *const rkeys[] = { "min", "max", NULL };
			const cJSON *r[2];
			long lo = 1, hi = 5;

			m->have |= CRIT_REP;
			if (ld_obj(l, all[f], rkeys, r)) {
				if (r[0] == NULL && r[1] == NULL)
					ld_err(l, "needs \"min\" or \"max\"");
				ld_int(l, r[0], "min", 1, 5, 1, &lo);
				ld_int(l, r[1], "max", 1, 5, 5, &hi);
				if (lo > hi)
					ld_err(l, "min %ld is above max %ld", lo, hi);
				m->rep_min = (uint8_t)lo;
				m->rep_max = (uint8_t)hi;
			}
			break;
		}
		default:
			break;
		}
		ld_pop(l, old);
	}
}

static void ld_detectors(struct ld *l, const cJSON *v, struct pol_rule *r)
{
	static const char *const keys[] = { "type",	 "pattern",	   "words",
					    "min_count", "case_sensitive", NULL };
	static const char *const types[] = { "card_number", "regex", "keywords", NULL };
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_array(l, v, TG_CAP_DLP_DETECTORS, &n))
		return;
	if (n == 0) {
		ld_err(l, "expected at least one detector");
		return;
	}
	r->detectors = calloc(n, sizeof(*r->detectors));
	if (r->detectors == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++), o2;
		struct pol_detector *d = &r->detectors[r->n_detectors];
		const cJSON *f[5];
		int t;
		long mc;

		if (!ld_obj(l, it, keys, f)) {
			ld_pop(l, o);
			continue;
		}
		r->n_detectors++;
		if (f[0] == NULL) {
			o2 = ld_push_key(l, "type");
			ld_err(l, "required");
			ld_pop(l, o2);
			ld_pop(l, o);
			continue;
		}
		if (!ld_enum(l, f[0], "type", types, 0, &t)) {
			ld_pop(l, o);
			continue;
		}
		d->type = (enum dlp_type)t;
		if (ld_int(l, f[3], "min_count", 1, 1000, 1, &mc))
			d->min_count = (uint32_t)mc;
		if (f[1] && t != DLP_REGEX) {
			o2 = ld_push_key(l, "pattern");
			ld_err(l, "only for type \"regex\"");
			ld_pop(l, o2);
		}
		if (f[2] && t != DLP_KEYWORDS) {
			o2 = ld_push_key(l, "words");
			ld_err(l, "only for type \"keywords\"");
			ld_pop(l, o2);
		}
		if (f[4] && t != DLP_KEYWORDS) {
			o2 = ld_push_key(l, "case_sensitive");
			ld_err(l, "only for type \"keywords\"");
			ld_pop(l, o2);
		}
		ld_bool(l, f[4], "case_sensitive", false, &d->case_sensitive);
		if (t == DLP_REGEX) {
			o2 = ld_push_key(l, "pattern");
			if (f[1] == NULL)
				ld_err(l, "required");
			else if (!cJSON_IsString(f[1]))
				ld_err(l, "expected a string");
			else if (f[1]->valuestring[0] == '\0' ||
				 strlen(f[1]->valuestring) > TG_CAP_DLP_PATTERN)
				ld_err(l, "must be 1-%d bytes", TG_CAP_DLP_PATTERN);
			else
				d->pattern = ld_strdup(f[1]->valuestring);
			ld_pop(l, o2);
		}
		if (t == DLP_KEYWORDS) {
			const cJSON *w;
			size_t nw, k = 0;

			o2 = ld_push_key(l, "words");
			if (f[2] == NULL)
				ld_err(l, "required");
			else if (ld_array(l, f[2], TG_CAP_DLP_KEYWORDS, &nw)) {
				if (nw == 0)
					ld_err(l, "expected at least one word");
				d->words = calloc(nw ? nw : 1, sizeof(*d->words));
				cJSON_ArrayForEach(w, f[2])
				{
					size_t o3 = ld_push_idx(l, k++);

					if (!cJSON_IsString(w))
						ld_err(l, "expected a string");
					else if (w->valuestring[0] == '\0' ||
						 strlen(w->valuestring) > TG_CAP_DLP_PATTERN)
						ld_err(l, "must be 1-%d bytes", TG_CAP_DLP_PATTERN);
					else if (d->words)
						d->words[d->n_words++] = ld_strdup(w->valuestring);
					ld_pop(l, o3);
				}
			}
			ld_pop(l, o2);
		}
		ld_pop(l, o);
	}
}

static void ld_rules(struct ld *l, const cJSON *v, enum tg_rule_list list)
{
	static const char *const fkeys[] = { "name", "enabled", "match", "action", NULL };
	static const char *const dkeys[] = { "name",   "enabled",	"match",
					     "action", "bypass_pinned", NULL };
	static const char *const lkeys[] = { "name",	  "enabled", "match", "action",
					     "detectors", "scan",    NULL };
	static const char *const scan_keys[] = { "max_bytes", "on_oversize", NULL };
	static const char *const f_actions[] = { "allow", "block", "alert", NULL };
	static const char *const d_actions[] = { "decrypt", "no-decrypt", NULL };
	static const char *const oversize[] = { "allow", "block", NULL };
	struct pol_rules *rl = &l->p->lists[list];
	const char *const *keys = list == TG_RULES_DECRYPTION ? dkeys
				  : list == TG_RULES_DLP      ? lkeys
							      : fkeys;
	unsigned allowed = list == TG_RULES_FILTERING	 ? MF_FILTERING
			   : list == TG_RULES_DECRYPTION ? MF_DECRYPTION
							 : MF_CASB;
	const cJSON *it;
	size_t n, i = 0, j;

	if (!ld_array(l, v, TG_CAP_RULES, &n) || n == 0)
		return;
	rl->r = calloc(n, sizeof(*rl->r));
	if (rl->r == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++), o2;
		struct pol_rule *r = &rl->r[rl->n];
		const cJSON *f[6] = { NULL };
		const char *name = NULL;
		int a;

		if (!ld_obj(l, it, keys, f)) {
			ld_pop(l, o);
			continue;
		}
		rl->n++;
		o2 = ld_push_key(l, "name");
		if (f[0] == NULL)
			ld_err(l, "required");
		else if ((name = ld_name_at(l, f[0])) != NULL) {
			for (j = 0; j + 1 < rl->n; j++)
				if (rl->r[j].name && strcmp(rl->r[j].name, name) == 0) {
					ld_err(l, "duplicate rule name \"%s\" (also [%zu])", name,
					       j);
					break;
				}
			r->name = ld_strdup(name);
		}
		ld_pop(l, o2);
		ld_bool(l, f[1], "enabled", true, &r->enabled);
		if (f[2]) {
			o2 = ld_push_key(l, "match");
			ld_match(l, f[2], allowed, &r->m);
			ld_pop(l, o2);
		} else {
			r->m.rep_max = 5;
		}
		if ((list == TG_RULES_CASB || list == TG_RULES_DLP) && !(r->m.have & CRIT_APPS) &&
		    list == TG_RULES_CASB)
			ld_err(l, "a CASB rule needs \"match.apps\" or \"match.app_groups\"");
		if (f[3] == NULL) {
			o2 = ld_push_key(l, "action");
			ld_err(l, "required");
			ld_pop(l, o2);
		} else if (list == TG_RULES_DECRYPTION) {
			if (ld_enum(l, f[3], "action", d_actions, 0, &a))
				r->action = a == 0 ? TG_ACTION_DECRYPT : TG_ACTION_PASS;
		} else if (ld_enum(l, f[3], "action", f_actions, 0, &a)) {
			r->action = a == 1 ? TG_ACTION_BLOCK : TG_ACTION_PASS;
			r->alert = a == 2;
		}
		if (list == TG_RULES_DECRYPTION) {
			ld_bool(l, f[4], "bypass_pinned", true, &r->bypass_pinned);
			if (f[4] && r->action != TG_ACTION_DECRYPT) {
				o2 = ld_push_key(l, "bypass_pinned");
				ld_err(l, "only allowed when action is \"decrypt\"");
				ld_pop(l, o2);
			}
		}
		if (list == TG_RULES_DLP) {
			long mb = 1048576;

			o2 = ld_push_key(l, "detectors");
			if (f[4] == NULL)
				ld_err(l, "required");
			else
				ld_detectors(l, f[4], r);
			ld_pop(l, o2);
			r->scan_max_bytes = 1048576;
			if (f[5]) {
				const cJSON *s[2];

				o2 = ld_push_key(l, "scan");
				if (ld_obj(l, f[5], scan_keys, s)) {
					if (ld_int(l, s[0], "max_bytes", 1, TG_CAP_DLP_SCAN_BYTES,
						   1048576, &mb))
						r->scan_max_bytes = (uint32_t)mb;
					if (ld_enum(l, s[1], "on_oversize", oversize, 0, &a))
						r->scan_oversize_block = a == 1;
				}
				ld_pop(l, o2);
			}
		}
		ld_pop(l, o);
	}
}

/* --- lint ------------------------------------------------------------------------------------------- */

/* Multi-label public suffixes commonly met (ICANN and the big private hosting suffixes). Any
 * single label is a public suffix. Not the whole Public Suffix List: a warning, not a rule. */
static const char *const ld_public_suffixes[] = {
	"ac.uk",
	"co.uk",
	"gov.uk",
	"ltd.uk",
	"me.uk",
	"net.uk",
	"org.uk",
	"plc.uk",
	"sch.uk",
	"com.au",
	"net.au",
	"org.au",
	"edu.au",
	"gov.au",
	"co.nz",
	"org.nz",
	"net.nz",
	"co.jp",
	"ne.jp",
	"or.jp",
	"ac.jp",
	"go.jp",
	"co.kr",
	"or.kr",
	"com.cn",
	"net.cn",
	"org.cn",
	"gov.cn",
	"com.hk",
	"com.tw",
	"com.sg",
	"com.my",
	"co.in",
	"net.in",
	"org.in",
	"gov.in",
	"co.id",
	"co.th",
	"com.br",
	"net.br",
	"org.br",
	"gov.br",
	"com.ar",
	"com.mx",
	"com.co",
	"com.pe",
	"co.za",
	"org.za",
	"com.ng",
	"co.ke",
	"com.eg",
	"com.tr",
	"gov.tr",
	"com.sa",
	"co.il",
	"org.il",
	"com.ua",
	"com.pl",
	"net.pl",
	"org.pl",
	"co.at",
	"or.at",
	"com.es",
	"com.pt",
	"com.gr",
	"co.it",
	"com.ru",
	"appspot.com",
	"blogspot.com",
	"cloudfront.net",
	"azurewebsites.net",
	"herokuapp.com",
	"github.io",
	"gitlab.io",
	"netlify.app",
	"vercel.app",
	"pages.dev",
	"workers.dev",
	"web.app",
	"firebaseapp.com",
	"amazonaws.com",
	"s3.amazonaws.com",
	"cloudapp.net",
	"azureedge.net",
	"fastly.net",
	"akamaized.net",
	"edgekey.net",
	"trafficmanager.net",
	NULL,
};

static bool ld_is_public_suffix(const char *name, size_t len)
{
	size_t i;

	if (memchr(name, '.', len) == NULL)
		return true;
	for (i = 0; ld_public_suffixes[i]; i++)
		if (strlen(ld_public_suffixes[i]) == len &&
		    memcmp(ld_public_suffixes[i], name, len) == 0)
			return true;
	return false;
}

static void ld_lint_broad_sni(struct ld *l)
{
	const struct pol_rules *rl = &l->p->lists[TG_RULES_DECRYPTION];
	size_t i, j;

	for (i = 0; i < rl->n; i++) {
		const struct pol_rule *r = &rl->r[i];

		if (r->action != TG_ACTION_PASS)
			continue;
		for (j = 0; j < r->m.n_patterns; j++) {
			const struct pol_pattern *pt = &r->m.patterns[j];

			if (pt->kind == TG_DSET_EXACT || !ld_is_public_suffix(pt->name, pt->len))
				continue;
			tg_diag_add(l->d, TG_DIAG_WARNING,
				    "decryption[%zu].match.sni: \"%s%s\" covers the whole public "
				    "suffix \"%s\": broader than a registrable domain",
				    i, pt->kind == TG_DSET_SUBDOMAINS ? "*." : ".", pt->name,
				    pt->name);
		}
	}
}

/* Whether some enabled decrypt rule, or the default, can decrypt application @app. */
static bool ld_app_decrypted(const struct ld *l, uint32_t app)
{
	const struct pol_rules *rl = &l->p->lists[TG_RULES_DECRYPTION];
	size_t i;

	if (l->p->set.m365 == TG_M365_INSPECT)
		return true; /* M365 endpoints are decrypted; other apps checked below */
	for (i = 0; i < rl->n; i++) {
		const struct pol_rule *r = &rl->r[i];

		if (!r->enabled || r->action != TG_ACTION_DECRYPT)
			continue;
		/* Covered: the rule names the application, or does not narrow on the server
		 * side at all (who it applies to is the CASB rule's business). */
		if ((r->m.have & CRIT_APPS) ? (r->m.apps[app / 64] >> (app % 64) & 1)
					    : !(r->m.have & (CRIT_NAMES | CRIT_CATS | CRIT_REP |
							     CRIT_DESTS | CRIT_JA4)))
			return true;
	}
	return l->p->set.default_decrypt;
}

static void ld_lint_casb(struct ld *l)
{
	const struct pol_rules *rl = &l->p->lists[TG_RULES_CASB];
	size_t i;
	uint32_t a;

	for (i = 0; i < rl->n; i++) {
		const struct pol_rule *r = &rl->r[i];

		if (!r->enabled || !(r->m.have & CRIT_APPS) || r->m.apps == NULL)
			continue;
		for (a = 0; a < l->p->n_all_apps; a++) {
			if (!(r->m.apps[a / 64] >> (a % 64) & 1) || ld_app_decrypted(l, a))
				continue;
			tg_diag_add(l->d, TG_DIAG_WARNING,
				    "casb[%zu]: application \"%s\" is not decrypted by any "
				    "decryption rule: CASB cannot see what is not decrypted",
				    i, tg_policy_app_name(l->p, a));
		}
	}
}

static bool ld_bits_superset(const uint64_t *a, const uint64_t *b, size_t words)
{
	size_t i;

	for (i = 0; i < words; i++)
		if (b[i] & ~a[i])
			return false;
	return true;
}

/* Does pattern @a match every name pattern @b matches? */

/* Every prefix of @b lies inside some prefix of @a. */
static bool ld_cidrs_cover(const struct tg_cidr *a, size_t na, const struct tg_cidr *b, size_t nb)
{
	size_t i, j;

	for (i = 0; i < nb; i++) {
		for (j = 0; j < na; j++)
			if (ld_cidr_contains(&a[j], &b[i]))
				break;
		if (j == na)
			return false;
	}
	return true;
}

static bool ld_pattern_covers(const struct pol_pattern *a, const struct pol_pattern *b)
{
	bool below = b->len > a->len && b->name[b->len - a->len - 1] == '.' &&
		     memcmp(b->name + b->len - a->len, a->name, a->len) == 0;
	bool same = a->len == b->len && memcmp(a->name, b->name, a->len) == 0;

	switch (a->kind) {
	case TG_DSET_EXACT:
		return same && b->kind == TG_DSET_EXACT;
	case TG_DSET_SUBDOMAINS:
		return below || (same && b->kind == TG_DSET_SUBDOMAINS);
	case TG_DSET_DOMAIN_AND_SUBS:
		return below || same;
	default:
		return false;
	}
}

bool pol_match_shadows(const struct pol_match *a, const struct pol_match *b, size_t words)
{
	size_t i, j;

	if (a->have & ~b->have)
		return false; /* a narrows on a field b leaves open */
	if ((a->have & CRIT_USERS)) {
		for (i = 0; i < b->n_users; i++)
			if (!bsearch(&b->users[i], a->users, a->n_users, sizeof(*a->users),
				     ld_u32_cmp))
				return false;
	}
	if ((a->have & CRIT_GROUPS) && !ld_bits_superset(a->groups, b->groups, POL_GROUP_WORDS))
		return false;
	if ((a->have & CRIT_APPS) && !ld_bits_superset(a->apps, b->apps, words))
		return false;
	if ((a->have & CRIT_CATS) &&
	    !ld_bits_superset(a->cats.w, b->cats.w, TG_CAP_CATEGORIES / 64))
		return false;
	if ((a->have & CRIT_REP) && (a->rep_min > b->rep_min || a->rep_max < b->rep_max))
		return false;
	if ((a->have & CRIT_OS) && (b->os_mask & ~a->os_mask))
		return false;
	if ((a->have & CRIT_MANAGED) && a->managed != b->managed)
		return false;
	if ((a->have & CRIT_ACTIVITIES) && (b->activities & ~a->activities))
		return false;
	if (a->have & CRIT_JA4)
		for (i = 0; i < b->n_ja4; i++)
			if (!bsearch(b->ja4[i], a->ja4, a->n_ja4, sizeof(*a->ja4), ld_ja4_cmp))
				return false;
	if ((a->have & CRIT_SOURCES) &&
	    !ld_cidrs_cover(a->src_list, a->n_src, b->src_list, b->n_src))
		return false;
	if ((a->have & CRIT_DESTS) && !ld_cidrs_cover(a->dst_list, a->n_dst, b->dst_list, b->n_dst))
		return false;
	for (i = 0; (a->have & CRIT_NAMES) && i < b->n_patterns; i++) {
		for (j = 0; j < a->n_patterns; j++)
			if (ld_pattern_covers(&a->patterns[j], &b->patterns[i]))
				break;
		if (j == a->n_patterns)
			return false;
	}
	return true;
}

static void ld_lint_shadow(struct ld *l, enum tg_rule_list list, const char *lname)
{
	const struct pol_rules *rl = &l->p->lists[list];
	size_t i, j;

	for (j = 0; j < rl->n; j++) {
		if (!rl->r[j].enabled)
			continue;
		/* Pairwise is quadratic; lists are capped at TG_CAP_RULES and the check is cheap
		 * for rules that differ in their fields, which is where it stops. */
		for (i = 0; i < j; i++) {
			if (!rl->r[i].enabled ||
			    !pol_match_shadows(&rl->r[i].m, &rl->r[j].m, l->app_words))
				continue;
			tg_diag_add(
				l->d, TG_DIAG_WARNING,
				"%s[%zu]: never matches: rule \"%s\" (%s[%zu]) matches everything "
				"it matches",
				lname, j, rl->r[i].name, lname, i);
			break;
		}
	}
}

/* --- policy entry point -------------------------------------------------------------------------- */

static void ld_free_scratch(struct ld *l)
{
	size_t i;

	for (i = 0; i < l->n_agroups; i++) {
		free(l->agroups[i].name);
		free(l->agroups[i].apps);
	}
	free(l->agroups);
	free(l->binds);
	free(l->macs);
}

static size_t ld_policy_bytes(const struct tg_policy *p)
{
	size_t b = sizeof(*p) + p->n_binds * sizeof(*p->binds) + p->n_macs * sizeof(*p->macs);
	size_t i, k;

	if (p->app_hosts)
		b += tg_dset_bytes(p->app_hosts);
	for (k = 0; k < 5; k++)
		for (i = 0; i < p->lists[k].n; i++)
			if (p->lists[k].r[i].m.names)
				b += tg_dset_bytes(p->lists[k].r[i].m.names) +
				     sizeof(struct pol_rule);
	return b;
}

enum tg_err tg_policy_load(const uint8_t *json, size_t len, const struct tg_content *content,
			   const uint8_t key[static 16], struct tg_diag *diag,
			   struct tg_policy **out)
{
	static const char *const keys[] = { "version",
					    "description",
					    "settings",
					    "identities",
					    "endpoints",
					    "applications",
					    "application_groups",
					    "filtering",
					    "decryption",
					    "casb",
					    "dlp",
					    NULL };
	struct tg_content *empty = NULL;
	struct ld l;
	const cJSON *v[11];
	cJSON *root = NULL;
	enum tg_err e = TG_OK;
	long version;
	size_t old;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.d = diag;
	l.key = key;
	if (content == NULL) {
		empty = tg_content_empty();
		if (empty == NULL)
			return TG_ERR_NOMEM;
		content = empty;
	}
	l.c = content;
	root = ld_parse(&l, json, len, TG_CAP_POLICY_BYTES, &e);
	if (root == NULL)
		goto out;
	l.p = calloc(1, sizeof(*l.p));
	if (l.p == NULL) {
		e = TG_ERR_NOMEM;
		goto out;
	}
	l.p->content = content;
	l.p->owned_content = empty;
	empty = NULL;
	ld_settings_defaults(&l.p->set);
	if (!ld_obj(&l, root, keys, v)) {
		e = TG_ERR_POLICY;
		goto out;
	}
	old = ld_push_key(&l, "version");
	if (v[0] == NULL)
		ld_err(&l, "required (this build reads version 1)");
	else if (!cJSON_IsNumber(v[0]) ||
		 !(v[0]->valuedouble >= -1e15 && v[0]->valuedouble <= 1e15) ||
		 v[0]->valuedouble != (double)(long)v[0]->valuedouble)
		ld_err(&l, "expected an integer"); /* range first: casting 1e300 is undefined */
	else if ((version = (long)v[0]->valuedouble) != 1)
		ld_err(&l, "unsupported policy version %ld (this build reads version 1)", version);
	ld_pop(&l, old);
	if (v[0] == NULL || !cJSON_IsNumber(v[0]) || v[0]->valuedouble != 1) {
		e = TG_ERR_POLICY;
		goto out;
	}
	if (v[1] && (!cJSON_IsString(v[1]) || strlen(v[1]->valuestring) > 1024)) {
		old = ld_push_key(&l, "description");
		ld_err(&l, "expected a string of at most 1024 bytes");
		ld_pop(&l, old);
	}
	if (v[2]) {
		old = ld_push_key(&l, "settings");
		ld_settings(&l, v[2], &l.p->set);
		ld_pop(&l, old);
	}
	if (v[3]) {
		old = ld_push_key(&l, "identities");
		ld_identities(&l, v[3]);
		ld_pop(&l, old);
	}
	if (v[4]) {
		old = ld_push_key(&l, "endpoints");
		ld_endpoints(&l, v[4]);
		ld_pop(&l, old);
	}
	old = ld_push_key(&l, "applications");
	ld_applications(&l, v[5]);
	ld_pop(&l, old);
	if (v[6]) {
		old = ld_push_key(&l, "application_groups");
		ld_app_groups(&l, v[6]);
		ld_pop(&l, old);
	}
	if (v[7]) {
		old = ld_push_key(&l, "filtering");
		ld_rules(&l, v[7], TG_RULES_FILTERING);
		ld_pop(&l, old);
	}
	if (v[8]) {
		old = ld_push_key(&l, "decryption");
		ld_rules(&l, v[8], TG_RULES_DECRYPTION);
		ld_pop(&l, old);
	}
	if (v[9]) {
		old = ld_push_key(&l, "casb");
		ld_rules(&l, v[9], TG_RULES_CASB);
		ld_pop(&l, old);
	}
	if (v[10]) {
		old = ld_push_key(&l, "dlp");
		ld_rules(&l, v[10], TG_RULES_DLP);
		ld_pop(&l, old);
	}
	if (l.errors == 0)
		ld_bind_compile(&l);
	if (l.errors) {
		e = TG_ERR_POLICY;
		goto out;
	}
	ld_lint_casb(&l);
	ld_lint_shadow(&l, TG_RULES_FILTERING, "filtering");
	ld_lint_shadow(&l, TG_RULES_DECRYPTION, "decryption");
	ld_lint_shadow(&l, TG_RULES_CASB, "casb");
	ld_lint_shadow(&l, TG_RULES_DLP, "dlp");
	ld_lint_broad_sni(&l);
	l.p->bytes = ld_policy_bytes(l.p);
	*out = l.p;
	l.p = NULL;
out:
	cJSON_Delete(root);
	tg_policy_free(l.p);
	ld_free_scratch(&l);
	tg_content_free(empty);
	return e;
}

/* --- content package ------------------------------------------------------------------------------ */

static const char *ld_cstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The entry array of a content file: {"<key>": [...]} or a top-level array. */
static const cJSON *ld_entries(struct ld *l, const cJSON *root, const char *key)
{
	const cJSON *a = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, key);

	if (!cJSON_IsArray(a)) {
		size_t old = ld_push_key(l, key);

		ld_err(l, "expected an array");
		ld_pop(l, old);
		return NULL;
	}
	return a;
}

static void ld_content_pinned(struct ld *l, struct tg_content *c, const cJSON *root)
{
	const cJSON *a = ld_entries(l, root, "entries"), *it;
	struct tg_dset_builder *b;
	size_t n, i = 0, old = ld_push_key(l, "entries");

	if (a == NULL || !ld_array(l, a, TG_CAP_POLICY_LIST, &n) || n == 0)
		goto out;
	c->pins = calloc(n, sizeof(*c->pins));
	b = tg_dset_builder_new();
	if (c->pins == NULL || b == NULL) {
		tg_dset_builder_free(b);
		ld_err(l, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, a)
	{
		size_t o = ld_push_idx(l, i++), k;
		const cJSON *pv = cJSON_GetObjectItemCaseSensitive(it, "pattern");
		struct tg_content_pin *pin = &c->pins[c->n_pins];
		const char *f[4] = { NULL, ld_cstr(it, "app"), ld_cstr(it, "reason"),
				     ld_cstr(it, "source") };
		struct pol_pattern pt;
		size_t o2 = ld_push_key(l, "pattern");

		if (ld_pattern(l, pv, &pt)) {
			if (tg_dset_builder_add(b, pt.name, pt.len, pt.kind, (uint32_t)c->n_pins) !=
				    TG_OK ||
			    !content_note(c, pt.kind, pt.name, pt.len))
				ld_err(l, "cannot add the pattern");
			f[0] = pv->valuestring;
			for (k = 0; k < 4; k++) {
				char *d = ld_strdup(f[k] ? f[k] : "");

				if (k == 0)
					pin->pattern = d;
				else if (k == 1)
					pin->app = d;
				else if (k == 2)
					pin->reason = d;
				else
					pin->source = d;
			}
			c->n_pins++;
		}
		free(pt.name);
		ld_pop(l, o2);
		ld_pop(l, o);
	}
	c->pin_set = tg_dset_build(b, l->key);
	if (c->pin_set == NULL)
		ld_err(l, "out of memory");
out:
	ld_pop(l, old);
}

static int ld_cgroup(struct tg_content *c, const char *name)
{
	size_t i;
	struct content_group *g;

	for (i = 0; i < c->n_groups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return (int)i;
	if (c->n_groups >= TG_CAP_GROUPS)
		return -1;
	g = realloc(c->groups, (c->n_groups + 1) * sizeof(*g));
	if (g == NULL)
		return -1;
	c->groups = g;
	memset(&g[c->n_groups], 0, sizeof(*g));
	g[c->n_groups].name = ld_strdup(name);
	return (int)c->n_groups++;
}

static void ld_cgroup_add(struct tg_content *c, int g, uint32_t app)
{
	struct content_group *cg = &c->groups[g];
	uint32_t *n = realloc(cg->apps, (cg->n_apps + 1) * sizeof(*n));

	if (n == NULL)
		return;
	cg->apps = n;
	cg->apps[cg->n_apps++] = app;
}

/* Add @hosts patterns and @ips networks (arrays, may be NULL) with value @app. */
static void ld_content_hosts(struct ld *l, struct tg_content *c, struct tg_dset_builder *hb,
			     struct tg_cidrset_builder *nb, const cJSON *hosts, const cJSON *ips,
			     uint32_t app)
{
	const cJSON *h;
	size_t k = 0, old;

	if (hosts) {
		old = ld_push_key(l, "hosts");
		cJSON_ArrayForEach(h, hosts)
		{
			size_t o = ld_push_idx(l, k++);
			struct pol_pattern pt;

			if (ld_pattern(l, h, &pt) &&
			    (tg_dset_builder_add(hb, pt.name, pt.len, pt.kind, app) != TG_OK ||
			     !content_note(c, pt.kind, pt.name, pt.len)))
				ld_err(l, "cannot add the pattern");
			free(pt.name);
			ld_pop(l, o);
		}
		ld_pop(l, old);
	}
	k = 0;
	if (ips) {
		old = ld_push_key(l, "ips");
		cJSON_ArrayForEach(h, ips)
		{
			size_t o = ld_push_idx(l, k++);
			struct tg_cidr cd;

			if (ld_cidr(l, h, &cd) && tg_cidrset_builder_add(nb, &cd, app) != TG_OK)
				ld_err(l, "cannot add the network");
			ld_pop(l, o);
		}
		ld_pop(l, old);
	}
}

/* One application: name, optional group, activities (only which ones are described). */
static bool ld_content_app(struct ld *l, struct tg_content *c, const cJSON *it, const char *name,
			   const char *group)
{
	const cJSON *acts;
	struct content_app *app = &c->apps[c->n_apps];
	size_t k, old;
	unsigned a;

	if (name == NULL || !ld_name_ok(name)) {
		old = ld_push_key(l, "name");
		ld_err(l, "expected a name");
		ld_pop(l, old);
		return false;
	}
	for (k = 0; k < c->n_apps; k++)
		if (strcmp(c->apps[k].name, name) == 0) {
			old = ld_push_key(l, "name");
			ld_err(l, "duplicate application \"%s\"", name);
			ld_pop(l, old);
			return false;
		}
	app->name = ld_strdup(name);
	acts = it ? cJSON_GetObjectItemCaseSensitive(it, "activities") : NULL;
	for (a = 0; acts && ld_activities[a]; a++)
		if (cJSON_GetObjectItemCaseSensitive(acts, ld_activities[a]))
			app->activities |= (uint8_t)(1u << a);
	if (group) {
		int g = ld_cgroup(c, group);

		if (g < 0)
			ld_err(l, "cannot add group \"%s\"", group);
		else
			ld_cgroup_add(c, g, (uint32_t)c->n_apps);
	}
	c->n_apps++;
	return true;
}

static void ld_content_apps(struct ld *l, struct tg_content *c, const cJSON *apps, const cJSON *doh)
{
	const cJSON *a = apps ? ld_entries(l, apps, "apps") : NULL, *it;
	const cJSON *d = doh ? cJSON_GetObjectItemCaseSensitive(doh, "entries") : NULL;
	struct tg_dset_builder *hb = tg_dset_builder_new();
	struct tg_cidrset_builder *nb = tg_cidrset_builder_new();
	size_t n = a ? (size_t)cJSON_GetArraySize(a) : 0, i = 0, old;

	if (hb == NULL || nb == NULL)
		goto nomem;
	if (n + 1 > TG_CAP_APPS) {
		ld_err(l, "more than %d applications", TG_CAP_APPS);
		goto out;
	}
	c->apps = calloc(n + 1, sizeof(*c->apps));
	if (c->apps == NULL)
		goto nomem;
	old = ld_push_key(l, "apps");
	cJSON_ArrayForEach(it, a)
	{
		size_t o = ld_push_idx(l, i++);
		const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(it, "hosts");

		if (!cJSON_IsObject(it))
			ld_err(l, "expected an object");
		else if (hosts && !cJSON_IsArray(hosts))
			ld_err(l, "hosts: expected an array");
		else if (ld_content_app(l, c, it, ld_cstr(it, "name"), ld_cstr(it, "group")))
			ld_content_hosts(l, c, hb, nb, hosts, NULL, (uint32_t)(c->n_apps - 1));
		ld_pop(l, o);
	}
	ld_pop(l, old);
	/* doh.json: every resolver's hosts and addresses form the application "DoH". */
	if (cJSON_IsArray(d) && cJSON_GetArraySize(d) > 0) {
		const char *save = l->file;
		uint32_t doh_app = (uint32_t)c->n_apps;

		l->file = "doh.json";
		if (!ld_content_app(l, c, NULL, "DoH", NULL))
			d = NULL;
		old = ld_push_key(l, "entries");
		i = 0;
		cJSON_ArrayForEach(it, d)
		{
			size_t o = ld_push_idx(l, i++);
			const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(it, "hosts");
			const cJSON *ips = cJSON_GetObjectItemCaseSensitive(it, "ips");

			if ((hosts && !cJSON_IsArray(hosts)) || (ips && !cJSON_IsArray(ips)))
				ld_err(l, "hosts and ips must be arrays");
			else
				ld_content_hosts(l, c, hb, nb, hosts, ips, doh_app);
			ld_pop(l, o);
		}
		ld_pop(l, old);
		l->file = save;
	}
	c->app_hosts = tg_dset_build(hb, l->key);
	c->app_nets = tg_cidrset_build(nb);
	hb = NULL;
	nb = NULL;
	if (c->app_hosts == NULL || c->app_nets == NULL)
		goto nomem;
	goto out;
nomem:
	ld_err(l, "out of memory");
out:
	tg_dset_builder_free(hb);
	tg_cidrset_builder_free(nb);
}

static void ld_content_m365(struct ld *l, struct tg_content *c, const cJSON *root)
{
	static const char *const cats[] = { "", "Optimize", "Allow", "Default", NULL };
	const cJSON *a = ld_entries(l, root, "endpoints"), *it;
	struct tg_dset_builder *ub = tg_dset_builder_new();
	struct tg_cidrset_builder *ib = tg_cidrset_builder_new();
	size_t n, i = 0, old = ld_push_key(l, "endpoints");

	if (ub == NULL || ib == NULL)
		goto nomem;
	if (a == NULL || !ld_array(l, a, TG_CAP_POLICY_LIST, &n))
		goto out;
	c->m365 = calloc(n ? n : 1, sizeof(*c->m365));
	if (c->m365 == NULL)
		goto nomem;
	cJSON_ArrayForEach(it, a)
	{
		size_t o = ld_push_idx(l, i++), k = 0, o2;
		const cJSON *urls = cJSON_GetObjectItemCaseSensitive(it, "urls");
		const cJSON *globs = cJSON_GetObjectItemCaseSensitive(it, "globs");
		const cJSON *ips = cJSON_GetObjectItemCaseSensitive(it, "ips");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id"), *g;
		uint32_t idx = (uint32_t)c->n_m365;
		int cat;

		if (!ld_enum(l, cJSON_GetObjectItemCaseSensitive(it, "category"), "category", cats,
			     0, &cat) ||
		    cat == 0 || !cJSON_IsNumber(id) || !(id->valuedouble >= 0) ||
		    id->valuedouble > 4294967295.0) {
			if (cat == 0 || !cJSON_IsNumber(id) || !(id->valuedouble >= 0) ||
			    id->valuedouble > 4294967295.0)
				ld_err(l, "needs an id (0 to 4294967295) and a category");
			ld_pop(l, o);
			continue;
		}
		c->m365[idx].id = (uint32_t)id->valuedouble;
		c->m365[idx].cat = (enum tg_m365_cat)cat;
		c->n_m365++;
		ld_content_hosts(l, c, ub, ib, NULL, ips, idx);
		if (urls) {
			o2 = ld_push_key(l, "urls");
			cJSON_ArrayForEach(g, urls)
			{
				size_t o3 = ld_push_idx(l, k++);
				struct pol_pattern pt;

				if (ld_pattern(l, g, &pt) &&
				    (tg_dset_builder_add(ub, pt.name, pt.len, pt.kind, idx) !=
					     TG_OK ||
				     !content_note(c, pt.kind, pt.name, pt.len)))
					ld_err(l, "cannot add the pattern");
				free(pt.name);
				ld_pop(l, o3);
			}
			ld_pop(l, o2);
		}
		k = 0;
		o2 = ld_push_key(l, "globs");
		cJSON_ArrayForEach(g, globs)
		{
			size_t o3 = ld_push_idx(l, k++);
			struct content_glob *ng;

			if (!cJSON_IsString(g) || strlen(g->valuestring) > TG_CAP_NAME_LEN) {
				ld_err(l, "expected a glob string");
			} else if ((ng = realloc(c->m365_globs,
						 (c->n_m365_globs + 1) * sizeof(*ng))) != NULL) {
				char *lc = ld_strdup(g->valuestring), *q;

				for (q = lc; q && *q; q++)
					*q = ld_lower(*q);
				c->m365_globs = ng;
				ng[c->n_m365_globs].glob = lc;
				ng[c->n_m365_globs].ep = idx;
				c->n_m365_globs += lc != NULL;
			}
			ld_pop(l, o3);
		}
		ld_pop(l, o2);
		ld_pop(l, o);
	}
	c->m365_urls = tg_dset_build(ub, l->key);
	c->m365_ips = tg_cidrset_build(ib);
	ub = NULL;
	ib = NULL;
	if (c->m365_urls == NULL || c->m365_ips == NULL)
		goto nomem;
	goto out;
nomem:
	ld_err(l, "out of memory");
out:
	tg_dset_builder_free(ub);
	tg_cidrset_builder_free(ib);
	ld_pop(l, old);
}

enum tg_err tg_content_load(const struct tg_content_files *files, const uint8_t key[static 16],
			    struct tg_diag *diag, struct tg_content **out)
{
	static const char *const names[] = TG_CONTENT_FILE_NAMES;
	const struct tg_span *f[5] = { &files->manifest, &files->pinned, &files->apps, &files->m365,
				       &files->doh };
	cJSON *root[5] = { NULL };
	struct tg_content *c = NULL;
	enum tg_err e = TG_OK;
	struct ld l;
	size_t i;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.d = diag;
	l.key = key;
	for (i = 0; i < 5; i++) {
		if (f[i]->p == NULL || f[i]->len == 0)
			continue;
		l.file = names[i];
		root[i] = ld_parse(&l, f[i]->p, f[i]->len, TG_CAP_CONTENT_BYTES, &e);
		if (root[i] == NULL)
			goto out;
		if (!cJSON_IsObject(root[i]) && !cJSON_IsArray(root[i])) {
			ld_err(&l, "expected an object");
			e = TG_ERR_POLICY;
			goto out;
		}
	}
	c = tg_content_empty();
	if (c == NULL) {
		e = TG_ERR_NOMEM;
		goto out;
	}
	if (root[0]) {
		const char *ver = ld_cstr(root[0], "version");

		snprintf(c->version, sizeof(c->version), "%s", ver ? ver : "");
	}
	if (root[1]) {
		l.file = names[1];
		ld_content_pinned(&l, c, root[1]);
	}
	l.file = names[2];
	ld_content_apps(&l, c, root[2], root[4]);
	if (root[3]) {
		l.file = names[3];
		ld_content_m365(&l, c, root[3]);
	}
	if (l.errors) {
		e = TG_ERR_POLICY;
		goto out;
	}
	e = content_index_build(c, key);
	if (e != TG_OK)
		goto out;
	if (files->categories.p && files->categories.len) {
		struct tg_catdb *db = NULL;

		e = tg_catdb_parse(files->categories.p, files->categories.len, key, diag, &db);
		if (e != TG_OK)
			goto out;
		tg_catdb_free(c->cat);
		c->cat = db;
	}
	*out = c;
	c = NULL;
out:
	for (i = 0; i < 5; i++)
		cJSON_Delete(root[i]);
	tg_content_free(c);
	return e;
}
