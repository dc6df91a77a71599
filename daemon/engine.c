/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.c - per-queue classification of the first packets of each flow (DESIGN.md §1).
 *
 * TCP on an inspected port:
 *   SYN      -> record the client's ISN and options; IP filtering; accept (flow stays queued)
 *   SYN-ACK  -> record the server's ISN, options, window and timestamp; accept
 *   data     -> hold (no verdict) and reassemble until the ClientHello is complete, then
 *               PASS    NF_REPEAT + PASS mark: saved to the connmark, the rest skips the queue
 *               BLOCK   NF_REPEAT + BLOCK|DROP mark, RST to both ends
 *               DECRYPT adopt the client half (adopt.c), NF_REPEAT + ADOPTED mark so the held
 *                       segments reach the adopted socket, RST the server half, hand the socket
 *                       to the relay
 *   packets still queued when a decision lands are re-verdicted the same way.
 * UDP 53: DNS queries through DNS filtering (blocked: NXDOMAIN injected, query dropped).
 * UDP 443: QUIC per policy.
 * Every failure before a decision follows the policy's fail behaviour and is counted.
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
#include "tlsgate/domain.h"
#include "tlsgate/http.h"
#include "tlsgate/ja4.h"
#include "tlsgate/oshint.h"
#include "tlsgate/pkt.h"
#include "tlsgate/pkt_build.h"
#include "tlsgate/reasm.h"
#include "tlsgate/tls_ch.h"

#include "adopt.h"
#include "decide.h"
#include "engine.h"
#include "jsonw.h"
#include "log.h"
#include "marks.h"
#include "names.h"
#include "relay.h"
#include "tuple.h"

enum eflow_state {
	EF_SYN, /* SYN seen */
	EF_SYNACK, /* SYN-ACK seen: facts complete for adoption */
	EF_HOLD, /* first data held */
	EF_DECIDED, /* verdict mark chosen; late packets get the same */
};

struct eflow {
	struct eflow *next;
	struct eflow *lru_prev, *lru_next; /* all flows, oldest state change first */
	struct eflow *hold_prev, *hold_next; /* flows holding packets (few): hold timeouts */
	bool in_hold;
	enum eflow_state state;
	struct adopt_facts f;
	struct tg_reasm *reasm;
	uint32_t held[ENG_MAX_HELD]; /* packet ids, no verdict yet */
	uint32_t held_mark[ENG_MAX_HELD]; /* their nfmarks: a verdict keeps the ruleset's bits */
	unsigned n_held;
	uint64_t state_ms; /* last state change: the lru order */
	uint64_t hold_ms; /* first packet held */
	uint32_t mark; /* decided: the mark late packets get */
	bool drop; /* decided: late packets are dropped */
	bool has_mac;
	uint8_t mac[6];
	int os_hint;
	unsigned os_conf;
};

struct engine {
	struct engine_cfg cfg;
	struct queue *q;
	struct eflow **tab;
	size_t tab_mask, nflows;
	uint8_t key[16]; /* flow table hash key, random */
	struct eflow lru; /* sentinel: lru.lru_next changed state longest ago */
	struct eflow hold; /* sentinel of the holding flows */
	struct eng_counters c;
	uint8_t scratch[TG_CAP_CH_BYTES];
	struct tg_dns_msg dns;
	uint8_t dns_msg_buf[TG_CAP_DNS_MSG]; /* a DNS answer with ech removed */
	uint8_t dns_pkt_buf[TG_CAP_DNS_MSG + 128]; /* the same as a packet */
	char logbuf[4096];
	char learned[TG_CAP_NAME_LEN + 1]; /* names_lookup() result for the flow being decided */
};

/* Counters are written by the queue thread and read by the control socket (main thread). */
#define CTR_INC(e, name) __atomic_fetch_add(&(e)->c.name, 1, __ATOMIC_RELAXED)

static uint64_t key_hash(const struct engine *e, uint8_t family, const uint8_t *c, uint16_t cp,
			 const uint8_t *s, uint16_t sp)
{
	return tuple_hash(e->key, family, c, cp, s, sp);
}

static bool key_eq(const struct eflow *fl, uint8_t family, const uint8_t *c, uint16_t cp,
		   const uint8_t *s, uint16_t sp)
{
	size_t n = family == 4 ? 4 : 16;

	return fl->f.family == family && fl->f.cport == cp && fl->f.sport == sp &&
	       !memcmp(fl->f.client, c, n) && !memcmp(fl->f.server, s, n);
}

struct engine *engine_new(const struct engine_cfg *cfg, struct queue *q)
{
	struct engine *e = calloc(1, sizeof(*e));
	size_t size = 1;

	if (e == NULL)
		return NULL;
	while (size < ENG_MAX_FLOWS)
		size <<= 1;
	e->tab = calloc(size, sizeof(*e->tab));
	if (e->tab == NULL) {
		free(e);
		return NULL;
	}
	e->tab_mask = size - 1;
	if (getrandom(e->key, sizeof(e->key), 0) != (ssize_t)sizeof(e->key)) {
		free(e->tab);
		free(e);
		return NULL;
	}
	e->cfg = *cfg;
	e->q = q;
	e->lru.lru_next = e->lru.lru_prev = &e->lru;
	e->hold.hold_next = e->hold.hold_prev = &e->hold;
	return e;
}

static void lru_unlink(struct eflow *fl)
{
	fl->lru_prev->lru_next = fl->lru_next;
	fl->lru_next->lru_prev = fl->lru_prev;
}

static void lru_push(struct engine *e, struct eflow *fl)
{
	fl->lru_prev = e->lru.lru_prev;
	fl->lru_next = &e->lru;
	e->lru.lru_prev->lru_next = fl;
	e->lru.lru_prev = fl;
}

/* A state change: the flow moves to the young end, so engine_tick() can stop early. */
static void flow_state(struct engine *e, struct eflow *fl, enum eflow_state st, uint64_t now_ms)
{
	fl->state = st;
	fl->state_ms = now_ms;
	lru_unlink(fl);
	lru_push(e, fl);
}

static void hold_add(struct engine *e, struct eflow *fl)
{
	if (fl->in_hold)
		return;
	fl->hold_prev = e->hold.hold_prev;
	fl->hold_next = &e->hold;
	e->hold.hold_prev->hold_next = fl;
	e->hold.hold_prev = fl;
	fl->in_hold = true;
}

static void hold_del(struct eflow *fl)
{
	if (!fl->in_hold)
		return;
	fl->hold_prev->hold_next = fl->hold_next;
	fl->hold_next->hold_prev = fl->hold_prev;
	fl->in_hold = false;
}

static void flow_remove(struct engine *e, struct eflow *fl)
{
	struct eflow **pp = &e->tab[key_hash(e, fl->f.family, fl->f.client, fl->f.cport,
					     fl->f.server, fl->f.sport) &
				    e->tab_mask];

	while (*pp != NULL && *pp != fl)
		pp = &(*pp)->next;
	if (*pp == fl)
		*pp = fl->next;
	lru_unlink(fl);
	hold_del(fl);
	tg_reasm_free(fl->reasm);
	free(fl);
	e->nflows--;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	while (e->lru.lru_next != &e->lru)
		flow_remove(e, e->lru.lru_next);
	free(e->tab);
	free(e);
}

/* Find the flow of a packet in either direction; *to_server tells which. */
static struct eflow *flow_find(struct engine *e, const struct tg_pkt *p, bool *to_server)
{
	struct eflow *fl;

	for (fl = e->tab[key_hash(e, p->ip_version, p->src, p->sport, p->dst, p->dport) &
			 e->tab_mask];
	     fl != NULL; fl = fl->next)
		if (key_eq(fl, p->ip_version, p->src, p->sport, p->dst, p->dport)) {
			*to_server = true;
			return fl;
		}
	for (fl = e->tab[key_hash(e, p->ip_version, p->dst, p->dport, p->src, p->sport) &
			 e->tab_mask];
	     fl != NULL; fl = fl->next)
		if (key_eq(fl, p->ip_version, p->dst, p->dport, p->src, p->sport)) {
			*to_server = false;
			return fl;
		}
	return NULL;
}

static struct eflow *flow_new(struct engine *e, const struct tg_pkt *p, uint64_t now_ms)
{
	struct eflow *fl;
	size_t i;

	if (e->nflows >= ENG_MAX_FLOWS)
		return NULL;
	fl = calloc(1, sizeof(*fl));
	if (fl == NULL)
		return NULL;
	fl->f.family = p->ip_version;
	memcpy(fl->f.client, p->src, 16);
	memcpy(fl->f.server, p->dst, 16);
	fl->f.cport = p->sport;
	fl->f.sport = p->dport;
	fl->state_ms = now_ms;
	i = key_hash(e, p->ip_version, p->src, p->sport, p->dst, p->dport) & e->tab_mask;
	fl->next = e->tab[i];
	e->tab[i] = fl;
	lru_push(e, fl);
	e->nflows++;
	CTR_INC(e, flows_new);
	return fl;
}

/*
 * Verdict one packet. @decision (decision and DROP bits) replaces those bits of the packet's
 * own mark @pmark and keeps the rest (the ruleset's INSPECT bit). A failed verdict leaves the
 * packet to the kernel's queue: counted.
 */
static void verdict(struct engine *e, uint32_t id, int v, uint32_t pmark, uint32_t decision)
{
	uint32_t mark = (pmark & ~(TG_MARK_DECISION_MASK | TG_MARK_DROP)) | decision;

	if (queue_verdict(e->q, id, v, decision != 0, mark) == -1)
		CTR_INC(e, verdict_fail);
}

/* One JSON line per decision, written with a single write() so threads never interleave. */
static void log_decision(struct engine *e, const struct adopt_facts *f, const char *proto,
			 const char *name_key, const uint8_t *name, size_t name_len,
			 const struct dec_result *r)
{
	FILE *m;
	struct jw w;
	char a[64];
	struct timespec ts;
	long n;

	if (e->cfg.log == NULL)
		return;
	m = fmemopen(e->logbuf, sizeof(e->logbuf), "w");
	if (m == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	jw_init(&w, m);
	jw_obj_begin(&w);
	snprintf(a, sizeof(a), "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	jw_key(&w, "time");
	jw_raw(&w, a);
	jw_kv_str(&w, "proto", proto);
	tg_addr_format(f->family, f->client, a, sizeof(a));
	jw_kv_str(&w, "src", a);
	jw_kv_uint(&w, "sport", f->cport);
	tg_addr_format(f->family, f->server, a, sizeof(a));
	jw_kv_str(&w, "dst", a);
	jw_kv_uint(&w, "dport", f->sport);
	if (r->user[0])
		jw_kv_str(&w, "user", r->user);
	/* The name the decision was made on: sni, host, qname, or dns_name (learned). */
	if (name != NULL)
		jw_kv_bytes(&w, name_key, name, name_len);
	if (r->app[0])
		jw_kv_str(&w, "app", r->app);
	if (r->category[0])
		jw_kv_str(&w, "category", r->category);
	jw_kv_str(&w, "action", dec_action_name(r->action));
	jw_kv_str(&w, "reason", r->reason);
	if (r->rule >= 0) {
		jw_kv_uint(&w, "rule", (uint64_t)r->rule);
		if (r->rule_name[0])
			jw_kv_str(&w, "rule_name", r->rule_name);
	}
	jw_obj_end(&w);
	jw_line_end(&w);
	n = ftell(m);
	fclose(m);
	if (n > 0 && (size_t)n < sizeof(e->logbuf))
		log_line(e->cfg.log, e->logbuf, (size_t)n);
}

static void fail_result(struct dec_result *r, enum dec_action a, enum dec_fail why)
{
	memset(r, 0, sizeof(*r));
	r->action = a;
	r->rule = -1;
	snprintf(r->reason, sizeof(r->reason), "fail-%s", dec_fail_name(why));
}

static int raw_fd(const struct engine *e, uint8_t family)
{
	return family == 4 ? e->cfg.raw4 : e->cfg.raw6;
}

/* Release every held packet with @v and @mark, and remember them for late packets. */
static void flow_settle(struct engine *e, struct eflow *fl, int v, uint32_t mark, bool drop,
			uint64_t now_ms)
{
	unsigned i;

	for (i = 0; i < fl->n_held; i++)
		verdict(e, fl->held[i], v, fl->held_mark[i], mark);
	fl->n_held = 0;
	hold_del(fl);
	flow_state(e, fl, EF_DECIDED, now_ms);
	fl->mark = mark;
	fl->drop = drop;
	tg_reasm_free(fl->reasm);
	fl->reasm = NULL;
}

static uint32_t held_bytes(const struct eflow *fl)
{
	return fl->reasm ? (uint32_t)tg_reasm_contig(fl->reasm).len : 0;
}

static void flow_block(struct engine *e, struct eflow *fl, uint64_t now_ms)
{
	int fd = raw_fd(e, fl->f.family);

	/* The held data never reaches the server: its RST acknowledges nothing of it. */
	if (adopt_reset_client(fd, &fl->f, held_bytes(fl)) == -1 ||
	    (fl->state >= EF_SYNACK && adopt_reset_server(fd, &fl->f) == -1)) {
		CTR_INC(e, rst_fail);
		log_warn("queue %u: block: RST", e->cfg.queue);
	}
	flow_settle(e, fl, NF_REPEAT, TG_MARK_BLOCK | TG_MARK_DROP, true, now_ms);
	CTR_INC(e, block);
}

/* Append @s to @out with the HTML specials escaped; returns the new length. */
static size_t html_escape(char *out, size_t at, size_t cap, const char *s)
{
	for (; *s && at + 7 < cap; s++) {
		const char *rep = *s == '<'   ? "&lt;"
				  : *s == '>' ? "&gt;"
				  : *s == '&' ? "&amp;"
				  : *s == '"' ? "&quot;"
					      : NULL;

		if (rep) {
			memcpy(out + at, rep, strlen(rep));
			at += strlen(rep);
		} else {
			out[at++] = *s;
		}
	}
	return at;
}

/*
 * Blocked plain HTTP: the client gets a 403 page from the server's address, with FIN, in place
 * of the held request (acknowledged, so the client takes the page); the server's half is reset.
 */
static void flow_block_http(struct engine *e, struct eflow *fl, const char *rule, uint64_t now_ms)
{
	static const char head[] = "HTTP/1.1 403 Forbidden\r\n"
				   "Content-Type: text/html; charset=utf-8\r\n"
				   "Cache-Control: no-store\r\n"
				   "Connection: close\r\n"
				   "Content-Length: ";
	char body[512], page[768];
	uint8_t pkt[1024];
	size_t blen, plen, n;
	int fd = raw_fd(e, fl->f.family);

	blen = (size_t)snprintf(body, sizeof(body),
				"<!doctype html><title>Blocked</title><h1>Blocked</h1>"
				"<p>This site is not allowed by your organization's policy.</p>"
				"<p>Rule: ");
	blen = html_escape(body, blen, sizeof(body) - 16, rule[0] ? rule : "-");
	memcpy(body + blen, "</p>\n", 5);
	blen += 5;
	plen = (size_t)snprintf(page, sizeof(page), "%s%zu\r\n\r\n%.*s", head, blen, (int)blen,
				body);
	n = tg_pkt_build_tcp(
		pkt, sizeof(pkt), fl->f.family, fl->f.server, fl->f.client, fl->f.sport,
		fl->f.cport, fl->f.server_isn + 1, fl->f.client_isn + 1 + held_bytes(fl),
		TG_TCP_PSH | TG_TCP_ACK | TG_TCP_FIN, 512, (const uint8_t *)page, plen);
	if (n == 0 || adopt_raw_send(fd, fl->f.family, fl->f.client, pkt, n) == -1 ||
	    adopt_reset_server(fd, &fl->f) == -1) {
		CTR_INC(e, rst_fail);
		log_warn("queue %u: block page", e->cfg.queue);
	}
	flow_settle(e, fl, NF_REPEAT, TG_MARK_BLOCK | TG_MARK_DROP, true, now_ms);
	CTR_INC(e, block);
}

static void flow_pass(struct engine *e, struct eflow *fl, uint64_t now_ms)
{
	flow_settle(e, fl, NF_REPEAT, TG_MARK_PASS, false, now_ms);
	CTR_INC(e, pass);
}

static void flow_apply(struct engine *e, struct eflow *fl, enum dec_action a, uint64_t now_ms);

static void flow_decrypt(struct engine *e, struct eflow *fl, uint64_t now_ms)
{
	const char *step = NULL;
	struct dec_result r;
	int fd;

	fd = adopt_socket(&fl->f, 0, now_ms, &step);
	if (fd == -1) {
		CTR_INC(e, adopt_fail);
		log_warn("queue %u: adopt: %s", e->cfg.queue, step);
		fail_result(&r, decider_fail(e->cfg.decider, DEC_FAIL_ADOPTION), DEC_FAIL_ADOPTION);
		log_decision(e, &fl->f, "tls", NULL, NULL, 0, &r);
		flow_apply(e, fl, r.action, now_ms);
		return;
	}
	CTR_INC(e, adopt_ok);
	/* The held segments now reach the adopted socket through the socket match. */
	flow_settle(e, fl, NF_REPEAT, TG_MARK_ADOPT, false, now_ms);
	if (adopt_reset_server(raw_fd(e, fl->f.family), &fl->f) == -1) {
		CTR_INC(e, rst_fail);
		log_warn("queue %u: reset server half", e->cfg.queue);
	}
	relay_adopt(e->cfg.relay, fd, fl->f.family, fl->f.client, fl->f.server, fl->f.sport);
	CTR_INC(e, decrypt);
}

static void flow_apply(struct engine *e, struct eflow *fl, enum dec_action a, uint64_t now_ms)
{
	switch (a) {
	case DEC_DECRYPT:
		if (fl->state < EF_SYNACK) {
			/* No SYN-ACK facts: cannot adopt. */
			struct dec_result r;

			fail_result(&r, decider_fail(e->cfg.decider, DEC_FAIL_ADOPTION),
				    DEC_FAIL_ADOPTION);
			CTR_INC(e, adopt_fail);
			flow_apply(e, fl, r.action, now_ms);
			return;
		}
		flow_decrypt(e, fl, now_ms);
		return;
	case DEC_BLOCK:
		flow_block(e, fl, now_ms);
		return;
	case DEC_PASS:
	default:
		flow_pass(e, fl, now_ms);
		return;
	}
}

static void flow_fail(struct engine *e, struct eflow *fl, enum dec_fail why, uint64_t now_ms)
{
	struct dec_result r;

	fail_result(&r, decider_fail(e->cfg.decider, why), why);
	log_decision(e, &fl->f, "tcp", NULL, NULL, 0, &r);
	flow_apply(e, fl, r.action, now_ms);
}

static void dec_flow_of(struct engine *e, struct dec_flow *df, const struct eflow *fl,
			uint64_t now_ms)
{
	size_t len;

	memset(df, 0, sizeof(*df));
	df->family = fl->f.family;
	df->src = fl->f.client;
	df->dst = fl->f.server;
	df->sport = fl->f.cport;
	df->dport = fl->f.sport;
	df->mac = fl->has_mac ? fl->mac : NULL;
	df->os_hint = fl->os_hint;
	df->os_conf = fl->os_conf;
	if (e->cfg.names != NULL &&
	    names_lookup(e->cfg.names, fl->f.family, fl->f.server, e->learned, &len, now_ms)) {
		df->dns_name = e->learned;
		df->dns_name_len = len;
	}
}

/*
 * One DNS query (UDP payload or the first TCP-framed message) through DNS filtering: counted,
 * parsed into e->dns, decided into *@r. False when it does not parse (counted as invalid).
 */
static bool dns_query_decide(struct engine *e, const struct dec_flow *df, const uint8_t *msg,
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
 * DNS over TCP: the first framed query goes through DNS filtering like a UDP one; a blocked
 * name resets the connection (the client's resolver retries or fails: it never gets the
 * answer policy forbids). A query that does not parse follows the unparsable fail behaviour.
 */
static void flow_examine_dns(struct engine *e, struct eflow *fl, const struct dec_flow *df,
			     struct tg_span s, uint64_t now_ms)
{
	struct tg_span msg;
	struct dec_result r;
	size_t used;
	enum tg_err err = tg_dns_tcp_frame(s.p, s.len, &msg, &used);

	if (err == TG_NEED_MORE)
		return;
	if (err != TG_OK) {
		/* Bad framing: an empty message, counted as an invalid query below. */
		msg.p = NULL;
		msg.len = 0;
	}
	if (!dns_query_decide(e, df, msg.p, msg.len, &r)) {
		flow_fail(e, fl, DEC_FAIL_UNPARSABLE, now_ms);
		return;
	}
	log_decision(e, &fl->f, "dns", "qname", (const uint8_t *)e->dns.q[0].name.text,
		     e->dns.q[0].name.len, &r);
	flow_apply(e, fl, r.action == DEC_BLOCK ? DEC_BLOCK : DEC_PASS, now_ms);
}

/* The held bytes are a complete request head or ClientHello, or not yet, or never will be. */
static void flow_examine(struct engine *e, struct eflow *fl, uint64_t now_ms)
{
	struct tg_span s = tg_reasm_contig(fl->reasm);
	struct dec_flow df;
	struct dec_result r;
	struct tg_ch ch;
	struct tg_http_req req;
	enum tg_err err;

	if (s.len == 0)
		return;
	dec_flow_of(e, &df, fl, now_ms);
	if (fl->f.sport == 53) {
		flow_examine_dns(e, fl, &df, s, now_ms);
		return;
	}
	if (s.p[0] != 0x16) {
		err = tg_http_req_parse(&req, s.p, s.len);
		if (err == TG_NEED_MORE)
			return;
		if (err != TG_OK) {
			CTR_INC(e, non_tls);
			flow_fail(e, fl, DEC_FAIL_NON_TLS, now_ms);
			return;
		}
		decider_http(e->cfg.decider, &df, (const char *)req.host.p, req.host.len,
			     (const char *)req.target.p, req.target.len, &r);
		log_decision(e, &fl->f, "http", "host", req.host.p, req.host.len, &r);
		if (r.action == DEC_BLOCK)
			CTR_INC(e, http_blocked);
		else
			CTR_INC(e, http_passed);
		/* Plain HTTP is never adopted here: a block page, or pass. */
		if (r.action == DEC_BLOCK && fl->state >= EF_SYNACK)
			flow_block_http(e, fl, r.rule_name, now_ms);
		else
			flow_apply(e, fl, r.action == DEC_BLOCK ? DEC_BLOCK : DEC_PASS, now_ms);
		return;
	}
	err = tg_tls_ch_parse(&ch, s.p, s.len, e->scratch);
	if (err == TG_NEED_MORE)
		return;
	if (err != TG_OK) {
		CTR_INC(e, ch_invalid);
		flow_fail(e, fl, DEC_FAIL_UNPARSABLE, now_ms);
		return;
	}
	decider_tls(e->cfg.decider, &df, &ch, now_ms, &r);
	/* No SNI: the log names the server by what DNS told the gateway about its address. */
	if (ch.has_sni)
		log_decision(e, &fl->f, "tls", "sni", ch.sni.p, ch.sni.len, &r);
	else
		log_decision(e, &fl->f, "tls", "dns_name", (const uint8_t *)df.dns_name,
			     df.dns_name_len, &r);
	flow_apply(e, fl, r.action, now_ms);
}

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

static void tcp_syn(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		    uint64_t now_ms)
{
	bool to_server;
	struct eflow *fl = flow_find(e, p, &to_server);
	struct tg_oshint_syn syn;
	struct tg_os_hint oh;
	struct dec_flow df;
	struct dec_result r;

	if (fl != NULL) {
		/* A retransmitted SYN, or a decided flow's late SYN. */
		if (fl->state == EF_DECIDED)
			verdict(e, np->id, fl->drop ? NF_DROP : NF_ACCEPT, np->mark, 0);
		else
			verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	fl = flow_new(e, p, now_ms);
	if (fl == NULL) {
		CTR_INC(e, flows_full);
		if (decider_fail(e->cfg.decider, DEC_FAIL_FLOWS_FULL) == DEC_BLOCK)
			verdict(e, np->id, NF_DROP, np->mark, 0);
		else
			verdict(e, np->id, NF_ACCEPT, np->mark, 0);
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
	if (p->payload.len) {
		/* TCP Fast Open: data in the SYN cannot be adopted (HANDOFF: untested). */
		CTR_INC(e, tfo_data);
		flow_fail(e, fl, DEC_FAIL_TFO, now_ms);
		verdict(e, np->id, fl->drop ? NF_DROP : NF_REPEAT, np->mark, fl->mark);
		return;
	}
	dec_flow_of(e, &df, fl, now_ms);
	decider_ip(e->cfg.decider, &df, &r);
	if (r.action == DEC_BLOCK) {
		log_decision(e, &fl->f, "tcp", NULL, NULL, 0, &r);
		flow_state(e, fl, EF_DECIDED, now_ms);
		fl->mark = TG_MARK_BLOCK | TG_MARK_DROP;
		fl->drop = true;
		CTR_INC(e, block);
		verdict(e, np->id, NF_REPEAT, np->mark, fl->mark);
		return;
	}
	verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}

static void tcp_synack(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		       uint64_t now_ms)
{
	bool to_server;
	struct eflow *fl = flow_find(e, p, &to_server);

	if (fl == NULL || to_server) {
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
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
		flow_state(e, fl, EF_SYNACK, now_ms);
	}
	if (fl->state == EF_DECIDED && fl->drop)
		verdict(e, np->id, NF_DROP, np->mark, 0);
	else
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}

static void tcp_other(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
		      uint64_t now_ms)
{
	bool to_server;
	struct eflow *fl = flow_find(e, p, &to_server);
	enum tg_err err;

	if (fl == NULL) {
		/* A flow that began before we did: nothing to classify it with. */
		CTR_INC(e, midstream);
		if (decider_fail(e->cfg.decider, DEC_FAIL_MIDSTREAM) == DEC_BLOCK)
			verdict(e, np->id, NF_REPEAT, np->mark, TG_MARK_BLOCK | TG_MARK_DROP);
		else
			verdict(e, np->id, NF_REPEAT, np->mark, TG_MARK_PASS);
		return;
	}
	if (fl->state == EF_DECIDED) {
		CTR_INC(e, late_reverdict);
		verdict(e, np->id, NF_REPEAT, np->mark, fl->mark);
		return;
	}
	if (to_server && p->window)
		fl->f.client_window = p->window;
	if (!to_server || p->payload.len == 0) {
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	if (fl->reasm == NULL) {
		fl->reasm = tg_reasm_new(fl->f.client_isn);
		if (fl->reasm == NULL) {
			flow_fail(e, fl, DEC_FAIL_HOLD_CAP, now_ms);
			verdict(e, np->id, fl->drop ? NF_DROP : NF_REPEAT, np->mark, fl->mark);
			return;
		}
		fl->hold_ms = now_ms;
	}
	if (fl->n_held >= ENG_MAX_HELD) {
		CTR_INC(e, hold_cap);
		flow_fail(e, fl, DEC_FAIL_HOLD_CAP, now_ms);
		verdict(e, np->id, fl->drop ? NF_DROP : NF_REPEAT, np->mark, fl->mark);
		return;
	}
	fl->held_mark[fl->n_held] = np->mark;
	fl->held[fl->n_held++] = np->id;
	hold_add(e, fl);
	CTR_INC(e, held);
	if (fl->state == EF_SYNACK)
		fl->state = EF_HOLD;
	err = tg_reasm_add(fl->reasm, p->seq, p->payload.p, p->payload.len);
	if (err != TG_OK) {
		CTR_INC(e, ch_invalid);
		flow_fail(e, fl, err == TG_ERR_CAP ? DEC_FAIL_HOLD_CAP : DEC_FAIL_UNPARSABLE,
			  now_ms);
		return;
	}
	flow_examine(e, fl, now_ms);
}

/*
 * A DNS response: when policy says strip, HTTPS/SVCB answers lose their ech parameter (the
 * packet is rewritten in the verdict). An answer we cannot rewrite is counted and let through:
 * the client may then use ECH, which hides the real name from filtering but not the outer one.
 */
static void dns_response(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
			 uint64_t now_ms)
{
	uint8_t *msg = e->dns_msg_buf, *pkt = e->dns_pkt_buf;
	size_t mlen, plen, i;
	unsigned n;
	enum tg_err err;

	if (tg_dns_parse(&e->dns, p->payload.p, p->payload.len) != TG_OK) {
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
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
	if (!decider_ech_strip(e->cfg.decider)) {
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	err = tg_dns_strip_ech(&e->dns, p->payload.p, p->payload.len, msg, &mlen, &n);
	if (err != TG_OK) {
		CTR_INC(e, dns_ech_failed);
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	if (n == 0) {
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	plen = tg_pkt_build_udp_payload(pkt, sizeof(e->dns_pkt_buf), p, msg, mlen);
	if (plen == 0 || queue_verdict_pkt(e->q, np->id, NF_ACCEPT, false, 0, pkt, plen) == -1) {
		CTR_INC(e, dns_ech_failed);
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	CTR_INC(e, dns_ech_stripped);
}

static void udp_packet(struct engine *e, const struct queue_pkt *np, const struct tg_pkt *p,
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
		log_decision(e, &f, "quic", NULL, NULL, 0, &r);
		if (r.action == DEC_BLOCK) {
			CTR_INC(e, quic_blocked);
			verdict(e, np->id, NF_REPEAT, np->mark, TG_MARK_BLOCK | TG_MARK_DROP);
		} else {
			CTR_INC(e, quic_passed);
			verdict(e, np->id, NF_REPEAT, np->mark, TG_MARK_PASS);
		}
		return;
	}
	if (p->sport == 53) {
		dns_response(e, np, p, now_ms);
		return;
	}
	if (p->dport == 53) {
		if (!dns_query_decide(e, &df, p->payload.p, p->payload.len, &r)) {
			verdict(e, np->id, NF_ACCEPT, np->mark, 0);
			return;
		}
		if (r.action == DEC_BLOCK) {
			uint8_t out[TG_PKT_DNS_ANSWER_MAX];
			size_t n;

			log_decision(e, &f, "dns", "qname", (const uint8_t *)e->dns.q[0].name.text,
				     e->dns.q[0].name.len, &r);
			n = tg_pkt_build_dns_block(out, sizeof(out), p, r.sink_family, r.sink_addr,
						   60);
			if (n == 0 || adopt_raw_send(raw_fd(e, p->ip_version), p->ip_version,
						     p->src, out, n) == -1)
				CTR_INC(e, rst_fail);
			verdict(e, np->id, NF_DROP, np->mark, 0);
			return;
		}
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	verdict(e, np->id, NF_ACCEPT, np->mark, 0);
}

void engine_packet(struct engine *e, const struct queue_pkt *np, uint64_t now_ms)
{
	struct tg_pkt p;

	CTR_INC(e, packets);
	if (np->data == NULL || tg_pkt_parse(&p, np->data, np->len) != TG_OK) {
		/* Not ours to judge (fragments, other protocols): let it through untouched. */
		CTR_INC(e, unparsable);
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	if (p.proto == 17) {
		udp_packet(e, np, &p, now_ms);
		return;
	}
	if (p.proto != 6) {
		verdict(e, np->id, NF_ACCEPT, np->mark, 0);
		return;
	}
	if ((p.tcp_flags & (TG_TCP_SYN | TG_TCP_ACK)) == TG_TCP_SYN)
		tcp_syn(e, np, &p, now_ms);
	else if ((p.tcp_flags & (TG_TCP_SYN | TG_TCP_ACK)) == (TG_TCP_SYN | TG_TCP_ACK))
		tcp_synack(e, np, &p, now_ms);
	else
		tcp_other(e, np, &p, now_ms);
}

_Static_assert(ENG_DECIDED_LINGER_MS <= ENG_SYN_TIMEOUT_MS, "engine_tick stops at the shortest");

void engine_tick(struct engine *e, uint64_t now_ms)
{
	struct eflow *fl, *next;

	/* Hold timeouts: only the flows holding packets, a short list. */
	for (fl = e->hold.hold_next; fl != &e->hold; fl = next) {
		next = fl->hold_next;
		if (now_ms - fl->hold_ms >= ENG_HOLD_TIMEOUT_MS) {
			CTR_INC(e, hold_timeouts);
			flow_fail(e, fl, DEC_FAIL_HOLD_TIMEOUT, now_ms);
		}
	}
	/*
	 * Expiry: the list is ordered by last state change, so the walk stops at the first flow
	 * younger than the shortest expiry; what it passes are flows older than that.
	 */
	for (fl = e->lru.lru_next; fl != &e->lru; fl = next) {
		uint64_t age = now_ms - fl->state_ms;

		next = fl->lru_next;
		if (age < ENG_DECIDED_LINGER_MS)
			break;
		if (fl->in_hold)
			continue;
		if (fl->state == EF_DECIDED || age >= ENG_SYN_TIMEOUT_MS)
			flow_remove(e, fl);
	}
}

void engine_counters_add(const struct engine *e, struct eng_counters *sum)
{
#define ENG_CTR_ADD(n) sum->n += __atomic_load_n(&e->c.n, __ATOMIC_RELAXED);
	ENG_COUNTERS(ENG_CTR_ADD)
#undef ENG_CTR_ADD
}
