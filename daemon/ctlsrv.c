/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctlsrv.c - the control socket's commands; see ctlsrv.h. Commands are dispatched from one
 * static table by their leading words; arguments are key=value words (host=, user=, client=,
 * ttl=, format=); explain's options travel as the request body, NUL-separated, and are parsed
 * by tlsgatectl's own explain parser (ctl_policy.c) so both sides read them alike.
 */
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

#ifndef TG_VERSION
#define TG_VERSION "unknown"
#endif

#define CTLSRV_ERR_MAX	      512 /* an error text kept for status */
#define CTLSRV_EXPLAIN_ARGS   64 /* explain options, each word counted */
#define CTLSRV_BYPASS_TTL_MAX (365u * 86400) /* bypass add ttl=, at most a year */

struct ctlsrv {
	struct ctlsrv_cfg cfg;
	const struct control *ctl;
	const struct metrics_http *m;
	uint64_t start_ms; /* monotonic */
	time_t start_wall;
	/* The last time the policy was loaded, and how it went. */
	time_t last_time;
	bool last_ok;
	char last_trigger[16];
	char last_err[CTLSRV_ERR_MAX];
	uint64_t reloads_ok, reloads_failed;
};

/* A request as a command sees it: the words after the command's own, the body if any. */
struct ctlsrv_req {
	int argc;
	char **argv;
	const uint8_t *body; /* NULL: none */
	size_t len;
};

#define CMD_ARGS 1u /* takes key=value words */
#define CMD_BODY 2u /* takes a body */

struct ctlsrv_cmd {
	const char *name; /* the command's words */
	unsigned takes; /* CMD_*; what it does not take is refused before it runs */
	int (*run)(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void kv_time(struct jw *w, const char *key, time_t t)
{
	char buf[32];
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		jw_key(w, key);
		jw_null(w);
		return;
	}
	jw_kv_str(w, key, buf);
}

/* {"error": MSG}; returns -1 (the request was refused). */
static int fail(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(FILE *out, const char *fmt, ...)
{
	char msg[CTLSRV_ERR_MAX + 128];
	struct jw w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_str(&w, "error", msg);
	jw_obj_end(&w);
	jw_line_end(&w);
	return -1;
}

/* The value of key=value among @argv, NULL if absent. */
static const char *arg(int argc, char **argv, const char *key)
{
	size_t klen = strlen(key);
	int i;

	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], key, klen) == 0 && argv[i][klen] == '=')
			return argv[i] + klen + 1;
	return NULL;
}

/* Every word of @argv is key=value with a key in @keys (NULL-terminated): 0, or -1 (@out). */
static int args_known(int argc, char **argv, const char *const *keys, FILE *out)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *const *k;
		const char *eq = strchr(argv[i], '=');

		for (k = keys; eq != NULL && *k != NULL; k++)
			if (strlen(*k) == (size_t)(eq - argv[i]) &&
			    strncmp(argv[i], *k, strlen(*k)) == 0)
				break;
		if (eq == NULL || *k == NULL)
			return fail(out, "unexpected argument \"%s\"", argv[i]);
	}
	return 0;
}

/* ---- reloads ---- */

/*
 * The one reload path: compile @len bytes (@name in errors) next to the running policy,
 * persist them in the state directory when @persist, swap, and free the old one once the
 * queue threads moved on. Nothing changes unless everything before the swap worked.
 */
static int policy_apply(struct ctlsrv *s, const uint8_t *buf, size_t len, const char *name,
			const char *path, bool pushed, bool persist, const char *trigger, char *err,
			size_t errlen)
{
	struct bundle *nb;
	int rc = -1;

	notify_send("RELOADING=1");
	nb = decider_prepare(s->cfg.d, buf, len, name, s->cfg.content, err, errlen);
	if (nb == NULL)
		goto out;
	if (persist && pstore_persist(s->cfg.ps, buf, len, err, errlen) == -1) {
		decider_discard(nb);
		goto out;
	}
	if (pstore_set_current(s->cfg.ps, buf, len, path, pushed) == -1) {
		snprintf(err, errlen, "out of memory");
		decider_discard(nb);
		goto out;
	}
	decider_commit(s->cfg.d, nb);
	s->cfg.quiesce(s->cfg.quiesce_arg, mono_ms());
	rc = 0;
out:
	s->last_time = time(NULL);
	s->last_ok = rc == 0;
	snprintf(s->last_trigger, sizeof(s->last_trigger), "%s", trigger);
	snprintf(s->last_err, sizeof(s->last_err), "%s", rc == 0 ? "" : err);
	if (rc == 0) {
		s->reloads_ok++;
		log_info("policy reloaded from %s (%s, sha256 %s)", path, trigger,
			 pstore_sha256(s->cfg.ps));
	} else {
		s->reloads_failed++;
		log_warnx("reload failed (%s), keeping the running policy: %s", trigger, err);
	}
	notify_send("READY=1");
	return rc;
}

int ctlsrv_reload(struct ctlsrv *s, const char *trigger, char *err, size_t errlen)
{
	const char *path;
	uint8_t *buf = NULL;
	size_t len;
	bool pushed;
	int rc;

	if (pstore_source(s->cfg.ps, &buf, &len, &path, &pushed, err, errlen) == -1) {
		s->last_time = time(NULL);
		s->last_ok = false;
		snprintf(s->last_trigger, sizeof(s->last_trigger), "%s", trigger);
		snprintf(s->last_err, sizeof(s->last_err), "%s", err);
		s->reloads_failed++;
		log_warnx("reload failed (%s), keeping the running policy: %s", trigger, err);
		return -1;
	}
	rc = policy_apply(s, buf, len, path, path, pushed, false, trigger, err, errlen);
	free(buf);
	return rc;
}

/* ---- the commands ---- */

static void policy_json(struct ctlsrv *s, struct jw *w)
{
	size_t len;

	(void)pstore_current(s->cfg.ps, &len);
	jw_key(w, "policy");
	jw_obj_begin(w);
	jw_kv_str(w, "path", pstore_path(s->cfg.ps));
	jw_kv_bool(w, "pushed", pstore_pushed(s->cfg.ps));
	jw_kv_str(w, "sha256", pstore_sha256(s->cfg.ps));
	jw_kv_uint(w, "bytes", len);
	jw_obj_end(w);
}

static void server_json(struct jw *w, const char *key, const struct connset_stats *c)
{
	jw_key(w, key);
	jw_obj_begin(w);
	jw_kv_uint(w, "clients", c->clients);
	jw_kv_uint(w, "accepted", c->accepted);
	jw_kv_uint(w, "served", c->served);
	jw_kv_uint(w, "refused_peer", c->refused_peer);
	jw_kv_uint(w, "refused_clients", c->refused_clients);
	jw_kv_uint(w, "refused_request", c->refused_request);
	jw_kv_uint(w, "too_large", c->too_large);
	jw_kv_uint(w, "timeouts", c->timeouts);
	jw_kv_uint(w, "aborted", c->aborted);
	jw_obj_end(w);
}

static int cmd_status(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	struct connset_stats cs;
	struct jw w;
	unsigned i;

	(void)rq; /* takes nothing (ctlsrv_cmds) */
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_str(&w, "version", TG_VERSION);
	jw_kv_uint(&w, "pid", (uint64_t)getpid());
	jw_kv_uint(&w, "uptime_s", (mono_ms() - s->start_ms) / 1000);
	kv_time(&w, "started", s->start_wall);
	policy_json(s, &w);
	jw_kv_str(&w, "content", s->cfg.content);
	jw_key(&w, "last_reload");
	jw_obj_begin(&w);
	jw_kv_str(&w, "trigger", s->last_trigger);
	kv_time(&w, "time", s->last_time);
	jw_kv_bool(&w, "ok", s->last_ok);
	jw_key(&w, "error");
	if (s->last_ok)
		jw_null(&w);
	else
		jw_str(&w, s->last_err);
	jw_obj_end(&w);
	jw_kv_uint(&w, "reloads_ok", s->reloads_ok);
	jw_kv_uint(&w, "reloads_failed", s->reloads_failed);
	jw_key(&w, "queues");
	jw_arr_begin(&w);
	for (i = 0; i < s->cfg.nq; i++)
		jw_uint(&w, s->cfg.queue_nums[i]);
	jw_arr_end(&w);
	jw_kv_bool(&w, "proxy", s->cfg.proxy != NULL);
	if (s->ctl != NULL) {
		control_stats_get(s->ctl, &cs);
		server_json(&w, "control", &cs);
	}
	if (s->m != NULL) {
		metrics_http_stats_get(s->m, &cs);
		server_json(&w, "metrics_listener", &cs);
	}
	jw_obj_end(&w);
	jw_line_end(&w);
	return 0;
}

static int cmd_reload(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	char err[CTLSRV_ERR_MAX];
	struct jw w;

	(void)rq; /* takes nothing (ctlsrv_cmds) */
	if (ctlsrv_reload(s, "reload", err, sizeof(err)) == -1)
		return fail(out, "reload failed, the running policy stays: %s", err);
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_bool(&w, "reloaded", true);
	policy_json(s, &w);
	jw_obj_end(&w);
	jw_line_end(&w);
	return 0;
}

void ctlsrv_snapshot(void *arg, struct metrics_snap *sn)
{
	struct ctlsrv *s = arg;
	unsigned i;

	memset(sn, 0, sizeof(*sn));
	sn->start_time_s = (uint64_t)s->start_wall;
	sn->uptime_s = (mono_ms() - s->start_ms) / 1000;
	sn->nq = s->cfg.nq;
	for (i = 0; i < s->cfg.nq; i++) {
		struct metrics_queue *q = &sn->q[i];

		q->num = s->cfg.queue_nums[i];
		engine_counters_add(s->cfg.engines[i], &sn->eng);
		queue_stats_get(s->cfg.queues[i], &q->q);
		/* The kernel's counters are read here only: a file read per request. */
		q->kernel_ok = queue_kernel_stats((uint16_t)q->num, &q->k) == 0;
	}
	sn->fail_open = decider_queue_fail_open(s->cfg.d);
	decider_count_get(s->cfg.d, &sn->dec);
	sn->proxy_on = s->cfg.proxy != NULL;
	if (s->cfg.proxy != NULL)
		proxy_stats_get(s->cfg.proxy, &sn->px);
	tg_bypass_stats(decider_bypass(s->cfg.d), &sn->bypass);
	sn->control_on = s->ctl != NULL;
	if (s->ctl != NULL)
		control_stats_get(s->ctl, &sn->control);
	sn->metrics_on = s->m != NULL;
	if (s->m != NULL)
		metrics_http_stats_get(s->m, &sn->metrics);
	if (s->cfg.log != NULL)
		evlog_stats(s->cfg.log, &sn->log);
	sn->reloads_ok = s->reloads_ok;
	sn->reloads_failed = s->reloads_failed;
	sn->last_reload_s = (uint64_t)s->last_time;
	sn->last_reload_ok = s->last_ok;
}

/* `stats` as JSON: the layout tlsgatectl stats has always printed, and the new families. */
static void stats_json(const struct metrics_snap *sn, FILE *out)
{
	struct queue_stats qs;
	struct queue_kstats ks;
	struct jw w;
	unsigned i, a, r;

	memset(&qs, 0, sizeof(qs));
	memset(&ks, 0, sizeof(ks));
	for (i = 0; i < sn->nq; i++) {
		qs.received += sn->q[i].q.received;
		qs.verdicts += sn->q[i].q.verdicts;
		qs.verdict_errors += sn->q[i].q.verdict_errors;
		qs.recv_errors += sn->q[i].q.recv_errors;
		qs.enobufs += sn->q[i].q.enobufs;
		qs.config_errors += sn->q[i].q.config_errors;
		ks.queue_dropped += sn->q[i].k.queue_dropped;
		ks.user_dropped += sn->q[i].k.user_dropped;
	}
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_uint(&w, "queues", sn->nq);
	jw_key(&w, "engine");
	jw_obj_begin(&w);
#define ENG_CTR_JSON(n) jw_kv_uint(&w, #n, sn->eng.n);
	ENG_COUNTERS(ENG_CTR_JSON)
#undef ENG_CTR_JSON
	jw_obj_end(&w);
	jw_key(&w, "queue");
	jw_obj_begin(&w);
	jw_kv_uint(&w, "received", qs.received);
	jw_kv_uint(&w, "verdicts", qs.verdicts);
	jw_kv_uint(&w, "verdict_errors", qs.verdict_errors);
	jw_kv_uint(&w, "recv_errors", qs.recv_errors);
	jw_kv_uint(&w, "enobufs", qs.enobufs);
	jw_kv_uint(&w, "config_errors", qs.config_errors);
	jw_kv_uint(&w, "kernel_queue_dropped", ks.queue_dropped);
	jw_kv_uint(&w, "kernel_user_dropped", ks.user_dropped);
	jw_obj_end(&w);
	jw_key(&w, "proxy");
	jw_obj_begin(&w);
	jw_kv_bool(&w, "enabled", sn->proxy_on);
	jw_kv_uint(&w, "workers_alive", sn->px.workers_alive);
	jw_kv_uint(&w, "handed", sn->px.handed);
	jw_kv_uint(&w, "active", sn->px.active);
	jw_kv_uint(&w, "refused_cap", sn->px.refused_cap);
	jw_kv_uint(&w, "refused_client", sn->px.refused_client);
	jw_kv_uint(&w, "refused_worker", sn->px.refused_worker);
	for (i = 1; i < PROXY_OUTCOME__COUNT; i++)
		jw_kv_uint(&w, proxy_outcome_name((enum proxy_outcome)i), sn->px.outcomes[i]);
	jw_kv_uint(&w, "bypass_learned", sn->px.bypass_learned);
	jw_kv_uint(&w, "excluded", sn->px.excluded);
	jw_kv_uint(&w, "worker_restarts", sn->px.worker_restarts);
	jw_kv_uint(&w, "worker_lost_conns", sn->px.worker_lost_conns);
	jw_kv_uint(&w, "bytes_up", sn->px.bytes_up);
	jw_kv_uint(&w, "bytes_down", sn->px.bytes_down);
	jw_kv_uint(&w, "cache_entries", sn->px.cache_entries);
	jw_kv_uint(&w, "cache_bytes", sn->px.cache_bytes);
	jw_obj_end(&w);
	jw_key(&w, "decisions");
	jw_obj_begin(&w);
	for (a = 0; a < DEC_ACTIONS; a++) {
		jw_key(&w, dec_action_name((enum dec_action)a));
		jw_obj_begin(&w);
		for (r = 0; r < TG_REASON__COUNT; r++)
			if (sn->dec.decisions[a][r])
				jw_kv_uint(&w, tg_reason_text((enum tg_reason)r),
					   sn->dec.decisions[a][r]);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_key(&w, "bypass_table");
	jw_obj_begin(&w);
	jw_kv_uint(&w, "live", sn->bypass.live);
	jw_kv_uint(&w, "candidates", sn->bypass.candidates);
	jw_kv_uint(&w, "principals", sn->bypass.principals);
	jw_obj_end(&w);
	jw_key(&w, "log");
	jw_obj_begin(&w);
#define EVLOG_CTR_JSON(n) jw_kv_uint(&w, #n, sn->log.n);
	EVLOG_COUNTERS(EVLOG_CTR_JSON)
#undef EVLOG_CTR_JSON
	jw_obj_end(&w);
	jw_kv_uint(&w, "reloads_ok", sn->reloads_ok);
	jw_kv_uint(&w, "reloads_failed", sn->reloads_failed);
	jw_obj_end(&w);
	jw_line_end(&w);
}

static int cmd_stats(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	static const char *const keys[] = { "format", NULL };
	const char *format;
	struct metrics_snap *sn;
	char *text = NULL;
	size_t tlen = 0;
	FILE *tf;
	struct jw w;

	if (args_known(rq->argc, rq->argv, keys, out) == -1)
		return -1;
	format = arg(rq->argc, rq->argv, "format");
	if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "prometheus") != 0)
		return fail(out, "unknown format \"%s\" (json or prometheus)", format);
	sn = calloc(1, sizeof(*sn));
	if (sn == NULL)
		return fail(out, "out of memory");
	ctlsrv_snapshot(s, sn);
	if (format == NULL || strcmp(format, "json") == 0) {
		stats_json(sn, out);
		free(sn);
		return 0;
	}
	tf = open_memstream(&text, &tlen);
	if (tf == NULL) {
		free(sn);
		return fail(out, "out of memory");
	}
	metrics_render(sn, tf);
	free(sn);
	if (fclose(tf) != 0) {
		free(text);
		return fail(out, "out of memory");
	}
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_str(&w, "format", "prometheus");
	jw_kv_bytes(&w, "text", (const uint8_t *)text, tlen);
	jw_obj_end(&w);
	jw_line_end(&w);
	free(text);
	return 0;
}

static int cmd_policy_show(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	const uint8_t *p;
	size_t plen;
	struct jw w;

	(void)rq; /* takes nothing (ctlsrv_cmds) */
	p = pstore_current(s->cfg.ps, &plen);
	jw_init(&w, out);
	jw_obj_begin(&w);
	policy_json(s, &w);
	jw_kv_bytes(&w, "text", p, plen);
	jw_obj_end(&w);
	jw_line_end(&w);
	return 0;
}

static int policy_answer(struct ctlsrv *s, const char *what, const char *before, FILE *out)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_bool(&w, what, true);
	jw_kv_str(&w, "previous_sha256", before);
	policy_json(s, &w);
	jw_obj_end(&w);
	jw_line_end(&w);
	return 0;
}

static int cmd_policy_push(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	char err[CTLSRV_ERR_MAX], before[65];

	if (rq->body == NULL)
		return fail(out, "policy push takes the policy as the request's body");
	snprintf(before, sizeof(before), "%s", pstore_sha256(s->cfg.ps));
	if (policy_apply(s, rq->body, rq->len, "pushed policy", pstore_pushed_path(s->cfg.ps), true,
			 true, "push", err, sizeof(err)) == -1)
		return fail(out, "policy not taken, nothing changed: %s", err);
	return policy_answer(s, "pushed", before, out);
}

static int cmd_policy_rollback(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	char err[CTLSRV_ERR_MAX], before[65];
	uint8_t *prev = NULL;
	size_t plen;
	int rc;

	(void)rq; /* takes nothing (ctlsrv_cmds) */
	if (pstore_previous(s->cfg.ps, &prev, &plen, err, sizeof(err)) == -1)
		return fail(out, "%s", err);
	snprintf(before, sizeof(before), "%s", pstore_sha256(s->cfg.ps));
	rc = policy_apply(s, prev, plen, "previous policy", pstore_pushed_path(s->cfg.ps), true,
			  true, "rollback", err, sizeof(err));
	free(prev);
	if (rc == -1)
		return fail(out, "rollback refused, nothing changed: %s", err);
	return policy_answer(s, "rolled_back", before, out);
}

/* ---- bypass ---- */

/* user= or client= into @p: 1 when one was given, 0 when neither, -1 on error (@out). */
static int principal_arg(int argc, char **argv, struct tg_principal *p, FILE *out)
{
	const char *user = arg(argc, argv, "user"), *client = arg(argc, argv, "client");
	uint8_t fam, a[16];

	memset(p, 0, sizeof(*p));
	if (user != NULL && client != NULL) {
		fail(out, "user= or client=, not both");
		return -1;
	}
	if (user != NULL) {
		if (tg_bypass_principal_user(p, (const uint8_t *)user, strlen(user)) != TG_OK) {
			fail(out, "bad user \"%s\" (1..%d bytes)", user, TG_CAP_USER_NAME);
			return -1;
		}
		return 1;
	}
	if (client == NULL)
		return 0;
	if (tg_addr_parse(client, strlen(client), &fam, a) != TG_OK) {
		fail(out, "bad client address \"%s\"", client);
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
	if (args_known(argc, argv, keys, out) == -1)
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

static int cmd_bypass_list(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
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
	x.now_ms = mono_ms();
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
	const char *host = arg(argc, argv, "host");
	size_t nlen;
	int who;

	memset(p, 0, sizeof(*p));
	if (host == NULL)
		return fail(out, "host= is required");
	if (tg_domain_normalize((const uint8_t *)host, strlen(host), name, &nlen) != TG_OK)
		return fail(out, "bad host name \"%s\"", host);
	who = principal_arg(argc, argv, p, out);
	if (who == 0)
		return fail(out, "user= or client= is required");
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

static int cmd_bypass_add(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	static const char *const keys[] = { "host", "user", "client", "ttl", NULL };
	char name[TG_CAP_NAME_LEN + 1], *end;
	const char *ttl = NULL;
	struct tg_principal p;
	unsigned long t = 0;

	if (args_known(rq->argc, rq->argv, keys, out) == -1 ||
	    bypass_target(rq->argc, rq->argv, name, &p, out))
		return -1;
	ttl = arg(rq->argc, rq->argv, "ttl");
	if (ttl != NULL) {
		errno = 0;
		t = strtoul(ttl, &end, 10);
		if (errno || end == ttl || *end != '\0' || t == 0 || t > CTLSRV_BYPASS_TTL_MAX)
			return fail(out, "ttl= must be 1..%u seconds", CTLSRV_BYPASS_TTL_MAX);
	}
	/* The main thread is the table's writer, and control commands run on it. */
	if (tg_bypass_add(decider_bypass_writer(s->cfg.d), &p, (const uint8_t *)name, strlen(name),
			  (uint32_t)t, mono_ms()) != TG_OK)
		return fail(out, "bypass entry refused");
	log_info("control: bypass added for %s", name);
	bypass_done(out, "added", name, &p, 1);
	return 0;
}

static int cmd_bypass_del(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	static const char *const keys[] = { "host", "user", "client", NULL };
	char name[TG_CAP_NAME_LEN + 1];
	struct tg_principal p;
	enum tg_err e;

	if (args_known(rq->argc, rq->argv, keys, out) == -1 ||
	    bypass_target(rq->argc, rq->argv, name, &p, out))
		return -1;
	e = tg_bypass_remove(decider_bypass_writer(s->cfg.d), &p, (const uint8_t *)name,
			     strlen(name));
	if (e == TG_ERR_NOT_FOUND)
		return fail(out, "no bypass entry for %s and that %s", name,
			    p.kind == TG_PRINCIPAL_USER ? "user" : "client");
	if (e != TG_OK)
		return fail(out, "bypass del: %s", tg_strerror(e));
	log_info("control: bypass deleted for %s", name);
	bypass_done(out, "deleted", name, &p, 1);
	return 0;
}

static int cmd_bypass_flush(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
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

static int cmd_flows(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
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
static int cmd_explain(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	char *buf = NULL, *eargv[CTLSRV_EXPLAIN_ARGS + 2], *msg = NULL, *nl, name[] = "explain";
	struct explain_ctx x = { out, NULL, { 0 }, false };
	struct ctl_explain_args a;
	size_t i, mlen = 0;
	int n = 1, rc = -1;
	FILE *ef = NULL;

	if (rq->body == NULL || rq->len == 0 || rq->len > CONTROL_EXPLAIN_MAX ||
	    rq->body[rq->len - 1] != '\0')
		return fail(out, "explain takes its options as the body (at most %d bytes)",
			    CONTROL_EXPLAIN_MAX);
	buf = malloc(rq->len);
	ef = open_memstream(&msg, &mlen);
	if (buf == NULL || ef == NULL) {
		rc = fail(out, "out of memory");
		goto out;
	}
	memcpy(buf, rq->body, rq->len);
	eargv[0] = name;
	for (i = 0; i < rq->len; i += strlen(buf + i) + 1) {
		if (n > CTLSRV_EXPLAIN_ARGS) {
			rc = fail(out, "explain: more than %d options", CTLSRV_EXPLAIN_ARGS);
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
		rc = fail(out, "explain: %s",
			  a.policy != NULL		  ? "--policy is for the offline explain"
			  : msg != NULL && msg[0] != '\0' ? msg
							  : "bad options");
		goto out;
	}
	x.f = &a.f;
	if (getrandom(x.key, sizeof(x.key), 0) != (ssize_t)sizeof(x.key)) {
		rc = fail(out, "explain: no random bytes for the flow id");
		goto out;
	}
	decider_explain(s->cfg.d, &a.f, mono_ms(), explain_print, &x);
	rc = x.ok ? 0 : fail(out, "explain: the classifier refused these facts");
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
static int cmd_log_reopen(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out)
{
	char err[256];
	struct jw w;

	(void)rq;
	if (ctlsrv_log_reopen(s, err, sizeof(err)) == -1)
		return fail(out, "log reopen: %s", err);
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_bool(&w, "reopened", true);
	jw_obj_end(&w);
	jw_line_end(&w);
	return 0;
}

/*
 * The commands, by their words. The longest name that starts the request wins ("bypass add"
 * over "bypass"). "bypass" alone lists, as it always has.
 */
static const struct ctlsrv_cmd ctlsrv_cmds[] = {
	{ "status", 0, cmd_status },
	{ "reload", 0, cmd_reload },
	{ "stats", CMD_ARGS, cmd_stats },
	{ "policy show", 0, cmd_policy_show },
	{ "policy push", CMD_BODY, cmd_policy_push },
	{ "policy rollback", 0, cmd_policy_rollback },
	{ "bypass", CMD_ARGS, cmd_bypass_list },
	{ "bypass list", CMD_ARGS, cmd_bypass_list },
	{ "bypass add", CMD_ARGS, cmd_bypass_add },
	{ "bypass del", CMD_ARGS, cmd_bypass_del },
	{ "bypass flush", CMD_ARGS, cmd_bypass_flush },
	{ "flows", 0, cmd_flows },
	{ "explain", CMD_BODY, cmd_explain },
	{ "log reopen", 0, cmd_log_reopen },
};

/* How many of @argv's first words are @name's words; 0 if @name does not start @argv. */
static int cmd_match(const char *name, int argc, char **argv)
{
	int n = 0;

	while (*name != '\0') {
		const char *sp = strchr(name, ' ');
		size_t wl = sp != NULL ? (size_t)(sp - name) : strlen(name);

		if (n >= argc || strlen(argv[n]) != wl || strncmp(argv[n], name, wl) != 0)
			return 0;
		n++;
		name += wl + (sp != NULL);
	}
	return n;
}

int ctlsrv_handle(void *arg, int argc, char **argv, const uint8_t *body, size_t body_len, FILE *out)
{
	struct ctlsrv *s = arg;
	const struct ctlsrv_cmd *best = NULL;
	struct ctlsrv_req rq;
	int words = 0;
	size_t i;

	for (i = 0; i < sizeof(ctlsrv_cmds) / sizeof(ctlsrv_cmds[0]); i++) {
		int m = cmd_match(ctlsrv_cmds[i].name, argc, argv);

		if (m > words) {
			words = m;
			best = &ctlsrv_cmds[i];
		}
	}
	if (best == NULL)
		return fail(out, "unknown command \"%s\"", argv[0]);
	if (body != NULL && !(best->takes & CMD_BODY))
		return fail(out, "%s takes no body", best->name);
	if (argc > words && !(best->takes & CMD_ARGS))
		return fail(out, "%s takes no argument", best->name);
	rq.argc = argc - words;
	rq.argv = argv + words;
	rq.body = body;
	rq.len = body_len;
	return best->run(s, &rq, out);
}

struct ctlsrv *ctlsrv_new(const struct ctlsrv_cfg *cfg)
{
	struct ctlsrv *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	s->start_ms = mono_ms();
	s->start_wall = time(NULL);
	s->last_time = s->start_wall;
	s->last_ok = true;
	snprintf(s->last_trigger, sizeof(s->last_trigger), "start");
	return s;
}

void ctlsrv_free(struct ctlsrv *s)
{
	free(s);
}

void ctlsrv_metrics_write(void *arg, FILE *out)
{
	struct metrics_snap *sn = calloc(1, sizeof(*sn));

	if (sn == NULL)
		return;
	ctlsrv_snapshot(arg, sn);
	metrics_render(sn, out);
	free(sn);
}

void ctlsrv_set_servers(struct ctlsrv *s, const struct control *c, const struct metrics_http *m)
{
	s->ctl = c;
	s->m = m;
}
