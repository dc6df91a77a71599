/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_flow.c - tg_flow_examine() on arbitrary bytes, as a TLS/HTTP port (first input byte
 * even) or the DNS port (odd). Invariants, each an abort() when broken:
 *  - deterministic;
 *  - an answer other than NEED_MORE is final: one more byte never changes a failure or a
 *    complete message into something else (what the daemon decided stays right);
 *  - a complete HTTP head or DNS message says how many bytes it used, within the input;
 *  - tg_flow_facts_set_exam() gives TLS, HTTP or DNS kinds and the failure unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/flow.h"

static uint8_t scratch[TG_CAP_CH_BYTES];
static struct tg_exam a, b;

#define FUZZ_ASSERT(c)           \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_flow_facts f;
	char ja4[TG_CAP_JA4_LEN + 1];
	uint8_t *buf;
	bool dns;

	if (size < 1)
		return 0;
	dns = data[0] & 1;
	data++;
	size--;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	tg_flow_examine(buf, size, dns, scratch, &a);
	tg_flow_examine(buf, size, dns, scratch, &b);
	FUZZ_ASSERT(a.kind == b.kind && a.fail == b.fail && a.used == b.used);
	if (a.kind == TG_EXAM_HTTP || a.kind == TG_EXAM_DNS)
		FUZZ_ASSERT(a.used > 0 && a.used <= size);
	if (a.kind == TG_EXAM_FAIL)
		FUZZ_ASSERT(a.fail > TG_FLOW_FAIL_NONE && a.fail < TG_FLOW_FAIL__COUNT);
	memset(&f, 0, sizeof(f));
	f.kind = TG_FLOW_OTHER;
	tg_flow_facts_set_exam(&f, &a, ja4);
	if (a.kind == TG_EXAM_FAIL)
		FUZZ_ASSERT(f.fail == a.fail);
	else
		FUZZ_ASSERT(f.fail == TG_FLOW_FAIL_NONE);
	if (a.kind != TG_EXAM_NEED_MORE) {
		/* One more byte: the answer stands (a failure stays that failure). */
		buf[size] = 0x0a;
		tg_flow_examine(buf, size + 1, dns, scratch, &b);
		FUZZ_ASSERT(b.kind == a.kind && b.fail == a.fail);
		if (a.kind == TG_EXAM_HTTP || a.kind == TG_EXAM_DNS)
			FUZZ_ASSERT(b.used == a.used);
	}
	free(buf);
	return 0;
}
