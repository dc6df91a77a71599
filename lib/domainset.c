/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * domainset.c - immutable domain-pattern set: keyed 64-bit fingerprints in a bucketized cuckoo
 * hash table (domainset.h gives the semantics and the false-positive bound).
 *
 * Fingerprint of a name a.b.c: SipHash-2-4(key, 01 'c' 01 'b' 01 'a') - labels right to left,
 * each as a length byte and its bytes. The encoding is prefix-free per label, so the message of a
 * suffix is a prefix of the message of the whole name, and one SipHash pass over the query's
 * message yields the fingerprints of all its suffixes (tg_siphash_prefixes). Only suffixes with a
 * label count some pattern has are finalized and probed, and labels beyond the longest pattern are
 * not hashed, so a 127-label query costs what its last few labels cost. The kind is folded into
 * the low two bits (1, 2, 3; 0 marks an empty slot), so the three kinds of one name share their
 * two buckets and one probe answers all three.
 *
 * Table: nb buckets of five 12-byte slots (fingerprint + value) in one 64-byte cache line. An
 * entry lives in one of two buckets derived from its fingerprint; insertion displaces residents
 * to their other bucket (random walk, bounded), and a build that cannot place everything starts
 * over with 5% more buckets. Lookups prefetch both buckets of every candidate suffix before
 * looking at any, so a lookup costs about one memory latency whatever the number of labels.
 *
 * Builder: the key only arrives at build time, so names are kept until then, normalized, as
 * records [kind:1][len:1][value:4 LE][name:len] in 1 MiB chunks (no reallocation copies).
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/cursor.h"
#include "tlsgate/domain.h"
#include "tlsgate/domainset.h"
#include "tlsgate/siphash.h"

#define DSET_SLOTS	  5
#define DSET_LINE	  64
#define DSET_LOAD_PCT	  90 /* initial fill target; 2x5 cuckoo holds up to ~98% */
#define DSET_SLOT_PCT	  ((uint64_t)DSET_SLOTS * DSET_LOAD_PCT)
#define DSET_GROW_PCT	  105
#define DSET_MAX_KICKS	  500
#define DSET_BUILD_TRIES  12
#define DSET_MAX_LABELS	  ((TG_CAP_NAME_LEN + 1) / 2) /* "a.a.a...": 127 labels */
#define DSET_CHUNK	  (1u << 20)
#define DSET_REC_HDR	  6
#define DSET_FP_KIND_MASK 3ull

struct dset_bucket {
	uint64_t fp[DSET_SLOTS];
	uint32_t val[DSET_SLOTS];
	uint32_t spare;
};

_Static_assert(sizeof(struct dset_bucket) == DSET_LINE, "a bucket is one cache line");

struct dset_chunk {
	struct dset_chunk *next;
	size_t used;
	uint8_t data[];
};

struct tg_dset_builder {
	struct dset_chunk *head, *tail;
	size_t count;
};

struct tg_dset {
	struct tg_siphash sip0; /* SipHash state right after keying: every hash starts here */
	struct dset_bucket *tab; /* nb buckets, 64-byte aligned, inside tab_mem */
	void *tab_mem; /* the allocation tab points into */
	size_t tab_bytes; /* size of tab_mem */
	uint32_t nb; /* buckets */
	size_t count; /* entries stored */
	size_t dups; /* entries dropped as duplicates */
	uint64_t label_mask[2]; /* bit k-1 set: some pattern has k labels (k = 1..127) */
	unsigned max_labels; /* most labels of any pattern: longer queries stop there */
};

/* ---- builder ---- */

struct tg_dset_builder *tg_dset_builder_new(void)
{
	return calloc(1, sizeof(struct tg_dset_builder));
}

void tg_dset_builder_free(struct tg_dset_builder *b)
{
	struct dset_chunk *c, *next;

	if (b == NULL)
		return;
	for (c = b->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(b);
}

size_t tg_dset_builder_count(const struct tg_dset_builder *b)
{
	return b->count;
}

/* Room for @need more bytes in the tail chunk, adding a chunk if needed. */
static uint8_t *dset_builder_room(struct tg_dset_builder *b, size_t need)
{
	struct dset_chunk *c = b->tail;

	if (c == NULL || DSET_CHUNK - c->used < need) {
		c = malloc(sizeof(*c) + DSET_CHUNK);
		if (c == NULL)
			return NULL;
		c->next = NULL;
		c->used = 0;
		if (b->tail != NULL)
			b->tail->next = c;
		else
			b->head = c;
		b->tail = c;
	}
	return c->data + c->used;
}

enum tg_err tg_dset_builder_add(struct tg_dset_builder *b, const char *name, size_t len,
				enum tg_dset_kind kind, uint32_t value)
{
	char norm[TG_CAP_NAME_LEN + 1];
	size_t nlen;
	enum tg_err err;
	uint8_t *rec;

	if (kind != TG_DSET_EXACT && kind != TG_DSET_SUBDOMAINS && kind != TG_DSET_DOMAIN_AND_SUBS)
		return TG_ERR_ARG;
	err = tg_domain_normalize((const uint8_t *)name, len, norm, &nlen);
	if (err != TG_OK)
		return err;
	if (b->count >= TG_CAP_DSET_ENTRIES)
		return TG_ERR_CAP;
	rec = dset_builder_room(b, DSET_REC_HDR + nlen);
	if (rec == NULL)
		return TG_ERR_NOMEM;
	rec[0] = (uint8_t)kind;
	rec[1] = (uint8_t)nlen;
	rec[2] = (uint8_t)value;
	rec[3] = (uint8_t)(value >> 8);
	rec[4] = (uint8_t)(value >> 16);
	rec[5] = (uint8_t)(value >> 24);
	memcpy(rec + DSET_REC_HDR, norm, nlen);
	b->tail->used += DSET_REC_HDR + nlen;
	b->count++;
	return TG_OK;
}

enum tg_err tg_dset_parse_pattern(const char *text, size_t len,
				  char out[static TG_CAP_NAME_LEN + 1], size_t *out_len,
				  enum tg_dset_kind *kind)
{
	const uint8_t *p = (const uint8_t *)text;
	struct tg_cur c;
	size_t skip = 0;

	tg_cur_init(&c, p, len);
	*kind = TG_DSET_EXACT;
	if (tg_cur_peek(&c, 0) == '*' && tg_cur_peek(&c, 1) == '.') {
		*kind = TG_DSET_SUBDOMAINS;
		skip = 2;
	} else if (tg_cur_peek(&c, 0) == '.') {
		*kind = TG_DSET_DOMAIN_AND_SUBS;
		skip = 1;
	}
	(void)tg_cur_skip(&c, skip);
	return tg_domain_normalize(p + skip, tg_cur_left(&c), out, out_len);
}

enum tg_err tg_dset_builder_add_pattern(struct tg_dset_builder *b, const char *text, size_t len,
					uint32_t value)
{
	char name[TG_CAP_NAME_LEN + 1];
	enum tg_dset_kind kind;
	size_t nlen;
	enum tg_err err;

	err = tg_dset_parse_pattern(text, len, name, &nlen, &kind);
	if (err != TG_OK)
		return err;
	return tg_dset_builder_add(b, name, nlen, kind, value);
}

/* ---- hashing and placement ---- */

/*
 * The hashed message of a name: its labels right to left, each as a length byte and its bytes.
 * Writes at most len + 1 bytes to @msg and returns how many; *@labels gets the label count.
 */
static size_t dset_message(const char *name, size_t len, uint8_t *msg, unsigned *labels)
{
	size_t end = len, st, m = 0;

	*labels = 0;
	for (;;) {
		for (st = end; st > 0 && name[st - 1] != '.'; st--)
			;
		msg[m++] = (uint8_t)(end - st);
		memcpy(msg + m, name + st, end - st);
		m += end - st;
		(*labels)++;
		if (st == 0)
			return m;
		end = st - 1;
	}
}

/* Fingerprint (kind bits clear) of a normalized name, and its label count. */
static uint64_t dset_name_hash(const struct tg_siphash *sip0, const char *name, size_t len,
			       unsigned *labels)
{
	uint8_t msg[TG_CAP_NAME_LEN + 1];
	size_t m = dset_message(name, len, msg, labels);
	uint64_t h;

	tg_siphash_prefixes(sip0, msg, m, &m, 1, &h);
	return h & ~DSET_FP_KIND_MASK;
}

/* Multiply-shift range reduction of a 32-bit value to [0, n). */
static inline uint32_t dset_reduce(uint32_t x, uint32_t n)
{
	return (uint32_t)(((uint64_t)x * n) >> 32);
}

/* The two candidate buckets of a fingerprint (kind bits ignored). */
static inline void dset_buckets(uint64_t fp, uint32_t nb, uint32_t *b1, uint32_t *b2)
{
	uint64_t h = fp & ~DSET_FP_KIND_MASK;

	*b1 = dset_reduce((uint32_t)(h >> 32), nb);
	*b2 = dset_reduce((uint32_t)((h * 0x9e3779b97f4a7c15ull) >> 32), nb);
}

static bool dset_bucket_put(struct dset_bucket *bk, uint64_t fp, uint32_t val)
{
	unsigned k;

	for (k = 0; k < DSET_SLOTS; k++) {
		if (bk->fp[k] == 0) {
			bk->fp[k] = fp;
			bk->val[k] = val;
			return true;
		}
	}
	return false;
}

static bool dset_bucket_has(const struct dset_bucket *bk, uint64_t fp)
{
	unsigned k;

	for (k = 0; k < DSET_SLOTS; k++)
		if (bk->fp[k] == fp)
			return true;
	return false;
}

static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

enum dset_put { DSET_PUT_OK, DSET_PUT_DUP, DSET_PUT_FULL };

/*
 * Place (fp, val): a duplicate of a present fingerprint is refused; otherwise a free slot in
 * either bucket, otherwise a random walk of displacements. DSET_PUT_FULL means the walk gave up
 * with some entry homeless: the table must be rebuilt bigger.
 */
static enum dset_put dset_insert(struct tg_dset *s, uint64_t fp, uint32_t val, uint64_t *rng)
{
	uint32_t b1, b2, cur, j1, j2;
	unsigned kick;

	dset_buckets(fp, s->nb, &b1, &b2);
	if (dset_bucket_has(&s->tab[b1], fp) || dset_bucket_has(&s->tab[b2], fp))
		return DSET_PUT_DUP;
	if (dset_bucket_put(&s->tab[b1], fp, val) || dset_bucket_put(&s->tab[b2], fp, val))
		return DSET_PUT_OK;
	cur = (xorshift64(rng) & 1) ? b1 : b2;
	for (kick = 0; kick < DSET_MAX_KICKS; kick++) {
		struct dset_bucket *bk = &s->tab[cur];
		unsigned slot = (unsigned)(xorshift64(rng) % DSET_SLOTS);
		uint64_t vfp = bk->fp[slot];
		uint32_t vval = bk->val[slot];

		bk->fp[slot] = fp;
		bk->val[slot] = val;
		fp = vfp;
		val = vval;
		dset_buckets(fp, s->nb, &j1, &j2);
		cur = (cur == j1) ? j2 : j1;
		if (dset_bucket_put(&s->tab[cur], fp, val))
			return DSET_PUT_OK;
	}
	return DSET_PUT_FULL;
}

static void dset_table_free(struct tg_dset *s)
{
	free(s->tab_mem);
	s->tab_mem = NULL;
	s->tab = NULL;
	s->tab_bytes = 0;
}

static bool dset_table_alloc(struct tg_dset *s, uint32_t nb)
{
	uintptr_t a;

	s->tab_bytes = (size_t)nb * sizeof(struct dset_bucket) + DSET_LINE;
	s->tab_mem = calloc(1, s->tab_bytes);
	if (s->tab_mem == NULL) {
		s->tab_bytes = 0;
		return false;
	}
	a = ((uintptr_t)s->tab_mem + DSET_LINE - 1) & ~(uintptr_t)(DSET_LINE - 1);
	s->tab = (struct dset_bucket *)a;
	s->nb = nb;
	return true;
}

/* One attempt at placing every record of @b; false when the table was too small. */
static bool dset_fill(struct tg_dset *s, const struct tg_dset_builder *b, uint64_t *rng)
{
	const struct dset_chunk *c;

	s->count = 0;
	s->dups = 0;
	s->max_labels = 0;
	s->label_mask[0] = s->label_mask[1] = 0;
	for (c = b->head; c != NULL; c = c->next) {
		size_t off = 0;

		while (off < c->used) {
			const uint8_t *rec = c->data + off;
			size_t nlen = rec[1];
			uint32_t val = (uint32_t)rec[2] | (uint32_t)rec[3] << 8 |
				       (uint32_t)rec[4] << 16 | (uint32_t)rec[5] << 24;
			unsigned labels;
			uint64_t fp;

			fp = dset_name_hash(&s->sip0, (const char *)rec + DSET_REC_HDR, nlen,
					    &labels);
			fp |= (uint64_t)rec[0] + 1;
			switch (dset_insert(s, fp, val, rng)) {
			case DSET_PUT_OK:
				s->count++;
				break;
			case DSET_PUT_DUP:
				s->dups++;
				break;
			default:
				return false;
			}
			s->label_mask[(labels - 1) / 64] |= 1ull << ((labels - 1) % 64);
			if (labels > s->max_labels)
				s->max_labels = labels;
			off += DSET_REC_HDR + nlen;
		}
	}
	return true;
}

struct tg_dset *tg_dset_build(struct tg_dset_builder *b, const uint8_t key[static 16])
{
	struct tg_dset *s = NULL;
	uint64_t nb, rng;
	unsigned tries;

	if (b == NULL)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto out;
	tg_siphash_init(&s->sip0, key);
	rng = tg_siphash24(key, "dset-kicks", 10) | 1;
	nb = ((uint64_t)b->count * 100 + DSET_SLOT_PCT - 1) / DSET_SLOT_PCT;
	if (nb == 0)
		nb = 1;
	for (tries = 0; tries < DSET_BUILD_TRIES; tries++) {
		if (!dset_table_alloc(s, (uint32_t)nb))
			break;
		if (dset_fill(s, b, &rng))
			goto out;
		dset_table_free(s);
		nb = nb * DSET_GROW_PCT / 100 + 1;
	}
	free(s);
	s = NULL;
out:
	tg_dset_builder_free(b);
	return s;
}

void tg_dset_free(struct tg_dset *s)
{
	if (s == NULL)
		return;
	dset_table_free(s);
	free(s);
}

size_t tg_dset_count(const struct tg_dset *s)
{
	return s->count;
}

size_t tg_dset_duplicates(const struct tg_dset *s)
{
	return s->dups;
}

size_t tg_dset_bytes(const struct tg_dset *s)
{
	return sizeof(*s) + s->tab_bytes;
}

/* ---- lookup ---- */

/* Kind codes in the fingerprint's low bits, and their rank when two match at one name. */
#define CODE_EXACT 1u
#define CODE_SUBS  2u
#define CODE_DAS   3u

/*
 * Best slot for fingerprint @h (kind bits clear) in bucket @bk among kinds allowed at this
 * suffix: EXACT and DOMAIN_AND_SUBS for the whole query, SUBDOMAINS and DOMAIN_AND_SUBS for a
 * proper suffix. Lower code = narrower kind = preferred. Returns the code, 0 if none.
 */
static unsigned dset_bucket_best(const struct dset_bucket *bk, uint64_t h, bool whole,
				 unsigned best, uint32_t *val)
{
	unsigned k;

	for (k = 0; k < DSET_SLOTS; k++) {
		unsigned code = (unsigned)(bk->fp[k] & DSET_FP_KIND_MASK);

		if ((bk->fp[k] & ~DSET_FP_KIND_MASK) != h || code == 0)
			continue;
		if (code == (whole ? CODE_SUBS : CODE_EXACT))
			continue;
		if (best == 0 || code < best) {
			best = code;
			*val = bk->val[k];
		}
	}
	return best;
}

static inline bool dset_mask_has(const struct tg_dset *s, unsigned labels)
{
	return (s->label_mask[(labels - 1) / 64] >> ((labels - 1) % 64)) & 1;
}

bool tg_dset_lookup(const struct tg_dset *s, const char *name, size_t len, uint32_t *value,
		    enum tg_dset_kind *kind, size_t *matched_len)
{
	uint8_t msg[TG_CAP_NAME_LEN + 1], dots[TG_CAP_NAME_LEN];
	uint64_t hs[DSET_MAX_LABELS];
	uint32_t b1s[DSET_MAX_LABELS], b2s[DSET_MAX_LABELS];
	size_t starts[DSET_MAX_LABELS], cuts[DSET_MAX_LABELS];
	size_t end = len, st, m = 0, k, nd = 0;
	unsigned labels = 0, n = 0, i;

	if (len == 0 || len > TG_CAP_NAME_LEN || s->count == 0)
		return false;
	/* Where the dots are, without a branch per byte (len <= 253, so positions fit a byte). */
	for (k = 0; k < len; k++) {
		dots[nd] = (uint8_t)k;
		nd += name[k] == '.';
	}
	/*
	 * Right to left: lay out the message (as dset_message does) up to the longest pattern's
	 * label count, noting where each suffix that some pattern could have ends. Labels beyond
	 * are only checked for length.
	 */
	for (;;) {
		st = nd > 0 ? (size_t)dots[nd - 1] + 1 : 0;
		if (end - st == 0 || end - st > TG_CAP_LABEL_LEN)
			return false;
		if (labels < s->max_labels) {
			msg[m++] = (uint8_t)(end - st);
			memcpy(msg + m, name + st, end - st);
			m += end - st;
			labels++;
			if (dset_mask_has(s, labels)) {
				cuts[n] = m;
				starts[n++] = st;
			}
		}
		if (nd == 0)
			break;
		end = st - 1;
		nd--;
	}
	/* One pass hashes every candidate suffix; then fetch all their buckets at once. */
	tg_siphash_prefixes(&s->sip0, msg, m, cuts, n, hs);
	for (i = 0; i < n; i++) {
		hs[i] &= ~DSET_FP_KIND_MASK;
		dset_buckets(hs[i], s->nb, &b1s[i], &b2s[i]);
		__builtin_prefetch(&s->tab[b1s[i]]);
		__builtin_prefetch(&s->tab[b2s[i]]);
	}
	/* Longest suffix first: the first one with a match is the most specific. */
	while (n-- > 0) {
		bool whole = starts[n] == 0;
		uint32_t val = 0;
		unsigned code;

		code = dset_bucket_best(&s->tab[b1s[n]], hs[n], whole, 0, &val);
		code = dset_bucket_best(&s->tab[b2s[n]], hs[n], whole, code, &val);
		if (code == 0)
			continue;
		if (value != NULL)
			*value = val;
		if (kind != NULL)
			*kind = (enum tg_dset_kind)(code - 1);
		if (matched_len != NULL)
			*matched_len = len - starts[n];
		return true;
	}
	return false;
}
