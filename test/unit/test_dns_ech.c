/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_dns_ech.c - ech removed from HTTPS/SVCB answers: the rewritten message parses, every
 * name decodes as before (compression pointers past a cut moved back), the other parameters
 * stay, RDLENGTHs shrink; messages without ech are copied unchanged.
 */
#include "tlsgate/dns.h"
#include "tlsgate/dns_ech.h"
#include "tg_test.h"

static uint8_t msg[512];
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
	CHECK_ERR(tg_dns_strip_ech(&in, msg, mlen, buf, &olen, &n), TG_OK);
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
		CHECK_ERR(tg_dns_strip_ech(&in, msg, mlen, buf, &olen, &n), TG_ERR_DNS_RR);
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
	CHECK_ERR(tg_dns_strip_ech(&m, msg, mlen, buf, &olen, &n), TG_OK);
	CHECK_INT(n, 0);
	CHECK_INT(olen, mlen);
	CHECK(memcmp(buf, msg, mlen) == 0);
	/* Records beyond the parser's cap might hide ech: refused. */
	m.an_skipped = 1;
	CHECK_ERR(tg_dns_strip_ech(&m, msg, mlen, buf, &olen, &n), TG_ERR_CAP);
}

int main(void)
{
	test_strip();
	test_no_ech_and_caps();
	return tg_test_done();
}
