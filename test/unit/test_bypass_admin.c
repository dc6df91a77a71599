/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_bypass_admin.c - the administrator's side of the dynamic bypass table (bypass.h):
 * tg_bypass_add() (a live entry without rejections, its lifetime, a candidate replaced, the
 * per-principal bound, invalid input) and tg_bypass_flush_principal() (one principal's
 * entries, candidates and ca_missing state go; the others stay).
 */
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

/* 3 failures in 60 s, live 100 s, 2 per principal, 8 in all, ca_missing at 3 hosts. */
static struct tg_bypass *mk(void)
{
	struct tg_bypass_cfg cfg = { 3, 60, 100, 2, 8, 3, 60, 600 };
	struct tg_bypass *t = NULL;

	if (tg_bypass_new(&cfg, KEY, &t) != TG_OK)
		abort();
	return t;
}

static void test_add(void)
{
	struct tg_bypass *t = mk();
	struct tg_principal a = user("alice"), b = addr4(10, 0, 0, 2), d = user("dave"), bad;
	uint64_t exp = 0;

	/* A new live entry, no rejection needed, with the table's TTL (100 s). */
	CHECK_ERR(tg_bypass_add(t, &a, S("App.Example"), 0, 1000), TG_OK);
	CHECK(tg_bypass_lookup(t, &a, S("app.example"), 1000, &exp));
	CHECK_INT(exp, 101000);
	CHECK(!tg_bypass_lookup(t, &a, S("app.example"), 101000, NULL));
	CHECK(!tg_bypass_lookup(t, &b, S("app.example"), 1000, NULL));
	/* Its own lifetime, and added again: the new lifetime (shorter too). */
	CHECK_ERR(tg_bypass_add(t, &b, S("x.example"), 5, 2000), TG_OK);
	CHECK(tg_bypass_lookup(t, &b, S("x.example"), 6999, &exp));
	CHECK(!tg_bypass_lookup(t, &b, S("x.example"), 7000, NULL));
	CHECK_ERR(tg_bypass_add(t, &b, S("x.example"), 1000, 3000), TG_OK);
	CHECK(tg_bypass_lookup(t, &b, S("x.example"), 500000, &exp));
	CHECK_INT(exp, 1003000);
	CHECK_ERR(tg_bypass_add(t, &b, S("x.example"), 1, 4000), TG_OK);
	CHECK(!tg_bypass_lookup(t, &b, S("x.example"), 5000, NULL));

	/* A candidate (one rejection of three) is replaced by the live entry. */
	CHECK_INT(tg_bypass_reject(t, &a, S("c.example"), &OK_REP, 6000), TG_BYPASS_COUNTED);
	CHECK_ERR(tg_bypass_add(t, &a, S("c.example"), 0, 6000), TG_OK);
	{
		struct tg_bypass_stats st;

		tg_bypass_stats(t, &st);
		CHECK_INT(st.candidates, 0);
		CHECK_INT(st.live, 3); /* app, x (expired, not freed yet), c */
	}
	CHECK_INT(tg_bypass_reject(t, &a, S("c.example"), &OK_REP, 7000), TG_BYPASS_ALREADY_LIVE);

	/* per_user_max 2: a third entry of dave evicts his least recently used one. */
	CHECK_ERR(tg_bypass_add(t, &d, S("d1.example"), 0, 8000), TG_OK);
	CHECK_ERR(tg_bypass_add(t, &d, S("d2.example"), 0, 9000), TG_OK);
	CHECK_ERR(tg_bypass_add(t, &d, S("d3.example"), 0, 10000), TG_OK);
	CHECK(tg_bypass_lookup(t, &d, S("d3.example"), 10000, NULL));
	CHECK(tg_bypass_lookup(t, &d, S("d2.example"), 10000, NULL));
	CHECK(!tg_bypass_lookup(t, &d, S("d1.example"), 10000, NULL));
	{
		struct tg_bypass_stats st;

		tg_bypass_stats(t, &st);
		CHECK_INT(st.evicted_user, 1);
	}

	/* Invalid input records nothing. */
	memset(&bad, 0, sizeof(bad));
	CHECK_ERR(tg_bypass_add(t, &bad, S("y.example"), 0, 9000), TG_ERR_ARG);
	CHECK_ERR(tg_bypass_add(t, &a, S(""), 0, 9000), TG_ERR_ARG);
	{
		char longname[TG_CAP_NAME_LEN + 2];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		CHECK_ERR(tg_bypass_add(t, &a, S(longname), 0, 9000), TG_ERR_ARG);
	}
	tg_bypass_free(t);
}

static void test_flush_principal(void)
{
	struct tg_bypass *t = mk();
	struct tg_principal a = user("alice"), b = addr4(10, 0, 0, 2), c = user("carol");
	struct tg_bypass_stats st;

	CHECK_ERR(tg_bypass_add(t, &a, S("a1.example"), 0, 1000), TG_OK);
	CHECK_ERR(tg_bypass_add(t, &a, S("a2.example"), 0, 1000), TG_OK);
	CHECK_INT(tg_bypass_reject(t, &a, S("a3.example"), &OK_REP, 1000), TG_BYPASS_COUNTED);
	CHECK_ERR(tg_bypass_add(t, &b, S("b1.example"), 0, 1000), TG_OK);
	/* carol rejects three distinct hosts: ca_missing. */
	CHECK_INT(tg_bypass_reject(t, &c, S("h1.example"), &OK_REP, 1000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &c, S("h2.example"), &OK_REP, 1000), TG_BYPASS_COUNTED);
	CHECK_INT(tg_bypass_reject(t, &c, S("h3.example"), &OK_REP, 1000),
		  TG_BYPASS_CA_MISSING_ENTERED);
	CHECK(tg_bypass_ca_missing(t, &c, 2000, NULL));

	tg_bypass_stats(t, &st);
	CHECK_INT(st.removed, 0);
	CHECK_INT(tg_bypass_flush_principal(t, &a), 3); /* two live, one candidate */
	CHECK(!tg_bypass_lookup(t, &a, S("a1.example"), 2000, NULL));
	CHECK(!tg_bypass_lookup(t, &a, S("a2.example"), 2000, NULL));
	CHECK(tg_bypass_lookup(t, &b, S("b1.example"), 2000, NULL));
	tg_bypass_stats(t, &st);
	CHECK_INT(st.removed, 3);
	CHECK_INT(st.candidates, 0);
	CHECK_INT(st.live, 1);
	/* A second flush of alice finds nothing; an unknown principal neither. */
	CHECK_INT(tg_bypass_flush_principal(t, &a), 0);
	CHECK_INT(tg_bypass_flush_principal(t, NULL), 0);
	/* carol's ca_missing state goes with her. */
	CHECK_INT(tg_bypass_flush_principal(t, &c), 0);
	CHECK(!tg_bypass_ca_missing(t, &c, 2000, NULL));
	CHECK_INT(tg_bypass_reject(t, &c, S("h1.example"), &OK_REP, 3000), TG_BYPASS_COUNTED);
	tg_bypass_free(t);
}

int main(void)
{
	test_add();
	test_flush_principal();
	return tg_test_done();
}
