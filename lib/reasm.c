/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reasm.c - first-bytes TCP reassembly under the first-write-wins, conflict-is-invalid policy
 * described in reasm.h.
 *
 * Sequence space (RFC 9293 3.4): a segment's offset is (seq - (isn + 1)) mod 2^32; offsets of
 * 2^31 and more are read as behind isn + 1. Held bytes live at their offset in one buffer; the
 * held ranges are a sorted list of disjoint, non-adjacent half-open intervals [start, end).
 * Because overlapping bytes are checked equal before anything is stored, a segment can be
 * copied whole into the buffer: where it overlaps, it rewrites the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/reasm.h"

/* Ranges kept inside the object; more out-of-order holes move the list to the heap. */
#define REASM_IV_INLINE 4
/* Buffer growth granule, so a few in-order segments do not each reallocate. */
#define REASM_BUF_GRAIN 512u

struct reasm_iv {
	uint32_t start, end;
};

struct tg_reasm {
	uint32_t isn;
	uint32_t base; /* isn + 1 */
	uint8_t *buf; /* NULL until the first data */
	uint32_t buf_cap;
	struct reasm_iv *iv; /* iv_inline or a heap array of iv_cap entries */
	uint32_t n_iv, iv_cap;
	struct reasm_iv iv_inline[REASM_IV_INLINE];
	struct tg_reasm_stats st;
};

struct tg_reasm *tg_reasm_new(uint32_t isn)
{
	struct tg_reasm *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->isn = isn;
	r->base = isn + 1u;
	r->iv = r->iv_inline;
	r->iv_cap = REASM_IV_INLINE;
	return r;
}

void tg_reasm_free(struct tg_reasm *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	if (r->iv != r->iv_inline)
		free(r->iv);
	free(r);
}

/* Make room for bytes up to offset @need (<= TG_CAP_REASM_BYTES). */
static enum tg_err reasm_buf_grow(struct tg_reasm *r, uint32_t need)
{
	uint32_t cap;
	uint8_t *nb;

	if (need <= r->buf_cap)
		return TG_OK;
	cap = (need + REASM_BUF_GRAIN - 1) / REASM_BUF_GRAIN * REASM_BUF_GRAIN;
	if (cap < r->buf_cap + r->buf_cap / 2)
		cap = r->buf_cap + r->buf_cap / 2;
	if (cap > TG_CAP_REASM_BYTES)
		cap = TG_CAP_REASM_BYTES;
	nb = realloc(r->buf, cap);
	if (nb == NULL)
		return TG_ERR_NOMEM;
	r->buf = nb;
	r->buf_cap = cap;
	return TG_OK;
}

/* Make room for one more range. At most TG_CAP_REASM_RANGES ranges ever exist. */
static enum tg_err reasm_iv_grow(struct tg_reasm *r)
{
	struct reasm_iv *niv;
	uint32_t cap;

	if (r->n_iv < r->iv_cap)
		return TG_OK;
	cap = r->n_iv * 2 + 2;
	if (cap > TG_CAP_REASM_RANGES)
		cap = TG_CAP_REASM_RANGES;
	if (cap <= r->n_iv) /* the range cap keeps this from happening */
		return TG_ERR_CAP;
	if (r->iv == r->iv_inline) {
		niv = malloc(cap * sizeof(*niv));
		if (niv != NULL)
			memcpy(niv, r->iv_inline, sizeof(r->iv_inline));
	} else {
		niv = realloc(r->iv, cap * sizeof(*niv));
	}
	if (niv == NULL)
		return TG_ERR_NOMEM;
	r->iv = niv;
	r->iv_cap = cap;
	return TG_OK;
}

/* Whether [start, end) overlaps or touches no held range (inserting it adds one). */
static bool reasm_iv_is_new(const struct tg_reasm *r, uint32_t start, uint32_t end)
{
	uint32_t i = 0;

	while (i < r->n_iv && r->iv[i].end < start)
		i++;
	return i == r->n_iv || r->iv[i].start > end;
}

/* Insert [start, end) and merge it with every range it overlaps or touches. */
static void reasm_iv_insert(struct tg_reasm *r, uint32_t start, uint32_t end)
{
	uint32_t i = 0, j;

	while (i < r->n_iv && r->iv[i].end < start)
		i++;
	for (j = i; j < r->n_iv && r->iv[j].start <= end; j++) {
		if (r->iv[j].start < start)
			start = r->iv[j].start;
		if (r->iv[j].end > end)
			end = r->iv[j].end;
	}
	/* Ranges i..j-1 are absorbed; one slot replaces them. */
	memmove(&r->iv[i + 1], &r->iv[j], (r->n_iv - j) * sizeof(r->iv[0]));
	r->iv[i].start = start;
	r->iv[i].end = end;
	r->n_iv = r->n_iv - (j - i) + 1;
}

/*
 * Compare @seg, to be stored at offset @off, with the held bytes it overlaps. Returns the
 * number of overlapping bytes, or -1 when one of them differs.
 */
static long reasm_overlap(const struct tg_reasm *r, uint32_t off, struct tg_span seg)
{
	uint32_t end = off + (uint32_t)seg.len, i;
	long same = 0;

	for (i = 0; i < r->n_iv && r->iv[i].start < end; i++) {
		uint32_t lo = r->iv[i].start > off ? r->iv[i].start : off;
		uint32_t hi = r->iv[i].end < end ? r->iv[i].end : end;

		if (lo >= hi)
			continue;
		if (memcmp(r->buf + lo, seg.p + (lo - off), hi - lo) != 0)
			return -1;
		same += (long)(hi - lo);
	}
	return same;
}

/*
 * Place a segment on the offset line: drop what lies before isn + 1 and what lies past the
 * cap. Sets *off and *seg to what remains (possibly nothing) and *cut when bytes past the cap
 * were dropped. TG_ERR_REASM_WINDOW when the segment starts past the cap.
 */
static enum tg_err reasm_place(struct tg_reasm *r, uint32_t seq, struct tg_span *seg, uint32_t *off,
			       bool *cut)
{
	struct tg_cur c;
	uint32_t o = seq - r->base;

	tg_cur_init(&c, seg->p, seg->len);
	*cut = false;
	if (o >= 0x80000000u) {
		size_t behind = 0x100000000u - (uint64_t)o;

		r->st.old++;
		if (seg->len <= behind) {
			seg->len = 0;
			return TG_OK;
		}
		(void)tg_cur_skip(&c, behind);
		o = 0;
	}
	if (o >= TG_CAP_REASM_BYTES)
		return TG_ERR_REASM_WINDOW;
	if (tg_cur_left(&c) > TG_CAP_REASM_BYTES - o) {
		*seg = tg_cur_span(&c, TG_CAP_REASM_BYTES - o);
		*cut = true;
	} else {
		*seg = tg_cur_rest(&c);
	}
	*off = o;
	return TG_OK;
}

enum tg_err tg_reasm_add(struct tg_reasm *r, uint32_t seq, const uint8_t *p, size_t len)
{
	struct tg_span seg = { p, len };
	uint32_t off = 0;
	bool cut, fresh;
	long same;
	enum tg_err err;

	if (p == NULL && len != 0)
		return TG_ERR_ARG;
	if (len == 0)
		return TG_OK;
	err = reasm_place(r, seq, &seg, &off, &cut);
	if (err != TG_OK || seg.len == 0)
		goto out;
	same = reasm_overlap(r, off, seg);
	if (same < 0) {
		r->st.conflicts++;
		err = TG_ERR_REASM_CONFLICT;
		goto out;
	}
	if ((size_t)same == seg.len) {
		r->st.dups++;
		goto done;
	}
	fresh = reasm_iv_is_new(r, off, off + (uint32_t)seg.len);
	if (fresh && r->n_iv == TG_CAP_REASM_RANGES) {
		err = TG_ERR_CAP;
		goto out;
	}
	err = reasm_buf_grow(r, off + (uint32_t)seg.len);
	if (err == TG_OK && fresh)
		err = reasm_iv_grow(r);
	if (err != TG_OK)
		goto out;
	memcpy(r->buf + off, seg.p, seg.len);
	reasm_iv_insert(r, off, off + (uint32_t)seg.len);
	r->st.segs++;
	r->st.bytes += (uint32_t)(seg.len - (size_t)same);
	if (same > 0)
		r->st.overlaps++;
done:
	if (cut)
		err = TG_ERR_CAP;
out:
	return err;
}

struct tg_span tg_reasm_contig(const struct tg_reasm *r)
{
	struct tg_span s = { NULL, 0 };

	if (r->n_iv > 0 && r->iv[0].start == 0) {
		s.p = r->buf;
		s.len = r->iv[0].end;
	}
	return s;
}

const struct tg_reasm_stats *tg_reasm_stats(const struct tg_reasm *r)
{
	return &r->st;
}

enum tg_err tg_reasm_advance(struct tg_reasm **r, uint32_t off)
{
	struct tg_span s = tg_reasm_contig(*r);
	uint32_t isn = (*r)->isn + off;
	struct tg_reasm *nr = tg_reasm_new(isn);

	if (nr == NULL)
		return TG_ERR_NOMEM;
	/* Bytes beyond @off were accepted by the old object: in order, inside the window. */
	if (off < s.len && tg_reasm_add(nr, isn + 1, s.p + off, s.len - off) != TG_OK) {
		tg_reasm_free(nr);
		return TG_ERR_NOMEM;
	}
	tg_reasm_free(*r);
	*r = nr;
	return TG_OK;
}

uint32_t tg_reasm_isn(const struct tg_reasm *r)
{
	return r->isn;
}

uint32_t tg_reasm_next_seq(const struct tg_reasm *r)
{
	return r->base + (uint32_t)tg_reasm_contig(r).len;
}

size_t tg_reasm_end(const struct tg_reasm *r)
{
	return r->n_iv > 0 ? r->iv[r->n_iv - 1].end : 0;
}

size_t tg_reasm_mem(const struct tg_reasm *r)
{
	size_t n = sizeof(*r) + r->buf_cap;

	if (r->iv != r->iv_inline)
		n += r->iv_cap * sizeof(r->iv[0]);
	return n;
}
