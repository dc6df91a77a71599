/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_metrics_http.c - the metrics listener's two parsers (daemon/metrics_http.c): the HTTP
 * request head a local client sends, fed every prefix as the bytes would arrive, and the
 * --metrics-listen address (the input up to its first NUL, as a C string). Invariants (abort()
 * on violation):
 * - a head is whole (0) or not yet (1); once whole it stays whole; a whole head's status is
 *   200, 400, 404 or 405, and 200 only for GET or HEAD of /metrics;
 * - an accepted address is IPv4 in 127.0.0.0/8 or IPv6 ::1 with a port 1..65535 and the
 *   matching length; a refused one says why.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "metrics_http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_addr(const uint8_t *data, size_t size)
{
	struct sockaddr_storage sa;
	const char *why = NULL;
	socklen_t len = 0;
	char *s = malloc(size + 1);

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (metrics_http_addr_parse(s, &sa, &len, &why) == 0) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;

		if (sa.ss_family == AF_INET) {
			if (len != sizeof(*in) || ntohl(in->sin_addr.s_addr) >> 24 != 127 ||
			    in->sin_port == 0)
				abort();
		} else if (sa.ss_family == AF_INET6) {
			if (len != sizeof(*in6) || !IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
			    in6->sin6_port == 0)
				abort();
		} else {
			abort();
		}
	} else if (why == NULL) {
		abort();
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool whole = false;
	size_t len;

	for (len = 0; len <= size; len++) {
		int status = -1;
		bool head = false;
		int rc = metrics_http_parse(data, len, &status, &head);

		if (rc == 1) {
			if (whole)
				abort();
			continue;
		}
		if (rc != 0)
			abort();
		whole = true;
		if (status != 200 && status != 400 && status != 404 && status != 405)
			abort();
		if (status == 200 && !(head ? len >= 14 && memcmp(data, "HEAD /metrics", 13) == 0
					    : len >= 13 && memcmp(data, "GET /metrics", 12) == 0))
			abort();
	}
	check_addr(data, size);
	return 0;
}
