/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlsrv_cmds.c - the control commands bypass list|add|del|flush, flows, explain and log reopen; see ctlsrv.h. */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include "tlsgate/bypass.h"
#include "tlsgate/cidr.h"
#include "tlsgate/domain.h"

#include "control.h"
#include "ctl.h"
#include "ctlsrv.h"
#include "decide.h"
#include "engine.h"
#include "evlog.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "notify.h"
#include "proxy.h"
#include "pstore.h"
#include "queue.h"
#include "ctlsrv_impl.h"

/* ---- bypass ---- */

/* user= or client= into @p: 1 when one was given, 0 when neither, -1 on error (@out). */
static int principal_arg(int argc, char **argv, struct tg_principal *p, FILE *out)
{
	const char *user = ctlsrv_arg(argc, argv, "user"),
		   *client = ctlsrv_arg(argc, argv, "client");
	uint8_t fam, a[16];

	memset(p, 0, sizeof(*p));
	if (user != NULL && client != NULL) {
		ctlsrv_fail(out, "user= or client=, not both");
		return -1;
	}
	if (user != NULL) {
		if (tg_bypass_principal_user(p, (const uint8_t *)user, strlen(user)) != TG_OK) {
			ctlsrv_fail(out, "bad user \"%s\" (1..%d bytes)", user, TG_CAP_USER_NAME);
			return -1;
		}
		return 1;
	}
	if (client == NULL)
		return 0;
	if (tg_addr_parse(client, strlen(client), &fam, a) != TG_OK) {
		ctlsrv_fail(out, "bad client address \"%s\"", client);
		return -1;
	}
	if (fam == 4)
		tg_bypass_principal_addr4(p, a);
	else
		tg_bypass_principal_addr6(p, a);
	return 1;
}

/* Only @keys among the arguments, and user= or client= into @p: as principal_arg(). */
static int principal_only(int argc, char **argv, const char *const *keys, struct tg_principal *p,
			  FILE *out)
{
	if (ctlsrv_args_known(argc, argv, keys, out) == -1)
		return -1;
	return principal_arg(argc, argv, p, out);
}

struct bypass_list_ctx {
	struct jw *w;
	uint64_t now_ms;
	const struct tg_principal *only; /* NULL: everyone */
};

static bool bypass_entry_json(const struct tg_bypass_entry *e, void *arg)
{
	struct bypass_list_ctx *x = arg;
	char a[64];

	if (x->only != NULL &&
	    (e->principal.kind != x->only->kind || e->principal.len != x->only->len ||
	     memcmp(e->principal.id, x->only->id, e->principal.len) != 0))
		return true;
	jw_obj_begin(x->w);
	jw_kv_str(x->w, "state", e->state == TG_BYPASS_STATE_LIVE ? "live" : "ca-missing");
	if (e->principal.kind == TG_PRINCIPAL_USER) {
		jw_kv_bytes(x->w, "user", e->principal.id, e->principal.len);
	} else {
		tg_addr_format(e->principal.kind == TG_PRINCIPAL_ADDR4 ? 4 : 6, e->principal.id, a,
			       sizeof(a));
		jw_kv_str(x->w, "client", a);
	}
	if (e->sni_len)
		jw_kv_bytes(x->w, "sni", e->sni, e->sni_len);
	jw_kv_uint(x->w, "rejections", e->rejections);
	jw_kv_uint(x->w, "expires_in_s",
		   e->expires_ms > x->now_ms ? (e->expires_ms - x->now_ms) / 1000 : 0);
	jw_obj_end(x->w);
	return true;
}

int ctlsrv_bypass_list(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	static const char *const keys[] = { "user", "client", NULL };
	struct bypass_list_ctx x;
	struct tg_principal p;
	struct jw w;
	int who;

	who = principal_only(rq->argc, rq->argv, keys, &p, out);
	if (who == -1)
		return -1;
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "bypass");
	jw_arr_begin(&w);
	x.w = &w;
	x.now_ms = ctlsrv_mono_ms();
	x.only = who == 1 ? &p : NULL;
	tg_bypass_list(decider_bypass(s->cfg.d), TG_BYPASS_STATE_LIVE | TG_BYPASS_STATE_CA_MISSING,
		       x.now_ms, bypass_entry_json, &x);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_line_end(&w);
	return 0;
}

/* host= (normalized into @name) and a principal, both required. 0 or -1 (@out). */
static int bypass_target(int argc, char **argv, char name[static TG_CAP_NAME_LEN + 1],
			 struct tg_principal *p, FILE *out)
{
	const char *host = ctlsrv_arg(argc, argv, "host");
	size_t nlen;
	int who;

	memset(p, 0, sizeof(*p));
	if (host == NULL)
		return ctlsrv_fail(out, "host= is required");
	if (tg_domain_normalize((const uint8_t *)host, strlen(host), name, &nlen) != TG_OK)
		return ctlsrv_fail(out, "bad host name \"%s\"", host);
	who = principal_arg(argc, argv, p, out);
	if (who == 0)
		return ctlsrv_fail(out, "user= or client= is required");
	return who == 1 ? 0 : -1;
}

static void bypass_done(FILE *out, const char *what, const char *host, const struct tg_principal *p,
			uint64_t n)
{
	struct jw w;
	char a[64];

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_bool(&w, what, true);
	if (host != NULL)
		jw_kv_str(&w, "host", host);
	if (p != NULL && p->kind == TG_PRINCIPAL_USER) {
		jw_kv_bytes(&w, "user", p->id, p->len);
	} else if (p != NULL) {
		tg_addr_format(p->kind == TG_PRINCIPAL_ADDR4 ? 4 : 6, p->id, a, sizeof(a));
		jw_kv_str(&w, "client", a);
	}
	jw_kv_uint(&w, "entries", n);
	jw_obj_end(&w);
	jw_line_end(&w);
}

int ctlsrv_bypass_add(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	static const char *const keys[] = { "host", "user", "client", "ttl", NULL };
	char name[TG_CAP_NAME_LEN + 1], *end;
	const char *ttl = NULL;
	struct tg_principal p;
	unsigned long t = 0;

	if (ctlsrv_args_known(rq->argc, rq->argv, keys, out) == -1 ||
	    bypass_target(rq->argc, rq->argv, name, &p, out))
		return -1;
	ttl = ctlsrv_arg(rq->argc, rq->argv, "ttl");
	if (ttl != NULL) {
		errno = 0;
		t = strtoul(ttl, &end, 10);
		if (errno || end == ttl || *end != '\0' || t == 0 || t > CTLSRV_BYPASS_TTL_MAX)
			return ctlsrv_fail(out, "ttl= must be 1..%u seconds",
					   CTLSRV_BYPASS_TTL_MAX);
	}
	/* The main thread is the table's writer, and control commands run on it. */
	if (tg_bypass_add(decider_bypass_writer(s->cfg.d), &p, (const uint8_t *)name, strlen(name),
			  (uint32_t)t, ctlsrv_mono_ms()) != TG_OK)
		return ctlsrv_fail(out, "bypass entry refused");
	log_info("control: bypass added for %s", name);
	bypass_done(out, "added", name, &p, 1);
	return 0;
}

int ctlsrv_bypass_del(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	static const char *const keys[] = { "host", "user", "client", NULL };
	char name[TG_CAP_NAME_LEN + 1];
	struct tg_principal p;
	enum tg_err e;

	if (ctlsrv_args_known(rq->argc, rq->argv, keys, out) == -1 ||
	    bypass_target(rq->argc, rq->argv, name, &p, out))
		return -1;
	e = tg_bypass_remove(decider_bypass_writer(s->cfg.d), &p, (const uint8_t *)name,
			     strlen(name));
	if (e == TG_ERR_NOT_FOUND)
		return ctlsrv_fail(out, "no bypass entry for %s and that %s", name,
				   p.kind == TG_PRINCIPAL_USER ? "user" : "client");
	if (e != TG_OK)
		return ctlsrv_fail(out, "bypass del: %s", tg_strerror(e));
	log_info("control: bypass deleted for %s", name);
	bypass_done(out, "deleted", name, &p, 1);
	return 0;
}

int ctlsrv_bypass_flush(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	static const char *const keys[] = { "user", "client", NULL };
	struct tg_bypass *t = decider_bypass_writer(s->cfg.d);
	struct tg_bypass_stats st;
	struct tg_principal p;
	uint64_t n;
	int who;

	who = principal_only(rq->argc, rq->argv, keys, &p, out);
	if (who == -1)
		return -1;
	if (who == 1) {
		n = tg_bypass_flush_principal(t, &p);
	} else {
		tg_bypass_stats(t, &st);
		n = (uint64_t)st.live + st.candidates;
		tg_bypass_flush(t);
	}
	log_info("control: bypass table flushed (%llu entries)", (unsigned long long)n);
	bypass_done(out, "flushed", NULL, who == 1 ? &p : NULL, n);
	return 0;
}

/* ---- flows and explain ---- */

static bool flow_json(void *arg, const struct proxy_flow_info *f)
{
	struct jw *w = arg;
	char a[64], ep[80];

	jw_obj_begin(w);
	tg_addr_format(f->job->family, f->job->client, a, sizeof(a));
	snprintf(ep, sizeof(ep), f->job->family == 6 ? "[%s]:%u" : "%s:%u", a, f->job->client_port);
	jw_kv_str(w, "client", ep);
	tg_addr_format(f->job->family, f->job->server, a, sizeof(a));
	snprintf(ep, sizeof(ep), f->job->family == 6 ? "[%s]:%u" : "%s:%u", a, f->job->server_port);
	jw_kv_str(w, "server", ep);
	jw_key(w, "sni");
	if (f->job->sni_len > 0 && f->job->sni_len <= TG_CAP_NAME_LEN)
		jw_bytes(w, (const uint8_t *)f->job->sni, f->job->sni_len);
	else
		jw_null(w);
	if (f->user[0] != '\0')
		jw_kv_str(w, "user", f->user);
	if (f->rule_name[0] != '\0')
		jw_kv_str(w, "rule", f->rule_name);
	jw_kv_str(w, "state", f->state);
	jw_kv_uint(w, "age_s", f->age_ms / 1000);
	jw_kv_uint(w, "bytes_up", f->bytes_up);
	jw_kv_uint(w, "bytes_down", f->bytes_down);
	jw_obj_end(w);
	return true;
}

int ctlsrv_flows(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	struct jw w;

	(void)rq; /* takes nothing (ctlsrv_cmds) */
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_bool(&w, "proxy", s->cfg.proxy != NULL);
	jw_key(&w, "flows");
	jw_arr_begin(&w);
	if (s->cfg.proxy != NULL)
		proxy_flows(s->cfg.proxy, flow_json, &w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_line_end(&w);
	return 0;
}

struct explain_ctx {
	FILE *out;
	const struct tg_flow_facts *f;
	uint8_t key[16]; /* the flow_id key of this answer */
	bool ok;
};

static void explain_print(void *arg, const struct tg_policy *p, const struct tg_content *c,
			  const struct tg_decision *dec)
{
	struct explain_ctx *x = arg;
	struct ctl_decision cd;
	struct ev_flow fl;
	const char *type = NULL;

	if (dec == NULL)
		return;
	ev_flow_of_facts(&fl, x->key, x->f);
	ctl_decision_from(&cd, p, c, dec, &fl, &type);
	ctl_decision_line(x->out, &cd, &fl, type);
	x->ok = true;
}

/* The body: explain's command-line options, each ended by a NUL. */
int ctlsrv_explain(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	char *buf = NULL, *eargv[CTLSRV_EXPLAIN_ARGS + 2], *msg = NULL, *nl, name[] = "explain";
	struct explain_ctx x = { out, NULL, { 0 }, false };
	struct ctl_explain_args a;
	size_t i, mlen = 0;
	int n = 1, rc = -1;
	FILE *ef = NULL;

	if (rq->body == NULL || rq->len == 0 || rq->len > CONTROL_EXPLAIN_MAX ||
	    rq->body[rq->len - 1] != '\0')
		return ctlsrv_fail(out, "explain takes its options as the body (at most %d bytes)",
				   CONTROL_EXPLAIN_MAX);
	buf = malloc(rq->len);
	ef = open_memstream(&msg, &mlen);
	if (buf == NULL || ef == NULL) {
		rc = ctlsrv_fail(out, "out of memory");
		goto out;
	}
	memcpy(buf, rq->body, rq->len);
	eargv[0] = name;
	for (i = 0; i < rq->len; i += strlen(buf + i) + 1) {
		if (n > CTLSRV_EXPLAIN_ARGS) {
			rc = ctlsrv_fail(out, "explain: more than %d options", CTLSRV_EXPLAIN_ARGS);
			goto out;
		}
		eargv[n++] = buf + i;
	}
	eargv[n] = NULL;
	/* getopt's state is global: start afresh, and no message on the daemon's stderr. */
	optind = 0;
	opterr = 0;
	if (ctl_explain_parse(n, eargv, &a, ef) != 0 || a.help || a.policy != NULL) {
		fclose(ef);
		ef = NULL;
		nl = msg != NULL ? strchr(msg, '\n') : NULL;
		if (nl != NULL)
			*nl = '\0';
		rc = ctlsrv_fail(out, "explain: %s",
				 a.policy != NULL ? "--policy is for the offline explain"
				 : msg != NULL && msg[0] != '\0' ? msg
								 : "bad options");
		goto out;
	}
	x.f = &a.f;
	if (getrandom(x.key, sizeof(x.key), 0) != (ssize_t)sizeof(x.key)) {
		rc = ctlsrv_fail(out, "explain: no random bytes for the flow id");
		goto out;
	}
	decider_explain(s->cfg.d, &a.f, ctlsrv_mono_ms(), explain_print, &x);
	rc = x.ok ? 0 : ctlsrv_fail(out, "explain: the classifier refused these facts");
out:
	if (ef != NULL)
		fclose(ef);
	free(msg);
	free(buf);
	return rc;
}

int ctlsrv_log_reopen(struct ctlsrv *s, char *err, size_t errlen)
{
	int r = s->cfg.log != NULL ? evlog_reopen(s->cfg.log, err, errlen) : 1;

	if (r == 0)
		log_info("event log reopened");
	else if (r == 1)
		snprintf(err, errlen, "the event log is not a file (stdout or syslog)");
	else
		log_warnx("event log not reopened: %s", err);
	return r == 0 ? 0 : -1;
}

/* The event log's file opened again (after logrotate moved it); SIGUSR1 does the same. */
int ctlsrv_log_reopen_cmd(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	char err[256];
	struct jw w;

	(void)rq;
	if (ctlsrv_log_reopen(s, err, sizeof(err)) == -1)
		return ctlsrv_fail(out, "log reopen: %s", err);
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_bool(&w, "reopened", true);
	jw_obj_end(&w);
	jw_line_end(&w);
	return 0;
}
