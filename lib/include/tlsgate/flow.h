/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flow.h - what the first bytes of a TCP flow's client side are: the one examination that
 * tlsgated, tlsgatectl inspect and the tests share (DESIGN.md sections 1 and 4).
 *
 * The bytes in order from the client's first data byte are:
 *   - on the DNS port: TCP-framed DNS messages (RFC 7766 8);
 *   - else, first byte 0x16: a TLS handshake record carrying a ClientHello (tls_ch.h);
 *   - else: an HTTP/1 request head (http.h), or something else (another protocol).
 * The answer is NEED_MORE while the bytes are consistent but not complete, the parsed message
 * when complete, or the failure the bytes prove: a failure is an input of tg_classify().
 */
#ifndef TLSGATE_FLOW_H
#define TLSGATE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/classify.h"
#include "tlsgate/cursor.h"
#include "tlsgate/err.h"
#include "tlsgate/http.h"
#include "tlsgate/tls_ch.h"

enum tg_exam_kind {
	TG_EXAM_NEED_MORE, /* consistent so far; more bytes are needed */
	TG_EXAM_TLS, /* a complete ClientHello in ch */
	TG_EXAM_HTTP, /* a complete request head in req */
	TG_EXAM_DNS, /* a complete framed DNS message in dns (not parsed) */
	TG_EXAM_FAIL, /* the bytes prove a failure: fail */
};

struct tg_exam {
	enum tg_exam_kind kind;
	enum tg_flow_fail fail; /* TG_EXAM_FAIL */
	enum tg_err err; /* the parser's answer behind a failure, for logs */
	size_t used; /* HTTP: head bytes; DNS: message bytes with the length prefix */
	struct tg_ch ch;
	struct tg_http_req req;
	struct tg_span dns;
};

/*
 * tg_flow_examine() - examine the @len bytes at @p, the client's stream from its first byte.
 * @dns: the flow is to the DNS port. @scratch: the ClientHello parser's buffer (the spans of
 * out->ch may point into it). Fills *@out. Failures: a TLS record that is no ClientHello, or
 * an HTTP-looking head that does not parse: TG_FLOW_FAIL_UNPARSABLE_CH; a ClientHello or head
 * over its cap: TG_FLOW_FAIL_REASM_WINDOW; bad DNS framing: TG_FLOW_FAIL_UNPARSABLE_DNS;
 * anything else: TG_FLOW_FAIL_NON_TLS.
 */
void tg_flow_examine(const uint8_t *p, size_t len, bool dns,
		     uint8_t scratch[static TG_CAP_CH_BYTES], struct tg_exam *out);

/*
 * tg_flow_exam_span() - the stream bytes the complete message of @x (TG_EXAM_HTTP or
 * TG_EXAM_DNS) occupies: the head and its Content-Length body, or the framed query. Where the
 * flow's next request begins. False when the rest of the stream is no longer requests that can
 * be found: a chunked body, CONNECT (a tunnel), a body over TG_CAP_HTTP_BODY_SKIP, or a TLS or
 * failed examination.
 */
bool tg_flow_exam_span(const struct tg_exam *x, uint32_t *len);

/*
 * tg_flow_facts_set_exam() - the examination's part of @f: kind, and the ClientHello's facts
 * (tg_flow_facts_set_ch, @ja4 as there), the request's Host and target, or the failure. A DNS
 * message is the caller's to parse (its question becomes dns_name). Spans point into @x.
 */
void tg_flow_facts_set_exam(struct tg_flow_facts *f, const struct tg_exam *x,
			    char ja4[static TG_CAP_JA4_LEN + 1]);

#endif
