/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_upstream.c - unsupported-upstream exclusions: configuration, the (SNI, port) key and the
 * address key for SNI-less flows, case folding, TTL exact at the boundary and refreshed by a
 * re-add, LRU eviction with reader use, bounds under 100k adds, remove / expire / list, names.
 */
#include <stdio.h>
#include <string.h>

#include "tlsgate/upstream.h"
#include "tg_test.h"

static const uint8_t KEY[16] = "upstream-key-16b";

static struct tg_upstream *mk(uint32_t ttl_s, uint32_t max)
{
	struct tg_upstream_cfg cfg = { ttl_s, max };
	struct tg_upstream *t = NULL;

	if (tg_upstream_new(&cfg, KEY, &t) != TG_OK)
		return NULL;
	return t;
}

static struct tg_upstream_server sni(const char *name, uint16_t port)
{
	struct tg_upstream_server s;

	memset(&s, 0, sizeof(s));
	s.sni = (const uint8_t *)name;
	s.sni_len = strlen(name);
	s.port = port;
	return s;
}

static struct tg_upstream_server addr(uint8_t last, uint16_t port)
{
	struct tg_upstream_server s;

	memset(&s, 0, sizeof(s));
	s.addr[10] = s.addr[11] = 0xff; /* ::ffff:198.51.100.last */
	s.addr[12] = 198;
	s.addr[13] = 51;
	s.addr[14] = 100;
	s.addr[15] = last;
	s.port = port;
	return s;
}

static void test_cfg(void)
{
	struct tg_upstream_cfg d, c;
	struct tg_upstream *t = (struct tg_upstream *)1;
	const char *what = NULL;

	tg_upstream_cfg_default(&d);
	CHECK_ERR(tg_upstream_cfg_check(&d, &what), TG_OK);
	CHECK_INT(d.ttl_s, 3600);
	CHECK_INT(d.max, 4096);
	c = d;
	c.ttl_s = 0;
	CHECK_ERR(tg_upstream_cfg_check(&c, &what), TG_ERR_ARG);
	CHECK(what && strcmp(what, "ttl_s: must be at least 1") == 0);
	CHECK_ERR(tg_upstream_new(&c, KEY, &t), TG_ERR_ARG);
	CHECK(t == NULL);
	c = d;
	c.max = 0;
	CHECK_ERR(tg_upstream_cfg_check(&c, &what), TG_ERR_ARG);
	CHECK(what && strcmp(what, "max: must be 1..65536") == 0);
	c.max = TG_CAP_UPSTREAM_EXCL + 1;
	CHECK_ERR(tg_upstream_cfg_check(&c, NULL), TG_ERR_ARG);
	c.max = TG_CAP_UPSTREAM_EXCL;
	CHECK_ERR(tg_upstream_new(&c, KEY, &t), TG_OK);
	tg_upstream_free(t);
	tg_upstream_free(NULL);
}

static void test_keys(void)
{
	struct tg_upstream *t = mk(60, 16);
	struct tg_upstream_server s = sni("mtls.example", 443), a = addr(7, 443);
	struct tg_upstream_excl e;

	CHECK_ERR(tg_upstream_excl_add(t, &s, TG_UPSTREAM_CLIENT_CERT, 1000), TG_OK);
	CHECK(tg_upstream_excl_lookup(t, &s, 1000, &e));
	CHECK_INT(e.reason, TG_UPSTREAM_CLIENT_CERT);
	CHECK_INT(e.since_ms, 1000);
	CHECK_INT(e.expires_ms, 61000);
	CHECK_INT(e.adds, 1);
	/* ASCII case folded; the port is part of the key; the address is not. */
	s = sni("MTLS.Example", 443);
	CHECK(tg_upstream_excl_lookup(t, &s, 1000, NULL));
	s = sni("mtls.example", 8443);
	CHECK(!tg_upstream_excl_lookup(t, &s, 1000, NULL));
	s = sni("mtls.example", 443);
	s.addr[15] = 99;
	CHECK(tg_upstream_excl_lookup(t, &s, 1000, NULL));
	/* Another name on the same (CDN) address is not excluded. */
	s = sni("www.example", 443);
	memcpy(s.addr, a.addr, sizeof(s.addr));
	CHECK(!tg_upstream_excl_lookup(t, &s, 1000, NULL));
	/* No SNI: keyed by address and port. */
	CHECK_ERR(tg_upstream_excl_add(t, &a, TG_UPSTREAM_NO_TLS12, 1000), TG_OK);
	CHECK(tg_upstream_excl_lookup(t, &a, 1000, &e));
	CHECK_INT(e.reason, TG_UPSTREAM_NO_TLS12);
	a.addr[15] = 8;
	CHECK(!tg_upstream_excl_lookup(t, &a, 1000, NULL));
	a = addr(7, 444);
	CHECK(!tg_upstream_excl_lookup(t, &a, 1000, NULL));
	/* An SNI flow to that address is not covered by the address exclusion. */
	s = sni("other.example", 443);
	memcpy(s.addr, addr(7, 443).addr, sizeof(s.addr));
	CHECK(!tg_upstream_excl_lookup(t, &s, 1000, NULL));
	/* A one-letter name and a 253-byte name. */
	{
		char longname[TG_CAP_NAME_LEN + 1];

		memset(longname, 'q', TG_CAP_NAME_LEN);
		longname[TG_CAP_NAME_LEN] = '\0';
		s = sni(longname, 443);
		CHECK_ERR(tg_upstream_excl_add(t, &s, TG_UPSTREAM_OTHER, 1000), TG_OK);
		CHECK(tg_upstream_excl_lookup(t, &s, 1000, NULL));
		longname[TG_CAP_NAME_LEN - 1] = 'r';
		CHECK(!tg_upstream_excl_lookup(t, &s, 1000, NULL));
		s = sni("q", 443);
		CHECK(!tg_upstream_excl_lookup(t, &s, 1000, NULL));
	}
	tg_upstream_free(t);
}

static void test_invalid(void)
{
	struct tg_upstream *t = mk(60, 4);
	struct tg_upstream_server s = sni("a.example", 443);
	char big[TG_CAP_NAME_LEN + 2];

	CHECK_ERR(tg_upstream_excl_add(t, &s, (enum tg_upstream_reason)0, 0), TG_ERR_ARG);
	CHECK_ERR(tg_upstream_excl_add(t, &s, (enum tg_upstream_reason)5, 0), TG_ERR_ARG);
	CHECK_ERR(tg_upstream_excl_add(t, NULL, TG_UPSTREAM_OTHER, 0), TG_ERR_ARG);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = sni(big, 443);
	CHECK_ERR(tg_upstream_excl_add(t, &s, TG_UPSTREAM_OTHER, 0), TG_ERR_ARG);
	CHECK(!tg_upstream_excl_lookup(t, &s, 0, NULL));
	CHECK_ERR(tg_upstream_excl_remove(t, &s), TG_ERR_ARG);
	s.sni = NULL;
	s.sni_len = 3;
	CHECK_ERR(tg_upstream_excl_add(t, &s, TG_UPSTREAM_OTHER, 0), TG_ERR_ARG);
	CHECK(!tg_upstream_excl_lookup(t, NULL, 0, NULL));
	CHECK_INT(tg_upstream_expire(t, 0), 0);
	tg_upstream_free(t);
}

static void test_ttl(void)
{
	struct tg_upstream *t = mk(10, 4);
	struct tg_upstream_server s = sni("old.example", 443);
	struct tg_upstream_excl e;
	struct tg_upstream_stats st;

	CHECK_ERR(tg_upstream_excl_add(t, &s, TG_UPSTREAM_NO_TLS12, 0), TG_OK);
	CHECK(tg_upstream_excl_lookup(t, &s, 9999, NULL));
	CHECK(!tg_upstream_excl_lookup(t, &s, 10000, NULL));
	/* Lookups do not extend; a re-add while alive refreshes expiry and reason. */
	CHECK_ERR(tg_upstream_excl_add(t, &s, TG_UPSTREAM_PROTOCOL_VERSION, 5000), TG_OK);
	CHECK(tg_upstream_excl_lookup(t, &s, 14999, &e));
	CHECK_INT(e.reason, TG_UPSTREAM_PROTOCOL_VERSION);
	CHECK_INT(e.adds, 2);
	CHECK(!tg_upstream_excl_lookup(t, &s, 15000, NULL));
	/* A re-add after expiry starts over. */
	CHECK_ERR(tg_upstream_excl_add(t, &s, TG_UPSTREAM_NO_TLS12, 20000), TG_OK);
	CHECK(tg_upstream_excl_lookup(t, &s, 20000, &e));
	CHECK_INT(e.adds, 1);
	tg_upstream_stats(t, &st);
	CHECK_INT(st.added, 2);
	CHECK_INT(st.refreshed, 1);
	CHECK_INT(st.expired, 1);
	CHECK_INT(st.held, 1);
	CHECK_INT(tg_upstream_expire(t, 29999), 0);
	CHECK_INT(tg_upstream_expire(t, 30000), 1);
	tg_upstream_stats(t, &st);
	CHECK_INT(st.held, 0);
	CHECK_INT(st.expired, 2);
	tg_upstream_free(t);
}

static void test_lru(void)
{
	struct tg_upstream *t = mk(3600, 3);
	struct tg_upstream_server a = sni("a.example", 443), b = sni("b.example", 443),
				  c = sni("c.example", 443), d = sni("d.example", 443),
				  e = sni("e.example", 443);
	struct tg_upstream_stats st;

	CHECK_ERR(tg_upstream_excl_add(t, &a, TG_UPSTREAM_OTHER, 1000), TG_OK);
	CHECK_ERR(tg_upstream_excl_add(t, &b, TG_UPSTREAM_OTHER, 2000), TG_OK);
	CHECK_ERR(tg_upstream_excl_add(t, &c, TG_UPSTREAM_OTHER, 3000), TG_OK);
	/* a is used by a classifier thread: b is now least recent. */
	CHECK(tg_upstream_excl_lookup(t, &a, 10000, NULL));
	CHECK_ERR(tg_upstream_excl_add(t, &d, TG_UPSTREAM_OTHER, 11000), TG_OK);
	/* (within a second of the last stamp: this use is not stamped again) */
	CHECK(tg_upstream_excl_lookup(t, &a, 10500, NULL));
	CHECK(!tg_upstream_excl_lookup(t, &b, 10500, NULL));
	CHECK(tg_upstream_excl_lookup(t, &c, 10500, NULL));
	/* c re-added (a refresh touches it): a (used at 10000) is now the least recent. */
	CHECK_ERR(tg_upstream_excl_add(t, &c, TG_UPSTREAM_OTHER, 12000), TG_OK);
	CHECK_ERR(tg_upstream_excl_add(t, &e, TG_UPSTREAM_OTHER, 13000), TG_OK);
	CHECK(!tg_upstream_excl_lookup(t, &a, 13000, NULL));
	CHECK(tg_upstream_excl_lookup(t, &c, 13000, NULL));
	CHECK(tg_upstream_excl_lookup(t, &d, 13000, NULL));
	CHECK(tg_upstream_excl_lookup(t, &e, 13000, NULL));
	tg_upstream_stats(t, &st);
	CHECK_INT(st.evicted, 2);
	CHECK_INT(st.held, 3);
	CHECK_ERR(tg_upstream_excl_remove(t, &c), TG_OK);
	CHECK_ERR(tg_upstream_excl_remove(t, &c), TG_ERR_NOT_FOUND);
	CHECK(!tg_upstream_excl_lookup(t, &c, 13000, NULL));
	tg_upstream_stats(t, &st);
	CHECK_INT(st.removed, 1);
	tg_upstream_free(t);
}

static void test_bound(void)
{
	struct tg_upstream *t = mk(3600, 1000);
	struct tg_upstream_stats st;
	unsigned i, over = 0;
	char name[64];

	for (i = 0; i < 100000; i++) {
		struct tg_upstream_server s;

		snprintf(name, sizeof(name), "h%u.example", i);
		s = sni(name, (uint16_t)(443 + i % 3));
		if (tg_upstream_excl_add(t, &s, TG_UPSTREAM_OTHER, i) != TG_OK)
			over++;
		tg_upstream_stats(t, &st);
		over += st.held > 1000;
	}
	CHECK_INT(over, 0);
	tg_upstream_stats(t, &st);
	CHECK_INT(st.held, 1000);
	CHECK_INT(st.evicted, 99000);
	tg_upstream_free(t);
}

struct acc {
	unsigned n, stop_after, sni_rows, addr_rows;
	char last[300];
	uint16_t port;
};

static bool list_cb(const struct tg_upstream_excl *e, void *arg)
{
	struct acc *a = arg;

	a->n++;
	if (e->sni_len) {
		a->sni_rows++;
		snprintf(a->last, sizeof(a->last), "%.*s", (int)e->sni_len, e->sni);
		a->port = e->port;
	} else if (e->addr[15] == 7 && e->addr[11] == 0xff) {
		a->addr_rows++;
	}
	return a->n != a->stop_after;
}

static void test_list(void)
{
	struct tg_upstream *t = mk(60, 8);
	struct tg_upstream_server s = sni("List.Example", 8443), a = addr(7, 443);
	struct acc acc;

	CHECK_ERR(tg_upstream_excl_add(t, &s, TG_UPSTREAM_CLIENT_CERT, 0), TG_OK);
	CHECK_ERR(tg_upstream_excl_add(t, &a, TG_UPSTREAM_NO_TLS12, 30000), TG_OK);
	memset(&acc, 0, sizeof(acc));
	tg_upstream_list(t, 1000, list_cb, &acc);
	CHECK_INT(acc.n, 2);
	CHECK_INT(acc.sni_rows, 1);
	CHECK_INT(acc.addr_rows, 1);
	CHECK(strcmp(acc.last, "list.example") == 0);
	CHECK_INT(acc.port, 8443);
	memset(&acc, 0, sizeof(acc));
	acc.stop_after = 1;
	tg_upstream_list(t, 1000, list_cb, &acc);
	CHECK_INT(acc.n, 1);
	memset(&acc, 0, sizeof(acc));
	tg_upstream_list(t, 60000, list_cb, &acc); /* the SNI one expired */
	CHECK_INT(acc.n, 1);
	CHECK_INT(acc.addr_rows, 1);
	tg_upstream_free(t);
}

static void test_names(void)
{
	CHECK(strcmp(tg_upstream_reason_name(TG_UPSTREAM_NO_TLS12), "no-tls12") == 0);
	CHECK(strcmp(tg_upstream_reason_name(TG_UPSTREAM_CLIENT_CERT), "client-cert") == 0);
	CHECK(strcmp(tg_upstream_reason_name(TG_UPSTREAM_PROTOCOL_VERSION), "protocol-version") ==
	      0);
	CHECK(strcmp(tg_upstream_reason_name(TG_UPSTREAM_OTHER), "other") == 0);
	CHECK(strcmp(tg_upstream_reason_name((enum tg_upstream_reason)0), "unknown") == 0);
	CHECK(strcmp(tg_upstream_reason_name((enum tg_upstream_reason)9), "unknown") == 0);
}

int main(void)
{
	test_cfg();
	test_keys();
	test_invalid();
	test_ttl();
	test_lru();
	test_bound();
	test_list();
	test_names();
	return tg_test_done();
}
