/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inspect.h - offline capture inspection shared by `tlsgatectl inspect` and the commands that
 * add to its output (e.g. a policy decision per flow). Hooks append fields to the JSON object
 * of each line before it is closed.
 */
#ifndef TLSGATE_INSPECT_H
#define TLSGATE_INSPECT_H

#include <stdint.h>
#include <stdio.h>

struct jw;
struct tg_ch;
struct tg_http_req;
struct tg_dns_msg;

/* The client -> server direction of a flow, as the line reports it. */
struct inspect_flow {
	uint8_t family; /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

struct inspect_hooks {
	void (*tls)(void *arg, struct jw *w, const struct inspect_flow *fl, const struct tg_ch *ch);
	void (*http)(void *arg, struct jw *w, const struct inspect_flow *fl,
		     const struct tg_http_req *req);
	void (*dns)(void *arg, struct jw *w, uint8_t family, const uint8_t *src, const uint8_t *dst,
		    const struct tg_dns_msg *m);
};

/* Inspect one capture, writing JSON lines to @out. Returns 0, or 1 if the file was unreadable. */
int inspect_file(const char *path, FILE *out, const struct inspect_hooks *hooks, void *arg);

void inspect_flow_of(struct inspect_flow *fl, uint8_t family, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport);

#endif
