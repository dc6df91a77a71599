/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.c - the counters in the Prometheus text format; see metrics.h. */
#include <string.h>

#include "tlsgate/classify.h"

#include "metrics.h"

#ifndef TG_VERSION
#define TG_VERSION "unknown"
#endif

/* ---- the text format ---- */

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample; @labels is the text between the braces ("" for none). Our label values are
 * fixed names and numbers: nothing needs escaping. */
static void sample(FILE *out, const char *name, const char *labels, uint64_t v)
{
	if (labels[0] != '\0')
		fprintf(out, "%s{%s} %llu\n", name, labels, (unsigned long long)v);
	else
		fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void one(FILE *out, const char *name, const char *type, const char *help, uint64_t v)
{
	family(out, name, type, help);
	sample(out, name, "", v);
}

/* Per-queue families: @field picks the number of queue @i. */
static void per_queue(FILE *out, const struct metrics_snap *s, const char *name, const char *type,
		      const char *help, uint64_t (*field)(const struct metrics_queue *q))
{
	char l[32];
	unsigned i;

	family(out, name, type, help);
	for (i = 0; i < s->nq; i++) {
		if (!s->q[i].kernel_ok && strstr(name, "kernel") != NULL)
			continue;
		snprintf(l, sizeof(l), "queue=\"%u\"", s->q[i].num);
		sample(out, name, l, field(&s->q[i]));
	}
}

static uint64_t q_received(const struct metrics_queue *q)
{
	return q->q.received;
}

static uint64_t q_verdicts(const struct metrics_queue *q)
{
	return q->q.verdicts;
}

static uint64_t q_kdropped(const struct metrics_queue *q)
{
	return q->k.queue_dropped;
}

static uint64_t q_kuser(const struct metrics_queue *q)
{
	return q->k.user_dropped;
}

static uint64_t q_ktotal(const struct metrics_queue *q)
{
	return q->k.queue_total;
}

static void render_queues(const struct metrics_snap *s, FILE *out)
{
	static const char *const kinds[] = { "verdict", "receive", "enobufs", "config" };
	char l[64];
	unsigned i, k;

	per_queue(out, s, "tlsgate_queue_packets_total", "counter",
		  "Packets received from NFQUEUE, per queue.", q_received);
	per_queue(out, s, "tlsgate_queue_verdicts_total", "counter",
		  "Verdicts sent to NFQUEUE, per queue.", q_verdicts);
	family(out, "tlsgate_queue_errors_total", "counter",
	       "NFQUEUE errors per queue: verdicts refused, receive errors, receive buffer "
	       "overruns (enobufs), configuration.");
	for (i = 0; i < s->nq; i++) {
		const uint64_t v[] = { s->q[i].q.verdict_errors, s->q[i].q.recv_errors,
				       s->q[i].q.enobufs, s->q[i].q.config_errors };

		for (k = 0; k < 4; k++) {
			snprintf(l, sizeof(l), "queue=\"%u\",kind=\"%s\"", s->q[i].num, kinds[k]);
			sample(out, "tlsgate_queue_errors_total", l, v[k]);
		}
	}
	per_queue(out, s, "tlsgate_kernel_queue_dropped_total", "counter",
		  "Packets the kernel dropped because the queue was full and not failing open "
		  "(/proc/net/netfilter/nfnetlink_queue).",
		  q_kdropped);
	per_queue(out, s, "tlsgate_kernel_user_dropped_total", "counter",
		  "Packets the kernel dropped because the netlink socket could not take them.",
		  q_kuser);
	per_queue(out, s, "tlsgate_kernel_queue_packets", "gauge",
		  "Packets waiting in the kernel queue for a verdict.", q_ktotal);
	one(out, "tlsgate_queue_fail_open", "gauge",
	    "1 when a full queue lets packets pass unqueued (settings.fail.queue_full: pass); "
	    "the kernel does not count those.",
	    s->fail_open);
}

static void render_decisions(const struct metrics_snap *s, FILE *out)
{
	char l[96];
	unsigned a, r;

	family(out, "tlsgate_decisions_total", "counter",
	       "Classifier decisions by final action and reason (series appear once non-zero).");
	for (a = 0; a < DEC_ACTIONS; a++)
		for (r = 0; r < TG_REASON__COUNT; r++) {
			if (s->dec.decisions[a][r] == 0)
				continue;
			snprintf(l, sizeof(l), "action=\"%s\",reason=\"%s\"",
				 dec_action_name((enum dec_action)a),
				 tg_reason_text((enum tg_reason)r));
			sample(out, "tlsgate_decisions_total", l, s->dec.decisions[a][r]);
		}
	family(out, "tlsgate_failures_total", "counter",
	       "Flows decided on a failure, by failure (settings.fail classes).");
	for (r = 1; r < TG_FLOW_FAIL__COUNT; r++) {
		snprintf(l, sizeof(l), "failure=\"%s\"", tg_flow_fail_text((enum tg_flow_fail)r));
		sample(out, "tlsgate_failures_total", l, s->dec.fails[r]);
	}
}

static void render_engine(const struct metrics_snap *s, FILE *out)
{
	char l[64];

	one(out, "tlsgate_flows_total", "counter", "Flows tracked (SYNs seen).", s->eng.flows_new);
	family(out, "tlsgate_adoptions_total", "counter",
	       "Connections adopted for decryption (TCP_REPAIR), by result.");
	sample(out, "tlsgate_adoptions_total", "result=\"ok\"", s->eng.adopt_ok);
	sample(out, "tlsgate_adoptions_total", "result=\"failed\"", s->eng.adopt_fail);
	family(out, "tlsgate_engine_events_total", "counter",
	       "Every classifier engine counter, summed over the queues (README: Counters).");
#define ENG_CTR_PROM(n)                             \
	snprintf(l, sizeof(l), "event=\"%s\"", #n); \
	sample(out, "tlsgate_engine_events_total", l, s->eng.n);
	ENG_COUNTERS(ENG_CTR_PROM)
#undef ENG_CTR_PROM
}

static void render_proxy(const struct metrics_snap *s, FILE *out)
{
	char l[64];
	unsigned i;

	one(out, "tlsgate_proxy_enabled", "gauge", "1 when the decrypting proxy runs.",
	    s->proxy_on);
	one(out, "tlsgate_proxy_workers", "gauge", "Proxy worker processes alive.",
	    s->px.workers_alive);
	one(out, "tlsgate_proxy_connections", "gauge", "Connections the proxy holds now.",
	    s->px.active);
	one(out, "tlsgate_proxy_handoffs_total", "counter",
	    "Adopted connections handed to a proxy worker.", s->px.handed);
	family(out, "tlsgate_proxy_refused_total", "counter",
	       "Connections the proxy had no room for, by cap.");
	sample(out, "tlsgate_proxy_refused_total", "cap=\"total\"", s->px.refused_cap);
	sample(out, "tlsgate_proxy_refused_total", "cap=\"client\"", s->px.refused_client);
	sample(out, "tlsgate_proxy_refused_total", "cap=\"worker\"", s->px.refused_worker);
	family(out, "tlsgate_proxy_handshakes_total", "counter",
	       "Intercepted connections by handshake outcome.");
	for (i = 1; i < PROXY_OUTCOME__COUNT; i++) {
		snprintf(l, sizeof(l), "outcome=\"%s\"", proxy_outcome_name((enum proxy_outcome)i));
		sample(out, "tlsgate_proxy_handshakes_total", l, s->px.outcomes[i]);
	}
	one(out, "tlsgate_pinning_detections_total", "counter",
	    "Clients the pinning detector saw reject the gateway's certificate.",
	    s->px.outcomes[PROXY_CLIENT_REJECTED]);
	one(out, "tlsgate_upstream_exclusions_total", "counter",
	    "Servers excluded from interception (unsupported upstreams).", s->px.excluded);
	one(out, "tlsgate_proxy_worker_restarts_total", "counter", "Proxy workers started again.",
	    s->px.worker_restarts);
	one(out, "tlsgate_proxy_worker_lost_connections_total", "counter",
	    "Connections lost with a worker that died.", s->px.worker_lost_conns);
	family(out, "tlsgate_proxy_transferred_bytes_total", "counter",
	       "Application bytes relayed by closed intercepted connections, by direction.");
	sample(out, "tlsgate_proxy_transferred_bytes_total", "direction=\"client_to_server\"",
	       s->px.bytes_up);
	sample(out, "tlsgate_proxy_transferred_bytes_total", "direction=\"server_to_client\"",
	       s->px.bytes_down);
	one(out, "tlsgate_certificate_cache_entries", "gauge",
	    "Forged leaf certificates cached by the live proxy workers.", s->px.cache_entries);
	one(out, "tlsgate_certificate_cache_bytes", "gauge",
	    "DER bytes of the cached forged leaf certificates.", s->px.cache_bytes);
}

static void render_bypass(const struct metrics_snap *s, FILE *out)
{
	const struct tg_bypass_stats *b = &s->bypass;
	const struct {
		const char *result;
		uint64_t v;
	} rep[] = {
		{ "counted", b->counted },
		{ "live", b->went_live },
		{ "already-live", b->already_live },
		{ "refused-filtered", b->refused_filtered },
		{ "refused-ech", b->refused_ech },
		{ "refused-rule", b->refused_rule },
		{ "ca-missing-entered", b->ca_missing_entered },
		{ "ca-missing", b->ca_missing_reports },
		{ "invalid", b->invalid },
	};
	char l[64];
	size_t i;

	family(out, "tlsgate_bypass_entries", "gauge", "Dynamic bypass table records, by state.");
	sample(out, "tlsgate_bypass_entries", "state=\"live\"", b->live);
	sample(out, "tlsgate_bypass_entries", "state=\"candidate\"", b->candidates);
	one(out, "tlsgate_bypass_principals", "gauge",
	    "Users and client addresses the bypass table tracks.", b->principals);
	family(out, "tlsgate_bypass_reports_total", "counter",
	       "Pinning rejections reported to the bypass table, by what they did (live counts "
	       "administrator's entries too).");
	for (i = 0; i < sizeof(rep) / sizeof(rep[0]); i++) {
		snprintf(l, sizeof(l), "result=\"%s\"", rep[i].result);
		sample(out, "tlsgate_bypass_reports_total", l, rep[i].v);
	}
	family(out, "tlsgate_bypass_evictions_total", "counter",
	       "Bypass records evicted to stay within a bound.");
	sample(out, "tlsgate_bypass_evictions_total", "bound=\"per_user\"", b->evicted_user);
	sample(out, "tlsgate_bypass_evictions_total", "bound=\"total\"", b->evicted_total);
	sample(out, "tlsgate_bypass_evictions_total", "bound=\"candidate\"", b->evicted_cand);
	sample(out, "tlsgate_bypass_evictions_total", "bound=\"principal\"", b->evicted_principal);
	one(out, "tlsgate_bypass_removed_total", "counter",
	    "Bypass records removed by an administrator (del, flush).", b->removed);
	one(out, "tlsgate_bypass_expired_total", "counter", "Bypass records expired.", b->expired);
}

static void render_server(FILE *out, const char *name, const char *help, bool on,
			  const struct connset_stats *c)
{
	const struct {
		const char *result;
		uint64_t v;
	} r[] = {
		{ "served", c->served },
		{ "refused_peer", c->refused_peer },
		{ "refused_clients", c->refused_clients },
		{ "refused_request", c->refused_request },
		{ "too_large", c->too_large },
		{ "timeout", c->timeouts },
		{ "aborted", c->aborted },
	};
	char l[48];
	size_t i;

	if (!on)
		return;
	family(out, name, "counter", help);
	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		snprintf(l, sizeof(l), "result=\"%s\"", r[i].result);
		sample(out, name, l, r[i].v);
	}
}

void metrics_render(const struct metrics_snap *s, FILE *out)
{
	family(out, "tlsgate_build_info", "gauge", "The running tlsgated's version.");
	fprintf(out, "tlsgate_build_info{version=\"%s\"} 1\n", TG_VERSION);
	one(out, "tlsgate_start_time_seconds", "gauge", "When tlsgated started, Unix time.",
	    s->start_time_s);
	one(out, "tlsgate_uptime_seconds", "gauge", "Seconds since tlsgated started.", s->uptime_s);
	family(out, "tlsgate_policy_reloads_total", "counter",
	       "Policy loads after the start (reload, push, rollback, SIGHUP), by result.");
	sample(out, "tlsgate_policy_reloads_total", "result=\"ok\"", s->reloads_ok);
	sample(out, "tlsgate_policy_reloads_total", "result=\"failed\"", s->reloads_failed);
	one(out, "tlsgate_policy_last_reload_timestamp_seconds", "gauge",
	    "When a policy load was last tried (the start counts), Unix time.", s->last_reload_s);
	one(out, "tlsgate_policy_last_reload_success", "gauge",
	    "1 when the last policy load took its policy, 0 when the old one stayed.",
	    s->last_reload_ok);
	render_queues(s, out);
	render_decisions(s, out);
	render_engine(s, out);
	render_proxy(s, out);
	render_bypass(s, out);
	family(out, "tlsgate_log_events_total", "counter",
	       "The event log: lines written, suppressed by the per-source rate limit, summaries, "
	       "QUIC repeats, write errors, reopens (README: The event log).");
	{
		char l[64];

#define EVLOG_CTR_PROM(n)                           \
	snprintf(l, sizeof(l), "event=\"%s\"", #n); \
	sample(out, "tlsgate_log_events_total", l, s->log.n);
		EVLOG_COUNTERS(EVLOG_CTR_PROM)
#undef EVLOG_CTR_PROM
	}
	render_server(out, "tlsgate_control_requests_total",
		      "Control socket connections by how they ended.", s->control_on, &s->control);
	render_server(out, "tlsgate_metrics_requests_total",
		      "Metrics listener connections by how they ended.", s->metrics_on,
		      &s->metrics);
}
