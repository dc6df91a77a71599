/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pkt_build.c - the packets the gateway writes: RSTs for blocked and adopted flows, and DNS
 * answers for blocked names. Every built packet is read back with the dissector: fields, ports,
 * checksums.
 */
#include "tlsgate/dns.h"
#include "tlsgate/pkt.h"
#include "tlsgate/pkt_build.h"
#include "tg_test.h"

static const uint8_t c4[16] = { 192, 0, 2, 2 }, s4[16] = { 198, 51, 100, 2 };
static const uint8_t c6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };
static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 2 };

static void test_rst(uint8_t family, const uint8_t *src, const uint8_t *dst)
{
	uint8_t buf[TG_PKT_RST_MAX];
	struct tg_pkt p;
	size_t n = tg_pkt_build_rst(buf, family, src, dst, 51000, 443, 0xfffffff0u, 0x12345678u);

	CHECK_INT(n, family == 4 ? 40 : 60);
	CHECK_ERR(tg_pkt_parse(&p, buf, n), TG_OK);
	CHECK_INT(p.ip_version, family);
	CHECK(memcmp(p.src, src, family == 4 ? 4 : 16) == 0);
	CHECK(memcmp(p.dst, dst, family == 4 ? 4 : 16) == 0);
	CHECK_INT(p.proto, 6);
	CHECK_INT(p.sport, 51000);
	CHECK_INT(p.dport, 443);
	CHECK_INT(p.seq, 0xfffffff0u);
	CHECK_INT(p.ack, 0x12345678u);
	CHECK_INT(p.tcp_flags, TG_TCP_RST | TG_TCP_ACK);
	CHECK_INT(p.payload.len, 0);
	CHECK(tg_pkt_l4_csum_ok(&p));
	if (family == 4)
		CHECK(tg_pkt_ip4_csum_ok(&p));
	CHECK_INT(tg_pkt_build_rst(buf, 5, src, dst, 1, 2, 3, 4), 0);
}

/* A UDP DNS query packet for @name/@qtype from the client to the server. */
static size_t query(uint8_t *buf, uint8_t family, const char *name, uint16_t qtype, uint16_t flags)
{
	size_t h = family == 4 ? 20 : 40, n = h + 8, i;
	uint8_t *d = buf + n, *lab;

	memset(buf, 0, 512);
	d[0] = 0xab;
	d[1] = 0xcd;
	d[2] = (uint8_t)(flags >> 8);
	d[3] = (uint8_t)flags;
	d[5] = 1; /* qdcount */
	lab = d + 12;
	for (i = 0;; i++) {
		size_t l = 0;

		while (name[i + l] && name[i + l] != '.')
			l++;
		*lab++ = (uint8_t)l;
		memcpy(lab, name + i, l);
		lab += l;
		i += l;
		if (!name[i])
			break;
	}
	*lab++ = 0;
	*lab++ = (uint8_t)(qtype >> 8);
	*lab++ = (uint8_t)qtype;
	*lab++ = 0;
	*lab++ = 1;
	n = (size_t)(lab - buf);
	if (family == 4) {
		buf[0] = 0x45;
		buf[2] = (uint8_t)(n >> 8);
		buf[3] = (uint8_t)n;
		buf[8] = 64;
		buf[9] = 17;
		memcpy(buf + 12, c4, 4);
		memcpy(buf + 16, s4, 4);
		buf[10] = 0;
		buf[11] = 0;
		{
			uint16_t cs = tg_pkt_csum(buf, 20);

			buf[10] = (uint8_t)(cs >> 8);
			buf[11] = (uint8_t)cs;
		}
	} else {
		buf[0] = 0x60;
		buf[4] = (uint8_t)((n - 40) >> 8);
		buf[5] = (uint8_t)(n - 40);
		buf[6] = 17;
		buf[7] = 64;
		memcpy(buf + 8, c6, 16);
		memcpy(buf + 24, s6, 16);
	}
	buf[h] = 0xd4; /* sport 54321 */
	buf[h + 1] = 0x31;
	buf[h + 3] = 53;
	buf[h + 4] = (uint8_t)((n - h) >> 8);
	buf[h + 5] = (uint8_t)(n - h);
	return n;
}

static void answer(uint8_t family, uint16_t qtype, uint8_t sink_family, uint8_t rcode,
		   unsigned ancount)
{
	static const uint8_t sink[16] = { 10, 9, 8, 7 };
	uint8_t q[512], out[TG_PKT_DNS_ANSWER_MAX];
	struct tg_pkt qp, ap;
	static struct tg_dns_msg m;
	size_t n = query(q, family, "www.blocked.test", qtype, 0x0100), an;

	CHECK_ERR(tg_pkt_parse(&qp, q, n), TG_OK);
	an = tg_pkt_build_dns_block(out, sizeof(out), &qp, sink_family, sink, 60);
	CHECK(an > 0);
	CHECK_ERR(tg_pkt_parse(&ap, out, an), TG_OK);
	CHECK(tg_pkt_l4_csum_ok(&ap));
	CHECK(memcmp(ap.src, qp.dst, 16) == 0 && memcmp(ap.dst, qp.src, 16) == 0);
	CHECK_INT(ap.sport, 53);
	CHECK_INT(ap.dport, 54321);
	CHECK_ERR(tg_dns_parse(&m, ap.payload.p, ap.payload.len), TG_OK);
	CHECK_INT(m.id, 0xabcd);
	CHECK(m.qr);
	CHECK_INT(m.rcode, rcode);
	CHECK_INT(m.flags & 0x0100, 0x0100); /* RD copied */
	CHECK_INT(m.n_q, 1);
	CHECK_MEM(m.q[0].name.text, m.q[0].name.len, "www.blocked.test");
	CHECK_INT(m.n_an, ancount);
	if (ancount) {
		CHECK_INT(m.an[0].type, qtype);
		CHECK_INT(m.an[0].ttl, 60);
		CHECK(memcmp(qtype == 1 ? m.an[0].u.a : m.an[0].u.aaaa, sink,
			     qtype == 1 ? 4 : 16) == 0);
	}
}

static void test_refused_queries(void)
{
	uint8_t q[512], out[TG_PKT_DNS_ANSWER_MAX];
	struct tg_pkt qp;
	size_t n;

	/* A response is not answered. */
	n = query(q, 4, "a.test", 1, 0x8180);
	CHECK_ERR(tg_pkt_parse(&qp, q, n), TG_OK);
	CHECK_INT(tg_pkt_build_dns_block(out, sizeof(out), &qp, 0, NULL, 0), 0);
	/* Two questions: not answered. */
	n = query(q, 4, "a.test", 1, 0x0100);
	q[20 + 8 + 5] = 2;
	CHECK_ERR(tg_pkt_parse(&qp, q, n), TG_OK);
	CHECK_INT(tg_pkt_build_dns_block(out, sizeof(out), &qp, 0, NULL, 0), 0);
	/* Truncated question, and too small an output buffer. */
	n = query(q, 4, "a.test", 1, 0x0100);
	CHECK_ERR(tg_pkt_parse(&qp, q, n), TG_OK);
	qp.payload.len -= 3;
	CHECK_INT(tg_pkt_build_dns_block(out, sizeof(out), &qp, 0, NULL, 0), 0);
	qp.payload.len += 3;
	CHECK_INT(tg_pkt_build_dns_block(out, 40, &qp, 0, NULL, 0), 0);
	/* A compression pointer in the question. */
	q[20 + 8 + 12] = 0xc0;
	CHECK_INT(tg_pkt_build_dns_block(out, sizeof(out), &qp, 0, NULL, 0), 0);
}

static void test_tcp_payload(void)
{
	uint8_t buf[256];
	struct tg_pkt p;
	size_t n = tg_pkt_build_tcp(buf, sizeof(buf), 6, s6, c6, 443, 51000, 7, 9,
				    TG_TCP_PSH | TG_TCP_ACK | TG_TCP_FIN, 512,
				    (const uint8_t *)"HTTP/1.1 403", 12);

	CHECK_INT(n, 40 + 20 + 12);
	CHECK_ERR(tg_pkt_parse(&p, buf, n), TG_OK);
	CHECK_INT(p.tcp_flags, TG_TCP_PSH | TG_TCP_ACK | TG_TCP_FIN);
	CHECK_INT(p.window, 512);
	CHECK_SPAN(p.payload, "HTTP/1.1 403");
	CHECK(tg_pkt_l4_csum_ok(&p));
	/* Too small a buffer: nothing built. */
	CHECK_INT(tg_pkt_build_tcp(buf, 60 + 11, 6, s6, c6, 1, 2, 3, 4, 0, 0,
				   (const uint8_t *)"HTTP/1.1 403", 12),
		  0);
}

int main(void)
{
	test_tcp_payload();
	test_rst(4, c4, s4);
	test_rst(6, c6, s6);
	answer(4, 1, 0, 3, 0); /* NXDOMAIN */
	answer(6, 28, 0, 3, 0); /* NXDOMAIN over IPv6 */
	answer(4, 1, 4, 0, 1); /* sinkhole A */
	answer(6, 28, 6, 0, 1); /* sinkhole AAAA */
	answer(4, 16, 4, 0, 0); /* TXT with a sinkhole: NODATA */
	test_refused_queries();
	return tg_test_done();
}
