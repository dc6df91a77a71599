/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seqtab.c - single-writer, lock-free-reader hash table (see seqtab.h for the contract).
 *
 * Record r occupies words [r*stride, (r+1)*stride) of rec[], stride a multiple of 8 words and
 * rec[] 64-byte aligned, so a record starts on a cache line:
 *
 *   +-----+------+------+------------------+------------------+
 *   | seq | hash | used | val[0..VAL-1]    | key[0..KEY-1]    |
 *   +-----+------+------+------------------+------------------+
 *
 * seq is even when the record is stable; hash is the caller's hash with bit 0 forced to 1, and 0
 * while the record is free; used is the readers' recency stamp (outside the seqlock: a single
 * word, stored by readers at most once a grain). The value comes before the key so that a
 * lookup (seq, hash, used, value, the first key words) reads one or two adjacent cache lines. An index slot is (hash >> 32) << 32 | (r + 1), 0 when empty; the
 * probe starts at hash & mask.
 *
 * Memory order (no standalone fences, so ThreadSanitizer models it exactly):
 *   writer: seq = s+1 (relaxed); data stores (release); seq = s+2 (release)
 *   reader: s1 = seq (acquire); data loads (acquire); s2 = seq (relaxed)
 * A reader that sees any store of the writer's section also sees seq = s+1 (release/acquire on
 * that store), and its later s2 load cannot move above its acquire loads, so s1 == s2 even means
 * the copy is whole. Stripe epochs bracket deletions the same way: a deletion first makes the
 * epochs of every stripe of STRIPE slots its backward shift can touch odd (the stripes from the
 * deleted slot to the end of its cluster), moves slots, then makes them even again; a reader
 * notes the epoch of each stripe its probe enters and re-checks them before trusting a miss.
 * Striping keeps a deletion (or a writer preempted inside one) from disturbing readers that
 * probe elsewhere in the index.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/seqtab.h"
#include "tlsgate/siphash.h"

#define NIL	      UINT32_MAX
#define STRIPE_SHIFT  4 /* 16 index slots (two cache lines) per stripe epoch */
#define PROBE_STRIPES 8 /* stripes one probe may span before it must retry */

struct tg_seqtab {
	/* shared with readers */
	_Atomic uint64_t *rec; /* nrec * stride words, 64-byte aligned inside rec_mem */
	void *rec_mem;
	_Atomic uint64_t *idx; /* nidx slots */
	_Atomic uint64_t *stripe; /* per STRIPE index slots: odd while a deletion moves them */
	_Atomic uint32_t inuse; /* records in use, for tg_seqtab_count() from any thread */
	uint64_t nstripes;
	uint32_t nrec, stride, kw, vw, ko; /* ko: offset of the key words */
	uint64_t mask; /* nidx - 1 */
	/* writer only */
	uint64_t *touch; /* per record: last writer touch, ms */
	uint32_t *prev, *next;
	uint32_t *freelist;
	uint32_t nfree;
	uint32_t head, tail; /* LRU end, MRU end */
};

/* A spin-wait hint: an instruction, not a syscall (lib stays pure). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Keys are hashed with SipHash-2-4 under the table owner's random key (siphash.c). */
uint64_t tg_seqtab_hash(const uint8_t key[static 16], const void *p, size_t len)
{
	return tg_siphash24(key, p, len);
}

enum { R_SEQ = 0, R_HASH = 1, R_USED = 2, R_VAL = 3 };

static inline _Atomic uint64_t *rec_at(const struct tg_seqtab *t, uint32_t r)
{
	return t->rec + (size_t)r * t->stride;
}

static inline uint64_t ld_acq(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_acquire);
}

static inline uint64_t ld_rlx(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static inline void st_rel(_Atomic uint64_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_release);
}

static inline void st_rlx(_Atomic uint64_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_relaxed);
}

static inline uint64_t hash_of(const struct tg_seqtab_key *k)
{
	return k->hash | 1;
}

enum tg_err tg_seqtab_new(uint32_t nrec, uint32_t key_words, uint32_t val_words,
			  struct tg_seqtab **out)
{
	struct tg_seqtab *t = NULL;
	enum tg_err err = TG_ERR_NOMEM;
	uint64_t nidx = 1;
	uint32_t i;

	*out = NULL;
	if (nrec == 0 || nrec > TG_CAP_SEQTAB_RECORDS || key_words == 0 ||
	    key_words + val_words > TG_CAP_SEQTAB_WORDS) {
		err = TG_ERR_ARG;
		goto out;
	}
	while (nidx < 2 * (uint64_t)nrec)
		nidx <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto out;
	t->nrec = nrec;
	t->kw = key_words;
	t->vw = val_words;
	t->ko = R_VAL + val_words;
	t->stride = (t->ko + key_words + 7) & ~7u;
	t->mask = nidx - 1;
	t->rec_mem = calloc((size_t)nrec * t->stride + 8, sizeof(*t->rec));
	if (t->rec_mem != NULL)
		t->rec = (_Atomic uint64_t *)(((uintptr_t)t->rec_mem + 63) & ~(uintptr_t)63);
	t->idx = calloc(nidx, sizeof(*t->idx));
	t->touch = calloc(nrec, sizeof(*t->touch));
	t->prev = calloc(nrec, sizeof(*t->prev));
	t->next = calloc(nrec, sizeof(*t->next));
	t->freelist = calloc(nrec, sizeof(*t->freelist));
	t->nstripes = nidx >> STRIPE_SHIFT ? nidx >> STRIPE_SHIFT : 1;
	t->stripe = calloc(t->nstripes, sizeof(*t->stripe));
	if (!t->rec || !t->idx || !t->touch || !t->prev || !t->next || !t->freelist || !t->stripe)
		goto out;
	/* Hand out low record numbers first: walks then touch the front of the array. */
	for (i = 0; i < nrec; i++)
		t->freelist[i] = nrec - 1 - i;
	t->nfree = nrec;
	atomic_init(&t->inuse, 0);
	t->head = t->tail = NIL;
	*out = t;
	t = NULL;
	err = TG_OK;
out:
	tg_seqtab_free(t);
	return err;
}

void tg_seqtab_free(struct tg_seqtab *t)
{
	if (t == NULL)
		return;
	free(t->rec_mem);
	free(t->idx);
	free(t->touch);
	free(t->prev);
	free(t->next);
	free(t->freelist);
	free(t->stripe);
	free(t);
}

/* ---- LRU list (writer only) ---- */

static void lru_unlink(struct tg_seqtab *t, uint32_t r)
{
	if (t->prev[r] != NIL)
		t->next[t->prev[r]] = t->next[r];
	else
		t->head = t->next[r];
	if (t->next[r] != NIL)
		t->prev[t->next[r]] = t->prev[r];
	else
		t->tail = t->prev[r];
}

static void lru_append(struct tg_seqtab *t, uint32_t r)
{
	t->prev[r] = t->tail;
	t->next[r] = NIL;
	if (t->tail != NIL)
		t->next[t->tail] = r;
	else
		t->head = r;
	t->tail = r;
}

/* ---- records ---- */

/* Writer: compare record @r with @k (the writer's own loads cannot race). */
static bool rec_matches_w(const struct tg_seqtab *t, uint32_t r, const struct tg_seqtab_key *k)
{
	const _Atomic uint64_t *p = rec_at(t, r);
	uint32_t i;

	if (ld_rlx(&p[R_HASH]) != hash_of(k))
		return false;
	for (i = 0; i < k->nw; i++)
		if (ld_rlx(&p[t->ko + i]) != k->w[i])
			return false;
	return true;
}

/* Writer: store key/value words of record @r under its seqlock; @key NULL keeps the key. */
static void rec_write(struct tg_seqtab *t, uint32_t r, uint64_t hash, const uint64_t *key,
		      const uint64_t *val)
{
	_Atomic uint64_t *p = rec_at(t, r);
	uint64_t s = ld_rlx(&p[R_SEQ]);
	uint32_t i;

	st_rlx(&p[R_SEQ], s + 1);
	st_rel(&p[R_HASH], hash);
	for (i = 0; i < t->vw; i++)
		st_rel(&p[R_VAL + i], val ? val[i] : 0);
	if (key != NULL)
		for (i = 0; i < t->kw; i++)
			st_rel(&p[t->ko + i], key[i]);
	st_rel(&p[R_SEQ], s + 2);
}

enum rd { RD_MATCH, RD_NOMATCH, RD_BUSY };

/*
 * Reader: does record @r hold @k? On a match, copy the value into @val (may be NULL). A key
 * mismatch needs no seqlock validation: the key words of a record reachable from the index only
 * change when it is deleted and reused, which happens inside a stripe epoch window, and a miss
 * is re-checked against the stripe epochs by the caller.
 */
static enum rd rec_read(const struct tg_seqtab *t, uint32_t r, const struct tg_seqtab_key *k,
			uint64_t *val, const _Atomic uint64_t **busy)
{
	const _Atomic uint64_t *p = rec_at(t, r);
	uint64_t h = hash_of(k), tmp[TG_CAP_SEQTAB_WORDS];
	unsigned tries;
	uint32_t i;

	for (tries = 0; tries < TG_SEQTAB_RECORD_TRIES; tries++) {
		uint64_t s1 = ld_acq(&p[R_SEQ]);

		if (s1 & 1) {
			cpu_relax();
			continue;
		}
		if (ld_acq(&p[R_HASH]) != h)
			return RD_NOMATCH;
		for (i = 0; i < k->nw; i++)
			if (ld_acq(&p[t->ko + i]) != k->w[i])
				return RD_NOMATCH;
		for (i = 0; i < t->vw; i++)
			tmp[i] = ld_acq(&p[R_VAL + i]);
		if (ld_rlx(&p[R_SEQ]) != s1)
			continue;
		if (val != NULL && t->vw)
			memcpy(val, tmp, t->vw * sizeof(*val));
		return RD_MATCH;
	}
	*busy = &p[R_SEQ];
	return RD_BUSY;
}

static inline uint64_t slot_make(uint64_t hash, uint32_t r)
{
	return (hash >> 32) << 32 | ((uint64_t)r + 1);
}

static inline uint32_t slot_rec(uint64_t s)
{
	return (uint32_t)(s & 0xffffffffu) - 1;
}

static inline bool slot_tag_eq(uint64_t s, uint64_t hash)
{
	return (s >> 32) == (hash >> 32);
}

/* Writer: the index position holding record @r, which must be in the index. */
static uint64_t slot_of(const struct tg_seqtab *t, uint32_t r)
{
	uint64_t h = ld_rlx(&rec_at(t, r)[R_HASH]);
	uint64_t want = slot_make(h, r), pos = h & t->mask;

	while (ld_rlx(&t->idx[pos]) != want)
		pos = (pos + 1) & t->mask;
	return pos;
}

bool tg_seqtab_find(const struct tg_seqtab *t, const struct tg_seqtab_key *k, uint32_t *rec)
{
	uint64_t h = hash_of(k), pos = h & t->mask, n;

	for (n = 0; n <= t->mask; n++, pos = (pos + 1) & t->mask) {
		uint64_t s = ld_rlx(&t->idx[pos]);

		if (s == 0)
			return false;
		if (slot_tag_eq(s, h) && rec_matches_w(t, slot_rec(s), k)) {
			*rec = slot_rec(s);
			return true;
		}
	}
	return false;
}

enum tg_err tg_seqtab_insert(struct tg_seqtab *t, const struct tg_seqtab_key *k,
			     const uint64_t *val, uint64_t now_ms, uint32_t *rec)
{
	uint64_t h = hash_of(k), pos = h & t->mask;
	uint64_t key[TG_CAP_SEQTAB_WORDS] = { 0 };
	uint32_t r;

	if (k->nw == 0 || k->nw > t->kw)
		return TG_ERR_ARG;
	if (tg_seqtab_find(t, k, &r))
		return TG_ERR_DUPLICATE;
	if (t->nfree == 0)
		return TG_ERR_CAP;
	r = t->freelist[--t->nfree];
	atomic_store_explicit(&t->inuse, t->nrec - t->nfree, memory_order_relaxed);
	memcpy(key, k->w, k->nw * sizeof(*key));
	rec_write(t, r, h, key, val);
	t->touch[r] = now_ms;
	st_rlx(&rec_at(t, r)[R_USED], now_ms);
	lru_append(t, r);
	/* At most half full: an empty slot exists. Publish only after the record is whole. */
	while (ld_rlx(&t->idx[pos]) != 0)
		pos = (pos + 1) & t->mask;
	st_rel(&t->idx[pos], slot_make(h, r));
	if (rec != NULL)
		*rec = r;
	return TG_OK;
}

void tg_seqtab_set(struct tg_seqtab *t, uint32_t r, const uint64_t *val)
{
	rec_write(t, r, ld_rlx(&rec_at(t, r)[R_HASH]), NULL, val);
}

/* Is @k cyclically in (i, j]? Then the entry at j (home k) must stay behind the hole at i. */
static inline bool home_between(uint64_t i, uint64_t k, uint64_t j)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

static inline uint64_t stripe_of(const struct tg_seqtab *t, uint64_t pos)
{
	return t->nstripes == 1 ? 0 : pos >> STRIPE_SHIFT;
}

/*
 * Bump the epoch of every stripe holding a slot in [@from, @end) (cyclic): to odd before a
 * deletion moves slots (relaxed: the slot stores that follow are releases), to even after
 * (release: publishes the moves). A cluster is at most half the index, so no stripe repeats
 * unless there is only one.
 */
static void stripes_bump(struct tg_seqtab *t, uint64_t from, uint64_t end, bool done)
{
	uint64_t pos = from;

	do {
		if (pos == from || (t->nstripes > 1 && (pos & ((1u << STRIPE_SHIFT) - 1)) == 0)) {
			_Atomic uint64_t *e = &t->stripe[stripe_of(t, pos)];

			if (done)
				st_rel(e, ld_rlx(e) + 1);
			else
				st_rlx(e, ld_rlx(e) + 1);
		}
		pos = (pos + 1) & t->mask;
	} while (pos != end);
}

void tg_seqtab_delete(struct tg_seqtab *t, uint32_t r)
{
	uint64_t i = slot_of(t, r), j = i, from = i, end = i;
	_Atomic uint64_t *p = rec_at(t, r);
	uint64_t s = ld_rlx(&p[R_SEQ]);

	do
		end = (end + 1) & t->mask;
	while (ld_rlx(&t->idx[end]) != 0);
	stripes_bump(t, from, end, false);
	/* Backward-shift deletion (Knuth 6.4, Algorithm R): no tombstones, short probes. */
	for (;;) {
		uint64_t sl, home;

		j = (j + 1) & t->mask;
		sl = ld_rlx(&t->idx[j]);
		if (sl == 0)
			break;
		home = ld_rlx(&rec_at(t, slot_rec(sl))[R_HASH]) & t->mask;
		if (home_between(i, home, j))
			continue;
		st_rel(&t->idx[i], sl);
		i = j;
	}
	st_rel(&t->idx[i], 0);
	st_rlx(&p[R_SEQ], s + 1);
	st_rel(&p[R_HASH], 0);
	st_rel(&p[R_SEQ], s + 2);
	stripes_bump(t, from, end, true);
	lru_unlink(t, r);
	t->freelist[t->nfree++] = r;
	atomic_store_explicit(&t->inuse, t->nrec - t->nfree, memory_order_relaxed);
}

void tg_seqtab_touch(struct tg_seqtab *t, uint32_t r, uint64_t now_ms)
{
	lru_unlink(t, r);
	lru_append(t, r);
	t->touch[r] = now_ms;
	st_rlx(&rec_at(t, r)[R_USED], now_ms);
}

bool tg_seqtab_lru(struct tg_seqtab *t, uint32_t *rec)
{
	uint32_t n, count = t->nrec - t->nfree;

	if (t->head == NIL)
		return false;
	/* Second chance: each record moves at most once per call, so this ends. */
	for (n = 0; n < count; n++) {
		uint32_t r = t->head;
		uint64_t u = ld_rlx(&rec_at(t, r)[R_USED]);

		if (u <= t->touch[r])
			break;
		lru_unlink(t, r);
		lru_append(t, r);
		t->touch[r] = u;
	}
	*rec = t->head;
	return true;
}

uint64_t tg_seqtab_recency(const struct tg_seqtab *t, uint32_t r)
{
	uint64_t u = ld_rlx(&rec_at(t, r)[R_USED]);

	return u > t->touch[r] ? u : t->touch[r];
}

bool tg_seqtab_get(const struct tg_seqtab *t, uint32_t r, uint64_t *key, uint64_t *val)
{
	const _Atomic uint64_t *p;
	uint32_t i;

	if (r >= t->nrec)
		return false;
	p = rec_at(t, r);
	if (ld_rlx(&p[R_HASH]) == 0)
		return false;
	for (i = 0; key != NULL && i < t->kw; i++)
		key[i] = ld_rlx(&p[t->ko + i]);
	for (i = 0; val != NULL && i < t->vw; i++)
		val[i] = ld_rlx(&p[R_VAL + i]);
	return true;
}

uint32_t tg_seqtab_count(const struct tg_seqtab *t)
{
	return atomic_load_explicit(&t->inuse, memory_order_relaxed);
}

uint32_t tg_seqtab_capacity(const struct tg_seqtab *t)
{
	return t->nrec;
}

/*
 * One probe of the index for @k: MATCH, NOMATCH (reached an empty slot, and no deletion moved
 * slots of the stripes crossed meanwhile) or BUSY (retry; *@busy names the stripe epoch or
 * record sequence the writer holds odd, or stays NULL when a stripe merely changed).
 */
static enum rd probe(const struct tg_seqtab *t, const struct tg_seqtab_key *k, uint64_t *val,
		     uint32_t *rec, const _Atomic uint64_t **busy)
{
	uint64_t h = hash_of(k), pos = h & t->mask, n;
	uint64_t seen_s[PROBE_STRIPES], seen_e[PROBE_STRIPES];
	unsigned nseen = 0, i;
	enum rd res = RD_NOMATCH;

	for (n = 0; n <= t->mask; n++, pos = (pos + 1) & t->mask) {
		uint64_t s;
		uint32_t r;

		if (n == 0 || (pos & ((1u << STRIPE_SHIFT) - 1)) == 0) {
			if (nseen == PROBE_STRIPES)
				return RD_BUSY;
			seen_s[nseen] = stripe_of(t, pos);
			seen_e[nseen] = ld_acq(&t->stripe[seen_s[nseen]]);
			if (seen_e[nseen++] & 1) {
				*busy = &t->stripe[seen_s[nseen - 1]];
				return RD_BUSY;
			}
		}
		s = ld_acq(&t->idx[pos]);
		if (s == 0)
			break;
		if (!slot_tag_eq(s, h))
			continue;
		r = slot_rec(s);
		if (r >= t->nrec)
			continue;
		switch (rec_read(t, r, k, val, busy)) {
		case RD_MATCH:
			*rec = r;
			return RD_MATCH;
		case RD_BUSY:
			res = RD_BUSY;
			break;
		default:
			break;
		}
	}
	if (res != RD_NOMATCH)
		return res;
	for (i = 0; i < nseen; i++)
		if (ld_rlx(&t->stripe[seen_s[i]]) != seen_e[i])
			return RD_BUSY;
	return RD_NOMATCH;
}

bool tg_seqtab_lookup(const struct tg_seqtab *t, const struct tg_seqtab_key *k, uint64_t *val,
		      uint64_t now_ms, bool *unsure)
{
	unsigned tries;
	uint32_t r;

	if (unsure != NULL)
		*unsure = false;
	if (k->nw == 0 || k->nw > t->kw)
		return false;
	for (tries = 0; tries < TG_SEQTAB_READ_RETRIES; tries++) {
		const _Atomic uint64_t *busy = NULL;
		enum rd res = probe(t, k, val, &r, &busy);
		unsigned spin;

		if (res == RD_MATCH) {
			_Atomic uint64_t *u = &rec_at(t, r)[R_USED];
			uint64_t old = ld_rlx(u);

			if (now_ms > old && now_ms - old >= TG_SEQTAB_USE_GRAIN_MS)
				st_rlx(u, now_ms);
			return true;
		}
		if (res == RD_NOMATCH)
			return false;
		/* The writer is inside a deletion or a record: let it finish (bounded). */
		for (spin = 0; busy != NULL && spin < TG_SEQTAB_SPIN && (ld_acq(busy) & 1); spin++)
			cpu_relax();
	}
	if (unsure != NULL)
		*unsure = true;
	return false;
}

void tg_seqtab_walk(const struct tg_seqtab *t,
		    bool (*cb)(const uint64_t *key, const uint64_t *val, void *arg), void *arg)
{
	uint64_t buf[TG_CAP_SEQTAB_WORDS];
	uint32_t r, i;

	for (r = 0; r < t->nrec; r++) {
		const _Atomic uint64_t *p = rec_at(t, r);
		unsigned tries;
		bool whole = false;

		for (tries = 0; tries < TG_SEQTAB_RECORD_TRIES && !whole; tries++) {
			uint64_t s1 = ld_acq(&p[R_SEQ]), h;

			if (s1 & 1) {
				cpu_relax();
				continue;
			}
			h = ld_acq(&p[R_HASH]);
			for (i = 0; i < t->kw; i++)
				buf[i] = ld_acq(&p[t->ko + i]);
			for (i = 0; i < t->vw; i++)
				buf[t->kw + i] = ld_acq(&p[R_VAL + i]);
			if (ld_rlx(&p[R_SEQ]) != s1)
				continue;
			whole = true;
			if (h == 0)
				break;
			if (!cb(buf, buf + t->kw, arg))
				return;
		}
	}
}
