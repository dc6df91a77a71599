/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_pkt.c - throughput of the per-packet work on the NFQUEUE path: dissecting a TCP SYN
 * with options and a full-size data segment, verifying a TCP checksum over 1500 bytes, and
 * reassembling a 1.8 KB ClientHello from two segments (in order and reversed). Prints numbers,
 * asserts nothing. Times are CPU time of this process, so a loaded machine skews them less.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsgate/pkt.h"
#include "tlsgate/reasm.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Ethernet + IPv4 + TCP SYN with MSS, NOP, WS, NOP, NOP, TS, SACK-permitted, EOL. */
static const uint8_t syn[] = {
	0xa2, 0x38, 0xf5, 0x14, 0x98, 0x80, 0x9a, 0x4b, 0x87, 0xd9, 0xe9, 0x6e, 0x08,
	0x00, 0x45, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xc5, 0x0d,
	0xac, 0x10, 0x05, 0x10, 0xac, 0x43, 0x18, 0x47, 0xef, 0x7f, 0x01, 0xbb, 0xc6,
	0xa2, 0x9c, 0xd2, 0x00, 0x00, 0x00, 0x00, 0xb0, 0xc2, 0xff, 0xff, 0xd2, 0x28,
	0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x06, 0x01, 0x01, 0x08,
	0x0a, 0x78, 0x03, 0x21, 0xb5, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00,
};

static volatile unsigned sink;

int main(void)
{
	enum { N = 2000000, NR = 200000 };
	static uint8_t big[1500], ch[1800];
	struct tg_pkt k;
	double t0, t1;
	size_t i;

	/* A 1500-byte IPv4/TCP data segment with timestamps. */
	memcpy(big, syn + 14, 64);
	big[2] = 1500 >> 8, big[3] = 1500 & 0xff;
	for (i = 64; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	for (i = 0; i < sizeof(ch); i++)
		ch[i] = (uint8_t)(i * 31);

	t0 = now_ns();
	for (i = 0; i < N; i++)
		sink += tg_pkt_parse_link(&k, TG_LINK_ETHERNET, syn, sizeof(syn)) + k.opts.mss;
	t1 = now_ns();
	printf("pkt_parse_link syn+options      %8.1f ns/packet\n", (t1 - t0) / N);

	t0 = now_ns();
	for (i = 0; i < N; i++)
		sink += tg_pkt_parse(&k, big, sizeof(big)) + (unsigned)k.payload.len;
	t1 = now_ns();
	printf("pkt_parse 1500-byte segment     %8.1f ns/packet\n", (t1 - t0) / N);

	if (tg_pkt_parse(&k, big, sizeof(big)) != TG_OK)
		return 1;
	t0 = now_ns();
	for (i = 0; i < N / 10; i++)
		sink += tg_pkt_l4_csum(4, k.src, k.dst, 6, k.l4.p, k.l4.len);
	t1 = now_ns();
	printf("pkt_l4_csum 1480 bytes          %8.1f ns (%.2f GB/s)\n", (t1 - t0) / (N / 10),
	       1480.0 * (N / 10) / (t1 - t0));

	t0 = now_ns();
	for (i = 0; i < NR; i++) {
		struct tg_reasm *r = tg_reasm_new(0xfffffc00u);

		if (r == NULL)
			return 1;
		sink += tg_reasm_add(r, 0xfffffc01u, ch, 1448);
		sink += tg_reasm_add(r, 0xfffffc01u + 1448, ch + 1448, sizeof(ch) - 1448);
		sink += (unsigned)tg_reasm_contig(r).len;
		tg_reasm_free(r);
	}
	t1 = now_ns();
	printf("reasm 2 segments in order       %8.1f ns/flow (new, add, add, contig, free)\n",
	       (t1 - t0) / NR);

	t0 = now_ns();
	for (i = 0; i < NR; i++) {
		struct tg_reasm *r = tg_reasm_new(7);

		if (r == NULL)
			return 1;
		sink += tg_reasm_add(r, 8 + 1448, ch + 1448, sizeof(ch) - 1448);
		sink += tg_reasm_add(r, 8, ch, 1448);
		sink += (unsigned)tg_reasm_contig(r).len;
		sink += (unsigned)tg_reasm_mem(r);
		tg_reasm_free(r);
	}
	t1 = now_ns();
	printf("reasm 2 segments reversed       %8.1f ns/flow\n", (t1 - t0) / NR);
	{
		struct tg_reasm *r = tg_reasm_new(7);
		size_t empty;

		if (r == NULL)
			return 1;
		empty = tg_reasm_mem(r);
		sink += tg_reasm_add(r, 8, ch, sizeof(ch));
		printf("reasm memory: empty %zu bytes, holding 1800 bytes %zu bytes\n", empty,
		       tg_reasm_mem(r));
		tg_reasm_free(r);
	}
	return 0;
}
