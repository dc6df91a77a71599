/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tls_ch_util.h - test helpers shared by test_tls_ch.c, test_ja4.c and the benchmark: load a
 * captured ClientHello, re-fragment a handshake message into records, build ClientHellos with
 * chosen extensions, compare two parse results field by field.
 */
#ifndef TLS_CH_UTIL_H
#define TLS_CH_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/tls_ch.h"

/* A growable-by-nothing byte buffer big enough for any test input. */
#define TB_MAX (6 * 65536)
struct tb {
	uint8_t b[TB_MAX];
	size_t n;
};

static inline void tb_u8(struct tb *t, unsigned v)
{
	if (t->n >= TB_MAX)
		abort();
	t->b[t->n++] = (uint8_t)v;
}

static inline void tb_u16(struct tb *t, unsigned v)
{
	tb_u8(t, v >> 8);
	tb_u8(t, v);
}

static inline void tb_u24(struct tb *t, unsigned long v)
{
	tb_u8(t, (unsigned)(v >> 16));
	tb_u16(t, (unsigned)v);
}

static inline void tb_mem(struct tb *t, const void *p, size_t n)
{
	if (n > TB_MAX - t->n)
		abort();
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static inline void tb_str(struct tb *t, const char *s)
{
	tb_mem(t, s, strlen(s));
}

/* Reserve a length field of @width bytes; tb_close() fills it with what was written since. */
static inline size_t tb_open(struct tb *t, int width)
{
	size_t at = t->n;
	int i;

	for (i = 0; i < width; i++)
		tb_u8(t, 0);
	return at;
}

static inline void tb_close(struct tb *t, size_t at, int width)
{
	size_t len = t->n - at - (size_t)width;
	int i;

	for (i = width - 1; i >= 0; i--) {
		t->b[at + (size_t)i] = (uint8_t)len;
		len >>= 8;
	}
}

/* One extension: type, then the body bytes given. */
static inline void tb_ext(struct tb *t, unsigned type, const void *body, size_t n)
{
	tb_u16(t, type);
	tb_u16(t, (unsigned)n);
	tb_mem(t, body, n);
}

/* server_name with one host_name. */
static inline void tb_ext_sni(struct tb *t, const char *host)
{
	size_t ext, list, name;

	tb_u16(t, 0x0000);
	ext = tb_open(t, 2);
	list = tb_open(t, 2);
	tb_u8(t, 0);
	name = tb_open(t, 2);
	tb_str(t, host);
	tb_close(t, name, 2);
	tb_close(t, list, 2);
	tb_close(t, ext, 2);
}

/*
 * A ClientHello handshake message (header included) with legacy_version 0x0303, a fixed random,
 * a 32-byte session id, @n_ciphers ciphers starting at 0x1301 (or the list given) and the
 * extension block @exts as given (NULL: no block at all).
 */
static inline void tb_hello(struct tb *t, const uint16_t *ciphers, size_t n_ciphers,
			    const struct tb *exts)
{
	size_t msg, v, i;

	tb_u8(t, 1);
	msg = tb_open(t, 3);
	tb_u16(t, 0x0303);
	for (i = 0; i < 32; i++)
		tb_u8(t, (unsigned)(0xa0 + i));
	tb_u8(t, 32);
	for (i = 0; i < 32; i++)
		tb_u8(t, (unsigned)i);
	v = tb_open(t, 2);
	for (i = 0; i < n_ciphers; i++)
		tb_u16(t, ciphers ? ciphers[i] : (unsigned)(0x1301 + i));
	tb_close(t, v, 2);
	tb_u8(t, 1);
	tb_u8(t, 0);
	if (exts != NULL) {
		v = tb_open(t, 2);
		tb_mem(t, exts->b, exts->n);
		tb_close(t, v, 2);
	}
	tb_close(t, msg, 3);
}

/* Wrap @msg into handshake records of at most @frag bytes each (record version 0x0301). */
static inline void tb_records(struct tb *t, const uint8_t *msg, size_t len, size_t frag)
{
	size_t off;

	for (off = 0; off < len; off += frag) {
		size_t n = len - off < frag ? len - off : frag;

		tb_u8(t, 22);
		tb_u16(t, 0x0301);
		tb_u16(t, (unsigned)n);
		tb_mem(t, msg + off, n);
	}
}

/*
 * Load test/data/clienthello/@name (relative to $TG_SRC, else the cwd) into @t. Those captures
 * are in the repository: a unit test counts a failed load as a failed check (tb_load_checked),
 * never as a reason to skip.
 */
static inline bool tb_load(struct tb *t, const char *dir, const char *name)
{
	const char *src = getenv("TG_SRC");
	char path[4096];
	FILE *f;

	if (dir == NULL)
		snprintf(path, sizeof(path), "%s/test/data/clienthello/%s", src ? src : ".", name);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return false;
	}
	t->n = fread(t->b, 1, sizeof(t->b), f);
	fclose(f);
	return t->n > 0;
}

#ifdef TG_TEST_H
/* tb_load() for a unit test: a capture that does not load is a failed check. */
static inline bool tb_load_checked(struct tb *t, const char *name)
{
	bool ok = tb_load(t, NULL, name);

	CHECK(ok);
	return ok;
}
#endif

static inline bool span_same(struct tg_span a, struct tg_span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Everything a reader can see, compared by value (spans by content). */
static inline bool ch_same(const struct tg_ch *a, const struct tg_ch *b)
{
	size_t i;

	if (a->legacy_version != b->legacy_version || a->n_ciphers != b->n_ciphers ||
	    a->n_exts != b->n_exts || a->has_sni != b->has_sni || a->has_alpn != b->has_alpn ||
	    a->n_alpn != b->n_alpn || a->has_versions != b->has_versions ||
	    a->n_versions != b->n_versions || a->has_sigalgs != b->has_sigalgs ||
	    a->n_sigalgs != b->n_sigalgs || a->has_groups != b->has_groups ||
	    a->n_groups != b->n_groups || a->has_ech != b->has_ech || a->ech_type != b->ech_type ||
	    a->ech_kdf_id != b->ech_kdf_id || a->ech_aead_id != b->ech_aead_id ||
	    a->ech_config_id != b->ech_config_id || a->has_psk != b->has_psk ||
	    a->has_early_data != b->has_early_data || a->has_exts_block != b->has_exts_block)
		return false;
	if (!span_same(a->random, b->random) || !span_same(a->session_id, b->session_id) ||
	    !span_same(a->compression, b->compression) || !span_same(a->sni, b->sni) ||
	    !span_same(a->ech_enc, b->ech_enc) || !span_same(a->ech_payload, b->ech_payload) ||
	    !span_same(a->msg, b->msg))
		return false;
	for (i = 0; i < a->n_alpn; i++)
		if (!span_same(a->alpn[i], b->alpn[i]))
			return false;
	return memcmp(a->ciphers, b->ciphers, a->n_ciphers * 2) == 0 &&
	       memcmp(a->exts, b->exts, a->n_exts * 2) == 0 &&
	       memcmp(a->versions, b->versions, a->n_versions * 2) == 0 &&
	       memcmp(a->sigalgs, b->sigalgs, a->n_sigalgs * 2) == 0 &&
	       memcmp(a->groups, b->groups, a->n_groups * 2) == 0;
}

#endif
