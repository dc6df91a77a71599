/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ja4.h - the JA4 TLS client fingerprint of a parsed ClientHello, from FoxIO's public
 * specification (JA4 technical details), and its raw and original-order forms.
 *
 *   JA4     = a "_" b "_" c                          e.g. t13d1516h2_8daaf6152771_e5627efa2ab1
 *   a       = transport(1: t TCP, q QUIC, d DTLS) version(2) sni(1: d present, i absent)
 *             ciphers(2: count, capped at 99) extensions(2: count, capped at 99) alpn(2)
 *   b       = first 12 hex digits of SHA-256 over the ciphers as 4-digit lowercase hex, sorted,
 *             comma-separated; "000000000000" when there is none
 *   c       = the same over the extension types sorted without server_name (0000) and ALPN
 *             (0010), then "_" and the signature algorithms in wire order (no "_" when there
 *             are none); "000000000000" when no extension is left
 *
 * GREASE values (RFC 8701) are ignored everywhere: counts, lists, versions. The version is the
 * highest non-GREASE supported_versions entry, else legacy_version: 0304 "13", 0303 "12",
 * 0302 "11", 0301 "10", 0300 "s3", 0200/0002 "s2", 0100 "s1", feff "d1", fefd "d2", fefc "d3",
 * anything else "00". ALPN is "99" when the first protocol name starts with a non-ASCII byte
 * (as the reference implementation and its published outputs do), else its first and last
 * character when both are ASCII letters or digits, else the first and last hex digit of the
 * name's bytes; "00" without ALPN. The ALPN characters keep their case; every other character of a JA4 is one of
 * [a-z0-9_].
 *
 * The raw form (JA4_r) prints b and c unhashed: the exact strings the hashes are taken over.
 * The original-order forms (JA4_o, JA4_ro) keep wire order and keep server_name and ALPN in c.
 */
#ifndef TLSGATE_JA4_H
#define TLSGATE_JA4_H

#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/err.h"
#include "tlsgate/tls_ch.h"

#define TG_JA4_LEN 36
/* Longest raw form: 10 + "_" ciphers "_" extensions "_" sigalgs, 5 characters per value. */
#define TG_JA4_RAW_MAX (10 + 5 * (TG_CAP_CH_CIPHERS + TG_CAP_CH_EXTENSIONS + TG_CAP_CH_SIGALGS))

/*
 * tg_ja4() - the JA4 fingerprint of @ch as a NUL-terminated string of TG_JA4_LEN characters.
 * @transport: 't' TLS over TCP, 'q' QUIC, 'd' DTLS; anything else is TG_ERR_ARG.
 * Returns TG_OK, TG_ERR_ARG, or TG_ERR_UNSUPPORTED if hashing failed; on error @out is "".
 */
enum tg_err tg_ja4(const struct tg_ch *ch, char transport, char out[static TG_JA4_LEN + 1]) TG_WUR;

/* tg_ja4_o() - the same with ciphers and extensions in wire order (JA4_o). */
enum tg_err tg_ja4_o(const struct tg_ch *ch, char transport,
		     char out[static TG_JA4_LEN + 1]) TG_WUR;

/*
 * tg_ja4_raw() - the raw fingerprint (JA4_r) into @out, NUL-terminated, at most
 * TG_JA4_RAW_MAX characters. Returns TG_OK, TG_ERR_ARG (bad transport), or TG_ERR_CAP when
 * @cap is too small for this fingerprint; on error @out is "" (when @cap > 0).
 */
enum tg_err tg_ja4_raw(const struct tg_ch *ch, char transport, char *out, size_t cap) TG_WUR;

/* tg_ja4_ro() - the raw fingerprint in wire order (JA4_ro); as tg_ja4_raw(). */
enum tg_err tg_ja4_ro(const struct tg_ch *ch, char transport, char *out, size_t cap) TG_WUR;

/*
 * A memo of recent fingerprint parts (the lists behind b and c) and their hashes. JA4 costs two
 * SHA-256 over a few hundred bytes, several times the cost of parsing; on a network a handful of
 * client stacks send most ClientHellos, so a small memo removes most of that work. Exact: a hit
 * needs the same list of values. One memo per thread; not shared.
 */
struct tg_ja4_memo;

/* tg_ja4_memo_new() - an empty memo of TG_CAP_JA4_MEMO_SLOTS parts (about 20 KB), owned by the
 * caller; NULL if allocation fails. */
struct tg_ja4_memo *tg_ja4_memo_new(void);

/* tg_ja4_memo_free() - release @m; NULL is fine. */
void tg_ja4_memo_free(struct tg_ja4_memo *m);

/* tg_ja4_memo_get() - tg_ja4() through the memo @m: same result, same errors. */
enum tg_err tg_ja4_memo_get(struct tg_ja4_memo *m, const struct tg_ch *ch, char transport,
			    char out[static TG_JA4_LEN + 1]) TG_WUR;

/* tg_ja4_memo_stats() - parts found in the memo (@hits) and hashed (@misses) so far. */
void tg_ja4_memo_stats(const struct tg_ja4_memo *m, uint64_t *hits, uint64_t *misses);

#endif
