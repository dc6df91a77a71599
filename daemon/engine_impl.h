/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine_impl.h - what engine.c (TCP flows) and engine_udp.c (DNS, ECH rewrite, QUIC) share:
 * the per-queue engine object and the verdict, logging and DNS-decision helpers. Private to
 * the engine's files.
 */
#ifndef TLSGATE_ENGINE_IMPL_H
#define TLSGATE_ENGINE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/dns.h"
#include "tlsgate/flow.h"
#include "tlsgate/http.h"
#include "tlsgate/pkt.h"

#include "adopt.h"
#include "decide.h"
#include "dnsq.h"
#include "engine.h"

enum eflow_state {
	EF_SYN, /* SYN seen */
	EF_SYNACK, /* SYN-ACK seen: facts complete for adoption */
	EF_DATA, /* first bytes seen, not complete: they went on to the server */
	EF_STREAM, /* plain HTTP or DNS over TCP: each request passed, the next one is examined */
	EF_DECIDED, /* verdict mark chosen; late packets get the same */
};

struct eng_source;

struct eflow {
	struct eflow *next;
	struct eflow *lru_prev, *lru_next; /* all flows, oldest state change first */
	struct eflow *part_prev, *part_next; /* flows with first bytes and no decision */
	bool in_part;
	enum eflow_state state;
	struct adopt_facts f;
	struct eng_source *src; /* the client address's flow count */
	struct tg_reasm *reasm;
	struct tg_reasm *sreasm; /* DNS over TCP, ECH stripped: the server's answers */
	uint32_t held[ENG_MAX_HELD]; /* packet ids, no verdict yet */
	uint32_t held_mark[ENG_MAX_HELD]; /* their nfmarks: a verdict keeps the ruleset's bits */
	unsigned n_held;
	uint32_t held_off; /* stream offset of the held segment: bytes before it are a prefix */
	uint32_t msg_base; /* EF_STREAM: stream offset of the message reasm holds (from isn + 1) */
	uint32_t stream_mark; /* EF_STREAM: TG_MARK_STREAM once replies need not be queued */
	uint64_t state_ms; /* last state change: the lru order */
	uint64_t data_ms; /* first data byte seen */
	uint32_t mark; /* decided: the mark late packets get */
	bool drop; /* decided: late packets are dropped */
	bool has_mac;
	uint8_t mac[6];
	int os_hint;
	unsigned os_conf;
};

/* Flows per client address (per queue): the per-source quota. */
struct eng_source {
	struct eng_source *next;
	uint8_t family;
	uint8_t addr[16];
	uint32_t flows;
};

struct engine {
	struct engine_cfg cfg;
	struct queue *q;
	struct eflow **tab;
	size_t tab_mask, nflows;
	uint8_t key[16]; /* flow table hash key, random */
	struct eflow lru; /* sentinel: lru.lru_next changed state longest ago */
	struct eflow part; /* sentinel of the flows with first bytes and no decision */
	struct eng_source **srcs; /* per-source flow counts, hashed with key */
	size_t src_mask;
	struct eng_counters c;
	uint8_t scratch[TG_CAP_CH_BYTES];
	struct tg_exam exam; /* the examination of the flow being decided */
	struct tg_dns_msg dns;
	struct dnsq *dnsq; /* UDP DNS queries forwarded, awaiting their answer */
	uint8_t dns_msg_buf[TG_CAP_DNS_MSG]; /* a DNS answer with ech removed */
	uint8_t dns_pkt_buf[TG_CAP_DNS_MSG + 128]; /* the same as a packet */
	char learned[TG_CAP_NAME_LEN + 1]; /* names_lookup() result for the flow being decided */
};

/* Counters are written by the queue thread and read by the control socket (main thread). */
#define CTR_INC(e, name) __atomic_fetch_add(&(e)->c.name, 1, __ATOMIC_RELAXED)

/*
 * Verdict one packet. @decision (decision and DROP bits) replaces those bits of the packet's
 * own mark @pmark and keeps the rest (the ruleset's INSPECT bit). A failed verdict leaves the
 * packet to the kernel's queue: counted.
 */
void eng_verdict(struct engine *e, uint32_t id, int v, uint32_t pmark, uint32_t decision);
/*
 * declog.c: one event line per decision (event.h), through the client's log budget. A name
 * (SNI, DNS question, learned name) is a view; @dest_name is the name learned for the server
 * (NULL: none).
 */
void declog_tls(struct engine *e, const struct adopt_facts *f, const struct tg_ch *ch,
		const uint8_t *sni, size_t sni_len, const char *dest_name, size_t dest_len,
		const struct dec_result *r, uint64_t now_ms);
void declog_http(struct engine *e, const struct adopt_facts *f, const struct tg_http_req *req,
		 const struct dec_result *r, uint64_t now_ms);
/* @m: the query (NULL: it did not parse). */
void declog_dns(struct engine *e, const struct adopt_facts *f, uint8_t ipproto,
		const struct tg_dns_msg *m, const struct dec_result *r, uint64_t now_ms);
/* One line per QUIC attempt: retransmissions of its Initial are not logged again. */
void declog_quic(struct engine *e, const struct adopt_facts *f, const struct dec_result *r,
		 uint64_t now_ms);
/* A flow decided on its addresses or a failure, no application layer seen. */
void declog_flow(struct engine *e, const struct adopt_facts *f, uint8_t ipproto,
		 const char *dest_name, size_t dest_len, const struct dec_result *r,
		 uint64_t now_ms);
/*
 * A decrypt decision's members up to its outcome (no braces; *@frag malloc'd, NULL when there
 * is no log), for proxy.c to write once the outcome is known. False: out of memory.
 */
bool declog_fragment(struct engine *e, const struct adopt_facts *f, const struct tg_ch *ch,
		     const uint8_t *sni, size_t sni_len, const struct dec_result *r, char **frag,
		     size_t *frag_len);
/* The raw socket for @family (RSTs, DNS answers, block pages). */
int eng_raw_fd(const struct engine *e, uint8_t family);
/*
 * One DNS query (UDP payload or a TCP-framed message) through DNS filtering: counted, parsed
 * into e->dns, decided into *@r. False when it does not parse (counted as invalid).
 */
bool eng_dns_query_decide(struct engine *e, const struct dec_flow *df, const uint8_t *msg,
			  size_t len, struct dec_result *r);
/* engine.c: what the handshake side (engine_syn.c) shares with the data side. */
/* Release the held packets with @v and @mark and remember them for the flow's late packets. */
void eng_flow_settle(struct engine *e, struct eflow *fl, int v, uint32_t mark, bool drop,
		     uint64_t now_ms);
/* Block: RSTs to both ends (only the client before a SYN-ACK), the flow settled. */
void eng_flow_block(struct engine *e, struct eflow *fl, uint64_t now_ms);
/*
 * The decision facts of a flow, or of a packet without one (its sender as the client; with
 * @learned, the name its client learned for the destination).
 */
void eng_dec_flow_of(struct engine *e, struct dec_flow *df, const struct eflow *fl,
		     uint64_t now_ms);
void eng_dec_flow_of_pkt(struct engine *e, struct dec_flow *df, const struct tg_pkt *p,
			 bool learned, uint64_t now_ms);
/* The addresses and ports of a packet as flow facts, for the log. */
void eng_facts_of_pkt(struct adopt_facts *f, const struct tg_pkt *p);
/*
 * A packet without a flow decided on failure @why into *@r (filtering on its destination and
 * the name learned for it first), logged when @log.
 */
void eng_pkt_failed(struct engine *e, const struct tg_pkt *p, enum tg_flow_fail why, bool log,
		    uint64_t now_ms, struct dec_result *r);
/* engine_syn.c: a SYN and a SYN-ACK. */
void engine_syn(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		uint64_t now_ms);
void engine_synack(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		   uint64_t now_ms);

/* flowtab.c: the flow table (see there). */
enum flowtab_new_err { FLOWTAB_NEW_OK, FLOWTAB_NEW_FULL, FLOWTAB_NEW_SOURCE };
/* Allocate the table into @e (0, or -1: out of memory or no randomness); fini frees flows too. */
int flowtab_init(struct engine *e);
void flowtab_fini(struct engine *e);
/* The flow of a packet in either direction (*to_server tells which), or NULL. */
struct eflow *flowtab_find(struct engine *e, const struct tg_pkt *p, bool *to_server);
/*
 * A new flow for the SYN @p into *out: FLOWTAB_NEW_FULL (table full and nothing to evict, or
 * out of memory) or FLOWTAB_NEW_SOURCE (the client's quota of undecided flows) leave it NULL.
 */
enum flowtab_new_err flowtab_new(struct engine *e, const struct tg_pkt *p, uint64_t now_ms,
				 struct eflow **out);
void flowtab_remove(struct engine *e, struct eflow *fl);
/* A state change: the flow moves to the young end of the expiry order. */
void flowtab_state(struct engine *e, struct eflow *fl, enum eflow_state st, uint64_t now_ms);
/* The list of flows with first bytes and no decision (idempotent both ways). */
void flowtab_part_add(struct engine *e, struct eflow *fl);
void flowtab_part_del(struct eflow *fl);
/* One undecided flow of @s fewer (a decision, or the flow's end); NULL is accepted. */
void flowtab_source_put(struct engine *e, struct eng_source *s);

/* A queued UDP packet: DNS query or response, QUIC, anything else accepted. */
void engine_udp_packet(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		       uint64_t now_ms);

#endif
