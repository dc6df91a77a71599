/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * siphash.c - SipHash-2-4 as specified in the SipHash paper (Aumasson, Bernstein 2012), section
 * 2: the state is initialized from the key and the constants "somepseudorandomlygeneratedbytes";
 * each 8-byte little-endian word m is absorbed as v3 ^= m, two SipRounds, v0 ^= m; the last
 * word holds the remaining bytes and the message length mod 256 in its top byte; finalization
 * is v2 ^= 0xff, four SipRounds, and the output is v0 ^ v1 ^ v2 ^ v3.
 */
#include <string.h>

#include "tlsgate/siphash.h"

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

struct sip_v {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip_v *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

static inline void sip_compress(struct sip_v *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

void tg_siphash_init(struct tg_siphash *h, const uint8_t key[static 16])
{
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);

	h->v0 = k0 ^ 0x736f6d6570736575ull;
	h->v1 = k1 ^ 0x646f72616e646f6dull;
	h->v2 = k0 ^ 0x6c7967656e657261ull;
	h->v3 = k1 ^ 0x7465646279746573ull;
	h->tail = 0;
	h->total = 0;
}

void tg_siphash_update(struct tg_siphash *h, const void *p, size_t len)
{
	struct sip_v s = { h->v0, h->v1, h->v2, h->v3 };
	const uint8_t *b = p;
	unsigned fill = (unsigned)(h->total & 7);
	uint64_t tail = h->tail;

	h->total += len;
	/* Top up a partial word first, then whole words, then keep the rest as the new tail. */
	while (len > 0 && fill != 0) {
		tail |= (uint64_t)*b++ << (8 * fill);
		len--;
		fill = (fill + 1) & 7;
		if (fill == 0) {
			sip_compress(&s, tail);
			tail = 0;
		}
	}
	for (; len >= 8; len -= 8, b += 8)
		sip_compress(&s, load_le64(b));
	for (; len > 0; len--)
		tail |= (uint64_t)*b++ << (8 * fill++);
	h->v0 = s.v0;
	h->v1 = s.v1;
	h->v2 = s.v2;
	h->v3 = s.v3;
	h->tail = tail;
}

/* The last word: the 0..7 bytes left, little-endian, with the total length in the top byte. */
static inline uint64_t sip_last_word(const uint8_t *p, size_t n, uint64_t total)
{
	uint64_t b = total << 56;
	size_t i;

	for (i = 0; i < n; i++)
		b |= (uint64_t)p[i] << (8 * i);
	return b;
}

static inline uint64_t sip_finish(struct sip_v s, uint64_t b)
{
	sip_compress(&s, b);
	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void tg_siphash_prefixes(const struct tg_siphash *h, const void *msg, size_t len,
			 const size_t *cuts, size_t ncuts, uint64_t *out)
{
	struct sip_v s = { h->v0, h->v1, h->v2, h->v3 };
	const uint8_t *m = msg;
	size_t pos = 0, i;

	for (i = 0; i < ncuts; i++) {
		size_t cut = cuts[i] < len ? cuts[i] : len;

		for (; pos + 8 <= cut; pos += 8)
			sip_compress(&s, load_le64(m + pos));
		out[i] = sip_finish(s, sip_last_word(m + pos, cut - pos, cut));
	}
}

uint64_t tg_siphash_final(const struct tg_siphash *h)
{
	struct sip_v s = { h->v0, h->v1, h->v2, h->v3 };

	return sip_finish(s, h->tail | (h->total << 56));
}

uint64_t tg_siphash24(const uint8_t key[static 16], const void *p, size_t len)
{
	struct tg_siphash h;

	tg_siphash_init(&h, key);
	tg_siphash_update(&h, p, len);
	return tg_siphash_final(&h);
}
