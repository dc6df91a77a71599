/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_domainset.c - the domain-pattern set: pattern text, the three kinds, label alignment,
 * most-specific match and its tie rules, duplicates, names not in normal form, the deepest
 * names, builder errors, and a 1M-entry set against two exact references (sorted-array search
 * for 300k queries, a linear scan of every entry for a sample).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "tlsgate/domain.h"
#include "tlsgate/domainset.h"
#include "tg_test.h"

static const uint8_t key1[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t key2[16] = { 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

struct pat_case {
	const char *text;
	enum tg_err err;
	enum tg_dset_kind kind;
	const char *name;
};

static void test_parse_pattern(void)
{
	static const struct pat_case cases[] = {
		{ "example.com", TG_OK, TG_DSET_EXACT, "example.com" },
		{ "*.example.com", TG_OK, TG_DSET_SUBDOMAINS, "example.com" },
		{ ".example.com", TG_OK, TG_DSET_DOMAIN_AND_SUBS, "example.com" },
		{ "*.Example.COM.", TG_OK, TG_DSET_SUBDOMAINS, "example.com" },
		{ ".EXAMPLE.com.", TG_OK, TG_DSET_DOMAIN_AND_SUBS, "example.com" },
		{ "*.com", TG_OK, TG_DSET_SUBDOMAINS, "com" },
		{ ".com", TG_OK, TG_DSET_DOMAIN_AND_SUBS, "com" },
		{ "*.", TG_ERR_NAME_EMPTY, TG_DSET_EXACT, NULL },
		{ ".", TG_ERR_NAME_EMPTY, TG_DSET_EXACT, NULL },
		{ "", TG_ERR_NAME_EMPTY, TG_DSET_EXACT, NULL },
		{ "*", TG_ERR_NAME_CHAR, TG_DSET_EXACT, NULL },
		{ "**.example.com", TG_ERR_NAME_CHAR, TG_DSET_EXACT, NULL },
		{ "*.*.example.com", TG_ERR_NAME_CHAR, TG_DSET_EXACT, NULL },
		{ "a*.example.com", TG_ERR_NAME_CHAR, TG_DSET_EXACT, NULL },
		{ "example.*", TG_ERR_NAME_CHAR, TG_DSET_EXACT, NULL },
		{ ".*.example.com", TG_ERR_NAME_CHAR, TG_DSET_EXACT, NULL },
		{ "..example.com", TG_ERR_NAME_LABEL, TG_DSET_EXACT, NULL },
		{ "*..example.com", TG_ERR_NAME_LABEL, TG_DSET_EXACT, NULL },
		{ "*.-x.com", TG_ERR_NAME_HYPHEN, TG_DSET_EXACT, NULL },
	};
	char out[TG_CAP_NAME_LEN + 1];
	enum tg_dset_kind kind;
	size_t i, olen;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pat_case *c = &cases[i];
		enum tg_err err;

		err = tg_dset_parse_pattern(c->text, strlen(c->text), out, &olen, &kind);
		if (err != c->err)
			fprintf(stderr, "pattern \"%s\"\n", c->text);
		CHECK_ERR(err, c->err);
		if (c->err != TG_OK)
			continue;
		CHECK_INT(kind, c->kind);
		CHECK_MEM(out, olen, c->name);
	}
	/* A pattern cut short: "*" then "*." then "*.e" ... */
	for (i = 0; i <= 5; i++) {
		enum tg_err err = tg_dset_parse_pattern("*.e.x", i, out, &olen, &kind);

		CHECK_ERR(err, i == 0 || i == 2 ? TG_ERR_NAME_EMPTY
			       : i == 1		? TG_ERR_NAME_CHAR
						: TG_OK);
	}
}

static struct tg_dset *build(const char *const *patterns, size_t n, const uint8_t *key)
{
	struct tg_dset_builder *b = tg_dset_builder_new();
	size_t i;

	CHECK(b != NULL);
	for (i = 0; i < n; i++)
		CHECK_ERR(tg_dset_builder_add_pattern(b, patterns[i], strlen(patterns[i]),
						      (uint32_t)i + 1),
			  TG_OK);
	return tg_dset_build(b, key);
}

/* Expect @q to match pattern number @want (1-based, 0 = no match) with @kind and @mlen. */
static void expect(const struct tg_dset *s, const char *q, uint32_t want, enum tg_dset_kind kind,
		   size_t mlen)
{
	uint32_t v = 0;
	enum tg_dset_kind k = TG_DSET_EXACT;
	size_t ml = 0;
	bool hit = tg_dset_lookup(s, q, strlen(q), &v, &k, &ml);

	if (hit != (want != 0) || (hit && (v != want || k != kind || ml != mlen)))
		fprintf(stderr, "query \"%s\": hit %d value %u kind %d len %zu\n", q, hit,
			(unsigned)v, (int)k, ml);
	CHECK(hit == (want != 0));
	if (hit && want) {
		CHECK_INT(v, want);
		CHECK_INT(k, kind);
		CHECK_INT(ml, mlen);
	}
}

static void test_kinds(void)
{
	static const char *const p[] = {
		"exact.com", /* 1 */
		"*.subs.com", /* 2 */
		".both.com", /* 3 */
	};
	struct tg_dset *s = build(p, 3, key1);

	CHECK(s != NULL);
	CHECK_INT(tg_dset_count(s), 3);
	expect(s, "exact.com", 1, TG_DSET_EXACT, 9);
	expect(s, "a.exact.com", 0, 0, 0);
	expect(s, "com", 0, 0, 0);
	expect(s, "subs.com", 0, 0, 0);
	expect(s, "a.subs.com", 2, TG_DSET_SUBDOMAINS, 8);
	expect(s, "a.b.c.subs.com", 2, TG_DSET_SUBDOMAINS, 8);
	expect(s, "both.com", 3, TG_DSET_DOMAIN_AND_SUBS, 8);
	expect(s, "x.both.com", 3, TG_DSET_DOMAIN_AND_SUBS, 8);
	expect(s, "x.y.both.com", 3, TG_DSET_DOMAIN_AND_SUBS, 8);
	/* Label alignment: a suffix of bytes is not a suffix of labels. */
	expect(s, "badexact.com", 0, 0, 0);
	expect(s, "xsubs.com", 0, 0, 0);
	expect(s, "a.xsubs.com", 0, 0, 0);
	expect(s, "notboth.com", 0, 0, 0);
	expect(s, "a.notboth.com", 0, 0, 0);
	expect(s, "both.com.evil", 0, 0, 0);
	expect(s, "exact.co", 0, 0, 0);
	expect(s, "xact.com", 0, 0, 0);
	/* Optional outputs may be NULL. */
	CHECK(tg_dset_lookup(s, "a.subs.com", 10, NULL, NULL, NULL));
	tg_dset_free(s);
}

static void test_most_specific(void)
{
	static const char *const p[] = {
		".example.com", /* 1 */
		"*.a.example.com", /* 2 */
		"b.a.example.com", /* 3 */
		".c.b.a.example.com", /* 4 */
		".com", /* 5 */
		"*.x.example.com", /* 6 */
		".x.example.com", /* 7: same name as 6, wider kind */
		"y.example.com", /* 8 */
		".y.example.com", /* 9: same name as 8, wider kind */
		"*.y.example.com", /* 10: same name again */
	};
	struct tg_dset *s = build(p, sizeof(p) / sizeof(p[0]), key1);

	CHECK(s != NULL);
	expect(s, "example.com", 1, TG_DSET_DOMAIN_AND_SUBS, 11);
	expect(s, "a.example.com", 1, TG_DSET_DOMAIN_AND_SUBS, 11);
	expect(s, "q.a.example.com", 2, TG_DSET_SUBDOMAINS, 13);
	expect(s, "b.a.example.com", 3, TG_DSET_EXACT, 15);
	expect(s, "z.b.a.example.com", 2, TG_DSET_SUBDOMAINS, 13);
	expect(s, "c.b.a.example.com", 4, TG_DSET_DOMAIN_AND_SUBS, 17);
	expect(s, "d.c.b.a.example.com", 4, TG_DSET_DOMAIN_AND_SUBS, 17);
	expect(s, "other.com", 5, TG_DSET_DOMAIN_AND_SUBS, 3);
	expect(s, "com", 5, TG_DSET_DOMAIN_AND_SUBS, 3);
	expect(s, "net", 0, 0, 0);
	/* SUBDOMAINS beats DOMAIN_AND_SUBS at the same name; only DAS matches the name itself. */
	expect(s, "x.example.com", 7, TG_DSET_DOMAIN_AND_SUBS, 13);
	expect(s, "q.x.example.com", 6, TG_DSET_SUBDOMAINS, 13);
	/* EXACT beats DOMAIN_AND_SUBS for the name itself. */
	expect(s, "y.example.com", 8, TG_DSET_EXACT, 13);
	expect(s, "q.y.example.com", 10, TG_DSET_SUBDOMAINS, 13);
	tg_dset_free(s);
}

static void test_duplicates(void)
{
	struct tg_dset_builder *b = tg_dset_builder_new();
	struct tg_dset *s;
	uint32_t v = 0;

	CHECK_ERR(tg_dset_builder_add(b, "dup.com", 7, TG_DSET_EXACT, 10), TG_OK);
	CHECK_ERR(tg_dset_builder_add(b, "DUP.com.", 8, TG_DSET_EXACT, 20), TG_OK);
	CHECK_ERR(tg_dset_builder_add(b, "dup.com", 7, TG_DSET_SUBDOMAINS, 30), TG_OK);
	CHECK_ERR(tg_dset_builder_add(b, "dup.com", 7, TG_DSET_SUBDOMAINS, 40), TG_OK);
	CHECK_ERR(tg_dset_builder_add(b, "dup.com", 7, TG_DSET_DOMAIN_AND_SUBS, 50), TG_OK);
	CHECK_INT(tg_dset_builder_count(b), 5);
	s = tg_dset_build(b, key1);
	CHECK(s != NULL);
	CHECK_INT(tg_dset_count(s), 3);
	CHECK_INT(tg_dset_duplicates(s), 2);
	CHECK(tg_dset_lookup(s, "dup.com", 7, &v, NULL, NULL));
	CHECK_INT(v, 10); /* the first value wins */
	CHECK(tg_dset_lookup(s, "a.dup.com", 9, &v, NULL, NULL));
	CHECK_INT(v, 30);
	tg_dset_free(s);
}

static void test_builder_errors(void)
{
	struct tg_dset_builder *b = tg_dset_builder_new();
	char big[300];

	memset(big, 'a', sizeof(big));
	CHECK_ERR(tg_dset_builder_add(b, "ok.com", 6, (enum tg_dset_kind)3, 1), TG_ERR_ARG);
	CHECK_ERR(tg_dset_builder_add(b, "ok.com", 6, (enum tg_dset_kind) - 1, 1), TG_ERR_ARG);
	CHECK_ERR(tg_dset_builder_add(b, "", 0, TG_DSET_EXACT, 1), TG_ERR_NAME_EMPTY);
	CHECK_ERR(tg_dset_builder_add(b, "*.x.com", 7, TG_DSET_EXACT, 1), TG_ERR_NAME_CHAR);
	CHECK_ERR(tg_dset_builder_add(b, big, sizeof(big), TG_DSET_EXACT, 1), TG_ERR_NAME_TOO_LONG);
	CHECK_ERR(tg_dset_builder_add(b, big, 64, TG_DSET_EXACT, 1), TG_ERR_NAME_LABEL);
	CHECK_ERR(tg_dset_builder_add_pattern(b, "*.", 2, 1), TG_ERR_NAME_EMPTY);
	CHECK_ERR(tg_dset_builder_add_pattern(b, "xn--ib9b.com", 12, 1), TG_ERR_NAME_PUNYCODE);
	CHECK_INT(tg_dset_builder_count(b), 0); /* failures leave the builder unchanged */
	tg_dset_builder_free(b);
	tg_dset_builder_free(NULL);
	tg_dset_free(NULL);
	CHECK(tg_dset_build(NULL, key1) == NULL);
}

static void test_not_normalized(void)
{
	static const char *const p[] = { ".example.com", "a" };
	struct tg_dset *s = build(p, 2, key1);
	char deep[256];

	expect(s, "Example.com", 0, 0, 0);
	expect(s, "example.com.", 0, 0, 0);
	expect(s, "", 0, 0, 0);
	expect(s, ".", 0, 0, 0);
	expect(s, ".example.com", 0, 0, 0);
	expect(s, "x..example.com", 0, 0, 0);
	expect(s, "a.", 0, 0, 0);
	CHECK(!tg_dset_lookup(s, "example.com\0", 12, NULL, NULL, NULL));
	/* Longer than a name can be. */
	memset(deep, 'a', sizeof(deep));
	memcpy(deep + sizeof(deep) - 12, ".example.com", 12);
	CHECK(!tg_dset_lookup(s, deep, sizeof(deep), NULL, NULL, NULL));
	/* A 64-byte label in the part that is hashed. */
	CHECK(!tg_dset_lookup(s, deep + sizeof(deep) - 76, 76, NULL, NULL, NULL));
	CHECK(tg_dset_lookup(s, deep + sizeof(deep) - 75, 75, NULL, NULL, NULL));
	tg_dset_free(s);
}

static void test_empty_and_deep(void)
{
	struct tg_dset_builder *b = tg_dset_builder_new();
	struct tg_dset *s = tg_dset_build(b, key1);
	char name[254];
	size_t i, ml = 0;
	uint32_t v = 0;

	CHECK(s != NULL);
	CHECK_INT(tg_dset_count(s), 0);
	CHECK(!tg_dset_lookup(s, "a.com", 5, NULL, NULL, NULL));
	CHECK(tg_dset_bytes(s) > 0);
	tg_dset_free(s);

	/* 127 labels "a.a....a": match at the top, in the middle and the whole name. */
	for (i = 0; i < 253; i++)
		name[i] = (i % 2) ? '.' : 'a';
	b = tg_dset_builder_new();
	CHECK_ERR(tg_dset_builder_add(b, "a", 1, TG_DSET_SUBDOMAINS, 1), TG_OK);
	CHECK_ERR(tg_dset_builder_add(b, name, 253, TG_DSET_EXACT, 2), TG_OK);
	CHECK_ERR(tg_dset_builder_add(b, name + 100, 153, TG_DSET_DOMAIN_AND_SUBS, 3), TG_OK);
	s = tg_dset_build(b, key1);
	CHECK(tg_dset_lookup(s, name, 253, &v, NULL, &ml));
	CHECK_INT(v, 2);
	CHECK_INT(ml, 253);
	CHECK(tg_dset_lookup(s, name + 2, 251, &v, NULL, &ml));
	CHECK_INT(v, 3);
	CHECK_INT(ml, 153);
	CHECK(tg_dset_lookup(s, name + 102, 151, &v, NULL, &ml));
	CHECK_INT(v, 1);
	CHECK_INT(ml, 1);
	CHECK(!tg_dset_lookup(s, "a", 1, &v, NULL, &ml));
	tg_dset_free(s);
}

/* ---- 1M entries against exact references ---- */

/* random_name() stays well below 48 bytes: 3 labels of <= 8, a 3-byte label, a 6-byte TLD. */
struct ref_ent {
	char name[48];
	uint8_t len;
	uint8_t kind;
	uint32_t value;
	uint32_t seq;
};

static int ref_cmp(const void *pa, const void *pb)
{
	const struct ref_ent *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

static const struct ref_ent *ref_find(const struct ref_ent *r, size_t n, const char *name,
				      size_t len, unsigned kind)
{
	struct ref_ent k;

	if (len >= sizeof(k.name))
		return NULL; /* longer than any entry */
	memcpy(k.name, name, len);
	k.name[len] = '\0';
	k.kind = (uint8_t)kind;
	k.seq = 0;
	/* Entries are unique per (name, kind) after deduplication; seq 0 sorts first. */
	{
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (ref_cmp(&r[mid], &k) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && strcmp(r[lo].name, k.name) == 0 && r[lo].kind == kind)
			return &r[lo];
	}
	return NULL;
}

/* The reference's answer: longest suffix first, narrowest kind first. */
static const struct ref_ent *ref_lookup(const struct ref_ent *r, size_t n, const char *q,
					size_t len)
{
	size_t st = 0;

	for (;;) {
		static const unsigned whole[] = { TG_DSET_EXACT, TG_DSET_DOMAIN_AND_SUBS };
		static const unsigned sub[] = { TG_DSET_SUBDOMAINS, TG_DSET_DOMAIN_AND_SUBS };
		const unsigned *kinds = st == 0 ? whole : sub;
		unsigned k;

		for (k = 0; k < 2; k++) {
			const struct ref_ent *e = ref_find(r, n, q + st, len - st, kinds[k]);

			if (e != NULL)
				return e;
		}
		while (st < len && q[st] != '.')
			st++;
		if (st == len)
			return NULL;
		st++;
	}
}

/* Brute force: scan every entry, keep the best by (matched length, narrow kind). */
static const struct ref_ent *brute_lookup(const struct ref_ent *r, size_t n, const char *q,
					  size_t len)
{
	static const int rank[] = { 0, 1, 2 }; /* EXACT, SUBDOMAINS, DOMAIN_AND_SUBS */
	const struct ref_ent *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ref_ent *e = &r[i];
		bool whole, below;

		if (e->len > len || memcmp(q + len - e->len, e->name, e->len) != 0)
			continue;
		whole = e->len == len;
		below = e->len < len && q[len - e->len - 1] == '.';
		if (!whole && !below)
			continue;
		if ((e->kind == TG_DSET_EXACT && !whole) ||
		    (e->kind == TG_DSET_SUBDOMAINS && !below))
			continue;
		if (best == NULL || e->len > best->len ||
		    (e->len == best->len && rank[e->kind] < rank[best->kind]))
			best = e;
	}
	return best;
}

static void random_label(char *p, size_t *len, size_t minl, size_t maxl)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	size_t n = minl + rnd() % (maxl - minl + 1), i;

	for (i = 0; i < n; i++)
		p[i] = alpha[rnd() % (i == 0 || i == n - 1 ? 36 : 37)];
	if (n >= 4 && memcmp(p, "xn--", 4) == 0)
		p[0] = 'y'; /* not an A-label: those must be valid punycode */
	*len = n;
}

static size_t random_name(char *out)
{
	static const char *const tlds[] = { "com", "net", "org", "de",	 "io",	"co.uk",
					    "ru",  "jp",  "fr",	 "info", "xyz", "com.br" };
	static const char *const subs[] = { "www", "api", "cdn", "m", "mail", "static", "img" };
	size_t n = 0, l;
	unsigned extra = (unsigned)(rnd() % 4), i;

	for (i = 0; i < extra; i++) {
		if (rnd() % 2) {
			const char *s = subs[rnd() % 7];

			memcpy(out + n, s, strlen(s));
			n += strlen(s);
		} else {
			random_label(out + n, &l, 1, 8);
			n += l;
		}
		out[n++] = '.';
	}
	/* Second-level labels from a small space so that names share suffixes. */
	random_label(out + n, &l, 2, 3);
	n += l;
	out[n++] = '.';
	{
		const char *t = tlds[rnd() % 12];

		memcpy(out + n, t, strlen(t));
		n += strlen(t);
	}
	out[n] = '\0';
	return n;
}

static void test_million(void)
{
	const size_t n = 1000000, nq = 300000, nbrute = 40;
	struct ref_ent *r = calloc(n, sizeof(*r));
	struct tg_dset_builder *b = tg_dset_builder_new();
	struct tg_dset *s;
	size_t i, m = 0, bad = 0, hits = 0;

	CHECK(r != NULL && b != NULL);
	if (r == NULL || b == NULL) {
		free(r);
		tg_dset_builder_free(b);
		return;
	}
	for (i = 0; i < n; i++) {
		r[i].len = (uint8_t)random_name(r[i].name);
		r[i].kind = (uint8_t)(rnd() % 3);
		r[i].value = (uint32_t)rnd();
		r[i].seq = (uint32_t)i;
		CHECK_ERR(tg_dset_builder_add(b, r[i].name, r[i].len, r[i].kind, r[i].value),
			  TG_OK);
	}
	s = tg_dset_build(b, key2);
	CHECK(s != NULL);
	qsort(r, n, sizeof(*r), ref_cmp);
	for (i = 0; i < n; i++)
		if (m == 0 || strcmp(r[m - 1].name, r[i].name) != 0 || r[m - 1].kind != r[i].kind)
			r[m++] = r[i];
	CHECK_INT(tg_dset_count(s), m);
	CHECK_INT(tg_dset_duplicates(s), n - m);
	/* ~14 bytes per entry; allow for small tables' rounding. */
	CHECK(tg_dset_bytes(s) < 16 * m);

	for (i = 0; i < nq + nbrute; i++) {
		char q[TG_CAP_NAME_LEN + 1];
		size_t ql, ml = 0;
		const struct ref_ent *want;
		uint32_t v = 0;
		enum tg_dset_kind k = TG_DSET_EXACT;
		bool hit;

		switch (rnd() % 3) {
		case 0: { /* an entry itself */
			const struct ref_ent *e = &r[rnd() % m];

			memcpy(q, e->name, e->len + 1u);
			ql = e->len;
			break;
		}
		case 1: { /* below an entry */
			const struct ref_ent *e = &r[rnd() % m];
			size_t l;

			random_label(q, &l, 1, 5);
			q[l] = '.';
			memcpy(q + l + 1, e->name, e->len + 1u);
			ql = l + 1 + e->len;
			break;
		}
		default:
			ql = random_name(q);
			break;
		}
		hit = tg_dset_lookup(s, q, ql, &v, &k, &ml);
		want = i < nq ? ref_lookup(r, m, q, ql) : brute_lookup(r, m, q, ql);
		hits += hit;
		if (hit != (want != NULL) ||
		    (hit && (v != want->value || k != want->kind || ml != want->len))) {
			if (bad++ < 5)
				fprintf(stderr, "query %s: hit %d v %u k %d ml %zu, want %s\n", q,
					hit, (unsigned)v, (int)k, ml, want ? want->name : "(none)");
		}
	}
	CHECK_INT(bad, 0);
	/* The mix must exercise both outcomes. */
	CHECK(hits > nq / 4 && hits < nq);
	tg_dset_free(s);
	free(r);
}

/* The answers do not depend on the key. */
static void test_keys(void)
{
	static const char *const p[] = { ".a.com", "b.a.com", "*.c.a.com" };
	static const char *const q[] = { "a.com", "b.a.com", "c.a.com", "d.c.a.com", "x.com" };
	struct tg_dset *s1 = build(p, 3, key1), *s2 = build(p, 3, key2);
	size_t i;

	for (i = 0; i < 5; i++) {
		uint32_t v1 = 0, v2 = 0;
		bool h1 = tg_dset_lookup(s1, q[i], strlen(q[i]), &v1, NULL, NULL);
		bool h2 = tg_dset_lookup(s2, q[i], strlen(q[i]), &v2, NULL, NULL);

		CHECK(h1 == h2 && v1 == v2);
	}
	tg_dset_free(s1);
	tg_dset_free(s2);
}

int main(void)
{
	test_parse_pattern();
	test_kinds();
	test_most_specific();
	test_duplicates();
	test_builder_errors();
	test_not_normalized();
	test_empty_and_deep();
	test_keys();
	test_million();
	return tg_test_done();
}
