/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inspect_impl.h - what inspect.c (the capture's flows, read as tlsgated reads them) and
 * inspect_emit.c (their event lines) share. Private to the two files.
 */
#ifndef TLSGATE_INSPECT_IMPL_H
#define TLSGATE_INSPECT_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/dns.h"
#include "tlsgate/err.h"
#include "tlsgate/flow.h"

#include "inspect.h"
#include "jsonw.h"

#define CTL_INSPECT_DNS_PORT 53

enum dir_state {
	DIR_NEW, /* nothing seen yet */
	DIR_ACTIVE, /* reassembling, not classified yet */
	DIR_DONE, /* classified (or given up): ignore further data */
};

enum dir_role {
	ROLE_UNKNOWN, /* neither SYN nor SYN-ACK seen: a flow seen midstream */
	ROLE_CLIENT, /* sent the SYN */
	ROLE_SERVER, /* sent the SYN-ACK */
};

struct dir {
	enum dir_state state;
	enum dir_role role;
	bool have_isn;
	uint32_t isn;
	uint32_t base; /* stream offset (from isn + 1) of the message reasm starts with */
	struct tg_reasm *reasm;
};

struct flow {
	struct flow *next;
	uint8_t family;
	uint8_t a[16], b[16]; /* a:ap is the endpoint that sent the first packet we saw */
	uint16_t ap, bp;
	struct dir d[2]; /* d[0]: a -> b, d[1]: b -> a */
};

struct inspect {
	struct jw w;
	const struct inspect_hooks *hooks;
	void *hooks_arg;
	struct flow **tab;
	size_t tab_size, nflows;
	uint8_t key[16]; /* flow table hash key, random: captures can be crafted too */
	uint64_t npkts, nbytes_pkt;
	uint64_t pkt_errors[TG_ERR__COUNT];
	uint64_t tls, tls_invalid, dns, dns_invalid, http, fails, flows_over_cap, reasm_errors;
	uint8_t scratch[TG_CAP_CH_BYTES];
	struct tg_exam exam;
	struct tg_dns_msg dns_msg;
	uint64_t ts_ms; /* the packet being read, wall clock */
};

/* How a DNS message is decided. */
enum dns_decide {
	DNS_NO_DECISION, /* a response, or the server's direction */
	DNS_QUERY, /* a query unless the QR bit says response (UDP, flows seen midstream) */
	DNS_CLIENT, /* the client's TCP stream: every message is a query, as tlsgated reads it */
};

/* inspect_emit.c: the lines. Each returns the enum tg_action decided, or -1 when none. */
int inspect_emit_tls(struct inspect *in, const struct flow *f, int dir, const struct tg_exam *x,
		     bool decide);
int inspect_emit_http(struct inspect *in, const struct flow *f, int dir, const struct tg_exam *x);
/* A client's flow failed with @why (@err: the parser's answer behind it, TG_OK if none). */
int inspect_emit_fail(struct inspect *in, const struct flow *f, int dir, enum tg_flow_fail why,
		      enum tg_err err);
/*
 * One DNS message over @ipproto: decided as @how says. -2 when @how is DNS_CLIENT and the
 * message is no query tlsgated can decide: the flow's unparsable-dns failure.
 */
int inspect_emit_dns(struct inspect *in, const struct inspect_flow *fl, uint32_t isn,
		     uint8_t ipproto, const uint8_t *msg, size_t len, enum dns_decide how);
/* The parser's own line for a direction's failure (an "anomaly"), when it has one. */
void inspect_emit_anomaly(struct inspect *in, const struct flow *f, int dir, const uint8_t *p,
			  const struct tg_exam *x);
/* The client's ISN: it tells a reused port pair from the flow before it. 0: not seen. */
uint32_t inspect_flow_isn(const struct flow *f);
/* The client -> server view of direction @dir of @f. */
void inspect_dir_flow(struct inspect_flow *fl, const struct flow *f, int dir);

#endif
