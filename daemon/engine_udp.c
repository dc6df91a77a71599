/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine_udp.c - the per-queue engine's UDP side (engine.c has TCP): DNS queries through DNS
 * filtering (blocked: NXDOMAIN or the sinkhole injected, the query dropped), DNS responses
 * (address -> name learning, ECH stripped from HTTPS/SVCB records), QUIC per policy.
 *
 * Learning: a query let through is remembered in the engine's pending table (dnsq.h); only a
 * response that answers one of them - from the resolver address and port, to the client
 * address and port, same id, same question - teaches names, and only the addresses the answer
 * gives for the question name itself (tg_dns_answer_addrs), each for the client that asked
 * (names.h). Any other response is forwarded untouched but teaches nothing (dns_unsolicited).
 *
 * Counters: dns_invalid_blocked (unparsable queries dropped per the unparsable_dns fail
 * class), dns_unsolicited (a response with no pending query, or a late one), dnsq_full (a
 * query not remembered: its window was full), dnsq_expired (a query whose answer never came in
 * DNSQ_TTL_MS, found on reuse or answered late), dns_answers_learned (responses that taught),
 * dns_names_learned / dns_names_conflict / dns_names_evicted (pairs stored, refused because a
 * live pair names the address otherwise, stored in place of another live pair),
 * dns_ech_stripped (responses rewritten), dns_ech_refused (responses dropped because policy
 * says strip and the rewrite could not be made or delivered), dns_ech_failed (of those, the
 * rewrite was made but could not be delivered).
 */
#include <string.h>

#include <linux/netfilter.h>

#include "tlsgate/cursor.h"
#include "tlsgate/dns_ech.h"
#include "tlsgate/pkt_build.h"

#include "engine_impl.h"
#include "enforce.h"
#include "marks.h"
#include "names.h"

#define CTR_ADD(e, name, n) __atomic_fetch_add(&(e)->c.name, (n), __ATOMIC_RELAXED)

bool eng_dns_query_decide(struct engine *e, const struct dec_flow *df, const uint8_t *msg,
			  size_t len, struct dec_result *r)
{
	CTR_INC(e, dns_queries);
	if (tg_dns_parse(&e->dns, msg, len) != TG_OK || e->dns.n_q == 0) {
		CTR_INC(e, dns_invalid);
		return false;
	}
	decider_dns(e->cfg.decider, df, e->dns.q[0].name.text, e->dns.q[0].name.len,
		    e->dns.q[0].qtype, r);
	if (r->action == DEC_BLOCK)
		CTR_INC(e, dns_blocked);
	return true;
}

/*
 * The pending-query key of the message in e->dns carried by @p. A query goes client ->
 * resolver, a response resolver -> client. False when the message cannot be matched: not
 * exactly one question, or not a standard query (opcode 0) of the expected direction (QR).
 */
static bool dns_key(const struct engine *e, const struct tg_pkt *p, bool response,
		    struct dnsq_key *k)
{
	const struct tg_dns_msg *m = &e->dns;

	if (m->qdcount != 1 || m->n_q != 1 || m->opcode != 0 || m->qr != response)
		return false;
	memset(k, 0, sizeof(*k));
	k->family = p->ip_version;
	k->client = response ? p->dst : p->src;
	k->cport = response ? p->dport : p->sport;
	k->resolver = response ? p->src : p->dst;
	k->rport = response ? p->sport : p->dport;
	k->id = m->id;
	k->qtype = m->q[0].qtype;
	k->qclass = m->q[0].qclass;
	k->qname = m->q[0].name.text;
	k->qname_len = m->q[0].name.len;
	return true;
}

/* A query let through (parsed into e->dns): remember it for its answer. */
static void dns_query_pending(struct engine *e, const struct tg_pkt *p, uint64_t now_ms)
{
	struct dnsq_key k;
	unsigned expired;

	if (!dns_key(e, p, false, &k))
		return;
	if (dnsq_add(e->dnsq, &k, now_ms, &expired) == DNSQ_FULL)
		CTR_INC(e, dnsq_full);
	CTR_ADD(e, dnsq_expired, expired);
}

/* True when the response in e->dns answers a pending query, which it consumes. */
static bool dns_response_solicited(struct engine *e, const struct tg_pkt *p, uint64_t now_ms)
{
	struct dnsq_key k;

	if (dns_key(e, p, true, &k)) {
		switch (dnsq_take(e->dnsq, &k, now_ms)) {
		case DNSQ_MATCH:
			return true;
		case DNSQ_EXPIRED:
			CTR_INC(e, dnsq_expired);
			break;
		case DNSQ_NONE:
		default:
			break;
		}
	}
	CTR_INC(e, dns_unsolicited);
	return false;
}

/* A solicited response in e->dns: its addresses for the question name, for its client. */
static void dns_learn(struct engine *e, const struct tg_pkt *p, uint64_t now_ms)
{
	struct tg_dns_addr a[TG_CAP_DNS_ANSWERS];
	const struct tg_dns_name *qn = &e->dns.q[0].name;
	size_t n, i;

	if (e->cfg.names == NULL)
		return;
	n = tg_dns_answer_addrs(&e->dns, a, TG_CAP_DNS_ANSWERS);
	if (n > 0)
		CTR_INC(e, dns_answers_learned);
	for (i = 0; i < n; i++) {
		switch (names_learn(e->cfg.names, p->ip_version, p->dst, a[i].family, a[i].addr,
				    qn->text, qn->len, a[i].ttl, now_ms)) {
		case NAMES_NEW:
		case NAMES_REFRESHED:
			CTR_INC(e, dns_names_learned);
			break;
		case NAMES_EVICTED:
			CTR_INC(e, dns_names_learned);
			CTR_INC(e, dns_names_evicted);
			break;
		case NAMES_CONFLICT:
			CTR_INC(e, dns_names_conflict);
			break;
		case NAMES_IGNORED:
		default:
			break;
		}
	}
}

/*
 * A DNS response: learning (above), then, when policy says strip, HTTPS/SVCB records lose
 * their ech parameter in every section (the packet is rewritten in the verdict). A response
 * the stripper cannot rewrite, or whose rewrite cannot be delivered, is dropped: forwarding it
 * could hand the client an ech the policy says it must not get; its resolver retries or fails.
 * The stripper walks the message itself, so a response the parser refuses is still stripped.
 */
static void dns_response(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
			 uint64_t now_ms)
{
	uint8_t *msg = e->dns_msg_buf, *pkt = e->dns_pkt_buf;
	size_t mlen, plen;
	unsigned n;

	if (tg_dns_parse(&e->dns, p->payload.p, p->payload.len) != TG_OK)
		CTR_INC(e, dns_unsolicited);
	else if (dns_response_solicited(e, p, now_ms))
		dns_learn(e, p, now_ms);
	if (!decider_ech_strip(e->cfg.decider)) {
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	if (tg_dns_strip_ech(p->payload.p, p->payload.len, msg, &mlen, &n) != TG_OK) {
		CTR_INC(e, dns_ech_refused);
		eng_verdict(e, np->id, NF_DROP, np->mark, 0);
		return;
	}
	if (n == 0) {
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	plen = tg_pkt_build_udp_payload(pkt, sizeof(e->dns_pkt_buf), p, msg, mlen);
	if (plen == 0 || queue_verdict_pkt(e->q, np->id, NF_ACCEPT, false, 0, pkt, plen) == -1) {
		CTR_INC(e, dns_ech_failed);
		CTR_INC(e, dns_ech_refused);
		eng_verdict(e, np->id, NF_DROP, np->mark, 0);
		return;
	}
	CTR_INC(e, dns_ech_stripped);
}

/*
 * A query that does not parse (counted as dns_invalid): the policy's unparsable_dns fail class
 * decides, after filtering on the destination, like any flow that failed. Let through, it
 * would reach a resolver whose parser may read a name ours refused.
 */
static void dns_query_unparsable(struct engine *e, const struct queue_pkt *np,
				 const struct adopt_facts *f, const struct dec_flow *df,
				 uint64_t now_ms)
{
	struct dec_result r;

	decider_failed(e->cfg.decider, df, TG_FLOW_DNS, TG_FLOW_FAIL_UNPARSABLE_DNS, now_ms, &r);
	declog_dns(e, f, 17, NULL, &r, now_ms);
	if (r.action == DEC_BLOCK) {
		CTR_INC(e, dns_invalid_blocked);
		eng_verdict(e, np->id, NF_DROP, np->mark, 0);
		return;
	}
	eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}

/* A DNS query: filtered; let through, it waits for its answer in the pending table. */
static void dns_query(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		      const struct adopt_facts *f, const struct dec_flow *df, uint64_t now_ms)
{
	struct dec_result r;

	if (!eng_dns_query_decide(e, df, p->payload.p, p->payload.len, &r)) {
		dns_query_unparsable(e, np, f, df, now_ms);
		return;
	}
	if (r.action != DEC_BLOCK) {
		dns_query_pending(e, p, now_ms);
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	declog_dns(e, f, 17, &e->dns, &r, now_ms);
	if (enforce_dns_answer(eng_raw_fd(e, p->ip_version), p, r.sink_family, r.sink_addr) == -1)
		CTR_INC(e, rst_fail);
	eng_verdict(e, np->id, NF_DROP, np->mark, 0);
}

/*
 * Which way a datagram on a DNS port (settings.dns_ports) goes. From a DNS port to another
 * port: a response. To a DNS port from another port: a query. DNS port to DNS port (resolvers
 * with a fixed query port):
 * the header's QR bit says; a message too short for it is a query (filtering decides).
 */
static bool dns_is_response(const struct decider *d, const struct tg_pkt *p)
{
	struct tg_cur c;
	uint16_t flags;

	if (!decider_port_is(d, DP_DNS, p->sport))
		return false;
	if (!decider_port_is(d, DP_DNS, p->dport))
		return true;
	tg_cur_init(&c, p->payload.p, p->payload.len);
	(void)tg_cur_u16(&c);
	flags = tg_cur_u16(&c);
	return tg_cur_ok(&c) && (flags & 0x8000) != 0;
}

void engine_udp_packet(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		       uint64_t now_ms)
{
	struct adopt_facts f;
	struct dec_flow df;
	struct dec_result r;

	eng_facts_of_pkt(&f, p);
	/* As before: UDP decisions are made on the packet alone, no learned name. */
	eng_dec_flow_of_pkt(e, &df, p, false, now_ms);
	if (decider_port_is(e->cfg.decider, DP_QUIC, p->dport)) {
		decider_quic(e->cfg.decider, &df, &r);
		declog_quic(e, &f, &r, now_ms);
		if (r.action == DEC_BLOCK) {
			CTR_INC(e, quic_blocked);
			eng_verdict(e, np->id, NF_REPEAT, np->mark,
				    e->cfg.marks.block | e->cfg.marks.drop);
		} else {
			CTR_INC(e, quic_passed);
			eng_verdict(e, np->id, NF_REPEAT, np->mark, e->cfg.marks.pass);
		}
		return;
	}
	if (dns_is_response(e->cfg.decider, p)) {
		dns_response(e, np, p, now_ms);
		return;
	}
	if (decider_port_is(e->cfg.decider, DP_DNS, p->dport)) {
		dns_query(e, np, p, &f, &df, now_ms);
		return;
	}
	eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}
