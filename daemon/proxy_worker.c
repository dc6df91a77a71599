/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_worker.c - a proxy worker process: tlsgated exec'd with --proxy-worker, unprivileged
 * (another user, no capabilities, no_new_privs), one event loop over the intercepted
 * connections tlsgated hands it (proxy_msg.h). It never sees the CA key: forged leaves come
 * from the CA process (leafcache.h). This file is the process: the loop, jobs in, reports
 * out, timeouts and a connection's end; a connection's steps are proxy_conn.c's, the relay
 * proxy_relay.c's. Any end sends CLOSED. An error resets the client (SO_LINGER 0): it sees a
 * failure, not a hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "caps.h"
#include "log.h"
#include "proxy_spawn.h"
#include "proxy_worker.h"
#include "proxy_worker_impl.h"

static volatile sig_atomic_t stop;

uint64_t proxy_worker_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void send_report(struct worker *w, const struct proxy_report *r)
{
	/* Blocking on purpose: a report must not be lost; tlsgated reads them in its loop. */
	while (send(w->sock, r, sizeof(*r), MSG_NOSIGNAL) == -1 && errno == EINTR)
		;
}

void proxy_worker_outcome(struct worker *w, struct conn *c, enum proxy_outcome o)
{
	if (c->outcome_sent)
		return;
	c->outcome_sent = true;
	c->rep.id = c->job.id;
	c->rep.type = PROXY_REP_OUTCOME;
	c->rep.outcome = (uint8_t)o;
	send_report(w, &c->rep);
}

void proxy_worker_ep_set(struct worker *w, int fd, struct ep *e, uint32_t *have, uint32_t want)
{
	struct epoll_event ev = { .events = want, .data.ptr = e };

	if (fd < 0 || *have == want)
		return;
	if (*have == 0 && want != 0)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
	else if (want == 0)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
	else
		(void)epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev);
	*have = want;
}

void proxy_worker_reset_close(int fd)
{
	struct linger l = { 1, 0 };

	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* The end of a connection: OUTCOME if none went yet (@o), CLOSED, resources back. */
void proxy_worker_conn_end(struct worker *w, struct conn *c, enum proxy_outcome o, bool reset)
{
	if (!c->outcome_sent) {
		struct tg_pin_event ev = { .type = TG_PIN_EV_CLOSE };

		(void)tg_pindetect_event(&c->pd, &ev, proxy_worker_now_ms());
		proxy_worker_outcome(w, c, o);
	}
	c->rep.type = PROXY_REP_CLOSED;
	send_report(w, &c->rep);
	proxy_worker_ep_set(w, c->cfd, &c->ec, &c->cev, 0);
	proxy_worker_ep_set(w, c->ufd, &c->eu, &c->uev, 0);
	tlsx_ssl_free(c->cl);
	tlsx_ssl_free(c->up);
	if (c->leaf != NULL)
		leaf_put(c->leaf);
	if (reset) {
		proxy_worker_reset_close(c->cfd);
		proxy_worker_reset_close(c->ufd);
	} else {
		if (c->cfd >= 0)
			close(c->cfd);
		if (c->ufd >= 0)
			close(c->ufd);
	}
	free(c->c2u.buf);
	free(c->u2c.buf);
	free(c->ch);
	/* @c stays reachable until the batch is done: nothing in it may point at what went. */
	c->cl = c->up = NULL;
	c->leaf = NULL;
	c->cfd = c->ufd = -1;
	c->c2u.buf = c->u2c.buf = c->ch = NULL;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->n--;
	/* Events of this batch may still name it: freed once the batch is done. */
	c->st = C_DONE;
	c->next = w->dead;
	w->dead = c;
}

/* The pinning detector's view of the client leg; its final verdict is the OUTCOME. */
void proxy_worker_pin_feed(struct worker *w, struct conn *c, const struct tg_pin_event *ev)
{
	struct tg_pin_verdict v = tg_pindetect_event(&c->pd, ev, proxy_worker_now_ms());

	if (c->outcome_sent || v.result == TG_PIN_UNDECIDED)
		return;
	c->rep.pin_why = (uint8_t)v.why;
	c->rep.alert = v.alert;
	switch (v.result) {
	case TG_PIN_REJECTION:
		proxy_worker_outcome(w, c, PROXY_CLIENT_REJECTED);
		break;
	case TG_PIN_CLIENT_ABORT:
		proxy_worker_outcome(w, c, PROXY_CLIENT_ABORTED);
		break;
	default:
		/* NONE: app data, the window passed, or a close not about trust. */
		proxy_worker_outcome(w, c,
				     c->st >= C_RELAY ? PROXY_INTERCEPTED : PROXY_CLIENT_ABORTED);
		break;
	}
}

static void conn_run(struct worker *w, struct conn *c, bool up_ready)
{
	if (!proxy_conn_step(w, c, up_ready))
		return;
	proxy_worker_ep_set(w, c->cfd, &c->ec, &c->cev, c->cwant);
	proxy_worker_ep_set(w, c->ufd, &c->eu, &c->uev, c->uwant);
}

static void job_take(struct worker *w)
{
	struct proxy_job job;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &job, sizeof(job) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct conn *c;
	ssize_t n;
	int fd = -1;

	n = recvmsg(w->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == 0) {
		stop = 1; /* tlsgated is gone */
		return;
	}
	if (n < 0)
		return;
	fd = proxy_msg_take_fd(&mh);
	if ((size_t)n != sizeof(job) || fd == -1) {
		if (fd != -1)
			proxy_worker_reset_close(fd);
		return;
	}
	job.sni[sizeof(job.sni) - 1] = '\0';
	c = calloc(1, sizeof(*c));
	if (c == NULL || w->n >= PROXY_WORKER_MAX_CONNS) {
		struct proxy_report r = { .id = job.id,
					  .type = PROXY_REP_OUTCOME,
					  .outcome = PROXY_INTERNAL };

		free(c);
		proxy_worker_reset_close(fd);
		send_report(w, &r);
		r.type = PROXY_REP_CLOSED;
		send_report(w, &r);
		return;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	{
		/* Handshake flights go out whole, not behind Nagle waiting for an ACK. */
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->job = job;
	c->cfd = fd;
	c->ufd = -1;
	c->ec.c = c->eu.c = c;
	c->eu.up = true;
	c->cio.fd = fd;
	c->uio.fd = -1;
	c->start_ms = c->active_ms = proxy_worker_now_ms();
	tg_pindetect_init(&c->pd, job.silent_close_ms);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->n++;
	conn_run(w, c, false);
}

/* Byte counts of the connections that moved, and the worker's cache (PROXY_PROGRESS_MS). */
static void progress(struct worker *w)
{
	struct proxy_report r;
	struct leafcache_stats ls;
	struct conn *c;

	for (c = w->conns; c != NULL; c = c->next) {
		if (c->rep.bytes_up == c->told_up && c->rep.bytes_down == c->told_down)
			continue;
		r = c->rep;
		r.id = c->job.id;
		r.type = PROXY_REP_PROGRESS;
		send_report(w, &r);
		c->told_up = c->rep.bytes_up;
		c->told_down = c->rep.bytes_down;
	}
	memset(&r, 0, sizeof(r));
	leafcache_stats(w->leaves, &ls);
	r.type = PROXY_REP_WORKER;
	r.cache_entries = ls.entries;
	r.cache_bytes = ls.bytes;
	send_report(w, &r);
}

/* Timeouts, and the detector's window closing on a quiet intercepted connection. */
static void sweep(struct worker *w)
{
	uint64_t now = proxy_worker_now_ms();
	struct conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->st == C_RELAY && !c->outcome_sent) {
			struct tg_pin_event ev = { .type = TG_PIN_EV_TICK };

			proxy_worker_pin_feed(w, c, &ev);
		}
		if (c->st < C_RELAY && now - c->start_ms > PROXY_HANDSHAKE_TIMEOUT_MS) {
			if (c->st == C_UP_CONN || c->st == C_UP_HS)
				c->rep.up_err =
					c->st == C_UP_CONN ? PROXY_UP_CONNECT : PROXY_UP_HANDSHAKE;
			proxy_worker_conn_end(w, c,
					      c->st == C_UP_CONN || c->st == C_UP_HS
						      ? PROXY_UPSTREAM_FAILED
						      : PROXY_CLIENT_ABORTED,
					      true);
			continue;
		}
		if ((c->c2u.shut || c->u2c.shut) &&
		    now - c->active_ms > PROXY_HALFCLOSE_TIMEOUT_MS) {
			proxy_worker_conn_end(w, c, PROXY_INTERCEPTED, true);
			continue;
		}
		if (now - c->active_ms > PROXY_IDLE_TIMEOUT_MS)
			proxy_worker_conn_end(w, c, PROXY_INTERCEPTED, true);
	}
}

static void free_dead(struct worker *w)
{
	while (w->dead != NULL) {
		struct conn *c = w->dead;

		w->dead = c->next;
		free(c);
	}
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int proxy_worker_main(const char *trust_name, int keylog_fd)
{
	struct worker w;
	char err[256];
	uint64_t last_sweep = 0, last_progress = 0;
	struct rlimit rl = { 0, 0 };

	memset(&w, 0, sizeof(w));
	w.sock = PROXY_FD_MAIN;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	w.tls = tlsx_new(PROXY_FD_TRUST, trust_name, keylog_fd, err, sizeof(err));
	if (w.tls == NULL) {
		log_warnx("proxy worker: %s", err);
		return 1;
	}
	w.leaves = leafcache_new(PROXY_FD_CA, tlsx_leaf_key(w.tls), PROXY_LEAF_CACHE);
	w.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w.leaves == NULL || w.epfd == -1) {
		log_warnx("proxy worker: out of resources");
		return 1;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w.esock };

		if (epoll_ctl(w.epfd, EPOLL_CTL_ADD, w.sock, &ev) == -1)
			return 1;
	}
	while (!stop) {
		struct epoll_event evs[64];
		int i, n = epoll_wait(w.epfd, evs, 64, PROXY_SWEEP_MS);
		uint64_t now;

		for (i = 0; i < n; i++) {
			struct ep *e = evs[i].data.ptr;

			if (e == &w.esock) {
				if (evs[i].events & (EPOLLHUP | EPOLLERR))
					stop = 1;
				job_take(&w);
				continue;
			}
			/* It may have ended earlier in this batch. */
			if (e->c->st != C_DONE)
				conn_run(&w, e->c,
					 e->up && (evs[i].events &
						   (EPOLLOUT | EPOLLERR | EPOLLHUP)));
		}
		now = proxy_worker_now_ms();
		if (now - last_sweep >= PROXY_SWEEP_MS) {
			sweep(&w);
			last_sweep = now;
		}
		if (now - last_progress >= PROXY_PROGRESS_MS) {
			progress(&w);
			last_progress = now;
		}
		free_dead(&w);
	}
	while (w.conns != NULL)
		proxy_worker_conn_end(&w, w.conns, PROXY_INTERCEPTED, true);
	free_dead(&w);
	leafcache_free(w.leaves);
	tlsx_free(w.tls);
	close(w.epfd);
	return 0;
}
