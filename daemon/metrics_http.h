/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics_http.h - tlsgated --metrics-listen ADDR:PORT: an HTTP/1.x listener on a loopback
 * address that answers GET (or HEAD) /metrics with the Prometheus text (metrics.h) and closes.
 * Served by connset.c from the main loop within the METRICS_* caps; only loopback addresses
 * are accepted, so the counters never leave the machine unless an admin forwards them.
 */
#ifndef TLSGATE_METRICS_HTTP_H
#define TLSGATE_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/socket.h>

#include "connset.h"

/*
 * metrics_http_addr_parse() - "127.0.0.1:9309" or "[::1]:9309" into @sa / @len. Only loopback
 * addresses (127.0.0.0/8, ::1) and ports 1..65535 are accepted; -1 with *@why otherwise.
 */
int metrics_http_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len,
			    const char **why);

/*
 * metrics_http_parse() - an HTTP/1.x request head in @len bytes at @buf. 0 when it is whole
 * (*@status: 200 for GET or HEAD /metrics, 404 another path, 405 another method, 400
 * malformed; *@head: HEAD), 1 when more is needed. Pure.
 */
int metrics_http_parse(const uint8_t *buf, size_t len, int *status, bool *head);

struct metrics_http;
/*
 * metrics_http_new() - listen on @addr (metrics_http_addr_parse()) and answer each GET
 * /metrics with what @write writes at that moment. NULL with @err.
 */
struct metrics_http *metrics_http_new(const char *addr, void (*write)(void *arg, FILE *out),
				      void *arg, char *err, size_t errlen);
void metrics_http_free(struct metrics_http *m);
int metrics_http_pollfd(const struct metrics_http *m);
void metrics_http_dispatch(struct metrics_http *m);
void metrics_http_stats_get(const struct metrics_http *m, struct connset_stats *out);

#endif
