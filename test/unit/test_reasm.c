/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_reasm.c - first-bytes TCP reassembly: in order, out of order, identical and conflicting
 * overlaps, retransmissions, sequence wraparound, old segments, the byte and segment caps, the
 * window, and a shuffled-segments run against the original bytes.
 */
#include <stdlib.h>

#include "tlsgate/reasm.h"
#include "tg_test.h"

static enum tg_err add_str(struct tg_reasm *r, uint32_t seq, const char *s)
{
	return tg_reasm_add(r, seq, (const uint8_t *)s, strlen(s));
}

static void test_in_order(void)
{
	struct tg_reasm *r = tg_reasm_new(1000);
	const struct tg_reasm_stats *st;

	CHECK(r != NULL);
	CHECK_INT(tg_reasm_isn(r), 1000);
	CHECK_INT(tg_reasm_contig(r).len, 0);
	CHECK_INT(tg_reasm_next_seq(r), 1001);
	CHECK_INT(tg_reasm_end(r), 0);
	CHECK_ERR(add_str(r, 1001, "Hello, "), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "Hello, ");
	CHECK_ERR(add_str(r, 1008, "world"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "Hello, world");
	CHECK_INT(tg_reasm_next_seq(r), 1013);
	CHECK_INT(tg_reasm_end(r), 12);
	st = tg_reasm_stats(r);
	CHECK_INT(st->segs, 2);
	CHECK_INT(st->bytes, 12);
	CHECK_INT(st->dups + st->overlaps + st->old + st->conflicts, 0);
	/* Zero-length segments (pure ACKs) change nothing, wherever they point. */
	CHECK_ERR(tg_reasm_add(r, 1013, NULL, 0), TG_OK);
	CHECK_ERR(tg_reasm_add(r, 99, (const uint8_t *)"x", 0), TG_OK);
	CHECK_ERR(tg_reasm_add(r, 1013, NULL, 3), TG_ERR_ARG);
	CHECK_INT(st->segs, 2);
	CHECK_INT(st->old, 0);
	tg_reasm_free(r);
	tg_reasm_free(NULL);
}

static void test_out_of_order(void)
{
	struct tg_reasm *r = tg_reasm_new(1000);

	CHECK_ERR(add_str(r, 1008, "world"), TG_OK);
	CHECK_INT(tg_reasm_contig(r).len, 0);
	CHECK_INT(tg_reasm_next_seq(r), 1001);
	CHECK_INT(tg_reasm_end(r), 12);
	CHECK_ERR(add_str(r, 1004, "lo"), TG_OK);
	CHECK_INT(tg_reasm_contig(r).len, 0);
	/* The first bytes arrive last and close every gap. */
	CHECK_ERR(add_str(r, 1006, ", "), TG_OK);
	CHECK_ERR(add_str(r, 1001, "Hel"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "Hello, world");
	CHECK_INT(tg_reasm_stats(r)->segs, 4);
	CHECK_INT(tg_reasm_stats(r)->bytes, 12);
	CHECK_INT(tg_reasm_stats(r)->overlaps, 0);
	tg_reasm_free(r);
}

static void test_overlaps(void)
{
	struct tg_reasm *r = tg_reasm_new(1000);
	const struct tg_reasm_stats *st = tg_reasm_stats(r);

	CHECK_ERR(add_str(r, 1001, "Hello, wo"), TG_OK);
	/* Identical overlap that brings new bytes: stored, counted. */
	CHECK_ERR(add_str(r, 1005, "o, world"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "Hello, world");
	CHECK_INT(st->overlaps, 1);
	CHECK_INT(st->bytes, 12);
	/* Identical retransmissions, whole or partial: ignored, counted. */
	CHECK_ERR(add_str(r, 1001, "Hello, world"), TG_OK);
	CHECK_ERR(add_str(r, 1004, "lo"), TG_OK);
	CHECK_INT(st->dups, 2);
	CHECK_INT(st->segs, 2);
	/* Different bytes where bytes are held: evasion, nothing stored. */
	CHECK_ERR(add_str(r, 1001, "HELLO"), TG_ERR_REASM_CONFLICT);
	CHECK_ERR(add_str(r, 1012, "d!"), TG_OK); /* overlap "d" identical, "!" new */
	CHECK_ERR(add_str(r, 1012, "D?"), TG_ERR_REASM_CONFLICT);
	CHECK_ERR(add_str(r, 1013, "?more"), TG_ERR_REASM_CONFLICT);
	CHECK_SPAN(tg_reasm_contig(r), "Hello, world!");
	CHECK_INT(st->conflicts, 3);
	CHECK_INT(st->bytes, 13);
	CHECK_INT(tg_reasm_end(r), 13);
	tg_reasm_free(r);

	/* A segment bridging two held ranges must match both; a mismatch in the second keeps
	 * the gap empty. */
	r = tg_reasm_new(0);
	st = tg_reasm_stats(r);
	CHECK_ERR(add_str(r, 1, "abcde"), TG_OK);
	CHECK_ERR(add_str(r, 11, "klmno"), TG_OK);
	CHECK_ERR(add_str(r, 4, "deFGHIJkX"), TG_ERR_REASM_CONFLICT);
	CHECK_SPAN(tg_reasm_contig(r), "abcde");
	CHECK_INT(st->bytes, 10);
	CHECK_ERR(add_str(r, 4, "deFGHIJkl"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "abcdeFGHIJklmno");
	CHECK_INT(st->overlaps, 1);
	/* A segment covering everything held plus a new tail. */
	CHECK_ERR(add_str(r, 1, "abcdeFGHIJklmnopq"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "abcdeFGHIJklmnopq");
	CHECK_INT(st->overlaps, 2);
	CHECK_INT(st->segs, 4);
	tg_reasm_free(r);
}

static void test_wraparound(void)
{
	struct tg_reasm *r;

	/* ISN 2^32 - 2: the first byte is 2^32 - 1, the third wraps to 1. */
	r = tg_reasm_new(0xfffffffeu);
	CHECK_ERR(add_str(r, 1, "cd"), TG_OK);
	CHECK_INT(tg_reasm_end(r), 4);
	CHECK_ERR(add_str(r, 0xffffffffu, "ab"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "abcd");
	CHECK_INT(tg_reasm_next_seq(r), 3);
	CHECK_ERR(add_str(r, 0xffffffffu, "abcdef"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "abcdef");
	CHECK_ERR(add_str(r, 0, "Bc"), TG_ERR_REASM_CONFLICT);
	tg_reasm_free(r);

	/* ISN 2^32 - 1: the first byte has sequence number 0. */
	r = tg_reasm_new(0xffffffffu);
	CHECK_ERR(add_str(r, 0, "xy"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "xy");
	/* The SYN's own sequence number is before the first byte. */
	CHECK_ERR(add_str(r, 0xffffffffu, "Z"), TG_OK);
	CHECK_INT(tg_reasm_stats(r)->old, 1);
	/* Straddling isn + 1 across the wrap: the old byte is dropped, the rest compared. */
	CHECK_ERR(add_str(r, 0xffffffffu, "Zxyz"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "xyz");
	CHECK_INT(tg_reasm_stats(r)->old, 2);
	CHECK_INT(tg_reasm_stats(r)->overlaps, 1);
	CHECK_ERR(add_str(r, 0xfffffffeu, "ZZxq"), TG_ERR_REASM_CONFLICT);
	tg_reasm_free(r);
}

static void test_old(void)
{
	struct tg_reasm *r = tg_reasm_new(5000);
	const struct tg_reasm_stats *st = tg_reasm_stats(r);

	/* Entirely before isn + 1, up to 2^31 behind: ignored and counted. */
	CHECK_ERR(add_str(r, 4990, "0123456789"), TG_OK);
	CHECK_ERR(add_str(r, 5001 - 0x80000000u, "far"), TG_OK);
	CHECK_INT(st->old, 2);
	CHECK_INT(st->segs, 0);
	CHECK_INT(tg_reasm_contig(r).len, 0);
	/* Straddling: the tail from isn + 1 is kept. */
	CHECK_ERR(add_str(r, 4998, "xyzABC"), TG_OK);
	CHECK_SPAN(tg_reasm_contig(r), "ABC");
	CHECK_INT(st->old, 3);
	CHECK_INT(st->segs, 1);
	/* 2^31 - 1 ahead is ahead: outside the window, not old. */
	CHECK_ERR(add_str(r, 5001 + 0x7fffffffu, "w"), TG_ERR_REASM_WINDOW);
	CHECK_INT(st->old, 3);
	tg_reasm_free(r);
}

static void test_caps(void)
{
	struct tg_reasm *r = tg_reasm_new(7);
	const struct tg_reasm_stats *st = tg_reasm_stats(r);
	uint8_t *big = malloc(TG_CAP_REASM_BYTES + 100);
	struct tg_span c;
	size_t i;

	for (i = 0; i < TG_CAP_REASM_BYTES + 100; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	/* The window: a segment starting at the cap or beyond is refused whole. */
	CHECK_ERR(tg_reasm_add(r, 8 + TG_CAP_REASM_BYTES, big, 1), TG_ERR_REASM_WINDOW);
	CHECK_ERR(tg_reasm_add(r, 8 + 100000, big, 1), TG_ERR_REASM_WINDOW);
	CHECK_INT(st->segs, 0);
	/* Ending exactly at the cap is fine. */
	CHECK_ERR(tg_reasm_add(r, 8 + TG_CAP_REASM_BYTES - 10, big + TG_CAP_REASM_BYTES - 10, 10),
		  TG_OK);
	/* Past it: what fits is kept, the answer says the segment was cut. */
	CHECK_ERR(tg_reasm_add(r, 8, big, TG_CAP_REASM_BYTES + 100), TG_ERR_CAP);
	c = tg_reasm_contig(r);
	CHECK_INT(c.len, TG_CAP_REASM_BYTES);
	CHECK(memcmp(c.p, big, TG_CAP_REASM_BYTES) == 0);
	CHECK_INT(st->bytes, TG_CAP_REASM_BYTES);
	CHECK_INT(st->overlaps, 1);
	/* Everything held and a tail past the cap: a duplicate, still cut. */
	CHECK_ERR(tg_reasm_add(r, 8 + TG_CAP_REASM_BYTES - 1, big + TG_CAP_REASM_BYTES - 1, 2),
		  TG_ERR_CAP);
	CHECK_INT(st->dups, 1);
	/* ...unless the held part differs. */
	CHECK_ERR(tg_reasm_add(r, 8 + TG_CAP_REASM_BYTES - 1, (const uint8_t *)"??", 2),
		  TG_ERR_REASM_CONFLICT);
	CHECK_INT(tg_reasm_mem(r) <= 256 + TG_CAP_REASM_BYTES, 1);
	tg_reasm_free(r);

	/* The range cap: TG_CAP_REASM_RANGES disjoint ranges, then no new hole. */
	r = tg_reasm_new(0);
	st = tg_reasm_stats(r);
	for (i = 0; i < TG_CAP_REASM_RANGES; i++)
		CHECK_ERR(tg_reasm_add(r, (uint32_t)(1 + 4 * i), big + 4 * i, 1), TG_OK);
	CHECK_INT(tg_reasm_end(r), 4 * TG_CAP_REASM_RANGES - 3);
	CHECK_INT(tg_reasm_contig(r).len, 1);
	/* A new hole is refused; a segment that extends a range is taken. */
	CHECK_ERR(tg_reasm_add(r, 3, big + 2, 1), TG_ERR_CAP);
	CHECK_ERR(tg_reasm_add(r, 2, big + 1, 1), TG_OK);
	CHECK_INT(tg_reasm_contig(r).len, 2);
	/* Retransmissions of held bytes are still answered. */
	CHECK_ERR(tg_reasm_add(r, 5, big + 4, 1), TG_OK);
	CHECK_ERR(tg_reasm_add(r, 5, big + 5, 1), TG_ERR_REASM_CONFLICT);
	CHECK_INT(st->segs, TG_CAP_REASM_RANGES + 1);
	CHECK_INT(st->dups, 1);
	tg_reasm_free(r);

	/* In-order 1-byte segments are not capped: they extend one range up to the window. */
	r = tg_reasm_new(0);
	for (i = 0; i < 4 * TG_CAP_REASM_RANGES; i++)
		CHECK_ERR(tg_reasm_add(r, (uint32_t)(1 + i), big + i, 1), TG_OK);
	CHECK_INT(tg_reasm_contig(r).len, 4 * TG_CAP_REASM_RANGES);
	tg_reasm_free(r);

	/* Many holes, then one segment that fills them all: ranges merge back into one. */
	r = tg_reasm_new(0);
	for (i = 0; i < TG_CAP_REASM_RANGES - 1; i++)
		CHECK_ERR(tg_reasm_add(r, (uint32_t)(2 + 2 * i), big + 1 + 2 * i, 1), TG_OK);
	CHECK_ERR(tg_reasm_add(r, 1, big, (size_t)2 * TG_CAP_REASM_RANGES), TG_OK);
	c = tg_reasm_contig(r);
	CHECK_INT(c.len, 2 * TG_CAP_REASM_RANGES);
	CHECK(memcmp(c.p, big, c.len) == 0);
	tg_reasm_free(r);
	free(big);
}

static void test_memory(void)
{
	struct tg_reasm *r = tg_reasm_new(0);
	size_t empty = tg_reasm_mem(r);
	uint8_t seg[600] = { 0 };

	/* No byte buffer before data, then one sized to the data, not to the cap. */
	CHECK(empty < 256);
	CHECK_ERR(tg_reasm_add(r, 1, seg, 517), TG_OK);
	CHECK(tg_reasm_mem(r) >= empty + 517 && tg_reasm_mem(r) <= empty + 1024);
	CHECK_ERR(tg_reasm_add(r, 518, seg, 600), TG_OK);
	CHECK(tg_reasm_mem(r) >= empty + 1117 && tg_reasm_mem(r) <= empty + 2048);
	/* Out-of-order holes beyond the inline ranges move the list to the heap. */
	for (uint32_t i = 0; i < 10; i++)
		CHECK_ERR(tg_reasm_add(r, 2000 + 10 * i, seg, 1), TG_OK);
	CHECK(tg_reasm_mem(r) <= empty + 4096 + (size_t)TG_CAP_REASM_RANGES * 8);
	CHECK_INT(tg_reasm_contig(r).len, 1117);
	tg_reasm_free(r);
}

/* Cut a message into random segments, send them shuffled with retransmissions and identical
 * overlaps; the contiguous bytes must be the message. */
static void test_shuffled(void)
{
	static uint8_t msg[3000];
	uint32_t rnd = 12345;
	unsigned round;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i ^ (i >> 8));
	for (round = 0; round < 200; round++) {
		uint32_t isn = rnd * 2654435761u;
		struct tg_reasm *r = tg_reasm_new(isn);
		size_t starts[64], lens[64], n = 0, off = 0, i;
		struct tg_span c;
		int bad = 0;

		while (off < sizeof(msg) && n < 40) {
			size_t len;

			rnd = rnd * 1103515245u + 12345u;
			len = 1 + (rnd >> 8) % 200;
			if (off + len > sizeof(msg) || n == 39)
				len = sizeof(msg) - off;
			starts[n] = off;
			/* Some segments reach back over their predecessor. */
			if (off > 10 && (rnd >> 20) % 3 == 0) {
				starts[n] -= 10;
				lens[n] = len + 10;
			} else {
				lens[n] = len;
			}
			n++;
			off += len;
		}
		for (i = n - 1; i > 0; i--) {
			size_t j, t;

			rnd = rnd * 1103515245u + 12345u;
			j = (rnd >> 8) % (i + 1);
			t = starts[i], starts[i] = starts[j], starts[j] = t;
			t = lens[i], lens[i] = lens[j], lens[j] = t;
		}
		for (i = 0; i < n; i++) {
			bad += tg_reasm_add(r, isn + 1 + (uint32_t)starts[i], msg + starts[i],
					    lens[i]) != TG_OK;
			/* Every third segment is sent twice. */
			if (i % 3 == 0)
				bad += tg_reasm_add(r, isn + 1 + (uint32_t)starts[i],
						    msg + starts[i], lens[i]) != TG_OK;
		}
		c = tg_reasm_contig(r);
		CHECK_INT(bad, 0);
		CHECK_INT(c.len, sizeof(msg));
		CHECK(c.len == sizeof(msg) && memcmp(c.p, msg, sizeof(msg)) == 0);
		CHECK_INT(tg_reasm_stats(r)->bytes, sizeof(msg));
		CHECK_INT(tg_reasm_next_seq(r), isn + 1 + sizeof(msg));
		tg_reasm_free(r);
	}
}

/* The next message of a kept stream: pipelined bytes carried over, a body still to come. */
static void test_advance(void)
{
	struct tg_reasm *r = tg_reasm_new(0xfffffff0u);
	struct tg_span c;

	CHECK_ERR(tg_reasm_add(r, 0xfffffff1u, (const uint8_t *)"GET /a\n\nGET /b", 14), TG_OK);
	CHECK_ERR(tg_reasm_advance(&r, 8), TG_OK);
	c = tg_reasm_contig(r);
	CHECK_MEM(c.p, c.len, "GET /b");
	CHECK_INT(tg_reasm_isn(r), 0xfffffff8u);
	/* The next segment continues it across the sequence wrap. */
	CHECK_ERR(tg_reasm_add(r, 0xfffffff1u + 14, (const uint8_t *)"\n\n", 2), TG_OK);
	c = tg_reasm_contig(r);
	CHECK_MEM(c.p, c.len, "GET /b\n\n");
	/* A body of 100 bytes not seen yet: the next message starts after it, nothing held. */
	CHECK_ERR(tg_reasm_advance(&r, 8 + 100), TG_OK);
	CHECK_INT(tg_reasm_contig(r).len, 0);
	/* Body bytes are old for the new object; the message after the body is taken. */
	CHECK_ERR(tg_reasm_add(r, 0xfffffff1u + 8 + 8 + 50, (const uint8_t *)"xx", 2), TG_OK);
	CHECK_INT(tg_reasm_contig(r).len, 0);
	CHECK_ERR(tg_reasm_add(r, 0xfffffff1u + 8 + 108, (const uint8_t *)"GET", 3), TG_OK);
	c = tg_reasm_contig(r);
	CHECK_MEM(c.p, c.len, "GET");
	tg_reasm_free(r);
}

int main(void)
{
	test_in_order();
	test_out_of_order();
	test_overlaps();
	test_wraparound();
	test_old();
	test_caps();
	test_memory();
	test_shuffled();
	test_advance();
	return tg_test_done();
}
