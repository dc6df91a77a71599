/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_cursor.c - drives the cursor with an opcode stream taken from the input itself: each
 * byte picks a read, the rest is data. Invariants: position never passes the end, a failed
 * cursor stays failed, a closed sub-cursor never lets the parent read out of range.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "tlsgate/cursor.h"

static void walk(struct tg_cur *c, const uint8_t *ops, size_t nops, int depth)
{
	size_t i, k;

	for (i = 0; i < nops; i++) {
		struct tg_cur sub;
		struct tg_span s;
		enum tg_err before = c->err;

		switch (ops[i] & 15) {
		case 0:
			(void)tg_cur_u8(c);
			break;
		case 1:
			(void)tg_cur_u16(c);
			break;
		case 2:
			(void)tg_cur_u24(c);
			break;
		case 3:
			(void)tg_cur_u32(c);
			break;
		case 4:
			(void)tg_cur_skip(c, ops[i] >> 4);
			break;
		case 5:
			s = tg_cur_span(c, ops[i] >> 4);
			if (s.len && (s.p < c->p || s.p + s.len > c->p + c->len))
				abort();
			break;
		case 6:
		case 7:
		case 8:
			if (depth > 8)
				break;
			if ((ops[i] & 15) == 6)
				(void)tg_cur_vec8(c, &sub);
			else if ((ops[i] & 15) == 7)
				(void)tg_cur_vec16(c, &sub);
			else
				(void)tg_cur_vec24(c, &sub);
			/* The sub-cursor takes the next half of the ops; the parent skips them. */
			k = (nops - i - 1) / 2;
			walk(&sub, ops + i + 1, k, depth + 1);
			(void)tg_cur_close(c, &sub);
			i += k;
			break;
		case 9:
			(void)tg_cur_peek(c, ops[i] >> 4);
			break;
		case 10:
			(void)tg_cur_end(c);
			break;
		default:
			(void)tg_cur_rest(c);
			break;
		}
		if (c->off > c->len)
			abort();
		if (before != TG_OK && c->err != before)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_cur c;
	size_t nops = size / 2;

	tg_cur_init(&c, data + nops, size - nops);
	walk(&c, data, nops, 0);
	return 0;
}
