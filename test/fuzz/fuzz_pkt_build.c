/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_pkt_build.c - the packets the gateway builds from what it received: a DNS block answer
 * from any parsed UDP packet, and RSTs from any parsed packet's addresses. Invariants: whatever
 * is built parses, carries correct checksums, swaps addresses and ports, and answers the query's
 * id with exactly one question.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/dns.h"
#include "tlsgate/pkt.h"
#include "tlsgate/pkt_build.h"

static struct tg_dns_msg msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sink[16] = { 192, 0, 2, 53 };
	uint8_t out[TG_PKT_DNS_ANSWER_MAX], rst[TG_PKT_RST_MAX];
	struct tg_pkt q, a;
	uint8_t fam;
	size_t n;

	if (tg_pkt_parse(&q, data, size) != TG_OK)
		return 0;
	n = tg_pkt_build_rst(rst, q.ip_version, q.src, q.dst, q.sport, q.dport, q.seq, q.ack);
	if (n == 0 || tg_pkt_parse(&a, rst, n) != TG_OK || !tg_pkt_l4_csum_ok(&a) ||
	    a.tcp_flags != (TG_TCP_RST | TG_TCP_ACK) || a.seq != q.seq)
		abort();
	if (q.proto != TG_IPPROTO_UDP)
		return 0;
	for (fam = 0; fam <= 6; fam += (fam == 0 ? 4 : 2)) {
		n = tg_pkt_build_dns_block(out, sizeof(out), &q, fam, sink, 30);
		if (n == 0)
			continue;
		if (n > sizeof(out) || tg_pkt_parse(&a, out, n) != TG_OK || !tg_pkt_l4_csum_ok(&a))
			abort();
		if (a.sport != q.dport || a.dport != q.sport || memcmp(a.src, q.dst, 16) != 0 ||
		    memcmp(a.dst, q.src, 16) != 0)
			abort();
		if (a.payload.len < 12 || memcmp(a.payload.p, q.payload.p, 2) != 0 ||
		    !(a.payload.p[2] & 0x80) || a.payload.p[5] != 1)
			abort();
		/* Our answer is well-formed DNS whenever the question was. */
		if (tg_dns_parse(&msg, q.payload.p, q.payload.len) == TG_OK &&
		    tg_dns_parse(&msg, a.payload.p, a.payload.len) != TG_OK)
			abort();
	}
	return 0;
}
