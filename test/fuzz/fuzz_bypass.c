/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_bypass.c - an operation script for the dynamic bypass table with small caps. The first
 * 8 bytes pick the configuration; then 4-byte operations: opcode, principal (6: 3 users, 3
 * addresses), SNI (8 names, two differing only in case) with report flags, time step.
 *
 * A shadow model records every key the table said went live, with its expiry. Invariants:
 * - gauges never exceed the caps (live, candidates <= total_max; principals <= 2*total_max+1),
 *   and no principal holds more than per_user_max live entries or candidates (from the list);
 * - a live key is found by lookup until its expiry unless an eviction, withdrawal or removal
 *   happened since it went live; at and after its expiry it is not found;
 * - a found key is in the model with the same expiry (nothing becomes live any other way:
 *   refusals, ca_missing and counted rejections create no live entry);
 * - a principal that just entered ca_missing is reported so, and its tipping SNI is not live;
 * - results are in range, and every list entry is consistent with lookup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/bypass.h"
#include "tlsgate/cursor.h"

#define NP 6
#define NS 8

static const char *const snis[NS] = { "a.example", "A.EXAMPLE", "b.example", "c.example",
				      "d.example", "e.example", "f.example", "x" };
/* Index of each SNI's case-folded form. */
static const int canon[NS] = { 0, 0, 2, 3, 4, 5, 6, 7 };

struct model {
	bool live[NP][NS];
	uint64_t expires[NP][NS];
	uint64_t gone_at[NP][NS]; /* removal counter when it went live */
};

static struct tg_principal principal(unsigned i)
{
	static const char *const users[3] = { "alice", "bob", "carol" };
	struct tg_principal p;

	if (i < 3) {
		if (tg_bypass_principal_user(&p, (const uint8_t *)users[i], strlen(users[i])) !=
		    TG_OK)
			abort();
	} else {
		const uint8_t a[4] = { 192, 0, 2, (uint8_t)i };

		tg_bypass_principal_addr4(&p, a);
	}
	return p;
}

static uint64_t removals(const struct tg_bypass *t)
{
	struct tg_bypass_stats st;

	tg_bypass_stats(t, &st);
	return st.evicted_user + st.evicted_total + st.ca_withdrawn + st.removed;
}

struct census {
	const struct tg_bypass *t;
	uint64_t now;
	unsigned live[NP], cand[NP];
};

static int principal_index(const struct tg_principal *p)
{
	unsigned i;

	for (i = 0; i < NP; i++) {
		struct tg_principal q = principal(i);

		if (q.kind == p->kind && q.len == p->len && memcmp(q.id, p->id, q.len) == 0)
			return (int)i;
	}
	return -1;
}

static bool census_cb(const struct tg_bypass_entry *e, void *arg)
{
	struct census *c = arg;
	int pi = principal_index(&e->principal);
	uint64_t exp = 0;

	if (pi < 0)
		abort();
	if (e->state == TG_BYPASS_STATE_LIVE) {
		c->live[pi]++;
		if (!tg_bypass_lookup(c->t, &e->principal, e->sni, e->sni_len, c->now, &exp) ||
		    exp != e->expires_ms || c->now >= e->expires_ms)
			abort();
	} else if (e->state == TG_BYPASS_STATE_CANDIDATE) {
		c->cand[pi]++;
	} else if (!tg_bypass_ca_missing(c->t, &e->principal, c->now, NULL) || e->sni_len) {
		abort();
	}
	return true;
}

static void check_bounds(const struct tg_bypass *t, const struct tg_bypass_cfg *cfg, uint64_t now)
{
	struct census c;
	struct tg_bypass_stats st;
	unsigned i;

	tg_bypass_stats(t, &st);
	if (st.live > cfg->total_max || st.candidates > cfg->total_max ||
	    st.principals > 2 * cfg->total_max + 1)
		abort();
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.now = now;
	tg_bypass_list(
		t, TG_BYPASS_STATE_LIVE | TG_BYPASS_STATE_CANDIDATE | TG_BYPASS_STATE_CA_MISSING,
		now, census_cb, &c);
	for (i = 0; i < NP; i++)
		if (c.live[i] > cfg->per_user_max || c.cand[i] > cfg->per_user_max)
			abort();
}

static void check_model(const struct tg_bypass *t, const struct model *m, uint64_t now)
{
	unsigned p, s;

	for (p = 0; p < NP; p++) {
		struct tg_principal pr = principal(p);

		for (s = 0; s < NS; s++) {
			uint64_t exp = 0;
			bool found = tg_bypass_lookup(t, &pr, (const uint8_t *)snis[s],
						      strlen(snis[s]), now, &exp);
			int k = canon[s];

			if (found && (!m->live[p][k] || exp != m->expires[p][k] || now >= exp))
				abort();
			if (!found && m->live[p][k] && now < m->expires[p][k] &&
			    removals(t) == m->gone_at[p][k])
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[16] = "fuzz-bypass-key!";
	struct tg_bypass_cfg cfg;
	struct tg_bypass *t = NULL;
	struct model m;
	struct tg_cur c;
	uint64_t now;
	unsigned ops = 0;
	uint8_t b;

	tg_cur_init(&c, data, size);
	cfg.failures = 1 + tg_cur_u8(&c) % 4;
	cfg.window_s = 1 + tg_cur_u8(&c) % 8;
	cfg.ttl_s = 1 + tg_cur_u8(&c) % 8;
	cfg.total_max = 1 + tg_cur_u8(&c) % 8;
	cfg.per_user_max = 1 + tg_cur_u8(&c) % cfg.total_max;
	b = tg_cur_u8(&c) % 5;
	cfg.ca_missing_hosts = b ? 1u + b : 0; /* 0, 2..5 */
	b = tg_cur_u8(&c);
	cfg.ca_missing_window_s = 1 + b % 8;
	cfg.ca_missing_ttl_s = 1 + (b >> 4) % 8;
	now = (uint64_t)tg_cur_u8(&c) << 32;
	if (!tg_cur_ok(&c) || tg_bypass_new(&cfg, key, &t) != TG_OK)
		return 0;
	memset(&m, 0, sizeof(m));
	while (tg_cur_left(&c) >= 4 && ops++ < 400) {
		uint8_t op = tg_cur_u8(&c), pi = tg_cur_u8(&c) % NP, sb = tg_cur_u8(&c);
		uint8_t step = tg_cur_u8(&c);
		unsigned si = sb % NS;
		struct tg_principal p = principal(pi);
		const uint8_t *sni = (const uint8_t *)snis[si];
		size_t slen = strlen(snis[si]);
		struct tg_bypass_report rep = { (sb & 0x10) != 0, (sb & 0x20) != 0,
						(sb & 0xc0) != 0 };
		enum tg_bypass_result res;
		bool before;
		uint64_t exp = 0;
		int k = canon[si];

		now += (uint64_t)step * (step & 1 ? 1 : 250);
		switch (op % 8) {
		case 0:
		case 1:
		case 2:
			before = tg_bypass_lookup(t, &p, sni, slen, now, NULL);
			res = tg_bypass_reject(t, &p, sni, slen, &rep, now);
			if ((unsigned)res >= TG_BYPASS_RESULT__COUNT || res == TG_BYPASS_INVALID)
				abort();
			if (res == TG_BYPASS_LIVE) {
				if (!tg_bypass_lookup(t, &p, sni, slen, now, &exp) ||
				    exp != now + cfg.ttl_s * 1000ull)
					abort();
				m.live[pi][k] = true;
				m.expires[pi][k] = exp;
				m.gone_at[pi][k] = removals(t);
			} else if (res == TG_BYPASS_ALREADY_LIVE) {
				if (!before)
					abort();
			} else if (res == TG_BYPASS_CA_MISSING_ENTERED ||
				   res == TG_BYPASS_CA_MISSING) {
				if (!tg_bypass_ca_missing(t, &p, now, NULL))
					abort();
				if (res == TG_BYPASS_CA_MISSING_ENTERED &&
				    tg_bypass_lookup(t, &p, sni, slen, now, NULL))
					abort();
			} else if (!before && tg_bypass_lookup(t, &p, sni, slen, now, NULL)) {
				abort(); /* COUNTED and refusals make nothing live */
			}
			break;
		case 3:
			(void)tg_bypass_expire(t, now);
			break;
		case 4:
			if (tg_bypass_remove(t, &p, sni, slen) == TG_OK &&
			    tg_bypass_lookup(t, &p, sni, slen, now, NULL))
				abort();
			break;
		case 5:
			if (sb == 0xff)
				tg_bypass_flush(t);
			else if (sb == 0xfe && tg_bypass_ca_clear(t, &p) == TG_OK &&
				 tg_bypass_ca_missing(t, &p, now, NULL))
				abort();
			else
				(void)tg_bypass_ca_missing(t, &p, now, NULL);
			break;
		default:
			(void)tg_bypass_lookup(t, &p, sni, slen, now, NULL);
			break;
		}
		check_bounds(t, &cfg, now);
		check_model(t, &m, now);
	}
	tg_bypass_free(t);
	return 0;
}
