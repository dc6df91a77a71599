/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * declog.c - the engine's decision lines: what a queue thread knows of a flow, in event.c's
 * terms, through the event log's budget (evlog.c). One line per decision; a decrypt decision's
 * line is written by proxy.c once the proxy knows the outcome, from the fragment made here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/dns.h"
#include "tlsgate/http.h"
#include "tlsgate/tls_ch.h"

#include "engine_impl.h"
#include "event.h"
#include "evlog.h"
#include "jsonw.h"

/* The flow of @f: addresses, ports, its id (the client's ISN tells a reused port pair). */
static void declog_flow_of(struct engine *e, struct ev_flow *fl, const struct adopt_facts *f,
			   uint8_t ipproto, const struct dec_result *r)
{
	ev_flow_init(fl, evlog_key(e->cfg.log), f->family, ipproto, f->client, f->client_port,
		     f->server, f->server_port, ipproto == 6 ? f->client_isn : 0);
	if (r->fail != TG_FLOW_FAIL_NONE)
		fl->fail = tg_flow_fail_text(r->fail);
}

/* The ClientHello's part: SNI, the highest version offered, ALPN, JA4. */
static void declog_ch(struct ev_flow *fl, const struct tg_ch *ch, const struct dec_result *r)
{
	size_t i;

	fl->app_proto = "tls";
	if (ch == NULL)
		return;
	fl->tls_version = ch->legacy_version;
	for (i = 0; i < ch->n_versions; i++)
		if (!tg_tls_is_grease(ch->versions[i]) && ch->versions[i] > fl->tls_version)
			fl->tls_version = ch->versions[i];
	fl->alpn = ch->alpn;
	fl->n_alpn = ch->n_alpn;
	fl->ja4 = (struct tg_span){ (const uint8_t *)r->ja4, strlen(r->ja4) };
}

/* The whole line of @fl decided as @r, when the client's budget has room. */
static void declog_emit(struct engine *e, const struct ev_flow *fl, const struct dec_result *r,
			uint64_t repeat_id, uint64_t now_ms)
{
	const char *action = dec_action_name(r->action);
	bool security = r->action == DEC_BLOCK || r->ctx.alert_rule[0];
	char *buf = NULL;
	size_t len = 0;
	struct jw w;
	FILE *m;

	if (e->cfg.log == NULL ||
	    !evlog_admit(e->cfg.log, fl->family, fl->src,
			 security ? EVLOG_SECURITY : EVLOG_DECISION, repeat_id, now_ms))
		return;
	m = open_memstream(&buf, &len);
	if (m == NULL) {
		evlog_lost(e->cfg.log);
		return;
	}
	jw_init(&w, m);
	ev_write_head(&w, ev_now_ms(), ev_type(fl, action, &r->ctx));
	if (ev_write_flow(&w, fl))
		CTR_INC(e, log_truncated);
	ev_write_ctx(&w, &r->ctx);
	ev_write_verdict(&w, action, r->reason);
	jw_obj_end(&w);
	jw_line_end(&w);
	if (fclose(m) != 0 || buf == NULL)
		evlog_lost(e->cfg.log);
	else
		evlog_put(e->cfg.log, buf, len);
	free(buf);
}

void declog_tls(struct engine *e, const struct adopt_facts *f, const struct tg_ch *ch,
		const uint8_t *sni, size_t sni_len, const char *dest_name, size_t dest_len,
		const struct dec_result *r, uint64_t now_ms)
{
	struct ev_flow fl;

	declog_flow_of(e, &fl, f, 6, r);
	declog_ch(&fl, ch, r);
	fl.sni = (struct tg_span){ sni, sni_len };
	fl.dest_name = (struct tg_span){ (const uint8_t *)dest_name, dest_name ? dest_len : 0 };
	declog_emit(e, &fl, r, 0, now_ms);
}

void declog_http(struct engine *e, const struct adopt_facts *f, const struct tg_http_req *req,
		 const struct dec_result *r, uint64_t now_ms)
{
	struct ev_flow fl;

	declog_flow_of(e, &fl, f, 6, r);
	fl.app_proto = "http";
	if (req->host.len)
		fl.http_host = req->host;
	fl.http_url = req->target;
	fl.http_method = req->method;
	declog_emit(e, &fl, r, 0, now_ms);
}

void declog_dns(struct engine *e, const struct adopt_facts *f, uint8_t ipproto,
		const struct tg_dns_msg *m, const struct dec_result *r, uint64_t now_ms)
{
	struct ev_flow fl;

	declog_flow_of(e, &fl, f, ipproto, r);
	fl.app_proto = "dns";
	if (m != NULL && m->n_q > 0) {
		fl.rrname =
			(struct tg_span){ (const uint8_t *)m->q[0].name.text, m->q[0].name.len };
		fl.rrtype = m->q[0].qtype;
	}
	declog_emit(e, &fl, r, 0, now_ms);
}

void declog_quic(struct engine *e, const struct adopt_facts *f, const struct dec_result *r,
		 uint64_t now_ms)
{
	struct ev_flow fl;

	declog_flow_of(e, &fl, f, 17, r);
	fl.app_proto = "quic";
	/*
	 * Queued again and again while blocked (a dropped first packet leaves no conntrack
	 * entry): the Initial's retransmissions on the same port pair are one attempt, one line.
	 */
	declog_emit(e, &fl, r, fl.flow_id | 1, now_ms);
}

void declog_flow(struct engine *e, const struct adopt_facts *f, uint8_t ipproto,
		 const char *dest_name, size_t dest_len, const struct dec_result *r,
		 uint64_t now_ms)
{
	struct ev_flow fl;

	declog_flow_of(e, &fl, f, ipproto, r);
	fl.dest_name = (struct tg_span){ (const uint8_t *)dest_name, dest_name ? dest_len : 0 };
	declog_emit(e, &fl, r, 0, now_ms);
}

bool declog_fragment(struct engine *e, const struct adopt_facts *f, const struct tg_ch *ch,
		     const uint8_t *sni, size_t sni_len, const struct dec_result *r, char **frag,
		     size_t *frag_len)
{
	struct ev_flow fl;
	size_t len = 0;
	struct jw w;
	FILE *m;

	*frag = NULL;
	*frag_len = 0;
	if (e->cfg.log == NULL)
		return true;
	declog_flow_of(e, &fl, f, 6, r);
	declog_ch(&fl, ch, r);
	fl.sni = (struct tg_span){ sni, sni_len };
	m = open_memstream(frag, &len);
	if (m == NULL)
		return false;
	jw_init(&w, m);
	/* Members only: proxy.c writes the head before them and the outcome after. */
	jw_obj_members(&w);
	if (ev_write_flow(&w, &fl))
		CTR_INC(e, log_truncated);
	ev_write_ctx(&w, &r->ctx);
	if (fclose(m) != 0 || *frag == NULL) {
		free(*frag);
		*frag = NULL;
		return false;
	}
	*frag_len = len;
	return true;
}
