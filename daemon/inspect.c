/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inspect.c - offline inspection of a pcap or pcapng capture with the same library code the
 * daemon runs (inspect.h); `tlsgatectl inspect` (ctl_inspect.c) is its command.
 *
 * Output: one JSON object per line, in capture order of the packet that completed it:
 *   {"type":"tls", ...}      a TCP flow direction whose first bytes are a TLS ClientHello
 *   {"type":"tls_invalid"}   a direction that starts with a TLS handshake record that does not
 *                            parse (the parser's error; the client's flow also gets a tcp_fail)
 *   {"type":"dns", ...}      each DNS message over UDP or TCP port 53
 *   {"type":"http", ...}     each HTTP/1.x request head of a TCP flow direction
 *   {"type":"tcp_fail", ...} a client's TCP flow that failed before it could be decided on its
 *                            content: "fail" is the failure (tg_flow_fail_text), "error" and
 *                            "code" the parser's answer behind it when there is one
 * With --policy, the lines tlsgated decides (ClientHellos, request heads, DNS queries, failures)
 * carry "decision". A summary of what could not be read goes to stderr.
 *
 * The client's direction of a TCP flow is read as tlsgated reads it (engine.c): reassembled
 * (lib/reasm) from the SYN's ISN, examined (lib/flow: TLS, HTTP, DNS on server port 53, need
 * more, or a failure); a retransmission that differs from bytes seen is a reassembly-conflict
 * failure, bytes beyond the window a reassembly-window failure, data in a SYN a tcp-fast-open
 * failure. Plain HTTP and DNS over TCP go on after each request or query that is not blocked:
 * the next request head (past a Content-Length body; chunked bodies and CONNECT end it) or the
 * next framed query. The server's direction is examined for DNS messages and broken
 * ClientHellos only. Flows whose SYN is not in the capture are read from the first data
 * segment seen, in both directions (no failure is reported: tlsgated decides them midstream).
 * A direction is examined until it is decided; then its reassembly state is freed and only a
 * tombstone is kept. The flow table is capped (CTL_INSPECT_MAX_FLOWS); flows beyond it are
 * counted, not inspected.
 *
 * What a capture does not show is not decided on: names learned from DNS answers, the dynamic
 * bypass and upstream exclusion tables, timeouts (incomplete first bytes), the per-source quota,
 * the client's MAC address and OS hint, packets the kernel let past a full queue.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <sys/random.h>

#include "tlsgate/caps.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/policy.h"
#include "tlsgate/cidr.h"
#include "tlsgate/dns.h"
#include "tlsgate/flow.h"
#include "tlsgate/http.h"
#include "tlsgate/ja4.h"
#include "tlsgate/pkt.h"
#include "tlsgate/reasm.h"
#include "tlsgate/tls_ch.h"

#include "ctl.h"
#include "caps.h"
#include "inspect.h"
#include "jsonw.h"
#include "tuple.h"

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
	double ts;
};

/* Direction-independent: the endpoints in a fixed order, then the keyed tuple hash. */
static uint64_t flow_hash(const struct inspect *in, uint8_t family, const uint8_t *x, uint16_t xp,
			  const uint8_t *y, uint16_t yp)
{
	int c = memcmp(x, y, family == 4 ? 4 : 16);

	if (c > 0 || (c == 0 && xp > yp))
		return tuple_hash(in->key, family, y, yp, x, xp);
	return tuple_hash(in->key, family, x, xp, y, yp);
}

static int flow_match(const struct flow *f, const struct tg_pkt *p)
{
	size_t n = p->ip_version == 4 ? 4 : 16;

	if (f->family != p->ip_version)
		return -1;
	if (f->ap == p->sport && f->bp == p->dport && !memcmp(f->a, p->src, n) &&
	    !memcmp(f->b, p->dst, n))
		return 0;
	if (f->ap == p->dport && f->bp == p->sport && !memcmp(f->a, p->dst, n) &&
	    !memcmp(f->b, p->src, n))
		return 1;
	return -1;
}

static int inspect_grow(struct inspect *in)
{
	size_t nsize = in->tab_size ? in->tab_size * 2 : 4096, i;
	struct flow **ntab = calloc(nsize, sizeof(*ntab));

	if (ntab == NULL)
		return -1;
	for (i = 0; i < in->tab_size; i++) {
		struct flow *f = in->tab[i], *next;

		for (; f != NULL; f = next) {
			size_t j = flow_hash(in, f->family, f->a, f->ap, f->b, f->bp) & (nsize - 1);

			next = f->next;
			f->next = ntab[j];
			ntab[j] = f;
		}
	}
	free(in->tab);
	in->tab = ntab;
	in->tab_size = nsize;
	return 0;
}

/* Find the flow of @p, or create it; *dir is the direction index of @p. NULL: over the cap. */
static struct flow *flow_get(struct inspect *in, const struct tg_pkt *p, int *dir)
{
	size_t i;
	struct flow *f;

	if (in->tab_size) {
		i = flow_hash(in, p->ip_version, p->src, p->sport, p->dst, p->dport) &
		    (in->tab_size - 1);
		for (f = in->tab[i]; f != NULL; f = f->next) {
			*dir = flow_match(f, p);
			if (*dir >= 0)
				return f;
		}
	}
	if (in->nflows >= CTL_INSPECT_MAX_FLOWS) {
		in->flows_over_cap++;
		return NULL;
	}
	if (in->nflows * 4 >= in->tab_size * 3 && inspect_grow(in) == -1)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->family = p->ip_version;
	memcpy(f->a, p->src, 16);
	memcpy(f->b, p->dst, 16);
	f->ap = p->sport;
	f->bp = p->dport;
	i = flow_hash(in, p->ip_version, p->src, p->sport, p->dst, p->dport) & (in->tab_size - 1);
	f->next = in->tab[i];
	in->tab[i] = f;
	in->nflows++;
	*dir = 0;
	return f;
}

static void dir_finish(struct dir *d)
{
	d->state = DIR_DONE;
	tg_reasm_free(d->reasm);
	d->reasm = NULL;
}

static void json_addr(struct jw *w, const char *key, uint8_t family, const uint8_t *addr)
{
	char buf[64];

	tg_addr_format(family, addr, buf, sizeof(buf));
	jw_kv_str(w, key, buf);
}

/* Common head of every output line. */
static void json_head(struct inspect *in, const char *type, uint8_t family, const uint8_t *src,
		      uint16_t sport, const uint8_t *dst, uint16_t dport)
{
	struct jw *w = &in->w;
	char ts[32];

	jw_obj_begin(w);
	jw_kv_str(w, "type", type);
	snprintf(ts, sizeof(ts), "%.6f", in->ts);
	jw_key(w, "ts");
	jw_raw(w, ts);
	json_addr(w, "src", family, src);
	json_addr(w, "dst", family, dst);
	jw_kv_uint(w, "sport", sport);
	jw_kv_uint(w, "dport", dport);
}

static const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "1.3";
	case 0x0303:
		return "1.2";
	case 0x0302:
		return "1.1";
	case 0x0301:
		return "1.0";
	case 0x0300:
		return "ssl3";
	default:
		return NULL;
	}
}

static void json_tls_version(struct jw *w, uint16_t v)
{
	const char *name = tls_version_name(v);
	char buf[8];

	if (name == NULL) {
		snprintf(buf, sizeof(buf), "0x%04x", v);
		name = buf;
	}
	jw_str(w, name);
}

/* The client -> server view of direction @dir of @f. */
static void dir_flow(struct inspect_flow *fl, const struct flow *f, int dir)
{
	inspect_flow_of(fl, f->family, dir ? f->b : f->a, dir ? f->bp : f->ap, dir ? f->a : f->b,
			dir ? f->ap : f->bp);
}

/*
 * The hook's decision for the line being written: the facts are the flow's 5-tuple, then what
 * the examination @x found (tg_flow_facts_set_exam, as tlsgated's), then @dns_name for a DNS
 * query. Returns the action, or -1 when nothing decides (no --policy, or not a client flow).
 */
static int inspect_decide(struct inspect *in, const struct inspect_flow *fl,
			  const struct tg_exam *x, const struct tg_dns_msg *query)
{
	struct tg_flow_facts f;
	char ja4[TG_CAP_JA4_LEN + 1];

	if (in->hooks == NULL || in->hooks->decide == NULL)
		return -1;
	memset(&f, 0, sizeof(f));
	f.family = fl->family;
	memcpy(f.src, fl->src, 16);
	memcpy(f.dst, fl->dst, 16);
	f.sport = fl->sport;
	f.dport = fl->dport;
	if (x != NULL)
		tg_flow_facts_set_exam(&f, x, ja4);
	if (query != NULL) {
		f.kind = TG_FLOW_DNS;
		f.dns_name.p = (const uint8_t *)query->q[0].name.text;
		f.dns_name.len = query->q[0].name.len;
	}
	return in->hooks->decide(in->hooks_arg, &in->w, &f);
}

static int emit_tls(struct inspect *in, const struct flow *f, int dir, const struct tg_exam *x,
		    bool decide)
{
	const struct tg_ch *ch = &x->ch;
	struct jw *w = &in->w;
	char ja4[TG_JA4_LEN + 1];
	char ja4r[TG_JA4_RAW_MAX];
	struct inspect_flow fl;
	size_t i;
	int a = -1;

	dir_flow(&fl, f, dir);
	json_head(in, "tls", f->family, fl.src, fl.sport, fl.dst, fl.dport);
	jw_key(w, "sni");
	if (ch->has_sni)
		jw_bytes(w, ch->sni.p, ch->sni.len);
	else
		jw_null(w);
	jw_key(w, "alpn");
	jw_arr_begin(w);
	for (i = 0; i < ch->n_alpn; i++)
		jw_bytes(w, ch->alpn[i].p, ch->alpn[i].len);
	jw_arr_end(w);
	jw_key(w, "tls_versions");
	jw_arr_begin(w);
	for (i = 0; i < ch->n_versions; i++)
		if (!tg_tls_is_grease(ch->versions[i]))
			json_tls_version(w, ch->versions[i]);
	jw_arr_end(w);
	jw_key(w, "legacy_version");
	json_tls_version(w, ch->legacy_version);
	jw_kv_bool(w, "ech", ch->has_ech);
	if (tg_ja4(ch, 't', ja4) == TG_OK)
		jw_kv_str(w, "ja4", ja4);
	if (tg_ja4_raw(ch, 't', ja4r, sizeof(ja4r)) == TG_OK)
		jw_kv_str(w, "ja4_r", ja4r);
	if (decide)
		a = inspect_decide(in, &fl, x, NULL);
	jw_obj_end(w);
	jw_line_end(w);
	in->tls++;
	return a;
}

static void emit_invalid(struct inspect *in, const struct flow *f, int dir, const char *type,
			 enum tg_err e)
{
	struct jw *w = &in->w;

	json_head(in, type, f->family, dir ? f->b : f->a, dir ? f->bp : f->ap, dir ? f->a : f->b,
		  dir ? f->ap : f->bp);
	jw_kv_str(w, "error", tg_strerror(e));
	jw_kv_str(w, "code", tg_err_name(e));
	jw_obj_end(w);
	jw_line_end(w);
}

/*
 * A client's flow failed with @why (@err: the parser's or the reassembly's answer behind it,
 * TG_OK if none): a tcp_fail line, decided like tlsgated decides a failure. Returns the action.
 */
static int emit_fail(struct inspect *in, const struct flow *f, int dir, enum tg_flow_fail why,
		     enum tg_err err)
{
	struct jw *w = &in->w;
	struct inspect_flow fl;
	struct tg_exam *x = &in->exam;
	int a;

	/* The failure as the examination's answer: its facts take the one path to classify. */
	memset(x, 0, sizeof(*x));
	x->kind = TG_EXAM_FAIL;
	x->fail = why;
	x->err = err;
	dir_flow(&fl, f, dir);
	json_head(in, "tcp_fail", f->family, fl.src, fl.sport, fl.dst, fl.dport);
	jw_kv_str(w, "fail", tg_flow_fail_text(why));
	if (err != TG_OK) {
		jw_kv_str(w, "error", tg_strerror(err));
		jw_kv_str(w, "code", tg_err_name(err));
	}
	a = inspect_decide(in, &fl, x, NULL);
	jw_obj_end(w);
	jw_line_end(w);
	in->fails++;
	return a;
}

static int emit_http(struct inspect *in, const struct flow *f, int dir, const struct tg_exam *x,
		     bool decide)
{
	const struct tg_http_req *req = &x->req;
	struct jw *w = &in->w;
	struct inspect_flow fl;
	int a = -1;

	dir_flow(&fl, f, dir);
	json_head(in, "http", f->family, fl.src, fl.sport, fl.dst, fl.dport);
	jw_kv_bytes(w, "method", req->method.p, req->method.len);
	jw_kv_bytes(w, "target", req->target.p, req->target.len);
	jw_key(w, "host");
	if (req->host.len)
		jw_bytes(w, req->host.p, req->host.len);
	else
		jw_null(w);
	if (decide)
		a = inspect_decide(in, &fl, x, NULL);
	jw_obj_end(w);
	jw_line_end(w);
	in->http++;
	return a;
}

enum dns_decide {
	DNS_NO_DECISION, /* a response, or the server's direction */
	DNS_QUERY, /* a query unless the QR bit says response (UDP, flows seen midstream) */
	DNS_CLIENT, /* the client's TCP stream: every message is a query, as tlsgated reads it */
};

/*
 * One DNS message: a "dns" or "dns_invalid" line, decided as @how says. Returns the action, -1
 * when not decided, or -2 when @how is DNS_CLIENT and the message is no query tlsgated can
 * decide (it does not parse or has no question): the flow's unparsable-dns failure.
 */
static int emit_dns(struct inspect *in, const struct inspect_flow *fl, const char *transport,
		    const uint8_t *msg, size_t len, enum dns_decide how)
{
	struct tg_dns_msg *m = &in->dns_msg;
	struct jw *w = &in->w;
	enum tg_err e = tg_dns_parse(m, msg, len);
	size_t i;
	int a = -1;

	json_head(in, e == TG_OK ? "dns" : "dns_invalid", fl->family, fl->src, fl->sport, fl->dst,
		  fl->dport);
	jw_kv_str(w, "transport", transport);
	if (e != TG_OK) {
		jw_kv_str(w, "error", tg_strerror(e));
		jw_kv_str(w, "code", tg_err_name(e));
		jw_obj_end(w);
		jw_line_end(w);
		in->dns_invalid++;
		return how == DNS_CLIENT ? -2 : -1;
	}
	jw_kv_uint(w, "id", m->id);
	jw_kv_bool(w, "response", m->qr);
	jw_kv_uint(w, "rcode", m->rcode);
	if (m->n_q > 0) {
		const char *tn = tg_dns_type_name(m->q[0].qtype);

		jw_kv_bytes(w, "qname", (const uint8_t *)m->q[0].name.text, m->q[0].name.len);
		jw_key(w, "qtype");
		if (tn)
			jw_str(w, tn);
		else
			jw_uint(w, m->q[0].qtype);
	}
	jw_key(w, "answers");
	jw_arr_begin(w);
	for (i = 0; i < m->n_an; i++) {
		const struct tg_dns_rr *rr = &m->an[i];
		const char *tn = tg_dns_type_name(rr->type);
		char abuf[64];

		jw_obj_begin(w);
		jw_kv_bytes(w, "name", (const uint8_t *)rr->name.text, rr->name.len);
		jw_key(w, "type");
		if (tn)
			jw_str(w, tn);
		else
			jw_uint(w, rr->type);
		jw_kv_uint(w, "ttl", rr->ttl);
		switch (rr->type) {
		case 1:
			tg_addr_format(4, rr->u.a, abuf, sizeof(abuf));
			jw_kv_str(w, "data", abuf);
			break;
		case 28:
			tg_addr_format(6, rr->u.aaaa, abuf, sizeof(abuf));
			jw_kv_str(w, "data", abuf);
			break;
		case 5:
			jw_kv_bytes(w, "data", (const uint8_t *)rr->u.cname.text, rr->u.cname.len);
			break;
		case 64:
		case 65:
			jw_kv_uint(w, "priority", rr->u.svcb.priority);
			jw_kv_bytes(w, "target", (const uint8_t *)rr->u.svcb.target.text,
				    rr->u.svcb.target.len);
			jw_kv_bool(w, "ech", rr->u.svcb.has_ech);
			break;
		default:
			break;
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
	if (m->n_q > 0 && (how == DNS_CLIENT || (how == DNS_QUERY && !m->qr)))
		a = inspect_decide(in, fl, NULL, m);
	jw_obj_end(w);
	jw_line_end(w);
	in->dns++;
	return how == DNS_CLIENT && m->n_q == 0 ? -2 : a;
}

/* The parser's own line for a failure, on any direction (a client's also gets tcp_fail). */
static void dir_fail_other(struct inspect *in, const struct flow *f, int dir, const uint8_t *p,
			   const struct tg_exam *x)
{
	if (x->fail == TG_FLOW_FAIL_UNPARSABLE_DNS) {
		emit_invalid(in, f, dir, "dns_invalid", x->err);
		in->dns_invalid++;
	} else if (p[0] == 0x16 && x->err != TG_ERR_TLS_NOT_CLIENT_HELLO && x->err != TG_OK) {
		/* A server's first flight is not a ClientHello: not worth a line. */
		emit_invalid(in, f, dir, "tls_invalid", x->err);
		in->tls_invalid++;
	}
}

/* The flow is to the DNS port (tlsgated: the server's port is 53). */
static bool dir_is_dns(const struct dir *d, uint16_t sport, uint16_t dport)
{
	switch (d->role) {
	case ROLE_CLIENT:
		return dport == CTL_INSPECT_DNS_PORT;
	case ROLE_SERVER:
		return sport == CTL_INSPECT_DNS_PORT;
	case ROLE_UNKNOWN:
	default:
		return sport == CTL_INSPECT_DNS_PORT || dport == CTL_INSPECT_DNS_PORT;
	}
}

static enum dns_decide dir_dns_decide(const struct dir *d)
{
	switch (d->role) {
	case ROLE_CLIENT:
		return DNS_CLIENT;
	case ROLE_SERVER:
		return DNS_NO_DECISION;
	case ROLE_UNKNOWN:
	default:
		return DNS_QUERY;
	}
}

/*
 * A TCP direction got new bytes (@added: the reassembly's answer for them): examine what its
 * stream holds from the current message on, as tlsgated's tcp_client_data() does, until it
 * needs more or is decided.
 */
static void dir_examine(struct inspect *in, struct flow *f, int dir, enum tg_err added)
{
	struct dir *d = &f->d[dir];
	struct tg_exam *x = &in->exam;
	uint16_t sport = dir ? f->bp : f->ap, dport = dir ? f->ap : f->bp;
	bool client = d->role == ROLE_CLIENT;
	bool dns = dir_is_dns(d, sport, dport);
	struct inspect_flow fl;
	uint32_t next;
	int a;

	dir_flow(&fl, f, dir);
	for (;;) {
		struct tg_span s = tg_reasm_contig(d->reasm);

		if (s.len == 0)
			return;
		tg_flow_examine(s.p, s.len, dns, in->scratch, x);
		if (x->kind == TG_EXAM_NEED_MORE && added == TG_ERR_CAP) {
			x->kind = TG_EXAM_FAIL;
			x->fail = TG_FLOW_FAIL_REASM_WINDOW;
			x->err = TG_ERR_CAP;
		}
		added = TG_OK;
		switch (x->kind) {
		case TG_EXAM_NEED_MORE:
			return;
		case TG_EXAM_TLS:
			(void)emit_tls(in, f, dir, x, d->role != ROLE_SERVER);
			dir_finish(d);
			return;
		case TG_EXAM_HTTP:
			if (d->role == ROLE_SERVER) {
				dir_finish(d);
				return;
			}
			a = emit_http(in, f, dir, x, true);
			break;
		case TG_EXAM_DNS:
			a = emit_dns(in, &fl, "tcp", x->dns.p, x->dns.len, dir_dns_decide(d));
			if (a == -2) {
				(void)emit_fail(in, f, dir, TG_FLOW_FAIL_UNPARSABLE_DNS, TG_OK);
				dir_finish(d);
				return;
			}
			break;
		case TG_EXAM_FAIL:
		default:
			dir_fail_other(in, f, dir, s.p, x);
			if (client)
				(void)emit_fail(in, f, dir, x->fail, x->err);
			dir_finish(d);
			return;
		}
		/* Passed (or nothing decides): the next request or query of the connection. */
		if (a == TG_ACTION_BLOCK || !tg_flow_exam_span(x, &next) ||
		    tg_reasm_advance(&d->reasm, next) != TG_OK) {
			dir_finish(d);
			return;
		}
		d->base += next;
	}
}

/* A SYN with a new ISN on a known tuple: a new connection, the old one's state is void. */
static void flow_restart(struct flow *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		tg_reasm_free(f->d[i].reasm);
		memset(&f->d[i], 0, sizeof(f->d[i]));
	}
}

/*
 * Data in a client's SYN (TCP Fast Open): tlsgated decides every such SYN as the tcp-fast-open
 * failure. Blocked, the SYN is dropped and nothing is remembered; passed, the flow passes whole.
 * Returns true when the SYN's data is still to be read as the stream's first bytes (no policy).
 */
static bool tcp_syn_data(struct inspect *in, struct flow *f, int dir)
{
	int a = emit_fail(in, f, dir, TG_FLOW_FAIL_TFO, TG_OK);

	if (a == -1)
		return true;
	if (a != TG_ACTION_BLOCK)
		dir_finish(&f->d[dir]);
	return false;
}

/* SYN and SYN-ACK: who is the client, and the ISN its stream is read from. */
static bool tcp_handshake(struct inspect *in, struct flow *f, int dir, const struct tg_pkt *p)
{
	struct dir *d = &f->d[dir];
	bool syn_only = !(p->tcp_flags & TG_TCP_ACK);

	if (syn_only && d->role == ROLE_CLIENT && d->have_isn && p->seq != d->isn)
		flow_restart(f);
	if (d->state == DIR_DONE)
		return false;
	if (d->state == DIR_NEW) {
		d->have_isn = true;
		d->isn = p->seq;
	}
	if (d->role == ROLE_UNKNOWN) {
		d->role = syn_only ? ROLE_CLIENT : ROLE_SERVER;
		f->d[!dir].role = syn_only ? ROLE_SERVER : ROLE_CLIENT;
	}
	if (p->payload.len == 0)
		return false;
	if (syn_only && d->role == ROLE_CLIENT)
		return tcp_syn_data(in, f, dir);
	return true;
}

static void tcp_packet(struct inspect *in, const struct tg_pkt *p)
{
	const struct tg_reasm_stats *st;
	struct flow *f;
	struct dir *d;
	uint32_t dups;
	int dir;
	enum tg_err e;

	f = flow_get(in, p, &dir);
	if (f == NULL)
		return;
	d = &f->d[dir];
	/* Data in a SYN is data at isn + 1. */
	if ((p->tcp_flags & TG_TCP_SYN) && !tcp_handshake(in, f, dir, p))
		return;
	if (d->state == DIR_DONE || p->payload.len == 0)
		return;
	if (d->state == DIR_NEW) {
		if (!d->have_isn)
			d->isn = p->seq - 1; /* mid-stream: start at the first data seen */
		d->reasm = tg_reasm_new(d->isn);
		if (d->reasm == NULL) {
			dir_finish(d);
			return;
		}
		d->state = DIR_ACTIVE;
	}
	st = tg_reasm_stats(d->reasm);
	dups = st->dups;
	e = tg_reasm_add(d->reasm, (p->tcp_flags & TG_TCP_SYN) ? p->seq + 1 : p->seq, p->payload.p,
			 p->payload.len);
	if (e == TG_OK && st->dups != dups)
		return; /* nothing new: a retransmission */
	if (e != TG_OK)
		in->reasm_errors++;
	if (d->role == ROLE_CLIENT && (e == TG_ERR_REASM_CONFLICT || e == TG_ERR_REASM_WINDOW)) {
		/* As tlsgated: the flow fails at once, whatever it holds. */
		(void)emit_fail(in, f, dir,
				e == TG_ERR_REASM_CONFLICT ? TG_FLOW_FAIL_REASM_CONFLICT
							   : TG_FLOW_FAIL_REASM_WINDOW,
				e);
		dir_finish(d);
		return;
	}
	dir_examine(in, f, dir, e);
	/* Other directions keep what they have: a cap may still leave a complete ClientHello. */
	if (e != TG_OK && e != TG_ERR_CAP && d->state != DIR_DONE)
		dir_finish(d);
}

static void udp_packet(struct inspect *in, const struct tg_pkt *p)
{
	struct inspect_flow fl;

	if (p->sport != CTL_INSPECT_DNS_PORT && p->dport != CTL_INSPECT_DNS_PORT)
		return;
	inspect_flow_of(&fl, p->ip_version, p->src, p->sport, p->dst, p->dport);
	(void)emit_dns(in, &fl, "udp", p->payload.p, p->payload.len, DNS_QUERY);
}

static int linktype_of(int dlt, enum tg_linktype *lt)
{
	switch (dlt) {
	case DLT_EN10MB:
		*lt = TG_LINK_ETHERNET;
		return 0;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*lt = TG_LINK_RAW;
		return 0;
	case DLT_NULL:
		*lt = TG_LINK_NULL;
		return 0;
	case DLT_LOOP:
		*lt = TG_LINK_LOOP;
		return 0;
	case DLT_LINUX_SLL:
		*lt = TG_LINK_SLL;
		return 0;
	case DLT_LINUX_SLL2:
		*lt = TG_LINK_SLL2;
		return 0;
	default:
		return -1;
	}
}

static void inspect_free(struct inspect *in)
{
	size_t i;

	for (i = 0; i < in->tab_size; i++) {
		struct flow *f = in->tab[i], *next;

		for (; f != NULL; f = next) {
			next = f->next;
			tg_reasm_free(f->d[0].reasm);
			tg_reasm_free(f->d[1].reasm);
			free(f);
		}
	}
	free(in->tab);
	in->tab = NULL;
}

static void inspect_summary(const struct inspect *in, const char *path)
{
	size_t i;

	fprintf(stderr,
		"inspect: %s: %" PRIu64 " packets, %zu flows, %" PRIu64 " ClientHellos, %" PRIu64
		" invalid, %" PRIu64 " DNS messages (%" PRIu64 " invalid), %" PRIu64
		" HTTP requests\n",
		path, in->npkts, in->nflows, in->tls, in->tls_invalid, in->dns, in->dns_invalid,
		in->http);
	for (i = 0; i < TG_ERR__COUNT; i++)
		if (in->pkt_errors[i])
			fprintf(stderr, "inspect: %s: %" PRIu64 " packets skipped: %s\n", path,
				in->pkt_errors[i], tg_strerror((enum tg_err)i));
	if (in->flows_over_cap)
		fprintf(stderr,
			"inspect: %s: %" PRIu64 " packets of flows beyond the %u-flow cap not "
			"inspected\n",
			path, in->flows_over_cap, CTL_INSPECT_MAX_FLOWS);
	if (in->reasm_errors)
		fprintf(stderr, "inspect: %s: %" PRIu64 " segments refused by reassembly\n", path,
			in->reasm_errors);
	if (in->fails)
		fprintf(stderr, "inspect: %s: %" PRIu64 " client flows failed (tcp_fail lines)\n",
			path, in->fails);
}

int inspect_file(const char *path, FILE *out, const struct inspect_hooks *hooks, void *arg)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct inspect *in = NULL;
	pcap_t *pc = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	enum tg_linktype lt;
	int rc = 1, r;

	pc = pcap_open_offline(path, errbuf);
	if (pc == NULL) {
		fprintf(stderr, "inspect: %s: %s\n", path, errbuf);
		goto out;
	}
	if (linktype_of(pcap_datalink(pc), &lt) == -1) {
		fprintf(stderr, "inspect: %s: unsupported link type %s\n", path,
			pcap_datalink_val_to_name(pcap_datalink(pc)) ?: "unknown");
		goto out;
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL || getrandom(in->key, sizeof(in->key), 0) != (ssize_t)sizeof(in->key) ||
	    inspect_grow(in) == -1) {
		fprintf(stderr, "inspect: out of memory\n");
		goto out;
	}
	jw_init(&in->w, out);
	in->hooks = hooks;
	in->hooks_arg = arg;
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		struct tg_pkt p;
		enum tg_err e;

		in->npkts++;
		in->ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
		e = tg_pkt_parse_link(&p, lt, data, h->caplen);
		if (e != TG_OK) {
			in->pkt_errors[e]++;
			continue;
		}
		if (p.proto == 6)
			tcp_packet(in, &p);
		else if (p.proto == 17)
			udp_packet(in, &p);
	}
	if (r == -1) {
		fprintf(stderr, "inspect: %s: %s\n", path, pcap_geterr(pc));
		goto out;
	}
	rc = 0;
out:
	if (in != NULL) {
		fflush(out);
		inspect_summary(in, path);
		inspect_free(in);
	}
	free(in);
	if (pc != NULL)
		pcap_close(pc);
	return rc;
}

void inspect_flow_of(struct inspect_flow *fl, uint8_t family, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport)
{
	fl->family = family;
	memcpy(fl->src, src, 16);
	memcpy(fl->dst, dst, 16);
	fl->sport = sport;
	fl->dport = dport;
}
