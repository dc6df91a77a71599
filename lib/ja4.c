/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ja4.c - JA4 client fingerprint (FoxIO JA4 technical details; GREASE per RFC 8701).
 *
 * Layout: a "_" b "_" c, see ja4.h. The three parts are built once as text; the hashed forms
 * take SHA-256 over exactly the text the raw forms print.
 */
#include <string.h>

#include "tlsgate/ja4.h"
#include "tlsgate/mbedtls_compat.h"

#define JA4_A_LEN    10
#define JA4_HASH_LEN 12
#define JA4_B_MAX    (5 * TG_CAP_CH_CIPHERS)
#define JA4_C_MAX    (5 * (TG_CAP_CH_EXTENSIONS + TG_CAP_CH_SIGALGS))

_Static_assert(TG_CAP_CH_CIPHERS >= TG_CAP_CH_EXTENSIONS && TG_CAP_CH_CIPHERS >= TG_CAP_CH_SIGALGS,
	       "ja4_build() sorts every list in a cipher-sized buffer");

static const char hex_digits[16] = "0123456789abcdef";

/* The three parts as text; b and c are not NUL-terminated. */
struct ja4_text {
	char a[JA4_A_LEN];
	char b[JA4_B_MAX];
	size_t b_len;
	char c[JA4_C_MAX];
	size_t c_len;
	size_t n_exts_hashed; /* c is "000000000000" in the hashed form when 0 */
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

static bool is_alnum(uint8_t ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool has_ext(const struct tg_ch *ch, uint16_t type)
{
	size_t i;

	for (i = 0; i < ch->n_exts; i++)
		if (ch->exts[i] == type)
			return true;
	return false;
}

/* Highest non-GREASE supported_versions entry, else the ClientHello's legacy_version. */
static uint16_t ja4_version(const struct tg_ch *ch)
{
	uint16_t best = ch->legacy_version;
	bool found = false;
	size_t i;

	for (i = 0; i < ch->n_versions; i++) {
		uint16_t v = ch->versions[i];

		if (tg_tls_is_grease(v) || (found && v <= best))
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
	if (is_alnum(lo) && is_alnum(hi)) {
		p[0] = (char)lo;
		p[1] = (char)hi;
	} else {
		p[0] = hex_digits[lo >> 4];
		p[1] = hex_digits[hi & 15];
	}
}

static size_t count_non_grease(const uint16_t *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += !tg_tls_is_grease(v[i]);
	return k;
}

/* Copy the non-GREASE values of @in, without server_name and ALPN when @drop_named. */
static size_t filter(const uint16_t *in, size_t n, uint16_t *out, bool drop_named)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		uint16_t v = in[i];

		if (tg_tls_is_grease(v))
			continue;
		if (drop_named && (v == TG_TLS_EXT_SERVER_NAME || v == TG_TLS_EXT_ALPN))
			continue;
		out[k++] = v;
	}
	return k;
}

/* Insertion sort: the lists are short and often nearly sorted. */
static void sort_u16(uint16_t *v, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		uint16_t x = v[i];

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
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

static enum tg_err ja4_build(const struct tg_ch *ch, char transport, bool original,
			     struct ja4_text *t)
{
	uint16_t list[TG_CAP_CH_CIPHERS], version;
	size_t n, i;

	if (transport != 't' && transport != 'q' && transport != 'd')
		return TG_ERR_ARG;
	t->a[0] = transport;
	version = ja4_version(ch);
	t->a[1] = t->a[2] = '0';
	for (i = 0; i < sizeof(ja4_versions) / sizeof(ja4_versions[0]); i++) {
		if (ja4_versions[i].version == version) {
			t->a[1] = ja4_versions[i].code[0];
			t->a[2] = ja4_versions[i].code[1];
			break;
		}
	}
	t->a[3] = has_ext(ch, TG_TLS_EXT_SERVER_NAME) ? 'd' : 'i';
	put_count(t->a + 4, count_non_grease(ch->ciphers, ch->n_ciphers));
	put_count(t->a + 6, count_non_grease(ch->exts, ch->n_exts));
	put_alpn(t->a + 8, ch);

	n = filter(ch->ciphers, ch->n_ciphers, list, false);
	if (!original)
		sort_u16(list, n);
	t->b_len = put_list(t->b, list, n);

	n = filter(ch->exts, ch->n_exts, list, !original);
	if (!original)
		sort_u16(list, n);
	t->n_exts_hashed = n;
	t->c_len = put_list(t->c, list, n);
	n = filter(ch->sigalgs, ch->n_sigalgs, list, false);
	if (n > 0) {
		t->c[t->c_len++] = '_';
		t->c_len += put_list(t->c + t->c_len, list, n);
	}
	return TG_OK;
}

/* The first 12 hex digits of SHA-256(@p), or twelve zeros for an empty list. */
static enum tg_err hash12(const char *p, size_t len, bool empty, char *out)
{
	uint8_t md[32];
	size_t i;

	if (empty) {
		memset(out, '0', JA4_HASH_LEN);
		return TG_OK;
	}
	if (tg_sha256((const uint8_t *)p, len, md) != 0)
		return TG_ERR_UNSUPPORTED;
	for (i = 0; i < JA4_HASH_LEN / 2; i++) {
		out[2 * i] = hex_digits[md[i] >> 4];
		out[2 * i + 1] = hex_digits[md[i] & 15];
	}
	return TG_OK;
}

static enum tg_err ja4_hashed(const struct tg_ch *ch, char transport, bool original,
			      char out[static TG_JA4_LEN + 1])
{
	struct ja4_text t;
	enum tg_err err;

	out[0] = '\0';
	err = ja4_build(ch, transport, original, &t);
	if (err != TG_OK)
		return err;
	memcpy(out, t.a, JA4_A_LEN);
	out[JA4_A_LEN] = '_';
	err = hash12(t.b, t.b_len, t.b_len == 0, out + JA4_A_LEN + 1);
	if (err != TG_OK)
		goto out;
	out[JA4_A_LEN + 1 + JA4_HASH_LEN] = '_';
	err = hash12(t.c, t.c_len, t.n_exts_hashed == 0, out + JA4_A_LEN + 2 + JA4_HASH_LEN);
	if (err != TG_OK)
		goto out;
	out[TG_JA4_LEN] = '\0';
out:
	if (err != TG_OK)
		out[0] = '\0';
	return err;
}

static enum tg_err ja4_raw(const struct tg_ch *ch, char transport, bool original, char *out,
			   size_t cap)
{
	struct ja4_text t;
	enum tg_err err;
	size_t k;

	if (cap > 0)
		out[0] = '\0';
	err = ja4_build(ch, transport, original, &t);
	if (err != TG_OK)
		return err;
	if (JA4_A_LEN + 1 + t.b_len + 1 + t.c_len + 1 > cap)
		return TG_ERR_CAP;
	memcpy(out, t.a, JA4_A_LEN);
	k = JA4_A_LEN;
	out[k++] = '_';
	memcpy(out + k, t.b, t.b_len);
	k += t.b_len;
	out[k++] = '_';
	memcpy(out + k, t.c, t.c_len);
	k += t.c_len;
	out[k] = '\0';
	return TG_OK;
}

enum tg_err tg_ja4(const struct tg_ch *ch, char transport, char out[static TG_JA4_LEN + 1])
{
	return ja4_hashed(ch, transport, false, out);
}

enum tg_err tg_ja4_o(const struct tg_ch *ch, char transport, char out[static TG_JA4_LEN + 1])
{
	return ja4_hashed(ch, transport, true, out);
}

enum tg_err tg_ja4_raw(const struct tg_ch *ch, char transport, char *out, size_t cap)
{
	return ja4_raw(ch, transport, false, out, cap);
}

enum tg_err tg_ja4_ro(const struct tg_ch *ch, char transport, char *out, size_t cap)
{
	return ja4_raw(ch, transport, true, out, cap);
}
