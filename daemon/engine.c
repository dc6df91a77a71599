/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.c - per-queue classification of the first packets of each TCP flow (DESIGN.md §1).
 * The engine's other files: engine_syn.c (the handshake), engine_udp.c (DNS over UDP, QUIC),
 * flowtab.c (the flow table), enforce.c (what a block sends), declog.c (the decision log).
 *
 * TCP on a queued port:
 *   SYN      -> record the client's ISN and options; IP filtering; per-source quota; data in a
 *               SYN is the tcp_fast_open failure (every SYN, retransmissions too)
 *   SYN-ACK  -> record the server's ISN, options, window and timestamp; accept
 *   data     -> copy the bytes (lib reasm) and examine them (lib flow: TLS, HTTP, DNS, need
 *               more, or a failure). A segment that does not complete the first message goes
 *               on to the server at once: the server cannot answer an incomplete ClientHello
 *               or request, and a client whose segments are all held stalls (its window shuts
 *               after about ten). Only the segment that completes it is held, and decided:
 *               PASS    NF_REPEAT + PASS mark: saved to the connmark, the rest skips the queue
 *               BLOCK   NF_REPEAT + BLOCK|DROP mark, RST to both ends (the server's at the
 *                       sequence number after the bytes it already has)
 *               DECRYPT adopt the client half (adopt.c) with the released bytes as the
 *                       socket's receive queue, NF_REPEAT + ADOPTED mark so the held segment
 *                       reaches the adopted socket, RST the server half, hand the socket to
 *                       a proxy worker (proxy.h); no CA: the cert-mint failure
 *   packets still queued when a decision lands are re-verdicted the same way.
 * Every failure (a reassembly conflict, bytes past the window, a packet the dissector cannot
 * parse, data in a SYN, a flow seen midstream, overload, an adoption that fails, first bytes
 * that never complete) is decided by the classifier like any other flow: filtering on the
 * destination and the learned name first, then the failure's settings.fail class. Counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include <linux/netfilter.h>

#include "tlsgate/caps.h"
#include "tlsgate/cidr.h"
#include "tlsgate/dns.h"
#include "tlsgate/dns_ech.h"
#include "tlsgate/flow.h"
#include "tlsgate/http.h"
#include "tlsgate/oshint.h"
#include "tlsgate/pkt.h"
#include "tlsgate/pkt_build.h"
#include "tlsgate/reasm.h"
#include "tlsgate/tls_ch.h"

#include "adopt.h"
#include "decide.h"
#include "engine.h"
#include "engine_impl.h"
#include "enforce.h"
#include "evlog.h"
#include "jsonw.h"
#include "log.h"
#include "marks.h"
#include "names.h"
#include "tlsgate/pindetect.h"

#include "proxy.h"
#include "tuple.h"

/* now - then, never negative: the clock a packet was stamped with may be later than a tick's. */
static uint64_t age_ms(uint64_t now_ms, uint64_t then_ms)
{
	return now_ms > then_ms ? now_ms - then_ms : 0;
}

struct engine *engine_new(const struct engine_cfg *cfg, struct queue *q)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->cfg = *cfg;
	e->q = q;
	if (flowtab_init(e) == -1) {
		engine_free(e);
		return NULL;
	}
	e->dnsq = dnsq_new();
	if (e->dnsq == NULL) {
		engine_free(e);
		return NULL;
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	flowtab_fini(e);
	dnsq_free(e->dnsq);
	free(e);
}

void eng_verdict(struct engine *e, uint32_t id, int v, uint32_t pmark, uint32_t decision)
{
	uint32_t mark = (pmark & ~(e->cfg.marks.decision_mask | e->cfg.marks.drop)) | decision;

	if (queue_verdict(e->q, id, v, decision != 0, mark) == -1)
		CTR_INC(e, verdict_fail);
}

int eng_raw_fd(const struct engine *e, uint8_t family)
{
	return family == 4 ? e->cfg.raw4 : e->cfg.raw6;
}

/* Release every held packet with @v and @mark, and remember them for late packets. */
void eng_flow_settle(struct engine *e, struct eflow *fl, int v, uint32_t mark, bool drop,
		     uint64_t now_ms)
{
	unsigned i;

	for (i = 0; i < fl->n_held; i++)
		eng_verdict(e, fl->held[i], v, fl->held_mark[i], mark);
	fl->n_held = 0;
	flowtab_part_del(fl);
	/* Decided flows only linger for late packets: the quota counts flows being decided. */
	flowtab_source_put(e, fl->src);
	fl->src = NULL;
	flowtab_state(e, fl, EF_DECIDED, now_ms);
	fl->mark = mark;
	fl->drop = drop;
	tg_reasm_free(fl->reasm);
	fl->reasm = NULL;
	tg_reasm_free(fl->sreasm);
	fl->sreasm = NULL;
}

/* The client's stream bytes seen in order, from its first byte (earlier messages included). */
static uint32_t seen_bytes(const struct eflow *fl)
{
	return fl->msg_base + (fl->reasm ? (uint32_t)tg_reasm_contig(fl->reasm).len : 0);
}

void eng_flow_block(struct engine *e, struct eflow *fl, uint64_t now_ms)
{
	/* Before a SYN-ACK (server ISN unknown) only the client is reset: its SYN acknowledged. */
	if (enforce_reset(eng_raw_fd(e, fl->f.family), &fl->f, seen_bytes(fl),
			  fl->state >= EF_SYNACK) == -1) {
		CTR_INC(e, rst_fail);
		log_warn("queue %u: block: RST", e->cfg.queue);
	}
	eng_flow_settle(e, fl, NF_REPEAT, e->cfg.marks.block | e->cfg.marks.drop, true, now_ms);
	CTR_INC(e, block);
}

/*
 * Blocked plain HTTP: the client gets a 403 page from the server's address, with FIN, in place
 * of the held request (acknowledged, so the client takes the page); the server's half is reset.
 */
static void flow_block_http(struct engine *e, struct eflow *fl, const char *rule, uint64_t now_ms)
{
	if (enforce_block_page(eng_raw_fd(e, fl->f.family), &fl->f, seen_bytes(fl), rule) == -1) {
		CTR_INC(e, rst_fail);
		log_warn("queue %u: block page", e->cfg.queue);
	}
	eng_flow_settle(e, fl, NF_REPEAT, e->cfg.marks.block | e->cfg.marks.drop, true, now_ms);
	CTR_INC(e, block);
}

static void flow_pass(struct engine *e, struct eflow *fl, uint64_t now_ms)
{
	eng_flow_settle(e, fl, NF_REPEAT, e->cfg.marks.pass, false, now_ms);
	CTR_INC(e, pass);
}

/* The name this client learned from DNS for the flow's server, if any (names.c). */
static void dec_flow_learned(struct engine *e, struct dec_flow *df, uint64_t now_ms)
{
	size_t len;

	if (e->cfg.names != NULL &&
	    names_lookup(e->cfg.names, df->family, df->src, df->dst, e->learned, &len, now_ms)) {
		df->dns_name = e->learned;
		df->dns_name_len = len;
	}
}

void eng_dec_flow_of(struct engine *e, struct dec_flow *df, const struct eflow *fl, uint64_t now_ms)
{
	memset(df, 0, sizeof(*df));
	df->family = fl->f.family;
	df->src = fl->f.client;
	df->dst = fl->f.server;
	df->sport = fl->f.client_port;
	df->dport = fl->f.server_port;
	df->mac = fl->has_mac ? fl->mac : NULL;
	df->os_hint = fl->os_hint;
	df->os_conf = fl->os_conf;
	dec_flow_learned(e, df, now_ms);
}

static void flow_apply(struct engine *e, struct eflow *fl, enum dec_action a, uint64_t now_ms);

/*
 * A failure decided by the classifier (filtering on the destination and the learned name
 * first, then @why's class), logged and applied. Never decrypts.
 */
/*
 * Decide @fl by its failure @why and apply it. A ClientHello's @sni (NULL: none, or no
 * ClientHello) names the flow in the log line; else the learned name does.
 */
static void flow_fail_sni(struct engine *e, struct eflow *fl, enum tg_flow_fail why,
			  const uint8_t *sni, size_t sni_len, uint64_t now_ms)
{
	struct dec_flow df;
	struct dec_result r;

	eng_dec_flow_of(e, &df, fl, now_ms);
	/* The kind tg_flow_facts_set_exam() gives the same failure (inspect decides alike). */
	decider_failed(e->cfg.decider, &df,
		       why == TG_FLOW_FAIL_UNPARSABLE_DNS ? TG_FLOW_DNS : TG_FLOW_TLS, why, now_ms,
		       &r);
	if (sni != NULL)
		declog_tls(e, &fl->f, NULL, sni, sni_len, NULL, 0, &r, now_ms);
	else
		declog_flow(e, &fl->f, 6, df.dns_name, df.dns_name_len, &r, now_ms);
	flow_apply(e, fl, r.action, now_ms);
}

static void flow_fail(struct engine *e, struct eflow *fl, enum tg_flow_fail why, uint64_t now_ms)
{
	flow_fail_sni(e, fl, why, NULL, 0, now_ms);
}

/*
 * DECRYPT: adopt the client half with the released bytes as its received prefix, let the held
 * segment reach the adopted socket, reset the server half, and hand the socket to a proxy
 * worker. The decision line is finished by proxy.c when the worker reports the outcome; a flow
 * that cannot get that far is decided as a failure (and logged as one) instead.
 */
static void flow_decrypt(struct engine *e, struct eflow *fl, const struct dec_result *r,
			 const uint8_t *sni, size_t sni_len, uint64_t now_ms)
{
	const char *step = NULL;
	struct tg_span s = fl->reasm ? tg_reasm_contig(fl->reasm) : (struct tg_span){ NULL, 0 };
	size_t prefix = fl->held_off <= s.len ? fl->held_off : 0;
	struct proxy_job job;
	struct proxy_flow pf;
	char *frag = NULL;
	size_t frag_len = 0;
	bool ok;
	int fd;

	/* No CA, or the proxy could not start: nothing can be decrypted. */
	if (e->cfg.proxy == NULL) {
		flow_fail_sni(e, fl, TG_FLOW_FAIL_CERT_MINT, sni, sni_len, now_ms);
		return;
	}
	/* Without the SYN-ACK's facts the connection cannot be continued. */
	if (fl->state < EF_SYNACK) {
		CTR_INC(e, adopt_fail);
		flow_fail_sni(e, fl, TG_FLOW_FAIL_ADOPTION, sni, sni_len, now_ms);
		return;
	}
	/* No room in the proxy: the adoption would be reset at once; a failure, before it. */
	if (!proxy_has_room(e->cfg.proxy, fl->f.family, fl->f.client)) {
		CTR_INC(e, adopt_fail);
		CTR_INC(e, proxy_full);
		flow_fail_sni(e, fl, TG_FLOW_FAIL_ADOPTION, sni, sni_len, now_ms);
		return;
	}
	/* The SNI and the name point into the flow's bytes, which settling the flow frees. */
	memset(&job, 0, sizeof(job));
	job.family = fl->f.family;
	memcpy(job.client, fl->f.client, sizeof(job.client));
	memcpy(job.server, fl->f.server, sizeof(job.server));
	job.client_port = fl->f.client_port;
	job.server_port = fl->f.server_port;
	job.fail_untrusted = decider_fail_blocks(e->cfg.decider, TG_FAIL_UPSTREAM_UNTRUSTED)
				     ? PROXY_CLASS_BLOCK
				     : PROXY_CLASS_PASS;
	job.fail_unsupported = decider_fail_blocks(e->cfg.decider, TG_FAIL_UPSTREAM_UNSUPPORTED)
				       ? PROXY_CLASS_BLOCK
				       : PROXY_CLASS_PASS;
	job.fail_mint = decider_fail_blocks(e->cfg.decider, TG_FAIL_CERT_MINT) ? PROXY_CLASS_BLOCK
									       : PROXY_CLASS_PASS;
	job.silent_close_ms = TG_PINDETECT_SILENT_MS_DEFAULT;
	if (sni != NULL && sni_len <= TG_CAP_NAME_LEN) {
		memcpy(job.sni, sni, sni_len);
		job.sni_len = (uint16_t)sni_len;
	}
	/* The ClientHello decided on is e->exam's (flow_decide_tls, the only caller). */
	if (!declog_fragment(e, &fl->f, &e->exam.ch, sni, sni_len, r, &frag, &frag_len))
		evlog_lost(e->cfg.log);
	memset(&pf, 0, sizeof(pf));
	pf.reason = r->reason;
	pf.user = r->user;
	pf.name = r->name;
	pf.rule_name = r->rule_name;
	pf.ech_outer = r->ech_outer;
	pf.bypass_allowed = r->bypass_allowed;
	pf.alert_rule = r->ctx.alert_rule[0] != '\0';
	pf.frag = frag;
	pf.frag_len = frag_len;
	pf.decided_ms = ev_now_ms();
	fd = adopt_socket(&fl->f, s.p, prefix, 0, now_ms, &step);
	if (fd == -1) {
		free(frag);
		CTR_INC(e, adopt_fail);
		log_warn("queue %u: adopt: %s", e->cfg.queue, step);
		flow_fail_sni(e, fl, TG_FLOW_FAIL_ADOPTION, sni, sni_len, now_ms);
		return;
	}
	CTR_INC(e, adopt_ok);
	/* The held segment now reaches the adopted socket through the socket match. */
	eng_flow_settle(e, fl, NF_REPEAT, e->cfg.marks.adopt, false, now_ms);
	if (adopt_reset_server(eng_raw_fd(e, fl->f.family), &fl->f) == -1) {
		CTR_INC(e, rst_fail);
		log_warn("queue %u: reset server half", e->cfg.queue);
	}
	ok = proxy_handoff(e->cfg.proxy, fd, &job, &pf);
	free(frag);
	if (!ok) {
		/* Adopted, then refused (a race with the caps, a worker that died): reset. */
		struct dec_result rr = *r;

		CTR_INC(e, proxy_refused);
		rr.action = DEC_BLOCK;
		rr.reason = "fail-adoption";
		declog_tls(e, &fl->f, NULL, (const uint8_t *)job.sni, job.sni_len, NULL, 0, &rr,
			   now_ms);
		return;
	}
	CTR_INC(e, decrypt);
}

static void flow_apply(struct engine *e, struct eflow *fl, enum dec_action a, uint64_t now_ms)
{
	switch (a) {
	case DEC_BLOCK:
		eng_flow_block(e, fl, now_ms);
		return;
	case DEC_PASS:
	default:
		flow_pass(e, fl, now_ms);
		return;
	}
}

/*
 * DNS over TCP: each framed query through DNS filtering; a blocked name resets the connection.
 * Returns true when the query passed and the flow goes on to its next query.
 */
static bool flow_decide_dns(struct engine *e, struct eflow *fl, const struct dec_flow *df,
			    uint64_t now_ms)
{
	struct dec_result r;

	if (!eng_dns_query_decide(e, df, e->exam.dns.p, e->exam.dns.len, &r)) {
		flow_fail(e, fl, TG_FLOW_FAIL_UNPARSABLE_DNS, now_ms);
		return false;
	}
	declog_dns(e, &fl->f, 6, &e->dns, &r, now_ms);
	if (r.action == DEC_BLOCK) {
		eng_flow_block(e, fl, now_ms);
		return false;
	}
	return true;
}

/* Plain HTTP: each request head through URL filtering. True: passed, the flow goes on. */
static bool flow_decide_http(struct engine *e, struct eflow *fl, const struct dec_flow *df,
			     uint64_t now_ms)
{
	const struct tg_http_req *req = &e->exam.req;
	struct dec_result r;

	decider_http(e->cfg.decider, df, (const char *)req->host.p, req->host.len,
		     (const char *)req->target.p, req->target.len, &r);
	declog_http(e, &fl->f, req, &r, now_ms);
	if (r.action != DEC_BLOCK) {
		CTR_INC(e, http_passed);
		return true;
	}
	CTR_INC(e, http_blocked);
	/* Plain HTTP is never adopted here: a block page, or a reset before the handshake. */
	if (fl->state >= EF_SYNACK)
		flow_block_http(e, fl, r.rule_name, now_ms);
	else
		eng_flow_block(e, fl, now_ms);
	return false;
}

static void flow_decide_tls(struct engine *e, struct eflow *fl, const struct dec_flow *df,
			    uint64_t now_ms)
{
	const struct tg_ch *ch = &e->exam.ch;
	struct dec_result r;

	decider_tls(e->cfg.decider, df, ch, now_ms, &r);
	if (r.fail == TG_FLOW_FAIL_INVALID_NAME)
		CTR_INC(e, invalid_name);
	if (r.action == DEC_DECRYPT) {
		flow_decrypt(e, fl, &r, ch->has_sni ? ch->sni.p : NULL,
			     ch->has_sni ? ch->sni.len : 0, now_ms);
		return;
	}
	/* No SNI: the log names the server by what DNS told the gateway about its address. */
	if (ch->has_sni)
		declog_tls(e, &fl->f, ch, ch->sni.p, ch->sni.len, NULL, 0, &r, now_ms);
	else
		declog_tls(e, &fl->f, ch, NULL, 0, df->dns_name, df->dns_name_len, &r, now_ms);
	flow_apply(e, fl, r.action, now_ms);
}

/* Counters of the failures the examination or the reassembly found. */
static void fail_count(struct engine *e, enum tg_flow_fail why)
{
	switch (why) {
	case TG_FLOW_FAIL_REASM_CONFLICT:
		CTR_INC(e, reasm_conflict);
		break;
	case TG_FLOW_FAIL_REASM_WINDOW:
		CTR_INC(e, reasm_window);
		break;
	case TG_FLOW_FAIL_NON_TLS:
		CTR_INC(e, non_tls);
		break;
	case TG_FLOW_FAIL_UNPARSABLE_DNS:
		CTR_INC(e, dns_invalid);
		break;
	case TG_FLOW_FAIL_UNPARSABLE_CH:
	default:
		CTR_INC(e, ch_invalid);
		break;
	}
}

/*
 * Hold the segment in hand: the decision that follows settles it. @released: the stream bytes
 * the server has (everything in order before this segment went on to it).
 */
static void flow_hold(struct engine *e, struct eflow *fl, const struct queue_pkt *np,
		      const struct tg_pkt *p, uint32_t released)
{
	uint32_t off = p->seq - (fl->f.client_isn + 1);

	if (fl->n_held == 0) {
		fl->held_mark[0] = np->mark;
		fl->held[0] = np->id;
		fl->n_held = 1;
		CTR_INC(e, held);
	}
	/* A segment that straddles isn + 1 begins the stream; the server has what came before. */
	fl->held_off = off <= released ? off : 0;
	fl->f.server_has = released;
}

/*
 * The client's data segment @p of a flow not yet decided: its bytes are copied, then the
 * bytes in order are examined. Not complete yet: the segment goes on to the server. Complete,
 * or proven a failure: the segment is held and the flow decided. Plain HTTP and DNS over TCP
 * stay queued after a request passed: every request of the connection is decided.
 */
static void tcp_client_data(struct engine *e, struct eflow *fl, const struct queue_pkt *np,
			    const struct tg_pkt *p, uint64_t now_ms)
{
	const struct tg_reasm_stats *st;
	struct dec_flow df;
	uint32_t before, dups, next;
	enum tg_err err;

	if (fl->reasm == NULL) {
		fl->reasm = tg_reasm_new(fl->f.client_isn);
		if (fl->reasm == NULL) {
			flow_hold(e, fl, np, p, 0);
			flow_fail(e, fl, TG_FLOW_FAIL_OVERLOAD, now_ms);
			return;
		}
		fl->data_ms = now_ms;
		flowtab_state(e, fl, EF_DATA, now_ms);
		flowtab_part_add(e, fl);
	}
	if (fl->state == EF_STREAM)
		flowtab_state(e, fl, EF_STREAM, now_ms); /* not idle */
	st = tg_reasm_stats(fl->reasm);
	before = seen_bytes(fl);
	dups = st->dups;
	err = tg_reasm_add(fl->reasm, p->seq, p->payload.p, p->payload.len);
	if (err == TG_ERR_REASM_CONFLICT || err == TG_ERR_REASM_WINDOW || err == TG_ERR_NOMEM) {
		enum tg_flow_fail why = err == TG_ERR_REASM_CONFLICT ? TG_FLOW_FAIL_REASM_CONFLICT
					: err == TG_ERR_NOMEM	     ? TG_FLOW_FAIL_OVERLOAD
								     : TG_FLOW_FAIL_REASM_WINDOW;

		fail_count(e, why);
		flow_hold(e, fl, np, p, before);
		flow_fail(e, fl, why, now_ms);
		return;
	}
	if (err == TG_OK && st->dups != dups) {
		/* Nothing new (a retransmission): it goes where its original went. */
		CTR_INC(e, dup_segments);
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, fl->stream_mark);
		return;
	}
	for (;;) {
		struct tg_span s = tg_reasm_contig(fl->reasm);
		bool go_on;

		if (s.len > 0 && !fl->in_part) {
			fl->data_ms = now_ms;
			flowtab_part_add(e, fl);
		}
		tg_flow_examine(s.p, s.len,
				decider_port_is(e->cfg.decider, DP_DNS, fl->f.server_port),
				e->scratch, &e->exam);
		if (e->exam.kind == TG_EXAM_NEED_MORE && err == TG_ERR_CAP) {
			e->exam.kind = TG_EXAM_FAIL;
			e->exam.fail = TG_FLOW_FAIL_REASM_WINDOW;
		}
		if (e->exam.kind == TG_EXAM_NEED_MORE) {
			CTR_INC(e, released);
			eng_verdict(e, np->id, NF_ACCEPT, np->mark, fl->stream_mark);
			return;
		}
		flow_hold(e, fl, np, p, before);
		eng_dec_flow_of(e, &df, fl, now_ms);
		switch (e->exam.kind) {
		case TG_EXAM_TLS:
			flow_decide_tls(e, fl, &df, now_ms);
			return;
		case TG_EXAM_HTTP:
			go_on = flow_decide_http(e, fl, &df, now_ms);
			break;
		case TG_EXAM_DNS:
			go_on = flow_decide_dns(e, fl, &df, now_ms);
			break;
		case TG_EXAM_FAIL:
		default:
			fail_count(e, e->exam.fail);
			flow_fail(e, fl, e->exam.fail, now_ms);
			return;
		}
		if (!go_on)
			return;
		CTR_INC(e, stream_requests);
		if (!tg_flow_exam_span(&e->exam, &next) ||
		    tg_reasm_advance(&fl->reasm, next) != TG_OK) {
			/* The rest is no longer requests we can find: it passes whole. */
			CTR_INC(e, stream_end);
			flow_pass(e, fl, now_ms);
			return;
		}
		fl->msg_base += next;
		/*
		 * Passed; the held segment goes on, and what it carried beyond is examined. An
		 * HTTP flow's replies need not come to the queue any more: STREAM in the connmark
		 * (DNS answers over TCP keep coming, they are few and small).
		 */
		fl->n_held = 0;
		flowtab_part_del(fl);
		if (e->exam.kind == TG_EXAM_HTTP)
			fl->stream_mark = e->cfg.marks.stream;
		flowtab_state(e, fl, EF_STREAM, now_ms);
		err = TG_OK;
		if (tg_reasm_contig(fl->reasm).len == 0) {
			eng_verdict(e, np->id, NF_ACCEPT, np->mark, fl->stream_mark);
			return;
		}
	}
}

/* The facts of a packet that has no flow (yet): its addresses, the client being the sender. */
void eng_dec_flow_of_pkt(struct engine *e, struct dec_flow *df, const struct tg_pkt *p,
			 bool learned, uint64_t now_ms)
{
	memset(df, 0, sizeof(*df));
	df->family = p->ip_version == 6 ? 6 : 4;
	df->src = p->src;
	df->dst = p->dst;
	df->sport = p->sport;
	df->dport = p->dport;
	if (learned)
		dec_flow_learned(e, df, now_ms);
}

void eng_facts_of_pkt(struct adopt_facts *f, const struct tg_pkt *p)
{
	memset(f, 0, sizeof(*f));
	f->family = p->ip_version == 6 ? 6 : 4;
	memcpy(f->client, p->src, 16);
	memcpy(f->server, p->dst, 16);
	f->client_port = p->sport;
	f->server_port = p->dport;
}

void eng_pkt_failed(struct engine *e, const struct tg_pkt *p, enum tg_flow_fail why, bool log,
		    uint64_t now_ms, struct dec_result *r)
{
	struct adopt_facts af;
	struct dec_flow df;

	eng_dec_flow_of_pkt(e, &df, p, true, now_ms);
	decider_failed(e->cfg.decider, &df, TG_FLOW_TLS, why, now_ms, r);
	if (!log)
		return;
	eng_facts_of_pkt(&af, p);
	declog_flow(e, &af, p->proto == 17 ? 17 : 6, df.dns_name, df.dns_name_len, r, now_ms);
}

/*
 * DNS over TCP answers, when policy strips ECH: the server's stream is reassembled message by
 * message; an answer that carries an ech parameter cannot be rewritten in a TCP stream (its
 * length would change under the client's sequence numbers), so it is refused: the connection
 * is reset before the segment completing it reaches the client (the resolver retries or fails;
 * it never gets the ech parameter policy strips). True when the packet may go on.
 */
static bool tcp_dns_answer_ok(struct engine *e, struct eflow *fl, const struct tg_pkt *p)
{
	struct tg_span s, msg;
	size_t used, olen;
	unsigned n;
	enum tg_err err;

	if (!decider_port_is(e->cfg.decider, DP_DNS, fl->f.server_port) || p->payload.len == 0 ||
	    !decider_ech_strip(e->cfg.decider))
		return true;
	if (fl->sreasm == NULL) {
		fl->sreasm = tg_reasm_new(fl->f.server_isn);
		if (fl->sreasm == NULL)
			return false;
	}
	if (tg_reasm_add(fl->sreasm, p->seq, p->payload.p, p->payload.len) != TG_OK)
		return false;
	for (;;) {
		s = tg_reasm_contig(fl->sreasm);
		err = tg_dns_tcp_frame(s.p, s.len, &msg, &used);
		if (err == TG_NEED_MORE)
			return true;
		if (err != TG_OK)
			return false;
		err = tg_dns_strip_ech(msg.p, msg.len, e->dns_msg_buf, &olen, &n);
		if (err != TG_OK || n > 0)
			return false;
		/* The next answer: a new reassembly from where this one ended. */
		if (tg_reasm_advance(&fl->sreasm, (uint32_t)used) != TG_OK)
			return false;
	}
}

/* A packet from the server of a flow not decided yet. */
static void tcp_server_packet(struct engine *e, struct eflow *fl, const struct queue_pkt *np,
			      const struct tg_pkt *p, uint64_t now_ms)
{
	uint32_t end = p->seq + (uint32_t)p->payload.len - (fl->f.server_isn + 1);

	if (fl->state >= EF_SYNACK && !tcp_dns_answer_ok(e, fl, p)) {
		CTR_INC(e, dns_ech_tcp_refused);
		fl->held[0] = np->id;
		fl->held_mark[0] = np->mark;
		fl->n_held = 1;
		eng_flow_block(e, fl, now_ms);
		return;
	}
	/* What the server sent: an RST to the client must be in its window. */
	if (fl->state >= EF_SYNACK && end - fl->f.server_sent < 0x80000000u)
		fl->f.server_sent = end;
	/* The server's latest timestamp: what an adopted socket continues from. */
	if (fl->state >= EF_SYNACK && fl->f.ts_ok && p->opts.has_ts) {
		fl->f.server_tsval = p->opts.tsval;
		fl->f.server_tsval_ms = now_ms;
	}
	eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}

/* A packet of a flow whose handshake the daemon did not see (a restart, an expired flow). */
static void tcp_midstream(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
			  uint64_t now_ms)
{
	struct dec_result r;

	CTR_INC(e, midstream);
	/* Logged once: the decision's mark keeps the flow's later packets away. */
	eng_pkt_failed(e, p, TG_FLOW_FAIL_MIDSTREAM, p->payload.len > 0, now_ms, &r);
	if (r.action == DEC_BLOCK)
		eng_verdict(e, np->id, NF_REPEAT, np->mark, e->cfg.marks.block | e->cfg.marks.drop);
	else
		eng_verdict(e, np->id, NF_REPEAT, np->mark, e->cfg.marks.pass);
}

static void tcp_other(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		      uint64_t now_ms)
{
	bool to_server;
	struct eflow *fl = flowtab_find(e, p, &to_server);

	if (fl == NULL) {
		tcp_midstream(e, np, p, now_ms);
		return;
	}
	if (fl->state == EF_DECIDED) {
		CTR_INC(e, late_reverdict);
		eng_verdict(e, np->id, NF_REPEAT, np->mark, fl->mark);
		return;
	}
	if (!to_server) {
		tcp_server_packet(e, fl, np, p, now_ms);
		return;
	}
	if (p->window)
		fl->f.client_window = p->window;
	/*
	 * What the client has of the server's stream, from its ACK: the sequence an RST or a block
	 * page must carry to be taken, also when the server's replies no longer come here (STREAM).
	 */
	if (fl->state >= EF_SYNACK && (p->tcp_flags & TG_TCP_ACK)) {
		uint32_t acked = p->ack - (fl->f.server_isn + 1);

		if (acked - fl->f.server_sent < 0x80000000u)
			fl->f.server_sent = acked;
	}
	if (p->payload.len == 0) {
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	tcp_client_data(e, fl, np, p, now_ms);
}

/*
 * A queued packet the dissector refuses (malformed_packet): its flow cannot be found, so only
 * this packet is decided. The addresses are known when the IP header parsed: filtering on the
 * destination applies first.
 */
static void engine_malformed(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
			     uint64_t now_ms)
{
	struct dec_result r;
	struct tg_pkt z;

	CTR_INC(e, malformed);
	if (p->ip_version != 4 && p->ip_version != 6) {
		memset(&z, 0, sizeof(z));
		z.ip_version = 4;
		p = &z;
	}
	eng_pkt_failed(e, p, TG_FLOW_FAIL_MALFORMED, true, now_ms, &r);
	if (r.action == DEC_BLOCK) {
		CTR_INC(e, malformed_blocked);
		eng_verdict(e, np->id, NF_DROP, np->mark, 0);
	} else {
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
	}
}

void engine_packet(struct engine *e, const struct queue_pkt *np, uint64_t now_ms)
{
	struct tg_pkt p;

	CTR_INC(e, packets);
	memset(&p, 0, sizeof(p));
	if (np->data == NULL || tg_pkt_parse(&p, np->data, np->len) != TG_OK) {
		engine_malformed(e, np, &p, now_ms);
		return;
	}
	if (p.proto == 17) {
		engine_udp_packet(e, np, &p, now_ms);
		return;
	}
	if (p.proto != 6) {
		eng_verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	/* Options Linux stops reading at (a length of 1, past the end): counted, then read alike. */
	if (p.opts.malformed)
		CTR_INC(e, malformed_options);
	if ((p.tcp_flags & (TG_TCP_SYN | TG_TCP_ACK)) == TG_TCP_SYN)
		engine_syn(e, np, &p, now_ms);
	else if ((p.tcp_flags & (TG_TCP_SYN | TG_TCP_ACK)) == (TG_TCP_SYN | TG_TCP_ACK))
		engine_synack(e, np, &p, now_ms);
	else
		tcp_other(e, np, &p, now_ms);
}

#define ENG_SHORTEST_EXPIRY_MS ENG_SYN_TIMEOUT_MS
_Static_assert(ENG_SHORTEST_EXPIRY_MS <= ENG_DECIDED_LINGER_MS &&
		       ENG_SHORTEST_EXPIRY_MS <= ENG_SYNACK_TIMEOUT_MS,
	       "engine_tick stops at the shortest expiry");

void engine_tick(struct engine *e, uint64_t now_ms)
{
	struct eflow *fl, *next;

	/* First bytes that never completed: only the flows that have some, a short list. */
	for (fl = e->part.part_next; fl != &e->part; fl = next) {
		next = fl->part_next;
		if (age_ms(now_ms, fl->data_ms) >= ENG_INCOMPLETE_MS) {
			CTR_INC(e, incomplete_timeouts);
			fl->f.server_has = seen_bytes(fl);
			flow_fail(e, fl, TG_FLOW_FAIL_INCOMPLETE_CH, now_ms);
		}
	}
	/*
	 * Expiry: the list is ordered by last state change, so the walk stops at the first flow
	 * younger than the shortest expiry; what it passes are flows older than that.
	 */
	for (fl = e->lru.lru_next; fl != &e->lru; fl = next) {
		uint64_t age = age_ms(now_ms, fl->state_ms);

		next = fl->lru_next;
		if (age < ENG_SHORTEST_EXPIRY_MS)
			break;
		if (fl->in_part)
			continue;
		if (fl->state == EF_STREAM && age >= ENG_STREAM_IDLE_MS) {
			/* Removed, its next request would be seen midstream, unjudged: reset it. */
			CTR_INC(e, stream_idle_closed);
			eng_flow_block(e, fl, now_ms);
			continue;
		}
		if ((fl->state == EF_DECIDED && age >= ENG_DECIDED_LINGER_MS) ||
		    fl->state == EF_SYN || (fl->state == EF_SYNACK && age >= ENG_SYNACK_TIMEOUT_MS))
			flowtab_remove(e, fl);
	}
}

void engine_counters_add(const struct engine *e, struct eng_counters *sum)
{
#define ENG_CTR_ADD(n) sum->n += __atomic_load_n(&e->c.n, __ATOMIC_RELAXED);
	ENG_COUNTERS(ENG_CTR_ADD)
#undef ENG_CTR_ADD
}
