/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), the
 * keyed hash for every table whose keys an attacker can choose (domain sets, flows, bypass).
 *
 * With a secret 128-bit key from the caller (the library has no randomness), an attacker who
 * does not know the key cannot compute hashes offline and so cannot craft collisions.
 *
 * Two forms: one call over a whole buffer, and a streaming state that may be finalized as a copy
 * at any point and then extended, so the hashes of every prefix of a message cost one pass over
 * it (the domain set hashes every label-aligned suffix of a name this way).
 */
#ifndef TLSGATE_SIPHASH_H
#define TLSGATE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct tg_siphash {
	uint64_t v0, v1, v2, v3;
	uint64_t tail; /* pending bytes, little-endian, fewer than 8 */
	uint64_t total; /* bytes absorbed so far */
};

/* tg_siphash_init() - start a hash under @key (16 bytes, read as two little-endian words). */
void tg_siphash_init(struct tg_siphash *h, const uint8_t key[static 16]);

/* tg_siphash_update() - absorb @len bytes of @p (may be NULL when @len is 0). */
void tg_siphash_update(struct tg_siphash *h, const void *p, size_t len);

/*
 * tg_siphash_final() - the SipHash-2-4 of everything absorbed so far. @h is not changed, so
 * absorbing may continue and a later final gives the hash of the longer message.
 */
uint64_t tg_siphash_final(const struct tg_siphash *h);

/*
 * tg_siphash_prefixes() - the SipHash-2-4 of several prefixes of one message in one pass:
 * out[i] = hash of the first cuts[i] bytes of @msg, continuing from @h (a state right after
 * tg_siphash_init, nothing absorbed). @cuts must be non-decreasing and at most @len; @out has
 * @ncuts entries. @h is not changed.
 */
void tg_siphash_prefixes(const struct tg_siphash *h, const void *msg, size_t len,
			 const size_t *cuts, size_t ncuts, uint64_t *out);

/* tg_siphash24() - SipHash-2-4 of @p (@len bytes) under @key, in one call. */
uint64_t tg_siphash24(const uint8_t key[static 16], const void *p, size_t len);

#endif
