/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_http.c - HTTP/1.x request head parser: real requests from the shared captures, every
 * truncation point, request-line and field syntax, target forms against methods, Host rules,
 * request-smuggling shapes (whitespace before colon, obs-fold, bare CR, CL+TE, duplicate
 * Content-Length or Host, Host vs absolute-form), caps on head, target and field count.
 */
#include <stdlib.h>

#include "tlsgate/http.h"
#include "tg_test.h"

static struct tg_http_req req;

/* Parse @len bytes from an exact-size heap copy, so ASan sees any read past the end. */
static enum tg_err parse_n(const void *p, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	enum tg_err e;

	memcpy(b, p, len);
	e = tg_http_req_parse(&req, b, len);
	/* Spans point into b: rebase them onto p for the checks that follow. */
	if (e == TG_OK) {
		const uint8_t *base = p;
		size_t i;
		struct tg_span *spans[] = { &req.method, &req.target, &req.scheme, &req.host };

		for (i = 0; i < sizeof(spans) / sizeof(spans[0]); i++)
			if (spans[i]->p)
				spans[i]->p = base + (spans[i]->p - b);
		for (i = 0; i < req.n_fields; i++) {
			req.fields[i].name.p = base + (req.fields[i].name.p - b);
			req.fields[i].value.p = base + (req.fields[i].value.p - b);
		}
	}
	free(b);
	return e;
}

static enum tg_err parse(const char *s)
{
	return parse_n(s, strlen(s));
}

/* A valid head: OK with head_len = its length, every proper prefix NEED_MORE. */
static void check_head(const char *s)
{
	size_t n = strlen(s), i, bad = 0;

	CHECK_ERR(parse(s), TG_OK);
	CHECK_INT(req.head_len, n);
	for (i = 0; i < n; i++) {
		enum tg_err e = parse_n(s, i);

		if (e != TG_NEED_MORE) {
			fprintf(stderr, "prefix %zu of \"%s\": %s\n", i, s, tg_err_name(e));
			bad++;
		}
	}
	CHECK_INT(bad, 0);
	CHECK_ERR(parse(s), TG_OK);
}

/* ---- real requests (shared captures) ---- */

/* http1.pcapng frame 12 */
static const char android_head[] =
	"HEAD /generate_204 HTTP/1.1\r\n"
	"Host: connectivitycheck.gstatic.com\r\n"
	"Connection: keep-alive\r\n"
	"User-Agent: Mozilla/5.0 (Linux; Android 11.0; Build/RQ1A.210105.003) AppleWebKit/537.36 "
	"(KHTML, like Gecko) Chrome/92.0.4515.159 Safari/537.36 CrKey/1.56.500000 "
	"DeviceType/AndroidTV\r\n"
	"Accept-Encoding: gzip, deflate\r\n"
	"Accept-Language: en-US\r\n"
	"\r\n";

/* http1-with-cookies.pcapng frame 5 */
static const char curl_get[] = "GET / HTTP/1.1\r\n"
			       "Host: localhost:8000\r\n"
			       "User-Agent: curl/8.1.2\r\n"
			       "Accept: */*\r\n"
			       "Referer: https://fake.example\r\n"
			       "Cookie: yummy_cookie=choco; tasty_cookie=strawberry\r\n"
			       "Accept-Language: da, en-GB;q=0.8, en;q=0.7\r\n"
			       "\r\n";

/* https-connect.pcap frame 4 */
static const char falcon_connect[] = "CONNECT ts01-b.cloudsink.net:443 HTTP/1.0\r\n"
				     "User-Agent: CrowdStrike Falcon Sensor\r\n"
				     "\r\n";

/* http-empty-useragent.pcap frames 5, 7, 9: bare LF, sent in three segments. */
static const char es_bare_lf[] = "GET / HTTP/1.0\nUser-Agent:\n\n";

static void test_real(void)
{
	const struct tg_span *v;

	check_head(android_head);
	CHECK_SPAN(req.method, "HEAD");
	CHECK_SPAN(req.target, "/generate_204");
	CHECK_INT(req.form, TG_HTTP_FORM_ORIGIN);
	CHECK_SPAN(req.host, "connectivitycheck.gstatic.com");
	CHECK(!req.has_port);
	CHECK_INT(req.version_minor, 1);
	CHECK_INT(req.n_fields, 5);
	CHECK(!req.has_content_length && !req.chunked);
	v = tg_http_req_field(&req, "user-agent");
	CHECK(v != NULL && v->len > 10 && memcmp(v->p, "Mozilla/5.0", 11) == 0);
	v = tg_http_req_field(&req, "ACCEPT-ENCODING");
	CHECK(v != NULL);
	if (v)
		CHECK_SPAN(*v, "gzip, deflate");
	CHECK(tg_http_req_field(&req, "cookie") == NULL);
	CHECK_SPAN(tg_http_req_path(&req), "/generate_204");

	check_head(curl_get);
	CHECK_SPAN(req.host, "localhost");
	CHECK(req.has_port);
	CHECK_INT(req.port, 8000);
	CHECK_SPAN(req.fields[4].name, "Cookie");
	CHECK_SPAN(req.fields[4].value, "yummy_cookie=choco; tasty_cookie=strawberry");

	check_head(falcon_connect);
	CHECK_SPAN(req.method, "CONNECT");
	CHECK_INT(req.form, TG_HTTP_FORM_AUTHORITY);
	CHECK_SPAN(req.host, "ts01-b.cloudsink.net");
	CHECK_INT(req.port, 443);
	CHECK_INT(req.version_minor, 0);
	CHECK_INT(tg_http_req_path(&req).len, 0);

	check_head(es_bare_lf);
	CHECK_INT(req.version_minor, 0);
	CHECK_INT(req.host.len, 0);
	CHECK(req.host.p == NULL);
	CHECK_INT(req.n_fields, 1);
	CHECK_SPAN(req.fields[0].name, "User-Agent");
	CHECK_INT(req.fields[0].value.len, 0);
}

static void test_body_follows(void)
{
	static const char s[] = "POST /inform HTTP/1.1\r\nHost: unifi:8080\r\n"
				"Content-Length: 5\r\n\r\nhello";

	CHECK_ERR(parse(s), TG_OK);
	CHECK_INT(req.head_len, strlen(s) - 5);
	CHECK(req.has_content_length);
	CHECK_INT(req.content_length, 5);
	CHECK_SPAN(req.host, "unifi");
	CHECK_INT(req.port, 8080);
	/* A second request in the same segment is not this parser's business. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\n"), TG_OK);
	CHECK_INT(req.head_len, 27);
	/* Empty lines before the request line are skipped (RFC 9112 2.2). */
	check_head("\r\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK_SPAN(req.method, "GET");
	CHECK_ERR(parse_n("", 0), TG_NEED_MORE);
}

/* ---- request line ---- */

static void test_request_line(void)
{
	/* Not HTTP at all: known from the first byte. */
	CHECK_ERR(parse_n("\x16\x03\x01", 1), TG_ERR_HTTP_METHOD);
	CHECK_ERR(parse("HTTP/1.1 200 OK\r\n"), TG_ERR_HTTP_METHOD);
	CHECK_ERR(parse(" GET / HTTP/1.1\r\n"), TG_ERR_HTTP_METHOD);
	CHECK_ERR(parse("GE(T / HTTP/1.1\r\n"), TG_ERR_HTTP_METHOD);
	CHECK_ERR(parse("GET\r\n"), TG_ERR_HTTP_METHOD);
	CHECK_ERR(parse("GET\t/ HTTP/1.1\r\n"), TG_ERR_HTTP_METHOD);
	CHECK_ERR(parse("GET"), TG_NEED_MORE);
	/* Extension methods are tokens too. */
	CHECK_ERR(parse("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("PROPFIND /d HTTP/1.1\r\nHost: a\r\n\r\n"), TG_OK);
	/* Target */
	CHECK_ERR(parse("GET  / HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET /a\x01 HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET /a\x7f HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET /\xc3\xa9 HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET /a\tb HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET a HTTP/1.1\r\nHost: a\r\n\r\n"), TG_ERR_HTTP_TARGET);
	/* Version */
	CHECK_ERR(parse("GET /\r\n"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET /\n"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET / HTTP/1.2\r\n"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET / HTTP/2.0\r\n"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET / http/1.1\r\n"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET / HTTP/1.1 \r\n"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET / HTTP/1.10\r\n"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET / HTTP/1.1x"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET / HTTX"), TG_ERR_HTTP_VERSION);
	CHECK_ERR(parse("GET / HTT"), TG_NEED_MORE);
	/* Bare CR ends nothing. */
	CHECK_ERR(parse("GET / HTTP/1.1\rHost: a\r\n\r\n"), TG_ERR_HTTP_EOL);
	CHECK_ERR(parse("\rGET / HTTP/1.1\r\n"), TG_ERR_HTTP_EOL);
	CHECK_ERR(parse("GET / HTTP/1.1\r"), TG_NEED_MORE);
}

/* ---- target forms ---- */

static void test_forms(void)
{
	check_head(
		"GET http://Example.COM:8080/a/b?c=d#f HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
	CHECK_INT(req.form, TG_HTTP_FORM_ABSOLUTE);
	CHECK_SPAN(req.scheme, "http");
	CHECK_SPAN(req.host, "Example.COM");
	CHECK(req.has_port);
	CHECK_INT(req.port, 8080);
	CHECK_SPAN(tg_http_req_path(&req), "/a/b");
	/* The target's authority is what the server uses: Host must agree with it. */
	CHECK_ERR(parse("GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n"),
		  TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET http://a.example:81/ HTTP/1.1\r\nHost: a.example:82\r\n\r\n"),
		  TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET http://a.example/ HTTP/1.1\r\nHost: a.example:81\r\n\r\n"),
		  TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET http://a.example/ HTTP/1.1\r\nHost: a.example:80\r\n\r\n"), TG_OK);
	CHECK_ERR(parse("GET https://a.example/ HTTP/1.1\r\nHost: a.example:443\r\n\r\n"), TG_OK);
	CHECK_ERR(parse("GET HTTPS://a.example/ HTTP/1.1\r\nHost: a.example:80\r\n\r\n"),
		  TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET http://a.example:81/ HTTP/1.1\r\nHost: A.EXAMPLE\r\n\r\n"), TG_OK);
	CHECK_SPAN(req.host, "a.example");
	CHECK_INT(req.port, 81);
	/* HTTP/1.1 still needs Host; HTTP/1.0 takes the URI's. */
	CHECK_ERR(parse("GET http://a.example/ HTTP/1.1\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET http://a.example HTTP/1.0\r\n\r\n"), TG_OK);
	CHECK_SPAN(req.host, "a.example");
	CHECK_SPAN(tg_http_req_path(&req), "/");
	CHECK_ERR(parse("GET http://a.example?q HTTP/1.0\r\n\r\n"), TG_OK);
	CHECK_SPAN(tg_http_req_path(&req), "/");
	/* userinfo, other schemes, no authority, empty host, bad port */
	CHECK_ERR(parse("GET http://u:p@a.example/ HTTP/1.0\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET ftp://a.example/ HTTP/1.0\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET http:/a.example/ HTTP/1.0\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET http:a HTTP/1.0\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET http:// HTTP/1.0\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET http:///x HTTP/1.0\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET http://a:99999/ HTTP/1.0\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET http://a:/ HTTP/1.0\r\n\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET http://[::1]:8443/x HTTP/1.0\r\n\r\n"), TG_OK);
	CHECK_SPAN(req.host, "[::1]");
	CHECK_INT(req.port, 8443);

	/* CONNECT takes authority-form only, with a port; authority-form is CONNECT's only. */
	check_head("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
	CHECK_INT(req.form, TG_HTTP_FORM_AUTHORITY);
	CHECK_ERR(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n"), TG_OK);
	CHECK_ERR(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:80\r\n\r\n"),
		  TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: evil.com:443\r\n\r\n"),
		  TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("CONNECT example.com HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("CONNECT / HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("CONNECT http://example.com:443/ HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("GET example.com:443 HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("connect example.com:443 HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	/* asterisk-form is OPTIONS's only */
	check_head("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n");
	CHECK_INT(req.form, TG_HTTP_FORM_ASTERISK);
	CHECK_SPAN(tg_http_req_path(&req), "*");
	CHECK_ERR(parse("GET * HTTP/1.1\r\n"), TG_ERR_HTTP_TARGET);
	CHECK_ERR(parse("OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n"), TG_OK);
	/* origin-form paths */
	CHECK_ERR(parse("GET /a/b?c/d#e HTTP/1.1\r\nHost: a\r\n\r\n"), TG_OK);
	CHECK_SPAN(tg_http_req_path(&req), "/a/b");
	CHECK_ERR(parse("GET //evil.example/x HTTP/1.1\r\nHost: a\r\n\r\n"), TG_OK);
	CHECK_INT(req.form, TG_HTTP_FORM_ORIGIN);
	CHECK_SPAN(tg_http_req_path(&req), "//evil.example/x");
	CHECK_ERR(parse("GET /?x HTTP/1.1\r\nHost: a\r\n\r\n"), TG_OK);
	CHECK_SPAN(tg_http_req_path(&req), "/");
}

/* ---- Host ---- */

static void test_host(void)
{
	CHECK_ERR(parse("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n"), TG_OK);
	CHECK_INT(req.host.len, 0);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), TG_ERR_HTTP_HOST);
	/* A duplicate Host fails as soon as it is complete, before the head is. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nHOST: b\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost:   \r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a,b\r\n\r\n"), TG_OK); /* sub-delims are legal */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a:\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a:000080\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a:65535\r\n\r\n"), TG_OK);
	CHECK_INT(req.port, 65535);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a:0\r\n\r\n"), TG_OK);
	CHECK(req.has_port);
	CHECK_INT(req.port, 0);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: ex%41mple.com\r\n\r\n"), TG_OK);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: ex%4mple.com\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: ex%\r\n\r\n"), TG_ERR_HTTP_HOST);
	/* Whitespace around the value is not part of it. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: \t Example.com. \t\r\n\r\n"), TG_OK);
	CHECK_SPAN(req.host, "Example.com.");
	CHECK(!req.has_port);
	/* IP literals keep their brackets. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n"), TG_OK);
	CHECK_SPAN(req.host, "[2001:db8::1]");
	CHECK_INT(req.port, 8080);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n"), TG_OK);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: []\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), TG_ERR_HTTP_HOST);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n"), TG_OK);
	CHECK_SPAN(req.host, "192.0.2.1");
}

/* ---- field syntax and smuggling shapes ---- */

static void test_fields(void)
{
	/* Whitespace between name and colon: RFC 9112 5.1 says reject. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
		  TG_ERR_HTTP_HEADER);
	/* obs-fold, and whitespace before the first field line. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n"), TG_NEED_MORE);
	/* Names: empty, not a token, no colon. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\n: a\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nH\xc3\xb6st: a\r\n\r\n"), TG_ERR_HTTP_HEADER);
	/* Values: CTLs and DEL refused; obs-text kept; bare CR refused; bare LF ends. */
	CHECK_ERR(parse_n("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x0b\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: \xff\xfe\r\n\r\n"), TG_OK);
	CHECK_INT(req.fields[1].value.len, 2);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\rHost: b\r\n\r\n"), TG_ERR_HTTP_EOL);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n"), TG_ERR_HTTP_EOL);
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), TG_ERR_HTTP_EOL);
	/* With bare LF, "X: a\nHost: b" is two fields, as nginx reads it: a duplicate Host. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\nHost: b\r\n\r\n"), TG_ERR_HTTP_HOST);
	check_head("GET / HTTP/1.1\nHost: a\r\nX: y\n\r\n");
	CHECK_INT(req.n_fields, 2);
	CHECK_SPAN(req.fields[1].value, "y");
	/* Values are trimmed; inner whitespace stays. */
	CHECK_ERR(parse("GET / HTTP/1.1\r\nHost: a\r\nX:\t a  b \t\r\n\r\n"), TG_OK);
	CHECK_SPAN(req.fields[1].value, "a  b");
}

static void test_framing(void)
{
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), TG_OK);
	CHECK(req.has_content_length);
	CHECK_INT(req.content_length, 0);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n"),
		  TG_OK);
	CHECK_INT(req.content_length, 999999999999999999ULL);
	CHECK_ERR(
		parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000000\r\n\r\n"),
		TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n"), TG_ERR_HTTP_FRAMING);
	/* Transfer-Encoding: chunked last and once; never with Content-Length; not in 1.0. */
	check_head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	CHECK(req.chunked);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip,\t Chunked\r\n\r\n"),
		  TG_OK);
	CHECK(req.chunked);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
			"Transfer-Encoding: , chunked ,\r\n\r\n"),
		  TG_OK);
	CHECK(req.chunked);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
			"Transfer-Encoding: chunked\r\n\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
			"Transfer-encoding: x\r\n\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;a=b\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0b\r\n\r\n"),
		  TG_ERR_HTTP_HEADER);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
			"Transfer-Encoding: chunked\r\n\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
			"Content-Length: 4\r\n\r\n"),
		  TG_ERR_HTTP_FRAMING);
	CHECK_ERR(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
		  TG_ERR_HTTP_FRAMING);
	/* Lookalike names are just other fields. */
	CHECK_ERR(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n"
			"Content-Length: 4\r\n\r\n"),
		  TG_OK);
	CHECK(!req.chunked);
}

/* ---- caps ---- */

/* A head of exactly @total bytes: request line, Host, one filler field, blank line. */
static size_t build_head(char *b, size_t total)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	size_t n = strlen(pre);

	memcpy(b, pre, n);
	memset(b + n, 'x', total - n - 4);
	memcpy(b + total - 4, "\r\n\r\n", 4);
	return total;
}

static void test_caps(void)
{
	static char b[3 * TG_CAP_HTTP_HEAD];
	size_t n, i;

	n = build_head(b, TG_CAP_HTTP_HEAD);
	CHECK_ERR(parse_n(b, n), TG_OK);
	CHECK_INT(req.head_len, TG_CAP_HTTP_HEAD);
	CHECK_ERR(parse_n(b, n + 100), TG_OK);
	CHECK_ERR(parse_n(b, n - 1), TG_NEED_MORE);
	n = build_head(b, TG_CAP_HTTP_HEAD + 1);
	CHECK_ERR(parse_n(b, n - 1), TG_ERR_CAP);
	CHECK_ERR(parse_n(b, n), TG_ERR_CAP);
	CHECK_ERR(parse_n(b, TG_CAP_HTTP_HEAD - 1), TG_NEED_MORE);
	CHECK_ERR(parse_n(b, sizeof(b)), TG_ERR_CAP);

	/* Target: TG_CAP_HTTP_TARGET is fine; one more fails before the line ends. */
	memcpy(b, "GET /", 5);
	memset(b + 5, 'a', TG_CAP_HTTP_TARGET - 1);
	memcpy(b + 4 + TG_CAP_HTTP_TARGET, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
	CHECK_ERR(parse_n(b, 4 + TG_CAP_HTTP_TARGET + 23), TG_OK);
	CHECK_INT(req.target.len, TG_CAP_HTTP_TARGET);
	memset(b + 5, 'a', TG_CAP_HTTP_TARGET);
	CHECK_ERR(parse_n(b, 5 + TG_CAP_HTTP_TARGET), TG_ERR_CAP);
	CHECK_ERR(parse_n(b, 4 + TG_CAP_HTTP_TARGET), TG_NEED_MORE);

	/* Field count. */
	for (i = 0; i < 2; i++) {
		size_t k;

		memcpy(b, "GET / HTTP/1.1\r\nHost: a\r\n", 25);
		n = 25;
		for (k = 1; k < TG_CAP_HTTP_HEADERS + i; k++) {
			memcpy(b + n, "X: y\r\n", 6);
			n += 6;
		}
		memcpy(b + n, "\r\n", 2);
		n += 2;
		CHECK_ERR(parse_n(b, n), i == 0 ? TG_OK : TG_ERR_CAP);
		if (i == 0)
			CHECK_INT(req.n_fields, TG_CAP_HTTP_HEADERS);
	}
}

int main(void)
{
	test_real();
	test_body_follows();
	test_request_line();
	test_forms();
	test_host();
	test_fields();
	test_framing();
	test_caps();
	return tg_test_done();
}
