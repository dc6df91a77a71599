/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ja4.c - JA4 client fingerprint (FoxIO JA4 technical details; GREASE per RFC 8701).
 *
 * Layout: a "_" b "_" c, see ja4.h. The lists behind b and c are gathered once as numbers
 * (GREASE removed, extensions sorted); the text of a part is written only when it is printed
 * (raw forms) or hashed, and the hashed forms take SHA-256 over exactly the text the raw forms
 * print. SHA-256 costs far more than everything else, hence the memo: a part whose list was
 * hashed before is looked up by its numbers, before any sorting or formatting.
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/ja4.h"
#include "tlsgate/mbedtls_compat.h"

#define JA4_A_LEN    10
#define JA4_HASH_LEN 12
#define JA4_B_MAX    (5 * TG_CAP_CH_CIPHERS)
#define JA4_C_MAX    (5 * (TG_CAP_CH_EXTENSIONS + TG_CAP_CH_SIGALGS))

static const char hex_digits[16] = "0123456789abcdef";

/* The numbers behind a fingerprint. */
struct ja4_lists {
	char a[JA4_A_LEN];
	uint16_t b[TG_CAP_CH_CIPHERS]; /* ciphers without GREASE, wire order */
	size_t n_b;
	/* extensions without GREASE (sorted, without SNI and ALPN, unless original), then sigalgs */
	uint16_t c[TG_CAP_CH_EXTENSIONS + TG_CAP_CH_SIGALGS];
	size_t n_ext, n_sig;
};

/* Version codes (ja4.h); the first match wins. */
static const struct {
	uint16_t version;
	char code[2];
} ja4_versions[] = {
	{ 0x0304, { '1', '3' } }, { 0x0303, { '1', '2' } }, { 0x0302, { '1', '1' } },
	{ 0x0301, { '1', '0' } }, { 0x0300, { 's', '3' } }, { 0x0200, { 's', '2' } },
	{ 0x0002, { 's', '2' } }, { 0x0100, { 's', '1' } }, { 0xfeff, { 'd', '1' } },
	{ 0xfefd, { 'd', '2' } }, { 0xfefc, { 'd', '3' } },
};

/* tg_tls_is_grease(), inlined into the loops below. */
static inline bool is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static bool is_alnum(uint8_t ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* Highest non-GREASE supported_versions entry, else the ClientHello's legacy_version. */
static uint16_t ja4_version(const struct tg_ch *ch)
{
	uint16_t best = ch->legacy_version;
	bool found = false;
	size_t i;

	for (i = 0; i < ch->n_versions; i++) {
		uint16_t v = ch->versions[i];

		if (is_grease(v) || (found && v <= best))
			continue;
		best = v;
		found = true;
	}
	return best;
}

static void put_count(char *p, size_t n)
{
	if (n > 99)
		n = 99;
	p[0] = (char)('0' + n / 10);
	p[1] = (char)('0' + n % 10);
}

/* First and last character of the first protocol name, or of its hex form (ja4.h). */
static void put_alpn(char *p, const struct tg_ch *ch)
{
	struct tg_span first;
	uint8_t lo, hi;

	p[0] = p[1] = '0';
	if (ch->n_alpn == 0 || ch->alpn[0].len == 0)
		return;
	first = ch->alpn[0];
	lo = first.p[0];
	hi = first.p[first.len - 1];
	if (lo >= 0x80) {
		/*
		 * A first byte outside ASCII: "99", as FoxIO's reference implementation does and as
		 * the published expected outputs (tls-non-ascii-alpn.pcapng) record. The prose of
		 * the specification would give hex digits here; the fingerprints seen in the wild
		 * and in every JA4 database come from the reference code, so we match it.
		 */
		p[0] = p[1] = '9';
	} else if (is_alnum(lo) && is_alnum(hi)) {
		p[0] = (char)lo;
		p[1] = (char)hi;
	} else {
		p[0] = hex_digits[lo >> 4];
		p[1] = hex_digits[hi & 15];
	}
}

/* Shell sort (Ciura's gaps): short lists, up to TG_CAP_CH_CIPHERS, no allocation, no recursion. */
static void sort_u16(uint16_t *v, size_t n)
{
	static const size_t gaps[] = { 132, 57, 23, 10, 4, 1 };
	size_t g, i, j;

	for (g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];

		for (i = gap; i < n; i++) {
			uint16_t x = v[i];

			for (j = i; j >= gap && v[j - gap] > x; j -= gap)
				v[j] = v[j - gap];
			v[j] = x;
		}
	}
}

/* "xxxx,xxxx,..." into @p (5 * n bytes of room); returns the length written. */
static size_t put_list(char *p, const uint16_t *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (i > 0)
			p[k++] = ',';
		p[k++] = hex_digits[v[i] >> 12];
		p[k++] = hex_digits[(v[i] >> 8) & 15];
		p[k++] = hex_digits[(v[i] >> 4) & 15];
		p[k++] = hex_digits[v[i] & 15];
	}
	return k;
}

static enum tg_err ja4_gather(const struct tg_ch *ch, char transport, bool original,
			      struct ja4_lists *l)
{
	uint16_t version = ja4_version(ch);
	size_t i, n_ext_all = 0;
	bool sni = false;

	if (transport != 't' && transport != 'q' && transport != 'd')
		return TG_ERR_ARG;
	l->a[0] = transport;
	l->a[1] = l->a[2] = '0';
	for (i = 0; i < sizeof(ja4_versions) / sizeof(ja4_versions[0]); i++) {
		if (ja4_versions[i].version == version) {
			l->a[1] = ja4_versions[i].code[0];
			l->a[2] = ja4_versions[i].code[1];
			break;
		}
	}

	l->n_b = 0;
	for (i = 0; i < ch->n_ciphers; i++)
		if (!is_grease(ch->ciphers[i]))
			l->b[l->n_b++] = ch->ciphers[i];

	l->n_ext = 0;
	for (i = 0; i < ch->n_exts; i++) {
		uint16_t v = ch->exts[i];

		if (is_grease(v))
			continue;
		n_ext_all++;
		sni |= v == TG_TLS_EXT_SERVER_NAME;
		if (!original && (v == TG_TLS_EXT_SERVER_NAME || v == TG_TLS_EXT_ALPN))
			continue;
		l->c[l->n_ext++] = v;
	}
	if (!original)
		sort_u16(l->c, l->n_ext);
	l->n_sig = 0;
	for (i = 0; i < ch->n_sigalgs; i++)
		if (!is_grease(ch->sigalgs[i]))
			l->c[l->n_ext + l->n_sig++] = ch->sigalgs[i];

	l->a[3] = sni ? 'd' : 'i';
	put_count(l->a + 4, l->n_b);
	put_count(l->a + 6, n_ext_all);
	put_alpn(l->a + 8, ch);
	return TG_OK;
}

/* The text of part b into @p (JA4_B_MAX bytes), ciphers sorted unless @original. */
static size_t text_b(const struct ja4_lists *l, bool original, char *p)
{
	uint16_t v[TG_CAP_CH_CIPHERS];

	if (original)
		return put_list(p, l->b, l->n_b);
	memcpy(v, l->b, l->n_b * sizeof(v[0]));
	sort_u16(v, l->n_b);
	return put_list(p, v, l->n_b);
}

/* The text of part c into @p (JA4_C_MAX bytes): extensions, then "_" sigalgs if any. */
static size_t text_c(const struct ja4_lists *l, char *p)
{
	size_t k = put_list(p, l->c, l->n_ext);

	if (l->n_sig > 0) {
		p[k++] = '_';
		k += put_list(p + k, l->c + l->n_ext, l->n_sig);
	}
	return k;
}

/* The first 12 hex digits of SHA-256(@p) into @out. */
static enum tg_err hash12(const char *p, size_t len, char *out)
{
	uint8_t md[32];
	size_t i;

	if (tg_sha256((const uint8_t *)p, len, md) != 0)
		return TG_ERR_UNSUPPORTED;
	for (i = 0; i < JA4_HASH_LEN / 2; i++) {
		out[2 * i] = hex_digits[md[i] >> 4];
		out[2 * i + 1] = hex_digits[md[i] & 15];
	}
	return TG_OK;
}

/* Which part; a memo entry only answers for the same part and the same split of c. */
enum ja4_part { JA4_PART_B, JA4_PART_C };

static enum tg_err part_compute(const struct ja4_lists *l, enum ja4_part part, bool original,
				char *out)
{
	char text[JA4_B_MAX > JA4_C_MAX ? JA4_B_MAX : JA4_C_MAX];
	size_t len = part == JA4_PART_B ? text_b(l, original, text) : text_c(l, text);

	return hash12(text, len, out);
}

/* Sets of JA4_MEMO_WAYS slots; the least recently used slot of a set is replaced. */
#define JA4_MEMO_WAYS 4
_Static_assert(TG_CAP_JA4_MEMO_SLOTS % JA4_MEMO_WAYS == 0, "memo slots come in whole sets");

struct tg_ja4_memo {
	struct memo_slot {
		uint64_t key;
		uint64_t used; /* tick of the last hit or fill */
		size_t n; /* values held; 0: empty */
		size_t split; /* part c: where the signature algorithms start */
		enum ja4_part part;
		char hash[JA4_HASH_LEN];
		uint16_t v[TG_CAP_JA4_MEMO_VALUES];
	} slot[TG_CAP_JA4_MEMO_SLOTS];
	uint64_t tick, hits, misses;
};

/* A quick 64-bit mix of @n values, four at a time: picks the set, filters mismatches. */
static uint64_t memo_key(const uint16_t *v, size_t n, uint64_t seed)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ seed ^ (uint64_t)n << 48, w;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&w, v + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, v + i, (n - i) * sizeof(v[0]));
	h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	return h ^ (h >> 29);
}

/*
 * The hash of a part (sorted form) into @out, through the memo @m (NULL: none). Part b is
 * looked up by its ciphers in wire order, which a client keeps from one hello to the next,
 * so a hit needs no sort; part c by its sorted extensions and signature algorithms.
 */
static enum tg_err part_hash(struct tg_ja4_memo *m, const struct ja4_lists *l, enum ja4_part part,
			     char *out)
{
	const uint16_t *v = part == JA4_PART_B ? l->b : l->c;
	size_t n = part == JA4_PART_B ? l->n_b : l->n_ext + l->n_sig;
	size_t split = part == JA4_PART_B ? 0 : l->n_ext;
	struct memo_slot *set, *victim;
	enum tg_err err;
	uint64_t key;
	size_t i;

	if (m == NULL || n > TG_CAP_JA4_MEMO_VALUES)
		return part_compute(l, part, false, out);
	key = memo_key(v, n, (uint64_t)part << 32 | split);
	set = &m->slot[(key % (TG_CAP_JA4_MEMO_SLOTS / JA4_MEMO_WAYS)) * JA4_MEMO_WAYS];
	victim = set;
	m->tick++;
	for (i = 0; i < JA4_MEMO_WAYS; i++) {
		struct memo_slot *s = &set[i];

		if (s->n == n && s->key == key && s->part == part && s->split == split &&
		    memcmp(s->v, v, n * sizeof(v[0])) == 0) {
			memcpy(out, s->hash, JA4_HASH_LEN);
			s->used = m->tick;
			m->hits++;
			return TG_OK;
		}
		if (s->used < victim->used)
			victim = s;
	}
	err = part_compute(l, part, false, out);
	if (err != TG_OK)
		return err;
	victim->key = key;
	victim->used = m->tick;
	victim->n = n;
	victim->split = split;
	victim->part = part;
	memcpy(victim->v, v, n * sizeof(v[0]));
	memcpy(victim->hash, out, JA4_HASH_LEN);
	m->misses++;
	return TG_OK;
}

static enum tg_err ja4_hashed(struct tg_ja4_memo *m, const struct tg_ch *ch, char transport,
			      bool original, char out[static TG_JA4_LEN + 1])
{
	struct ja4_lists l;
	enum tg_err err;
	char *b = out + JA4_A_LEN + 1, *c = b + JA4_HASH_LEN + 1;

	out[0] = '\0';
	err = ja4_gather(ch, transport, original, &l);
	if (err != TG_OK)
		return err;
	memcpy(out, l.a, JA4_A_LEN);
	out[JA4_A_LEN] = '_';
	out[JA4_A_LEN + 1 + JA4_HASH_LEN] = '_';
	out[TG_JA4_LEN] = '\0';
	/* An empty list is twelve zeros, not the hash of nothing. */
	if (l.n_b == 0)
		memset(b, '0', JA4_HASH_LEN);
	else if (original)
		err = part_compute(&l, JA4_PART_B, true, b);
	else
		err = part_hash(m, &l, JA4_PART_B, b);
	if (err != TG_OK)
		goto out;
	if (l.n_ext == 0)
		memset(c, '0', JA4_HASH_LEN);
	else if (original)
		err = part_compute(&l, JA4_PART_C, true, c);
	else
		err = part_hash(m, &l, JA4_PART_C, c);
out:
	if (err != TG_OK)
		out[0] = '\0';
	return err;
}

static enum tg_err ja4_raw(const struct tg_ch *ch, char transport, bool original, char *out,
			   size_t cap)
{
	struct ja4_lists l;
	char b[JA4_B_MAX], c[JA4_C_MAX];
	size_t b_len, c_len, k;
	enum tg_err err;

	if (cap > 0)
		out[0] = '\0';
	err = ja4_gather(ch, transport, original, &l);
	if (err != TG_OK)
		return err;
	b_len = text_b(&l, original, b);
	c_len = text_c(&l, c);
	if (JA4_A_LEN + 1 + b_len + 1 + c_len + 1 > cap)
		return TG_ERR_CAP;
	memcpy(out, l.a, JA4_A_LEN);
	k = JA4_A_LEN;
	out[k++] = '_';
	memcpy(out + k, b, b_len);
	k += b_len;
	out[k++] = '_';
	memcpy(out + k, c, c_len);
	k += c_len;
	out[k] = '\0';
	return TG_OK;
}

enum tg_err tg_ja4(const struct tg_ch *ch, char transport, char out[static TG_JA4_LEN + 1])
{
	return ja4_hashed(NULL, ch, transport, false, out);
}

enum tg_err tg_ja4_o(const struct tg_ch *ch, char transport, char out[static TG_JA4_LEN + 1])
{
	return ja4_hashed(NULL, ch, transport, true, out);
}

enum tg_err tg_ja4_raw(const struct tg_ch *ch, char transport, char *out, size_t cap)
{
	return ja4_raw(ch, transport, false, out, cap);
}

enum tg_err tg_ja4_ro(const struct tg_ch *ch, char transport, char *out, size_t cap)
{
	return ja4_raw(ch, transport, true, out, cap);
}

struct tg_ja4_memo *tg_ja4_memo_new(void)
{
	return calloc(1, sizeof(struct tg_ja4_memo));
}

void tg_ja4_memo_free(struct tg_ja4_memo *m)
{
	free(m);
}

enum tg_err tg_ja4_memo_get(struct tg_ja4_memo *m, const struct tg_ch *ch, char transport,
			    char out[static TG_JA4_LEN + 1])
{
	return ja4_hashed(m, ch, transport, false, out);
}

void tg_ja4_memo_stats(const struct tg_ja4_memo *m, uint64_t *hits, uint64_t *misses)
{
	*hits = m->hits;
	*misses = m->misses;
}
