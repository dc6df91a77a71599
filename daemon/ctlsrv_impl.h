/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctlsrv_impl.h - what the control commands share (private to ctlsrv.c, the dispatcher, the
 * reload path, status, stats and policy, and ctlsrv_cmds.c, the bypass, flows, explain and
 * log commands): the server's state, a request as a command sees it, the reply helpers.
 */
#ifndef TLSGATE_CTLSRV_IMPL_H
#define TLSGATE_CTLSRV_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ctlsrv.h"

#define CTLSRV_ERR_MAX	      512 /* an error text kept for status */
#define CTLSRV_EXPLAIN_ARGS   64 /* explain options, each word counted */
#define CTLSRV_BYPASS_TTL_MAX (365u * 86400) /* bypass add ttl=, at most a year */

struct ctlsrv {
	struct ctlsrv_cfg cfg;
	const struct control *ctl;
	const struct metrics_http *m;
	uint64_t start_ms; /* monotonic */
	time_t start_wall;
	/* The last time the policy was loaded, and how it went. */
	time_t last_time;
	bool last_ok;
	char last_trigger[16];
	char last_err[CTLSRV_ERR_MAX];
	uint64_t reloads_ok, reloads_failed;
};

/* A request as a command sees it: the words after the command's own, the body if any. */
struct ctlsrv_req {
	int argc;
	char **argv;
	const uint8_t *body; /* NULL: none */
	size_t len;
};

#define CMD_ARGS 1u /* takes key=value words */
#define CMD_BODY 2u /* takes a body */

/* Monotonic milliseconds. */
uint64_t ctlsrv_mono_ms(void);
/* Write {"error": ...} to @out; returns -1 (the command failed). */
int ctlsrv_fail(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The value of @key=VALUE among the words, NULL when absent. */
const char *ctlsrv_arg(int argc, char **argv, const char *key);
/* 0 when every word is key=value with a key of @keys; else -1 and the error written. */
int ctlsrv_args_known(int argc, char **argv, const char *const *keys, FILE *out);

/* The commands of ctlsrv_cmds.c: each writes its reply to @out, 0 or -1 (refused). */
int ctlsrv_bypass_list(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);
int ctlsrv_bypass_add(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);
int ctlsrv_bypass_del(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);
int ctlsrv_bypass_flush(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);
int ctlsrv_flows(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);
int ctlsrv_explain(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);
int ctlsrv_log_reopen_cmd(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);

#endif
