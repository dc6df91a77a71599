/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy.h - tlsgated's side of the decrypting proxy: it starts the CA process and the proxy
 * workers (separate, unprivileged processes: DESIGN.md "Privilege separation"), hands them
 * adopted connections, and acts on what they report: the decision line of every intercepted
 * flow (written when its outcome is known), pinning rejections into the dynamic bypass table,
 * unsupported servers into the exclusion table. A worker that dies is started again after
 * PROXY_RESTART_MS; its connections are lost (logged as "worker-failed"), nothing else stops.
 *
 * Threads: proxy_has_room() and proxy_handoff() from any queue thread; everything else from
 * the main thread.
 */
#ifndef TLSGATE_PROXY_H
#define TLSGATE_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "proxy_msg.h"

struct decider;
struct evlog;
struct proxy;

struct proxy_cfg {
	const char *ca_dir; /* ca.crt and ca.key (tlsgatectl ca init) */
	const char *trust; /* PEM bundle upstream chains are verified against */
	const char *keylog; /* SSLKEYLOGFILE of both legs, or NULL */
	const char *user; /* the workers' and the CA process's user */
	unsigned workers; /* 1..PROXY_MAX_WORKERS */
};

/* What tlsgated keeps of a flow it hands over, for its decision line and the tables. */
struct proxy_flow {
	const char *reason; /* the decision's reason (a static text) */
	const char *user; /* copied; "" when unknown (the client address is the principal) */
	const char *name; /* copied; the normalized name the bypass table keys on, "" if none */
	const char *rule_name; /* copied (for `tlsgatectl flows`); "" or NULL when none */
	bool ech_outer, bypass_allowed;
	bool alert_rule; /* an alert rule matched: a security event whatever the outcome */
	uint64_t decided_ms; /* wall clock: the line's timestamp */
	/* The decision line's members up to its action (declog_fragment); copied. NULL: none. */
	const char *frag;
	size_t frag_len;
};

/*
 * proxy_new() - start the CA process and @cfg->workers workers. Call before privileges are
 * dropped (the children run as @cfg->user) and before threads start. NULL with a reason in
 * @err: no CA in the directory, a bad trust store, a fork that failed.
 */
struct proxy *proxy_new(const struct proxy_cfg *cfg, char *err, size_t errlen);
void proxy_free(struct proxy *p);

/* Any thread: whether one more connection of @client would be taken now (the caps). */
bool proxy_has_room(struct proxy *p, uint8_t family, const uint8_t *client);

/*
 * proxy_handoff() - any thread: give the adopted socket @fd (always consumed) with @job to a
 * worker; @job->id is assigned here. False when no worker could take it (the caps, no live
 * worker, its socket full): then @fd was reset and the caller logs the failure.
 */
bool proxy_handoff(struct proxy *p, int fd, struct proxy_job *job, const struct proxy_flow *fl);

/* Main thread: the descriptor to poll for reports (an epoll set over the workers' sockets). */
int proxy_pollfd(const struct proxy *p);
/*
 * Main thread: read the workers' reports and act on them; @log (NULL: none) gets the decision
 * lines, and a "bypass" line when a rejection made a bypass entry live or a client ca_missing.
 */
void proxy_dispatch(struct proxy *p, struct decider *d, struct evlog *log, uint64_t now_ms);
/* Main thread: a child exited (from waitpid); true when it was one of the proxy's. */
bool proxy_child_exited(struct proxy *p, pid_t pid, int status);
/* Main thread, about once a second: start workers again that died. */
void proxy_tick(struct proxy *p, uint64_t now_ms);

struct proxy_stats {
	uint64_t handed, refused_cap, refused_client, refused_worker;
	uint64_t outcomes[PROXY_OUTCOME__COUNT];
	uint64_t bypass_learned, excluded, worker_restarts, worker_lost_conns;
	uint64_t bytes_up, bytes_down;
	uint64_t active; /* gauge */
	unsigned workers_alive;
	uint64_t cache_entries, cache_bytes; /* the live workers' forged-leaf caches (gauges) */
};
void proxy_stats_get(struct proxy *p, struct proxy_stats *out);

/* One connection the proxy holds, as `tlsgatectl flows` shows it (valid in the callback). */
struct proxy_flow_info {
	const struct proxy_job *job; /* addresses, ports, SNI */
	uint64_t age_ms; /* since the hand-over */
	uint64_t bytes_up, bytes_down; /* as last reported (every PROXY_PROGRESS_MS) */
	const char *state; /* "handshake" until the outcome is known, then its name */
	const char *user, *rule_name; /* "" when none */
};
/*
 * Main thread: call @cb for every connection handed to a worker and not yet closed, until it
 * returns false. The proxy's lock is held meanwhile: @cb must not call into the proxy.
 */
void proxy_flows(struct proxy *p, bool (*cb)(void *arg, const struct proxy_flow_info *f),
		 void *arg);

/* Stable texts for the decision log and the counters. */
const char *proxy_outcome_name(enum proxy_outcome o);
const char *proxy_up_err_name(enum proxy_up_err e);
const char *proxy_unsup_name(enum proxy_unsup u);

#endif
