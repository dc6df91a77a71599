/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_domain.c - names, patterns, addresses and the two sets, from one input.
 *
 * The whole input is normalized, parsed as a pattern, as an address and as a prefix; then its
 * lines ('\n'-separated) become a small domain set and a small prefix set. Invariants (abort()
 * on violation):
 * - a normalized name holds only [a-z0-9._-], is 1..253 bytes, has labels of 1..63 bytes not
 *   starting or ending with '-', normalizes to itself, is case-blind, and one trailing dot added
 *   to the input changes nothing; on error the output is empty;
 * - a parsed pattern printed back ("*." / "." / "") parses to the same kind and name;
 * - tg_addr_parse agrees with inet_pton (accept/reject and bytes); a parsed address or prefix
 *   formatted and parsed again is the same; the text fits TG_*_TEXT_MAX;
 * - the domain set answers every name (and a name below it) exactly as a brute-force scan of
 *   the lines does (most specific, narrower kind on ties, first duplicate wins);
 * - the prefix set answers each prefix's first and last address as a brute-force scan does.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/cidr.h"
#include "tlsgate/domain.h"
#include "tlsgate/domainset.h"

#define MAX_LINES 64

static const uint8_t fuzz_key[16] = { 7, 1, 4, 2, 8, 5, 7, 1, 4, 2, 8, 5, 7, 1, 4, 2 };

static void check_normal_form(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > TG_CAP_NAME_LEN || s[n] != '\0')
		abort();
	for (i = 0; i <= n; i++) {
		char c = s[i];

		if (i == n || c == '.') {
			if (label == 0 || label > TG_CAP_LABEL_LEN || s[i - 1] == '-' ||
			    s[i - label] == '-')
				abort();
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			abort();
		label++;
	}
}

static void fuzz_normalize(const uint8_t *data, size_t size)
{
	char out[TG_CAP_NAME_LEN + 1], again[TG_CAP_NAME_LEN + 1], up_out[TG_CAP_NAME_LEN + 1];
	uint8_t up[TG_CAP_NAME_LEN + 2];
	size_t olen = 1, alen, ulen, i;
	enum tg_err err = tg_domain_normalize(data, size, out, &olen);

	if (err != TG_OK) {
		if (olen != 0 || out[0] != '\0')
			abort();
		if (err < TG_ERR_NAME_EMPTY || err > TG_ERR_NAME_PUNYCODE)
			abort();
		return;
	}
	check_normal_form(out, olen);
	if (tg_domain_normalize((const uint8_t *)out, olen, again, &alen) != TG_OK ||
	    alen != olen || memcmp(out, again, olen) != 0)
		abort();
	/* Case-blind: the uppercase of the output normalizes to the output. */
	for (i = 0; i < olen; i++)
		up[i] = (uint8_t)((out[i] >= 'a' && out[i] <= 'z') ? out[i] - 32 : out[i]);
	if (tg_domain_normalize(up, olen, up_out, &ulen) != TG_OK || ulen != olen ||
	    memcmp(up_out, out, olen) != 0)
		abort();
	/* The absolute form names the same host. */
	if (size <= TG_CAP_NAME_LEN && data[size - 1] != '.') {
		memcpy(up, data, size);
		up[size] = '.';
		if (tg_domain_normalize(up, size + 1, up_out, &ulen) != TG_OK || ulen != olen ||
		    memcmp(up_out, out, olen) != 0)
			abort();
	}
}

static void fuzz_pattern(const uint8_t *data, size_t size)
{
	static const char *const prefix[] = { "", "*.", "." };
	char out[TG_CAP_NAME_LEN + 1], again[TG_CAP_NAME_LEN + 1], text[TG_CAP_NAME_LEN + 3];
	enum tg_dset_kind kind, k2;
	size_t olen, alen, plen;

	if (tg_dset_parse_pattern((const char *)data, size, out, &olen, &kind) != TG_OK)
		return;
	check_normal_form(out, olen);
	if ((unsigned)kind > TG_DSET_DOMAIN_AND_SUBS)
		abort();
	plen = strlen(prefix[kind]);
	memcpy(text, prefix[kind], plen);
	memcpy(text + plen, out, olen);
	if (tg_dset_parse_pattern(text, plen + olen, again, &alen, &k2) != TG_OK || k2 != kind ||
	    alen != olen || memcmp(again, out, olen) != 0)
		abort();
}

static void fuzz_addr(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char z[64], buf[TG_CIDR_TEXT_MAX];
	uint8_t fam, a[16], b[16], fam2;
	struct tg_cidr c, c2;
	bool ours, libc = false;
	size_t n;

	ours = tg_addr_parse(text, size, &fam, a) == TG_OK;
	if (size < sizeof(z) && memchr(data, '\0', size) == NULL) {
		memcpy(z, data, size);
		z[size] = '\0';
		libc = inet_pton(memchr(data, ':', size) ? AF_INET6 : AF_INET, z, b) == 1;
		if (ours != libc || (ours && memcmp(a, b, fam == 4 ? 4 : 16) != 0))
			abort();
	} else if (ours) {
		abort(); /* no address is 64 bytes long or holds a NUL */
	}
	if (ours) {
		n = tg_addr_format(fam, a, buf, sizeof(buf));
		if (n == 0 || n >= TG_ADDR_TEXT_MAX || strlen(buf) != n)
			abort();
		if (tg_addr_parse(buf, n, &fam2, b) != TG_OK || fam2 != fam ||
		    memcmp(a, b, 16) != 0)
			abort();
	}
	if (tg_cidr_parse(text, size, &c) != TG_OK)
		return;
	n = tg_cidr_format(&c, buf, sizeof(buf));
	if (n == 0 || n >= TG_CIDR_TEXT_MAX || strlen(buf) != n)
		abort();
	if (tg_cidr_parse(buf, n, &c2) != TG_OK || memcmp(&c, &c2, sizeof(c)) != 0)
		abort();
	if (!tg_cidr_contains(&c, c.family, c.addr))
		abort();
}

/* ---- sets from the input's lines ---- */

struct line {
	const uint8_t *p;
	size_t len;
};

static size_t split_lines(const uint8_t *data, size_t size, struct line *lines)
{
	size_t n = 0, start = 0, i;

	for (i = 0; i <= size && n < MAX_LINES; i++) {
		if (i == size || data[i] == '\n') {
			lines[n].p = data + start;
			lines[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

struct dent {
	char name[TG_CAP_NAME_LEN + 1];
	size_t len;
	enum tg_dset_kind kind;
	uint32_t value;
};

/* Brute force: longest matching name, narrower kind on a tie, first entry among equals. */
static const struct dent *dent_best(const struct dent *e, size_t n, const char *q, size_t len)
{
	const struct dent *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		bool whole, below;

		if (e[i].len > len || memcmp(q + len - e[i].len, e[i].name, e[i].len) != 0)
			continue;
		whole = e[i].len == len;
		below = !whole && q[len - e[i].len - 1] == '.';
		if (!whole && !below)
			continue;
		if ((e[i].kind == TG_DSET_EXACT && !whole) ||
		    (e[i].kind == TG_DSET_SUBDOMAINS && !below))
			continue;
		if (best == NULL || e[i].len > best->len ||
		    (e[i].len == best->len && e[i].kind < best->kind))
			best = &e[i];
	}
	return best;
}

static void dset_check(const struct tg_dset *s, const struct dent *e, size_t n, const char *q,
		       size_t len)
{
	const struct dent *want = dent_best(e, n, q, len);
	enum tg_dset_kind k = TG_DSET_EXACT;
	uint32_t v = 0;
	size_t ml = 0;
	bool hit = tg_dset_lookup(s, q, len, &v, &k, &ml);

	if (hit != (want != NULL))
		abort();
	if (hit && (v != want->value || k != want->kind || ml != want->len))
		abort();
}

static void fuzz_dset(const struct line *lines, size_t nl)
{
	struct dent *e = calloc(MAX_LINES, sizeof(*e));
	struct tg_dset_builder *b = tg_dset_builder_new();
	struct tg_dset *s;
	size_t i, j, n = 0;

	if (e == NULL || b == NULL)
		abort();
	for (i = 0; i < nl; i++) {
		struct dent d;
		bool dup = false;

		if (tg_dset_parse_pattern((const char *)lines[i].p, lines[i].len, d.name, &d.len,
					  &d.kind) != TG_OK)
			continue;
		d.value = (uint32_t)i;
		if (tg_dset_builder_add(b, d.name, d.len, d.kind, d.value) != TG_OK)
			abort();
		for (j = 0; j < n && !dup; j++)
			dup = e[j].kind == d.kind && e[j].len == d.len &&
			      memcmp(e[j].name, d.name, d.len) == 0;
		if (!dup)
			e[n++] = d;
	}
	s = tg_dset_build(b, fuzz_key);
	if (s == NULL || tg_dset_count(s) != n)
		abort();
	for (i = 0; i < n; i++) {
		char q[TG_CAP_NAME_LEN + 3];

		dset_check(s, e, n, e[i].name, e[i].len);
		/* One label below, and the parent, when they are names. */
		if (e[i].len + 2 <= TG_CAP_NAME_LEN) {
			q[0] = 'a';
			q[1] = '.';
			memcpy(q + 2, e[i].name, e[i].len);
			dset_check(s, e, n, q, e[i].len + 2);
		}
		for (j = 0; j < e[i].len && e[i].name[j] != '.'; j++)
			;
		if (j < e[i].len)
			dset_check(s, e, n, e[i].name + j + 1, e[i].len - j - 1);
	}
	tg_dset_free(s);
	free(e);
}

struct pent {
	struct tg_cidr c;
	uint32_t value;
};

static void fold(struct tg_cidr *c)
{
	if (c->family == 6 && c->plen >= 96 &&
	    memcmp(c->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, 12);
		c->family = 4;
		c->plen = (uint8_t)(c->plen - 96);
	}
}

static void cidrset_check(const struct tg_cidrset *s, const struct pent *e, size_t n, uint8_t fam,
			  const uint8_t a[16])
{
	const struct pent *best = NULL;
	struct tg_cidr q;
	uint32_t v = 0;
	uint8_t pl = 0;
	bool hit = tg_cidrset_lookup(s, fam, a, &v, &pl);
	size_t i;

	/* A mapped address is looked up as IPv4 (cidr.h): fold the query like the prefixes. */
	q.family = fam;
	memcpy(q.addr, a, 16);
	q.plen = 128;
	fold(&q);
	for (i = 0; i < n; i++)
		if (tg_cidr_contains(&e[i].c, q.family, q.addr) &&
		    (best == NULL || e[i].c.plen > best->c.plen))
			best = &e[i];
	if (hit != (best != NULL) || (hit && (v != best->value || pl != best->c.plen)))
		abort();
}

static void fuzz_cidrset(const struct line *lines, size_t nl)
{
	struct pent e[MAX_LINES];
	struct tg_cidrset_builder *b = tg_cidrset_builder_new();
	struct tg_cidrset *s;
	size_t i, j, n = 0;

	if (b == NULL)
		abort();
	for (i = 0; i < nl; i++) {
		struct pent p;
		bool dup = false;

		if (tg_cidr_parse((const char *)lines[i].p, lines[i].len, &p.c) != TG_OK)
			continue;
		p.value = (uint32_t)i;
		if (tg_cidrset_builder_add(b, &p.c, p.value) != TG_OK)
			abort();
		fold(&p.c);
		for (j = 0; j < n && !dup; j++)
			dup = memcmp(&e[j].c, &p.c, sizeof(p.c)) == 0;
		if (!dup)
			e[n++] = p;
	}
	s = tg_cidrset_build(b);
	if (s == NULL || tg_cidrset_count(s) != n)
		abort();
	for (i = 0; i < n; i++) {
		uint8_t last[16];
		unsigned bits = e[i].c.family == 4 ? 32 : 128, k;

		cidrset_check(s, e, n, e[i].c.family, e[i].c.addr);
		memcpy(last, e[i].c.addr, 16);
		for (k = e[i].c.plen; k < bits; k++)
			last[k / 8] |= (uint8_t)(0x80u >> (k % 8));
		cidrset_check(s, e, n, e[i].c.family, last);
		/* Just past the end. */
		for (k = bits / 8; k-- > 0;)
			if (++last[k] != 0)
				break;
		cidrset_check(s, e, n, e[i].c.family, last);
	}
	tg_cidrset_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct line lines[MAX_LINES];
	size_t nl;

	fuzz_normalize(data, size);
	fuzz_pattern(data, size);
	fuzz_addr(data, size);
	nl = split_lines(data, size, lines);
	fuzz_dset(lines, nl);
	fuzz_cidrset(lines, nl);
	return 0;
}
