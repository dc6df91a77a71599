/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * err.h - the one error vocabulary of the core library.
 *
 * Every fallible lib function returns enum tg_err. Parsers answer TG_OK, TG_NEED_MORE ("consistent
 * so far, feed more bytes") or one of the TG_ERR_* codes, which all mean INVALID and say why.
 * The table below generates both the enum and tg_strerror().
 */
#ifndef TLSGATE_ERR_H
#define TLSGATE_ERR_H

#define TG_ERR_TABLE(X)                                                                     \
	X(TG_OK, "ok")                                                                      \
	X(TG_NEED_MORE, "need more data")                                                   \
	X(TG_ERR_TRUNCATED, "truncated input")                                              \
	X(TG_ERR_TRAILING, "trailing bytes after a length-delimited field")                 \
	X(TG_ERR_LENGTH, "length field disagrees with the data")                            \
	X(TG_ERR_ZERO_LENGTH, "zero length where data is required")                         \
	X(TG_ERR_CAP, "a size cap was reached")                                             \
	X(TG_ERR_NOMEM, "out of memory")                                                    \
	X(TG_ERR_ARG, "invalid argument")                                                   \
	X(TG_ERR_INVALID, "malformed input")                                                \
	X(TG_ERR_UNSUPPORTED, "unsupported protocol or version")                            \
	X(TG_ERR_DUPLICATE, "duplicate entry")                                              \
	X(TG_ERR_NOT_FOUND, "not found")                                                    \
	X(TG_ERR_IP_VERSION, "not an IPv4 or IPv6 packet")                                  \
	X(TG_ERR_IP_HEADER, "malformed IP header")                                          \
	X(TG_ERR_IP_FRAGMENT, "IP fragment (only first fragments carry transport headers)") \
	X(TG_ERR_IP6_EXT, "malformed or too many IPv6 extension headers")                   \
	X(TG_ERR_TCP_HEADER, "malformed TCP header")                                        \
	X(TG_ERR_TCP_OPTION, "malformed TCP option")                                        \
	X(TG_ERR_UDP_HEADER, "malformed UDP header")                                        \
	X(TG_ERR_REASM_CONFLICT, "retransmitted bytes differ from bytes already held")      \
	X(TG_ERR_REASM_WINDOW, "segment lies outside the reassembly window")                \
	X(TG_ERR_TLS_NOT_HANDSHAKE, "not a TLS handshake record")                           \
	X(TG_ERR_TLS_RECORD, "malformed TLS record")                                        \
	X(TG_ERR_TLS_NOT_CLIENT_HELLO, "first handshake message is not a ClientHello")      \
	X(TG_ERR_TLS_EXTENSION, "malformed ClientHello extension")                          \
	X(TG_ERR_TLS_DUP_EXTENSION, "duplicate ClientHello extension")                      \
	X(TG_ERR_TLS_SNI, "malformed server_name extension")                                \
	X(TG_ERR_DNS_HEADER, "malformed DNS header")                                        \
	X(TG_ERR_DNS_NAME, "malformed DNS name")                                            \
	X(TG_ERR_DNS_POINTER, "DNS compression pointer loops or points forward")            \
	X(TG_ERR_DNS_RR, "malformed DNS resource record")                                   \
	X(TG_ERR_DNS_SVCB, "malformed SVCB/HTTPS parameters")                               \
	X(TG_ERR_HTTP_METHOD, "malformed HTTP method")                                      \
	X(TG_ERR_HTTP_TARGET, "malformed HTTP request target")                              \
	X(TG_ERR_HTTP_VERSION, "malformed HTTP version")                                    \
	X(TG_ERR_HTTP_HEADER, "malformed HTTP header")                                      \
	X(TG_ERR_HTTP_HOST, "missing, duplicate or malformed Host")                         \
	X(TG_ERR_HTTP_EOL, "bare CR in an HTTP head")                                       \
	X(TG_ERR_HTTP_FRAMING, "conflicting or malformed Content-Length/Transfer-Encoding") \
	X(TG_ERR_NAME_EMPTY, "empty domain name")                                           \
	X(TG_ERR_NAME_TOO_LONG, "domain name longer than 253 bytes")                        \
	X(TG_ERR_NAME_LABEL, "empty or over-long domain label")                             \
	X(TG_ERR_NAME_CHAR, "character not allowed in a domain name")                       \
	X(TG_ERR_NAME_HYPHEN, "label starts or ends with a hyphen")                         \
	X(TG_ERR_NAME_PUNYCODE, "malformed punycode label")                                 \
	X(TG_ERR_CIDR, "malformed address or prefix")                                       \
	X(TG_ERR_CIDR_HOST_BITS, "address has bits set beyond the prefix length")           \
	X(TG_ERR_JSON, "malformed JSON")                                                    \
	X(TG_ERR_POLICY, "invalid policy or content (see the diagnostics)")                 \
	X(TG_ERR_CATDB, "malformed category database line")

enum tg_err {
#define TG_ERR_ENUM(name, text) name,
	TG_ERR_TABLE(TG_ERR_ENUM)
#undef TG_ERR_ENUM
		TG_ERR__COUNT
};

#define TG_WUR __attribute__((warn_unused_result))

/* tg_strerror() - a static, human-readable text for @e; never NULL. */
const char *tg_strerror(enum tg_err e);

/* tg_err_name() - the enum's name ("TG_ERR_DNS_POINTER"), for tests and logs; never NULL. */
const char *tg_err_name(enum tg_err e);

#endif
