/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_bypass.c - the dynamic bypass table: configuration checks, principals, the failures
 * window (sliding, exact at the boundary), TTL (exact, not extended), per-principal isolation,
 * refusals, bounds and LRU eviction (reader use refreshes recency), 1M inserts at the bound,
 * ca_missing (threshold, distinct hosts, window, withdrawal, TTL), remove / expire / flush /
 * list, and one writer + 3 reader threads checking that no reader ever sees a torn entry.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/bypass.h"
#include "tg_test.h"

static const uint8_t KEY[16] = "0123456789abcdef";
static const struct tg_bypass_report OK_REP = { false, false, true };

#define S(str) (const uint8_t *)(str), strlen(str)

static struct tg_principal user(const char *name)
{
	struct tg_principal p;

	if (tg_bypass_principal_user(&p, (const uint8_t *)name, strlen(name)) != TG_OK)
		abort();
	return p;
}

static struct tg_principal addr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t ip[4] = { a, b, c, d };
	struct tg_principal p;

	tg_bypass_principal_addr4(&p, ip);
	return p;
}

static struct tg_bypass *mk(uint32_t failures, uint32_t window_s, uint32_t ttl_s, uint32_t per_user,
			    uint32_t total, uint32_t ca_hosts)
{
	struct tg_bypass_cfg cfg = {
		failures, window_s, ttl_s, per_user, total, ca_hosts, 60, 600
	};
	struct tg_bypass *t = NULL;

	if (tg_bypass_new(&cfg, KEY, &t) != TG_OK)
		abort();
	return t;
}

static struct tg_bypass_stats stats(const struct tg_bypass *t)
{
	struct tg_bypass_stats st;

	tg_bypass_stats(t, &st);
	return st;
}

static void test_cfg(void)
{
	struct tg_bypass_cfg d, c;
	struct tg_bypass *t = (struct tg_bypass *)1;
	const char *what = "x";

	tg_bypass_cfg_default(&d);
	CHECK_ERR(tg_bypass_cfg_check(&d, &what), TG_OK);
	CHECK(what == NULL);
	CHECK_INT(d.failures, 3);
	CHECK_INT(d.total_max, 4096);

#define BAD(field, value, text)                                        \
	do {                                                           \
		c = d;                                                 \
		c.field = (value);                                     \
		CHECK_ERR(tg_bypass_cfg_check(&c, &what), TG_ERR_ARG); \
		CHECK(what != NULL && strcmp(what, text) == 0);        \
		CHECK_ERR(tg_bypass_new(&c, KEY, &t), TG_ERR_ARG);     \
		CHECK(t == NULL);                                      \
	} while (0)
	BAD(failures, 0, "failures: must be 1..16");
	BAD(failures, TG_CAP_BYPASS_FAILURES + 1, "failures: must be 1..16");
	BAD(window_s, 0, "window_s: must be at least 1");
	BAD(ttl_s, 0, "ttl_s: must be at least 1");
	BAD(total_max, 0, "total_max: must be 1..262144");
	BAD(total_max, TG_CAP_BYPASS_ENTRIES + 1, "total_max: must be 1..262144");
	BAD(per_user_max, 0, "per_user_max: must be 1..total_max");
	BAD(per_user_max, d.total_max + 1, "per_user_max: must be 1..total_max");
	BAD(ca_missing_hosts, 1, "ca_missing_hosts: must be 0 (off) or 2..64");
	BAD(ca_missing_hosts, TG_CAP_BYPASS_CA_HOSTS + 1,
	    "ca_missing_hosts: must be 0 (off) or 2..64");
	BAD(ca_missing_window_s, 0, "ca_missing_window_s: must be at least 1");
	BAD(ca_missing_ttl_s, 0, "ca_missing_ttl_s: must be at least 1");
#undef BAD
	/* With ca_missing off, its window and TTL do not matter. */
	c = d;
	c.ca_missing_hosts = 0;
	c.ca_missing_window_s = 0;
	c.ca_missing_ttl_s = 0;
	CHECK_ERR(tg_bypass_cfg_check(&c, NULL), TG_OK);
	/* The largest values are accepted. */
	c = d;
	c.failures = TG_CAP_BYPASS_FAILURES;
	c.ca_missing_hosts = TG_CAP_BYPASS_CA_HOSTS;
	c.per_user_max = c.total_max;
	CHECK_ERR(tg_bypass_new(&c, KEY, &t), TG_OK);
	tg_bypass_free(t);
	tg_bypass_free(NULL);
}

static void test_principals(void)
{
	uint8_t name[TG_CAP_USER_NAME + 1];
	static const uint8_t v6[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7 };
	struct tg_principal p, q;
	struct tg_bypass *t = mk(1, 60, 60, 4, 16, 0);

	memset(name, 'a', sizeof(name));
	CHECK_ERR(tg_bypass_principal_user(&p, name, 0), TG_ERR_ZERO_LENGTH);
	CHECK_ERR(tg_bypass_principal_user(&p, name, TG_CAP_USER_NAME + 1), TG_ERR_CAP);
	CHECK_ERR(tg_bypass_principal_user(&p, name, TG_CAP_USER_NAME), TG_OK);
	CHECK_INT(p.kind, TG_PRINCIPAL_USER);
	CHECK_INT(p.len, TG_CAP_USER_NAME);
	/* The longest user with the longest SNI is a valid key. */
	{
		uint8_t sni[TG_CAP_NAME_LEN];

		memset(sni, 'b', sizeof(sni));
		CHECK_INT(tg_bypass_reject(t, &p, sni, sizeof(sni), &OK_REP, 0), TG_BYPASS_LIVE);
		CHECK(tg_bypass_lookup(t, &p, sni, sizeof(sni), 0, NULL));
		sni[TG_CAP_NAME_LEN - 1] = 'c';
		CHECK(!tg_bypass_lookup(t, &p, sni, sizeof(sni), 0, NULL));
	}
	tg_bypass_principal_addr6(&p, v6);
	CHECK_INT(p.kind, TG_PRINCIPAL_ADDR6);
	CHECK_INT(p.len, 16);
	/* A v4-mapped client is the IPv4 client. */
	tg_bypass_principal_addr6(&p, mapped);
	q = addr4(10, 0, 0, 7);
	CHECK_INT(p.kind, TG_PRINCIPAL_ADDR4);
	CHECK(memcmp(&p, &q, sizeof(p)) == 0);
	CHECK_INT(tg_bypass_reject(t, &p, S("m.example"), &OK_REP, 0), TG_BYPASS_LIVE);
	CHECK(tg_bypass_lookup(t, &q, S("m.example"), 0, NULL));
	/* Garbage after len is not part of the key. */
	q.id[5] = 0x55;
	CHECK(tg_bypass_lookup(t, &q, S("m.example"), 0, NULL));
	tg_bypass_free(t);
}

static void test_invalid(void)
{
	struct tg_bypass *t = mk(1, 60, 60, 4, 16, 4);
	struct tg_principal p = user("alice"), bad = p;
	uint8_t long_sni[TG_CAP_NAME_LEN + 1];

	memset(long_sni, 'a', sizeof(long_sni));
	CHECK_INT(tg_bypass_reject(t, &p, (const uint8_t *)"", 0, &OK_REP, 0), TG_BYPASS_INVALID);
	CHECK_INT(tg_bypass_reject(t, &p, NULL, 3, &OK_REP, 0), TG_BYPASS_INVALID);
	CHECK_INT(tg_bypass_reject(t, &p, long_sni, sizeof(long_sni), &OK_REP, 0),
		  TG_BYPASS_INVALID);
	CHECK_INT(tg_bypass_reject(t, NULL, S("a.example"), &OK_REP, 0), TG_BYPASS_INVALID);
	bad.kind = 9;
	CHECK_INT(tg_bypass_reject(t, &bad, S("a.example"), &OK_REP, 0), TG_BYPASS_INVALID);
	bad = p;
	bad.len = 0;
	CHECK_INT(tg_bypass_reject(t, &bad, S("a.example"), &OK_REP, 0), TG_BYPASS_INVALID);
	bad = addr4(1, 2, 3, 4);
	bad.len = 16;
	CHECK_INT(tg_bypass_reject(t, &bad, S("a.example"), &OK_REP, 0), TG_BYPASS_INVALID);
	bad.kind = TG_PRINCIPAL_USER;
	bad.len = TG_CAP_USER_NAME + 1;
	CHECK_INT(tg_bypass_reject(t, &bad, S("a.example"), &OK_REP, 0), TG_BYPASS_INVALID);
	CHECK(!tg_bypass_lookup(t, &bad, S("a.example"), 0, NULL));
	CHECK(!tg_bypass_lookup(t, &p, (const uint8_t *)"", 0, 0, NULL));
	CHECK(!tg_bypass_ca_missing(t, &bad, 0, NULL));
	CHECK_ERR(tg_bypass_remove(t, &bad, S("a.example")), TG_ERR_ARG);
	CHECK_ERR(tg_bypass_ca_clear(t, &bad), TG_ERR_ARG);
	CHECK_INT(stats(t).invalid, 8);
	CHECK_INT(stats(t).reports, 0);
	CHECK_INT(stats(t).principals, 0);
	CHECK(strcmp(tg_bypass_result_name(TG_BYPASS_INVALID), "invalid") == 0);
	CHECK(strcmp(tg_bypass_result_name(TG_BYPASS_REFUSED_ECH), "refused-ech") == 0);
	CHECK(strcmp(tg_bypass_result_name(TG_BYPASS_RESULT__COUNT), "unknown") == 0);
	tg_bypass_free(t);
}

/* failures = 3 within 10 s: the window slides, and a rejection exactly 10 s old is out. */
static void test_window(void)
{
	struct tg_bypass *t = mk(3, 10, 3600, 8, 64, 0);
	struct tg_principal a = user("alice");

	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 0), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 5000), TG_BYPASS_COUNTED);
	CHECK(!tg_bypass_lookup(t, &a, S("pin.example"), 5000, NULL));
	/* At 10000 the first rejection is exactly window old: out, so only 2 count. */
	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 10000), TG_BYPASS_COUNTED);
	CHECK(!tg_bypass_lookup(t, &a, S("pin.example"), 10000, NULL));
	/* 5000, 10000, 14999: all inside (14999 - 5000 < 10000). */
	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 14999), TG_BYPASS_LIVE);
	CHECK(tg_bypass_lookup(t, &a, S("pin.example"), 14999, NULL));

	/* The other side of the boundary: 0, 5000, 9999 -> live at the third. */
	CHECK_INT(tg_bypass_reject(t, &a, S("b.example"), &OK_REP, 0), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("b.example"), &OK_REP, 5000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("b.example"), &OK_REP, 9999), TG_BYPASS_LIVE);

	/* Rejections spread wider than the window never go live. */
	{
		uint64_t now;
		int bad = 0;

		for (now = 0; now < 200000; now += 5000)
			bad += tg_bypass_reject(t, &a, S("slow.example"), &OK_REP, now) !=
			       TG_BYPASS_COUNTED;
		CHECK_INT(bad, 0);
	}
	CHECK_INT(stats(t).went_live, 2);
	tg_bypass_free(t);
}

static void test_ttl(void)
{
	struct tg_bypass *t = mk(2, 60, 60, 8, 64, 0);
	struct tg_principal a = user("alice");
	uint64_t exp = 0;

	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 1000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 2000), TG_BYPASS_LIVE);
	CHECK(tg_bypass_lookup(t, &a, S("pin.example"), 2000, &exp));
	CHECK_INT(exp, 62000);
	CHECK(tg_bypass_lookup(t, &a, S("pin.example"), 61999, NULL));
	CHECK(!tg_bypass_lookup(t, &a, S("pin.example"), 62000, NULL));
	/* A late rejection neither extends nor re-arms. */
	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 30000),
		  TG_BYPASS_ALREADY_LIVE);
	CHECK(tg_bypass_lookup(t, &a, S("pin.example"), 30000, &exp));
	CHECK_INT(exp, 62000);
	CHECK(!tg_bypass_lookup(t, &a, S("pin.example"), 62000, NULL));
	/* Lookups do not extend it either. */
	CHECK(tg_bypass_lookup(t, &a, S("pin.example"), 61000, &exp));
	CHECK_INT(exp, 62000);
	/* After expiry the host is inspected again and must be re-learned. */
	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 62000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("pin.example"), &OK_REP, 62001), TG_BYPASS_LIVE);
	CHECK(tg_bypass_lookup(t, &a, S("pin.example"), 62001, &exp));
	CHECK_INT(exp, 122001);
	CHECK_INT(stats(t).already_live, 1);
	tg_bypass_free(t);
}

static void test_isolation(void)
{
	struct tg_bypass *t = mk(1, 60, 600, 8, 64, 0);
	struct tg_principal a = user("alice"), b = user("bob"), ip = addr4(192, 168, 1, 10);
	struct tg_principal alice2 = user("Alice");

	CHECK_INT(tg_bypass_reject(t, &a, S("Pin.Example"), &OK_REP, 0), TG_BYPASS_LIVE);
	CHECK(tg_bypass_lookup(t, &a, S("pin.example"), 1, NULL)); /* SNI case folded */
	CHECK(tg_bypass_lookup(t, &a, S("PIN.EXAMPLE"), 1, NULL));
	CHECK(!tg_bypass_lookup(t, &b, S("pin.example"), 1, NULL));
	CHECK(!tg_bypass_lookup(t, &ip, S("pin.example"), 1, NULL));
	CHECK(!tg_bypass_lookup(t, &alice2, S("pin.example"), 1, NULL)); /* user names exact */
	CHECK(!tg_bypass_lookup(t, &a, S("pin.example."), 1, NULL));
	CHECK(!tg_bypass_lookup(t, &a, S("in.example"), 1, NULL));
	/* A user principal and an address principal with the same bytes differ. */
	{
		struct tg_principal u4;

		CHECK_ERR(tg_bypass_principal_user(&u4, (const uint8_t[]){ 192, 168, 1, 10 }, 4),
			  TG_OK);
		CHECK_INT(tg_bypass_reject(t, &ip, S("x.example"), &OK_REP, 0), TG_BYPASS_LIVE);
		CHECK(!tg_bypass_lookup(t, &u4, S("x.example"), 1, NULL));
		CHECK(tg_bypass_lookup(t, &ip, S("x.example"), 1, NULL));
	}
	tg_bypass_free(t);
}

static void test_refusals(void)
{
	struct tg_bypass *t = mk(2, 60, 600, 8, 64, 0);
	struct tg_principal a = user("alice");
	struct tg_bypass_report filt = { true, false, true }, ech = { false, true, true },
				norule = { false, false, false }, all = { true, true, false };
	struct tg_bypass_stats st;
	int i;

	for (i = 0; i < 5; i++) {
		CHECK_INT(tg_bypass_reject(t, &a, S("f.example"), &filt, (uint64_t)i),
			  TG_BYPASS_REFUSED_FILTERED);
		CHECK_INT(tg_bypass_reject(t, &a, S("e.example"), &ech, (uint64_t)i),
			  TG_BYPASS_REFUSED_ECH);
		CHECK_INT(tg_bypass_reject(t, &a, S("r.example"), &norule, (uint64_t)i),
			  TG_BYPASS_REFUSED_RULE);
		CHECK_INT(tg_bypass_reject(t, &a, S("n.example"), NULL, (uint64_t)i),
			  TG_BYPASS_REFUSED_RULE);
	}
	/* Filtering is named first when several apply. */
	CHECK_INT(tg_bypass_reject(t, &a, S("x.example"), &all, 9), TG_BYPASS_REFUSED_FILTERED);
	CHECK(!tg_bypass_lookup(t, &a, S("f.example"), 10, NULL));
	CHECK(!tg_bypass_lookup(t, &a, S("e.example"), 10, NULL));
	CHECK(!tg_bypass_lookup(t, &a, S("r.example"), 10, NULL));
	st = stats(t);
	CHECK_INT(st.refused_filtered, 6);
	CHECK_INT(st.refused_ech, 5);
	CHECK_INT(st.refused_rule, 10);
	CHECK_INT(st.live, 0);
	CHECK_INT(st.candidates, 0);
	/* A refused report does not advance a candidate counted before. */
	CHECK_INT(tg_bypass_reject(t, &a, S("c.example"), &OK_REP, 20), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("c.example"), &ech, 21), TG_BYPASS_REFUSED_ECH);
	CHECK(!tg_bypass_lookup(t, &a, S("c.example"), 22, NULL));
	CHECK_INT(tg_bypass_reject(t, &a, S("c.example"), &OK_REP, 23), TG_BYPASS_LIVE);
	/* A refusal for a host that is live does not remove it (the classifier checks first). */
	CHECK_INT(tg_bypass_reject(t, &a, S("c.example"), &filt, 24), TG_BYPASS_REFUSED_FILTERED);
	CHECK(tg_bypass_lookup(t, &a, S("c.example"), 25, NULL));
	tg_bypass_free(t);
}

static void sni_of(char *buf, size_t n, unsigned i)
{
	snprintf(buf, n, "host%u.example", i);
}

/* per_user_max 3: the user's least recently used entry goes; a reader's use keeps one. */
static void test_per_user_lru(void)
{
	struct tg_bypass *t = mk(1, 60, 3600, 3, 64, 0);
	struct tg_principal a = user("alice"), b = user("bob");
	char s[64];
	unsigned i;

	for (i = 1; i <= 3; i++) {
		sni_of(s, sizeof(s), i);
		CHECK_INT(tg_bypass_reject(t, &a, S(s), &OK_REP, i * 1000), TG_BYPASS_LIVE);
	}
	CHECK_INT(tg_bypass_reject(t, &b, S("host1.example"), &OK_REP, 3500), TG_BYPASS_LIVE);
	CHECK_INT(tg_bypass_reject(t, &a, S("host4.example"), &OK_REP, 4000), TG_BYPASS_LIVE);
	CHECK(!tg_bypass_lookup(t, &a, S("host1.example"), 4000, NULL)); /* evicted */
	CHECK(tg_bypass_lookup(t, &b, S("host1.example"), 4000, NULL)); /* bob's is not */
	CHECK(tg_bypass_lookup(t, &a, S("host2.example"), 10000, NULL)); /* used at 10 s */
	CHECK_INT(tg_bypass_reject(t, &a, S("host5.example"), &OK_REP, 11000), TG_BYPASS_LIVE);
	CHECK(tg_bypass_lookup(t, &a, S("host2.example"), 11000, NULL));
	CHECK(!tg_bypass_lookup(t, &a, S("host3.example"), 11000, NULL)); /* least recent */
	CHECK(tg_bypass_lookup(t, &a, S("host4.example"), 11000, NULL));
	CHECK(tg_bypass_lookup(t, &a, S("host5.example"), 11000, NULL));
	CHECK_INT(stats(t).evicted_user, 2);
	CHECK_INT(stats(t).evicted_total, 0);
	CHECK_INT(stats(t).live, 4);
	tg_bypass_free(t);
}

/* total_max 4: the table's least recently used entry goes, whoever owns it. */
static void test_total_lru(void)
{
	struct tg_bypass *t = mk(1, 60, 3600, 4, 4, 0);
	struct tg_principal p[6];
	unsigned i;

	for (i = 0; i < 6; i++)
		p[i] = addr4(10, 0, 0, (uint8_t)i);
	for (i = 0; i < 4; i++)
		CHECK_INT(tg_bypass_reject(t, &p[i], S("a.example"), &OK_REP, i * 1000),
			  TG_BYPASS_LIVE);
	/* p[0] touched by a late rejection, p[1] used by a reader: p[2] is least recent. */
	CHECK_INT(tg_bypass_reject(t, &p[0], S("a.example"), &OK_REP, 5000),
		  TG_BYPASS_ALREADY_LIVE);
	CHECK(tg_bypass_lookup(t, &p[1], S("a.example"), 6000, NULL));
	CHECK_INT(tg_bypass_reject(t, &p[4], S("a.example"), &OK_REP, 7000), TG_BYPASS_LIVE);
	CHECK(!tg_bypass_lookup(t, &p[2], S("a.example"), 7000, NULL));
	CHECK(tg_bypass_lookup(t, &p[0], S("a.example"), 7000, NULL));
	CHECK(tg_bypass_lookup(t, &p[1], S("a.example"), 7000, NULL));
	CHECK_INT(tg_bypass_reject(t, &p[5], S("a.example"), &OK_REP, 8000), TG_BYPASS_LIVE);
	CHECK(!tg_bypass_lookup(t, &p[3], S("a.example"), 8000, NULL));
	CHECK_INT(stats(t).evicted_total, 2);
	CHECK_INT(stats(t).live, 4);
	/* Evicting entries left their principals idle, not gone (until expire()). */
	CHECK_INT(stats(t).principals, 6);
	CHECK_INT(stats(t).evicted_principal, 0);
	CHECK_INT(tg_bypass_expire(t, 9000), 0);
	CHECK_INT(stats(t).principals, 4);
	tg_bypass_free(t);
}

/* Candidates are bounded like live entries: per principal and in all. */
static void test_candidate_bounds(void)
{
	struct tg_bypass *t = mk(2, 60, 3600, 2, 3, 0);
	struct tg_principal a = user("alice"), b = user("bob");

	CHECK_INT(tg_bypass_reject(t, &a, S("h1.example"), &OK_REP, 1), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("h2.example"), &OK_REP, 2), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("h3.example"), &OK_REP, 3), TG_BYPASS_COUNTED);
	CHECK_INT(stats(t).candidates, 2);
	CHECK_INT(stats(t).evicted_cand, 1);
	/* h1 was evicted: its next rejection starts over. */
	CHECK_INT(tg_bypass_reject(t, &a, S("h1.example"), &OK_REP, 4), TG_BYPASS_COUNTED);
	/* ...which evicted h2; h3 is still counting and goes live. */
	CHECK_INT(tg_bypass_reject(t, &a, S("h3.example"), &OK_REP, 5), TG_BYPASS_LIVE);
	CHECK_INT(tg_bypass_reject(t, &b, S("h1.example"), &OK_REP, 6), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &b, S("h2.example"), &OK_REP, 7), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &b, S("h3.example"), &OK_REP, 8), TG_BYPASS_COUNTED);
	CHECK(stats(t).candidates <= 3);
	tg_bypass_free(t);
}

/* One million rejections from 5000 clients to 1M names: the table stays at its bounds. */
static void test_million(void)
{
	struct tg_bypass *t = mk(1, 60, 3600, 10, 1000, 0);
	struct tg_bypass *c = mk(2, 60, 3600, 10, 1000, 0);
	struct tg_bypass_stats st;
	unsigned i, over = 0, notlive = 0;
	char s[64];

	for (i = 0; i < 1000000; i++) {
		unsigned cl = i % 5000;
		struct tg_principal p = addr4(10, 0, (uint8_t)(cl >> 8), (uint8_t)cl);

		sni_of(s, sizeof(s), i);
		if (tg_bypass_reject(t, &p, S(s), &OK_REP, i) != TG_BYPASS_LIVE)
			notlive++;
		(void)tg_bypass_reject(c, &p, S(s), &OK_REP, i);
		if (i % 1000 == 0) {
			st = stats(t);
			over += st.live > 1000 || st.principals > 2001;
			st = stats(c);
			over += st.candidates > 1000 || st.principals > 2001 || st.live != 0;
		}
	}
	CHECK_INT(notlive, 0);
	CHECK_INT(over, 0);
	st = stats(t);
	CHECK_INT(st.live, 1000);
	CHECK_INT(st.went_live, 1000000);
	CHECK_INT(st.evicted_total + st.evicted_user + st.evicted_principal > 0, 1);
	/* The newest entry is there. */
	{
		struct tg_principal p = addr4(10, 0, (999999 % 5000) >> 8, (999999 % 5000) & 0xff);

		sni_of(s, sizeof(s), 999999);
		CHECK(tg_bypass_lookup(t, &p, S(s), 1000000, NULL));
	}
	st = stats(c);
	CHECK_INT(st.candidates, 1000);
	tg_bypass_free(t);
	tg_bypass_free(c);
}

/* ca_missing: 4 distinct hosts within 60 s, the state lasts 600 s. */
static void test_ca_missing(void)
{
	struct tg_bypass *t = mk(2, 60, 3600, 8, 64, 4);
	struct tg_principal a = user("alice"), b = user("bob");
	uint64_t until = 0;
	struct tg_bypass_stats st;
	int i;

	/* An old live entry, learned long before the burst, stays. */
	CHECK_INT(tg_bypass_reject(t, &a, S("old.example"), &OK_REP, 0), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("old.example"), &OK_REP, 1000), TG_BYPASS_LIVE);
	/* The burst, from 100 s on. Repeating a host never counts twice. */
	for (i = 0; i < 10; i++)
		CHECK_INT(tg_bypass_reject(t, &a, S("h1.example"), &OK_REP, 100000 + (uint64_t)i),
			  i == 0   ? TG_BYPASS_COUNTED
			  : i == 1 ? TG_BYPASS_LIVE
				   : TG_BYPASS_ALREADY_LIVE);
	CHECK_INT(tg_bypass_reject(t, &a, S("h2.example"), &OK_REP, 101000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &b, S("h3.example"), &OK_REP, 101500), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("h3.example"), &OK_REP, 102000), TG_BYPASS_COUNTED);
	CHECK(!tg_bypass_ca_missing(t, &a, 102000, NULL));
	/* A refused report still shows the client rejects: the 4th distinct host tips it over. */
	CHECK_INT(tg_bypass_reject(t, &a, S("h4.example"), &(struct tg_bypass_report){ 0 }, 103000),
		  TG_BYPASS_CA_MISSING_ENTERED);
	CHECK(tg_bypass_ca_missing(t, &a, 103000, &until));
	CHECK_INT(until, 703000);
	CHECK(!tg_bypass_ca_missing(t, &b, 103000, NULL));
	/* The tipping rejection created nothing; the burst's entries are withdrawn. */
	CHECK(!tg_bypass_lookup(t, &a, S("h4.example"), 103000, NULL));
	CHECK(!tg_bypass_lookup(t, &a, S("h1.example"), 103000, NULL));
	CHECK(tg_bypass_lookup(t, &a, S("old.example"), 103000, NULL));
	st = stats(t);
	CHECK_INT(st.ca_withdrawn, 3); /* h1 (live), h2 and h3 (candidates) */
	CHECK_INT(st.ca_missing_entered, 1);
	CHECK_INT(st.candidates, 1); /* bob's h3 */
	/* While ca_missing, nothing is learned. */
	CHECK_INT(tg_bypass_reject(t, &a, S("h5.example"), &OK_REP, 104000), TG_BYPASS_CA_MISSING);
	CHECK_INT(tg_bypass_reject(t, &a, S("h5.example"), &OK_REP, 105000), TG_BYPASS_CA_MISSING);
	CHECK(!tg_bypass_lookup(t, &a, S("h5.example"), 105000, NULL));
	CHECK_INT(stats(t).ca_missing_reports, 2);
	/* Exact end; then alice is an ordinary client again, with a fresh host count. */
	CHECK(tg_bypass_ca_missing(t, &a, 702999, NULL));
	CHECK(!tg_bypass_ca_missing(t, &a, 703000, NULL));
	CHECK_INT(tg_bypass_reject(t, &a, S("h5.example"), &OK_REP, 703000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("h5.example"), &OK_REP, 703001), TG_BYPASS_LIVE);
	tg_bypass_free(t);
}

/* The distinct-host window slides: hosts older than ca_missing_window_s drop out. */
static void test_ca_window(void)
{
	struct tg_bypass *t = mk(3, 60, 3600, 8, 64, 4);
	struct tg_principal a = addr4(10, 1, 1, 1);

	CHECK_INT(tg_bypass_reject(t, &a, S("h1.example"), &OK_REP, 0), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("h2.example"), &OK_REP, 10000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("h3.example"), &OK_REP, 20000), TG_BYPASS_COUNTED);
	/* At 60000 h1 is exactly 60 s old: out. 3 distinct. */
	CHECK_INT(tg_bypass_reject(t, &a, S("h4.example"), &OK_REP, 60000), TG_BYPASS_COUNTED);
	CHECK(!tg_bypass_ca_missing(t, &a, 60000, NULL));
	/* Refreshing h2 keeps it in; h5 makes 4. */
	CHECK_INT(tg_bypass_reject(t, &a, S("h2.example"), &OK_REP, 65000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("h5.example"), &OK_REP, 69999),
		  TG_BYPASS_CA_MISSING_ENTERED);
	CHECK_ERR(tg_bypass_ca_clear(t, &a), TG_OK);
	CHECK_ERR(tg_bypass_ca_clear(t, &a), TG_ERR_NOT_FOUND);
	CHECK(!tg_bypass_ca_missing(t, &a, 70000, NULL));
	/* Cleared with an empty host ring: counting starts over. */
	CHECK_INT(tg_bypass_reject(t, &a, S("h6.example"), &OK_REP, 70000), TG_BYPASS_COUNTED);
	CHECK(!tg_bypass_ca_missing(t, &a, 70000, NULL));
	tg_bypass_free(t);

	/* ca_missing_hosts = 0: never. */
	t = mk(1, 60, 3600, 64, 64, 0);
	{
		char s[64];
		unsigned i, bad = 0;

		for (i = 0; i < 60; i++) {
			sni_of(s, sizeof(s), i);
			bad += tg_bypass_reject(t, &a, S(s), &OK_REP, i) != TG_BYPASS_LIVE;
		}
		CHECK_INT(bad, 0);
		CHECK(!tg_bypass_ca_missing(t, &a, 100, NULL));
	}
	tg_bypass_free(t);
}

static void test_remove_expire_flush(void)
{
	struct tg_bypass *t = mk(2, 10, 100, 8, 64, 4);
	struct tg_principal a = user("alice"), b = user("bob");
	struct tg_bypass_stats st;

	CHECK_ERR(tg_bypass_remove(t, &a, S("x.example")), TG_ERR_NOT_FOUND);
	CHECK_INT(tg_bypass_reject(t, &a, S("x.example"), &OK_REP, 0), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("x.example"), &OK_REP, 1), TG_BYPASS_LIVE);
	CHECK_INT(tg_bypass_reject(t, &a, S("y.example"), &OK_REP, 2), TG_BYPASS_COUNTED);
	CHECK_ERR(tg_bypass_remove(t, &a, S("X.EXAMPLE")), TG_OK);
	CHECK(!tg_bypass_lookup(t, &a, S("x.example"), 3, NULL));
	CHECK_ERR(tg_bypass_remove(t, &a, S("y.example")), TG_OK); /* a candidate */
	CHECK_INT(tg_bypass_reject(t, &a, S("y.example"), &OK_REP, 4), TG_BYPASS_COUNTED);
	CHECK_ERR(tg_bypass_ca_clear(t, &b), TG_ERR_NOT_FOUND);

	/* expire: the candidate's last rejection (4) leaves the 10 s window at 10004. */
	CHECK_INT(tg_bypass_reject(t, &b, S("z.example"), &OK_REP, 5), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &b, S("z.example"), &OK_REP, 6), TG_BYPASS_LIVE);
	CHECK_INT(tg_bypass_expire(t, 10003), 0);
	CHECK_INT(tg_bypass_expire(t, 10004), 1);
	CHECK_INT(stats(t).candidates, 0);
	/* the live entry (since 6, ttl 100 s) at 100006 */
	CHECK_INT(tg_bypass_expire(t, 100005), 0);
	CHECK(tg_bypass_lookup(t, &b, S("z.example"), 100005, NULL));
	CHECK_INT(tg_bypass_expire(t, 100006), 1);
	st = stats(t);
	CHECK_INT(st.live, 0);
	CHECK_INT(st.expired, 2);
	CHECK_INT(st.principals, 0); /* both had nothing left, hosts out of the 60 s window */

	CHECK_INT(tg_bypass_reject(t, &a, S("p.example"), &OK_REP, 200000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("p.example"), &OK_REP, 200001), TG_BYPASS_LIVE);
	CHECK_INT(tg_bypass_reject(t, &b, S("q.example"), &OK_REP, 200002), TG_BYPASS_COUNTED);
	tg_bypass_flush(t);
	st = stats(t);
	CHECK_INT(st.live + st.candidates + st.principals, 0);
	CHECK_INT(st.removed, 4); /* x, y by remove; p, q by flush */
	CHECK(!tg_bypass_lookup(t, &a, S("p.example"), 200002, NULL));
	tg_bypass_free(t);
}

struct list_acc {
	unsigned n[8], stop_after, seen;
	char last_sni[300];
	uint64_t since, expires;
	uint32_t rej;
};

static bool list_cb(const struct tg_bypass_entry *e, void *arg)
{
	struct list_acc *la = arg;

	la->n[e->state & 7]++;
	la->seen++;
	snprintf(la->last_sni, sizeof(la->last_sni), "%.*s", (int)e->sni_len, e->sni);
	la->since = e->since_ms;
	la->expires = e->expires_ms;
	la->rej = e->rejections;
	return la->seen != la->stop_after;
}

static void test_list(void)
{
	struct tg_bypass *t = mk(2, 60, 100, 8, 64, 2);
	struct tg_principal a = user("alice"), b = user("bob"), c = user("carol");
	struct list_acc la;

	CHECK_INT(tg_bypass_reject(t, &a, S("live.example"), &OK_REP, 1000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &a, S("live.example"), &OK_REP, 2000), TG_BYPASS_LIVE);
	CHECK_INT(tg_bypass_reject(t, &b, S("cand.example"), &OK_REP, 3000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &c, S("c1.example"), &OK_REP, 4000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &c, S("c2.example"), &OK_REP, 5000),
		  TG_BYPASS_CA_MISSING_ENTERED);

	memset(&la, 0, sizeof(la));
	tg_bypass_list(t, TG_BYPASS_STATE_LIVE, 5000, list_cb, &la);
	CHECK_INT(la.seen, 1);
	CHECK(strcmp(la.last_sni, "live.example") == 0);
	CHECK_INT(la.since, 2000);
	CHECK_INT(la.expires, 102000);
	CHECK_INT(la.rej, 2);

	memset(&la, 0, sizeof(la));
	tg_bypass_list(t, TG_BYPASS_STATE_CANDIDATE, 5000, list_cb, &la);
	CHECK_INT(la.seen, 1); /* carol's candidate was withdrawn */
	CHECK(strcmp(la.last_sni, "cand.example") == 0);
	CHECK_INT(la.expires, 63000);

	memset(&la, 0, sizeof(la));
	tg_bypass_list(t, TG_BYPASS_STATE_CA_MISSING, 5000, list_cb, &la);
	CHECK_INT(la.seen, 1);
	CHECK_INT(la.since, 5000);
	CHECK_INT(la.expires, 605000);
	CHECK_INT(la.last_sni[0], 0);

	memset(&la, 0, sizeof(la));
	tg_bypass_list(t, 7, 5000, list_cb, &la);
	CHECK_INT(la.seen, 3);
	/* Stop early. */
	memset(&la, 0, sizeof(la));
	la.stop_after = 1;
	tg_bypass_list(t, 7, 5000, list_cb, &la);
	CHECK_INT(la.seen, 1);
	/* Dead entries are not listed. */
	memset(&la, 0, sizeof(la));
	tg_bypass_list(t, 7, 700000, list_cb, &la);
	CHECK_INT(la.seen, 0);
	tg_bypass_free(t);
}

/*
 * One writer and 3 readers. Key i is (user "u<i>", SNI "h<i>.example"), made live at
 * now = op * STEP + i, so a reader can check that every entry it sees is whole: the SNI
 * belongs to the principal, and since_ms and expires_ms belong to both. Keys 0..7 are
 * re-rejected by the writer every few operations, so they never become least recent and must
 * (nearly always: see seqtab.h on misses racing deletions) be found.
 */
#define HAMMER_KEYS 3000
#define HAMMER_STEP 4096
#define HAMMER_OPS  200000
#define HAMMER_TTL  2000000

struct hammer {
	struct tg_bypass *t;
	atomic_int done;
	atomic_uint torn, listed, hits, stable_lookups, stable_misses;
};

static void hkey(unsigned i, struct tg_principal *p, char *sni, size_t n)
{
	char u[32];

	snprintf(u, sizeof(u), "u%u", i);
	*p = user(u);
	snprintf(sni, n, "h%u.example", i);
}

static bool hammer_list_cb(const struct tg_bypass_entry *e, void *arg)
{
	struct hammer *h = arg;
	char u[160], s[260];
	unsigned pi, si;

	snprintf(u, sizeof(u), "%.*s", (int)e->principal.len, (const char *)e->principal.id);
	snprintf(s, sizeof(s), "%.*s", (int)e->sni_len, (const char *)e->sni);
	atomic_fetch_add(&h->listed, 1);
	pi = (unsigned)strtoul(u + 1, NULL, 10);
	si = (unsigned)strtoul(s + 1, NULL, 10);
	if (u[0] != 'u' || s[0] != 'h' || pi != si || e->since_ms % HAMMER_STEP != pi ||
	    e->expires_ms != e->since_ms + HAMMER_TTL * 1000ull)
		atomic_fetch_add(&h->torn, 1);
	return true;
}

static void *hammer_reader(void *arg)
{
	struct hammer *h = arg;
	uint64_t x = (uint64_t)(uintptr_t)&x | 1;
	unsigned n = 0;

	while (!atomic_load(&h->done)) {
		struct tg_principal p;
		char sni[64];
		uint64_t exp;
		unsigned i;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (unsigned)(x % HAMMER_KEYS);
		if (n++ % 64 == 0)
			i %= 8;
		hkey(i, &p, sni, sizeof(sni));
		if (tg_bypass_lookup(h->t, &p, S(sni), 0, &exp)) {
			atomic_fetch_add(&h->hits, 1);
			if ((exp - HAMMER_TTL * 1000ull) % HAMMER_STEP != i)
				atomic_fetch_add(&h->torn, 1);
		} else if (i < 8 && n > 64) {
			atomic_fetch_add(&h->stable_misses, 1);
		}
		if (i < 8)
			atomic_fetch_add(&h->stable_lookups, 1);
		if (n % 4096 == 0) {
			struct tg_bypass_stats st;

			tg_bypass_list(h->t, TG_BYPASS_STATE_LIVE, 0, hammer_list_cb, h);
			tg_bypass_stats(h->t, &st);
			if (st.live > 512 || st.went_live > HAMMER_OPS + 8)
				atomic_fetch_add(&h->torn, 1);
		}
	}
	return NULL;
}

static void test_threads(void)
{
	struct hammer h;
	pthread_t th[3];
	unsigned op, i, removed = 0;
	uint64_t x = 88172645463325252ull;
	int k;

	memset(&h, 0, sizeof(h));
	h.t = mk(1, 60, HAMMER_TTL, 4, 512, 0);
	for (i = 0; i < 8; i++) {
		struct tg_principal p;
		char sni[64];

		hkey(i, &p, sni, sizeof(sni));
		CHECK_INT(tg_bypass_reject(h.t, &p, S(sni), &OK_REP, i), TG_BYPASS_LIVE);
	}
	for (k = 0; k < 3; k++)
		CHECK_INT(pthread_create(&th[k], NULL, hammer_reader, &h), 0);
	for (op = 1; op <= HAMMER_OPS; op++) {
		struct tg_principal p;
		char sni[64];

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = 8 + (unsigned)(x % (HAMMER_KEYS - 8));
		if (op % 16 == 0)
			i = op / 16 % 8;
		hkey(i, &p, sni, sizeof(sni));
		if (op % 97 == 0 && i >= 8)
			removed += tg_bypass_remove(h.t, &p, S(sni)) == TG_OK;
		else
			(void)tg_bypass_reject(h.t, &p, S(sni), &OK_REP,
					       (uint64_t)op * HAMMER_STEP + i);
	}
	atomic_store(&h.done, 1);
	for (k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	printf("threads: %u listed, %u hits, %u stable lookups, %u stable misses, %u torn\n",
	       atomic_load(&h.listed), atomic_load(&h.hits), atomic_load(&h.stable_lookups),
	       atomic_load(&h.stable_misses), atomic_load(&h.torn));
	CHECK_INT(atomic_load(&h.torn), 0);
	CHECK(atomic_load(&h.listed) > 0);
	CHECK(atomic_load(&h.hits) > 0);
	CHECK(atomic_load(&h.stable_misses) * 1000 <= atomic_load(&h.stable_lookups));
	CHECK(stats(h.t).live <= 512);
	CHECK(removed > 0);
	tg_bypass_free(h.t);
}

int main(void)
{
	test_cfg();
	test_principals();
	test_invalid();
	test_window();
	test_ttl();
	test_isolation();
	test_refusals();
	test_per_user_lru();
	test_total_lru();
	test_candidate_bounds();
	test_million();
	test_ca_missing();
	test_ca_window();
	test_remove_expire_flush();
	test_list();
	test_threads();
	return tg_test_done();
}
