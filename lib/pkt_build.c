/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkt_build.c - RSTs and DNS block answers; see pkt_build.h.
 *
 * IPv4 header (RFC 791): ver/ihl, tos, total length, id, flags/fragment, ttl, protocol,
 * checksum, source, destination. IPv6 header (RFC 8200): ver/class/flow label, payload length,
 * next header, hop limit, source, destination. TCP header (RFC 9293 3.1), UDP (RFC 768),
 * DNS header and question (RFC 1035 4.1.1, 4.1.2).
 */
#include <string.h>

#include "tlsgate/cursor.h"
#include "tlsgate/pkt_build.h"

#define BUILD_TTL 64

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Write the IP header for @l4len transport bytes; returns the header length or 0. */
static size_t build_ip(uint8_t *out, uint8_t family, const uint8_t *src, const uint8_t *dst,
		       uint8_t proto, size_t l4len)
{
	if (family == 4) {
		memset(out, 0, 20);
		out[0] = 0x45;
		put16(out + 2, (uint16_t)(20 + l4len));
		put16(out + 6, 0x4000); /* DF */
		out[8] = BUILD_TTL;
		out[9] = proto;
		memcpy(out + 12, src, 4);
		memcpy(out + 16, dst, 4);
		put16(out + 10, tg_pkt_csum(out, 20));
		return 20;
	}
	if (family == 6) {
		memset(out, 0, 40);
		out[0] = 0x60;
		put16(out + 4, (uint16_t)l4len);
		out[6] = proto;
		out[7] = BUILD_TTL;
		memcpy(out + 8, src, 16);
		memcpy(out + 24, dst, 16);
		return 40;
	}
	return 0;
}

size_t tg_pkt_build_tcp(uint8_t *out, size_t cap, uint8_t family, const uint8_t src[static 16],
			const uint8_t dst[static 16], uint16_t sport, uint16_t dport, uint32_t seq,
			uint32_t ack, uint8_t flags, uint16_t window, const uint8_t *payload,
			size_t len)
{
	size_t hl = family == 4 ? 20 : 40, h;
	uint8_t *t;

	if ((family != 4 && family != 6) || hl + 20 + len > cap || 20 + len > 65535 - hl)
		return 0;
	h = build_ip(out, family, src, dst, TG_IPPROTO_TCP, 20 + len);
	t = out + h;
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, window);
	if (len)
		memcpy(t + 20, payload, len);
	put16(t + 16, tg_pkt_l4_csum(family, src, dst, TG_IPPROTO_TCP, t, 20 + len));
	return h + 20 + len;
}

size_t tg_pkt_build_rst(uint8_t out[static TG_PKT_RST_MAX], uint8_t family,
			const uint8_t src[static 16], const uint8_t dst[static 16], uint16_t sport,
			uint16_t dport, uint32_t seq, uint32_t ack)
{
	return tg_pkt_build_tcp(out, TG_PKT_RST_MAX, family, src, dst, sport, dport, seq, ack,
				TG_TCP_RST | TG_TCP_ACK, 0, NULL, 0);
}

/* Length of the header and first question of a DNS query, or 0 if it is not one we answer. */
static size_t dns_question_end(const uint8_t *msg, size_t len, uint16_t *qtype)
{
	struct tg_cur c;
	uint16_t flags, qd;
	unsigned hops = 0;

	tg_cur_init(&c, msg, len);
	(void)tg_cur_u16(&c); /* id */
	flags = tg_cur_u16(&c);
	qd = tg_cur_u16(&c);
	(void)tg_cur_skip(&c, 6);
	if (!tg_cur_ok(&c) || (flags & 0x8000) || qd != 1)
		return 0;
	for (;;) {
		uint8_t l = tg_cur_u8(&c);

		if (!tg_cur_ok(&c) || ++hops > 128)
			return 0;
		if (l == 0)
			break;
		if ((l & 0xc0) == 0xc0) {
			/* A pointer in a question can only point back into the header: invalid. */
			return 0;
		}
		if (l & 0xc0)
			return 0;
		if (!tg_cur_skip(&c, l))
			return 0;
	}
	*qtype = tg_cur_u16(&c);
	(void)tg_cur_u16(&c); /* qclass */
	if (!tg_cur_ok(&c))
		return 0;
	return tg_cur_pos(&c);
}

size_t tg_pkt_build_dns_block(uint8_t *out, size_t cap, const struct tg_pkt *q,
			      uint8_t sinkhole_family, const uint8_t sinkhole[16], uint32_t ttl)
{
	const uint8_t *msg = q->payload.p;
	size_t qend, h, dlen, need;
	uint16_t qtype = 0, flags;
	uint8_t *u, *d;
	bool answer = false;

	if (q->proto != TG_IPPROTO_UDP || msg == NULL)
		return 0;
	qend = dns_question_end(msg, q->payload.len, &qtype);
	if (qend == 0)
		return 0;
	if (sinkhole_family == 4 && qtype == 1)
		answer = true;
	else if (sinkhole_family == 6 && qtype == 28)
		answer = true;
	dlen = qend + (answer ? 12 + (sinkhole_family == 4 ? 4u : 16u) : 0);
	need = (q->ip_version == 4 ? 20 : 40) + 8 + dlen;
	if (need > cap || need > TG_PKT_DNS_ANSWER_MAX)
		return 0;
	h = q->ip_version == 4 ? 20 : 40;
	u = out + h;
	d = u + 8;
	memcpy(d, msg, qend);
	flags = (uint16_t)(msg[2] << 8 | msg[3]);
	/* QR, the query's opcode and RD, RA; rcode NXDOMAIN (3) unless we answer or say NODATA. */
	flags = (uint16_t)(0x8000 | (flags & 0x7800) | (flags & 0x0100) | 0x0080 |
			   (sinkhole_family == 0 ? 3 : 0));
	put16(d + 2, flags);
	put16(d + 6, answer ? 1 : 0); /* ancount */
	put16(d + 8, 0);
	put16(d + 10, 0);
	if (answer) {
		uint8_t *a = d + qend;

		put16(a, 0xc00c); /* the name at offset 12: the question's */
		put16(a + 2, qtype);
		put16(a + 4, 1); /* IN */
		put32(a + 6, ttl);
		put16(a + 10, sinkhole_family == 4 ? 4 : 16);
		memcpy(a + 12, sinkhole, sinkhole_family == 4 ? 4 : 16);
	}
	put16(u, q->dport);
	put16(u + 2, q->sport);
	put16(u + 4, (uint16_t)(8 + dlen));
	put16(u + 6, 0);
	if (build_ip(out, q->ip_version, q->dst, q->src, TG_IPPROTO_UDP, 8 + dlen) == 0)
		return 0;
	{
		uint16_t cs =
			tg_pkt_l4_csum(q->ip_version, q->dst, q->src, TG_IPPROTO_UDP, u, 8 + dlen);

		put16(u + 6, cs == 0 ? 0xffff : cs);
	}
	return need;
}

size_t tg_pkt_build_udp_payload(uint8_t *out, size_t cap, const struct tg_pkt *p,
				const uint8_t *payload, size_t len)
{
	size_t h = p->ip_hdr_len, total = h + 8 + len;
	uint8_t *u = out + h;
	uint16_t cs;

	if (p->proto != TG_IPPROTO_UDP || p->fragment || p->truncated || p->l3.len < h + 8 ||
	    total > cap || total > 65535 || (p->ip_version == 6 && total - 40 > 65535))
		return 0;
	memcpy(out, p->l3.p, h + 8);
	memcpy(u + 8, payload, len);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	if (p->ip_version == 4) {
		put16(out + 2, (uint16_t)total);
		put16(out + 10, 0);
		put16(out + 10, tg_pkt_csum(out, h));
	} else {
		put16(out + 4, (uint16_t)(total - 40));
	}
	cs = tg_pkt_l4_csum(p->ip_version, p->src, p->dst, TG_IPPROTO_UDP, u, 8 + len);
	put16(u + 6, cs == 0 ? 0xffff : cs);
	return total;
}
