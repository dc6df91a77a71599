/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics.h - the daemon's counters in the Prometheus text format (version 0.0.4), for
 * `tlsgatectl stats --format prometheus` and the optional HTTP listener (metrics_http.h).
 *
 * Names follow Prometheus' conventions: a tlsgate_ prefix, the unit in the name (_seconds,
 * _bytes), _total on counters, HELP and TYPE before each family, and labels for what varies
 * (queue, action, reason, failure, outcome ...). The top-level README, section "Metrics", lists them.
 */
#ifndef TLSGATE_METRICS_H
#define TLSGATE_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tlsgate/bypass.h"

#include "caps.h"
#include "connset.h"
#include "decide.h"
#include "engine.h"
#include "evlog.h"
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
	struct evlog_stats log; /* the event log's counters */
	uint64_t reloads_ok, reloads_failed;
	uint64_t last_reload_s; /* Unix time of the last load (the start counts) */
	bool last_reload_ok;
};

/* Write @s in the Prometheus text format to @out. */
void metrics_render(const struct metrics_snap *s, FILE *out);

#endif
