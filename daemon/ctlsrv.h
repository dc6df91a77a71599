/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctlsrv.h - the control socket's commands (control.h carries them): status, reload, stats,
 * policy show|push|rollback, bypass list|add|del|flush, flows, explain. Each answers one JSON
 * object on one line; a refused request answers {"error": "..."}. The top-level README, section
 * "Operating",
 * documents them from tlsgatectl's side. Main thread only (the control socket is served there).
 *
 * Reloads (the reload command, SIGHUP, a push, a rollback) all take the same path: the new
 * policy is compiled next to the running one (decider_prepare), swapped in whole
 * (decider_commit), and the old one freed once every queue thread has moved on (@quiesce).
 * A policy that does not load changes nothing, and the answer says why.
 */
#ifndef TLSGATE_CTLSRV_H
#define TLSGATE_CTLSRV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct control;
struct decider;
struct engine;
struct metrics_http;
struct metrics_snap;
struct proxy;
struct pstore;
struct queue;

struct evlog;

struct ctlsrv_cfg {
	struct decider *d;
	struct proxy *proxy; /* NULL: no decryption */
	struct pstore *ps; /* the policy in force and the state directory */
	const char *content; /* the content package directory */
	unsigned nq; /* queues, with their numbers, engines and NFQUEUE handles */
	const unsigned *queue_nums;
	struct engine *const *engines;
	struct queue *const *queues;
	/* Free retired policies once no queue thread can hold them (swapped at @swap_ms). */
	void (*quiesce)(void *arg, uint64_t swap_ms);
	void *quiesce_arg;
	struct evlog *log; /* the event log (reopen, its counters); NULL: none */
};

struct ctlsrv;

struct ctlsrv *ctlsrv_new(const struct ctlsrv_cfg *cfg);
void ctlsrv_free(struct ctlsrv *s);
/* The servers whose own counters the status and the metrics show (either may be NULL). */
void ctlsrv_set_servers(struct ctlsrv *s, const struct control *c, const struct metrics_http *m);

/* A control_handler (control.h): one command, its reply to @out. */
int ctlsrv_handle(void *arg, int argc, char **argv, const uint8_t *body, size_t body_len,
		  FILE *out);

/*
 * Load the policy from its source again (a pushed one in the state directory, else --policy)
 * and swap it in; @trigger ("reload", "sighup") is what status shows. 0, or -1 with @err.
 */
int ctlsrv_reload(struct ctlsrv *s, const char *trigger, char *err, size_t errlen);

/* Reopen the event log's file (SIGUSR1, "log reopen"). 0, or -1 with @err. */
int ctlsrv_log_reopen(struct ctlsrv *s, char *err, size_t errlen);

/* Every counter now (@arg is the ctlsrv). */
void ctlsrv_snapshot(void *arg, struct metrics_snap *snap);
/* The same in the Prometheus text format (the metrics listener's callback). */
void ctlsrv_metrics_write(void *arg, FILE *out);

#endif
