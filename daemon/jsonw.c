/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jsonw.c - streaming JSON writer; see jsonw.h. */
#include <inttypes.h>
#include <string.h>

#include "jsonw.h"

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

/*
 * The "no value yet" flag of the innermost open level (depth > 0). Levels past JW_MAX_DEPTH share
 * the last flag, which stays exact: a level deeper than the cap is only reached through a value
 * of its parent, and closing it marks the parent as having a value (jw_close).
 */
static bool *jw_first(struct jw *w)
{
	return &w->first[(w->depth < JW_MAX_DEPTH ? w->depth : JW_MAX_DEPTH) - 1];
}

/* Emit the separator a new value needs at the current position. */
static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (!*jw_first(w))
		fputc(',', w->f);
	*jw_first(w) = false;
}

static void jw_open(struct jw *w, int c)
{
	jw_sep(w);
	fputc(c, w->f);
	w->depth++;
	*jw_first(w) = true;
}

static void jw_close(struct jw *w, int c)
{
	fputc(c, w->f);
	if (w->depth > 0)
		w->depth--;
	if (w->depth > 0)
		*jw_first(w) = false;
}

void jw_obj_begin(struct jw *w)
{
	jw_open(w, '{');
}

void jw_obj_end(struct jw *w)
{
	jw_close(w, '}');
}

void jw_arr_begin(struct jw *w)
{
	jw_open(w, '[');
}

void jw_arr_end(struct jw *w)
{
	jw_close(w, ']');
}

static void jw_raw_str(FILE *f, const uint8_t *p, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c < 0x20 || c >= 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	jw_raw_str(w->f, (const uint8_t *)key, strlen(key));
	fputc(':', w->f);
	w->after_key = true;
}

void jw_bytes(struct jw *w, const uint8_t *p, size_t len)
{
	jw_sep(w);
	jw_raw_str(w->f, p, len);
}

void jw_str(struct jw *w, const char *s)
{
	jw_bytes(w, (const uint8_t *)s, strlen(s));
}

void jw_uint(struct jw *w, uint64_t v)
{
	jw_sep(w);
	fprintf(w->f, "%" PRIu64, v);
}

void jw_int(struct jw *w, int64_t v)
{
	jw_sep(w);
	fprintf(w->f, "%" PRId64, v);
}

void jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w)
{
	jw_sep(w);
	fputs("null", w->f);
}

void jw_raw(struct jw *w, const char *json)
{
	jw_sep(w);
	fputs(json, w->f);
}

void jw_line_end(struct jw *w)
{
	fputc('\n', w->f);
	w->depth = 0;
	w->after_key = false;
}

void jw_kv_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

void jw_kv_bytes(struct jw *w, const char *key, const uint8_t *p, size_t len)
{
	jw_key(w, key);
	jw_bytes(w, p, len);
}

void jw_kv_uint(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_uint(w, v);
}

void jw_kv_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

void jw_obj_continue(struct jw *w)
{
	w->depth = 1;
	w->first[0] = false;
	w->after_key = false;
}

void jw_obj_members(struct jw *w)
{
	w->depth = 1;
	w->first[0] = true;
	w->after_key = false;
}
