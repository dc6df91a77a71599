/* SPDX-License-Identifier: GPL-2.0-or-later */
/* event.c - the event line writer shared by the daemon, explain and inspect; see event.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/base64.h>

#include "tlsgate/cidr.h"
#include "tlsgate/content.h"
#include "tlsgate/dns.h"
#include "tlsgate/mbedtls_compat.h"
#include "tlsgate/siphash.h"

#include "caps.h"
#include "event.h"
#include "jsonw.h"

void ev_ctx_none(struct ev_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->rule = "";
	c->rule_list = TG_RULES_NONE;
	c->rule_index = -1;
	c->alert_rule = "";
	c->user = "";
	c->app = "";
	c->category = "";
}

static const char *or_empty(const char *s)
{
	return s != NULL ? s : "";
}

void ev_ctx_of(struct ev_ctx *c, const struct tg_policy *p, const struct tg_content *content,
	       const struct tg_decision *dc)
{
	unsigned id;

	ev_ctx_none(c);
	c->rule = or_empty(dc->rule_name);
	c->rule_list = dc->rule >= 0 ? dc->rule_list : TG_RULES_NONE;
	c->rule_index = dc->rule >= 0 ? dc->rule : -1;
	if (dc->alert_rule >= 0)
		c->alert_rule = or_empty(
			tg_policy_rule_name(p, TG_RULES_FILTERING, (size_t)dc->alert_rule));
	c->user = or_empty(dc->user_name);
	c->policy = p;
	memcpy(c->groups, dc->groups, sizeof(c->groups));
	c->app = or_empty(dc->app_name);
	/* The first of the name's categories: the one a report groups it under. */
	for (id = 0; id < TG_CAP_CATEGORIES; id++)
		if (tg_catset_has(&dc->categories, id)) {
			c->category = or_empty(tg_content_category_name(content, id));
			break;
		}
}

void ev_flow_init(struct ev_flow *fl, const uint8_t key[static 16], uint8_t family, uint8_t ipproto,
		  const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
		  uint32_t isn)
{
	memset(fl, 0, sizeof(*fl));
	fl->family = family;
	fl->ipproto = ipproto;
	fl->src = src;
	fl->dst = dst;
	fl->sport = sport;
	fl->dport = dport;
	fl->flow_id = ev_flow_id(key, family, ipproto, src, sport, dst, dport, isn);
}

void ev_flow_of_facts(struct ev_flow *fl, const uint8_t key[static 16],
		      const struct tg_flow_facts *f)
{
	/* A DNS query as most are sent; QUIC is UDP. */
	ev_flow_init(fl, key, f->family, f->kind == TG_FLOW_QUIC || f->kind == TG_FLOW_DNS ? 17 : 6,
		     f->src, f->sport, f->dst, f->dport, 0);
	switch (f->kind) {
	case TG_FLOW_TLS:
		fl->app_proto = "tls";
		fl->sni = f->sni;
		fl->alpn = f->alpn.len ? &f->alpn : NULL;
		fl->n_alpn = f->alpn.len ? 1 : 0;
		fl->ja4 = f->ja4;
		break;
	case TG_FLOW_HTTP:
		fl->app_proto = "http";
		fl->http_host = f->http_host;
		fl->http_url = f->http_path;
		break;
	case TG_FLOW_DNS:
		fl->app_proto = "dns";
		fl->rrname = f->dns_name;
		return;
	case TG_FLOW_QUIC:
		fl->app_proto = "quic";
		break;
	case TG_FLOW_OTHER:
	default:
		break;
	}
	/* Any other kind: the name learned for the destination. */
	fl->dest_name = f->dns_name;
}

const char *ev_type(const struct ev_flow *fl, const char *action, const struct ev_ctx *c)
{
	if (strcmp(action, "block") == 0 || (c != NULL && c->alert_rule[0]))
		return "alert";
	return fl->app_proto != NULL ? fl->app_proto : "flow";
}

uint64_t ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ev_time(uint64_t realtime_ms, char out[static EV_TIME_LEN])
{
	time_t s = (time_t)(realtime_ms / 1000);
	struct tm tm;
	size_t n;

	if (gmtime_r(&s, &tm) == NULL ||
	    (n = strftime(out, EV_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, EV_TIME_LEN, "1970-01-01T00:00:00.000+0000");
		return;
	}
	snprintf(out + n, EV_TIME_LEN - n, ".%03u+0000", (unsigned)(realtime_ms % 1000));
}

/* One endpoint as the Community ID hashes it: address bytes, then the port. */
struct ev_end {
	const uint8_t *addr;
	uint16_t port;
};

void ev_community_id(uint8_t family, uint8_t ipproto, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport, char out[static EV_CID_LEN])
{
	size_t alen = family == 4 ? 4 : 16, n = 0, olen = 0;
	struct ev_end a = { src, sport }, b = { dst, dport };
	uint8_t buf[2 + 16 + 16 + 2 + 4], md[20];
	int c = memcmp(src, dst, alen);

	/* The smaller address (then port) first: both directions give the same id. */
	if (c > 0 || (c == 0 && sport > dport)) {
		a = (struct ev_end){ dst, dport };
		b = (struct ev_end){ src, sport };
	}
	buf[n++] = 0; /* seed 0, two bytes */
	buf[n++] = 0;
	memcpy(buf + n, a.addr, alen);
	n += alen;
	memcpy(buf + n, b.addr, alen);
	n += alen;
	buf[n++] = ipproto;
	buf[n++] = 0;
	buf[n++] = (uint8_t)(a.port >> 8);
	buf[n++] = (uint8_t)a.port;
	buf[n++] = (uint8_t)(b.port >> 8);
	buf[n++] = (uint8_t)b.port;
	out[0] = '\0';
	if (tg_sha1(buf, n, md) != 0)
		return;
	memcpy(out, "1:", 2);
	if (mbedtls_base64_encode((unsigned char *)out + 2, EV_CID_LEN - 2, &olen, md,
				  sizeof(md)) != 0)
		out[0] = '\0';
}

uint64_t ev_flow_id(const uint8_t key[static 16], uint8_t family, uint8_t ipproto,
		    const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
		    uint32_t isn)
{
	uint8_t buf[2 + 16 + 16 + 4 + 4];
	size_t alen = family == 4 ? 4 : 16, n = 0;
	int c = memcmp(src, dst, alen);

	/* Either direction's packet names the same flow, as for the Community ID. */
	if (c > 0 || (c == 0 && sport > dport)) {
		const uint8_t *t = src;
		uint16_t tp = sport;

		src = dst;
		sport = dport;
		dst = t;
		dport = tp;
	}
	buf[n++] = family;
	buf[n++] = ipproto;
	memcpy(buf + n, src, alen);
	n += alen;
	memcpy(buf + n, dst, alen);
	n += alen;
	buf[n++] = (uint8_t)(sport >> 8);
	buf[n++] = (uint8_t)sport;
	buf[n++] = (uint8_t)(dport >> 8);
	buf[n++] = (uint8_t)dport;
	buf[n++] = (uint8_t)(isn >> 24);
	buf[n++] = (uint8_t)(isn >> 16);
	buf[n++] = (uint8_t)(isn >> 8);
	buf[n++] = (uint8_t)isn;
	return tg_siphash24(key, buf, n) & EV_FLOW_ID_MASK;
}

const char *ev_tls_version(uint16_t v, char buf[static 8])
{
	switch (v) {
	case 0x0304:
		return "TLS 1.3";
	case 0x0303:
		return "TLS 1.2";
	case 0x0302:
		return "TLS 1.1";
	case 0x0301:
		return "TLS 1.0";
	case 0x0300:
		return "SSLv3";
	default:
		snprintf(buf, 8, "0x%04x", v);
		return buf;
	}
}

void ev_write_head(struct jw *w, uint64_t realtime_ms, const char *event_type)
{
	char ts[EV_TIME_LEN];

	ev_time(realtime_ms, ts);
	jw_obj_begin(w);
	jw_kv_str(w, "timestamp", ts);
	jw_kv_str(w, "event_type", event_type);
}

bool ev_write_name(struct jw *w, const char *key, struct tg_span s)
{
	if (s.len <= EV_NAME_MAX) {
		jw_kv_bytes(w, key, s.p, s.len);
		return false;
	}
	jw_kv_bytes(w, key, s.p, EV_NAME_MAX);
	return true;
}

static void ev_addr(struct jw *w, const char *key, uint8_t family, const uint8_t *a)
{
	char buf[64];

	tg_addr_format(family, a, buf, sizeof(buf));
	jw_kv_str(w, key, buf);
}

static bool ev_write_tls(struct jw *w, const struct ev_flow *fl)
{
	char vb[8];
	bool cut = false;
	size_t i;

	jw_key(w, "tls");
	jw_obj_begin(w);
	if (fl->sni.p != NULL)
		cut |= ev_write_name(w, "sni", fl->sni);
	if (fl->tls_version)
		jw_kv_str(w, "version", ev_tls_version(fl->tls_version, vb));
	if (fl->n_alpn) {
		jw_key(w, "alpn");
		jw_arr_begin(w);
		for (i = 0; i < fl->n_alpn; i++)
			jw_bytes(w, fl->alpn[i].p, fl->alpn[i].len);
		jw_arr_end(w);
	}
	if (fl->ja4.len)
		jw_kv_bytes(w, "ja4", fl->ja4.p, fl->ja4.len);
	if (fl->more != NULL)
		fl->more(fl->more_arg, w, "tls");
	jw_obj_end(w);
	return cut;
}

static bool ev_write_http(struct jw *w, const struct ev_flow *fl)
{
	bool cut = false;

	jw_key(w, "http");
	jw_obj_begin(w);
	if (fl->http_host.p != NULL)
		cut |= ev_write_name(w, "hostname", fl->http_host);
	if (fl->http_url.p != NULL)
		cut |= ev_write_name(w, "url", fl->http_url);
	if (fl->http_method.p != NULL)
		cut |= ev_write_name(w, "http_method", fl->http_method);
	if (fl->more != NULL)
		fl->more(fl->more_arg, w, "http");
	jw_obj_end(w);
	return cut;
}

static bool ev_write_dns(struct jw *w, const struct ev_flow *fl)
{
	const char *tn;
	bool cut = false;

	jw_key(w, "dns");
	jw_obj_begin(w);
	jw_kv_str(w, "type", fl->dns_answer ? "answer" : "query");
	if (fl->rrname.p != NULL)
		cut |= ev_write_name(w, "rrname", fl->rrname);
	if (fl->rrtype) {
		tn = tg_dns_type_name(fl->rrtype);
		jw_key(w, "rrtype");
		if (tn != NULL)
			jw_str(w, tn);
		else
			jw_uint(w, fl->rrtype);
	}
	if (fl->more != NULL)
		fl->more(fl->more_arg, w, "dns");
	jw_obj_end(w);
	return cut;
}

bool ev_write_flow(struct jw *w, const struct ev_flow *fl)
{
	char cid[EV_CID_LEN];
	bool cut = false;

	jw_kv_uint(w, "flow_id", fl->flow_id);
	ev_addr(w, "src_ip", fl->family, fl->src);
	jw_kv_uint(w, "src_port", fl->sport);
	ev_addr(w, "dest_ip", fl->family, fl->dst);
	jw_kv_uint(w, "dest_port", fl->dport);
	jw_kv_str(w, "proto", fl->ipproto == 17 ? "UDP" : "TCP");
	ev_community_id(fl->family, fl->ipproto, fl->src, fl->sport, fl->dst, fl->dport, cid);
	jw_kv_str(w, "community_id", cid);
	if (fl->app_proto != NULL)
		jw_kv_str(w, "app_proto", fl->app_proto);
	if (fl->app_proto != NULL && strcmp(fl->app_proto, "tls") == 0)
		cut |= ev_write_tls(w, fl);
	else if (fl->app_proto != NULL && strcmp(fl->app_proto, "http") == 0)
		cut |= ev_write_http(w, fl);
	else if (fl->app_proto != NULL && strcmp(fl->app_proto, "dns") == 0)
		cut |= ev_write_dns(w, fl);
	if (fl->dest_name.len)
		cut |= ev_write_name(w, "dest_name", fl->dest_name);
	if (fl->fail != NULL)
		jw_kv_str(w, "fail", fl->fail);
	if (cut)
		jw_kv_bool(w, "truncated", true);
	return cut;
}

static void ev_rule_path(struct jw *w, enum tg_rule_list list, int32_t idx)
{
	static const char *const lists[] = {
		[TG_RULES_FILTERING] = "filtering",
		[TG_RULES_DECRYPTION] = "decryption",
		[TG_RULES_CASB] = "casb",
		[TG_RULES_DLP] = "dlp",
	};
	char path[32];

	if (idx < 0 || (size_t)list >= sizeof(lists) / sizeof(lists[0]) || lists[list] == NULL)
		return;
	snprintf(path, sizeof(path), "%s[%d]", lists[list], idx);
	jw_kv_str(w, "rule_path", path);
}

void ev_write_ctx(struct jw *w, const struct ev_ctx *c)
{
	size_t i, n = 0;

	if (c->rule[0])
		jw_kv_str(w, "rule", c->rule);
	ev_rule_path(w, c->rule_list, c->rule_index);
	if (c->alert_rule[0])
		jw_kv_str(w, "alert_rule", c->alert_rule);
	if (c->user[0])
		jw_kv_str(w, "user", c->user);
	for (i = 0; c->policy != NULL && i < tg_policy_group_count(c->policy); i++) {
		if (!(c->groups[i / 64] >> (i % 64) & 1))
			continue;
		if (n++ == 0) {
			jw_key(w, "groups");
			jw_arr_begin(w);
		}
		jw_str(w, or_empty(tg_policy_group_name(c->policy, i)));
	}
	if (n > 0)
		jw_arr_end(w);
	if (c->app[0])
		jw_kv_str(w, "app", c->app);
	if (c->category[0])
		jw_kv_str(w, "category", c->category);
}

void ev_write_verdict(struct jw *w, const char *action, const char *reason)
{
	jw_kv_str(w, "action", action);
	jw_kv_str(w, "reason", reason);
}
