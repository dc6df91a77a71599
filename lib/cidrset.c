/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cidrset.c - an immutable set of address prefixes with longest-prefix match (cidrset.h).
 *
 * Prefixes of one family nest or are disjoint, so sorted by (address, length) they cut the
 * address space into at most 2n+1 ranges in which the longest matching prefix is the same.
 * Building sorts and sweeps with a stack of open prefixes (O(n log n)); a lookup finds the
 * range holding the address by binary search, narrowed first by an index on the address's top
 * bits (up to 16 bits, about one index entry per range), so a lookup touches a few cache lines.
 * Adjacent ranges with the same answer are merged. IPv4 keys are 32-bit, IPv6 128-bit.
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/caps.h"
#include "tlsgate/cidr.h"
#include "tlsgate/cidrset.h"

#define CIDR_NONE      0xff /* a range no prefix covers */
#define CIDR_IDX_BITS  16
#define CIDR_MAX_DEPTH 129 /* nested prefixes of distinct lengths 0..128 */

struct u128 {
	uint64_t hi, lo;
};

/* A prefix in the builder. IPv4 keys sit in the low 32 bits with 96 added to their length. */
struct cidr_rec {
	struct u128 start;
	uint32_t value;
	uint32_t seq;
	uint8_t elen; /* effective length, 0..128 */
	uint8_t plen; /* length as the family counts it */
};

struct cidr_vec {
	struct cidr_rec *v;
	size_t n, cap;
};

struct tg_cidrset_builder {
	struct cidr_vec fam[2]; /* [0] IPv4, [1] IPv6 */
	size_t count;
};

struct cidr_range {
	struct u128 start;
	uint32_t value;
	uint8_t plen;
};

/* One family's ranges, sorted by start; start[0] is 0. */
struct cidr_table {
	size_t n;
	uint32_t *start4;
	struct u128 *start6;
	uint32_t *value;
	uint8_t *plen;
	uint32_t *idx; /* (1 << ibits) + 1 entries: idx[t] = ranges starting at or below t's key */
	unsigned ibits;
	size_t bytes;
};

struct tg_cidrset {
	struct cidr_table t[2];
	size_t count, dups;
};

static inline int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static inline struct u128 u128_load(const uint8_t a[static 16])
{
	struct u128 r = { 0, 0 };
	unsigned i;

	for (i = 0; i < 8; i++) {
		r.hi = r.hi << 8 | a[i];
		r.lo = r.lo << 8 | a[8 + i];
	}
	return r;
}

/* The last address of a prefix starting at @s with effective length @elen. */
static struct u128 u128_prefix_end(struct u128 s, unsigned elen)
{
	if (elen == 0)
		return (struct u128){ UINT64_MAX, UINT64_MAX };
	if (elen < 64)
		return (struct u128){ s.hi | (UINT64_MAX >> elen), UINT64_MAX };
	if (elen < 128)
		return (struct u128){ s.hi, s.lo | (UINT64_MAX >> (elen - 64)) };
	return s;
}

static struct u128 u128_inc(struct u128 a)
{
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

struct tg_cidrset_builder *tg_cidrset_builder_new(void)
{
	return calloc(1, sizeof(struct tg_cidrset_builder));
}

void tg_cidrset_builder_free(struct tg_cidrset_builder *b)
{
	if (b == NULL)
		return;
	free(b->fam[0].v);
	free(b->fam[1].v);
	free(b);
}

enum tg_err tg_cidrset_builder_add(struct tg_cidrset_builder *b, const struct tg_cidr *c,
				   uint32_t value)
{
	struct cidr_rec r = { { 0, 0 }, value, 0, 0, 0 };
	struct cidr_vec *v;
	enum tg_err e = tg_cidr_check(c);

	if (e != TG_OK)
		return e;
	if (b->count >= TG_CAP_CIDR_ENTRIES)
		return TG_ERR_CAP;
	if (c->family == 4) {
		r.start.lo = (uint64_t)c->addr[0] << 24 | (uint64_t)c->addr[1] << 16 |
			     (uint64_t)c->addr[2] << 8 | c->addr[3];
		r.elen = (uint8_t)(c->plen + 96);
		r.plen = c->plen;
		v = &b->fam[0];
	} else if (c->plen >= 96 && tg_addr_is_mapped(c->addr)) {
		/* IPv4-mapped: the same prefix as IPv4 (cidrset.h). */
		r.start = u128_load(c->addr);
		r.start.hi = 0;
		r.start.lo &= UINT32_MAX;
		r.elen = c->plen;
		r.plen = (uint8_t)(c->plen - 96);
		v = &b->fam[0];
	} else {
		r.start = u128_load(c->addr);
		r.elen = c->plen;
		r.plen = c->plen;
		v = &b->fam[1];
	}
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 16;
		struct cidr_rec *nv = realloc(v->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return TG_ERR_NOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	r.seq = (uint32_t)b->count;
	v->v[v->n++] = r;
	b->count++;
	return TG_OK;
}

static int cidr_rec_cmp(const void *pa, const void *pb)
{
	const struct cidr_rec *a = pa, *b = pb;
	int c = u128_cmp(a->start, b->start);

	if (c != 0)
		return c;
	if (a->elen != b->elen)
		return a->elen < b->elen ? -1 : 1;
	return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

/* Append a range, or overwrite the last one when it starts at the same address; merge equals. */
static void cidr_emit(struct cidr_range *r, size_t *n, struct u128 start, uint32_t value,
		      uint8_t plen)
{
	struct cidr_range *last = *n > 0 ? &r[*n - 1] : NULL;

	if (last != NULL && u128_cmp(last->start, start) == 0) {
		last->value = value;
		last->plen = plen;
		if (*n > 1 && r[*n - 2].value == value && r[*n - 2].plen == plen)
			(*n)--;
		return;
	}
	if (last != NULL && last->value == value && last->plen == plen)
		return;
	r[*n].start = start;
	r[*n].value = value;
	r[*n].plen = plen;
	(*n)++;
}

/* Close the innermost open prefix: what follows it belongs to its parent, or to nothing. */
static void cidr_pop(struct cidr_range *r, size_t *n, const struct cidr_rec *recs,
		     const size_t *stack, size_t *depth, struct u128 max)
{
	const struct cidr_rec *t = &recs[stack[--(*depth)]];
	struct u128 end = u128_prefix_end(t->start, t->elen);

	if (u128_cmp(end, max) == 0)
		return;
	if (*depth > 0) {
		const struct cidr_rec *up = &recs[stack[*depth - 1]];

		cidr_emit(r, n, u128_inc(end), up->value, up->plen);
	} else {
		cidr_emit(r, n, u128_inc(end), 0, CIDR_NONE);
	}
}

/*
 * Sort and deduplicate @v in place, then cut the family's space (@max is its last address) into
 * ranges. Returns the range array (caller frees) and its size, or NULL when out of memory.
 */
static struct cidr_range *cidr_sweep(struct cidr_vec *v, struct u128 max, size_t *nranges,
				     size_t *dups)
{
	size_t stack[CIDR_MAX_DEPTH], depth = 0, i, m = 0, n = 0;
	struct cidr_range *r;

	if (v->n > 1)
		qsort(v->v, v->n, sizeof(v->v[0]), cidr_rec_cmp);
	for (i = 0; i < v->n; i++) {
		if (m > 0 && u128_cmp(v->v[m - 1].start, v->v[i].start) == 0 &&
		    v->v[m - 1].elen == v->v[i].elen) {
			(*dups)++;
			continue;
		}
		v->v[m++] = v->v[i];
	}
	v->n = m;
	r = malloc((2 * m + 1) * sizeof(*r));
	if (r == NULL)
		return NULL;
	cidr_emit(r, &n, (struct u128){ 0, 0 }, 0, CIDR_NONE);
	for (i = 0; i < m; i++) {
		const struct cidr_rec *p = &v->v[i];

		while (depth > 0 && u128_cmp(u128_prefix_end(v->v[stack[depth - 1]].start,
							     v->v[stack[depth - 1]].elen),
					     p->start) < 0)
			cidr_pop(r, &n, v->v, stack, &depth, max);
		cidr_emit(r, &n, p->start, p->value, p->plen);
		stack[depth++] = i;
	}
	while (depth > 0)
		cidr_pop(r, &n, v->v, stack, &depth, max);
	*nranges = n;
	return r;
}

static void cidr_table_free(struct cidr_table *t)
{
	free(t->start4);
	free(t->start6);
	free(t->value);
	free(t->plen);
	free(t->idx);
	memset(t, 0, sizeof(*t));
}

/* Top @t of the index space as a key: IPv4 in 32 bits, IPv6 on the high word. */
static struct u128 cidr_idx_key(bool v4, unsigned ibits, uint64_t t)
{
	if (ibits == 0)
		return (struct u128){ 0, 0 };
	if (v4)
		return (struct u128){ 0, t << (32 - ibits) };
	return (struct u128){ t << (64 - ibits), 0 };
}

static bool cidr_table_fill(struct cidr_table *t, const struct cidr_range *r, size_t n, bool v4)
{
	size_t i, nidx;
	uint64_t k;

	t->n = n;
	t->ibits = 0;
	while (t->ibits < CIDR_IDX_BITS && ((size_t)1 << (t->ibits + 1)) <= n)
		t->ibits++;
	nidx = ((size_t)1 << t->ibits) + 1;
	t->value = malloc(n * sizeof(*t->value));
	t->plen = malloc(n);
	t->idx = malloc(nidx * sizeof(*t->idx));
	if (v4)
		t->start4 = malloc(n * sizeof(*t->start4));
	else
		t->start6 = malloc(n * sizeof(*t->start6));
	if (t->value == NULL || t->plen == NULL || t->idx == NULL ||
	    (v4 ? t->start4 == NULL : t->start6 == NULL))
		return false;
	t->bytes = n * (sizeof(*t->value) + 1 + (v4 ? sizeof(*t->start4) : sizeof(*t->start6))) +
		   nidx * sizeof(*t->idx);
	for (i = 0; i < n; i++) {
		if (v4)
			t->start4[i] = (uint32_t)r[i].start.lo;
		else
			t->start6[i] = r[i].start;
		t->value[i] = r[i].value;
		t->plen[i] = r[i].plen;
	}
	for (i = 0, k = 0; k + 1 < nidx; k++) {
		struct u128 key = cidr_idx_key(v4, t->ibits, k);

		while (i < n && u128_cmp(r[i].start, key) <= 0)
			i++;
		t->idx[k] = (uint32_t)i;
	}
	t->idx[nidx - 1] = (uint32_t)n;
	return true;
}

struct tg_cidrset *tg_cidrset_build(struct tg_cidrset_builder *b)
{
	static const struct u128 max[2] = { { 0, UINT32_MAX }, { UINT64_MAX, UINT64_MAX } };
	struct tg_cidrset *s = NULL;
	struct cidr_range *r = NULL;
	unsigned f;

	if (b == NULL)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto out;
	for (f = 0; f < 2; f++) {
		size_t n = 0;

		r = cidr_sweep(&b->fam[f], max[f], &n, &s->dups);
		if (r == NULL || !cidr_table_fill(&s->t[f], r, n, f == 0)) {
			tg_cidrset_free(s);
			s = NULL;
			goto out;
		}
		s->count += b->fam[f].n;
		free(r);
		r = NULL;
	}
out:
	free(r);
	tg_cidrset_builder_free(b);
	return s;
}

void tg_cidrset_free(struct tg_cidrset *s)
{
	if (s == NULL)
		return;
	cidr_table_free(&s->t[0]);
	cidr_table_free(&s->t[1]);
	free(s);
}

size_t tg_cidrset_count(const struct tg_cidrset *s)
{
	return s->count;
}

size_t tg_cidrset_duplicates(const struct tg_cidrset *s)
{
	return s->dups;
}

size_t tg_cidrset_bytes(const struct tg_cidrset *s)
{
	return sizeof(*s) + s->t[0].bytes + s->t[1].bytes;
}

/* Index of the range holding @key: the last start <= key, searched within the index slice. */
static size_t cidr_find4(const struct cidr_table *t, uint32_t key)
{
	size_t tb = t->ibits ? key >> (32 - t->ibits) : 0;
	size_t lo = t->idx[tb], hi = t->idx[tb + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->start4[mid] <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

static size_t cidr_find6(const struct cidr_table *t, struct u128 key)
{
	size_t tb = t->ibits ? (size_t)(key.hi >> (64 - t->ibits)) : 0;
	size_t lo = t->idx[tb], hi = t->idx[tb + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u128_cmp(t->start6[mid], key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

bool tg_cidrset_lookup(const struct tg_cidrset *s, uint8_t family, const uint8_t addr[static 16],
		       uint32_t *value, uint8_t *plen)
{
	const struct cidr_table *t;
	size_t i;

	if (family == 4 || (family == 6 && tg_addr_is_mapped(addr))) {
		const uint8_t *a = family == 4 ? addr : addr + 12;

		t = &s->t[0];
		i = cidr_find4(t, (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
					  (uint32_t)a[2] << 8 | a[3]);
	} else if (family == 6) {
		t = &s->t[1];
		i = cidr_find6(t, u128_load(addr));
	} else {
		return false;
	}
	if (t->plen[i] == CIDR_NONE)
		return false;
	if (value != NULL)
		*value = t->value[i];
	if (plen != NULL)
		*plen = t->plen[i];
	return true;
}
