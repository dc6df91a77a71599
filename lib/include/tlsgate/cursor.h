/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cursor.h - the one way wire bytes are read (STYLE.md rule 2).
 *
 * A cursor is a bounds-checked big-endian reader over a byte range with a sticky error: the
 * first failure is kept, and every later read returns zero / an empty span without touching
 * memory. Callers read a whole structure, then check tg_cur_ok() once.
 *
 * A length-prefixed vector opens a sub-cursor (tg_cur_vec8/16/24, tg_cur_sub) which advances
 * the parent past the vector at once. tg_cur_close() then requires the sub-cursor to be consumed
 * exactly (TG_ERR_TRAILING otherwise) and propagates its error to the parent.
 *
 * Running out of bytes is TG_ERR_TRUNCATED; a parser that reads a stream maps it to
 * TG_NEED_MORE when more bytes may still come.
 */
#ifndef TLSGATE_CURSOR_H
#define TLSGATE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/err.h"

/* A view into someone else's bytes; never NUL-terminated. */
struct tg_span {
	const uint8_t *p;
	size_t len;
};

struct tg_cur {
	const uint8_t *p;
	size_t len;
	size_t off;
	enum tg_err err;
};

static inline void tg_cur_init(struct tg_cur *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = p ? len : 0;
	c->off = 0;
	c->err = TG_OK;
}

static inline bool tg_cur_ok(const struct tg_cur *c)
{
	return c->err == TG_OK;
}

static inline size_t tg_cur_left(const struct tg_cur *c)
{
	return c->err == TG_OK ? c->len - c->off : 0;
}

/* Offset of the next byte to read, relative to the cursor's start. */
static inline size_t tg_cur_pos(const struct tg_cur *c)
{
	return c->off;
}

/* Record @e unless an earlier error is already recorded. Returns false for chaining. */
static inline bool tg_cur_fail(struct tg_cur *c, enum tg_err e)
{
	if (c->err == TG_OK)
		c->err = e;
	return false;
}

/* True when @n more bytes are available; otherwise records TG_ERR_TRUNCATED. */
static inline bool tg_cur_need(struct tg_cur *c, size_t n)
{
	if (c->err != TG_OK)
		return false;
	if (n > c->len - c->off)
		return tg_cur_fail(c, TG_ERR_TRUNCATED);
	return true;
}

static inline uint8_t tg_cur_u8(struct tg_cur *c)
{
	if (!tg_cur_need(c, 1))
		return 0;
	return c->p[c->off++];
}

static inline uint16_t tg_cur_u16(struct tg_cur *c)
{
	const uint8_t *q;

	if (!tg_cur_need(c, 2))
		return 0;
	q = c->p + c->off;
	c->off += 2;
	return (uint16_t)((unsigned)q[0] << 8 | q[1]);
}

static inline uint32_t tg_cur_u24(struct tg_cur *c)
{
	const uint8_t *q;

	if (!tg_cur_need(c, 3))
		return 0;
	q = c->p + c->off;
	c->off += 3;
	return (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
}

static inline uint32_t tg_cur_u32(struct tg_cur *c)
{
	const uint8_t *q;

	if (!tg_cur_need(c, 4))
		return 0;
	q = c->p + c->off;
	c->off += 4;
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

/* Peek at the byte @ahead positions from the read position without consuming; 0 if absent. */
static inline uint8_t tg_cur_peek(const struct tg_cur *c, size_t ahead)
{
	if (c->err != TG_OK || ahead >= c->len - c->off)
		return 0;
	return c->p[c->off + ahead];
}

static inline bool tg_cur_skip(struct tg_cur *c, size_t n)
{
	if (!tg_cur_need(c, n))
		return false;
	c->off += n;
	return true;
}

/* Take @n bytes as a view. On failure the span is empty (p NULL, len 0). */
static inline struct tg_span tg_cur_span(struct tg_cur *c, size_t n)
{
	struct tg_span s = { NULL, 0 };

	if (!tg_cur_need(c, n))
		return s;
	/* NULL + 0 is undefined behaviour in C: an empty cursor over NULL yields a NULL span. */
	if (c->p == NULL)
		return s;
	s.p = c->p + c->off;
	s.len = n;
	c->off += n;
	return s;
}

/* Take everything left as a view. */
static inline struct tg_span tg_cur_rest(struct tg_cur *c)
{
	return tg_cur_span(c, tg_cur_left(c));
}

/*
 * Open a sub-cursor over the next @n bytes and advance past them. If fewer than @n bytes are
 * left, both cursors carry TG_ERR_TRUNCATED.
 */
static inline bool tg_cur_sub(struct tg_cur *c, size_t n, struct tg_cur *sub)
{
	struct tg_span s = tg_cur_span(c, n);

	tg_cur_init(sub, s.p, s.len);
	if (c->err != TG_OK) {
		sub->err = c->err;
		return false;
	}
	return true;
}

/* Length-prefixed vectors: 1, 2 or 3 length bytes, then that many bytes. */
static inline bool tg_cur_vec8(struct tg_cur *c, struct tg_cur *sub)
{
	size_t n = tg_cur_u8(c);

	return tg_cur_sub(c, n, sub);
}

static inline bool tg_cur_vec16(struct tg_cur *c, struct tg_cur *sub)
{
	size_t n = tg_cur_u16(c);

	return tg_cur_sub(c, n, sub);
}

static inline bool tg_cur_vec24(struct tg_cur *c, struct tg_cur *sub)
{
	size_t n = tg_cur_u24(c);

	return tg_cur_sub(c, n, sub);
}

/*
 * Close a sub-cursor: its error becomes the parent's; unread bytes are TG_ERR_TRAILING.
 * Returns tg_cur_ok(parent).
 */
static inline bool tg_cur_close(struct tg_cur *c, const struct tg_cur *sub)
{
	if (sub->err != TG_OK)
		return tg_cur_fail(c, sub->err);
	if (sub->off != sub->len)
		return tg_cur_fail(c, TG_ERR_TRAILING);
	return tg_cur_ok(c);
}

/* Fails with TG_ERR_TRAILING unless everything was read. Returns tg_cur_ok(c). */
static inline bool tg_cur_end(struct tg_cur *c)
{
	if (c->err == TG_OK && c->off != c->len)
		return tg_cur_fail(c, TG_ERR_TRAILING);
	return tg_cur_ok(c);
}

/* Span helpers (cursor.c). */
bool tg_span_eq(struct tg_span a, struct tg_span b);
/* ASCII case-insensitive comparison; no locale. */
bool tg_span_eq_ci(struct tg_span a, struct tg_span b);
/* Compare with a NUL-terminated literal, ASCII case-insensitively. */
bool tg_span_eq_str_ci(struct tg_span a, const char *s);

#endif
