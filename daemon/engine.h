/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.h - the per-queue classifier: what each queued packet means for its flow, and the
 * verdicts that follow (DESIGN.md §1). One engine per queue thread; engines share only the
 * read-only decision context and the proxy hand-off, both thread-safe.
 */
#ifndef TLSGATE_ENGINE_H
#define TLSGATE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "marks.h"
#include "queue.h"

struct decider;
struct proxy;
struct names;
struct evlog;

#include "caps.h"

/* Counters, one set per engine; the control socket sums them. */
#define ENG_COUNTERS(X)        \
	X(packets)             \
	X(malformed)           \
	X(malformed_blocked)   \
	X(malformed_options)   \
	X(flows_new)           \
	X(flows_full)          \
	X(flows_evicted)       \
	X(source_full)         \
	X(midstream)           \
	X(released)            \
	X(held)                \
	X(dup_segments)        \
	X(incomplete_timeouts) \
	X(reasm_conflict)      \
	X(reasm_window)        \
	X(ch_invalid)          \
	X(non_tls)             \
	X(invalid_name)        \
	X(tfo_data)            \
	X(log_truncated)       \
	X(stream_requests)     \
	X(stream_end)          \
	X(stream_idle_closed)  \
	X(dns_ech_tcp_refused) \
	X(pass)                \
	X(block)               \
	X(decrypt)             \
	X(adopt_ok)            \
	X(adopt_fail)          \
	X(proxy_full)          \
	X(proxy_refused)       \
	X(rst_fail)            \
	X(late_reverdict)      \
	X(verdict_fail)        \
	X(dns_queries)         \
	X(dns_blocked)         \
	X(dns_invalid)         \
	X(dns_answers_learned) \
	X(dns_names_learned)   \
	X(dns_ech_stripped)    \
	X(dns_ech_failed)      \
	X(quic_blocked)        \
	X(quic_passed)         \
	X(http_blocked)        \
	X(http_passed)         \
	X(dns_ech_refused)     \
	X(dns_unsolicited)     \
	X(dnsq_full)           \
	X(dnsq_expired)        \
	X(dns_names_conflict)  \
	X(dns_names_evicted)   \
	X(dns_invalid_blocked)

struct eng_counters {
#define ENG_CTR_FIELD(n) uint64_t n;
	ENG_COUNTERS(ENG_CTR_FIELD)
#undef ENG_CTR_FIELD
};

struct engine;

struct engine_cfg {
	uint16_t queue;
	const struct decider *decider;
	struct proxy *proxy; /* NULL: no CA or no proxy, decrypt decisions fail (cert-mint) */
	struct names *names; /* learned address -> name pairs, shared by all queues */
	int raw4, raw6; /* raw sockets with SO_MARK = marks.rst */
	struct tg_marks marks; /* the marks in force (datapath.h) */
	struct evlog *log; /* the event log (evlog.h), shared; NULL: none */
};

struct engine *engine_new(const struct engine_cfg *cfg, struct queue *q);
void engine_free(struct engine *e);
void engine_packet(struct engine *e, const struct queue_pkt *p, uint64_t now_ms);
/* Hold timeouts and expiry; call at least every 100 ms. */
void engine_tick(struct engine *e, uint64_t now_ms);
/* Add this engine's counters to @sum; safe from another thread while the engine runs. */
void engine_counters_add(const struct engine *e, struct eng_counters *sum);

#endif
