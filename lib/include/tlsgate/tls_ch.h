/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tls_ch.h - the TLS ClientHello, parsed from the first bytes of a client's TCP stream across
 * TLS records and TCP segments, or from one handshake message (QUIC CRYPTO frames).
 *
 * Wire format (RFC 8446 5.1, 4.1.2; RFC 5246 6.2.1, 7.4.1.2):
 *
 *   TLSPlaintext   type(1) = 22 | legacy_record_version(2) = 0x03xx | length(2) | fragment
 *   Handshake      msg_type(1) = 1 | length(3) | ClientHello
 *   ClientHello    legacy_version(2) | random(32) | legacy_session_id<0..32>
 *                  | cipher_suites<2..2^16-2> | legacy_compression_methods<1..2^8-1>
 *                  | [ extensions<0..2^16-1> ]          (absent only in pre-RFC 3546 hellos)
 *   Extension      extension_type(2) | extension_data<0..2^16-1>
 *
 * One handshake message may be fragmented over any number of handshake records (RFC 8446 5.1),
 * down to one byte per record; evasion tools split records inside the server_name. The parser
 * joins the fragments in a caller-supplied scratch buffer; a message inside one record is parsed
 * in place without a copy.
 *
 * Extensions parsed (the others are recorded by type only): server_name 0x0000 (RFC 6066 3),
 * supported_groups 0x000a (RFC 8446 4.2.7), signature_algorithms 0x000d (4.2.3), ALPN 0x0010
 * (RFC 7301 3.1), supported_versions 0x002b (4.2.1), pre_shared_key 0x0029 (4.2.11: must be
 * last), encrypted_client_hello 0xfe0d (draft-ietf-tls-esni 5).
 *
 * When NEED_MORE is decided, and why a peer cannot hold a flow with it forever:
 *  - Every answer is a pure function of the bytes given; the caller re-parses a longer prefix.
 *  - The first byte decides "handshake record or not" and the first handshake byte "ClientHello
 *    or not"; record headers are checked as soon as their bytes arrive (type, version 3.x,
 *    length 1..2^14+2048).
 *  - After the four handshake header bytes the message size is known; over TG_CAP_CH_BYTES it is
 *    TG_ERR_CAP at once. A record that declares more bytes than the message still needs is
 *    TG_ERR_TRAILING at once (a client sends nothing after its ClientHello before the server
 *    answers, so a coalesced second message is not a valid first flight).
 *  - Before each record, and once a record's length is known, the parser computes a lower bound
 *    on the stream length any completion needs (every further record costs a 5-byte header
 *    plus at least one byte, and the current record must arrive whole). When it exceeds
 *    TG_CAP_CH_STREAM the answer is TG_ERR_CAP at once; on NEED_MORE it is out->need. Hence no
 *    byte past TG_CAP_CH_STREAM is ever looked at, a stream that is still NEED_MORE is shorter
 *    than that, a prefix of a stream that parses OK is NEED_MORE (shorter than out->consumed)
 *    or OK, and a caller that holds TG_CAP_CH_STREAM bytes always has a final answer. A peer
 *    trickling 1-byte records is refused after at most TG_CAP_CH_STREAM bytes.
 */
#ifndef TLSGATE_TLS_CH_H
#define TLSGATE_TLS_CH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/cursor.h"
#include "tlsgate/err.h"

/* Record layer limits: RFC 5246 6.2.3 allows 2^14 + 2048 bytes of (compressed) fragment. */
#define TG_TLS_RECORD_HEADER 5
#define TG_TLS_RECORD_MAX    (16384 + 2048)
#define TG_TLS_HS_HEADER     4
/* RFC 6066 3 and RFC 1035 2.3.4: a host_name no DNS name can be (longer, or with a NUL). */
#define TG_TLS_SNI_MAX 255

/* TLS content type, handshake type and extension types this parser knows (IANA registries). */
#define TG_TLS_CT_HANDSHAKE		22
#define TG_TLS_HS_CLIENT_HELLO		1
#define TG_TLS_EXT_SERVER_NAME		0x0000
#define TG_TLS_EXT_SUPPORTED_GROUPS	0x000a
#define TG_TLS_EXT_SIGNATURE_ALGORITHMS 0x000d
#define TG_TLS_EXT_ALPN			0x0010
#define TG_TLS_EXT_PRE_SHARED_KEY	0x0029
#define TG_TLS_EXT_EARLY_DATA		0x002a
#define TG_TLS_EXT_SUPPORTED_VERSIONS	0x002b
#define TG_TLS_EXT_QUIC_TP		0x0039
#define TG_TLS_EXT_ECH			0xfe0d

/* encrypted_client_hello type (draft-ietf-tls-esni 5). */
#define TG_TLS_ECH_OUTER 0
#define TG_TLS_ECH_INNER 1

/*
 * A parsed ClientHello. Lists are in wire order with GREASE values kept; entries past n_X are
 * undefined. Spans point into the stream (or message) given, or into the scratch buffer when
 * the message was fragmented over several records: the caller keeps both alive while it uses
 * the result. After anything but TG_OK only @need (on TG_NEED_MORE) is meaningful.
 */
struct tg_ch {
	uint16_t record_version; /* of the first record; 0 from tg_tls_ch_parse_msg() */
	uint16_t legacy_version;
	struct tg_span random; /* 32 bytes */
	struct tg_span session_id; /* 0..32 bytes */
	struct tg_span compression; /* legacy_compression_methods, 1..255 bytes */
	uint16_t ciphers[TG_CAP_CH_CIPHERS];
	size_t n_ciphers;
	bool has_exts_block; /* false only for a hello that ends after the compression methods */
	uint16_t exts[TG_CAP_CH_EXTENSIONS];
	size_t n_exts;

	bool has_sni; /* server_name with one host_name */
	struct tg_span sni; /* host_name as sent: not normalized, 1..TG_TLS_SNI_MAX bytes, no NUL */
	bool has_alpn;
	struct tg_span alpn[TG_CAP_CH_ALPN]; /* protocol names, each 1..255 bytes */
	size_t n_alpn;
	bool has_versions; /* supported_versions present */
	uint16_t versions[TG_CAP_CH_VERSIONS];
	size_t n_versions;
	bool has_sigalgs;
	uint16_t sigalgs[TG_CAP_CH_SIGALGS];
	size_t n_sigalgs;
	bool has_groups;
	uint16_t groups[TG_CAP_CH_GROUPS];
	size_t n_groups;
	bool has_psk; /* pre_shared_key (resumption or external PSK) */
	bool has_early_data; /* early_data: 0-RTT application data may follow the record */

	bool has_ech; /* encrypted_client_hello 0xfe0d */
	uint8_t ech_type; /* TG_TLS_ECH_OUTER or TG_TLS_ECH_INNER */
	uint16_t ech_kdf_id; /* outer only: HpkeSymmetricCipherSuite */
	uint16_t ech_aead_id; /* outer only */
	uint8_t ech_config_id; /* outer only */
	struct tg_span ech_enc; /* outer only: 0 bytes after a HelloRetryRequest */
	struct tg_span ech_payload; /* outer only: at least 1 byte */

	struct tg_span msg; /* the whole handshake message: header and body */
	size_t n_records; /* records the message came in; 0 from tg_tls_ch_parse_msg() */
	size_t consumed; /* stream bytes up to the end of the record that completed the message */
	size_t need; /* on TG_NEED_MORE: no stream shorter than this can complete the message */
};

/*
 * tg_tls_ch_parse() - parse the ClientHello at the start of a client's TCP stream.
 * @out:     the result (see struct tg_ch); written on every call.
 * @stream:  the first @len in-order bytes of the client's stream; may be incomplete.
 * @scratch: joins a message spread over several records; @out's spans may point into it.
 *
 * Returns TG_OK (out->consumed says where the completing record ends; bytes after it are not
 * looked at), TG_NEED_MORE (consistent so far; out->need is a lower bound on the stream length
 * needed, at most TG_CAP_CH_STREAM), or:
 *  TG_ERR_TLS_NOT_HANDSHAKE     the first record is not a handshake record (also SSLv2 hellos)
 *  TG_ERR_TLS_NOT_CLIENT_HELLO  the first handshake message is not a ClientHello
 *  TG_ERR_TLS_RECORD            record version not 3.x, length 0 or over TG_TLS_RECORD_MAX,
 *                               or a non-handshake record before the message is complete
 *  TG_ERR_CAP                   message over TG_CAP_CH_BYTES, needs more than TG_CAP_CH_STREAM
 *                               stream bytes, or a list over its TG_CAP_CH_* cap
 *  TG_ERR_TRAILING              bytes after the message in its last record, or after the
 *                               extensions inside the message
 *  and the body errors of tg_tls_ch_parse_msg().
 * No allocation; reads exactly the bytes given.
 */
enum tg_err tg_tls_ch_parse(struct tg_ch *out, const uint8_t *stream, size_t len,
			    uint8_t scratch[static TG_CAP_CH_BYTES]) TG_WUR;

/*
 * tg_tls_ch_parse_msg() - parse one handshake message (type 1, u24 length, body), e.g. the
 * ClientHello carried in QUIC CRYPTO frames (RFC 9001 4.1.3) once the caller joined them.
 * @msg, @len: the message; spans in @out point into it.
 *
 * Returns TG_OK, TG_NEED_MORE (a prefix of a message: out->need says how long it is),
 * TG_ERR_TLS_NOT_CLIENT_HELLO, TG_ERR_CAP (over TG_CAP_CH_BYTES or a list over its cap),
 * TG_ERR_TRAILING (bytes after the message or after the extensions), or for the body:
 *  TG_ERR_LENGTH             a ClientHello field's length disagrees with the message (session
 *                            id over 32, odd or empty cipher list, no compression method,
 *                            a vector running past the message)
 *  TG_ERR_TLS_EXTENSION      an extension header or body is malformed, pre_shared_key not last
 *  TG_ERR_TLS_DUP_EXTENSION  an extension type appears twice
 *  TG_ERR_TLS_SNI            server_name is not exactly one host_name of 1..255 bytes sans NUL
 */
enum tg_err tg_tls_ch_parse_msg(struct tg_ch *out, const uint8_t *msg, size_t len) TG_WUR;

/* tg_tls_is_grease() - true for the RFC 8701 GREASE values 0x0a0a, 0x1a1a, ..., 0xfafa. */
bool tg_tls_is_grease(uint16_t v);

#endif
