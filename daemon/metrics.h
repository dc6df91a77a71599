/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics.h - the daemon's counters in the Prometheus text format (version 0.0.4), for
 * `tlsgatectl stats --format prometheus` and an optional HTTP listener on a loopback address
 * (tlsgated --metrics-listen 127.0.0.1:9309) that answers GET /metrics.
 *
 * Names follow Prometheus' conventions: a tlsgate_ prefix, the unit in the name (_seconds,
 * _bytes), _total on counters, HELP and TYPE before each family, and labels for what varies
 * (queue, action, reason, failure, outcome ...). README.md "Metrics" lists them.
 */
#ifndef TLSGATE_METRICS_H
#define TLSGATE_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/socket.h>

#include "tlsgate/bypass.h"

#include "caps.h"
#include "connset.h"
#include "decide.h"
#include "engine.h"
#include "proxy.h"
#include "queue.h"

struct metrics_queue {
	unsigned num;
	struct queue_stats q;
	bool kernel_ok; /* /proc/net/netfilter/nfnetlink_queue had the queue */
	struct queue_kstats k;
};

/* Everything the counters say at one moment (gathered by ctlsrv_snapshot()). */
struct metrics_snap {
	uint64_t start_time_s; /* the daemon's start, Unix time */
	uint64_t uptime_s;
	unsigned nq;
	struct metrics_queue q[TLSGATED_MAX_QUEUES];
	bool fail_open; /* settings.fail.queue_full is pass */
	struct eng_counters eng; /* summed over the queues */
	struct dec_counts dec;
	bool proxy_on;
	struct proxy_stats px;
	struct tg_bypass_stats bypass;
	bool control_on, metrics_on;
	struct connset_stats control, metrics;
	uint64_t reloads_ok, reloads_failed;
	uint64_t last_reload_s; /* Unix time of the last load (the start counts) */
	bool last_reload_ok;
};

/* Write @s in the Prometheus text format to @out. */
void metrics_render(const struct metrics_snap *s, FILE *out);

/*
 * metrics_addr_parse() - "127.0.0.1:9309" or "[::1]:9309" into @sa / @len. Only loopback
 * addresses (127.0.0.0/8, ::1) and ports 1..65535 are accepted; -1 with *@why otherwise.
 */
int metrics_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len,
		       const char **why);

/*
 * metrics_http_parse() - an HTTP/1.x request head in @len bytes at @buf. 0 when it is whole
 * (*@status: 200 for GET or HEAD /metrics, 404 another path, 405 another method, 400
 * malformed; *@head: HEAD), 1 when more is needed. Pure.
 */
int metrics_http_parse(const uint8_t *buf, size_t len, int *status, bool *head);

struct metrics;
/*
 * metrics_new() - listen on @addr (metrics_addr_parse()) and answer each GET /metrics with
 * what @snap gathers at that moment. NULL with @err.
 */
struct metrics *metrics_new(const char *addr, void (*snap)(void *arg, struct metrics_snap *s),
			    void *arg, char *err, size_t errlen);
void metrics_free(struct metrics *m);
int metrics_pollfd(const struct metrics *m);
void metrics_dispatch(struct metrics *m);
void metrics_stats_get(const struct metrics *m, struct connset_stats *out);

#endif
