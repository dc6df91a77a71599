/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine_udp.c - the per-queue engine's UDP side (engine.c has TCP): DNS queries through DNS
 * filtering (blocked: NXDOMAIN or the sinkhole injected, the query dropped), DNS responses
 * (address -> name learning, ECH stripped from HTTPS/SVCB answers), QUIC per policy.
 */
#include <string.h>

#include <linux/netfilter.h>

#include "tlsgate/dns_ech.h"
#include "tlsgate/pkt_build.h"

#include "engine_impl.h"
#include "marks.h"
#include "names.h"

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
 * A DNS response: when policy says strip, HTTPS/SVCB records lose their ech parameter in every
 * section (the packet is rewritten in the verdict). A response the stripper cannot rewrite, or
 * whose rewrite cannot be delivered, is dropped (dns_ech_refused): forwarding it could hand the
 * client an ech the policy says it must not get, and the client's resolver retries or fails.
 * The stripper walks the message itself, so a response the parser refuses is still stripped.
 */
static void dns_response(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
			 uint64_t now_ms)
{
	uint8_t *msg = e->dns_msg_buf, *pkt = e->dns_pkt_buf;
	size_t mlen, plen, i;
	unsigned n;

	if (tg_dns_parse(&e->dns, p->payload.p, p->payload.len) == TG_OK) {
		/* Learn address -> the name the client asked for, for the flows that follow. */
		for (i = 0; e->cfg.names != NULL && e->dns.n_q > 0 && i < e->dns.n_an; i++) {
			const struct tg_dns_rr *rr = &e->dns.an[i];

			if (rr->type != 1 && rr->type != 28)
				continue;
			names_learn(e->cfg.names, rr->type == 1 ? 4 : 6,
				    rr->type == 1 ? rr->u.a : rr->u.aaaa, e->dns.q[0].name.text,
				    e->dns.q[0].name.len, rr->ttl, now_ms);
			CTR_INC(e, dns_names_learned);
		}
	}
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

void engine_udp_packet(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		       uint64_t now_ms)
{
	struct adopt_facts f;
	struct dec_flow df;
	struct dec_result r;

	memset(&f, 0, sizeof(f));
	f.family = p->ip_version;
	memcpy(f.client, p->src, 16);
	memcpy(f.server, p->dst, 16);
	f.cport = p->sport;
	f.sport = p->dport;
	memset(&df, 0, sizeof(df));
	df.family = p->ip_version;
	df.src = p->src;
	df.dst = p->dst;
	df.sport = p->sport;
	df.dport = p->dport;
	if (p->dport == 443) {
		decider_quic(e->cfg.decider, &df, &r);
		eng_log_decision(e, &f, "quic", NULL, NULL, 0, &r);
		if (r.action == DEC_BLOCK) {
			CTR_INC(e, quic_blocked);
			eng_verdict(e, np->id, NF_REPEAT, np->mark, TG_MARK_BLOCK | TG_MARK_DROP);
		} else {
			CTR_INC(e, quic_passed);
			eng_verdict(e, np->id, NF_REPEAT, np->mark, TG_MARK_PASS);
		}
		return;
	}
	if (p->sport == 53) {
		dns_response(e, np, p, now_ms);
		return;
	}
	if (p->dport == 53) {
		if (!eng_dns_query_decide(e, &df, p->payload.p, p->payload.len, &r)) {
			eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
			return;
		}
		if (r.action == DEC_BLOCK) {
			uint8_t out[TG_PKT_DNS_ANSWER_MAX];
			size_t n;

			eng_log_decision(e, &f, "dns", "qname",
					 (const uint8_t *)e->dns.q[0].name.text,
					 e->dns.q[0].name.len, &r);
			n = tg_pkt_build_dns_block(out, sizeof(out), p, r.sink_family, r.sink_addr,
						   60);
			if (n == 0 || adopt_raw_send(eng_raw_fd(e, p->ip_version), p->ip_version,
						     p->src, out, n) == -1)
				CTR_INC(e, rst_fail);
			eng_verdict(e, np->id, NF_DROP, np->mark, 0);
			return;
		}
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}
