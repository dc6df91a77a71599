/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_reasm.c - the input is a script of segments, replayed into a reassembly and into a
 * byte-per-byte reference model of the policy in reasm.h; they must agree on every answer,
 * every counter and every byte.
 *
 * Script: isn(4), then up to 128 records of
 *   mode(1) off(2) len(2) [data(len) when mode bit 2 is set]
 * len below 0xf000 is taken modulo 2048, above it (len & 0xfff) * 16 (up to 65520 bytes).
 * mode & 3 places the segment: 0 = off bytes after isn + 1, 1 = off bytes before it,
 * 2 = off * 65536 after it (which also reaches 2^31 and beyond), 3 = off mod 2^14 after it.
 * Without bit 2 the bytes are a pattern of the absolute sequence number and the seed mode >> 3,
 * so records with the same seed overlap identically and others conflict.
 *
 * Invariants (abort() on violation): the answer is the model's; the counters are the model's;
 * the contiguous span is exactly the model's first bytes, never longer than the cap; the end
 * offset is the model's; memory stays within the cap plus bookkeeping. Leaks are ASan's.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/reasm.h"

struct model {
	uint32_t base;
	size_t contig, end; /* first unknown offset; one past the last known one */
	uint8_t known[TG_CAP_REASM_BYTES];
	uint8_t byte[TG_CAP_REASM_BYTES];
	struct tg_reasm_stats st;
};

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Disjoint ranges of known bytes once [start, end) is known too. */
static size_t model_ranges(const struct model *m, size_t start, size_t end)
{
	size_t i, n = 0;
	int prev = 0;

	for (i = 0; i < TG_CAP_REASM_BYTES; i++) {
		int k = m->known[i] || (i >= start && i < end);

		n += k && !prev;
		prev = k;
	}
	return n;
}

static enum tg_err model_add(struct model *m, uint32_t seq, const uint8_t *p, size_t len)
{
	uint32_t o = seq - m->base;
	int64_t start = o < 0x80000000u ? (int64_t)o : -(int64_t)(0x100000000u - o);
	size_t end, i, fresh = 0;
	int cut;

	if (len == 0)
		return TG_OK;
	if (start < 0) {
		m->st.old++;
		if (len <= (size_t)-start)
			return TG_OK;
		p += -start;
		len -= (size_t)-start;
		start = 0;
	}
	if (start >= TG_CAP_REASM_BYTES)
		return TG_ERR_REASM_WINDOW;
	cut = (size_t)start + len > TG_CAP_REASM_BYTES;
	end = cut ? TG_CAP_REASM_BYTES : (size_t)start + len;
	for (i = (size_t)start; i < end; i++) {
		if (m->known[i] && m->byte[i] != p[i - (size_t)start]) {
			m->st.conflicts++;
			return TG_ERR_REASM_CONFLICT;
		}
		fresh += !m->known[i];
	}
	if (fresh == 0) {
		m->st.dups++;
		return cut ? TG_ERR_CAP : TG_OK;
	}
	if (model_ranges(m, (size_t)start, end) > TG_CAP_REASM_RANGES)
		return TG_ERR_CAP;
	for (i = (size_t)start; i < end; i++) {
		m->known[i] = 1;
		m->byte[i] = p[i - (size_t)start];
	}
	if (end > m->end)
		m->end = end;
	while (m->contig < TG_CAP_REASM_BYTES && m->known[m->contig])
		m->contig++;
	m->st.segs++;
	m->st.bytes += (uint32_t)fresh;
	if (fresh < end - (size_t)start)
		m->st.overlaps++;
	return cut ? TG_ERR_CAP : TG_OK;
}

static void compare(const struct tg_reasm *r, const struct model *m)
{
	const struct tg_reasm_stats *st = tg_reasm_stats(r);
	struct tg_span c = tg_reasm_contig(r);
	size_t n = m->contig;

	check(c.len == n && c.len <= TG_CAP_REASM_BYTES);
	check(n == 0 || memcmp(c.p, m->byte, n) == 0);
	check(tg_reasm_end(r) == m->end);
	check(tg_reasm_next_seq(r) == m->base + (uint32_t)n);
	check(memcmp(st, &m->st, sizeof(*st)) == 0);
	check(tg_reasm_mem(r) <= 1024 + TG_CAP_REASM_BYTES + TG_CAP_REASM_RANGES * 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	static uint8_t pat[65536];
	struct tg_reasm *r;
	uint32_t isn;
	size_t pos = 4;
	unsigned ops = 0;

	if (size < 4)
		return 0;
	isn = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	r = tg_reasm_new(isn);
	if (r == NULL)
		return 0;
	memset(&m, 0, sizeof(m));
	m.base = isn + 1;
	check(tg_reasm_isn(r) == isn);
	while (size - pos >= 5 && ops++ < 128) {
		uint8_t mode = data[pos];
		uint32_t off = (uint32_t)data[pos + 1] << 8 | data[pos + 2];
		size_t len = (size_t)data[pos + 3] << 8 | data[pos + 4];
		const uint8_t *p;
		uint32_t seq;
		enum tg_err got, want;

		pos += 5;
		/* Mostly small segments; 1 in 16 big enough to cross the cap. */
		len = len < 0xf000 ? len % 2048 : (len & 0x0fff) * 16;
		switch (mode & 3) {
		case 0:
			seq = m.base + off;
			break;
		case 1:
			seq = m.base - off;
			break;
		case 2:
			seq = m.base + off * 65536u;
			break;
		default:
			seq = m.base + (off & 0x3fff);
			break;
		}
		if (mode & 4) {
			if (len > size - pos)
				len = size - pos;
			p = data + pos;
			pos += len;
		} else {
			/* Only bytes from isn + 1 up to the cap are ever read: fill just those. */
			uint32_t o = seq - m.base;
			size_t i = o >= 0x80000000u ? 0x100000000u - (uint64_t)o : 0;
			size_t hi = len < i + TG_CAP_REASM_BYTES ? len : i + TG_CAP_REASM_BYTES;

			for (; i < hi; i++) {
				uint32_t x = (seq + (uint32_t)i) * 0x9e3779b1u;

				pat[i] = (uint8_t)((x >> 24) ^ (mode >> 3));
			}
			p = pat;
		}
		got = tg_reasm_add(r, seq, p, len);
		want = model_add(&m, seq, p, len);
		check(got == want);
		compare(r, &m);
	}
	tg_reasm_free(r);
	return 0;
}
