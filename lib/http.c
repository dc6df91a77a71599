/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * http.c - HTTP/1.x request head parser (RFC 9112 2.1, 3, 5, 6; RFC 9110 4.2, 5.6.2, 7.2).
 *
 *   request-head  = *( CRLF ) request-line *( field-line CRLF ) CRLF   (CRLF or bare LF)
 *   request-line  = method SP request-target SP HTTP-version CRLF
 *   method        = token                    token = 1*tchar
 *   HTTP-version  = "HTTP/1.0" / "HTTP/1.1"  (case-sensitive)
 *   field-line    = field-name ":" OWS field-value OWS
 *   field-value   = *( VCHAR / obs-text / SP / HTAB )   obs-text = %x80-FF
 *   request-target = origin-form / absolute-form / authority-form / asterisk-form
 *   Host          = uri-host [ ":" port ]
 *
 * The input is a stream prefix, so every element is read through a cursor limited to
 * TG_CAP_HTTP_HEAD bytes: running out of bytes (TG_ERR_TRUNCATED) means NEED_MORE, or CAP once
 * the cap is reached; every other verdict depends only on bytes already seen, so any prefix of
 * a valid head is NEED_MORE and an invalid head fails as early as the bytes allow. The policy
 * choices are listed in http.h.
 */
#include <string.h>

#include "tlsgate/http.h"

/* Character classes (RFC 9110 5.6.2, 5.5; RFC 3986 2.2, 2.3). */
enum {
	HC_TCHAR = 1 << 0, /* token character */
	HC_VCHAR = 1 << 1, /* visible ASCII 0x21..0x7e */
	HC_FIELD = 1 << 2, /* field-value: VCHAR, obs-text, SP, HTAB */
	HC_REGNAME = 1 << 3, /* unreserved / sub-delims / "%" */
	HC_IPLIT = 1 << 4, /* inside "[...]": HC_REGNAME and ":" */
	HC_DIGIT = 1 << 5,
	HC_OWS = 1 << 6, /* SP, HTAB */
	HC_SCHEME = 1 << 7, /* ALPHA / DIGIT / "+" / "-" / "." */
};

/* The punctuation of tchar (RFC 9110 5.6.2): "!#$%&'*+-.^_`|~". */
static bool http_tchar_punct(uint8_t b)
{
	switch (b) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return true;
	default:
		return false;
	}
}

/* The punctuation of a reg-name (RFC 3986 3.2.2): unreserved, sub-delims, "%". */
static bool http_regname_punct(uint8_t b)
{
	switch (b) {
	case '-':
	case '.':
	case '_':
	case '~':
	case '!':
	case '$':
	case '&':
	case '\'':
	case '(':
	case ')':
	case '*':
	case '+':
	case ',':
	case ';':
	case '=':
	case '%':
		return true;
	default:
		return false;
	}
}

static unsigned http_class(uint8_t b)
{
	bool alpha = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
	bool digit = b >= '0' && b <= '9';
	unsigned cl = 0;

	if (b >= 0x21 && b <= 0x7e)
		cl |= HC_VCHAR | HC_FIELD;
	if (b >= 0x80 || b == ' ' || b == '\t')
		cl |= HC_FIELD;
	if (b == ' ' || b == '\t')
		cl |= HC_OWS;
	if (digit)
		cl |= HC_DIGIT;
	if (alpha || digit || b == '+' || b == '-' || b == '.')
		cl |= HC_SCHEME;
	if (alpha || digit || http_tchar_punct(b))
		cl |= HC_TCHAR;
	if (alpha || digit || http_regname_punct(b))
		cl |= HC_REGNAME | HC_IPLIT;
	if (b == ':')
		cl |= HC_IPLIT;
	return cl;
}

/* How many bytes from @from bytes past the read position are in class @mask; never fails. */
static size_t http_run(const struct tg_cur *c, size_t from, unsigned mask)
{
	size_t i, left = tg_cur_left(c);

	for (i = from; i < left && (http_class(tg_cur_peek(c, i)) & mask); i++)
		;
	return i < from ? 0 : i - from;
}

/*
 * Count the bytes from the read position that are in class @mask, looking at most @max + 1
 * bytes ahead: *@n is the count, @max + 1 meaning "longer than @max". Returns false with
 * TG_ERR_TRUNCATED on @c if the input ends inside the run (it may still go on).
 */
static bool http_scan(struct tg_cur *c, unsigned mask, size_t max, size_t *n)
{
	*n = http_run(c, 0, mask);
	if (*n > max) {
		*n = max + 1;
		return true;
	}
	if (*n == tg_cur_left(c))
		return tg_cur_fail(c, TG_ERR_TRUNCATED);
	return true;
}

/* The rest of @c without leading and trailing SP / HTAB. Consumes all of @c. */
static struct tg_span http_trim(struct tg_cur *c)
{
	size_t lead = http_run(c, 0, HC_OWS), end = tg_cur_left(c);
	struct tg_span s;

	while (end > lead && (http_class(tg_cur_peek(c, end - 1)) & HC_OWS))
		end--;
	(void)tg_cur_skip(c, lead);
	s = tg_cur_span(c, end - lead);
	(void)tg_cur_rest(c);
	return s;
}

/*
 * A line end at the read position: CRLF or a bare LF is TG_OK; a CR not followed by LF is
 * TG_ERR_HTTP_EOL; any other byte is @other (the element before it was not finished).
 */
static enum tg_err http_eol(struct tg_cur *c, enum tg_err other)
{
	uint8_t b = tg_cur_u8(c);

	if (!tg_cur_ok(c))
		return c->err;
	if (b == '\n')
		return TG_OK;
	if (b != '\r')
		return other;
	b = tg_cur_u8(c);
	if (!tg_cur_ok(c))
		return c->err;
	return b == '\n' ? TG_OK : TG_ERR_HTTP_EOL;
}

/* All of @c as 1..@maxdigits decimal digits; false if it is anything else. */
static bool http_number(struct tg_cur *c, size_t maxdigits, uint64_t *v)
{
	size_t n = tg_cur_left(c);

	*v = 0;
	if (n == 0 || n > maxdigits || http_run(c, 0, HC_DIGIT) != n)
		return false;
	while (tg_cur_left(c) > 0)
		*v = *v * 10 + (uint64_t)(tg_cur_u8(c) - '0');
	return true;
}

/* Percent-encodings must be "%" HEXDIG HEXDIG (RFC 3986 2.1). */
static bool http_pct_ok(struct tg_span s)
{
	struct tg_cur c;

	tg_cur_init(&c, s.p, s.len);
	while (tg_cur_left(&c) > 0) {
		size_t i;

		if (tg_cur_u8(&c) != '%')
			continue;
		for (i = 0; i < 2; i++) {
			uint8_t b = tg_cur_u8(&c) | 0x20;

			if (!tg_cur_ok(&c) || !((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f')))
				return false;
		}
	}
	return true;
}

/*
 * authority = uri-host [ ":" port ] (RFC 3986 3.2.2, 3.2.3), without userinfo: all of @a. An
 * IP literal "[...]" keeps its brackets in *@host (its address is not checked). Returns false
 * if @a is anything else.
 */
static bool http_authority(struct tg_span a, struct tg_span *host, bool *has_port, uint16_t *port)
{
	struct tg_cur c;
	size_t n;
	uint64_t v;

	tg_cur_init(&c, a.p, a.len);
	*has_port = false;
	*port = 0;
	if (tg_cur_left(&c) > 0 && tg_cur_peek(&c, 0) == '[') {
		n = http_run(&c, 1, HC_IPLIT);
		if (n == 0 || n + 1 >= tg_cur_left(&c) || tg_cur_peek(&c, n + 1) != ']')
			return false;
		*host = tg_cur_span(&c, n + 2);
	} else {
		n = http_run(&c, 0, HC_REGNAME);
		if (n == 0)
			return false;
		*host = tg_cur_span(&c, n);
		if (!http_pct_ok(*host))
			return false;
	}
	if (tg_cur_left(&c) == 0)
		return true;
	if (tg_cur_u8(&c) != ':' || !http_number(&c, 5, &v) || v > 65535)
		return false;
	*has_port = true;
	*port = (uint16_t)v;
	return true;
}

/* What the fields say, where a verdict needs the whole head. */
struct http_state {
	bool has_host_field;
	struct tg_span field_host;
	bool field_has_port;
	uint16_t field_port;
	bool has_te;
	bool te_last_chunked;
	unsigned te_chunked;
};

/*
 * Transfer-Encoding (RFC 9112 6.1, 7): a list of codings; "chunked" may only be the last one,
 * once, and takes no parameters. Empty list elements are allowed (RFC 9110 5.6.1).
 */
static enum tg_err http_te(struct http_state *st, struct tg_span v)
{
	struct tg_cur c;

	/* Present, even empty: framing by Transfer-Encoding then needs a final chunked. */
	st->has_te = true;
	tg_cur_init(&c, v.p, v.len);
	while (tg_cur_left(&c) > 0) {
		struct tg_cur ec;
		struct tg_span elem;
		size_t n = 0;

		while (n < tg_cur_left(&c) && tg_cur_peek(&c, n) != ',')
			n++;
		(void)tg_cur_sub(&c, n, &ec);
		if (tg_cur_left(&c) > 0)
			(void)tg_cur_u8(&c); /* the ',' */
		elem = http_trim(&ec);
		if (elem.len == 0)
			continue;
		tg_cur_init(&ec, elem.p, elem.len);
		n = http_run(&ec, 0, HC_TCHAR);
		st->te_last_chunked = tg_span_eq_str_ci(tg_cur_span(&ec, n), "chunked");
		if (!st->te_last_chunked)
			continue;
		if (n != elem.len)
			return TG_ERR_HTTP_FRAMING;
		st->te_chunked++;
	}
	return TG_OK;
}

/* Act on the fields that shape the request: Host, Content-Length, Transfer-Encoding. */
static enum tg_err http_field(struct tg_http_req *out, struct http_state *st,
			      const struct tg_http_field *f)
{
	struct tg_cur c;

	if (tg_span_eq_str_ci(f->name, "host")) {
		if (st->has_host_field)
			return TG_ERR_HTTP_HOST;
		st->has_host_field = true;
		if (!http_authority(f->value, &st->field_host, &st->field_has_port,
				    &st->field_port))
			return TG_ERR_HTTP_HOST;
		return TG_OK;
	}
	if (tg_span_eq_str_ci(f->name, "content-length")) {
		/* Repeated, even with equal values, is refused: RFC 9112 6.3 allows either. */
		if (out->has_content_length)
			return TG_ERR_HTTP_FRAMING;
		out->has_content_length = true;
		tg_cur_init(&c, f->value.p, f->value.len);
		/* 18 digits cannot overflow 64 bits; nobody sends an exabyte. */
		if (!http_number(&c, 18, &out->content_length))
			return TG_ERR_HTTP_FRAMING;
		return TG_OK;
	}
	if (tg_span_eq_str_ci(f->name, "transfer-encoding"))
		return http_te(st, f->value);
	return TG_OK;
}

/* One field line; the caller has checked it starts with neither CR, LF, SP nor HTAB. */
static enum tg_err http_field_line(struct tg_cur *c, struct tg_http_field *f)
{
	struct tg_cur vc;
	size_t n;

	if (!http_scan(c, HC_TCHAR, TG_CAP_HTTP_HEAD, &n))
		return c->err;
	/* Whitespace before the colon included: RFC 9112 5.1 says reject. */
	if (n == 0 || tg_cur_peek(c, n) != ':')
		return TG_ERR_HTTP_HEADER;
	f->name = tg_cur_span(c, n);
	(void)tg_cur_u8(c);
	if (!http_scan(c, HC_FIELD, TG_CAP_HTTP_HEAD, &n))
		return c->err;
	(void)tg_cur_sub(c, n, &vc);
	f->value = http_trim(&vc);
	return http_eol(c, TG_ERR_HTTP_HEADER);
}

/* "HTTP/1.0" or "HTTP/1.1", compared byte by byte so a wrong prefix fails at once. */
static enum tg_err http_version(struct tg_cur *c, uint8_t *minor)
{
	static const char v[] = "HTTP/1.";
	size_t i;
	uint8_t b;

	for (i = 0; i < sizeof(v) - 1; i++) {
		b = tg_cur_u8(c);
		if (!tg_cur_ok(c))
			return c->err;
		if (b != (uint8_t)v[i])
			return TG_ERR_HTTP_VERSION;
	}
	b = tg_cur_u8(c);
	if (!tg_cur_ok(c))
		return c->err;
	if (b != '0' && b != '1')
		return TG_ERR_HTTP_VERSION;
	*minor = (uint8_t)(b - '0');
	return http_eol(c, TG_ERR_HTTP_VERSION);
}

/* absolute-form (RFC 9112 3.2.2): "http" / "https" "://" authority [ path ] [ "?" query ]. */
static enum tg_err http_absolute(struct tg_http_req *out)
{
	struct tg_cur c;
	struct tg_span auth;
	size_t n;

	tg_cur_init(&c, out->target.p, out->target.len);
	n = http_run(&c, 0, HC_SCHEME);
	out->scheme = tg_cur_span(&c, n);
	if (!tg_span_eq_str_ci(out->scheme, "http") && !tg_span_eq_str_ci(out->scheme, "https"))
		return TG_ERR_HTTP_TARGET;
	for (n = 0; n < 3; n++)
		if (tg_cur_u8(&c) != (uint8_t) "://"[n])
			return TG_ERR_HTTP_TARGET;
	for (n = 0; n < tg_cur_left(&c); n++) {
		uint8_t b = tg_cur_peek(&c, n);

		if (b == '/' || b == '?' || b == '#')
			break;
	}
	auth = tg_cur_span(&c, n);
	/* userinfo ("user@host") is refused: RFC 9110 4.2.4. */
	if (!http_authority(auth, &out->host, &out->has_port, &out->port))
		return TG_ERR_HTTP_TARGET;
	return TG_OK;
}

/* Sort the target into its form, which the method must allow (RFC 9112 3.2). */
static enum tg_err http_target(struct tg_http_req *out)
{
	struct tg_span star = { (const uint8_t *)"*", 1 };
	bool connect = tg_span_eq(out->method, (struct tg_span){ (const uint8_t *)"CONNECT", 7 });
	bool options = tg_span_eq(out->method, (struct tg_span){ (const uint8_t *)"OPTIONS", 7 });
	struct tg_cur c;

	if (connect) {
		out->form = TG_HTTP_FORM_AUTHORITY;
		if (!http_authority(out->target, &out->host, &out->has_port, &out->port) ||
		    !out->has_port)
			return TG_ERR_HTTP_TARGET;
		return TG_OK;
	}
	tg_cur_init(&c, out->target.p, out->target.len);
	if (tg_cur_peek(&c, 0) == '/') {
		out->form = TG_HTTP_FORM_ORIGIN;
		return TG_OK;
	}
	if (tg_span_eq(out->target, star)) {
		out->form = TG_HTTP_FORM_ASTERISK;
		return options ? TG_OK : TG_ERR_HTTP_TARGET;
	}
	out->form = TG_HTTP_FORM_ABSOLUTE;
	return http_absolute(out);
}

/* method SP request-target SP HTTP-version CRLF, after any empty lines. */
static enum tg_err http_request_line(struct tg_cur *c, struct tg_http_req *out)
{
	enum tg_err e;
	size_t n;
	uint8_t b;

	for (;;) {
		if (!tg_cur_need(c, 1))
			return c->err;
		b = tg_cur_peek(c, 0);
		if (b != '\r' && b != '\n')
			break;
		e = http_eol(c, TG_ERR_HTTP_EOL);
		if (e != TG_OK)
			return e;
	}
	if (!http_scan(c, HC_TCHAR, TG_CAP_HTTP_HEAD, &n))
		return c->err;
	if (n == 0 || tg_cur_peek(c, n) != ' ')
		return TG_ERR_HTTP_METHOD;
	out->method = tg_cur_span(c, n);
	(void)tg_cur_u8(c);
	if (!http_scan(c, HC_VCHAR, TG_CAP_HTTP_TARGET, &n))
		return c->err;
	if (n > TG_CAP_HTTP_TARGET)
		return TG_ERR_CAP;
	b = tg_cur_peek(c, n);
	if (n == 0 || (b != ' ' && b != '\r' && b != '\n'))
		return TG_ERR_HTTP_TARGET;
	if (b != ' ')
		return TG_ERR_HTTP_VERSION; /* "GET /\r\n": HTTP/0.9 */
	out->target = tg_cur_span(c, n);
	(void)tg_cur_u8(c);
	return http_version(c, &out->version_minor);
}

/* The effective port: explicit, or the scheme's default (80 for http and authority-form). */
static uint16_t http_port(const struct tg_http_req *r, bool has_port, uint16_t port)
{
	if (has_port)
		return port;
	return tg_span_eq_str_ci(r->scheme, "https") ? 443 : 80;
}

/* The verdicts that need the whole head: Host presence and agreement, body framing. */
static enum tg_err http_head_check(struct tg_http_req *out, const struct http_state *st)
{
	if (st->has_te) {
		if (out->version_minor == 0 || out->has_content_length || st->te_chunked != 1 ||
		    !st->te_last_chunked)
			return TG_ERR_HTTP_FRAMING;
		out->chunked = true;
	}
	if (!st->has_host_field)
		return out->version_minor == 1 ? TG_ERR_HTTP_HOST : TG_OK;
	if (out->form == TG_HTTP_FORM_ORIGIN || out->form == TG_HTTP_FORM_ASTERISK) {
		out->host = st->field_host;
		out->has_port = st->field_has_port;
		out->port = st->field_port;
		return TG_OK;
	}
	/* The server uses the target's authority; a Host naming another one is a trap. */
	if (!tg_span_eq_ci(out->host, st->field_host))
		return TG_ERR_HTTP_HOST;
	if (st->field_has_port && http_port(out, out->has_port, out->port) != st->field_port)
		return TG_ERR_HTTP_HOST;
	return TG_OK;
}

static enum tg_err http_head(struct tg_cur *c, struct tg_http_req *out)
{
	struct http_state st;
	enum tg_err e;

	memset(&st, 0, sizeof(st));
	e = http_request_line(c, out);
	if (e != TG_OK)
		return e;
	e = http_target(out);
	if (e != TG_OK)
		return e;
	for (;;) {
		struct tg_http_field f;
		uint8_t b;

		if (!tg_cur_need(c, 1))
			return c->err;
		b = tg_cur_peek(c, 0);
		if (b == '\r' || b == '\n')
			break;
		/* obs-fold, or whitespace between the request line and the first field. */
		if (b == ' ' || b == '\t')
			return TG_ERR_HTTP_HEADER;
		e = http_field_line(c, &f);
		if (e != TG_OK)
			return e;
		if (out->n_fields == TG_CAP_HTTP_HEADERS)
			return TG_ERR_CAP;
		out->fields[out->n_fields++] = f;
		e = http_field(out, &st, &f);
		if (e != TG_OK)
			return e;
	}
	e = http_eol(c, TG_ERR_HTTP_EOL);
	if (e != TG_OK)
		return e;
	out->head_len = tg_cur_pos(c);
	return http_head_check(out, &st);
}

enum tg_err tg_http_req_parse(struct tg_http_req *out, const uint8_t *p, size_t len)
{
	struct tg_cur c;
	enum tg_err e;

	memset(out, 0, offsetof(struct tg_http_req, fields));
	tg_cur_init(&c, p, len < TG_CAP_HTTP_HEAD ? len : TG_CAP_HTTP_HEAD);
	e = http_head(&c, out);
	if (e == TG_ERR_TRUNCATED)
		e = len >= TG_CAP_HTTP_HEAD ? TG_ERR_CAP : TG_NEED_MORE;
	return e;
}

struct tg_span tg_http_req_path(const struct tg_http_req *req)
{
	static const uint8_t slash[] = "/";
	struct tg_span none = { NULL, 0 }, root = { slash, 1 };
	struct tg_cur c;
	size_t n;

	tg_cur_init(&c, req->target.p, req->target.len);
	switch (req->form) {
	case TG_HTTP_FORM_ORIGIN:
		break;
	case TG_HTTP_FORM_ABSOLUTE:
		/* Past "scheme://" and the authority. */
		(void)tg_cur_skip(&c, req->scheme.len + 3);
		for (n = 0; n < tg_cur_left(&c); n++)
			if (tg_cur_peek(&c, n) == '/' || tg_cur_peek(&c, n) == '?' ||
			    tg_cur_peek(&c, n) == '#')
				break;
		(void)tg_cur_skip(&c, n);
		if (tg_cur_left(&c) == 0 || tg_cur_peek(&c, 0) != '/')
			return root;
		break;
	case TG_HTTP_FORM_ASTERISK:
		return req->target;
	case TG_HTTP_FORM_AUTHORITY:
	default:
		return none;
	}
	for (n = 0; n < tg_cur_left(&c); n++)
		if (tg_cur_peek(&c, n) == '?' || tg_cur_peek(&c, n) == '#')
			break;
	return tg_cur_span(&c, n);
}

const struct tg_span *tg_http_req_field(const struct tg_http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n_fields; i++)
		if (tg_span_eq_str_ci(req->fields[i].name, name))
			return &req->fields[i].value;
	return NULL;
}
