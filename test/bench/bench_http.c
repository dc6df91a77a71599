/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_http.c - tg_http_req_parse() speed on real request heads from the shared captures,
 * whole and fed as a growing stream (every 100-byte step re-parsed from the start, as a caller
 * without state would). Prints ns per parse and MB/s; asserts nothing.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tlsgate/http.h"

static const char *const heads[] = {
	"HEAD /generate_204 HTTP/1.1\r\n"
	"Host: connectivitycheck.gstatic.com\r\n"
	"Connection: keep-alive\r\n"
	"User-Agent: Mozilla/5.0 (Linux; Android 11.0; Build/RQ1A.210105.003) AppleWebKit/537.36 "
	"(KHTML, like Gecko) Chrome/92.0.4515.159 Safari/537.36 CrKey/1.56.500000 "
	"DeviceType/AndroidTV\r\n"
	"Accept-Encoding: gzip, deflate\r\n"
	"Accept-Language: en-US\r\n"
	"\r\n",
	"GET / HTTP/1.1\r\n"
	"Host: localhost:8000\r\n"
	"User-Agent: curl/8.1.2\r\n"
	"Accept: */*\r\n"
	"Referer: https://fake.example\r\n"
	"Cookie: yummy_cookie=choco; tasty_cookie=strawberry\r\n"
	"Accept-Language: da, en-GB;q=0.8, en;q=0.7\r\n"
	"\r\n",
};

static struct tg_http_req req;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
	size_t h;

	for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		const uint8_t *p = (const uint8_t *)heads[h];
		size_t n = strlen(heads[h]), i, k, iters = 1000000, steps = 0;
		unsigned ok = 0;
		double t0, t1;

		t0 = now_ns();
		for (i = 0; i < iters; i++)
			ok += tg_http_req_parse(&req, p, n) == TG_OK;
		t1 = now_ns();
		printf("head %zu: %3zu bytes  %7.1f ns/parse  %7.1f MB/s  (%u ok)\n", h, n,
		       (t1 - t0) / (double)iters, (double)n * (double)iters / (t1 - t0) * 1e3, ok);
		t0 = now_ns();
		for (i = 0; i < iters / 10; i++)
			for (k = 100; k < n + 100; k += 100, steps++)
				ok += tg_http_req_parse(&req, p, k < n ? k : n) == TG_OK;
		t1 = now_ns();
		printf("        streamed in 100-byte steps: %7.1f ns per arrival\n",
		       (t1 - t0) / (double)steps);
	}
	return 0;
}
