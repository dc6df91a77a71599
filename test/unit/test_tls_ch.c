/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_tls_ch.c - the ClientHello parser on real captures (test/data/clienthello), the same
 * bytes cut into TCP segments and re-fragmented into TLS records of every size, every truncation,
 * and hand-built adversarial hellos with the exact error each must give.
 */
#include "tlsgate/tls_ch.h"
#include "tg_test.h"
#include "tls_ch_util.h"

static uint8_t scratch[TG_CAP_CH_BYTES];
static uint8_t scratch2[TG_CAP_CH_BYTES];
static struct tb cap_buf, var_buf, ext_buf, msg_buf;
static struct tg_ch ch, ref;

/* What each capture must show; versions are the supported_versions list in wire order. */
static const struct capture {
	const char *file;
	const char *sni;
	const char *alpn0, *alpn1; /* NULL: no ALPN / no second protocol */
	uint16_t versions[4];
	size_t n_versions;
	size_t n_ciphers, n_exts;
	bool ech, psk;
} captures[] = {
	{ "chromium.bin",
	  "chromium.example",
	  "h2",
	  "http/1.1",
	  { 0xcaca, 0x0304, 0x0303 },
	  3,
	  16,
	  19,
	  true,
	  false },
	{ "curl_h2.bin",
	  "curl.example",
	  "h2",
	  "http/1.1",
	  { 0x0304, 0x0303, 0x0302, 0x0301 },
	  4,
	  31,
	  12,
	  false,
	  false },
	{ "openssl_s_client.bin",
	  "openssl.example",
	  "h2",
	  "http/1.1",
	  { 0x0304, 0x0303, 0x0302, 0x0301 },
	  4,
	  31,
	  11,
	  false,
	  false },
	{ "openssl_tls12.bin", "tls12.openssl.example", NULL, NULL, { 0 }, 0, 28, 7, false, false },
	{ "openssl_resume_psk.bin",
	  "resume.example",
	  NULL,
	  NULL,
	  { 0x0304, 0x0303, 0x0302, 0x0301 },
	  4,
	  31,
	  11,
	  false,
	  true },
	{ "python_ssl.bin",
	  "python.example",
	  "h2",
	  "http/1.1",
	  { 0x0304, 0x0303 },
	  2,
	  18,
	  12,
	  false,
	  false },
	{ "node_tls.bin",
	  "node.example",
	  "h2",
	  "http/1.1",
	  { 0x0304, 0x0303 },
	  2,
	  59,
	  11,
	  false,
	  false },
};

#define N_CAPTURES (sizeof(captures) / sizeof(captures[0]))

/* The handshake message of a single-record capture. */
static struct tg_span capture_msg(const struct tb *t)
{
	struct tg_span s = { t->b + TG_TLS_RECORD_HEADER, t->n - TG_TLS_RECORD_HEADER };

	return s;
}

static void test_captures(void)
{
	size_t i, k;

	for (i = 0; i < N_CAPTURES; i++) {
		const struct capture *c = &captures[i];

		if (!tb_load_checked(&cap_buf, c->file))
			continue;
		CHECK_ERR(tg_tls_ch_parse(&ch, cap_buf.b, cap_buf.n, scratch), TG_OK);
		CHECK_INT(ch.consumed, cap_buf.n);
		CHECK_INT(ch.n_records, 1);
		CHECK_INT(ch.record_version, 0x0301);
		CHECK_INT(ch.legacy_version, 0x0303);
		CHECK_INT(ch.random.len, 32);
		/* One record: parsed in place, the message is the record's fragment. */
		CHECK(ch.msg.p == cap_buf.b + TG_TLS_RECORD_HEADER);
		CHECK(ch.has_sni);
		CHECK_SPAN(ch.sni, c->sni);
		CHECK_INT(ch.has_alpn, c->alpn0 != NULL);
		if (c->alpn0 != NULL) {
			CHECK_INT(ch.n_alpn, 2);
			CHECK_SPAN(ch.alpn[0], c->alpn0);
			CHECK_SPAN(ch.alpn[1], c->alpn1);
		}
		CHECK_INT(ch.has_versions, c->n_versions > 0);
		CHECK_INT(ch.n_versions, c->n_versions);
		for (k = 0; k < c->n_versions && k < ch.n_versions; k++)
			CHECK_INT(ch.versions[k], c->versions[k]);
		CHECK_INT(ch.n_ciphers, c->n_ciphers);
		CHECK_INT(ch.n_exts, c->n_exts);
		CHECK(ch.has_sigalgs && ch.n_sigalgs > 0);
		CHECK(ch.has_groups && ch.n_groups > 0);
		CHECK_INT(ch.has_ech, c->ech);
		CHECK_INT(ch.has_psk, c->psk);
		if (c->psk)
			CHECK_INT(ch.exts[ch.n_exts - 1], TG_TLS_EXT_PRE_SHARED_KEY);
		/* Bytes after the ClientHello's record (early data, garbage) are not looked at. */
		memcpy(var_buf.b, cap_buf.b, cap_buf.n);
		memcpy(var_buf.b + cap_buf.n, "\x17\x03\x03\x00\x01X\xff\xff", 8);
		CHECK_ERR(tg_tls_ch_parse(&ref, var_buf.b, cap_buf.n + 8, scratch2), TG_OK);
		CHECK_INT(ref.consumed, cap_buf.n);
		CHECK(ch_same(&ch, &ref));
		/* The same message through the QUIC entry point. */
		CHECK_ERR(tg_tls_ch_parse_msg(&ref, ch.msg.p, ch.msg.len), TG_OK);
		CHECK(ch_same(&ch, &ref));
		CHECK_INT(ref.consumed, ch.msg.len);
		CHECK_INT(ref.record_version, 0);
	}
}

/* Chromium's hello: GREASE everywhere, post-quantum key share, a GREASE ECH (type outer). */
static void test_chromium_details(void)
{
	size_t i, grease = 0;

	if (!tb_load_checked(&cap_buf, "chromium.bin"))
		return;
	CHECK_ERR(tg_tls_ch_parse(&ch, cap_buf.b, cap_buf.n, scratch), TG_OK);
	CHECK(cap_buf.n > 1460); /* more than one MSS */
	CHECK(tg_tls_is_grease(ch.ciphers[0]));
	CHECK(tg_tls_is_grease(ch.exts[0]));
	CHECK(tg_tls_is_grease(ch.exts[ch.n_exts - 1]));
	CHECK(ch.exts[0] != ch.exts[ch.n_exts - 1]);
	CHECK(tg_tls_is_grease(ch.groups[0]));
	CHECK_INT(ch.groups[1], 0x11ec); /* X25519MLKEM768 */
	for (i = 0; i < ch.n_exts; i++)
		grease += tg_tls_is_grease(ch.exts[i]);
	CHECK_INT(grease, 2);
	CHECK_INT(ch.ech_type, TG_TLS_ECH_OUTER);
	CHECK_INT(ch.ech_kdf_id, 0x0001);
	CHECK_INT(ch.ech_enc.len, 32);
	CHECK(ch.ech_payload.len > 0);
}

/* Derived files: the same message in other records must give the very same ClientHello. */
static void test_derived_files(void)
{
	static const struct {
		const char *derived, *source;
		size_t records;
	} pairs[] = {
		{ "derived_chromium_rec1.bin", "chromium.bin", 1983 },
		{ "derived_curl_h2_sni.bin", "curl_h2.bin", 2 },
		{ "derived_node_tls_rec7.bin", "node_tls.bin", 55 },
	};
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (!tb_load_checked(&cap_buf, pairs[i].source) ||
		    !tb_load_checked(&var_buf, pairs[i].derived))
			continue;
		CHECK_ERR(tg_tls_ch_parse(&ref, cap_buf.b, cap_buf.n, scratch), TG_OK);
		CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch2), TG_OK);
		CHECK_INT(ch.n_records, pairs[i].records);
		CHECK_INT(ch.consumed, var_buf.n);
		CHECK(ch.msg.p == scratch2); /* joined in the scratch buffer */
		CHECK(ch.sni.p >= scratch2 && ch.sni.p + ch.sni.len <= scratch2 + TG_CAP_CH_BYTES);
		CHECK(ch_same(&ch, &ref));
	}
}

/* Every capture re-fragmented into records of every size; and split at every SNI byte. */
static void test_refragment(void)
{
	size_t i, frag, cut, bad = 0, runs = 0;

	for (i = 0; i < N_CAPTURES; i++) {
		struct tg_span msg;

		if (!tb_load_checked(&cap_buf, captures[i].file))
			continue;
		msg = capture_msg(&cap_buf);
		CHECK_ERR(tg_tls_ch_parse(&ref, cap_buf.b, cap_buf.n, scratch), TG_OK);
		for (frag = 1; frag <= msg.len; frag++) {
			var_buf.n = 0;
			tb_records(&var_buf, msg.p, msg.len, frag);
			runs++;
			if (tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch2) != TG_OK ||
			    !ch_same(&ch, &ref) || ch.consumed != var_buf.n ||
			    ch.n_records != (msg.len + frag - 1) / frag) {
				bad++;
				fprintf(stderr, "%s: %zu-byte records differ\n", captures[i].file,
					frag);
			}
		}
		/* Two records, the cut at each byte of the host name and around it. */
		for (cut = (size_t)(ref.sni.p - msg.p) - 6;
		     cut <= (size_t)(ref.sni.p - msg.p) + ref.sni.len; cut++) {
			var_buf.n = 0;
			tb_records(&var_buf, msg.p, cut, cut);
			tb_records(&var_buf, msg.p + cut, msg.len - cut, msg.len);
			runs++;
			if (tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch2) != TG_OK ||
			    !ch_same(&ch, &ref) || ch.n_records != 2) {
				bad++;
				fprintf(stderr, "%s: SNI cut at %zu differs\n", captures[i].file,
					cut);
			}
		}
	}
	CHECK(runs > 4000);
	CHECK_INT(bad, 0);
}

/*
 * Every prefix is NEED_MORE with a need that is a true lower bound: more than the prefix, no
 * more than what the full stream consumed. Then MSS-sized segments arriving one by one.
 */
static void check_prefixes(const char *name, const struct tb *t)
{
	size_t len, bad = 0;

	CHECK_ERR(tg_tls_ch_parse(&ref, t->b, t->n, scratch), TG_OK);
	for (len = 0; len < t->n; len++) {
		enum tg_err err = tg_tls_ch_parse(&ch, t->b, len, scratch2);

		if (err != TG_NEED_MORE || ch.need <= len || ch.need > ref.consumed) {
			if (bad++ < 3)
				fprintf(stderr, "%s: prefix %zu: %s need %zu\n", name, len,
					tg_err_name(err), ch.need);
		}
	}
	CHECK_INT(bad, 0);
}

static void test_prefixes_and_segments(void)
{
	static const char *const derived[] = { "derived_chromium_rec1.bin",
					       "derived_curl_h2_sni.bin",
					       "derived_node_tls_rec7.bin" };
	static const size_t mss[] = { 1, 3, 536, 1220, 1448 };
	size_t i, m;

	for (i = 0; i < N_CAPTURES; i++)
		if (tb_load_checked(&cap_buf, captures[i].file))
			check_prefixes(captures[i].file, &cap_buf);
	for (i = 0; i < sizeof(derived) / sizeof(derived[0]); i++)
		if (tb_load_checked(&cap_buf, derived[i]))
			check_prefixes(derived[i], &cap_buf);

	/* Chromium's hello in segments: NEED_MORE until the last one, then the same result. */
	if (!tb_load_checked(&cap_buf, "chromium.bin"))
		return;
	CHECK_ERR(tg_tls_ch_parse(&ref, cap_buf.b, cap_buf.n, scratch), TG_OK);
	for (m = 0; m < sizeof(mss) / sizeof(mss[0]); m++) {
		size_t have = 0, calls = 0;
		enum tg_err err = TG_NEED_MORE;

		while (err == TG_NEED_MORE && have < cap_buf.n) {
			have += mss[m];
			if (have > cap_buf.n)
				have = cap_buf.n;
			err = tg_tls_ch_parse(&ch, cap_buf.b, have, scratch2);
			calls++;
		}
		CHECK_ERR(err, TG_OK);
		CHECK_INT(have, cap_buf.n);
		CHECK_INT(calls, (cap_buf.n + mss[m] - 1) / mss[m]);
		CHECK(ch_same(&ch, &ref));
	}
}

/* --- hand-built hellos --- */

/* Parse a hello with extension block @e (NULL: none) in one record. */
static enum tg_err parse_exts(const struct tb *e)
{
	msg_buf.n = 0;
	tb_hello(&msg_buf, NULL, 3, e);
	var_buf.n = 0;
	tb_records(&var_buf, msg_buf.b, msg_buf.n, msg_buf.n);
	return tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch);
}

static enum tg_err parse_one_ext(unsigned type, const void *body, size_t n)
{
	ext_buf.n = 0;
	tb_ext(&ext_buf, type, body, n);
	return parse_exts(&ext_buf);
}

#define ONE_EXT(type, lit) parse_one_ext((type), (lit), sizeof(lit) - 1)

static void test_minimal_hellos(void)
{
	/* No extension block at all (pre-RFC 3546 hello). */
	CHECK_ERR(parse_exts(NULL), TG_OK);
	CHECK(!ch.has_exts_block);
	CHECK_INT(ch.n_exts, 0);
	CHECK_INT(ch.n_ciphers, 3);
	CHECK_INT(ch.ciphers[2], 0x1303);
	CHECK_INT(ch.session_id.len, 32);
	CHECK_INT(ch.compression.len, 1);
	CHECK(!ch.has_sni && !ch.has_alpn && !ch.has_versions && !ch.has_ech);
	/* An empty extension block. */
	ext_buf.n = 0;
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);
	CHECK(ch.has_exts_block);
	CHECK_INT(ch.n_exts, 0);
	/* Unknown extensions are recorded by type, bodies ignored, empty bodies fine. */
	ext_buf.n = 0;
	tb_ext(&ext_buf, 0x1234, "abc", 3);
	tb_ext(&ext_buf, 0xffff, "", 0);
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);
	CHECK_INT(ch.n_exts, 2);
	CHECK_INT(ch.exts[0], 0x1234);
	CHECK_INT(ch.exts[1], 0xffff);
}

static void test_record_errors(void)
{
	static const uint8_t sslv2[] = { 0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00 };
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };

	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, scratch),
		  TG_ERR_TLS_NOT_HANDSHAKE);
	CHECK_ERR(tg_tls_ch_parse(&ch, sslv2, sizeof(sslv2), scratch), TG_ERR_TLS_NOT_HANDSHAKE);
	CHECK_ERR(tg_tls_ch_parse(&ch, alert, sizeof(alert), scratch), TG_ERR_TLS_NOT_HANDSHAKE);
	/* Decided from the first byte alone. */
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x17", 1, scratch),
		  TG_ERR_TLS_NOT_HANDSHAKE);
	/* Nothing yet: NEED_MORE, at least a record header and a handshake header. */
	CHECK_ERR(tg_tls_ch_parse(&ch, NULL, 0, scratch), TG_NEED_MORE);
	CHECK_INT(ch.need, 9);
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16", 1, scratch), TG_NEED_MORE);
	/* Record version major must be 3, decided from the second byte. */
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x02", 2, scratch), TG_ERR_TLS_RECORD);
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x03\x01\x00", 4, scratch),
		  TG_NEED_MORE);
	/* Record lengths: 0, 2^14+2048+1 are wrong; 2^14+2048 is legal but beyond the stream cap. */
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x03\x01\x00\x00", 5, scratch),
		  TG_ERR_TLS_RECORD);
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x03\x01\x48\x01", 5, scratch),
		  TG_ERR_TLS_RECORD);
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x03\x01\x48\x00", 5, scratch),
		  TG_ERR_CAP);
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x03\x01\x01\x00", 5, scratch),
		  TG_NEED_MORE);
	CHECK_INT(ch.need, 5 + 256);
	/* First handshake message not a ClientHello: decided from its first byte. */
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x03\x03\x00\x40\x02", 6, scratch),
		  TG_ERR_TLS_NOT_CLIENT_HELLO);
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x03\x03\x00\x01\x00", 6, scratch),
		  TG_ERR_TLS_NOT_CLIENT_HELLO);
}

/* A real hello interrupted, overshooting, or announcing too much. */
static void test_record_sequence_errors(void)
{
	struct tg_span msg;
	size_t half;

	if (!tb_load_checked(&cap_buf, "curl_h2.bin"))
		return;
	msg = capture_msg(&cap_buf);
	half = msg.len / 2;

	/* A non-handshake record before the message is complete. */
	var_buf.n = 0;
	tb_records(&var_buf, msg.p, half, half);
	tb_mem(&var_buf, "\x14\x03\x03\x00\x01\x01", 6); /* change_cipher_spec */
	tb_records(&var_buf, msg.p + half, msg.len - half, msg.len);
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch), TG_ERR_TLS_RECORD);
	/* ... decided as soon as that record's first byte is there. */
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, TG_TLS_RECORD_HEADER + half + 1, scratch),
		  TG_ERR_TLS_RECORD);
	/* A second record with a bad version or a zero length. */
	var_buf.n = 0;
	tb_records(&var_buf, msg.p, half, half);
	tb_mem(&var_buf, "\x16\x04\x01\x00\x01\x00", 6);
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch), TG_ERR_TLS_RECORD);
	var_buf.n = 0;
	tb_records(&var_buf, msg.p, half, half);
	tb_mem(&var_buf, "\x16\x03\x01\x00\x00", 5);
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch), TG_ERR_TLS_RECORD);

	/* The last record carries bytes past the message: decided from its header. */
	var_buf.n = 0;
	tb_records(&var_buf, msg.p, half, half);
	tb_u8(&var_buf, 22);
	tb_u16(&var_buf, 0x0303);
	tb_u16(&var_buf, (unsigned)(msg.len - half + 1));
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch), TG_ERR_TRAILING);
	/* One record longer than its message. */
	var_buf.n = 0;
	tb_u8(&var_buf, 22);
	tb_u16(&var_buf, 0x0301);
	tb_u16(&var_buf, (unsigned)(msg.len + 4));
	tb_mem(&var_buf, msg.p, msg.len);
	tb_mem(&var_buf, "\x01\x00\x00\x00", 4); /* a second (empty) ClientHello */
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch), TG_ERR_TRAILING);
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, 10, scratch), TG_ERR_TRAILING);

	/* The handshake length lies: shorter than its record leaves bytes after the message... */
	var_buf.n = 0;
	tb_records(&var_buf, msg.p, msg.len, msg.len);
	var_buf.b[8]--;
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch), TG_ERR_TRAILING);
	/* ... longer, with a record to match, waits for the record's missing byte. */
	var_buf.b[8] += 2;
	var_buf.b[4]++;
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch), TG_NEED_MORE);
	CHECK_INT(ch.need, var_buf.n + 1);
}

/* Size caps, and the bound on what NEED_MORE may wait for. */
static void test_caps(void)
{
	size_t i, body;

	/* The message cap: 16384 bytes with its header; one more is CAP from the header alone. */
	CHECK_ERR(tg_tls_ch_parse(&ch, (const uint8_t *)"\x16\x03\x01\x40\x00\x01\x00\x3f\xfd", 9,
				  scratch),
		  TG_ERR_CAP);
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, (const uint8_t *)"\x01\x00\x3f\xfd", 4), TG_ERR_CAP);
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, (const uint8_t *)"\x01\x00\x3f\xfc", 4), TG_NEED_MORE);
	CHECK_INT(ch.need, 16384);

	/*
	 * An attacker announcing a 4000-byte message in 1-byte records: each record costs 6
	 * stream bytes, so the answer turns to CAP before the stream cap is reached, and never
	 * is NEED_MORE past it.
	 */
	memset(msg_buf.b, 0, 4000);
	memcpy(msg_buf.b, "\x01\x00\x0f\x9c", 4);
	var_buf.n = 0;
	tb_records(&var_buf, msg_buf.b, 4000, 1);
	for (i = 0; i <= var_buf.n; i++)
		if (tg_tls_ch_parse(&ch, var_buf.b, i, scratch) != TG_NEED_MORE)
			break;
	CHECK(i <= TG_CAP_CH_STREAM);
	CHECK(i > TG_CAP_CH_STREAM - 4000);
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, i, scratch), TG_ERR_CAP);
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, var_buf.n, scratch), TG_ERR_CAP);

	/* The largest single-record hello: 16379-byte message, 16384 stream bytes. Grown with a
	 * padding extension. */
	body = 16379 - 4 - (2 + 32 + 1 + 32 + 2 + 6 + 2) - 2 - 4;
	ext_buf.n = 0;
	tb_u16(&ext_buf, 0x0015);
	tb_u16(&ext_buf, (unsigned)body);
	for (i = 0; i < body; i++)
		tb_u8(&ext_buf, 0);
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);
	CHECK_INT(msg_buf.n, 16379);
	CHECK_INT(ch.consumed, TG_CAP_CH_STREAM);
	/* One byte more does not fit the stream cap: refused from the record header on. */
	tb_u8(&ext_buf, 0);
	ext_buf.b[3]++;
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_CAP);
	CHECK_ERR(tg_tls_ch_parse(&ch, var_buf.b, 9, scratch), TG_ERR_CAP);
	/* Through the message entry point (no records) it still fits. */
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, msg_buf.b, msg_buf.n), TG_OK);

	/* List caps. */
	{
		static uint16_t many[300];

		for (i = 0; i < 300; i++)
			many[i] = (uint16_t)(0x0100 + i);
		msg_buf.n = 0;
		tb_hello(&msg_buf, many, TG_CAP_CH_CIPHERS, NULL);
		CHECK_ERR(tg_tls_ch_parse_msg(&ch, msg_buf.b, msg_buf.n), TG_OK);
		CHECK_INT(ch.n_ciphers, TG_CAP_CH_CIPHERS);
		msg_buf.n = 0;
		tb_hello(&msg_buf, many, TG_CAP_CH_CIPHERS + 1, NULL);
		CHECK_ERR(tg_tls_ch_parse_msg(&ch, msg_buf.b, msg_buf.n), TG_ERR_CAP);
	}
	ext_buf.n = 0;
	for (i = 0; i < TG_CAP_CH_EXTENSIONS; i++)
		tb_ext(&ext_buf, (unsigned)(0x1000 + i), "", 0);
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);
	CHECK_INT(ch.n_exts, TG_CAP_CH_EXTENSIONS);
	tb_ext(&ext_buf, 0x2000, "", 0);
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_CAP);
}

/* A u16 list extension of @n entries with an 8- or 16-bit length. */
static enum tg_err list_ext(unsigned type, bool len8, size_t n)
{
	size_t i, e, v;

	ext_buf.n = 0;
	tb_u16(&ext_buf, type);
	e = tb_open(&ext_buf, 2);
	v = tb_open(&ext_buf, len8 ? 1 : 2);
	for (i = 0; i < n; i++)
		tb_u16(&ext_buf, (unsigned)(0x0301 + i));
	tb_close(&ext_buf, v, len8 ? 1 : 2);
	tb_close(&ext_buf, e, 2);
	return parse_exts(&ext_buf);
}

static void test_list_caps(void)
{
	CHECK_ERR(list_ext(TG_TLS_EXT_SUPPORTED_VERSIONS, true, TG_CAP_CH_VERSIONS), TG_OK);
	CHECK_INT(ch.n_versions, TG_CAP_CH_VERSIONS);
	CHECK_ERR(list_ext(TG_TLS_EXT_SUPPORTED_VERSIONS, true, TG_CAP_CH_VERSIONS + 1),
		  TG_ERR_CAP);
	CHECK_ERR(list_ext(TG_TLS_EXT_SIGNATURE_ALGORITHMS, false, TG_CAP_CH_SIGALGS), TG_OK);
	CHECK_INT(ch.n_sigalgs, TG_CAP_CH_SIGALGS);
	CHECK_ERR(list_ext(TG_TLS_EXT_SIGNATURE_ALGORITHMS, false, TG_CAP_CH_SIGALGS + 1),
		  TG_ERR_CAP);
	CHECK_ERR(list_ext(TG_TLS_EXT_SUPPORTED_GROUPS, false, TG_CAP_CH_GROUPS), TG_OK);
	CHECK_INT(ch.n_groups, TG_CAP_CH_GROUPS);
	CHECK_ERR(list_ext(TG_TLS_EXT_SUPPORTED_GROUPS, false, TG_CAP_CH_GROUPS + 1), TG_ERR_CAP);
	/* Empty lists are malformed (<2..>). */
	CHECK_ERR(list_ext(TG_TLS_EXT_SUPPORTED_VERSIONS, true, 0), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(list_ext(TG_TLS_EXT_SIGNATURE_ALGORITHMS, false, 0), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(list_ext(TG_TLS_EXT_SUPPORTED_GROUPS, false, 0), TG_ERR_TLS_EXTENSION);
}

static void test_alpn(void)
{
	size_t i, e, l;

	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, "\x00\x0c\x02h2\x08http/1.1"), TG_OK);
	CHECK_INT(ch.n_alpn, 2);
	CHECK_SPAN(ch.alpn[0], "h2");
	CHECK_SPAN(ch.alpn[1], "http/1.1");
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, "\x00\x00"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, ""), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, "\x00\x03\x02h2\x00"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, "\x00\x01\x00"), TG_ERR_TLS_EXTENSION);
	/* A name's length runs past the list, the list's past the extension, trailing bytes. */
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, "\x00\x03\x03h2"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, "\x00\x04\x02h2"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, "\x00\x03\x02h2X"), TG_ERR_TLS_EXTENSION);
	/* Non-ASCII protocol names are kept as sent. */
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ALPN, "\x00\x03\x02\xba\xad"), TG_OK);
	CHECK_MEM(ch.alpn[0].p, ch.alpn[0].len, "\xba\xad");
	/* The cap. */
	ext_buf.n = 0;
	tb_u16(&ext_buf, TG_TLS_EXT_ALPN);
	e = tb_open(&ext_buf, 2);
	l = tb_open(&ext_buf, 2);
	for (i = 0; i < TG_CAP_CH_ALPN; i++)
		tb_mem(&ext_buf, "\x02h2", 3);
	tb_close(&ext_buf, l, 2);
	tb_close(&ext_buf, e, 2);
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);
	CHECK_INT(ch.n_alpn, TG_CAP_CH_ALPN);
	ext_buf.n = 0;
	tb_u16(&ext_buf, TG_TLS_EXT_ALPN);
	e = tb_open(&ext_buf, 2);
	l = tb_open(&ext_buf, 2);
	for (i = 0; i <= TG_CAP_CH_ALPN; i++)
		tb_mem(&ext_buf, "\x02h2", 3);
	tb_close(&ext_buf, l, 2);
	tb_close(&ext_buf, e, 2);
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_CAP);
}

static void test_sni(void)
{
	static char host[300];

	CHECK_ERR(ONE_EXT(0, "\x00\x0c\x00\x00\x09"
			     "a.example"),
		  TG_OK);
	CHECK(ch.has_sni);
	CHECK_SPAN(ch.sni, "a.example");
	/* Kept as sent: no lowercasing, trailing dot kept (normalizing is the caller's job). */
	CHECK_ERR(ONE_EXT(0, "\x00\x0b\x00\x00\x08"
			     "A.EXAMP."),
		  TG_OK);
	CHECK_SPAN(ch.sni, "A.EXAMP.");
	CHECK_ERR(ONE_EXT(0, ""), TG_ERR_TLS_SNI); /* empty body */
	CHECK_ERR(ONE_EXT(0, "\x00\x00"), TG_ERR_TLS_SNI); /* empty list */
	CHECK_ERR(ONE_EXT(0, "\x00\x03\x00\x00\x00"), TG_ERR_TLS_SNI); /* empty host */
	CHECK_ERR(ONE_EXT(0, "\x00\x04\x01\x00\x01x"), TG_ERR_TLS_SNI); /* not host_name */
	CHECK_ERR(ONE_EXT(0, "\x00\x06\x00\x00\x03"
			     "a\x00"
			     "b"),
		  TG_ERR_TLS_SNI); /* NUL inside */
	CHECK_ERR(ONE_EXT(0, "\x00\x05\x00\x00\x03"
			     "ab"),
		  TG_ERR_TLS_SNI); /* host too long */
	CHECK_ERR(ONE_EXT(0, "\x00\x05\x00\x00\x01"
			     "ab"),
		  TG_ERR_TLS_SNI); /* list trailing */
	CHECK_ERR(ONE_EXT(0, "\x00\x04\x00\x00\x01"
			     "ab"),
		  TG_ERR_TLS_SNI); /* ext trailing */
	CHECK_ERR(ONE_EXT(0, "\x00\x06\x00\x00\x01"
			     "a\x00\x00"),
		  TG_ERR_TLS_SNI);
	CHECK_ERR(ONE_EXT(0, "\x00\x08\x00\x00\x01"
			     "a\x00\x00\x01"
			     "b"),
		  TG_ERR_TLS_SNI); /* two */
	/* 255 bytes is the most a host_name can hold. */
	memset(host, 'a', 255);
	ext_buf.n = 0;
	tb_ext_sni(&ext_buf, host);
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);
	CHECK_INT(ch.sni.len, 255);
	host[255] = 'a';
	ext_buf.n = 0;
	tb_ext_sni(&ext_buf, host);
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_TLS_SNI);
}

static void test_ech(void)
{
	struct tb *e = &ext_buf;
	size_t at, v, i;

	/* Outer, built by hand: HPKE-SHA256, AES-128-GCM, config 0x42, 32-byte enc. */
	e->n = 0;
	tb_ext_sni(e, "public.example");
	tb_u16(e, TG_TLS_EXT_ECH);
	at = tb_open(e, 2);
	tb_u8(e, TG_TLS_ECH_OUTER);
	tb_u16(e, 0x0001);
	tb_u16(e, 0x0001);
	tb_u8(e, 0x42);
	v = tb_open(e, 2);
	for (i = 0; i < 32; i++)
		tb_u8(e, (unsigned)i);
	tb_close(e, v, 2);
	v = tb_open(e, 2);
	for (i = 0; i < 200; i++)
		tb_u8(e, 0xee);
	tb_close(e, v, 2);
	tb_close(e, at, 2);
	CHECK_ERR(parse_exts(e), TG_OK);
	CHECK(ch.has_ech);
	CHECK_INT(ch.ech_type, TG_TLS_ECH_OUTER);
	CHECK_INT(ch.ech_kdf_id, 1);
	CHECK_INT(ch.ech_aead_id, 1);
	CHECK_INT(ch.ech_config_id, 0x42);
	CHECK_INT(ch.ech_enc.len, 32);
	CHECK_INT(ch.ech_payload.len, 200);
	CHECK_SPAN(ch.sni, "public.example"); /* the outer SNI is the public name */
	/* After a HelloRetryRequest enc is empty. */
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ECH, "\x00\x00\x01\x00\x01\x07\x00\x00\x00\x01P"), TG_OK);
	CHECK_INT(ch.ech_enc.len, 0);
	CHECK_INT(ch.ech_config_id, 7);
	/* Inner: the type byte alone. */
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ECH, "\x01"), TG_OK);
	CHECK(ch.has_ech);
	CHECK_INT(ch.ech_type, TG_TLS_ECH_INNER);
	/* Malformed: no body, unknown type, inner with bytes, no payload, truncated, trailing. */
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ECH, ""), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ECH, "\x02"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ECH, "\x01\x00"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ECH, "\x00\x00\x01\x00\x01\x07\x00\x00\x00\x00"),
		  TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ECH, "\x00\x00\x01\x00\x01\x07\x00\x05"
					  "ab"),
		  TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_ECH, "\x00\x00\x01\x00\x01\x07\x00\x00\x00\x01PQ"),
		  TG_ERR_TLS_EXTENSION);
}

static void test_extension_framing(void)
{
	/* Duplicates, of known and unknown types alike. */
	ext_buf.n = 0;
	tb_ext_sni(&ext_buf, "a.example");
	tb_ext_sni(&ext_buf, "b.example");
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_TLS_DUP_EXTENSION);
	ext_buf.n = 0;
	tb_ext(&ext_buf, 0x4469, "", 0);
	tb_ext(&ext_buf, 0x0017, "", 0);
	tb_ext(&ext_buf, 0x4469, "x", 1);
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_TLS_DUP_EXTENSION);
	ext_buf.n = 0;
	tb_ext(&ext_buf, 0x0a0a, "", 0);
	tb_ext(&ext_buf, 0x0a0a, "", 0);
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_TLS_DUP_EXTENSION);
	/* Two different GREASE extensions are fine (Chromium sends that). */
	ext_buf.n = 0;
	tb_ext(&ext_buf, 0x0a0a, "", 0);
	tb_ext(&ext_buf, 0x1a1a, "\x00", 1);
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);

	/* An extension's length runs past the block; a header cut short. */
	ext_buf.n = 0;
	tb_mem(&ext_buf, "\x00\x17\x00\x05xx", 6);
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_TLS_EXTENSION);
	ext_buf.n = 0;
	tb_mem(&ext_buf, "\x00\x17\x00", 3);
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_TLS_EXTENSION);

	/* pre_shared_key must be last; early_data is empty in a ClientHello. */
	ext_buf.n = 0;
	tb_ext(&ext_buf, TG_TLS_EXT_EARLY_DATA, "", 0);
	tb_ext(&ext_buf, TG_TLS_EXT_PRE_SHARED_KEY, "\x00\x00", 2);
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);
	CHECK(ch.has_psk && ch.has_early_data);
	ext_buf.n = 0;
	tb_ext(&ext_buf, TG_TLS_EXT_PRE_SHARED_KEY, "\x00\x00", 2);
	tb_ext(&ext_buf, 0x0017, "", 0);
	CHECK_ERR(parse_exts(&ext_buf), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_EARLY_DATA, "\x00\x00\x40\x00"), TG_ERR_TLS_EXTENSION);

	/* Odd u16 lists, lengths that disagree with the extension. */
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_SUPPORTED_VERSIONS, "\x03\x03\x04\x03"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_SUPPORTED_VERSIONS, "\x04\x03\x04\x03"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_SUPPORTED_VERSIONS, "\x02\x03\x04\x03"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_SUPPORTED_VERSIONS, "\x02\x03\x04"), TG_OK);
	CHECK_INT(ch.versions[0], 0x0304);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_SIGNATURE_ALGORITHMS, "\x00\x03\x04\x03\x08"),
		  TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_SUPPORTED_GROUPS, "\x00\x04\x00\x1d"), TG_ERR_TLS_EXTENSION);
	CHECK_ERR(ONE_EXT(TG_TLS_EXT_SUPPORTED_GROUPS, ""), TG_ERR_TLS_EXTENSION);
}

/* Fixed-part lengths that lie (TG_ERR_LENGTH) and bytes after the extensions (TRAILING). */
static void test_body_lengths(void)
{
	static const uint8_t
		base[] = {
			0x01, 0x00, 0x00, 0x2b, /* handshake header, len 43 */
			0x03, 0x03, /* legacy_version */
			1,    2,    3,	  4,	5,  6,	7,  8,	9,  10, 11,
			12,   13,   14,	  15,	16, 17, 18, 19, 20, 21, 22,
			23,   24,   25,	  26,	27, 28, 29, 30, 31, 32, 0x00, /* session id */
			0x00, 0x02, 0x13, 0x01, /* ciphers */
			0x01, 0x00, /* compression */
			0x00, 0x00, /* empty extension block */
		};
	static uint8_t m[sizeof(base) + 2];

	_Static_assert(sizeof(base) == 4 + 0x2b, "header length");
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, base, sizeof(base)), TG_OK);
	CHECK_INT(ch.session_id.len, 0);

	memcpy(m, base, sizeof(base));
	m[38] = 33; /* session id over 32, and running into the ciphers */
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(base)), TG_ERR_LENGTH);
	memcpy(m, base, sizeof(base));
	m[40] = 0x03; /* odd cipher list length */
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(base)), TG_ERR_LENGTH);
	memcpy(m, base, sizeof(base));
	m[40] = 0x00; /* empty cipher list, and the bytes after now misread */
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(base)), TG_ERR_LENGTH);
	memcpy(m, base, sizeof(base));
	m[40] = 0x40; /* cipher list longer than the message */
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(base)), TG_ERR_LENGTH);
	memcpy(m, base, sizeof(base));
	m[43] = 0x00; /* no compression method */
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(base)), TG_ERR_LENGTH);
	memcpy(m, base, sizeof(base));
	m[46] = 0x05; /* extension block longer than the message */
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(base)), TG_ERR_LENGTH);
	/* A single byte where the extension block length should be. */
	memcpy(m, base, sizeof(base));
	m[3] = 0x2a;
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(base) - 1), TG_ERR_LENGTH);
	/* Message shorter than the fixed part. */
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, (const uint8_t *)"\x01\x00\x00\x02\x03\x03", 6),
		  TG_ERR_LENGTH);
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, (const uint8_t *)"\x01\x00\x00\x00", 4), TG_ERR_LENGTH);
	/* Two bytes after the extension block, inside the message. */
	memcpy(m, base, sizeof(base));
	m[3] = 0x2d;
	m[sizeof(base)] = 0xaa;
	m[sizeof(base) + 1] = 0xbb;
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(m)), TG_ERR_TRAILING);
	/* Bytes after the message given to the message entry point. */
	m[3] = 0x2b;
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, m, sizeof(base) + 1), TG_ERR_TRAILING);
}

static void test_parse_msg(void)
{
	size_t len;

	CHECK_ERR(tg_tls_ch_parse_msg(&ch, NULL, 0), TG_NEED_MORE);
	CHECK_INT(ch.need, 4);
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, (const uint8_t *)"\x02", 1),
		  TG_ERR_TLS_NOT_CLIENT_HELLO);
	CHECK_ERR(tg_tls_ch_parse_msg(&ch, (const uint8_t *)"\x16\x03\x01", 3),
		  TG_ERR_TLS_NOT_CLIENT_HELLO);
	if (!tb_load_checked(&cap_buf, "chromium.bin"))
		return;
	/* Every prefix of the message: NEED_MORE with the exact length once the header is in. */
	for (len = 0; len < cap_buf.n - TG_TLS_RECORD_HEADER; len++) {
		enum tg_err err = tg_tls_ch_parse_msg(&ch, cap_buf.b + 5, len);

		if (err != TG_NEED_MORE || ch.need != (len < 4 ? 4 : cap_buf.n - 5)) {
			CHECK_ERR(err, TG_NEED_MORE);
			break;
		}
	}
	CHECK_INT(len, cap_buf.n - TG_TLS_RECORD_HEADER);
}

static void test_grease(void)
{
	unsigned v, n = 0;

	for (v = 0; v <= 0xffff; v++)
		n += tg_tls_is_grease((uint16_t)v);
	CHECK_INT(n, 16);
	CHECK(tg_tls_is_grease(0x0a0a));
	CHECK(tg_tls_is_grease(0x7a7a));
	CHECK(tg_tls_is_grease(0xfafa));
	CHECK(!tg_tls_is_grease(0x0a1a));
	CHECK(!tg_tls_is_grease(0x0b0b));
	CHECK(!tg_tls_is_grease(0x0000));
	/* GREASE is kept in the parsed lists, in wire order. */
	ext_buf.n = 0;
	tb_ext(&ext_buf, 0xdada, "", 0);
	tb_ext(&ext_buf, TG_TLS_EXT_SUPPORTED_VERSIONS, "\x06\x3a\x3a\x03\x04\x03\x03", 7);
	CHECK_ERR(parse_exts(&ext_buf), TG_OK);
	CHECK_INT(ch.exts[0], 0xdada);
	CHECK_INT(ch.n_versions, 3);
	CHECK_INT(ch.versions[0], 0x3a3a);
}

int main(void)
{
	test_captures();
	test_chromium_details();
	test_derived_files();
	test_refragment();
	test_prefixes_and_segments();
	test_minimal_hellos();
	test_record_errors();
	test_record_sequence_errors();
	test_caps();
	test_list_caps();
	test_alpn();
	test_sni();
	test_ech();
	test_extension_framing();
	test_body_lengths();
	test_parse_msg();
	test_grease();
	return tg_test_done();
}
