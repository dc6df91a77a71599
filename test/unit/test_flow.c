/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_flow.c - flow examination (lib/flow.c): what a client's first bytes are. Real
 * ClientHellos from test/data/clienthello at every length (NEED_MORE until complete, then TLS
 * with the SNI), HTTP request heads and each failure class, TCP-framed DNS, and the facts
 * tg_flow_facts_set_exam() makes of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/flow.h"
#include "tg_test.h"

static uint8_t scratch[TG_CAP_CH_BYTES];
static struct tg_exam x;

static void exam(const void *p, size_t len, bool dns)
{
	tg_flow_examine(p, len, dns, scratch, &x);
}

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	const char *src = getenv("TG_SRC");
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/test/data/clienthello/%s", src ? src : ".", name);
	f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Every prefix of a real ClientHello is NEED_MORE; the whole is TLS with the SNI. */
static void test_tls(void)
{
	static const struct {
		const char *file, *sni;
	} chs[] = {
		{ "chromium.bin", "chromium.example" },
		{ "curl_h2.bin", "curl.example" },
		{ "derived_chromium_rec1.bin", "chromium.example" },
	};
	static uint8_t buf[32768];
	struct tg_flow_facts f;
	char ja4[TG_CAP_JA4_LEN + 1];
	size_t i, n, k;

	for (i = 0; i < sizeof(chs) / sizeof(chs[0]); i++) {
		n = load(chs[i].file, buf, sizeof(buf));
		CHECK(n > 100);
		if (n == 0)
			continue;
		for (k = 0; k < n; k++) {
			exam(buf, k, false);
			if (x.kind != TG_EXAM_NEED_MORE) {
				CHECK_INT(x.kind, TG_EXAM_NEED_MORE);
				break;
			}
		}
		exam(buf, n, false);
		CHECK_INT(x.kind, TG_EXAM_TLS);
		CHECK_MEM(x.ch.sni.p, x.ch.sni.len, chs[i].sni);
		memset(&f, 0, sizeof(f));
		f.kind = TG_FLOW_OTHER;
		tg_flow_facts_set_exam(&f, &x, ja4);
		CHECK_INT(f.kind, TG_FLOW_TLS);
		CHECK_INT(f.fail, TG_FLOW_FAIL_NONE);
		CHECK_MEM(f.sni.p, f.sni.len, chs[i].sni);
		CHECK_INT(f.ja4.len, TG_CAP_JA4_LEN);
		/* One byte changed in the handshake type: a TLS record that is no ClientHello. */
		buf[5] = 2;
		exam(buf, n, false);
		CHECK_INT(x.kind, TG_EXAM_FAIL);
		CHECK_INT(x.fail, TG_FLOW_FAIL_UNPARSABLE_CH);
		tg_flow_facts_set_exam(&f, &x, ja4);
		CHECK_INT(f.fail, TG_FLOW_FAIL_UNPARSABLE_CH);
	}
	/* A record version that is not 3.x: unparsable as soon as it is seen. */
	exam("\x16\x09\x01\x00\x10", 5, false);
	CHECK_INT(x.kind, TG_EXAM_FAIL);
	CHECK_INT(x.fail, TG_FLOW_FAIL_UNPARSABLE_CH);
	exam("", 0, false);
	CHECK_INT(x.kind, TG_EXAM_NEED_MORE);
}

static void test_http(void)
{
	static const char get[] =
		"GET /a?b HTTP/1.1\r\nHost: www.example.org:8080\r\n\r\nGET /next";
	static const char post[] =
		"POST /up HTTP/1.1\r\nHost: h.example\r\nContent-Length: 5\r\n\r\n";
	struct tg_flow_facts f;
	char ja4[TG_CAP_JA4_LEN + 1];
	char *big;
	size_t i, head = strlen(get) - strlen("GET /next");

	for (i = 1; i < head; i++) {
		exam(get, i, false);
		CHECK_INT(x.kind, TG_EXAM_NEED_MORE);
	}
	exam(get, sizeof(get) - 1, false);
	CHECK_INT(x.kind, TG_EXAM_HTTP);
	CHECK_INT(x.used, head);
	CHECK_MEM(x.req.host.p, x.req.host.len, "www.example.org");
	memset(&f, 0, sizeof(f));
	tg_flow_facts_set_exam(&f, &x, ja4);
	CHECK_INT(f.kind, TG_FLOW_HTTP);
	CHECK_MEM(f.http_host.p, f.http_host.len, "www.example.org");
	CHECK_MEM(f.http_path.p, f.http_path.len, "/a?b");
	{
		uint32_t span = 0;

		CHECK(tg_flow_exam_span(&x, &span));
		CHECK_INT(span, head);
		exam(post, sizeof(post) - 1, false);
		CHECK_INT(x.kind, TG_EXAM_HTTP);
		CHECK(x.req.has_content_length && x.req.content_length == 5);
		/* The next request begins after the body. */
		CHECK(tg_flow_exam_span(&x, &span));
		CHECK_INT(span, sizeof(post) - 1 + 5);
		/* A chunked body or CONNECT: the next request cannot be found. */
		exam("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 56, false);
		CHECK_INT(x.kind, TG_EXAM_HTTP);
		CHECK(!tg_flow_exam_span(&x, &span));
		/* A body over TG_CAP_HTTP_BODY_SKIP: the cap ends it too; at the cap it goes on. */
		exam("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1073741825\r\n\r\n", 56, false);
		CHECK_INT(x.kind, TG_EXAM_HTTP);
		CHECK(x.req.content_length == TG_CAP_HTTP_BODY_SKIP + 1ull);
		CHECK(!tg_flow_exam_span(&x, &span));
		exam("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1073741824\r\n\r\n", 56, false);
		CHECK(tg_flow_exam_span(&x, &span));
		CHECK_INT(span, 56 + TG_CAP_HTTP_BODY_SKIP);
		exam("CONNECT h.example:443 HTTP/1.1\r\nHost: h.example:443\r\n\r\n", 55, false);
		CHECK_INT(x.kind, TG_EXAM_HTTP);
		CHECK(!tg_flow_exam_span(&x, &span));
	}
	/* Starts like a request, then does not parse: a failed request, not another protocol. */
	exam("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 36, false);
	CHECK_INT(x.kind, TG_EXAM_FAIL);
	CHECK_INT(x.fail, TG_FLOW_FAIL_UNPARSABLE_CH);
	/* Another protocol. */
	exam("SSH-2.0-OpenSSH_9.2\r\n", 21, false);
	CHECK_INT(x.kind, TG_EXAM_FAIL);
	CHECK_INT(x.fail, TG_FLOW_FAIL_NON_TLS);
	exam("\x00\x01\x02", 3, false);
	CHECK_INT(x.fail, TG_FLOW_FAIL_NON_TLS);
	/* A head that never ends within the cap: the reassembly window. */
	big = malloc(TG_CAP_HTTP_HEAD + 64);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'a', TG_CAP_HTTP_HEAD + 64 - 19);
	exam(big, TG_CAP_HTTP_HEAD + 64, false);
	CHECK_INT(x.kind, TG_EXAM_FAIL);
	CHECK_INT(x.fail, TG_FLOW_FAIL_REASM_WINDOW);
	free(big);
}

static void test_dns(void)
{
	/* Two framed queries back to back: the first is examined, its size with the prefix. */
	static const uint8_t q[] = { 0, 17, 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0,
				     0, 0,  1,	  'a',	0, 0, 1, 0, 1, 0, 3 };
	struct tg_flow_facts f;
	char ja4[TG_CAP_JA4_LEN + 1];

	exam(q, 1, true);
	CHECK_INT(x.kind, TG_EXAM_NEED_MORE);
	exam(q, 18, true);
	CHECK_INT(x.kind, TG_EXAM_NEED_MORE);
	exam(q, sizeof(q), true);
	CHECK_INT(x.kind, TG_EXAM_DNS);
	CHECK_INT(x.used, 19);
	CHECK_INT(x.dns.len, 17);
	{
		uint32_t span = 0;

		CHECK(tg_flow_exam_span(&x, &span));
		CHECK_INT(span, 19);
	}
	memset(&f, 0, sizeof(f));
	tg_flow_facts_set_exam(&f, &x, ja4);
	CHECK_INT(f.kind, TG_FLOW_DNS);
	/* A zero or too short length prefix: unparsable DNS. */
	exam("\x00\x00", 2, true);
	CHECK_INT(x.kind, TG_EXAM_FAIL);
	CHECK_INT(x.fail, TG_FLOW_FAIL_UNPARSABLE_DNS);
	exam("\x00\x05xxxxx", 7, true);
	CHECK_INT(x.fail, TG_FLOW_FAIL_UNPARSABLE_DNS);
	tg_flow_facts_set_exam(&f, &x, ja4);
	CHECK_INT(f.kind, TG_FLOW_DNS);
	CHECK_INT(f.fail, TG_FLOW_FAIL_UNPARSABLE_DNS);
}

int main(void)
{
	test_tls();
	test_http();
	test_dns();
	return tg_test_done();
}
