/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jsonw.h - a small streaming JSON writer for one-object-per-line output (inspect, decision
 * logs, explain). Strings are escaped byte by byte: bytes outside printable ASCII become
 * \u00XX, so output is always valid ASCII JSON whatever the wire carried.
 */
#ifndef TLSGATE_JSONW_H
#define TLSGATE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 8

struct jw {
	FILE *f;
	int depth;
	bool first[JW_MAX_DEPTH];
	bool after_key;
};

void jw_init(struct jw *w, FILE *f);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_bytes(struct jw *w, const uint8_t *p, size_t len);
void jw_uint(struct jw *w, uint64_t v);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* A value already in JSON form (a number formatted by the caller). */
void jw_raw(struct jw *w, const char *json);
/* Finish a top-level object with a newline. */
void jw_line_end(struct jw *w);
/* Go on with an object another writer began: its text is out already, with one member or more. */
void jw_obj_continue(struct jw *w);
/* Members of an object another writer opens and closes: none is out yet. */
void jw_obj_members(struct jw *w);

/* Convenience: "key": value pairs. */
void jw_kv_str(struct jw *w, const char *key, const char *s);
void jw_kv_bytes(struct jw *w, const char *key, const uint8_t *p, size_t len);
void jw_kv_uint(struct jw *w, const char *key, uint64_t v);
void jw_kv_bool(struct jw *w, const char *key, bool v);

#endif
