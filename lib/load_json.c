/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * load_json.c - the loaders' JSON toolkit (load_impl.h): the path of the value being read,
 * errors at that path, "did you mean" suggestions, and typed readers over cJSON.
 *
 * Input: UTF-8 JSON (RFC 8259) in a caller's buffer, at most TG_CAP_POLICY_BYTES (policy) or
 * TG_CAP_CONTENT_BYTES (content files). Before cJSON sees it, a linear pre-scan rejects nesting
 * deeper than TG_CAP_JSON_DEPTH and "\u0000" escapes (cJSON would cut a string there), so
 * neither cJSON's recursion nor a truncated name can surprise the validator.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_impl.h"

/* --- paths and messages ----------------------------------------------------------------------- */

size_t ld_push_key(struct ld *l, const char *k)
{
	size_t old = l->plen;
	int n = snprintf(l->path + l->plen, sizeof(l->path) - l->plen, "%s%s", l->plen ? "." : "",
			 k);

	if (n > 0)
		l->plen = l->plen + (size_t)n < sizeof(l->path) ? l->plen + (size_t)n
								: sizeof(l->path) - 1;
	return old;
}

size_t ld_push_idx(struct ld *l, size_t i)
{
	size_t old = l->plen;
	int n = snprintf(l->path + l->plen, sizeof(l->path) - l->plen, "[%zu]", i);

	if (n > 0)
		l->plen = l->plen + (size_t)n < sizeof(l->path) ? l->plen + (size_t)n
								: sizeof(l->path) - 1;
	return old;
}

void ld_pop(struct ld *l, size_t old)
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

void ld_err(struct ld *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ld_vmsg(l, TG_DIAG_ERROR, fmt, ap);
	va_end(ap);
}

/* --- suggestions ------------------------------------------------------------------------------ */

char ld_lower(char ch)
{
	/* Not a conditional expression: it would promote both arms to int. */
	if (ch >= 'A' && ch <= 'Z')
		return (char)(ch - 'A' + 'a');
	return ch;
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

void ld_sugg_try(struct ld_sugg *s, const char *cand)
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

/* Whether the best candidate is close enough to suggest: one edit in a short name, a third. */
static bool ld_sugg_close(const struct ld_sugg *s)
{
	size_t len = strlen(s->want);

	return s->best && s->dist <= (len <= 4 ? 1 : len / 3);
}

void ld_unknown(struct ld *l, const char *what, const struct ld_sugg *s)
{
	if (ld_sugg_close(s))
		ld_err(l, "unknown %s \"%s\" (did you mean \"%s\"?)", what, s->want, s->best);
	else
		ld_err(l, "unknown %s \"%s\"", what, s->want);
}

/* --- JSON access ------------------------------------------------------------------------------ */

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

cJSON *ld_parse(struct ld *l, const uint8_t *s, size_t len, size_t cap, enum tg_err *e)
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

bool ld_obj(struct ld *l, const cJSON *o, const char *const *keys, const cJSON **vals)
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
			if (ld_sugg_close(&s))
				ld_err(l, "unknown field (did you mean \"%s\"?)", s.best);
			else
				ld_err(l, "unknown field");
		}
		ld_pop(l, old);
	}
	return true;
}

bool ld_bool(struct ld *l, const cJSON *v, const char *key, bool def, bool *out)
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

bool ld_int(struct ld *l, const cJSON *v, const char *key, long lo, long hi, long def, long *out)
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

void ld_u32(struct ld *l, const cJSON *v, const char *key, long lo, long hi, uint32_t *out)
{
	long x;

	if (ld_int(l, v, key, lo, hi, (long)*out, &x))
		*out = (uint32_t)x;
}

bool ld_enum(struct ld *l, const cJSON *v, const char *key, const char *const *names, int def,
	     int *out)
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

bool ld_name_ok(const char *s)
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

const char *ld_name_at(struct ld *l, const cJSON *v)
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

char *ld_strdup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (d)
		memcpy(d, s, n + 1);
	return d;
}

bool ld_grow(struct ld *l, void **arr, size_t *cap, size_t n, size_t elem)
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

bool ld_array(struct ld *l, const cJSON *v, size_t max, size_t *n)
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

/* --- domain patterns, addresses, MACs --------------------------------------------------------- */

bool ld_pattern(struct ld *l, const cJSON *v, struct pol_pattern *out)
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

bool ld_cidr(struct ld *l, const cJSON *v, struct tg_cidr *out)
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

bool ld_mac(struct ld *l, const cJSON *v, uint8_t mac[static 6])
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
