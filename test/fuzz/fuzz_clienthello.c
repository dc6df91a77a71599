/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_clienthello.c - the input is the first bytes of a client's TCP stream.
 *
 * Invariants checked (abort() on violation):
 *  - NEED_MORE says need > len and need <= TG_CAP_CH_STREAM;
 *  - on OK: consumed <= len and <= TG_CAP_CH_STREAM, counts within their caps, every span lies
 *    inside the input or the scratch buffer; parsing twice gives the same result; the message
 *    through tg_tls_ch_parse_msg() gives the same result; every prefix shorter than consumed
 *    (a sample of them) is NEED_MORE with need <= consumed, and the input cut at consumed is OK;
 *    the message re-fragmented into records of another size gives the same result;
 *  - JA4 is 36 characters, [a-z0-9_] except the two ALPN characters ([A-Za-z0-9]); it agrees
 *    with the memo and with the raw form (same first part, hashes of the raw parts).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/ja4.h"
#include "tlsgate/mbedtls_compat.h"
#include "tlsgate/tls_ch.h"
#include "../unit/tls_ch_util.h"

static uint8_t scratch[TG_CAP_CH_BYTES], scratch2[TG_CAP_CH_BYTES];
static struct tg_ch ch, again;
static struct tb refrag;
static char raw[TG_JA4_RAW_MAX + 1];
static struct tg_ja4_memo *memo;

#define REQUIRE(cond)            \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

static bool inside(struct tg_span s, const uint8_t *data, size_t size)
{
	if (s.len == 0)
		return true;
	if (s.p >= data && s.len <= size && s.p - data <= (ptrdiff_t)(size - s.len))
		return true;
	return s.p >= scratch && s.len <= TG_CAP_CH_BYTES &&
	       s.p - scratch <= (ptrdiff_t)(TG_CAP_CH_BYTES - s.len);
}

static void check_spans(const struct tg_ch *c, const uint8_t *data, size_t size)
{
	size_t i;

	REQUIRE(c->n_ciphers <= TG_CAP_CH_CIPHERS && c->n_exts <= TG_CAP_CH_EXTENSIONS &&
		c->n_alpn <= TG_CAP_CH_ALPN && c->n_versions <= TG_CAP_CH_VERSIONS &&
		c->n_sigalgs <= TG_CAP_CH_SIGALGS && c->n_groups <= TG_CAP_CH_GROUPS);
	REQUIRE(c->random.len == 32 && c->session_id.len <= 32 && c->compression.len >= 1);
	REQUIRE(c->msg.len >= TG_TLS_HS_HEADER && c->msg.len <= TG_CAP_CH_BYTES);
	REQUIRE(inside(c->msg, data, size) && inside(c->random, data, size) &&
		inside(c->session_id, data, size) && inside(c->compression, data, size) &&
		inside(c->sni, data, size) && inside(c->ech_enc, data, size) &&
		inside(c->ech_payload, data, size));
	for (i = 0; i < c->n_alpn; i++)
		REQUIRE(c->alpn[i].len > 0 && inside(c->alpn[i], data, size));
	REQUIRE(!c->has_sni || (c->sni.len > 0 && c->sni.len <= TG_TLS_SNI_MAX &&
				memchr(c->sni.p, 0, c->sni.len) == NULL));
}

static void hash12(const char *p, size_t n, char out[12])
{
	static const char hx[] = "0123456789abcdef";
	uint8_t md[32];
	size_t i;

	REQUIRE(tg_sha256((const uint8_t *)p, n, md) == 0);
	for (i = 0; i < 6; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
}

static void check_ja4(const struct tg_ch *c)
{
	char out[TG_JA4_LEN + 1], memod[TG_JA4_LEN + 1], h[12];
	const char *b, *sep;
	size_t i;

	REQUIRE(tg_ja4(c, 't', out) == TG_OK);
	REQUIRE(strlen(out) == TG_JA4_LEN);
	for (i = 0; i < TG_JA4_LEN; i++) {
		char x = out[i];
		bool digit = x >= '0' && x <= '9', lower = x >= 'a' && x <= 'z';

		if (i == 8 || i == 9)
			REQUIRE(digit || lower || (x >= 'A' && x <= 'Z'));
		else if (i == 10 || i == 23)
			REQUIRE(x == '_');
		else
			REQUIRE(digit || lower);
	}
	REQUIRE(tg_ja4_memo_get(memo, c, 't', memod) == TG_OK && strcmp(out, memod) == 0);
	REQUIRE(tg_ja4_raw(c, 't', raw, sizeof(raw)) == TG_OK);
	REQUIRE(strlen(raw) <= TG_JA4_RAW_MAX && memcmp(raw, out, 11) == 0);
	b = raw + 11;
	sep = strchr(b, '_');
	REQUIRE(sep != NULL);
	if (sep > b) {
		hash12(b, (size_t)(sep - b), h);
		REQUIRE(memcmp(h, out + 11, 12) == 0);
	} else {
		REQUIRE(memcmp(out + 11, "000000000000", 12) == 0);
	}
	if (sep[1] != '\0' && sep[1] != '_') {
		hash12(sep + 1, strlen(sep + 1), h);
		REQUIRE(memcmp(h, out + 24, 12) == 0);
	}
	REQUIRE(tg_ja4_o(c, 'q', out) == TG_OK && out[0] == 'q' && strlen(out) == TG_JA4_LEN);
	REQUIRE(tg_ja4_ro(c, 'd', raw, sizeof(raw)) == TG_OK && raw[0] == 'd');
}

/* A sample of prefixes: the first bytes, a spread, and the last ones before consumed. */
static void check_prefixes(const uint8_t *data, size_t consumed)
{
	size_t k;

	for (k = 0; k < 64; k++) {
		size_t len = k < 16 ? k : k < 48 ? consumed * (k - 16) / 32 : consumed - (k - 47);

		if (len >= consumed)
			continue;
		REQUIRE(tg_tls_ch_parse(&again, data, len, scratch2) == TG_NEED_MORE);
		REQUIRE(again.need > len && again.need <= consumed);
	}
	REQUIRE(tg_tls_ch_parse(&again, data, consumed, scratch2) == TG_OK);
	REQUIRE(ch_same(&ch, &again));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memo = tg_ja4_memo_new();
	return memo == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum tg_err err = tg_tls_ch_parse(&ch, data, size, scratch);
	size_t frag;

	if (err == TG_NEED_MORE)
		REQUIRE(ch.need > size && ch.need <= TG_CAP_CH_STREAM);
	/* The message entry point on the same bytes, for its own sake. */
	if (tg_tls_ch_parse_msg(&again, data, size) == TG_OK) {
		check_spans(&again, data, size);
		REQUIRE(again.consumed == size);
	}
	if (err != TG_OK)
		return 0;

	REQUIRE(ch.consumed <= size && ch.consumed <= TG_CAP_CH_STREAM && ch.n_records >= 1);
	check_spans(&ch, data, size);
	REQUIRE(tg_tls_ch_parse(&again, data, size, scratch2) == TG_OK && ch_same(&ch, &again));
	REQUIRE(tg_tls_ch_parse_msg(&again, ch.msg.p, ch.msg.len) == TG_OK && ch_same(&ch, &again));
	check_prefixes(data, ch.consumed);
	check_ja4(&ch);

	/* The same message in records of another size parses the same (if within the cap). */
	frag = 1 + (size_t)data[size - 1] % 97;
	refrag.n = 0;
	tb_records(&refrag, ch.msg.p, ch.msg.len, frag);
	err = tg_tls_ch_parse(&again, refrag.b, refrag.n, scratch2);
	if (refrag.n <= TG_CAP_CH_STREAM)
		REQUIRE(err == TG_OK && ch_same(&ch, &again));
	else
		REQUIRE(err == TG_ERR_CAP);
	return 0;
}
