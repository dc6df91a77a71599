/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inspect_emit.c - the event lines of `tlsgatectl inspect` (inspect.c reads the flows): the
 * shared schema (event.h), with what only a capture shows added inside the app-layer object:
 *   tls  "versions" (every version offered), "legacy_version", "ech", "ja4_r"
 *   dns  "id", "rcode", "answers" ([{"rrname", "rrtype", "ttl", "rdata"}...], SVCB/HTTPS:
 *        "priority", "target", "ech")
 * A parser's failure on a direction is an "anomaly" line ({"anomaly": {"type": "tls_invalid"
 * or "dns_invalid", "error", "code"}}); a client's failed flow is a "flow" line (or an "alert"
 * when blocked) with "fail", and the parser's answer behind it in "anomaly".
 */
#include <string.h>

#include "tlsgate/cidr.h"
#include "tlsgate/classify.h"
#include "tlsgate/ja4.h"
#include "tlsgate/tls_ch.h"

#include "event.h"
#include "inspect_impl.h"

/* What a line adds inside its app-layer object, and the parser's answer. */
struct emit_more {
	const struct tg_ch *ch;
	const struct tg_dns_msg *dns;
};

void inspect_dir_flow(struct inspect_flow *fl, const struct flow *f, int dir)
{
	inspect_flow_of(fl, f->family, dir ? f->b : f->a, dir ? f->bp : f->ap, dir ? f->a : f->b,
			dir ? f->ap : f->bp);
}

uint32_t inspect_flow_isn(const struct flow *f)
{
	int i;

	for (i = 0; i < 2; i++)
		if (f->d[i].role == ROLE_CLIENT && f->d[i].have_isn)
			return f->d[i].isn;
	return 0;
}

static void more_tls(const struct tg_ch *ch, struct jw *w)
{
	char ja4r[TG_JA4_RAW_MAX], vb[8];
	size_t i;

	jw_key(w, "versions");
	jw_arr_begin(w);
	for (i = 0; i < ch->n_versions; i++)
		if (!tg_tls_is_grease(ch->versions[i]))
			jw_str(w, ev_tls_version(ch->versions[i], vb));
	jw_arr_end(w);
	jw_kv_str(w, "legacy_version", ev_tls_version(ch->legacy_version, vb));
	jw_kv_bool(w, "ech", ch->has_ech);
	if (tg_ja4_raw(ch, 't', ja4r, sizeof(ja4r)) == TG_OK)
		jw_kv_str(w, "ja4_r", ja4r);
}

static void more_dns_rr(const struct tg_dns_rr *rr, struct jw *w)
{
	const char *tn = tg_dns_type_name(rr->type);
	char abuf[64];

	jw_obj_begin(w);
	jw_kv_bytes(w, "rrname", (const uint8_t *)rr->name.text, rr->name.len);
	jw_key(w, "rrtype");
	if (tn)
		jw_str(w, tn);
	else
		jw_uint(w, rr->type);
	jw_kv_uint(w, "ttl", rr->ttl);
	switch (rr->type) {
	case 1:
		tg_addr_format(4, rr->u.a, abuf, sizeof(abuf));
		jw_kv_str(w, "rdata", abuf);
		break;
	case 28:
		tg_addr_format(6, rr->u.aaaa, abuf, sizeof(abuf));
		jw_kv_str(w, "rdata", abuf);
		break;
	case 5:
		jw_kv_bytes(w, "rdata", (const uint8_t *)rr->u.cname.text, rr->u.cname.len);
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

static void more_dns(const struct tg_dns_msg *m, struct jw *w)
{
	size_t i;

	jw_kv_uint(w, "id", m->id);
	jw_kv_uint(w, "rcode", m->rcode);
	jw_key(w, "answers");
	jw_arr_begin(w);
	for (i = 0; i < m->n_an; i++)
		more_dns_rr(&m->an[i], w);
	jw_arr_end(w);
}

static void emit_more(void *arg, struct jw *w, const char *obj)
{
	const struct emit_more *m = arg;

	if (strcmp(obj, "tls") == 0 && m->ch != NULL)
		more_tls(m->ch, w);
	else if (strcmp(obj, "dns") == 0 && m->dns != NULL)
		more_dns(m->dns, w);
}

static void emit_anomaly_obj(struct jw *w, const char *type, enum tg_err e)
{
	jw_key(w, "anomaly");
	jw_obj_begin(w);
	if (type != NULL)
		jw_kv_str(w, "type", type);
	jw_kv_str(w, "error", tg_strerror(e));
	jw_kv_str(w, "code", tg_err_name(e));
	jw_obj_end(w);
}

/* The event flow of @fl as a capture shows it. */
static void emit_flow_of(const struct inspect *in, struct ev_flow *ev,
			 const struct inspect_flow *fl, uint8_t ipproto, uint32_t isn,
			 struct emit_more *more)
{
	ev_flow_init(ev, in->key, fl->family, ipproto, fl->src, fl->sport, fl->dst, fl->dport, isn);
	ev->more = emit_more;
	ev->more_arg = more;
}

/*
 * The facts of @fl as tlsgated builds them: the 5-tuple, then what the examination @x found
 * (tg_flow_facts_set_exam), or the DNS @query's question.
 */
static void emit_facts(struct tg_flow_facts *f, const struct inspect_flow *fl,
		       const struct tg_exam *x, const struct tg_dns_msg *query,
		       char ja4[static TG_CAP_JA4_LEN + 1])
{
	memset(f, 0, sizeof(*f));
	f->family = fl->family;
	memcpy(f->src, fl->src, 16);
	memcpy(f->dst, fl->dst, 16);
	f->sport = fl->sport;
	f->dport = fl->dport;
	if (x != NULL)
		tg_flow_facts_set_exam(f, x, ja4);
	if (query != NULL) {
		f->kind = TG_FLOW_DNS;
		f->dns_name.p = (const uint8_t *)query->q[0].name.text;
		f->dns_name.len = query->q[0].name.len;
	}
}

/*
 * One line about @ev: decided on @facts when not NULL and there are hooks (the line's type is
 * then the decision's), else of type @type. @err: the parser's answer to report (TG_OK: none).
 */
static int emit_line(struct inspect *in, struct ev_flow *ev, const struct tg_flow_facts *facts,
		     const char *type, enum tg_err err)
{
	struct jw *w = &in->w;
	int a = -1;

	if (facts != NULL && in->hooks != NULL)
		a = in->hooks->decide(in->hooks_arg, facts, ev, &type);
	ev_write_head(w, in->ts_ms, type);
	(void)ev_write_flow(w, ev);
	if (err != TG_OK)
		emit_anomaly_obj(w, NULL, err);
	if (a >= 0)
		in->hooks->members(in->hooks_arg, w);
	jw_obj_end(w);
	jw_line_end(w);
	return a;
}

int inspect_emit_tls(struct inspect *in, const struct flow *f, int dir, const struct tg_exam *x,
		     bool decide)
{
	const struct tg_ch *ch = &x->ch;
	struct emit_more more = { ch, NULL };
	struct tg_flow_facts facts;
	struct inspect_flow fl;
	char ja4[TG_CAP_JA4_LEN + 1];
	struct ev_flow ev;
	size_t i;

	inspect_dir_flow(&fl, f, dir);
	emit_flow_of(in, &ev, &fl, 6, inspect_flow_isn(f), &more);
	emit_facts(&facts, &fl, x, NULL, ja4);
	ev.app_proto = "tls";
	if (ch->has_sni)
		ev.sni = ch->sni;
	ev.tls_version = ch->legacy_version;
	for (i = 0; i < ch->n_versions; i++)
		if (!tg_tls_is_grease(ch->versions[i]) && ch->versions[i] > ev.tls_version)
			ev.tls_version = ch->versions[i];
	ev.alpn = ch->alpn;
	ev.n_alpn = ch->n_alpn;
	if (tg_ja4(ch, 't', ja4) == TG_OK)
		ev.ja4 = (struct tg_span){ (const uint8_t *)ja4, strlen(ja4) };
	in->tls++;
	return emit_line(in, &ev, decide ? &facts : NULL, "tls", TG_OK);
}

void inspect_emit_anomaly(struct inspect *in, const struct flow *f, int dir, const uint8_t *p,
			  const struct tg_exam *x)
{
	const char *type = NULL;
	struct inspect_flow fl;
	struct ev_flow ev;
	struct jw *w = &in->w;

	if (x->fail == TG_FLOW_FAIL_UNPARSABLE_DNS) {
		type = "dns_invalid";
		in->dns_invalid++;
	} else if (p[0] == 0x16 && x->err != TG_ERR_TLS_NOT_CLIENT_HELLO && x->err != TG_OK) {
		/* A server's first flight is not a ClientHello: not worth a line. */
		type = "tls_invalid";
		in->tls_invalid++;
	}
	if (type == NULL)
		return;
	inspect_dir_flow(&fl, f, dir);
	emit_flow_of(in, &ev, &fl, 6, inspect_flow_isn(f), NULL);
	ev.more = NULL;
	ev_write_head(w, in->ts_ms, "anomaly");
	(void)ev_write_flow(w, &ev);
	emit_anomaly_obj(w, type, x->err);
	jw_obj_end(w);
	jw_line_end(w);
}

int inspect_emit_fail(struct inspect *in, const struct flow *f, int dir, enum tg_flow_fail why,
		      enum tg_err err)
{
	struct tg_exam *x = &in->exam;
	struct tg_flow_facts facts;
	char ja4[TG_CAP_JA4_LEN + 1];
	struct inspect_flow fl;
	struct ev_flow ev;

	/* The failure as the examination's answer: its facts take the one path to classify. */
	memset(x, 0, sizeof(*x));
	x->kind = TG_EXAM_FAIL;
	x->fail = why;
	x->err = err;
	inspect_dir_flow(&fl, f, dir);
	emit_flow_of(in, &ev, &fl, 6, inspect_flow_isn(f), NULL);
	ev.more = NULL;
	ev.fail = tg_flow_fail_text(why);
	emit_facts(&facts, &fl, x, NULL, ja4);
	in->fails++;
	return emit_line(in, &ev, &facts, "flow", err);
}

int inspect_emit_http(struct inspect *in, const struct flow *f, int dir, const struct tg_exam *x)
{
	const struct tg_http_req *req = &x->req;
	struct emit_more more = { NULL, NULL };
	struct tg_flow_facts facts;
	char ja4[TG_CAP_JA4_LEN + 1];
	struct inspect_flow fl;
	struct ev_flow ev;

	inspect_dir_flow(&fl, f, dir);
	emit_flow_of(in, &ev, &fl, 6, inspect_flow_isn(f), &more);
	emit_facts(&facts, &fl, x, NULL, ja4);
	ev.app_proto = "http";
	if (req->host.len)
		ev.http_host = req->host;
	ev.http_url = req->target;
	ev.http_method = req->method;
	in->http++;
	return emit_line(in, &ev, &facts, "http", TG_OK);
}

int inspect_emit_dns(struct inspect *in, const struct inspect_flow *fl, uint32_t isn,
		     uint8_t ipproto, const uint8_t *msg, size_t len, enum dns_decide how)
{
	struct tg_dns_msg *m = &in->dns_msg;
	struct emit_more more = { NULL, m };
	enum tg_err e = tg_dns_parse(m, msg, len);
	struct tg_flow_facts facts;
	char ja4[TG_CAP_JA4_LEN + 1];
	struct ev_flow ev;
	bool decide;
	int a;

	emit_flow_of(in, &ev, fl, ipproto, isn, &more);
	if (e != TG_OK) {
		struct jw *w = &in->w;

		ev.more = NULL;
		ev_write_head(w, in->ts_ms, "anomaly");
		(void)ev_write_flow(w, &ev);
		emit_anomaly_obj(w, "dns_invalid", e);
		jw_obj_end(w);
		jw_line_end(w);
		in->dns_invalid++;
		return how == DNS_CLIENT ? -2 : -1;
	}
	ev.app_proto = "dns";
	ev.dns_answer = m->qr;
	if (m->n_q > 0) {
		ev.rrname =
			(struct tg_span){ (const uint8_t *)m->q[0].name.text, m->q[0].name.len };
		ev.rrtype = m->q[0].qtype;
	}
	decide = m->n_q > 0 && (how == DNS_CLIENT || (how == DNS_QUERY && !m->qr));
	if (decide)
		emit_facts(&facts, fl, NULL, m, ja4);
	a = emit_line(in, &ev, decide ? &facts : NULL, "dns", TG_OK);
	in->dns++;
	return how == DNS_CLIENT && m->n_q == 0 ? -2 : a;
}
