/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics_http.c - the metrics over HTTP on a loopback address; see metrics_http.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "metrics_http.h"

struct metrics_http {
	struct connset *cs;
	void (*write)(void *arg, FILE *out);
	void *arg;
};

int metrics_http_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len,
			    const char **why)
{
	char host[64];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;
	char *end;
	unsigned long port;

	memset(sa, 0, sizeof(*sa));
	if (colon == NULL || colon == s) {
		*why = "expected ADDRESS:PORT";
		return -1;
	}
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']') {
			*why = "expected [IPv6]:PORT";
			return -1;
		}
		h = s + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		*why = "address too long";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end != '\0' || port == 0 || port > 65535) {
		*why = "port must be 1..65535";
		return -1;
	}
	if (s[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
			*why = "not an IPv4 address (IPv6: [::1]:PORT)";
			return -1;
		}
		if ((ntohl(in->sin_addr.s_addr) >> 24) != 127) {
			*why = "not a loopback address: metrics are served on 127.0.0.0/8 or ::1 "
			       "only";
			return -1;
		}
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return 0;
	}
	{
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
			*why = "not an IPv6 address";
			return -1;
		}
		if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
			*why = "not a loopback address: metrics are served on 127.0.0.0/8 or ::1 "
			       "only";
			return -1;
		}
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
	}
	return 0;
}

int metrics_http_parse(const uint8_t *buf, size_t len, int *status, bool *head)
{
	static const char path[] = "/metrics";
	const uint8_t *end = NULL, *sp1, *sp2;
	size_t i, mlen, plen;

	for (i = 0; i + 1 < len && end == NULL; i++)
		if (buf[i] == '\n' && (buf[i + 1] == '\n' ||
				       (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')))
			end = buf + i;
	if (end == NULL)
		return 1;
	*head = false;
	*status = 400;
	/* The request line: METHOD SP TARGET SP HTTP/1.x */
	sp1 = memchr(buf, ' ', (size_t)(end - buf));
	if (sp1 == NULL)
		return 0;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (sp2 == NULL || end - sp2 < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return 0;
	mlen = (size_t)(sp1 - buf);
	plen = (size_t)(sp2 - sp1 - 1);
	*head = mlen == 4 && memcmp(buf, "HEAD", 4) == 0;
	if (!*head && !(mlen == 3 && memcmp(buf, "GET", 3) == 0)) {
		*status = 405;
		return 0;
	}
	/* A query string is ignored, as Prometheus servers do. */
	for (i = 0; i < plen && sp1[1 + i] != '?'; i++)
		;
	*status = i == sizeof(path) - 1 && memcmp(sp1 + 1, path, i) == 0 ? 200 : 404;
	return 0;
}

static int metrics_admit(void *arg, int fd, FILE *out)
{
	(void)arg;
	(void)fd;
	(void)out;
	return 0;
}

static enum connset_step metrics_input(void *arg, const uint8_t *buf, size_t len, FILE *out)
{
	struct metrics_http *m = arg;
	char *body = NULL;
	size_t blen = 0;
	FILE *bf;
	int status;
	bool head;

	if (metrics_http_parse(buf, len, &status, &head) == 1)
		return CONNSET_MORE;
	if (status != 200) {
		const char *text = status == 404   ? "Not Found"
				   : status == 405 ? "Method Not Allowed"
						   : "Bad Request";

		fprintf(out,
			"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n\r\n%s\n",
			status, text, strlen(text) + 1, text);
		return status == 404 ? CONNSET_REPLY : CONNSET_REFUSE;
	}
	bf = open_memstream(&body, &blen);
	if (bf == NULL)
		return CONNSET_REFUSE;
	m->write(m->arg, bf);
	if (fclose(bf) != 0) {
		free(body);
		return CONNSET_REFUSE;
	}
	fprintf(out,
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n",
		blen);
	if (!head)
		fwrite(body, 1, blen, out);
	free(body);
	return CONNSET_REPLY;
}

struct metrics_http *metrics_http_new(const char *addr, void (*write)(void *arg, FILE *out),
				      void *arg, char *err, size_t errlen)
{
	static const struct connset_ops ops = { metrics_admit, metrics_input };
	static const struct connset_limits lim = {
		METRICS_MAX_CLIENTS, METRICS_REQUEST_MAX, METRICS_TIMEOUT_MS,
		"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
	};
	struct sockaddr_storage sa;
	struct metrics_http *m = NULL;
	const char *why = NULL;
	socklen_t salen;
	int fd = -1, one_ = 1;

	if (metrics_http_addr_parse(addr, &sa, &salen, &why) == -1) {
		snprintf(err, errlen, "--metrics-listen %s: %s", addr, why);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m == NULL || fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one_, sizeof(one_)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, salen) == -1 ||
	    listen(fd, METRICS_MAX_CLIENTS) == -1) {
		snprintf(err, errlen, "--metrics-listen %s: %s", addr, strerror(errno));
		goto fail;
	}
	m->write = write;
	m->arg = arg;
	m->cs = connset_new(fd, &ops, m, &lim);
	fd = -1; /* connset's now, closed by it even when it fails */
	if (m->cs == NULL) {
		snprintf(err, errlen, "--metrics-listen %s: out of memory", addr);
		goto fail;
	}
	return m;
fail:
	if (fd != -1)
		close(fd);
	free(m);
	return NULL;
}

void metrics_http_free(struct metrics_http *m)
{
	if (m == NULL)
		return;
	connset_free(m->cs);
	free(m);
}

int metrics_http_pollfd(const struct metrics_http *m)
{
	return connset_pollfd(m->cs);
}

void metrics_http_dispatch(struct metrics_http *m)
{
	connset_dispatch(m->cs);
}

void metrics_http_stats_get(const struct metrics_http *m, struct connset_stats *out)
{
	connset_stats_get(m->cs, out);
}
