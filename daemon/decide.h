/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * decide.h - the daemon's view of the policy engine: the current policy, content and bypass
 * tables behind one object, and the questions the datapath asks. The answers come from the
 * lib classifier; this file only adapts the datapath's facts to it and owns the swap on reload.
 */
#ifndef TLSGATE_DECIDE_H
#define TLSGATE_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/bypass.h"
#include "tlsgate/classify.h"
#include "tlsgate/upstream.h"

#include "datapath.h"
#include "event.h"

struct tg_ch;
struct decider;

enum dec_action { DEC_PASS, DEC_BLOCK, DEC_DECRYPT, DEC_ACTIONS };

/*
 * The names are views, never NULL ("" when none): the reason is a static text, the others live
 * in the policy bundle the decision was made with, which a reload retires but frees only after
 * every queue thread has passed a quiescent point (decider_reclaim): use them while handling
 * the packet, copy them to keep them. No name is cut.
 */
struct dec_result {
	enum dec_action action;
	const char *reason;
	enum tg_reason reason_id; /* what @reason is the text of */
	enum tg_flow_fail fail; /* the failure decided on, TG_FLOW_FAIL_NONE if none */
	int rule; /* -1: none */
	const char *rule_name; /* ctx.rule */
	const char *user; /* ctx.user */
	struct ev_ctx ctx; /* what the log says of the decision (event.h ev_ctx_of) */
	char ja4[TG_CAP_JA4_LEN + 1]; /* TLS: the ClientHello's JA4, "" if none */
	unsigned reputation;
	/* Decrypt decisions: what a pinning rejection on the flow may teach the bypass table. */
	bool bypass_allowed; /* dynamic bypass on, and the deciding rule allows it */
	bool ech_outer; /* the SNI is an ECH outer (public) name */
	char name[TG_CAP_NAME_LEN + 1]; /* the normalized name decided on, "" if none */
	/* DNS block answers: sinkhole address family (0: NXDOMAIN) and address. */
	uint8_t sink_family;
	uint8_t sink_addr[16];
};

struct dec_flow {
	uint8_t family;
	const uint8_t *src, *dst; /* client, server */
	uint16_t sport, dport;
	const uint8_t *mac; /* 6 bytes or NULL */
	int os_hint; /* enum from oshint, 0 unknown */
	unsigned os_conf;
	const char *dns_name; /* name learned from DNS for dst (names.h), NULL if none */
	size_t dns_name_len;
};

/*
 * Load policy and content from files into a new decider; NULL with a reason in @err.
 * decider_reload() builds a new policy the same way and swaps it in; the old one is retired
 * (still readable by threads that loaded it) until decider_reclaim(). On failure the running
 * policy stays and @err says why.
 */
struct decider *decider_load(const char *policy, const char *content, char *err, size_t errlen);
int decider_reload(struct decider *d, const char *policy, const char *content, char *err,
		   size_t errlen);
/* decider_load() from @len bytes at @policy; @name stands for the file in errors. */
struct decider *decider_load_buf(const uint8_t *policy, size_t len, const char *name,
				 const char *content, char *err, size_t errlen);
/*
 * A reload in two steps, so that a caller can do its own work between building and swapping
 * (the control socket persists a pushed policy): decider_prepare() loads the content package
 * and compiles @len bytes of policy (@name in errors) without touching the running one; NULL
 * with a reason in @err. decider_commit() swaps it in and cannot fail (main thread, no other
 * reload in between); decider_discard() frees one not committed.
 */
struct bundle;
struct bundle *decider_prepare(const struct decider *d, const uint8_t *policy, size_t len,
			       const char *name, const char *content, char *err, size_t errlen);
void decider_commit(struct decider *d, struct bundle *nb);
void decider_discard(struct bundle *nb);
/* Free retired policies: call once no thread can still hold them (after a grace period). */
void decider_reclaim(struct decider *d);
void decider_free(struct decider *d);
/* Writer-side housekeeping for the bypass and exclusion tables (main thread, ~1/s). */
void decider_expire(struct decider *d, uint64_t now_ms);

/* TLS ClientHello on an inspected port. */
void decider_tls(const struct decider *d, const struct dec_flow *fl, const struct tg_ch *ch,
		 uint64_t now_ms, struct dec_result *out);
/* HTTP request head on port 80: Host and path through URL filtering (pass or block only). */
void decider_http(const struct decider *d, const struct dec_flow *fl, const char *host,
		  size_t host_len, const char *path, size_t path_len, struct dec_result *out);
/* DNS query name: block (answer NXDOMAIN or the sinkhole) or pass. */
void decider_dns(const struct decider *d, const struct dec_flow *fl, const char *qname, size_t len,
		 uint16_t qtype, struct dec_result *out);
/*
 * A flow that failed before it could be classified on its content (@why: flow examination,
 * reassembly, the dissector, overload, adoption ...). The classifier decides it like any
 * other flow: filtering on the destination and the learned name first, then @why's
 * settings.fail class; @kind is what the flow was to be (TG_FLOW_TLS for a TCP flow on an
 * inspected port). Never DEC_DECRYPT.
 */
void decider_failed(const struct decider *d, const struct dec_flow *fl, enum tg_flow_kind kind,
		    enum tg_flow_fail why, uint64_t now_ms, struct dec_result *out);
/* IP filtering at the SYN, and QUIC. */
void decider_ip(const struct decider *d, const struct dec_flow *fl, struct dec_result *out);
void decider_quic(const struct decider *d, const struct dec_flow *fl, struct dec_result *out);
/*
 * True when @port is in the running policy's ports of class @c (settings.inspected_ports,
 * http_ports, dns_ports, quic_ports), which match what tlsgate-setup queues (datapath.h).
 */
bool decider_port_is(const struct decider *d, enum dp_class c, uint16_t port);
/*
 * Check the running policy's ports against what is queued, and keep @dp (which must outlive
 * @d) to check every reload against: a policy whose ports differ is refused. 0, or -1 with
 * what differs in @err.
 */
int decider_datapath(struct decider *d, const struct datapath *dp, char *err, size_t errlen);
/* True when the policy says to strip ech from DNS HTTPS/SVCB answers. */
bool decider_ech_strip(const struct decider *d);
const char *dec_action_name(enum dec_action a);
/* True when the running policy's settings.fail class @c says block. */
bool decider_fail_blocks(const struct decider *d, enum tg_fail_class c);

/*
 * Main thread (the tables' one writer). A client rejected the gateway's certificate for @name
 * (normalized): the bypass table's answer. The principal is @user when not empty, else
 * @client. @ech_outer and @allowed are the decision-time facts (struct dec_result).
 */
enum tg_bypass_result decider_pin_reject(struct decider *d, const char *user, uint8_t family,
					 const uint8_t *client, const char *name, bool ech_outer,
					 bool allowed, uint64_t now_ms);
/* Main thread: the server (@sni as the client sent it, or @server:@port) cannot be
 * intercepted; later flows to it pass (reason upstream-excluded) for the exclusion's TTL. */
void decider_upstream_exclude(struct decider *d, const char *sni, uint8_t family,
			      const uint8_t *server, uint16_t port, enum tg_upstream_reason why,
			      uint64_t now_ms);
/* Main thread: forget every dynamic bypass entry and ca_missing state. */
void decider_bypass_flush(struct decider *d);
/* Main thread (the writer): the table for the administrator's add, del and flush. */
struct tg_bypass *decider_bypass_writer(struct decider *d);
/* Any thread: the dynamic bypass table, for listing. */
const struct tg_bypass *decider_bypass(const struct decider *d);
/* True when the policy says pass for a full NFQUEUE (settings.fail.queue_full): fail open. */
bool decider_queue_fail_open(const struct decider *d);

/*
 * Classifier answers so far: each decision by its final action and reason, and each failure
 * decided on (TG_FLOW_FAIL_*) by class. Any thread; each number is read atomically.
 */
struct dec_counts {
	uint64_t decisions[DEC_ACTIONS][TG_REASON__COUNT];
	uint64_t fails[TG_FLOW_FAIL__COUNT];
};
void decider_count_get(const struct decider *d, struct dec_counts *out);

/*
 * Main thread: classify @f with the running policy and the live bypass table, as the datapath
 * would, and hand the policy, content and decision (NULL if the classifier refused the facts)
 * to @cb while they are alive (tlsgatectl explain against the running daemon).
 */
struct tg_policy;
struct tg_content;
typedef void (*decider_explain_cb)(void *arg, const struct tg_policy *p, const struct tg_content *c,
				   const struct tg_decision *dec);
void decider_explain(const struct decider *d, const struct tg_flow_facts *f, uint64_t now_ms,
		     decider_explain_cb cb, void *arg);

#endif
