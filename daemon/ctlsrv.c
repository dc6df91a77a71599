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
#include "ctlsrv_impl.h"

#ifndef TG_VERSION
#define TG_VERSION "unknown"
#endif

struct ctlsrv_cmd {
	const char *name; /* the command's words */
	unsigned takes; /* CMD_*; what it does not take is refused before it runs */
	int (*run)(struct ctlsrv *s, const struct ctlsrv_req *rq, FILE *out);
};

uint64_t ctlsrv_mono_ms(void)
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
int ctlsrv_fail(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ctlsrv_fail(FILE *out, const char *fmt, ...)
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
const char *ctlsrv_arg(int argc, char **argv, const char *key)
{
	size_t klen = strlen(key);
	int i;

	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], key, klen) == 0 && argv[i][klen] == '=')
			return argv[i] + klen + 1;
	return NULL;
}

/* Every word of @argv is key=value with a key in @keys (NULL-terminated): 0, or -1 (@out). */
int ctlsrv_args_known(int argc, char **argv, const char *const *keys, FILE *out)
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
			return ctlsrv_fail(out, "unexpected argument \"%s\"", argv[i]);
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
	s->cfg.quiesce(s->cfg.quiesce_arg, ctlsrv_mono_ms());
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
	jw_kv_uint(&w, "uptime_s", (ctlsrv_mono_ms() - s->start_ms) / 1000);
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
		return ctlsrv_fail(out, "reload failed, the running policy stays: %s", err);
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
	sn->uptime_s = (ctlsrv_mono_ms() - s->start_ms) / 1000;
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

	if (ctlsrv_args_known(rq->argc, rq->argv, keys, out) == -1)
		return -1;
	format = ctlsrv_arg(rq->argc, rq->argv, "format");
	if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "prometheus") != 0)
		return ctlsrv_fail(out, "unknown format \"%s\" (json or prometheus)", format);
	sn = calloc(1, sizeof(*sn));
	if (sn == NULL)
		return ctlsrv_fail(out, "out of memory");
	ctlsrv_snapshot(s, sn);
	if (format == NULL || strcmp(format, "json") == 0) {
		stats_json(sn, out);
		free(sn);
		return 0;
	}
	tf = open_memstream(&text, &tlen);
	if (tf == NULL) {
		free(sn);
		return ctlsrv_fail(out, "out of memory");
	}
	metrics_render(sn, tf);
	free(sn);
	if (fclose(tf) != 0) {
		free(text);
		return ctlsrv_fail(out, "out of memory");
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
		return ctlsrv_fail(out, "policy push takes the policy as the request's body");
	snprintf(before, sizeof(before), "%s", pstore_sha256(s->cfg.ps));
	if (policy_apply(s, rq->body, rq->len, "pushed policy", pstore_pushed_path(s->cfg.ps), true,
			 true, "push", err, sizeof(err)) == -1)
		return ctlsrv_fail(out, "policy not taken, nothing changed: %s", err);
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
		return ctlsrv_fail(out, "%s", err);
	snprintf(before, sizeof(before), "%s", pstore_sha256(s->cfg.ps));
	rc = policy_apply(s, prev, plen, "previous policy", pstore_pushed_path(s->cfg.ps), true,
			  true, "rollback", err, sizeof(err));
	free(prev);
	if (rc == -1)
		return ctlsrv_fail(out, "rollback refused, nothing changed: %s", err);
	return policy_answer(s, "rolled_back", before, out);
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
	{ "bypass", CMD_ARGS, ctlsrv_bypass_list },
	{ "bypass list", CMD_ARGS, ctlsrv_bypass_list },
	{ "bypass add", CMD_ARGS, ctlsrv_bypass_add },
	{ "bypass del", CMD_ARGS, ctlsrv_bypass_del },
	{ "bypass flush", CMD_ARGS, ctlsrv_bypass_flush },
	{ "flows", 0, ctlsrv_flows },
	{ "explain", CMD_BODY, ctlsrv_explain },
	{ "log reopen", 0, ctlsrv_log_reopen_cmd },
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
		return ctlsrv_fail(out, "unknown command \"%s\"", argv[0]);
	if (body != NULL && !(best->takes & CMD_BODY))
		return ctlsrv_fail(out, "%s takes no body", best->name);
	if (argc > words && !(best->takes & CMD_ARGS))
		return ctlsrv_fail(out, "%s takes no argument", best->name);
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
	s->start_ms = ctlsrv_mono_ms();
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
