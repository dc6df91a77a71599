/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inspect.h - offline capture inspection shared by `tlsgatectl inspect` and the commands that
 * add to its output (e.g. a policy decision per flow). The capture's flows are examined the way
 * tlsgated examines them (flow.h); each line is an event line (event.h); one that stands for a
 * decision carries the flow's facts to the hooks, which decide it and add its members.
 */
#ifndef TLSGATE_INSPECT_H
#define TLSGATE_INSPECT_H

#include <stdint.h>
#include <stdio.h>

struct ev_flow;
struct jw;
struct tg_flow_facts;

/* The client -> server direction of a flow, as the line reports it. */
struct inspect_flow {
	uint8_t family; /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

struct inspect_hooks {
	/*
	 * The decision for the facts @f of the line about to be written about @fl (a
	 * ClientHello, an HTTP request head, a DNS query, a failed TCP flow). Returns the enum
	 * tg_action decided (a block ends the flow's examination as it ends the flow in
	 * tlsgated), sets *@type to the line's event_type (event.h ev_type) and @fl->fail to the
	 * failure decided on; -1: no decision.
	 */
	int (*decide)(void *arg, const struct tg_flow_facts *f, struct ev_flow *fl,
		      const char **type);
	/* The members of that decision (ev_write_ctx, ev_write_verdict, ...) for the line. */
	void (*members)(void *arg, struct jw *w);
};

/* Inspect one capture, writing JSON lines to @out. Returns 0, or 1 if the file was unreadable. */
int inspect_file(const char *path, FILE *out, const struct inspect_hooks *hooks, void *arg);

void inspect_flow_of(struct inspect_flow *fl, uint8_t family, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport);

#endif
