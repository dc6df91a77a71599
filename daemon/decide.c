/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * decide.c - the datapath's questions answered by the lib classifier (decide.h).
 *
 * The policy and its content package form one immutable bundle behind an atomic pointer:
 * queue threads load it per question, SIGHUP builds a new bundle and swaps it in. The old one
 * is retired, not freed, until the main thread has seen every queue thread pass a quiescent
 * point (decider_reclaim()). The dynamic bypass and upstream-exclusion tables are created with
 * the first policy's settings and live for the daemon's lifetime, so learned entries survive a
 * reload; a change of their sizes takes effect on restart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/bypass.h"
#include "tlsgate/caps.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/ja4.h"
#include "tlsgate/oshint.h"
#include "tlsgate/policy.h"
#include "tlsgate/tls_ch.h"
#include "tlsgate/upstream.h"

#include "decide.h"
#include "load.h"
#include "log.h"

#define DECIDE_RETIRED_MAX 8 /* reloads faster than the grace period keep at most this many */

struct bundle {
	struct tg_content *content;
	struct tg_policy *policy;
};

struct decider {
	struct bundle *cur; /* atomic: loaded with acquire by every reader */
	struct bundle *retired[DECIDE_RETIRED_MAX];
	unsigned n_retired;
	struct tg_bypass *bypass;
	struct tg_upstream *excl;
	uint8_t key[16];
	/*
	 * Every classifier answer, by action and reason, and by the failure decided on: written
	 * by the queue threads (relaxed atomics) through the const decider they hold.
	 */
	struct dec_counts *counts;
	const struct datapath *dp; /* what is queued; NULL: not checked (decider_datapath) */
};

static void bundle_free(struct bundle *b)
{
	if (b == NULL)
		return;
	tg_policy_free(b->policy);
	tg_content_free(b->content);
	free(b);
}

static struct bundle *bundle_load(const uint8_t *policy, size_t len, const char *name,
				  const char *content, const uint8_t key[static 16], char *err,
				  size_t errlen)
{
	struct bundle *b = calloc(1, sizeof(*b));
	struct tg_diag *d = calloc(1, sizeof(*d));

	if (b == NULL || d == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	tg_diag_init(d);
	b->content = load_content(content, key, d, err, errlen);
	if (b->content == NULL)
		goto fail;
	tg_diag_init(d);
	b->policy = load_policy_buf(policy, len, name, b->content, key, d, err, errlen);
	if (b->policy == NULL)
		goto fail;
	free(d);
	return b;
fail:
	free(d);
	bundle_free(b);
	return NULL;
}

static const struct bundle *cur(const struct decider *d)
{
	return __atomic_load_n(&d->cur, __ATOMIC_ACQUIRE);
}

struct decider *decider_load(const char *policy, const char *content, char *err, size_t errlen)
{
	struct decider *d;
	uint8_t *buf;
	size_t len;

	if (load_file(policy, TG_CAP_POLICY_BYTES, &buf, &len, err, errlen) == -1)
		return NULL;
	d = decider_load_buf(buf, len, policy, content, err, errlen);
	free(buf);
	return d;
}

struct decider *decider_load_buf(const uint8_t *policy, size_t len, const char *name,
				 const char *content, char *err, size_t errlen)
{
	struct decider *d = calloc(1, sizeof(*d));
	const struct tg_policy_settings *s;
	struct tg_bypass_cfg bc;
	struct tg_upstream_cfg uc;
	enum tg_err e;

	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->counts = calloc(1, sizeof(*d->counts));
	if (d->counts == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (load_key(d->key, err, errlen) == -1)
		goto fail;
	d->cur = bundle_load(policy, len, name, content, d->key, err, errlen);
	if (d->cur == NULL)
		goto fail;
	s = tg_policy_settings(d->cur->policy);
	tg_bypass_cfg_default(&bc);
	bc.failures = s->dynamic_bypass.failures;
	bc.window_s = s->dynamic_bypass.window_s;
	bc.ttl_s = s->dynamic_bypass.ttl_s;
	bc.per_user_max = s->dynamic_bypass.per_user_max;
	bc.total_max = s->dynamic_bypass.total_max;
	bc.ca_missing_hosts = s->dynamic_bypass.ca_missing_hosts;
	bc.ca_missing_window_s = s->dynamic_bypass.ca_missing_window_s;
	bc.ca_missing_ttl_s = s->dynamic_bypass.ca_missing_ttl_s;
	e = tg_bypass_new(&bc, d->key, &d->bypass);
	if (e != TG_OK) {
		snprintf(err, errlen, "dynamic bypass table: %s", tg_strerror(e));
		goto fail;
	}
	tg_upstream_cfg_default(&uc);
	if (s->upstream_excl_ttl_s)
		uc.ttl_s = s->upstream_excl_ttl_s;
	e = tg_upstream_new(&uc, d->key, &d->excl);
	if (e != TG_OK) {
		snprintf(err, errlen, "upstream exclusion table: %s", tg_strerror(e));
		goto fail;
	}
	return d;
fail:
	decider_free(d);
	return NULL;
}

int decider_reload(struct decider *d, const char *policy, const char *content, char *err,
		   size_t errlen)
{
	struct bundle *nb;
	uint8_t *buf;
	size_t len;

	if (load_file(policy, TG_CAP_POLICY_BYTES, &buf, &len, err, errlen) == -1)
		return -1;
	nb = decider_prepare(d, buf, len, policy, content, err, errlen);
	free(buf);
	if (nb == NULL)
		return -1;
	decider_commit(d, nb);
	return 0;
}

struct bundle *decider_prepare(const struct decider *d, const uint8_t *policy, size_t len,
			       const char *name, const char *content, char *err, size_t errlen)
{
	struct bundle *nb;

	if (d->n_retired >= DECIDE_RETIRED_MAX) {
		snprintf(err, errlen, "too many reloads in progress; try again in a second");
		return NULL;
	}
	nb = bundle_load(policy, len, name, content, d->key, err, errlen);
	if (nb != NULL && d->dp != NULL &&
	    datapath_check_policy(d->dp, tg_policy_settings(nb->policy), err, errlen) == -1) {
		bundle_free(nb);
		return NULL;
	}
	return nb;
}

void decider_commit(struct decider *d, struct bundle *nb)
{
	struct bundle *old = __atomic_exchange_n(&d->cur, nb, __ATOMIC_ACQ_REL);

	/* decider_prepare() saw room, and only this thread adds to the list. */
	d->retired[d->n_retired++] = old;
}

void decider_discard(struct bundle *nb)
{
	bundle_free(nb);
}

void decider_reclaim(struct decider *d)
{
	while (d->n_retired > 0) {
		bundle_free(d->retired[--d->n_retired]);
		d->retired[d->n_retired] = NULL;
	}
}

void decider_free(struct decider *d)
{
	if (d == NULL)
		return;
	decider_reclaim(d);
	bundle_free(d->cur);
	tg_bypass_free(d->bypass);
	tg_upstream_free(d->excl);
	free(d->counts);
	free(d);
}

void decider_expire(struct decider *d, uint64_t now_ms)
{
	(void)tg_bypass_expire(d->bypass, now_ms);
	(void)tg_upstream_expire(d->excl, now_ms);
}

static void facts_of(struct tg_flow_facts *f, const struct dec_flow *fl, enum tg_flow_kind kind)
{
	struct tg_os_hint hint;

	memset(&hint, 0, sizeof(hint));
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	/* The learned name; a DNS query's own question replaces it in decider_dns(). */
	if (fl->dns_name != NULL) {
		f->dns_name.p = (const uint8_t *)fl->dns_name;
		f->dns_name.len = fl->dns_name_len;
	}
	f->family = fl->family;
	memcpy(f->src, fl->src, fl->family == 4 ? 4 : 16);
	memcpy(f->dst, fl->dst, fl->family == 4 ? 4 : 16);
	f->sport = fl->sport;
	f->dport = fl->dport;
	if (fl->mac != NULL) {
		f->has_mac = true;
		memcpy(f->mac, fl->mac, 6);
	}
	hint.family = (enum tg_os_family)fl->os_hint;
	hint.confidence = (uint8_t)fl->os_conf;
	tg_flow_facts_set_hint(f, &hint);
	if (f->hint_os_mask)
		f->hint_confidence = hint.confidence;
}

/* The classifier's answer in the datapath's terms. */
static void result_of(struct dec_result *r, const struct bundle *b, const struct tg_decision *dec)
{
	memset(r, 0, sizeof(*r));
	r->action = dec->action == TG_ACTION_BLOCK     ? DEC_BLOCK
		    : dec->action == TG_ACTION_DECRYPT ? DEC_DECRYPT
						       : DEC_PASS;
	r->reason = tg_reason_text(dec->reason);
	r->reason_id = dec->reason;
	r->fail = dec->fail;
	r->rule = dec->rule;
	ev_ctx_of(&r->ctx, b->policy, b->content, dec);
	r->rule_name = r->ctx.rule;
	r->user = r->ctx.user;
	r->reputation = dec->reputation;
	r->bypass_allowed = dec->bypass_allowed;
	memcpy(r->name, dec->name, dec->name_len);
	r->name[dec->name_len] = '\0';
}

static void decision_count(const struct decider *d, enum dec_action a, enum tg_reason why)
{
	if ((unsigned)a >= DEC_ACTIONS || (unsigned)why >= TG_REASON__COUNT)
		return;
	__atomic_fetch_add(&d->counts->decisions[a][why], 1, __ATOMIC_RELAXED);
}

static void classify(const struct decider *d, const struct tg_flow_facts *f, uint64_t now_ms,
		     struct dec_result *r)
{
	const struct bundle *b = cur(d);
	struct tg_decision dec;

	if (tg_classify(b->policy, b->content, d->bypass, f, now_ms, &dec) != TG_OK) {
		/* Only a broken invariant gets here: fail closed for decryption, never silently. */
		log_warnx("classifier refused a flow (family %u)", f->family);
	}
	result_of(r, b, &dec);
	if (f->fail != TG_FLOW_FAIL_NONE && (unsigned)dec.fail < TG_FLOW_FAIL__COUNT)
		__atomic_fetch_add(&d->counts->fails[dec.fail], 1, __ATOMIC_RELAXED);
	/* decider_failed() may still turn a decrypt into a pass: it counts its own. */
	if (f->fail == TG_FLOW_FAIL_NONE)
		decision_count(d, r->action, r->reason_id);
}

void decider_count_get(const struct decider *d, struct dec_counts *out)
{
	unsigned a, i;

	for (a = 0; a < DEC_ACTIONS; a++)
		for (i = 0; i < TG_REASON__COUNT; i++)
			out->decisions[a][i] =
				__atomic_load_n(&d->counts->decisions[a][i], __ATOMIC_RELAXED);
	for (i = 0; i < TG_FLOW_FAIL__COUNT; i++)
		out->fails[i] = __atomic_load_n(&d->counts->fails[i], __ATOMIC_RELAXED);
}

void decider_explain(const struct decider *d, const struct tg_flow_facts *f, uint64_t now_ms,
		     decider_explain_cb cb, void *arg)
{
	const struct bundle *b = cur(d);
	struct tg_decision dec;

	if (tg_classify(b->policy, b->content, d->bypass, f, now_ms, &dec) != TG_OK) {
		cb(arg, b->policy, b->content, NULL);
		return;
	}
	cb(arg, b->policy, b->content, &dec);
}

void decider_tls(const struct decider *d, const struct dec_flow *fl, const struct tg_ch *ch,
		 uint64_t now_ms, struct dec_result *out)
{
	struct tg_flow_facts f;
	struct tg_upstream_server srv;
	struct tg_upstream_excl ex;
	char ja4[TG_JA4_LEN + 1];

	facts_of(&f, fl, TG_FLOW_TLS);
	tg_flow_facts_set_ch(&f, ch, ja4);
	memset(&srv, 0, sizeof(srv));
	srv.sni = ch->has_sni ? ch->sni.p : NULL;
	srv.sni_len = ch->has_sni ? ch->sni.len : 0;
	memcpy(srv.addr, fl->dst, fl->family == 4 ? 4 : 16);
	srv.port = fl->dport;
	f.upstream_excluded = tg_upstream_excl_lookup(d->excl, &srv, now_ms, &ex);
	classify(d, &f, now_ms, out);
	if (f.ja4.len > 0 && f.ja4.len <= TG_CAP_JA4_LEN)
		memcpy(out->ja4, f.ja4.p, f.ja4.len);
	out->ech_outer = ch->has_ech && ch->ech_type == TG_TLS_ECH_OUTER;
}

bool decider_fail_blocks(const struct decider *d, enum tg_fail_class c)
{
	return tg_policy_settings(cur(d)->policy)->fail[c] == TG_ACTION_BLOCK;
}

enum tg_bypass_result decider_pin_reject(struct decider *d, const char *user, uint8_t family,
					 const uint8_t *client, const char *name, bool ech_outer,
					 bool allowed, uint64_t now_ms)
{
	struct tg_principal who;
	struct tg_bypass_report rep = { .filtered = false,
					.ech_outer = ech_outer,
					.rule_allows_bypass = allowed };

	memset(&who, 0, sizeof(who));
	if (user[0] == '\0' ||
	    tg_bypass_principal_user(&who, (const uint8_t *)user, strlen(user)) != TG_OK) {
		if (family == 4)
			tg_bypass_principal_addr4(&who, client);
		else
			tg_bypass_principal_addr6(&who, client);
	}
	return tg_bypass_reject(d->bypass, &who, (const uint8_t *)name, strlen(name), &rep, now_ms);
}

void decider_upstream_exclude(struct decider *d, const char *sni, uint8_t family,
			      const uint8_t *server, uint16_t port, enum tg_upstream_reason why,
			      uint64_t now_ms)
{
	struct tg_upstream_server srv;

	memset(&srv, 0, sizeof(srv));
	srv.sni = (const uint8_t *)sni;
	srv.sni_len = strlen(sni);
	memcpy(srv.addr, server, family == 4 ? 4 : 16);
	srv.port = port;
	if (tg_upstream_excl_add(d->excl, &srv, why, now_ms) != TG_OK)
		log_warnx("upstream exclusion refused for %s", sni);
}

void decider_bypass_flush(struct decider *d)
{
	tg_bypass_flush(d->bypass);
}

struct tg_bypass *decider_bypass_writer(struct decider *d)
{
	return d->bypass;
}

const struct tg_bypass *decider_bypass(const struct decider *d)
{
	return d->bypass;
}

void decider_http(const struct decider *d, const struct dec_flow *fl, const char *host,
		  size_t host_len, const char *path, size_t path_len, struct dec_result *out)
{
	struct tg_flow_facts f;

	facts_of(&f, fl, TG_FLOW_HTTP);
	f.http_host.p = (const uint8_t *)host;
	f.http_host.len = host_len;
	f.http_path.p = (const uint8_t *)path;
	f.http_path.len = path_len;
	classify(d, &f, 0, out);
}

void decider_dns(const struct decider *d, const struct dec_flow *fl, const char *qname, size_t len,
		 uint16_t qtype, struct dec_result *out)
{
	const struct tg_policy_settings *s = tg_policy_settings(cur(d)->policy);
	struct tg_flow_facts f;

	facts_of(&f, fl, TG_FLOW_DNS);
	f.dns_name.p = (const uint8_t *)qname;
	f.dns_name.len = len;
	classify(d, &f, 0, out);
	out->sink_family = 0;
	if (out->action != DEC_BLOCK || s->dns_answer != TG_DNS_SINKHOLE)
		return;
	/* Sinkhole: A and AAAA get the policy's address; other types NODATA. */
	if (qtype == 28) {
		out->sink_family = 6;
		memcpy(out->sink_addr, s->sinkhole_ipv6, 16);
	} else {
		out->sink_family = 4;
		memset(out->sink_addr, 0, 16);
		memcpy(out->sink_addr, s->sinkhole_ipv4, 4);
	}
}

void decider_failed(const struct decider *d, const struct dec_flow *fl, enum tg_flow_kind kind,
		    enum tg_flow_fail why, uint64_t now_ms, struct dec_result *out)
{
	struct tg_flow_facts f;

	facts_of(&f, fl, kind);
	f.fail = why;
	classify(d, &f, now_ms, out);
	/* Decryption is never a fallback. */
	if (out->action == DEC_DECRYPT)
		out->action = DEC_PASS;
	decision_count(d, out->action, out->reason_id);
}

void decider_ip(const struct decider *d, const struct dec_flow *fl, struct dec_result *out)
{
	struct tg_flow_facts f;

	facts_of(&f, fl, TG_FLOW_OTHER);
	classify(d, &f, 0, out);
}

void decider_quic(const struct decider *d, const struct dec_flow *fl, struct dec_result *out)
{
	struct tg_flow_facts f;

	facts_of(&f, fl, TG_FLOW_QUIC);
	classify(d, &f, 0, out);
}

bool decider_port_is(const struct decider *d, enum dp_class c, uint16_t port)
{
	const struct tg_policy_settings *s = tg_policy_settings(cur(d)->policy);

	switch (c) {
	case DP_TLS:
		return dp_ports_has(s->inspected_ports, s->n_inspected_ports, port);
	case DP_HTTP:
		return dp_ports_has(s->http_ports, s->n_http_ports, port);
	case DP_DNS:
		return dp_ports_has(s->dns_ports, s->n_dns_ports, port);
	case DP_QUIC:
		return dp_ports_has(s->quic_ports, s->n_quic_ports, port);
	case DP__COUNT:
	default:
		return false;
	}
}

int decider_datapath(struct decider *d, const struct datapath *dp, char *err, size_t errlen)
{
	if (datapath_check_policy(dp, tg_policy_settings(cur(d)->policy), err, errlen) == -1)
		return -1;
	d->dp = dp;
	return 0;
}

bool decider_ech_strip(const struct decider *d)
{
	return tg_policy_settings(cur(d)->policy)->ech == TG_ECH_STRIP;
}

const char *dec_action_name(enum dec_action a)
{
	switch (a) {
	case DEC_BLOCK:
		return "block";
	case DEC_DECRYPT:
		return "decrypt";
	case DEC_PASS:
	default:
		return "pass";
	}
}

bool decider_queue_fail_open(const struct decider *d)
{
	return tg_policy_settings(cur(d)->policy)->fail[TG_FAIL_QUEUE_FULL] == TG_ACTION_PASS;
}
