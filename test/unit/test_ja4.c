/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ja4.c - JA4 against the examples published in FoxIO's JA4 specification, its edge cases
 * (GREASE, versions, ALPN, caps, empty lists), and the real captures of test/data/clienthello,
 * whose JA4 was also computed independently from Wireshark's dissection.
 */
#include "tlsgate/ja4.h"
#include "tlsgate/mbedtls_compat.h"
#include "tg_test.h"
#include "tls_ch_util.h"

static struct tg_ch ch;
static uint8_t scratch[TG_CAP_CH_BYTES];
static struct tb cap_buf;
static char raw[TG_JA4_RAW_MAX + 1];

static void set_list(uint16_t *dst, size_t *n, const uint16_t *src, size_t count)
{
	memcpy(dst, src, count * sizeof(*src));
	*n = count;
}

#define SET(field, ...)                                                            \
	do {                                                                       \
		static const uint16_t v_[] = { __VA_ARGS__ };                      \
		set_list(ch.field, &ch.n_##field, v_, sizeof(v_) / sizeof(v_[0])); \
	} while (0)

static void set_alpn(const char *first)
{
	ch.n_alpn = 0;
	ch.has_alpn = first != NULL;
	if (first != NULL) {
		ch.alpn[0].p = (const uint8_t *)first;
		ch.alpn[0].len = strlen(first);
		ch.n_alpn = 1;
	}
}

/* The hello of the specification's example, with GREASE sprinkled in that must not matter. */
static void spec_hello(void)
{
	memset(&ch, 0, sizeof(ch));
	ch.legacy_version = 0x0303;
	SET(ciphers, 0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
	    0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035);
	SET(exts, 0xeaea, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
	    0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x1a1a);
	SET(sigalgs, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601);
	SET(versions, 0x7a7a, 0x0304, 0x0303);
	ch.has_versions = ch.has_sigalgs = true;
	ch.has_sni = true;
	ch.sni.p = (const uint8_t *)"example.com";
	ch.sni.len = 11;
	set_alpn("h2");
}

static void check_ja4(const char *want)
{
	char out[TG_JA4_LEN + 1];

	CHECK_ERR(tg_ja4(&ch, 't', out), TG_OK);
	CHECK_MEM(out, strlen(out), want);
}

static void check_alpn(const char *alpn, const char *want)
{
	char out[TG_JA4_LEN + 1];

	set_alpn(alpn);
	CHECK_ERR(tg_ja4(&ch, 't', out), TG_OK);
	CHECK_MEM(out + 8, 2, want);
}

static void test_spec_example(void)
{
	char out[TG_JA4_LEN + 1];

	spec_hello();
	check_ja4("t13d1516h2_8daaf6152771_e5627efa2ab1");
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, sizeof(raw)), TG_OK);
	CHECK_MEM(raw, strlen(raw),
		  "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,"
		  "cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
		  "0403,0804,0401,0503,0805,0501,0806,0601");
	/* Original order keeps wire order and keeps server_name and ALPN (JA4_o, JA4_ro). */
	CHECK_ERR(tg_ja4_ro(&ch, 't', raw, sizeof(raw)), TG_OK);
	CHECK_MEM(
		raw, strlen(raw),
		"t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,"
		"0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,"
		"0015_0403,0804,0401,0503,0805,0501,0806,0601");
	CHECK_ERR(tg_ja4_o(&ch, 't', out), TG_OK);
	CHECK_MEM(out, strlen(out), "t13d1516h2_acb858a92679_18f69afefd3d");

	/* Without signature algorithms the extension string has no "_" (spec: 6d807ffa2a79). */
	ch.n_sigalgs = 0;
	check_ja4("t13d1516h2_8daaf6152771_6d807ffa2a79");
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, sizeof(raw)), TG_OK);
	CHECK(raw[strlen(raw) - 1] == '1'); /* ends with "ff01" */
	/* GREASE signature algorithms are ignored too. */
	spec_hello();
	SET(sigalgs, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x9a9a);
	check_ja4("t13d1516h2_8daaf6152771_e5627efa2ab1");

	/* QUIC and DTLS markers; anything else is refused. */
	spec_hello();
	CHECK_ERR(tg_ja4(&ch, 'q', out), TG_OK);
	CHECK_MEM(out, strlen(out), "q13d1516h2_8daaf6152771_e5627efa2ab1");
	CHECK_ERR(tg_ja4(&ch, 'd', out), TG_OK);
	CHECK(out[0] == 'd');
	CHECK_ERR(tg_ja4(&ch, 'x', out), TG_ERR_ARG);
	CHECK_INT(out[0], '\0');
	CHECK_ERR(tg_ja4_raw(&ch, 'T', raw, sizeof(raw)), TG_ERR_ARG);
	CHECK_INT(raw[0], '\0');
}

static void test_versions(void)
{
	static const struct {
		uint16_t v;
		const char *code;
	} codes[] = {
		{ 0x0304, "13" }, { 0x0303, "12" }, { 0x0302, "11" }, { 0x0301, "10" },
		{ 0x0300, "s3" }, { 0x0200, "s2" }, { 0x0002, "s2" }, { 0x0100, "s1" },
		{ 0xfeff, "d1" }, { 0xfefd, "d2" }, { 0xfefc, "d3" }, { 0x7f1c, "00" },
		{ 0x0305, "00" }, { 0x0000, "00" },
	};
	char out[TG_JA4_LEN + 1];
	size_t i;

	/* Without supported_versions: legacy_version decides. */
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		spec_hello();
		ch.n_versions = 0;
		ch.has_versions = false;
		ch.legacy_version = codes[i].v;
		CHECK_ERR(tg_ja4(&ch, 't', out), TG_OK);
		CHECK_MEM(out + 1, 2, codes[i].code);
	}
	/* The highest non-GREASE supported version wins, wherever it is in the list. */
	spec_hello();
	ch.legacy_version = 0x0301;
	SET(versions, 0x0302, 0x0303, 0xfafa, 0x0301);
	CHECK_ERR(tg_ja4(&ch, 't', out), TG_OK);
	CHECK_MEM(out + 1, 2, "12");
	/* Only GREASE in supported_versions: fall back to legacy_version. */
	SET(versions, 0x0a0a);
	CHECK_ERR(tg_ja4(&ch, 't', out), TG_OK);
	CHECK_MEM(out + 1, 2, "10");
	/* A TLS 1.3 draft version above 0x0304 is unknown. */
	SET(versions, 0x7f17, 0x0304);
	CHECK_ERR(tg_ja4(&ch, 't', out), TG_OK);
	CHECK_MEM(out + 1, 2, "00");
}

static void test_alpn_rule(void)
{
	spec_hello();
	check_alpn("h2", "h2");
	check_alpn("http/1.1", "h1");
	check_alpn("h3", "h3");
	check_alpn("x", "xx"); /* one character is both first and last */
	check_alpn("H2", "H2"); /* case is kept */
	check_alpn(NULL, "00");
	check_alpn("", "00");
	/*
	 * A first byte outside ASCII gives "99", as the reference implementation and its published
	 * outputs do (the golden capture tls-non-ascii-alpn.pcapng starts its ALPN with 0xba 0xad).
	 */
	check_alpn("\xab", "99");
	check_alpn("\xab\xcd", "99");
	check_alpn("\xba\xad", "99");
	/* Other non-alphanumeric names: the specification's hex rule, first/last hex digit. */
	check_alpn("\x30\xab", "3b");
	check_alpn("\x30\x31\xab\xcd", "3d");
	check_alpn("\x30\xab\xcd\x31", "01");
	check_alpn("/h2", "22");
	check_alpn("h2/", "6f");
	/* Only the first protocol counts. */
	set_alpn("\xff");
	ch.alpn[1].p = (const uint8_t *)"h2";
	ch.alpn[1].len = 2;
	ch.n_alpn = 2;
	check_ja4("t13d151699_8daaf6152771_e5627efa2ab1");
}

static void test_counts_and_empty_lists(void)
{
	char out[TG_JA4_LEN + 1];
	size_t i;

	/* Counts cap at 99; GREASE is never counted. */
	spec_hello();
	for (i = 0; i < 120; i++)
		ch.ciphers[i] = (uint16_t)(0x0100 + i);
	ch.ciphers[5] = 0x4a4a;
	ch.n_ciphers = 120;
	for (i = 0; i < 100; i++)
		ch.exts[i] = (uint16_t)(0x2000 + i);
	ch.n_exts = 100;
	CHECK_ERR(tg_ja4(&ch, 't', out), TG_OK);
	CHECK_MEM(out, 10, "t13i9999h2"); /* no 0x0000 among the extensions now */
	spec_hello();
	SET(ciphers, 0x0a0a, 0x1a1a, 0x1301);
	SET(exts, 0x0000, 0x2a2a, 0x0010, 0x3a3a, 0x000d);
	check_ja4("t13d0103h2_0f2cb44170f4_2101302830fe");
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, sizeof(raw)), TG_OK);
	CHECK_MEM(raw, strlen(raw), "t13d0103h2_1301_000d_0403,0804,0401,0503,0805,0501,0806,0601");

	/* No ciphers, no extensions: twelve zeros each, not the hash of nothing. */
	memset(&ch, 0, sizeof(ch));
	ch.legacy_version = 0x0303;
	check_ja4("t12i000000_000000000000_000000000000");
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, sizeof(raw)), TG_OK);
	CHECK_MEM(raw, strlen(raw), "t12i000000__");
	/* Only SNI and ALPN: counted in a, absent from c. */
	SET(exts, 0x0000, 0x0010);
	SET(ciphers, 0x1301);
	set_alpn("h2");
	check_ja4("t12d0102h2_0f2cb44170f4_000000000000");
	CHECK_ERR(tg_ja4_o(&ch, 't', out), TG_OK);
	CHECK_MEM(out + 24, 12, "a2cf1a00988d"); /* original order keeps 0000 and 0010 */
}

/* The raw buffer: exactly the length plus NUL fits, one byte less is CAP, and the maximum. */
static void test_raw_buffer(void)
{
	size_t need, i;

	spec_hello();
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, sizeof(raw)), TG_OK);
	need = strlen(raw) + 1;
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, need), TG_OK);
	CHECK_INT(strlen(raw), need - 1);
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, need - 1), TG_ERR_CAP);
	CHECK_INT(raw[0], '\0');
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, 0), TG_ERR_CAP);

	/* Every list at its cap: the raw form is exactly TG_JA4_RAW_MAX characters. */
	for (i = 0; i < TG_CAP_CH_CIPHERS; i++)
		ch.ciphers[i] = (uint16_t)(0x0100 + i);
	ch.n_ciphers = TG_CAP_CH_CIPHERS;
	for (i = 0; i < TG_CAP_CH_EXTENSIONS; i++)
		ch.exts[i] = (uint16_t)(0x1000 + i);
	ch.n_exts = TG_CAP_CH_EXTENSIONS;
	for (i = 0; i < TG_CAP_CH_SIGALGS; i++)
		ch.sigalgs[i] = (uint16_t)(0x0400 + i);
	ch.n_sigalgs = TG_CAP_CH_SIGALGS;
	CHECK_ERR(tg_ja4_raw(&ch, 't', raw, sizeof(raw)), TG_OK);
	CHECK_INT(strlen(raw), TG_JA4_RAW_MAX);
	CHECK_ERR(tg_ja4_ro(&ch, 't', raw, sizeof(raw)), TG_OK);
	CHECK_INT(strlen(raw), TG_JA4_RAW_MAX);
}

/* SHA-256 of a raw part, truncated as JA4 does, for checking hashed against raw. */
static void hash12(const char *p, size_t n, char out[13])
{
	static const char hx[] = "0123456789abcdef";
	uint8_t md[32];
	size_t i;

	if (tg_sha256((const uint8_t *)p, n, md) != 0)
		memset(md, 0, sizeof(md));
	for (i = 0; i < 6; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[12] = '\0';
}

static void test_captures(void)
{
	/* Cross-checked with an independent computation from tshark's dissection. */
	static const struct {
		const char *file, *ja4;
	} caps[] = {
		{ "chromium.bin", "t13d1517h2_8daaf6152771_cb7bf5808d99" },
		{ "derived_chromium_rec1.bin", "t13d1517h2_8daaf6152771_cb7bf5808d99" },
		{ "curl_h2.bin", "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6" },
		{ "derived_curl_h2_sni.bin", "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6" },
		{ "openssl_s_client.bin", "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4" },
		{ "openssl_tls12.bin", "t12d280700_d943125447b4_e7e480e5a997" },
		{ "openssl_resume_psk.bin", "t13d311100_e8f1e7e78f70_dbd39dd1d406" },
		{ "python_ssl.bin", "t13d1812h2_85036bcba153_d41ae481755e" },
		{ "node_tls.bin", "t13d5911h2_a33745022dd6_1f22a2ca17c4" },
		{ "derived_node_tls_rec7.bin", "t13d5911h2_a33745022dd6_1f22a2ca17c4" },
	};
	char out[TG_JA4_LEN + 1], h[13];
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		const char *b, *c;

		if (!tb_load_checked(&cap_buf, caps[i].file))
			continue;
		CHECK_ERR(tg_tls_ch_parse(&ch, cap_buf.b, cap_buf.n, scratch), TG_OK);
		CHECK_ERR(tg_ja4(&ch, 't', out), TG_OK);
		CHECK_MEM(out, strlen(out), caps[i].ja4);
		/* The hashed parts are the hashes of the raw parts. */
		CHECK_ERR(tg_ja4_raw(&ch, 't', raw, sizeof(raw)), TG_OK);
		CHECK(memcmp(raw, out, 11) == 0);
		b = raw + 11;
		c = strchr(b, '_');
		if (c == NULL) {
			CHECK(c != NULL);
			continue;
		}
		hash12(b, (size_t)(c - b), h);
		CHECK_MEM(out + 11, 12, h);
		hash12(c + 1, strlen(c + 1), h);
		CHECK_MEM(out + 24, 12, h);
	}
}

/* The memo gives what tg_ja4() gives: on captures, across collisions, for over-long parts. */
static void test_memo(void)
{
	static const char *const files[] = { "chromium.bin",   "curl_h2.bin",
					     "node_tls.bin",   "openssl_s_client.bin",
					     "python_ssl.bin", "openssl_tls12.bin" };
	struct tg_ja4_memo *m = tg_ja4_memo_new();
	char want[TG_JA4_LEN + 1], got[TG_JA4_LEN + 1];
	uint64_t hits, misses;
	size_t i, round, bad = 0;

	if (m == NULL) {
		CHECK(m != NULL);
		return;
	}
	for (round = 0; round < 2; round++) {
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			if (!tb_load_checked(&cap_buf, files[i]))
				continue;
			CHECK_ERR(tg_tls_ch_parse(&ch, cap_buf.b, cap_buf.n, scratch), TG_OK);
			CHECK_ERR(tg_ja4(&ch, 't', want), TG_OK);
			CHECK_ERR(tg_ja4_memo_get(m, &ch, 't', got), TG_OK);
			CHECK_MEM(got, strlen(got), want);
		}
		tg_ja4_memo_stats(m, &hits, &misses);
		/*
		 * 12 parts, 10 distinct (curl and openssl s_client share their ciphers, node and
		 * openssl s_client their extensions): round one hashes 10, round two none.
		 */
		CHECK_INT(misses, 10);
		CHECK_INT(hits, round == 0 ? 2 : 14);
	}
	/* 300 distinct hellos cycling through 64 slots twice: every answer still exact. */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 300; i++) {
			spec_hello();
			ch.ciphers[1] = (uint16_t)(0x0100 + i);
			ch.sigalgs[0] = (uint16_t)(0x0100 + i % 7);
			if (tg_ja4(&ch, 'q', want) != TG_OK ||
			    tg_ja4_memo_get(m, &ch, 'q', got) != TG_OK || strcmp(want, got) != 0)
				bad++;
		}
	}
	CHECK_INT(bad, 0);
	/* A part longer than the memo's text cap is hashed every time, never stored. */
	spec_hello();
	for (i = 0; i <= TG_CAP_JA4_MEMO_VALUES; i++)
		ch.ciphers[i] = (uint16_t)(0x0100 + i);
	ch.n_ciphers = TG_CAP_JA4_MEMO_VALUES + 1;
	tg_ja4_memo_stats(m, &hits, &misses);
	CHECK_ERR(tg_ja4_memo_get(m, &ch, 't', got), TG_OK);
	CHECK_ERR(tg_ja4_memo_get(m, &ch, 't', got), TG_OK);
	CHECK_ERR(tg_ja4(&ch, 't', want), TG_OK);
	CHECK_MEM(got, strlen(got), want);
	{
		uint64_t h2, m2;

		tg_ja4_memo_stats(m, &h2, &m2);
		CHECK_INT(h2 + m2 - hits - misses, 2); /* only the c part went through the memo */
	}
	CHECK_ERR(tg_ja4_memo_get(m, &ch, 'x', got), TG_ERR_ARG);
	tg_ja4_memo_free(m);
}

int main(void)
{
	test_spec_example();
	test_versions();
	test_alpn_rule();
	test_counts_and_empty_lists();
	test_raw_buffer();
	test_captures();
	test_memo();
	return tg_test_done();
}
