/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy.c - tlsgated's side of the decrypting proxy; see proxy.h.
 *
 * Flows handed over live in a fixed table of PROXY_MAX_CONNS entries (id = generation << 32 |
 * slot, so a late report for a reused slot is recognised and dropped) from the hand-over to the
 * worker's CLOSED report. The table, the per-client counts and the worker slots are under one
 * mutex; queue threads hold it only to admit and send a job, the main thread to settle reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tlsgate/bypass.h"
#include "tlsgate/pindetect.h"
#include "tlsgate/siphash.h"

#include "ca_proc.h"
#include "caps.h"
#include "decide.h"
#include "event.h"
#include "evlog.h"
#include "jsonw.h"
#include "log.h"
#include "proxy.h"
#include "proxy_spawn.h"
#include "tlsx.h"
#include "proxy_worker.h"

#define CLIENT_SLOTS (2 * PROXY_MAX_CONNS) /* a power of two, at most half full */

struct entry {
	uint64_t id; /* 0: free */
	unsigned worker;
	bool outcome_done;
	struct proxy_job job;
	const char *reason;
	char user[TG_CAP_POLICY_NAME + 1];
	char name[TG_CAP_NAME_LEN + 1];
	char rule_name[TG_CAP_POLICY_NAME + 1]; /* for `tlsgatectl flows` */
	bool ech_outer, bypass_allowed, alert_rule;
	uint64_t decided_ms;
	char *frag; /* the line's members up to its action; NULL: none */
	size_t frag_len;
	uint32_t next_free;
	uint8_t outcome; /* enum proxy_outcome, once outcome_done */
	uint64_t handed_ms; /* for `tlsgatectl flows` */
	uint64_t bytes_up, bytes_down; /* as the worker last reported them */
};

struct cslot {
	uint8_t family; /* 0: free */
	uint8_t addr[16];
	unsigned count;
};

struct wslot {
	bool running;
	int sock; /* tlsgated's end of the job socket; -1 when not running */
	int ca_end; /* the worker's end of its CA socket, kept for a restart */
	unsigned active;
	uint64_t cache_entries, cache_bytes; /* its last PROXY_REP_WORKER */
	uint64_t died_ms, started_ms;
	uint32_t backoff_ms; /* before the next start; doubles while the worker dies young */
};

struct proxy {
	pthread_mutex_t lock;
	struct entry *e; /* PROXY_MAX_CONNS */
	uint32_t free_head; /* UINT32_MAX: none */
	uint32_t gen;
	struct cslot *cs; /* CLIENT_SLOTS */
	uint8_t key[16];
	struct wslot w[PROXY_MAX_WORKERS];
	unsigned nworkers;
	pid_t ca_pid, spawner_pid;
	int spawner; /* tlsgated's end of the spawner's socket */
	int epfd;
	int keylog_fd;
	int trust_fd; /* the --trust bundle, opened before privileges drop */
	int self_fd; /* tlsgated's executable, opened as root: the proxy user may not reach its path */
	char self[4096];
	char trust[4096];
	uid_t uid;
	gid_t gid;
	struct proxy_stats st;
};

static const char *const outcome_names[PROXY_OUTCOME__COUNT] = {
	[PROXY_INTERCEPTED] = "intercepted",
	[PROXY_CLIENT_REJECTED] = "client-rejected",
	[PROXY_CLIENT_ABORTED] = "client-aborted",
	[PROXY_UPSTREAM_FAILED] = "upstream-failed",
	[PROXY_UNSUPPORTED] = "unsupported",
	[PROXY_MINT_FAILED] = "mint-failed",
	[PROXY_INTERNAL] = "internal",
};
static const char *const up_err_names[PROXY_UP__COUNT] = {
	[PROXY_UP_NONE] = "none",	    [PROXY_UP_CONNECT] = "connect",
	[PROXY_UP_HANDSHAKE] = "handshake", [PROXY_UP_UNTRUSTED] = "untrusted",
	[PROXY_UP_EXPIRED] = "expired",	    [PROXY_UP_NAME_MISMATCH] = "name-mismatch",
	[PROXY_UP_NO_SNI] = "no-sni",
};
static const char *const unsup_names[PROXY_UNSUP__COUNT] = {
	[PROXY_UNSUP_NONE] = "none",
	[PROXY_UNSUP_NO_TLS12] = "no-tls12",
	[PROXY_UNSUP_CLIENT_CERT] = "client-cert",
	[PROXY_UNSUP_PROTOCOL_VERSION] = "protocol-version",
	[PROXY_UNSUP_HANDSHAKE] = "handshake-failure",
	[PROXY_UNSUP_CLIENT] = "client",
};

const char *proxy_outcome_name(enum proxy_outcome o)
{
	return (unsigned)o < PROXY_OUTCOME__COUNT && outcome_names[o] ? outcome_names[o]
								      : "unknown";
}

const char *proxy_up_err_name(enum proxy_up_err e)
{
	return (unsigned)e < PROXY_UP__COUNT ? up_err_names[e] : "unknown";
}

const char *proxy_unsup_name(enum proxy_unsup u)
{
	return (unsigned)u < PROXY_UNSUP__COUNT ? unsup_names[u] : "unknown";
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- per-client counts: open addressing, backward-shift deletion; lock held ---- */

static size_t cs_home(const struct proxy *p, uint8_t family, const uint8_t *addr)
{
	uint8_t k[17];

	k[0] = family;
	memset(k + 1, 0, 16);
	memcpy(k + 1, addr, family == 4 ? 4 : 16);
	return (size_t)tg_siphash24(p->key, k, sizeof(k)) & (CLIENT_SLOTS - 1);
}

static struct cslot *cs_find(struct proxy *p, uint8_t family, const uint8_t *addr, bool add)
{
	uint8_t a[16] = { 0 };
	size_t i;

	memcpy(a, addr, family == 4 ? 4 : 16);
	for (i = cs_home(p, family, a);; i = (i + 1) & (CLIENT_SLOTS - 1)) {
		struct cslot *s = &p->cs[i];

		if (s->family == 0) {
			if (!add)
				return NULL;
			s->family = family;
			memcpy(s->addr, a, 16);
			s->count = 0;
			return s;
		}
		if (s->family == family && memcmp(s->addr, a, 16) == 0)
			return s;
	}
}

static void cs_release(struct proxy *p, uint8_t family, const uint8_t *addr)
{
	struct cslot *s = cs_find(p, family, addr, false);
	size_t i, j, h;

	if (s == NULL || --s->count > 0)
		return;
	i = (size_t)(s - p->cs);
	s->family = 0;
	for (j = (i + 1) & (CLIENT_SLOTS - 1); p->cs[j].family; j = (j + 1) & (CLIENT_SLOTS - 1)) {
		h = cs_home(p, p->cs[j].family, p->cs[j].addr);
		/* Move j back to i when its home is not cyclically within (i, j]. */
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			p->cs[i] = p->cs[j];
			p->cs[j].family = 0;
			i = j;
		}
	}
}

/* ---- workers ---- */

/* Ask the spawner for worker @i; its job socket is registered for reports at once. */
static int worker_spawn(struct proxy *p, unsigned i)
{
	struct wslot *w = &p->w[i];
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (spawner_request(p->spawner, i, sv[1]) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, sv[0], &ev) == -1) {
		close(sv[0]); /* the worker reads EOF and exits */
		return -1;
	}
	pthread_mutex_lock(&p->lock);
	w->running = true;
	w->sock = sv[0];
	w->active = 0;
	w->started_ms = mono_ms();
	pthread_mutex_unlock(&p->lock);
	return 0;
}

struct proxy *proxy_new(const struct proxy_cfg *cfg, char *err, size_t errlen)
{
	struct proxy *p = calloc(1, sizeof(*p));
	struct spawn_cfg sc;
	int ca_ends[PROXY_MAX_WORKERS];
	struct passwd *pw;
	ssize_t n;
	unsigned i;

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->keylog_fd = -1;
	p->trust_fd = -1;
	p->self_fd = -1;
	p->epfd = -1;
	p->ca_pid = 0;
	p->spawner = -1;
	for (i = 0; i < PROXY_MAX_WORKERS; i++) {
		p->w[i].sock = -1;
		p->w[i].ca_end = -1;
	}
	p->nworkers = cfg->workers < 1 ? 1 : cfg->workers;
	if (p->nworkers > PROXY_MAX_WORKERS)
		p->nworkers = PROXY_MAX_WORKERS;
	p->e = calloc(PROXY_MAX_CONNS, sizeof(*p->e));
	p->cs = calloc(CLIENT_SLOTS, sizeof(*p->cs));
	if (p->e == NULL || p->cs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < PROXY_MAX_CONNS; i++)
		p->e[i].next_free = i + 1 < PROXY_MAX_CONNS ? i + 1 : UINT32_MAX;
	p->free_head = 0;
	if (getrandom(p->key, sizeof(p->key), 0) != (ssize_t)sizeof(p->key)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	n = readlink("/proc/self/exe", p->self, sizeof(p->self) - 1);
	if (n <= 0) {
		snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
		goto fail;
	}
	p->self[n] = '\0';
	p->self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (p->self_fd == -1) {
		snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
		goto fail;
	}
	snprintf(p->trust, sizeof(p->trust), "%s", cfg->trust);
	/* Opened here, as root: the proxy user gets the descriptor, not the path. */
	p->trust_fd = open(cfg->trust, O_RDONLY | O_CLOEXEC);
	if (p->trust_fd == -1) {
		snprintf(err, errlen, "trust store %s: %s", cfg->trust, strerror(errno));
		goto fail;
	}
	if (tlsx_trust_check(p->trust_fd, cfg->trust, err, errlen) != 0)
		goto fail;
	pw = getpwnam(cfg->user);
	if (pw == NULL) {
		snprintf(err, errlen, "user %s: no such user", cfg->user);
		goto fail;
	}
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	if (cfg->keylog != NULL) {
		p->keylog_fd = open(cfg->keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (p->keylog_fd == -1) {
			snprintf(err, errlen, "keylog %s: %s", cfg->keylog, strerror(errno));
			goto fail;
		}
	}
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd == -1) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	if (ca_proc_spawn(p->self, cfg->ca_dir, p->nworkers, ca_ends, &p->ca_pid, cfg->user, err,
			  errlen) != 0)
		goto fail;
	for (i = 0; i < p->nworkers; i++)
		p->w[i].ca_end = ca_ends[i];
	sc.self = p->self;
	sc.trust = p->trust;
	sc.self_fd = p->self_fd;
	sc.trust_fd = p->trust_fd;
	sc.keylog_fd = p->keylog_fd;
	sc.uid = p->uid;
	sc.gid = p->gid;
	sc.ca_ends = ca_ends;
	sc.nworkers = p->nworkers;
	if (spawner_start(&sc, &p->spawner, &p->spawner_pid) == -1) {
		snprintf(err, errlen, "proxy spawner: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < p->nworkers; i++)
		if (worker_spawn(p, i) == -1) {
			snprintf(err, errlen, "proxy worker: %s", strerror(errno));
			goto fail;
		}
	return p;
fail:
	proxy_free(p);
	return NULL;
}

/*
 * Wait up to PROXY_EXIT_WAIT_MS for @pid. The children run as another user: without CAP_KILL
 * tlsgated cannot signal them, so they are told to go by their sockets closing.
 */
static void child_wait(pid_t pid)
{
	unsigned i;

	for (i = 0; i < PROXY_EXIT_WAIT_MS / 10; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		usleep(10000);
	}
	log_warnx("proxy child %d did not exit", (int)pid);
}

void proxy_free(struct proxy *p)
{
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i < PROXY_MAX_WORKERS; i++) {
		if (p->w[i].sock >= 0)
			close(p->w[i].sock);
		if (p->w[i].ca_end >= 0)
			close(p->w[i].ca_end);
	}
	/* The workers read EOF and exit; the spawner, its socket closed, too; then the CA. */
	if (p->spawner >= 0)
		close(p->spawner);
	if (p->spawner_pid > 0)
		child_wait(p->spawner_pid);
	if (p->ca_pid > 0)
		child_wait(p->ca_pid);
	if (p->e != NULL)
		for (i = 0; i < PROXY_MAX_CONNS; i++)
			free(p->e[i].frag);
	free(p->e);
	free(p->cs);
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->keylog_fd >= 0)
		close(p->keylog_fd);
	if (p->trust_fd >= 0)
		close(p->trust_fd);
	if (p->self_fd >= 0)
		close(p->self_fd);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Lock held. */
static bool room_locked(struct proxy *p, uint8_t family, const uint8_t *client)
{
	struct cslot *s;

	if (p->free_head == UINT32_MAX) {
		p->st.refused_cap++;
		return false;
	}
	s = cs_find(p, family, client, false);
	if (s != NULL && s->count >= PROXY_MAX_PER_CLIENT) {
		p->st.refused_client++;
		return false;
	}
	return true;
}

bool proxy_has_room(struct proxy *p, uint8_t family, const uint8_t *client)
{
	bool ok;
	unsigned i;

	pthread_mutex_lock(&p->lock);
	ok = room_locked(p, family, client);
	if (ok) {
		ok = false;
		for (i = 0; i < p->nworkers; i++)
			ok |= p->w[i].sock >= 0;
		if (!ok)
			p->st.refused_worker++;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

static void reset_fd(int fd)
{
	struct linger l = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* Lock held: free entry @idx and give its places back. */
static void entry_free(struct proxy *p, uint32_t idx)
{
	struct entry *e = &p->e[idx];

	cs_release(p, e->job.family, e->job.client);
	if (p->w[e->worker].active)
		p->w[e->worker].active--;
	free(e->frag);
	e->frag = NULL;
	e->id = 0;
	e->next_free = p->free_head;
	p->free_head = idx;
	p->st.active--;
}

bool proxy_handoff(struct proxy *p, int fd, struct proxy_job *job, const struct proxy_flow *fl)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { job, sizeof(*job) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct entry *e;
	struct cslot *cs;
	char *frag = fl->frag != NULL ? malloc(fl->frag_len + 1) : NULL;
	uint32_t idx;
	unsigned i, best = PROXY_MAX_WORKERS;

	pthread_mutex_lock(&p->lock);
	if ((fl->frag != NULL && frag == NULL) || !room_locked(p, job->family, job->client))
		goto refuse;
	/*
	 * A client's connections go to one worker: its session tickets and session cache are the
	 * worker's own, so a client resumes only there. Another worker only while it is down.
	 */
	i = (unsigned)(cs_home(p, job->family, job->client) % p->nworkers);
	if (p->w[i].sock >= 0)
		best = i;
	for (i = 0; best == PROXY_MAX_WORKERS && i < p->nworkers; i++)
		if (p->w[i].sock >= 0)
			best = i;
	if (best == PROXY_MAX_WORKERS) {
		p->st.refused_worker++;
		goto refuse;
	}
	idx = p->free_head;
	e = &p->e[idx];
	p->gen++;
	job->id = (uint64_t)(p->gen ? p->gen : ++p->gen) << 32 | idx;
	if (!proxy_msg_put_fd(&mh, fd) ||
	    sendmsg(p->w[best].sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(*job)) {
		p->st.refused_worker++;
		goto refuse;
	}
	p->free_head = e->next_free;
	memset(e, 0, sizeof(*e));
	e->id = job->id;
	e->worker = best;
	e->job = *job;
	e->reason = fl->reason;
	snprintf(e->user, sizeof(e->user), "%s", fl->user ? fl->user : "");
	snprintf(e->name, sizeof(e->name), "%s", fl->name ? fl->name : "");
	snprintf(e->rule_name, sizeof(e->rule_name), "%s", fl->rule_name ? fl->rule_name : "");
	e->ech_outer = fl->ech_outer;
	e->bypass_allowed = fl->bypass_allowed;
	e->handed_ms = mono_ms();
	e->alert_rule = fl->alert_rule;
	e->decided_ms = fl->decided_ms;
	if (frag != NULL) {
		memcpy(frag, fl->frag, fl->frag_len);
		frag[fl->frag_len] = '\0';
	}
	e->frag = frag;
	e->frag_len = fl->frag_len;
	cs = cs_find(p, job->family, job->client, true);
	cs->count++;
	p->w[best].active++;
	p->st.handed++;
	p->st.active++;
	pthread_mutex_unlock(&p->lock);
	close(fd);
	return true;
refuse:
	pthread_mutex_unlock(&p->lock);
	free(frag);
	reset_fd(fd);
	return false;
}

int proxy_pollfd(const struct proxy *p)
{
	return p->epfd;
}

/*
 * One line of a handed-over flow: its head (@type at @ms), the members made at the decision,
 * then what @more writes. Over the client's budget (evlog.h), or without a log, nothing.
 */
static void log_line_of(struct entry *e, struct evlog *log, const char *type, uint64_t ms,
			bool security, uint64_t now_ms, void (*more)(struct jw *w, const void *arg),
			const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	struct jw w;
	FILE *m;

	if (log == NULL || !evlog_admit(log, e->job.family, e->job.client,
					security ? EVLOG_SECURITY : EVLOG_DECISION, 0, now_ms))
		return;
	m = e->frag != NULL ? open_memstream(&buf, &len) : NULL;
	if (m == NULL) {
		evlog_lost(log);
		return;
	}
	jw_init(&w, m);
	ev_write_head(&w, ms, type);
	fputc(',', m);
	fwrite(e->frag, 1, e->frag_len, m);
	jw_obj_continue(&w);
	more(&w, arg);
	jw_obj_end(&w);
	jw_line_end(&w);
	if (fclose(m) != 0 || buf == NULL)
		evlog_lost(log);
	else
		evlog_put(log, buf, len);
	free(buf);
}

struct outcome_args {
	const struct proxy_report *r;
	const char *action, *reason, *bypass;
};

/* The decision's action and reason, then the proxy's outcome (README "The event log"). */
static void outcome_members(struct jw *w, const void *arg)
{
	const struct outcome_args *o = arg;
	const struct proxy_report *r = o->r;

	ev_write_verdict(w, o->action, o->reason);
	jw_key(w, "proxy");
	jw_obj_begin(w);
	jw_kv_str(w, "outcome", proxy_outcome_name((enum proxy_outcome)r->outcome));
	if (r->up_err)
		jw_kv_str(w, "upstream_error", proxy_up_err_name((enum proxy_up_err)r->up_err));
	if (r->unsup)
		jw_kv_str(w, "excluded", proxy_unsup_name((enum proxy_unsup)r->unsup));
	if (r->pin_why)
		jw_kv_str(w, "pin", tg_pindetect_why_name((enum tg_pin_why)r->pin_why));
	if (r->alert)
		jw_kv_str(w, "alert", tg_pindetect_alert_name(r->alert));
	if (o->bypass != NULL)
		jw_kv_str(w, "bypass", o->bypass);
	if (r->replayed)
		jw_kv_bool(w, "replayed", true);
	if (r->resumed)
		jw_kv_bool(w, "resumed", true);
	if (r->up_resumed)
		jw_kv_bool(w, "upstream_resumed", true);
	jw_obj_end(w);
}

/* The flow's decision line, with what the proxy made of it. */
static void log_outcome(struct entry *e, const struct proxy_report *r, const char *action,
			const char *reason, const char *bypass, struct evlog *log, uint64_t now_ms)
{
	struct outcome_args o = { r, action, reason, bypass };
	bool block = strcmp(action, "block") == 0;

	log_line_of(e, log, block || e->alert_rule ? "alert" : "tls", e->decided_ms,
		    block || e->alert_rule, now_ms, outcome_members, &o);
}

struct bypass_args {
	const struct entry *e;
	enum tg_bypass_result br;
};

/* A "bypass" event: the entry a rejection on this flow made (README "The event log"). */
static void bypass_members(struct jw *w, const void *arg)
{
	const struct bypass_args *b = arg;

	jw_key(w, "bypass");
	jw_obj_begin(w);
	jw_kv_str(w, "state", b->br == TG_BYPASS_LIVE ? "live" : "ca-missing");
	jw_kv_str(w, "principal", b->e->user[0] ? "user" : "client");
	if (b->br == TG_BYPASS_LIVE)
		jw_kv_str(w, "host", b->e->name);
	jw_obj_end(w);
}

static enum tg_upstream_reason excl_reason(enum proxy_unsup u)
{
	switch (u) {
	case PROXY_UNSUP_NO_TLS12:
		return TG_UPSTREAM_NO_TLS12;
	case PROXY_UNSUP_CLIENT_CERT:
		return TG_UPSTREAM_CLIENT_CERT;
	case PROXY_UNSUP_PROTOCOL_VERSION:
		return TG_UPSTREAM_PROTOCOL_VERSION;
	default:
		return TG_UPSTREAM_OTHER;
	}
}

static void on_outcome(struct proxy *p, struct decider *d, struct entry *e,
		       const struct proxy_report *r, struct evlog *log, uint64_t now_ms)
{
	const char *action = "decrypt", *reason = e->reason, *bypass = NULL;
	enum tg_bypass_result br = TG_BYPASS_INVALID;

	e->outcome_done = true;
	e->outcome = r->outcome;
	if ((unsigned)r->outcome < PROXY_OUTCOME__COUNT)
		p->st.outcomes[r->outcome]++;
	switch ((enum proxy_outcome)r->outcome) {
	case PROXY_CLIENT_REJECTED:
		br = decider_pin_reject(d, e->user, e->job.family, e->job.client, e->name,
					e->ech_outer, e->bypass_allowed, now_ms);
		bypass = tg_bypass_result_name(br);
		if (br == TG_BYPASS_LIVE)
			p->st.bypass_learned++;
		break;
	case PROXY_UPSTREAM_FAILED:
		action = e->job.fail_untrusted == PROXY_CLASS_PASS ? "pass" : "block";
		reason = "upstream-untrusted";
		break;
	case PROXY_UNSUPPORTED:
		action = "pass";
		reason = "upstream-unsupported";
		if (r->unsup != PROXY_UNSUP_CLIENT) {
			decider_upstream_exclude(d, e->job.sni, e->job.family, e->job.server,
						 e->job.server_port,
						 excl_reason((enum proxy_unsup)r->unsup), now_ms);
			p->st.excluded++;
		}
		break;
	case PROXY_MINT_FAILED:
		action = e->job.fail_mint == PROXY_CLASS_PASS ? "pass" : "block";
		reason = "cert-mint-failure";
		break;
	case PROXY_INTERNAL:
		action = "block";
		reason = "proxy-internal";
		break;
	default:
		break;
	}
	log_outcome(e, r, action, reason, bypass, log, now_ms);
	if (br == TG_BYPASS_LIVE || br == TG_BYPASS_CA_MISSING_ENTERED) {
		struct bypass_args b = { e, br };

		log_line_of(e, log, "bypass", ev_now_ms(), true, now_ms, bypass_members, &b);
	}
}

/*
 * Lock held. Worker @i is gone (its job socket closed): its flows are settled here, logged
 * when no outcome was, and it is started again by proxy_tick().
 */
static void worker_lost(struct proxy *p, unsigned i, struct evlog *log, uint64_t now_ms)
{
	struct proxy_report r;
	unsigned j;

	{
		struct wslot *w = &p->w[i];
		uint64_t now = mono_ms();

		if (now - w->started_ms < PROXY_YOUNG_MS)
			w->backoff_ms = w->backoff_ms < PROXY_RESTART_MS ? PROXY_RESTART_MS
					: w->backoff_ms >= PROXY_RESTART_MAX_MS / 2
						? PROXY_RESTART_MAX_MS
						: w->backoff_ms * 2;
		else
			w->backoff_ms = PROXY_RESTART_MS;
		log_warnx("proxy worker %u exited%s: its connections are lost; starting it again "
			  "in %u ms",
			  i, now - w->started_ms < PROXY_YOUNG_MS ? " soon after its start" : "",
			  w->backoff_ms);
	}
	memset(&r, 0, sizeof(r));
	r.outcome = PROXY_INTERNAL;
	(void)epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->w[i].sock, NULL);
	close(p->w[i].sock);
	p->w[i].sock = -1;
	p->w[i].running = false;
	p->w[i].died_ms = mono_ms();
	for (j = 0; j < PROXY_MAX_CONNS; j++) {
		struct entry *e = &p->e[j];

		if (e->id == 0 || e->worker != i)
			continue;
		if (!e->outcome_done) {
			r.id = e->id;
			log_outcome(e, &r, "block", "proxy-worker-failed", NULL, log, now_ms);
		}
		p->st.worker_lost_conns++;
		entry_free(p, j);
	}
}

void proxy_dispatch(struct proxy *p, struct decider *d, struct evlog *log, uint64_t now_ms)
{
	struct epoll_event evs[PROXY_MAX_WORKERS];
	int n, k;

	n = epoll_wait(p->epfd, evs, PROXY_MAX_WORKERS, 0);
	for (k = 0; k < n; k++) {
		unsigned wi = evs[k].data.u32;
		struct proxy_report r;

		for (;;) {
			struct entry *e;
			uint32_t idx;

			ssize_t got;

			pthread_mutex_lock(&p->lock);
			if (p->w[wi].sock < 0) {
				pthread_mutex_unlock(&p->lock);
				break;
			}
			got = recv(p->w[wi].sock, &r, sizeof(r), MSG_DONTWAIT);
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				worker_lost(p, wi, log, now_ms);
				pthread_mutex_unlock(&p->lock);
				break;
			}
			if (got != (ssize_t)sizeof(r)) {
				pthread_mutex_unlock(&p->lock);
				break;
			}
			if (r.type == PROXY_REP_WORKER) {
				p->w[wi].cache_entries = r.cache_entries;
				p->w[wi].cache_bytes = r.cache_bytes;
				pthread_mutex_unlock(&p->lock);
				continue;
			}
			idx = (uint32_t)(r.id & 0xffffffffu);
			e = idx < PROXY_MAX_CONNS ? &p->e[idx] : NULL;
			/*
			 * A report for a flow settled already (its worker restarted) is dropped,
			 * and so is one about another worker's flow: a worker parses what the
			 * network sends, and a subverted one must not speak for other flows.
			 */
			if (e != NULL && e->id == r.id && e->worker == wi) {
				if (r.type == PROXY_REP_OUTCOME && !e->outcome_done) {
					on_outcome(p, d, e, &r, log, now_ms);
				} else if (r.type == PROXY_REP_PROGRESS) {
					e->bytes_up = r.bytes_up;
					e->bytes_down = r.bytes_down;
				} else if (r.type == PROXY_REP_CLOSED) {
					p->st.bytes_up += r.bytes_up;
					p->st.bytes_down += r.bytes_down;
					entry_free(p, idx);
				}
			}
			pthread_mutex_unlock(&p->lock);
		}
	}
}

bool proxy_child_exited(struct proxy *p, pid_t pid, int status)
{
	if (pid == p->ca_pid) {
		log_warnx("CA process exited (status %d): forged certificates fail until tlsgated "
			  "restarts (settings.fail.cert_mint_failure)",
			  status);
		p->ca_pid = 0;
		return true;
	}
	if (pid == p->spawner_pid) {
		log_warnx("proxy spawner exited (status %d): workers that die are not started "
			  "again until tlsgated restarts",
			  status);
		p->spawner_pid = 0;
		return true;
	}
	return false;
}

void proxy_tick(struct proxy *p, uint64_t now_ms)
{
	unsigned i;

	for (i = 0; i < p->nworkers; i++)
		if (!p->w[i].running && p->spawner_pid > 0 &&
		    now_ms - p->w[i].died_ms >= p->w[i].backoff_ms) {
			if (worker_spawn(p, i) == -1) {
				log_warn("proxy worker %u: restart", i);
				p->w[i].died_ms = now_ms;
				continue;
			}
			p->st.worker_restarts++;
		}
}

void proxy_stats_get(struct proxy *p, struct proxy_stats *out)
{
	unsigned i;

	pthread_mutex_lock(&p->lock);
	*out = p->st;
	out->workers_alive = 0;
	for (i = 0; i < p->nworkers; i++) {
		out->workers_alive += p->w[i].sock >= 0;
		if (p->w[i].sock < 0)
			continue;
		out->cache_entries += p->w[i].cache_entries;
		out->cache_bytes += p->w[i].cache_bytes;
	}
	pthread_mutex_unlock(&p->lock);
}

void proxy_flows(struct proxy *p, bool (*cb)(void *arg, const struct proxy_flow_info *f), void *arg)
{
	uint64_t now = mono_ms();
	uint32_t i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < PROXY_MAX_CONNS; i++) {
		const struct entry *e = &p->e[i];
		struct proxy_flow_info fi;

		if (e->id == 0)
			continue;
		fi.job = &e->job;
		fi.age_ms = now >= e->handed_ms ? now - e->handed_ms : 0;
		fi.bytes_up = e->bytes_up;
		fi.bytes_down = e->bytes_down;
		fi.state = e->outcome_done ? proxy_outcome_name((enum proxy_outcome)e->outcome)
					   : "handshake";
		fi.user = e->user;
		fi.rule_name = e->rule_name;
		if (!cb(arg, &fi))
			break;
	}
	pthread_mutex_unlock(&p->lock);
}
