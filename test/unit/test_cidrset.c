/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_cidrset.c - the longest-prefix-match set against a brute-force scan on random nested
 * sets, IPv4-mapped folding, duplicates, the ends of the address space.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/cidr.h"
#include "tlsgate/cidrset.h"
#include "tg_test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static struct tg_cidr P(const char *text) {
	struct tg_cidr c;

	if (tg_cidr_parse(text, strlen(text), &c) != TG_OK) {
		fprintf(stderr, "bad test prefix %s\n", text);
		abort();
	}
	return c;
}

/* Look up @text; expect value @want (0 = no match) and length @plen. */
static void
expect(const struct tg_cidrset *s, const char *text, uint32_t want, int plen)
{
	uint8_t fam, a[16], pl = 0;
	uint32_t v = 0;
	bool hit;

	CHECK_ERR(tg_addr_parse(text, strlen(text), &fam, a), TG_OK);
	hit = tg_cidrset_lookup(s, fam, a, &v, &pl);
	if (hit != (want != 0) || (hit && (v != want || pl != plen)))
		fprintf(stderr, "%s: hit %d value %u plen %u\n", text, hit, (unsigned)v, pl);
	CHECK(hit == (want != 0));
	if (hit && want) {
		CHECK_INT(v, want);
		CHECK_INT(pl, plen);
	}
}

static void test_set_basic(void)
{
	static const char *const p[] = {
		"10.0.0.0/8", /* 1 */
		"10.1.0.0/16", /* 2 */
		"10.1.2.0/24", /* 3 */
		"10.1.2.3/32", /* 4 */
		"192.168.0.0/16", /* 5 */
		"2001:db8::/32", /* 6 */
		"2001:db8:1::/48", /* 7 */
		"::ffff:172.16.0.0/108", /* 8: mapped, stored as 172.16.0.0/12 */
		"255.255.255.255/32", /* 9 */
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120", /* 10 */
	};
	struct tg_cidrset_builder *b = tg_cidrset_builder_new();
	struct tg_cidrset *s;
	size_t i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		struct tg_cidr c = P(p[i]);

		CHECK_ERR(tg_cidrset_builder_add(b, &c, (uint32_t)i + 1), TG_OK);
	}
	s = tg_cidrset_build(b);
	CHECK(s != NULL);
	CHECK_INT(tg_cidrset_count(s), 10);
	expect(s, "10.0.0.0", 1, 8);
	expect(s, "10.255.255.255", 1, 8);
	expect(s, "11.0.0.0", 0, 0);
	expect(s, "9.255.255.255", 0, 0);
	expect(s, "10.1.0.0", 2, 16);
	expect(s, "10.1.2.2", 3, 24);
	expect(s, "10.1.2.3", 4, 32);
	expect(s, "10.1.2.4", 3, 24);
	expect(s, "10.1.3.0", 2, 16);
	expect(s, "10.2.0.0", 1, 8);
	expect(s, "192.168.255.255", 5, 16);
	expect(s, "0.0.0.0", 0, 0);
	expect(s, "255.255.255.255", 9, 32);
	expect(s, "255.255.255.254", 0, 0);
	expect(s, "172.31.255.255", 8, 12);
	expect(s, "172.32.0.0", 0, 0);
	/* Mapped addresses are IPv4. */
	expect(s, "::ffff:10.1.2.3", 4, 32);
	expect(s, "::ffff:172.16.0.1", 8, 12);
	expect(s, "::ffff:11.0.0.0", 0, 0);
	expect(s, "::10.1.2.3", 0, 0); /* IPv4-compatible is not mapped */
	expect(s, "2001:db8::1", 6, 32);
	expect(s, "2001:db8:1:ffff::", 7, 48);
	expect(s, "2001:db8:2::", 6, 32);
	expect(s, "2001:db9::", 0, 0);
	expect(s, "::", 0, 0);
	expect(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 10, 120);
	expect(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff", 0, 0);
	{
		uint8_t a[16] = { 10 };

		CHECK(!tg_cidrset_lookup(s, 5, a, NULL, NULL));
		CHECK(tg_cidrset_lookup(s, 4, a, NULL, NULL));
	}
	CHECK(tg_cidrset_bytes(s) > sizeof(uint32_t));
	tg_cidrset_free(s);
}

static void test_set_edges(void)
{
	struct tg_cidrset_builder *b = tg_cidrset_builder_new();
	struct tg_cidrset *s;
	struct tg_cidr c;

	/* ::/0 is all of IPv6, not IPv4. */
	c = P("::/0");
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 1), TG_OK);
	c = P("0.0.0.0/0");
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 2), TG_OK);
	c = P("0.0.0.0/0");
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 3), TG_OK); /* duplicate: first wins */
	c = P("::ffff:0.0.0.0/96");
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 4), TG_OK); /* also 0.0.0.0/0: duplicate */
	c = P("0.0.0.0/32");
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 5), TG_OK);
	/* Errors leave the builder unchanged. */
	c = P("10.0.0.0/8");
	c.plen = 33;
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 9), TG_ERR_CIDR);
	c.plen = 7;
	c.addr[0] = 11;
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 9), TG_ERR_CIDR_HOST_BITS);
	c.family = 5;
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 9), TG_ERR_CIDR);
	s = tg_cidrset_build(b);
	CHECK(s != NULL);
	CHECK_INT(tg_cidrset_count(s), 3);
	CHECK_INT(tg_cidrset_duplicates(s), 2);
	expect(s, "0.0.0.0", 5, 32);
	expect(s, "0.0.0.1", 2, 0);
	expect(s, "255.255.255.255", 2, 0);
	expect(s, "::ffff:1.2.3.4", 2, 0);
	expect(s, "::", 1, 0);
	expect(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, 0);
	tg_cidrset_free(s);

	/* An IPv6 prefix shorter than /96 that covers the mapped block does not match IPv4. */
	b = tg_cidrset_builder_new();
	c = P("::/80");
	CHECK_ERR(tg_cidrset_builder_add(b, &c, 1), TG_OK);
	s = tg_cidrset_build(b);
	expect(s, "::fffe:ffff:ffff", 1, 80);
	expect(s, "::ffff:255.255.255.255", 0, 0);
	expect(s, "::ffff:0.0.0.0", 0, 0);
	expect(s, "0.0.0.0", 0, 0);
	tg_cidrset_free(s);

	/* Empty set. */
	s = tg_cidrset_build(tg_cidrset_builder_new());
	CHECK(s != NULL);
	expect(s, "1.2.3.4", 0, 0);
	expect(s, "::1", 0, 0);
	tg_cidrset_free(s);
	tg_cidrset_free(NULL);
	tg_cidrset_builder_free(NULL);
	CHECK(tg_cidrset_build(NULL) == NULL);
}

/* ---- random sets against a brute-force scan ---- */

struct ref_pfx {
	struct tg_cidr c;
	uint32_t value;
};

/* A random prefix in a few clustered regions, so prefixes nest and collide. */
static struct tg_cidr random_prefix(void)
{
	struct tg_cidr c;
	unsigned bits, i;

	memset(&c, 0, sizeof(c));
	switch (rnd() % 5) {
	case 0:
	case 1:
		c.family = 4;
		c.addr[0] = (uint8_t)(10 + rnd() % 3);
		c.addr[1] = (uint8_t)(rnd() % 4);
		c.addr[2] = (uint8_t)rnd();
		c.addr[3] = (uint8_t)rnd();
		c.plen = (uint8_t)(rnd() % 4 ? 8 + rnd() % 25 : rnd() % 33);
		bits = 32;
		break;
	case 2:
		/* Mapped IPv6 prefixes fold into IPv4. */
		c.family = 6;
		memcpy(c.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		c.addr[12] = (uint8_t)(10 + rnd() % 3);
		c.addr[13] = (uint8_t)(rnd() % 4);
		c.addr[14] = (uint8_t)rnd();
		c.plen = (uint8_t)(96 + 8 + rnd() % 25);
		bits = 128;
		break;
	default:
		c.family = 6;
		c.addr[0] = 0x20;
		c.addr[1] = (uint8_t)(1 + rnd() % 2);
		c.addr[2] = 0x0d;
		c.addr[3] = (uint8_t)(rnd() % 4);
		for (i = 4; i < 16; i++)
			c.addr[i] = (rnd() % 2) ? 0 : (uint8_t)rnd();
		c.plen = (uint8_t)(rnd() % 8 ? 16 + rnd() % 113 : rnd() % 129);
		bits = 128;
		break;
	}
	/* Clear the host bits. */
	for (i = c.plen; i < bits; i++)
		c.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
	return c;
}

/* Fold a mapped prefix/address to IPv4 as the set does. */
static void fold(uint8_t *fam, uint8_t a[16], uint8_t *plen)
{
	if (*fam == 6 && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
	    (plen == NULL || *plen >= 96)) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		*fam = 4;
		if (plen != NULL)
			*plen = (uint8_t)(*plen - 96);
	}
}

static void test_random_sets(void)
{
	static const size_t sizes[] = { 1, 2, 10, 100, 1000, 5000 };
	unsigned si, bad = 0;

	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si], i, j, uniq = 0;
		struct ref_pfx *r = calloc(n, sizeof(*r));
		struct tg_cidrset_builder *b = tg_cidrset_builder_new();
		struct tg_cidrset *s;

		for (i = 0; i < n; i++) {
			bool dup = false;

			r[i].c = random_prefix();
			r[i].value = (uint32_t)rnd();
			CHECK_ERR(tg_cidrset_builder_add(b, &r[i].c, r[i].value), TG_OK);
			fold(&r[i].c.family, r[i].c.addr, &r[i].c.plen);
			for (j = 0; j < i && !dup; j++)
				dup = r[j].c.family == r[i].c.family &&
				      r[j].c.plen == r[i].c.plen &&
				      memcmp(r[j].c.addr, r[i].c.addr, 16) == 0;
			uniq += !dup;
		}
		s = tg_cidrset_build(b);
		CHECK(s != NULL);
		CHECK_INT(tg_cidrset_count(s), uniq);
		CHECK_INT(tg_cidrset_duplicates(s), n - uniq);
		for (i = 0; i < 20000; i++) {
			uint8_t a[16], fam, qfam, pl = 0;
			const struct ref_pfx *best = NULL;
			uint32_t v = 0;
			bool hit;
			unsigned k;

			/* Near a prefix (inside or just outside), or anywhere in the regions. */
			if (rnd() % 2) {
				const struct ref_pfx *e = &r[rnd() % n];

				fam = e->c.family;
				memcpy(a, e->c.addr, 16);
				for (k = 0; k < (fam == 4 ? 4u : 16u); k++)
					if (rnd() % 3 == 0)
						a[k] ^= (uint8_t)(1u << (rnd() % 8));
			} else {
				struct tg_cidr c = random_prefix();

				fam = c.family;
				memcpy(a, c.addr, 16);
				for (k = c.plen / 8; k < 16; k++)
					a[k] = (uint8_t)rnd();
				if (fam == 4)
					memset(a + 4, 0, 12);
			}
			hit = tg_cidrset_lookup(s, fam, a, &v, &pl);
			qfam = fam;
			fold(&qfam, a, NULL);
			for (j = 0; j < n; j++) {
				if (!tg_cidr_contains(&r[j].c, qfam, a))
					continue;
				if (best == NULL || r[j].c.plen > best->c.plen)
					best = &r[j]; /* strictly longer: the first of equals stays */
			}
			if (hit != (best != NULL) ||
			    (hit && (v != best->value || pl != best->c.plen))) {
				if (bad++ < 5)
					fprintf(stderr, "set of %zu, query %d: hit %d\n", n, (int)i,
						hit);
			}
		}
		tg_cidrset_free(s);
		free(r);
	}
	CHECK_INT(bad, 0);
}

int main(void)
{
	test_set_basic();
	test_set_edges();
	test_random_sets();
	return tg_test_done();
}
