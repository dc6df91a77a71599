/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_dns_ech.c - ech removed from HTTPS/SVCB records: the rewritten message parses, every
 * name decodes as before (compression pointers past a cut moved back), the other parameters
 * stay, RDLENGTHs shrink; messages without ech are copied unchanged. Records in the authority
 * and additional sections, answers beyond the parser's cap (100 records), messages the parser
 * refuses, the cut cap, AliasMode and other classes, layouts the walk refuses.
 */
#include "tlsgate/dns.h"
#include "tlsgate/dns_ech.h"
#include "tg_test.h"

static uint8_t msg[70000];
static size_t mlen;

static void b(const void *p, size_t n)
{
	memcpy(msg + mlen, p, n);
	mlen += n;
}

static void u16(unsigned v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	b(x, 2);
}

static void rr_head(unsigned type, unsigned rdlen)
{
	u16(type);
	u16(1);
	u16(0);
	u16(300);
	u16(rdlen);
}

/* An HTTPS answer: alpn h2, ipv4hint, ech (9 bytes); keys in increasing order. */
static void https_rdata(void)
{
	static const uint8_t ech[9] = { 0, 7, 0xfe, 0x0d, 0, 3, 1, 2, 3 };

	u16(1);
	b("\0", 1); /* target: root */
	u16(1), u16(3), b("\2h2", 3);
	u16(4), u16(4), b("\xc6\x33\x64\x02", 4);
	u16(5), u16(sizeof(ech)), b(ech, sizeof(ech));
}

/* Response: q ech.test HTTPS; an: ech.test HTTPS (ech), b.ech.test HTTPS (ech),
 * c.ech.test CNAME -> b.ech.test (pointer past both cuts); ns: SOA with pointers. */
static void build(void)
{
	size_t b_off;

	mlen = 0;
	u16(0x1234), u16(0x8180), u16(1), u16(3), u16(1), u16(0);
	b("\3ech\4test\0", 10);
	u16(65), u16(1);
	b("\xc0\x0c", 2);
	rr_head(65, 2 + 1 + 7 + 13 + 8);
	https_rdata();
	b_off = mlen;
	b("\1b\xc0\x0c", 4);
	rr_head(65, 2 + 1 + 7 + 13 + 8);
	https_rdata();
	b("\1c\xc0\x0c", 4);
	rr_head(5, 2);
	u16(0xc000 | (unsigned)b_off);
	b("\xc0\x0c", 2);
	rr_head(6, 2 + 2 + 20);
	u16(0xc000 | (unsigned)b_off); /* mname */
	u16(0xc000 | (unsigned)b_off); /* rname */
	b("\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5", 20);
}

static void test_strip(void)
{
	static struct tg_dns_msg in, out;
	uint8_t buf[512];
	size_t olen;
	unsigned n;

	build();
	CHECK_ERR(tg_dns_parse(&in, msg, mlen), TG_OK);
	CHECK(in.an[0].u.svcb.has_ech && in.an[1].u.svcb.has_ech);
	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_OK);
	CHECK_INT(n, 2);
	CHECK_INT(olen, mlen - 2 * 13);
	CHECK_ERR(tg_dns_parse(&out, buf, olen), TG_OK);
	CHECK_INT(out.n_an, 3);
	CHECK(!out.an[0].u.svcb.has_ech && !out.an[1].u.svcb.has_ech);
	CHECK_INT(out.an[0].u.svcb.n_alpn, 1);
	CHECK_SPAN(out.an[0].u.svcb.alpn[0], "h2");
	CHECK_INT(out.an[1].u.svcb.ipv4hint.len, 4);
	CHECK_MEM(out.an[1].name.text, out.an[1].name.len, "b.ech.test");
	CHECK_MEM(out.an[2].name.text, out.an[2].name.len, "c.ech.test");
	CHECK_MEM(out.an[2].u.cname.text, out.an[2].u.cname.len, "b.ech.test");
	CHECK_INT(out.an[0].rdata.len, in.an[0].rdata.len - 13);

	/* A crafted CNAME pointing into the first ech parameter (at its root-looking length
	 * byte) cannot be rewritten: refused, not mangled. */
	{
		size_t at = mlen - 36 - 2, target = in.an[0].u.svcb.ech_param_off + 2;

		msg[at] = (uint8_t)(0xc0 | target >> 8);
		msg[at + 1] = (uint8_t)target;
		CHECK_ERR(tg_dns_parse(&in, msg, mlen), TG_OK);
		CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_ERR_DNS_RR);
	}
}

static void test_no_ech_and_caps(void)
{
	static struct tg_dns_msg m;
	uint8_t buf[512];
	size_t olen;
	unsigned n;

	/* An A answer: copied unchanged. */
	mlen = 0;
	u16(7), u16(0x8180), u16(1), u16(1), u16(0), u16(0);
	b("\1a\4test\0", 8);
	u16(1), u16(1);
	b("\xc0\x0c", 2);
	rr_head(1, 4);
	b("\1\2\3\4", 4);
	CHECK_ERR(tg_dns_parse(&m, msg, mlen), TG_OK);
	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_OK);
	CHECK_INT(n, 0);
	CHECK_INT(olen, mlen);
	CHECK(memcmp(buf, msg, mlen) == 0);
	/* Too short for a header; longer than any message. */
	CHECK_ERR(tg_dns_strip_ech(msg, 11, buf, &olen, &n), TG_ERR_DNS_RR);
	CHECK_INT(olen, 0);
	CHECK_ERR(tg_dns_strip_ech(msg, TG_CAP_DNS_MSG + 1, buf, &olen, &n), TG_ERR_CAP);
}

static void header(unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	mlen = 0;
	u16(0x4242), u16(0x8180), u16(qd), u16(an), u16(ns), u16(ar);
	b("\3ech\4test\0", 10);
	u16(65), u16(1);
}

/* An A record owned by the question name. */
static void a_rr(void)
{
	b("\xc0\x0c", 2);
	rr_head(1, 4);
	b("\1\2\3\4", 4);
}

/* An HTTPS record with ech owned by the question name, of class @class. */
static void https_rr(unsigned class)
{
	b("\xc0\x0c", 2);
	u16(65), u16(class), u16(0), u16(300), u16(2 + 1 + 7 + 13 + 8);
	https_rdata();
}

/* Strip @msg, check the count and that the result parses and holds no ech anywhere. */
static void check_stripped(unsigned want)
{
	static struct tg_dns_msg out;
	static uint8_t buf[70000], again[70000];
	size_t olen, olen2;
	unsigned n, n2;

	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_OK);
	CHECK_INT(n, want);
	CHECK_INT(olen, mlen - want * 13);
	CHECK_ERR(tg_dns_parse(&out, buf, olen), TG_OK);
	/* Idempotent: nothing left to strip, in any section. */
	CHECK_ERR(tg_dns_strip_ech(buf, olen, again, &olen2, &n2), TG_OK);
	CHECK_INT(n2, 0);
	CHECK_INT(olen2, olen);
}

/* ech in the authority and in the additional section is stripped too. */
static void test_sections(void)
{
	static struct tg_dns_msg m;

	header(1, 1, 1, 0); /* answer A, authority HTTPS */
	a_rr();
	https_rr(1);
	check_stripped(1);
	header(1, 1, 0, 2); /* answer A, additional HTTPS and OPT */
	a_rr();
	https_rr(1);
	b("\0", 1), u16(41), u16(1232), u16(0), u16(0), u16(0);
	CHECK_ERR(tg_dns_parse(&m, msg, mlen), TG_OK);
	CHECK(m.has_edns);
	check_stripped(1);
	header(1, 1, 1, 1); /* one in each section */
	https_rr(1);
	https_rr(1);
	https_rr(1);
	check_stripped(3);
}

/* 100 HTTPS answers, beyond the parser's 64: every one loses its ech. */
static void test_many(void)
{
	static struct tg_dns_msg m;
	unsigned i;

	header(1, 100, 0, 0);
	for (i = 0; i < 100; i++)
		https_rr(1);
	CHECK_ERR(tg_dns_parse(&m, msg, mlen), TG_OK);
	CHECK_INT(m.an_skipped, 100 - TG_CAP_DNS_ANSWERS);
	check_stripped(100);
	/* More ech parameters than the cap: refused, never half stripped. */
	header(1, TG_CAP_DNS_ECH_CUTS + 1, 0, 0);
	for (i = 0; i < TG_CAP_DNS_ECH_CUTS + 1; i++)
		https_rr(1);
	{
		static uint8_t buf[70000];
		size_t olen;
		unsigned n;

		CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_ERR_CAP);
		CHECK_INT(n, 0);
		CHECK_INT(olen, 0);
	}
}

/* What the walk leaves alone, what it strips although the parser refuses, what it refuses. */
static void test_edges(void)
{
	static struct tg_dns_msg m;
	static uint8_t buf[70000];
	size_t olen, at;
	unsigned n, i;

	/* Class CH HTTPS: not SVCB rdata for clients; copied as is. */
	header(1, 1, 0, 0);
	https_rr(3);
	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_OK);
	CHECK_INT(n, 0);
	/* AliasMode: its params are ignored by clients (RFC 9460 2.4.2), and left. */
	header(1, 1, 0, 0);
	at = mlen + 2 + 10;
	https_rr(1);
	msg[at + 1] = 0;
	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_OK);
	CHECK_INT(n, 0);
	/* 33 params (over the parser's cap): the parser refuses, the walk still strips. */
	header(1, 1, 0, 0);
	b("\xc0\x0c", 2);
	rr_head(65, 2 + 1 + 13 + 32 * 4);
	u16(1), b("\0", 1);
	u16(5), u16(9), b("\0\7\xfe\x0d\0\3\1\2\3", 9);
	for (i = 0; i < 32; i++)
		u16(100 + i), u16(0);
	CHECK_ERR(tg_dns_parse(&m, msg, mlen), TG_ERR_CAP);
	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_OK);
	CHECK_INT(n, 1);
	CHECK_INT(olen, mlen - 13);
	/* An SvcParam longer than its rdata; a record cut short; a reserved label type. */
	header(1, 1, 0, 0);
	at = mlen;
	https_rr(1);
	msg[mlen - 10] = 10; /* ech length 9 -> 10 */
	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_ERR_DNS_RR);
	msg[mlen - 10] = 9;
	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_OK);
	CHECK_ERR(tg_dns_strip_ech(msg, mlen - 1, buf, &olen, &n), TG_ERR_DNS_RR);
	msg[at] = 0x40;
	CHECK_ERR(tg_dns_strip_ech(msg, mlen, buf, &olen, &n), TG_ERR_DNS_RR);
}

int main(void)
{
	test_strip();
	test_no_ech_and_caps();
	test_sections();
	test_many();
	test_edges();
	return tg_test_done();
}
