/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_http.c - tg_http_req_parse() on arbitrary bytes. Invariants, each an abort() when broken:
 *  - the parse is deterministic;
 *  - one more byte never changes a verdict already reached: TG_OK stays TG_OK with the same
 *    head_len, an error stays the same error (NEED_MORE may become anything);
 *  - on TG_OK: head_len <= len and <= TG_CAP_HTTP_HEAD; every span lies inside the head; the
 *    head alone parses the same; every prefix tried (last byte dropped, half) is NEED_MORE;
 *    the path is inside the target (or the static "/");
 *  - NEED_MORE only below TG_CAP_HTTP_HEAD bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/http.h"

static struct tg_http_req r1, r2;

#define FUZZ_ASSERT(c)           \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static void check_span(struct tg_span s, const uint8_t *lo, size_t len)
{
	if (s.len == 0)
		return;
	FUZZ_ASSERT(s.p >= lo && s.p + s.len <= lo + len);
}

static bool span_eq(struct tg_span a, struct tg_span b)
{
	return a.p == b.p && a.len == b.len;
}

static bool req_eq(const struct tg_http_req *a, const struct tg_http_req *b)
{
	size_t i;

	if (!span_eq(a->method, b->method) || !span_eq(a->target, b->target) ||
	    a->form != b->form || !span_eq(a->scheme, b->scheme) || !span_eq(a->host, b->host) ||
	    a->has_port != b->has_port || a->port != b->port ||
	    a->version_minor != b->version_minor || a->head_len != b->head_len ||
	    a->has_content_length != b->has_content_length ||
	    a->content_length != b->content_length || a->chunked != b->chunked ||
	    a->n_fields != b->n_fields)
		return false;
	for (i = 0; i < a->n_fields; i++)
		if (!span_eq(a->fields[i].name, b->fields[i].name) ||
		    !span_eq(a->fields[i].value, b->fields[i].value))
			return false;
	return true;
}

static void check_ok(const struct tg_http_req *r, const uint8_t *p, size_t len)
{
	struct tg_span path;
	size_t i;

	/* The shortest head: "A / HTTP/1.0\n\n". */
	FUZZ_ASSERT(r->head_len <= len && r->head_len <= TG_CAP_HTTP_HEAD && r->head_len >= 14);
	FUZZ_ASSERT(r->method.len > 0);
	check_span(r->method, p, r->head_len);
	check_span(r->target, p, r->head_len);
	check_span(r->scheme, r->target.p, r->target.len);
	check_span(r->host, p, r->head_len);
	FUZZ_ASSERT(r->target.len > 0 && r->target.len <= TG_CAP_HTTP_TARGET);
	FUZZ_ASSERT(r->version_minor <= 1);
	FUZZ_ASSERT(r->version_minor == 0 || r->host.len > 0);
	FUZZ_ASSERT(r->n_fields <= TG_CAP_HTTP_HEADERS);
	if (r->form != TG_HTTP_FORM_ORIGIN && r->form != TG_HTTP_FORM_ASTERISK)
		check_span(r->host, r->target.p, r->target.len);
	if (r->form == TG_HTTP_FORM_AUTHORITY)
		FUZZ_ASSERT(r->has_port);
	for (i = 0; i < r->n_fields; i++) {
		FUZZ_ASSERT(r->fields[i].name.len > 0);
		check_span(r->fields[i].name, p, r->head_len);
		check_span(r->fields[i].value, p, r->head_len);
	}
	path = tg_http_req_path(r);
	if (!(path.len == 1 && path.p[0] == '/'))
		check_span(path, r->target.p, r->target.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum tg_err e1 = tg_http_req_parse(&r1, data, size);
	enum tg_err e2 = tg_http_req_parse(&r2, data, size);
	uint8_t *more;

	FUZZ_ASSERT(e1 == e2);
	if (e1 == TG_OK)
		FUZZ_ASSERT(req_eq(&r1, &r2));
	if (e1 == TG_NEED_MORE)
		FUZZ_ASSERT(size < TG_CAP_HTTP_HEAD);

	/* One more byte: a verdict already reached does not change. */
	more = malloc(size + 1);
	FUZZ_ASSERT(more != NULL);
	if (size)
		memcpy(more, data, size);
	more[size] = size ? data[0] : 'G';
	e2 = tg_http_req_parse(&r2, more, size + 1);
	if (e1 == TG_OK)
		FUZZ_ASSERT(e2 == TG_OK && r2.head_len == r1.head_len);
	else if (e1 != TG_NEED_MORE)
		FUZZ_ASSERT(e2 == e1);
	free(more);

	if (e1 != TG_OK)
		return 0;
	check_ok(&r1, data, size);
	/* The head alone, and its prefixes. */
	FUZZ_ASSERT(tg_http_req_parse(&r2, data, r1.head_len) == TG_OK && req_eq(&r1, &r2));
	FUZZ_ASSERT(tg_http_req_parse(&r2, data, r1.head_len - 1) == TG_NEED_MORE);
	FUZZ_ASSERT(tg_http_req_parse(&r2, data, r1.head_len / 2) == TG_NEED_MORE);
	return 0;
}
