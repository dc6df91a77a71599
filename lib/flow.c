/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flow.c - what the first bytes of a client's TCP stream are (flow.h).
 *
 * The decision between TLS and HTTP is made on the first byte: a TLS handshake record starts
 * with content type 22 (RFC 8446 5.1), an HTTP/1 request with a method token (RFC 9112 3).
 * A stream that starts like an HTTP request (a token of upper-case letters and a space) and
 * then does not parse is a failed request, not "another protocol": a server may still read
 * it, so it must not pass as non-TLS traffic.
 */
#include <string.h>

#include "tlsgate/dns.h"
#include "tlsgate/flow.h"

#define FLOW_TLS_HANDSHAKE 0x16

/* "GET ", "PROPFIND ": upper-case token then a space, or still a token prefix. */
static bool flow_looks_http(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 16; i++) {
		if (p[i] == ' ')
			return i > 0;
		if (p[i] < 'A' || p[i] > 'Z')
			return false;
	}
	return true;
}

static void flow_fail(struct tg_exam *out, enum tg_flow_fail why, enum tg_err err)
{
	out->kind = TG_EXAM_FAIL;
	out->fail = why;
	out->err = err;
}

static void flow_examine_dns(const uint8_t *p, size_t len, struct tg_exam *out)
{
	enum tg_err err = tg_dns_tcp_frame(p, len, &out->dns, &out->used);

	if (err == TG_NEED_MORE)
		return;
	if (err != TG_OK) {
		flow_fail(out, TG_FLOW_FAIL_UNPARSABLE_DNS, err);
		return;
	}
	out->kind = TG_EXAM_DNS;
}

static void flow_examine_tls(const uint8_t *p, size_t len, uint8_t *scratch, struct tg_exam *out)
{
	enum tg_err err = tg_tls_ch_parse(&out->ch, p, len, scratch);

	if (err == TG_NEED_MORE)
		return;
	if (err == TG_ERR_CAP) {
		flow_fail(out, TG_FLOW_FAIL_REASM_WINDOW, err);
		return;
	}
	if (err != TG_OK) {
		flow_fail(out, TG_FLOW_FAIL_UNPARSABLE_CH, err);
		return;
	}
	out->kind = TG_EXAM_TLS;
}

static void flow_examine_http(const uint8_t *p, size_t len, struct tg_exam *out)
{
	enum tg_err err = tg_http_req_parse(&out->req, p, len);

	if (err == TG_NEED_MORE)
		return;
	if (err == TG_OK) {
		out->kind = TG_EXAM_HTTP;
		out->used = out->req.head_len;
		return;
	}
	if (!flow_looks_http(p, len))
		flow_fail(out, TG_FLOW_FAIL_NON_TLS, err);
	else if (err == TG_ERR_CAP)
		flow_fail(out, TG_FLOW_FAIL_REASM_WINDOW, err);
	else
		flow_fail(out, TG_FLOW_FAIL_UNPARSABLE_CH, err);
}

void tg_flow_examine(const uint8_t *p, size_t len, bool dns,
		     uint8_t scratch[static TG_CAP_CH_BYTES], struct tg_exam *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = TG_EXAM_NEED_MORE;
	if (len == 0)
		return;
	if (dns)
		flow_examine_dns(p, len, out);
	else if (p[0] == FLOW_TLS_HANDSHAKE)
		flow_examine_tls(p, len, scratch, out);
	else
		flow_examine_http(p, len, out);
}

bool tg_flow_exam_span(const struct tg_exam *x, uint32_t *len)
{
	const struct tg_http_req *req = &x->req;

	if (x->kind == TG_EXAM_DNS) {
		*len = (uint32_t)x->used;
		return true;
	}
	if (x->kind != TG_EXAM_HTTP || req->chunked || req->form == TG_HTTP_FORM_AUTHORITY ||
	    (req->has_content_length && req->content_length > TG_CAP_HTTP_BODY_SKIP))
		return false;
	*len = (uint32_t)req->head_len +
	       (uint32_t)(req->has_content_length ? req->content_length : 0);
	return true;
}

void tg_flow_facts_set_exam(struct tg_flow_facts *f, const struct tg_exam *x,
			    char ja4[static TG_CAP_JA4_LEN + 1])
{
	switch (x->kind) {
	case TG_EXAM_TLS:
		tg_flow_facts_set_ch(f, &x->ch, ja4);
		break;
	case TG_EXAM_HTTP:
		f->kind = TG_FLOW_HTTP;
		f->http_host = x->req.host;
		f->http_path = x->req.target;
		break;
	case TG_EXAM_DNS:
		f->kind = TG_FLOW_DNS;
		break;
	case TG_EXAM_FAIL:
		f->kind = x->fail == TG_FLOW_FAIL_UNPARSABLE_DNS ? TG_FLOW_DNS : TG_FLOW_TLS;
		f->fail = x->fail;
		break;
	case TG_EXAM_NEED_MORE:
	default:
		break;
	}
}
