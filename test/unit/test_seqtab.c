/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_seqtab.c - the single-writer table: SipHash vectors, argument checks, insert / find /
 * delete against a reference model with forced hash collisions and index wrap-around (the
 * backward-shift deletion), capacity, LRU with the readers' second chance, walks, and a race
 * where readers look up a key that the writer's deletions keep shifting in the index.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/seqtab.h"
#include "tg_test.h"

static const uint8_t K16[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static void test_siphash(void)
{
	uint8_t msg[64];
	int i;

	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* The reference vectors of the SipHash paper (key 00..0f, message 00..len-1). */
	CHECK(tg_seqtab_hash(K16, msg, 0) == 0x726fdb47dd0e0e31ull);
	CHECK(tg_seqtab_hash(K16, msg, 1) == 0x74f839c593dc67fdull);
	CHECK(tg_seqtab_hash(K16, msg, 8) == 0x93f5f5799a932462ull);
	CHECK(tg_seqtab_hash(K16, msg, 15) == 0xa129ca6149be45e5ull);
	/* Another key gives another hash. */
	msg[0] = 1;
	CHECK(tg_seqtab_hash(K16, msg, 15) != 0xa129ca6149be45e5ull);
}

static void test_args(void)
{
	struct tg_seqtab *t = (struct tg_seqtab *)1;

	CHECK_ERR(tg_seqtab_new(0, 1, 1, &t), TG_ERR_ARG);
	CHECK(t == NULL);
	CHECK_ERR(tg_seqtab_new(4, 0, 1, &t), TG_ERR_ARG);
	CHECK_ERR(tg_seqtab_new(4, 60, 5, &t), TG_ERR_ARG);
	CHECK_ERR(tg_seqtab_new(TG_CAP_SEQTAB_RECORDS + 1, 1, 1, &t), TG_ERR_ARG);
	CHECK_ERR(tg_seqtab_new(4, 60, 4, &t), TG_OK); /* exactly the word cap */
	tg_seqtab_free(t);
	tg_seqtab_free(NULL);
}

/* A key of 2 words whose hash the test chooses, to force collisions. */
struct tkey {
	uint64_t w[2];
	struct tg_seqtab_key k;
};

static void tkey(struct tkey *tk, uint64_t id, uint64_t hash)
{
	tk->w[0] = id;
	tk->w[1] = id * 31 + 7;
	tk->k.w = tk->w;
	tk->k.nw = 2;
	tk->k.hash = hash;
}

static void test_basic(void)
{
	struct tg_seqtab *t;
	struct tkey a, b, c;
	uint64_t key[2], val[1], v1 = 11;
	uint32_t ra, rb, r;

	CHECK_ERR(tg_seqtab_new(2, 2, 1, &t), TG_OK);
	tkey(&a, 1, 0x100);
	tkey(&b, 2, 0x100); /* same hash, different key */
	tkey(&c, 3, 0x200);
	CHECK_ERR(tg_seqtab_insert(t, &a.k, &v1, 0, &ra), TG_OK);
	CHECK_ERR(tg_seqtab_insert(t, &a.k, &v1, 0, NULL), TG_ERR_DUPLICATE);
	CHECK_ERR(tg_seqtab_insert(t, &b.k, NULL, 0, &rb), TG_OK);
	CHECK_ERR(tg_seqtab_insert(t, &c.k, NULL, 0, NULL), TG_ERR_CAP);
	CHECK_INT(tg_seqtab_count(t), 2);
	CHECK(tg_seqtab_find(t, &a.k, &r) && r == ra);
	CHECK(tg_seqtab_find(t, &b.k, &r) && r == rb);
	CHECK(!tg_seqtab_find(t, &c.k, &r));
	CHECK(tg_seqtab_lookup(t, &a.k, val, 0, NULL) && val[0] == 11);
	CHECK(tg_seqtab_lookup(t, &b.k, val, 0, NULL) && val[0] == 0);
	CHECK(!tg_seqtab_lookup(t, &c.k, val, 0, NULL));
	/* A key with the right hash but another word is not found. */
	a.w[1]++;
	CHECK(!tg_seqtab_lookup(t, &a.k, val, 0, NULL));
	a.w[1]--;
	/* nw beyond the table's key words is refused, not read out of bounds. */
	a.k.nw = 3;
	CHECK(!tg_seqtab_lookup(t, &a.k, val, 0, NULL));
	CHECK_ERR(tg_seqtab_insert(t, &a.k, NULL, 0, NULL), TG_ERR_ARG);
	a.k.nw = 2;
	v1 = 99;
	tg_seqtab_set(t, ra, &v1);
	CHECK(tg_seqtab_get(t, ra, key, val) && key[0] == 1 && key[1] == 38 && val[0] == 99);
	tg_seqtab_delete(t, ra);
	CHECK(!tg_seqtab_get(t, ra, key, val));
	CHECK(!tg_seqtab_get(t, 1000, key, val));
	CHECK(!tg_seqtab_lookup(t, &a.k, val, 0, NULL));
	CHECK(tg_seqtab_lookup(t, &b.k, val, 0, NULL));
	CHECK_ERR(tg_seqtab_insert(t, &c.k, NULL, 0, NULL), TG_OK);
	CHECK_INT(tg_seqtab_count(t), 2);
	tg_seqtab_free(t);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/*
 * Random inserts and deletes on 12 records (16 index slots) with hashes drawn from a handful of
 * home positions near the end of the index, so probe chains wrap and deletions shift entries
 * across the wrap. After every operation every model key must be found, by the writer and by a
 * reader, and no deleted key may be.
 */
static void test_model(void)
{
	enum { N = 12, IDS = 40 };
	struct tg_seqtab *t;
	bool present[IDS] = { false };
	uint64_t hash[IDS];
	unsigned i, op, bad = 0, n = 0;

	CHECK_ERR(tg_seqtab_new(N, 2, 1, &t), TG_OK);
	for (i = 0; i < IDS; i++)
		hash[i] = (rnd() & 0xffffffff00000000ull) |
			  ((28 + rnd() % 8) & 31); /* 28..31, 0..3 */
	for (i = 0; i < IDS; i += 3)
		hash[i] = (hash[0] & 0xffffffff00000000ull) | (hash[i] & 0xff); /* same tags too */
	for (op = 0; op < 200000; op++) {
		unsigned id = (unsigned)(rnd() % IDS), j;
		struct tkey tk;
		uint32_t r;
		uint64_t v = id;

		tkey(&tk, id, hash[id]);
		if (present[id]) {
			if (!tg_seqtab_find(t, &tk.k, &r)) {
				bad++;
				continue;
			}
			tg_seqtab_delete(t, r);
			present[id] = false;
			n--;
		} else if (n < N) {
			if (tg_seqtab_insert(t, &tk.k, &v, op, NULL) != TG_OK)
				bad++;
			present[id] = true;
			n++;
		}
		for (j = 0; j < IDS; j++) {
			uint64_t got = 0;

			tkey(&tk, j, hash[j]);
			if (tg_seqtab_find(t, &tk.k, &r) != present[j])
				bad++;
			if (tg_seqtab_lookup(t, &tk.k, &got, 0, NULL) != present[j] ||
			    (present[j] && got != j))
				bad++;
		}
		if (tg_seqtab_count(t) != n)
			bad++;
	}
	CHECK_INT(bad, 0);
	tg_seqtab_free(t);
}

static void test_lru(void)
{
	struct tg_seqtab *t;
	struct tkey k[4];
	uint32_t r[4], v;
	int i;

	CHECK_ERR(tg_seqtab_new(4, 2, 0, &t), TG_OK);
	CHECK(!tg_seqtab_lru(t, &v));
	for (i = 0; i < 3; i++) {
		tkey(&k[i], (uint64_t)i, tg_seqtab_hash(K16, &i, sizeof(i)));
		CHECK_ERR(tg_seqtab_insert(t, &k[i].k, NULL, 1000 + (uint64_t)i, &r[i]), TG_OK);
	}
	/* Insert order: 0 is least recent. */
	CHECK(tg_seqtab_lru(t, &v) && v == r[0]);
	/* A writer touch makes 0 the most recent: now 1 is the victim. */
	tg_seqtab_touch(t, r[0], 1010);
	CHECK(tg_seqtab_lru(t, &v) && v == r[1]);
	CHECK_INT(tg_seqtab_recency(t, r[1]), 1001);
	/* A reader's lookup less than a grain after the touch does not stamp. */
	CHECK(tg_seqtab_lookup(t, &k[1].k, NULL, 1001 + TG_SEQTAB_USE_GRAIN_MS - 1, NULL));
	CHECK_INT(tg_seqtab_recency(t, r[1]), 1001);
	CHECK(tg_seqtab_lru(t, &v) && v == r[1]);
	/* A lookup a grain later does, and 1 gets its second chance: 2 is the victim. */
	CHECK(tg_seqtab_lookup(t, &k[1].k, NULL, 5000, NULL));
	CHECK_INT(tg_seqtab_recency(t, r[1]), 5000);
	CHECK(tg_seqtab_lru(t, &v) && v == r[2]);
	/* 0 used at 6000: 2 (1002) stays the victim; 2 used at 7000: 1 (5000) is. */
	CHECK(tg_seqtab_lookup(t, &k[0].k, NULL, 6000, NULL));
	CHECK(tg_seqtab_lru(t, &v) && v == r[2]);
	CHECK(tg_seqtab_lookup(t, &k[2].k, NULL, 7000, NULL));
	CHECK(tg_seqtab_lru(t, &v) && v == r[1]);
	tg_seqtab_delete(t, r[1]);
	CHECK(tg_seqtab_lru(t, &v) && (v == r[0] || v == r[2]));
	tg_seqtab_delete(t, r[0]);
	tg_seqtab_delete(t, r[2]);
	CHECK(!tg_seqtab_lru(t, &v));
	CHECK_INT(tg_seqtab_count(t), 0);
	tg_seqtab_free(t);
}

struct walk_acc {
	unsigned seen, bad, stop_after;
};

static bool walk_cb(const uint64_t *key, const uint64_t *val, void *arg)
{
	struct walk_acc *w = arg;

	w->seen++;
	if (key[1] != key[0] * 31 + 7 || val[0] != key[0] * 2)
		w->bad++;
	return w->seen != w->stop_after;
}

static void test_walk(void)
{
	struct tg_seqtab *t;
	struct walk_acc w = { 0, 0, 0 };
	uint64_t i;
	uint32_t r;

	CHECK_ERR(tg_seqtab_new(100, 2, 1, &t), TG_OK);
	for (i = 0; i < 100; i++) {
		struct tkey tk;
		uint64_t v = i * 2;

		tkey(&tk, i, tg_seqtab_hash(K16, &i, sizeof(i)));
		CHECK_ERR(tg_seqtab_insert(t, &tk.k, &v, 0, i == 50 ? &r : NULL), TG_OK);
	}
	tg_seqtab_delete(t, r);
	tg_seqtab_walk(t, walk_cb, &w);
	CHECK_INT(w.seen, 99);
	CHECK_INT(w.bad, 0);
	w.seen = 0;
	w.stop_after = 10;
	tg_seqtab_walk(t, walk_cb, &w);
	CHECK_INT(w.seen, 10);
	tg_seqtab_free(t);
}

/*
 * The writer loops: insert Y (home h, takes slot h), delete and re-insert S (home h, lands at
 * h+1, displaced) inside an "absent" window the readers can see, delete Y (S shifts back to h).
 * Readers look S up outside absent windows: a miss then is a false miss, which the stripe
 * epochs must prevent (a reader that read slot h before the shift and h+1 after it) or at
 * least flag as unsure (every retry raced this very hot stripe).
 */
struct shift_race {
	struct tg_seqtab *t;
	atomic_uint absent; /* odd while S is deleted */
	atomic_int done;
	atomic_uint lookups, unsure, false_misses;
};

static void *shift_reader(void *arg)
{
	struct shift_race *sr = arg;
	struct tkey s;

	tkey(&s, 1, 0xabcd00000005ull);
	while (!atomic_load(&sr->done)) {
		unsigned g1 = atomic_load(&sr->absent), g2;
		bool unsure, hit = tg_seqtab_lookup(sr->t, &s.k, NULL, 0, &unsure);

		g2 = atomic_load(&sr->absent);
		if (g1 & 1 || g1 != g2)
			continue;
		atomic_fetch_add(&sr->lookups, 1);
		if (unsure)
			atomic_fetch_add(&sr->unsure, 1);
		else if (!hit)
			atomic_fetch_add(&sr->false_misses, 1);
	}
	return NULL;
}

static void test_shift_race(void)
{
	struct shift_race sr;
	struct tkey s, y;
	pthread_t th[2];
	uint32_t rs, ry;
	unsigned i;
	int k;

	memset(&sr, 0, sizeof(sr));
	CHECK_ERR(tg_seqtab_new(64, 2, 0, &sr.t), TG_OK);
	tkey(&s, 1, 0xabcd00000005ull);
	tkey(&y, 2, 0x123400000005ull);
	CHECK_ERR(tg_seqtab_insert(sr.t, &s.k, NULL, 0, &rs), TG_OK);
	for (k = 0; k < 2; k++)
		CHECK_INT(pthread_create(&th[k], NULL, shift_reader, &sr), 0);
	for (i = 0; i < 300000; i++) {
		if (tg_seqtab_insert(sr.t, &y.k, NULL, 0, &ry) != TG_OK)
			break;
		atomic_fetch_add(&sr.absent, 1);
		tg_seqtab_delete(sr.t, rs);
		if (tg_seqtab_insert(sr.t, &s.k, NULL, 0, &rs) != TG_OK)
			break;
		atomic_fetch_add(&sr.absent, 1);
		tg_seqtab_delete(sr.t, ry); /* S shifts back to its home slot */
	}
	atomic_store(&sr.done, 1);
	for (k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	printf("shift race: %u cycles, %u lookups, %u unsure, %u false misses\n", i,
	       atomic_load(&sr.lookups), atomic_load(&sr.unsure), atomic_load(&sr.false_misses));
	CHECK_INT(i, 300000);
	CHECK(atomic_load(&sr.lookups) > 0);
	CHECK_INT(atomic_load(&sr.false_misses), 0);
	tg_seqtab_free(sr.t);
}

int main(void)
{
	test_siphash();
	test_args();
	test_basic();
	test_model();
	test_lru();
	test_walk();
	test_shift_race();
	return tg_test_done();
}
