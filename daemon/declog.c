/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * declog.c - the decision log: one JSON line per decision, written whole with one write() so
 * queue threads never interleave (log.c). Names are cut at ENG_LOG_FIELD_MAX bytes (then
 * "truncated": true follows); every other field is bounded, so a line always fits and is
 * never dropped.
 */
#include <stdio.h>
#include <time.h>

#include "tlsgate/cidr.h"

#include "engine_impl.h"
#include "jsonw.h"
#include "log.h"

/*
 * A name in the log, cut at ENG_LOG_FIELD_MAX bytes (then "truncated": true follows): every
 * other field is bounded, so a line always fits ENG_LOG_LINE_MAX and is never dropped.
 */
static void log_name(struct engine *e, struct jw *w, const char *key, const uint8_t *name,
		     size_t len)
{
	if (len <= ENG_LOG_FIELD_MAX) {
		jw_kv_bytes(w, key, name, len);
		return;
	}
	jw_kv_bytes(w, key, name, ENG_LOG_FIELD_MAX);
	jw_kv_bool(w, "truncated", true);
	CTR_INC(e, log_truncated);
}

/*
 * The line up to the decision's action: an open JSON object in e->logbuf (its length, 0 when
 * there is no log or no room). A decrypt decision's line is finished by proxy.c once the proxy
 * knows the outcome.
 */
size_t declog_begin(struct engine *e, const struct adopt_facts *f, const char *proto,
		    const char *name_key, const uint8_t *name, size_t name_len,
		    const struct dec_result *r)
{
	FILE *m;
	struct jw w;
	char a[64];
	struct timespec ts;
	long n;

	if (e->cfg.log == NULL)
		return 0;
	m = fmemopen(e->logbuf, sizeof(e->logbuf), "w");
	if (m == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	jw_init(&w, m);
	jw_obj_begin(&w);
	snprintf(a, sizeof(a), "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	jw_key(&w, "time");
	jw_raw(&w, a);
	jw_kv_str(&w, "proto", proto);
	tg_addr_format(f->family, f->client, a, sizeof(a));
	jw_kv_str(&w, "src", a);
	jw_kv_uint(&w, "sport", f->client_port);
	tg_addr_format(f->family, f->server, a, sizeof(a));
	jw_kv_str(&w, "dst", a);
	jw_kv_uint(&w, "dport", f->server_port);
	if (r->user[0])
		jw_kv_str(&w, "user", r->user);
	/* The name the decision was made on: sni, host, qname, or dns_name (learned). */
	if (name != NULL)
		log_name(e, &w, name_key, name, name_len);
	if (r->app[0])
		jw_kv_str(&w, "app", r->app);
	if (r->category[0])
		jw_kv_str(&w, "category", r->category);
	n = ftell(m);
	fclose(m);
	/* Room left for the action, the reason, the rule and the proxy's outcome. */
	if (n <= 0 || (size_t)n + ENG_LOG_TAIL_MAX > sizeof(e->logbuf))
		return 0;
	return (size_t)n;
}

void declog_decision(struct engine *e, const struct adopt_facts *f, const char *proto,
		     const char *name_key, const uint8_t *name, size_t name_len,
		     const struct dec_result *r)
{
	size_t n = declog_begin(e, f, proto, name_key, name, name_len, r);
	FILE *m;
	struct jw w;
	long end;

	if (n == 0)
		return;
	m = fmemopen(e->logbuf + n, sizeof(e->logbuf) - n, "w");
	if (m == NULL)
		return;
	jw_init(&w, m);
	jw_obj_continue(&w);
	jw_kv_str(&w, "action", dec_action_name(r->action));
	jw_kv_str(&w, "reason", r->reason);
	if (r->rule >= 0) {
		jw_kv_uint(&w, "rule", (uint64_t)r->rule);
		if (r->rule_name[0])
			jw_kv_str(&w, "rule_name", r->rule_name);
	}
	jw_obj_end(&w);
	jw_line_end(&w);
	end = ftell(m);
	fclose(m);
	if (end > 0 && n + (size_t)end < sizeof(e->logbuf))
		log_line(e->cfg.log, e->logbuf, n + (size_t)end);
}
