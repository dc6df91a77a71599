/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * http.h - HTTP/1.x request head parser (RFC 9112 2-7, RFC 9110 for Host and request targets).
 *
 * tg_http_req_parse() reads the first bytes of a client's TCP stream and answers TG_NEED_MORE
 * until the head (request line, header fields, blank line) is complete, then TG_OK with views
 * of what the gateway decides on: method, target, host, port. It errs on the strict side where
 * two readers could disagree about the request - a middlebox that reads a request differently
 * from the server is how request smuggling and filter bypasses work:
 *
 *  - Lines end in CRLF or a bare LF. RFC 9112 2.2 lets a recipient accept bare LF, and most
 *    servers do (nginx, Go, Netty, Python; real clients send it): refusing what the server
 *    serves would let such requests pass unread. A server that does not accept it refuses the
 *    request outright (LF is not allowed inside any element), so no server acts on a reading
 *    other than ours. A CR not followed by LF is never a line end: TG_ERR_HTTP_EOL (RFC 9112
 *    2.2: reject, or replace by SP - which would change what a filter sees).
 *  - Request line: method SP request-target SP HTTP-version CRLF with single spaces; the method
 *    a token (RFC 9110 5.6.2), else TG_ERR_HTTP_METHOD; the version "HTTP/1.0" or "HTTP/1.1"
 *    exactly, else TG_ERR_HTTP_VERSION. Empty lines before the request line are skipped
 *    (RFC 9112 2.2 "SHOULD ignore at least one empty line").
 *  - Target: visible ASCII only (no CTL, SP, DEL or 8-bit), at most TG_CAP_HTTP_TARGET bytes
 *    (TG_ERR_CAP). Its form must fit the method (RFC 9112 3.2): origin-form "/..." for any
 *    method; absolute-form "http(s)://authority[/...]" without userinfo for any method;
 *    authority-form "host:port" only and always for CONNECT; asterisk-form "*" only for
 *    OPTIONS. Anything else is TG_ERR_HTTP_TARGET.
 *  - Header fields: name a token immediately followed by ':' (whitespace before the colon,
 *    a smuggling classic, is TG_ERR_HTTP_HEADER), value of VCHAR / obs-text / SP / HTAB with
 *    the surrounding whitespace trimmed; a line starting with SP or HTAB (obs-fold, or
 *    whitespace after the request line) is TG_ERR_HTTP_HEADER. More than TG_CAP_HTTP_HEADERS
 *    fields, or a head longer than TG_CAP_HTTP_HEAD bytes, is TG_ERR_CAP.
 *  - Host (RFC 9110 7.2): required in HTTP/1.1, at most once, non-empty, uri-host [":" port]
 *    with a port of 1-5 digits up to 65535; else TG_ERR_HTTP_HOST. With an absolute-form or
 *    authority-form target the server uses the target's authority (RFC 9112 3.2.2), which is
 *    what `host` then reports; a Host field that names another host or port is
 *    TG_ERR_HTTP_HOST (a missing port means the scheme's default, 80 or 443). HTTP/1.0 without
 *    Host and an origin-form target yields an empty `host`.
 *  - Body framing (RFC 9112 6): Content-Length once, digits only, else TG_ERR_HTTP_FRAMING;
 *    Transfer-Encoding only in HTTP/1.1, whose last coding must be "chunked" (and no other
 *    coding may be; an empty field has none), and never together with Content-Length: else
 *    TG_ERR_HTTP_FRAMING.
 *
 * Host and port are views, not normalized: compare host case-insensitively; a trailing dot
 * is kept. The target is raw too (no percent-decoding or dot-segment removal).
 */
#ifndef TLSGATE_HTTP_H
#define TLSGATE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/cursor.h"
#include "tlsgate/err.h"

enum tg_http_form {
	TG_HTTP_FORM_ORIGIN, /* "/path?query" */
	TG_HTTP_FORM_ABSOLUTE, /* "http://host:port/path?query" */
	TG_HTTP_FORM_AUTHORITY, /* "host:port", CONNECT */
	TG_HTTP_FORM_ASTERISK, /* "*", OPTIONS */
};

struct tg_http_field {
	struct tg_span name, value; /* value without surrounding whitespace */
};

struct tg_http_req {
	struct tg_span method, target;
	enum tg_http_form form;
	struct tg_span scheme; /* absolute-form only: "http" or "https", any case */
	struct tg_span host; /* uri-host without the port; an IP literal keeps its brackets */
	bool has_port;
	uint16_t port; /* when has_port */
	uint8_t version_minor; /* HTTP/1.0 or HTTP/1.1 */
	size_t head_len; /* bytes up to and including the blank line's line end */
	bool has_content_length;
	uint64_t content_length;
	bool chunked; /* Transfer-Encoding ends in chunked */
	size_t n_fields;
	/* Last, so a parse resets everything before it in one go; valid up to n_fields. */
	struct tg_http_field fields[TG_CAP_HTTP_HEADERS];
};

/*
 * tg_http_req_parse() - parse the request head at the start of the @len bytes at @p.
 *
 * Returns TG_OK with *@out filled when the head is complete (out->head_len bytes; what follows
 * is body or the next request), TG_NEED_MORE when everything so far is valid but the head is not
 * complete, TG_ERR_CAP when no complete head fits in TG_CAP_HTTP_HEAD bytes (or a cap above is
 * hit), or one of the errors listed above as soon as the bytes seen prove the head invalid.
 * Spans point into @p, owned by the caller. On anything but TG_OK, *@out must not be used.
 */
enum tg_err tg_http_req_parse(struct tg_http_req *out, const uint8_t *p, size_t len) TG_WUR;

/*
 * tg_http_req_path() - the path of a parsed request's target, for URL filtering: origin-form
 * and absolute-form without query ("?...") or fragment ("#..."), "/" for an absolute-form
 * target with an empty path, "*" for asterisk-form, empty for authority-form. A view into the
 * request (or a static "/").
 */
struct tg_span tg_http_req_path(const struct tg_http_req *req);

/*
 * tg_http_req_field() - the value of the first header field named @name (ASCII
 * case-insensitive), or NULL. The returned pointer points into @req.
 */
const struct tg_span *tg_http_req_field(const struct tg_http_req *req, const char *name);

#endif
