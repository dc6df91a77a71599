/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine_syn.c - the handshake of a TCP flow in the engine (engine.c has its data):
 *   SYN      -> a new flow (the per-source quota and the table's room first), the client's ISN
 *               and options, the passive OS hint, IP filtering; a retransmission is let through,
 *               another ISN on the same tuple restarts the flow; data in any SYN is the
 *               tcp_fast_open failure
 *   SYN-ACK  -> the server's ISN, options, window and timestamp: what adoption continues
 */
#include <string.h>

#include <linux/netfilter.h>

#include "tlsgate/oshint.h"

#include "engine_impl.h"
#include "marks.h"

static void oshint_syn_of(struct tg_oshint_syn *syn, const struct tg_pkt *p)
{
	memset(syn, 0, sizeof(*syn));
	syn->ip_version = p->ip_version;
	syn->ttl = p->ttl;
	syn->df = p->df;
	syn->ip_len = (uint16_t)p->ip_len;
	syn->window = p->window;
	syn->has_mss = p->opts.has_mss;
	syn->mss = p->opts.mss;
	syn->has_wscale = p->opts.has_wscale;
	syn->wscale = p->opts.wscale;
	syn->sack_perm = p->opts.sack_perm;
	syn->has_ts = p->opts.has_ts;
	syn->nopts =
		p->opts.n_kinds < TG_CAP_TCP_OPT_KINDS ? p->opts.n_kinds : TG_CAP_TCP_OPT_KINDS;
	memcpy(syn->opts, p->opts.kinds, syn->nopts);
}

/*
 * Data in a SYN (TCP Fast Open) on a queued port: the bytes would reach the server before the
 * ClientHello could be seen whole, and adoption cannot continue such a flow. Every SYN is
 * checked, retransmissions too. Block: this SYN is dropped and nothing is remembered, so the
 * client's retransmission without data (what Linux sends after a lost SYN-data) goes on as
 * an ordinary flow. Pass: the flow passes whole.
 */
static void tcp_syn_data(struct engine *e, struct eflow *fl, const struct queue_pkt *np,
			 const struct tg_pkt *p, uint64_t now_ms)
{
	struct dec_result r;

	CTR_INC(e, tfo_data);
	eng_pkt_failed(e, p, TG_FLOW_FAIL_TFO, true, now_ms, &r);
	if (r.action == DEC_BLOCK) {
		CTR_INC(e, block);
		eng_verdict(e, np->id, NF_DROP, np->mark, 0);
		return;
	}
	if (fl != NULL && fl->state != EF_DECIDED) {
		eng_flow_settle(e, fl, NF_REPEAT, e->cfg.marks.pass, false, now_ms);
		CTR_INC(e, pass);
	}
	eng_verdict(e, np->id, NF_REPEAT, np->mark, e->cfg.marks.pass);
}

/* The flow table or the kernel cannot take a new flow: policy's queue_full (fail-overload). */
static void tcp_syn_overload(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
			     uint64_t now_ms)
{
	struct dec_result r;

	CTR_INC(e, flows_full);
	/* Not logged: an overload is a flood, and a flood of log lines helps nobody; counted. */
	eng_pkt_failed(e, p, TG_FLOW_FAIL_OVERLOAD, false, now_ms, &r);
	if (r.action == DEC_BLOCK)
		eng_verdict(e, np->id, NF_DROP, np->mark, 0);
	else
		eng_verdict(e, np->id, NF_REPEAT, np->mark, e->cfg.marks.pass);
}

void engine_syn(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		uint64_t now_ms)
{
	bool to_server = true;
	struct eflow *fl = flowtab_find(e, p, &to_server);
	struct tg_oshint_syn syn;
	struct tg_os_hint oh;
	struct dec_flow df;
	struct dec_result r;

	if (fl != NULL && !to_server) {
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	if (p->payload.len) {
		tcp_syn_data(e, fl, np, p, now_ms);
		return;
	}
	if (fl != NULL && fl->state == EF_DECIDED && p->seq == fl->f.client_isn) {
		/* A late copy of the decided connection's SYN: its decision. */
		eng_verdict(e, np->id, NF_REPEAT, np->mark, fl->mark);
		return;
	}
	if (fl != NULL && p->seq == fl->f.client_isn) {
		/* A retransmitted SYN. */
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	if (fl != NULL) {
		/*
		 * Another ISN on the same tuple: a new connection (a client reusing the port of
		 * one that ended, decided or not); the old facts and decision are void.
		 */
		flowtab_remove(e, fl);
	}
	switch (flowtab_new(e, p, now_ms, &fl)) {
	case FLOWTAB_NEW_OK:
		break;
	case FLOWTAB_NEW_SOURCE:
		/* One client's quota: its own SYN waits (the client retries), others go on. */
		CTR_INC(e, source_full);
		eng_verdict(e, np->id, NF_DROP, np->mark, 0);
		return;
	case FLOWTAB_NEW_FULL:
	default:
		tcp_syn_overload(e, np, p, now_ms);
		return;
	}
	fl->state = EF_SYN;
	fl->f.client_isn = p->seq;
	fl->f.client_mss = p->opts.has_mss ? p->opts.mss : 0;
	fl->f.client_wscale = p->opts.wscale;
	fl->f.wscale_ok = p->opts.has_wscale;
	fl->f.sack_ok = p->opts.sack_perm;
	fl->f.ts_ok = p->opts.has_ts;
	fl->f.client_window = p->window;
	if (np->has_hwaddr && np->hwaddr_len == 6) {
		fl->has_mac = true;
		memcpy(fl->mac, np->hwaddr, 6);
	}
	oshint_syn_of(&syn, p);
	tg_oshint_guess(&syn, &oh);
	fl->os_hint = (int)oh.family;
	fl->os_conf = oh.confidence;
	eng_dec_flow_of(e, &df, fl, now_ms);
	decider_ip(e->cfg.decider, &df, &r);
	if (r.action == DEC_BLOCK) {
		declog_flow(e, &fl->f, 6, df.dns_name, df.dns_name_len, &r, now_ms);
		fl->n_held = 1;
		fl->held[0] = np->id;
		fl->held_mark[0] = np->mark;
		/* The RST acknowledges the SYN: a SYN-SENT client takes it and gives up at once. */
		eng_flow_block(e, fl, now_ms);
		return;
	}
	eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}

void engine_synack(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		   uint64_t now_ms)
{
	bool to_server;
	struct eflow *fl = flowtab_find(e, p, &to_server);

	if (fl == NULL || to_server) {
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	if (fl->state == EF_SYN) {
		fl->f.server_isn = p->seq;
		fl->f.server_mss = p->opts.has_mss ? p->opts.mss : 0;
		fl->f.server_wscale = p->opts.wscale;
		fl->f.wscale_ok = fl->f.wscale_ok && p->opts.has_wscale;
		fl->f.sack_ok = fl->f.sack_ok && p->opts.sack_perm;
		fl->f.ts_ok = fl->f.ts_ok && p->opts.has_ts;
		fl->f.server_tsval = p->opts.tsval;
		fl->f.server_tsval_ms = now_ms;
		fl->f.synack_window = p->window;
		flowtab_state(e, fl, EF_SYNACK, now_ms);
	}
	if (fl->state == EF_DECIDED)
		eng_verdict(e, np->id, NF_REPEAT, np->mark, fl->mark);
	else
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}
