/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_cidr.c - address and prefix text: a parsing table (leading zeros, lengths past the
 * family, "::" rules, embedded IPv4, host bits), RFC 5952 output, differential checks against
 * the C library's inet_pton/inet_ntop on random and mutated text, every truncation. The set
 * built from prefixes is test_cidrset.c.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>

#include "tlsgate/cidr.h"
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

struct parse_case {
	const char *text;
	enum tg_err err;
	uint8_t family, plen;
	const char *canon; /* tg_cidr_format of the result */
};

static const struct parse_case parse_cases[] = {
	/* IPv4 */
	{ "0.0.0.0", TG_OK, 4, 32, "0.0.0.0/32" },
	{ "255.255.255.255", TG_OK, 4, 32, "255.255.255.255/32" },
	{ "10.0.0.0/8", TG_OK, 4, 8, "10.0.0.0/8" },
	{ "0.0.0.0/0", TG_OK, 4, 0, "0.0.0.0/0" },
	{ "192.168.1.1/32", TG_OK, 4, 32, "192.168.1.1/32" },
	{ "100.64.0.0/10", TG_OK, 4, 10, "100.64.0.0/10" },
	{ "10.0.0.1/8", TG_ERR_CIDR_HOST_BITS, 0, 0, NULL },
	{ "10.128.0.0/8", TG_ERR_CIDR_HOST_BITS, 0, 0, NULL },
	{ "1.2.3.4/0", TG_ERR_CIDR_HOST_BITS, 0, 0, NULL },
	{ "01.2.3.4", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.04", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.00", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.4.5", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.", TG_ERR_CIDR, 0, 0, NULL },
	{ ".1.2.3", TG_ERR_CIDR, 0, 0, NULL },
	{ "1..2.3", TG_ERR_CIDR, 0, 0, NULL },
	{ "256.0.0.0", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.1000", TG_ERR_CIDR, 0, 0, NULL },
	{ "167772161", TG_ERR_CIDR, 0, 0, NULL },
	{ "0x0a.0.0.1", TG_ERR_CIDR, 0, 0, NULL },
	{ " 1.2.3.4", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.4 ", TG_ERR_CIDR, 0, 0, NULL },
	{ "+1.2.3.4", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.4/33", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.4/", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.4/32/", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.4//32", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.0/024", TG_ERR_CIDR, 0, 0, NULL },
	{ "0.0.0.0/00", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.0/-24", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.0/+24", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.0/ 24", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.0/1000", TG_ERR_CIDR, 0, 0, NULL },
	{ "/8", TG_ERR_CIDR, 0, 0, NULL },
	{ "", TG_ERR_CIDR, 0, 0, NULL },
	{ "/", TG_ERR_CIDR, 0, 0, NULL },
	/* IPv6 */
	{ "::", TG_OK, 6, 128, "::/128" },
	{ "::/0", TG_OK, 6, 0, "::/0" },
	{ "::1", TG_OK, 6, 128, "::1/128" },
	{ "1::", TG_OK, 6, 128, "1::/128" },
	{ "2001:db8::/32", TG_OK, 6, 32, "2001:db8::/32" },
	{ "2001:DB8:0:0:0:0:0:0/32", TG_OK, 6, 32, "2001:db8::/32" },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", TG_OK, 6, 128, "2001:db8::1/128" },
	{ "1:2:3:4:5:6:7:8", TG_OK, 6, 128, "1:2:3:4:5:6:7:8/128" },
	{ "1:2:3:4:5:6:7::", TG_OK, 6, 128, "1:2:3:4:5:6:7:0/128" },
	{ "::2:3:4:5:6:7:8", TG_OK, 6, 128, "0:2:3:4:5:6:7:8/128" },
	{ "1:2:3::5:6:7:8", TG_OK, 6, 128, "1:2:3:0:5:6:7:8/128" },
	{ "fe80::/10", TG_OK, 6, 10, "fe80::/10" },
	{ "::ffff:192.0.2.1", TG_OK, 6, 128, "::ffff:192.0.2.1/128" },
	{ "::FFFF:10.0.0.0/104", TG_OK, 6, 104, "::ffff:10.0.0.0/104" },
	{ "64:ff9b::192.0.2.33", TG_OK, 6, 128, "64:ff9b::c000:221/128" },
	{ "1:2:3:4:5:6:1.2.3.4", TG_OK, 6, 128, "1:2:3:4:5:6:102:304/128" },
	{ "::1.2.3.4", TG_OK, 6, 128, "::102:304/128" },
	{ "2001:db8::1/64", TG_ERR_CIDR_HOST_BITS, 0, 0, NULL },
	{ "::1/127", TG_ERR_CIDR_HOST_BITS, 0, 0, NULL },
	{ "2001:db8::/129", TG_ERR_CIDR, 0, 0, NULL },
	{ "2001:db8::/032", TG_ERR_CIDR, 0, 0, NULL },
	{ "1:2:3:4:5:6:7:8::", TG_ERR_CIDR, 0, 0, NULL },
	{ "::1:2:3:4:5:6:7:8", TG_ERR_CIDR, 0, 0, NULL },
	{ "1:2:3:4::5:6:7:8", TG_ERR_CIDR, 0, 0, NULL },
	{ "1:2:3:4:5:6:7", TG_ERR_CIDR, 0, 0, NULL },
	{ "1:2:3:4:5:6:7:8:9", TG_ERR_CIDR, 0, 0, NULL },
	{ "1::2::3", TG_ERR_CIDR, 0, 0, NULL },
	{ ":::", TG_ERR_CIDR, 0, 0, NULL },
	{ "::::", TG_ERR_CIDR, 0, 0, NULL },
	{ "1:::2", TG_ERR_CIDR, 0, 0, NULL },
	{ ":1::2", TG_ERR_CIDR, 0, 0, NULL },
	{ "1::2:", TG_ERR_CIDR, 0, 0, NULL },
	{ ":", TG_ERR_CIDR, 0, 0, NULL },
	{ "1:", TG_ERR_CIDR, 0, 0, NULL },
	{ ":1", TG_ERR_CIDR, 0, 0, NULL },
	{ "12345::", TG_ERR_CIDR, 0, 0, NULL },
	{ "g::", TG_ERR_CIDR, 0, 0, NULL },
	{ "::ffff:1.2.3.04", TG_ERR_CIDR, 0, 0, NULL },
	{ "::ffff:1.2.3", TG_ERR_CIDR, 0, 0, NULL },
	{ "::ffff:1.2.3.4.5", TG_ERR_CIDR, 0, 0, NULL },
	{ "::1.2.3.4:5", TG_ERR_CIDR, 0, 0, NULL },
	{ "1:2:3:4:5:6:7:1.2.3.4", TG_ERR_CIDR, 0, 0, NULL },
	{ "1.2.3.4::", TG_ERR_CIDR, 0, 0, NULL },
	{ "::a.b.c.d", TG_ERR_CIDR, 0, 0, NULL },
	{ "fe80::1%eth0", TG_ERR_CIDR, 0, 0, NULL },
	{ "[::1]", TG_ERR_CIDR, 0, 0, NULL },
	{ ":: ", TG_ERR_CIDR, 0, 0, NULL },
	{ "::/", TG_ERR_CIDR, 0, 0, NULL },
};

static void test_parse_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct tg_cidr p;
		char buf[TG_CIDR_TEXT_MAX];
		enum tg_err err = tg_cidr_parse(c->text, strlen(c->text), &p);

		if (err != c->err)
			fprintf(stderr, "\"%s\"\n", c->text);
		CHECK_ERR(err, c->err);
		if (c->err != TG_OK)
			continue;
		CHECK_INT(p.family, c->family);
		CHECK_INT(p.plen, c->plen);
		CHECK_MEM(buf, tg_cidr_format(&p, buf, sizeof(buf)), c->canon);
	}
}

struct fmt_case {
	const char *in, *out;
};

static void test_format_rfc5952(void)
{
	static const struct fmt_case cases[] = {
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" }, /* tie: the first run */
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" }, /* the longest run */
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" }, /* one group: no "::" */
		{ "2001:DB8::ABCD", "2001:db8::abcd" }, /* lowercase */
		{ "2001:db8::0001", "2001:db8::1" }, /* no leading zeros */
		{ "0:0:0:0:0:0:0:0", "::" },
		{ "0:0:0:0:0:0:0:1", "::1" },
		{ "1:0:0:0:0:0:0:0", "1::" },
		{ "1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0" },
		{ "0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7" },
		{ "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
		{ "1:0:0:0:2:0:0:0", "1::2:0:0:0" },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
		{ "::ffff:0:0", "::ffff:0.0.0.0" },
		{ "0:0:0:0:1:ffff:0:0", "::1:ffff:0:0" },
		{ "::192.0.2.1", "::c000:201" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "10.20.30.40", "10.20.30.40" },
	};
	uint8_t fam, a[16];
	char buf[TG_ADDR_TEXT_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_ERR(tg_addr_parse(cases[i].in, strlen(cases[i].in), &fam, a), TG_OK);
		CHECK_MEM(buf, tg_addr_format(fam, a, buf, sizeof(buf)), cases[i].out);
	}
	/* The longest text fits TG_ADDR_TEXT_MAX exactly. */
	CHECK_ERR(tg_addr_parse("::ffff:255.255.255.255", 22, &fam, a), TG_OK);
	memset(a, 0xff, 10);
	a[0] = 0xfe; /* not mapped now: all eight groups printed */
	CHECK_INT(tg_addr_format(6, a, buf, sizeof(buf)), 39);
	/* Truncation works like snprintf. */
	CHECK_ERR(tg_addr_parse("2001:db8::1", 11, &fam, a), TG_OK);
	n = tg_addr_format(fam, a, buf, 5);
	CHECK_INT(n, 11);
	CHECK_MEM(buf, strlen(buf), "2001");
	CHECK_INT(tg_addr_format(fam, a, NULL, 0), 11);
	CHECK_INT(tg_addr_format(5, a, buf, sizeof(buf)), 0);
	CHECK_INT(buf[0], 0);
}

/* Parse @s (@n bytes) with ours and with inet_pton; they must agree on yes/no and the bytes. */
static bool agrees(const char *s, size_t n)
{
	char z[128];
	uint8_t fam, a[16], b[16];
	bool ours, libc;

	if (n >= sizeof(z) || memchr(s, '\0', n) != NULL)
		return true;
	memcpy(z, s, n);
	z[n] = '\0';
	ours = tg_addr_parse(s, n, &fam, a) == TG_OK;
	if (memchr(s, ':', n) != NULL)
		libc = inet_pton(AF_INET6, z, b) == 1;
	else
		libc = inet_pton(AF_INET, z, b) == 1;
	if (ours != libc) {
		fprintf(stderr, "\"%s\": ours %d, inet_pton %d\n", z, ours, libc);
		return false;
	}
	return !ours || memcmp(a, b, fam == 4 ? 4 : 16) == 0;
}

static void random_addr_text(char *buf, size_t *len)
{
	uint8_t a[16];
	unsigned i;
	int fam = (rnd() % 3) ? 6 : 4;

	for (i = 0; i < 16; i++)
		a[i] = (rnd() % 3) ? 0 : (uint8_t)rnd();
	if (fam == 6 && rnd() % 4 == 0)
		memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	*len = tg_addr_format((uint8_t)fam, a, buf, TG_ADDR_TEXT_MAX);
}

static void test_differential(void)
{
	static const char alpha[] = "0123456789abcdefABCDEF:.:.::x/ %";
	unsigned i, bad = 0;

	for (i = 0; i < 300000; i++) {
		char s[64];
		size_t n, k;

		if (i % 2) {
			n = rnd() % 24;
			for (k = 0; k < n; k++)
				s[k] = alpha[rnd() % (sizeof(alpha) - 1)];
		} else {
			/* A valid address, then a few random edits. */
			random_addr_text(s, &n);
			for (k = rnd() % 3; k > 0; k--) {
				size_t at = n ? rnd() % n : 0;

				switch (rnd() % 3) {
				case 0:
					s[at] = alpha[rnd() % (sizeof(alpha) - 1)];
					break;
				case 1:
					if (n > 0) {
						memmove(s + at, s + at + 1, n - at - 1);
						n--;
					}
					break;
				default:
					if (n < 60) {
						memmove(s + at + 1, s + at, n - at);
						s[at] = alpha[rnd() % (sizeof(alpha) - 1)];
						n++;
					}
					break;
				}
			}
		}
		bad += !agrees(s, n);
	}
	CHECK_INT(bad, 0);
}

/* Every prefix of valid text is judged as inet_pton judges it. */
static void test_truncations(void)
{
	static const char *const texts[] = { "192.168.100.200", "2001:db8:aa:bb:cc:dd:ee:ff",
					     "::ffff:10.11.12.13", "1:2:3:4:5:6:7::", "fe80::1:2" };
	size_t i, n;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (n = 0; n <= strlen(texts[i]); n++)
			CHECK(agrees(texts[i], n));
}

/* Random addresses: ours formats like inet_ntop (outside its IPv4-embedding forms) and our
 * text parses back to the same bytes. */
static void test_format_roundtrip(void)
{
	unsigned i, bad = 0;

	for (i = 0; i < 100000; i++) {
		uint8_t a[16], b[16], fam;
		char ours[TG_ADDR_TEXT_MAX], libc[INET6_ADDRSTRLEN];
		unsigned k;
		bool embedded;

		for (k = 0; k < 16; k++)
			a[k] = (rnd() % 2) ? 0 : (uint8_t)(rnd() % 3 ? rnd() : 1);
		if (i % 8 == 0)
			memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		tg_addr_format(6, a, ours, sizeof(ours));
		if (tg_addr_parse(ours, strlen(ours), &fam, b) != TG_OK || fam != 6 ||
		    memcmp(a, b, 16) != 0)
			bad++;
		/* glibc prints ::a.b.c.d for the old IPv4-compatible form too; we don't. */
		embedded = memcmp(a, "\0\0\0\0\0\0\0\0\0\0", 10) == 0;
		if (!embedded || memcmp(a + 10, "\xff\xff", 2) == 0) {
			inet_ntop(AF_INET6, a, libc, sizeof(libc));
			if (strcmp(ours, libc) != 0) {
				if (bad < 5)
					fprintf(stderr, "ours %s libc %s\n", ours, libc);
				bad++;
			}
		}
		tg_addr_format(4, a, ours, sizeof(ours));
		if (tg_addr_parse(ours, strlen(ours), &fam, b) != TG_OK || fam != 4 ||
		    memcmp(a, b, 4) != 0)
			bad++;
	}
	CHECK_INT(bad, 0);
}

static void test_contains(void)
{
	struct tg_cidr c;
	uint8_t fam, a[16];

	CHECK_ERR(tg_cidr_parse("10.1.0.0/17", 11, &c), TG_OK);
	CHECK_ERR(tg_addr_parse("10.1.127.255", 12, &fam, a), TG_OK);
	CHECK(tg_cidr_contains(&c, fam, a));
	CHECK_ERR(tg_addr_parse("10.1.128.0", 10, &fam, a), TG_OK);
	CHECK(!tg_cidr_contains(&c, fam, a));
	CHECK(!tg_cidr_contains(&c, 6, a));
	CHECK_ERR(tg_cidr_parse("::/0", 4, &c), TG_OK);
	CHECK(tg_cidr_contains(&c, 6, a));
	CHECK(!tg_cidr_contains(&c, 4, a));
}

int main(void)
{
	test_parse_table();
	test_format_rfc5952();
	test_differential();
	test_truncations();
	test_format_roundtrip();
	test_contains();
	return tg_test_done();
}
