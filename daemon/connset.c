/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * connset.c - see connset.h. One epoll set holds the listener, a timer (armed only while a
 * client is connected) and the clients; the caller's loop polls that set's descriptor. A
 * client is in one of two states: reading its request (EPOLLIN) or writing its reply
 * (EPOLLOUT). Replies are built whole in memory by the protocol (open_memstream) before the
 * first byte goes out, so the protocol never sees a half-written client.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "caps.h"
#include "connset.h"
#include "log.h"

#define CONNSET_BUF_START 4096 /* a request buffer starts at this and doubles */

struct client {
	int fd; /* -1: the slot is free */
	uint8_t *in;
	size_t in_len, in_cap;
	char *out; /* the reply, once the request is whole */
	size_t out_len, out_off;
	bool draining; /* the reply is out: reading to the client's EOF, then closing */
	uint64_t deadline_ms;
};

struct connset {
	int lfd, epfd, tfd;
	bool timer_on;
	struct connset_ops ops;
	void *arg;
	struct connset_limits lim;
	struct client *c; /* lim.max_clients */
	struct connset_stats st;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The timer runs only while someone is connected: an idle daemon is not woken for nothing. */
static void timer_set(struct connset *cs, bool on)
{
	struct itimerspec it;

	if (on == cs->timer_on)
		return;
	memset(&it, 0, sizeof(it));
	if (on) {
		it.it_interval.tv_nsec = (long)CONNSET_SWEEP_MS * 1000000;
		it.it_value = it.it_interval;
	}
	if (timerfd_settime(cs->tfd, 0, &it, NULL) == -1) {
		log_warn("connset: timer");
		return;
	}
	cs->timer_on = on;
}

/* What a non-blocking send or recv that returned @n means. */
enum io_step { IO_OK, IO_RETRY, IO_WAIT, IO_GONE };

static enum io_step io_step(ssize_t n)
{
	if (n > 0)
		return IO_OK;
	if (n == -1 && errno == EINTR)
		return IO_RETRY;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return IO_WAIT;
	return IO_GONE;
}

static void client_close(struct connset *cs, struct client *c)
{
	(void)epoll_ctl(cs->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	free(c->in);
	free(c->out);
	c->in = NULL;
	c->out = NULL;
	c->in_len = c->in_cap = c->out_len = c->out_off = 0;
	c->draining = false;
	cs->st.clients--;
	if (cs->st.clients == 0)
		timer_set(cs, false);
}

/*
 * The reply is out: end our side and read what the client still sends until it closes (or
 * its time is up). Closing a Unix socket with unread bytes in it resets the connection, and
 * the client could lose a reply it has not read yet, such as a refusal sent before its request.
 */
static void client_drain(struct connset *cs, struct client *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	char buf[512];

	if (!c->draining) {
		c->draining = true;
		if (shutdown(c->fd, SHUT_WR) == -1 ||
		    epoll_ctl(cs->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
			client_close(cs, c);
			return;
		}
	}
	for (;;) {
		enum io_step st = io_step(recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT));

		if (st == IO_WAIT)
			return;
		if (st == IO_GONE) {
			client_close(cs, c);
			return;
		}
	}
}

/* Send what the client will take now; once the reply is out, drain and close. */
static void client_write(struct connset *cs, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		switch (io_step(n)) {
		case IO_OK:
			c->out_off += (size_t)n;
			break;
		case IO_RETRY:
			break;
		case IO_WAIT:
			return;
		case IO_GONE:
		default:
			cs->st.aborted++;
			client_close(cs, c);
			return;
		}
	}
	cs->st.served++;
	client_drain(cs, c);
}

/*
 * Run @fn(arg, ..., memstream) and keep what it wrote as @c's reply. Returns the step, or
 * CONNSET_REFUSE when the reply could not even be built (memory).
 */
static enum connset_step client_answer(struct connset *cs, struct client *c, bool admit)
{
	enum connset_step step;
	FILE *f = open_memstream(&c->out, &c->out_len);

	if (f == NULL)
		return CONNSET_REFUSE;
	if (admit)
		step = cs->ops.admit(cs->arg, c->fd, f) == 0 ? CONNSET_MORE : CONNSET_REFUSE;
	else
		step = cs->ops.input(cs->arg, c->in, c->in_len, f);
	if (fclose(f) != 0)
		step = CONNSET_REFUSE;
	return step;
}

/* The request is over or refused: send the reply (if any) instead of reading on. */
static void client_reply(struct connset *cs, struct client *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

	if (c->out_len == 0) {
		client_close(cs, c);
		return;
	}
	if (epoll_ctl(cs->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
		client_close(cs, c);
		return;
	}
	client_write(cs, c);
}

/* Read what is there; once input() has a whole request, answer it. */
static void client_read(struct connset *cs, struct client *c)
{
	enum connset_step step;

	for (;;) {
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? 2 * c->in_cap : CONNSET_BUF_START;
			uint8_t *nb;

			if (cap > cs->lim.max_request)
				cap = cs->lim.max_request;
			if (cap <= c->in_len) {
				cs->st.too_large++;
				client_close(cs, c);
				return;
			}
			nb = realloc(c->in, cap);
			if (nb == NULL) {
				cs->st.aborted++;
				client_close(cs, c);
				return;
			}
			c->in = nb;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		switch (io_step(n)) {
		case IO_OK:
			break;
		case IO_RETRY:
			continue;
		case IO_WAIT:
			return;
		case IO_GONE:
		default:
			/* Gone before its request was whole. */
			cs->st.aborted++;
			client_close(cs, c);
			return;
		}
		c->in_len += (size_t)n;
		step = client_answer(cs, c, false);
		if (step == CONNSET_MORE) {
			free(c->out);
			c->out = NULL;
			c->out_len = 0;
			continue;
		}
		if (step == CONNSET_REFUSE)
			cs->st.refused_request++;
		client_reply(cs, c);
		return;
	}
}

/* A client past the cap is told so, without waiting for it, and closed. */
static void refuse_busy(struct connset *cs, int fd)
{
	cs->st.refused_clients++;
	if (cs->lim.busy_reply != NULL)
		(void)!send(fd, cs->lim.busy_reply, strlen(cs->lim.busy_reply),
			    MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void accept_all(struct connset *cs)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *c = NULL;
		unsigned i;
		int fd = accept4(cs->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("connset: accept");
			return;
		}
		cs->st.accepted++;
		for (i = 0; i < cs->lim.max_clients && c == NULL; i++)
			if (cs->c[i].fd == -1)
				c = &cs->c[i];
		if (c == NULL) {
			refuse_busy(cs, fd);
			continue;
		}
		ev.data.ptr = c;
		if (epoll_ctl(cs->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_warn("connset: epoll_ctl");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline_ms = mono_ms() + cs->lim.timeout_ms;
		cs->st.clients++;
		timer_set(cs, true);
		if (client_answer(cs, c, true) == CONNSET_REFUSE) {
			cs->st.refused_peer++;
			client_reply(cs, c);
			continue;
		}
		free(c->out);
		c->out = NULL;
		c->out_len = 0;
	}
}

static void sweep(struct connset *cs)
{
	uint64_t exp, now = mono_ms();
	unsigned i;

	(void)!read(cs->tfd, &exp, sizeof(exp));
	for (i = 0; i < cs->lim.max_clients; i++)
		if (cs->c[i].fd != -1 && now >= cs->c[i].deadline_ms) {
			cs->st.timeouts++;
			client_close(cs, &cs->c[i]);
		}
}

void connset_dispatch(struct connset *cs)
{
	struct epoll_event evs[16];
	int i, n = epoll_wait(cs->epfd, evs, 16, 0);

	for (i = 0; i < n; i++) {
		struct client *c = evs[i].data.ptr;

		if (c == NULL) {
			accept_all(cs);
		} else if (c == (struct client *)cs) {
			sweep(cs);
		} else if (c->fd == -1) {
			continue; /* closed earlier in this batch */
		} else if (c->draining) {
			client_drain(cs, c);
		} else if (c->out != NULL) {
			client_write(cs, c);
		} else {
			client_read(cs, c);
		}
	}
}

struct connset *connset_new(int lfd, const struct connset_ops *ops, void *arg,
			    const struct connset_limits *lim)
{
	struct connset *cs = calloc(1, sizeof(*cs));
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned i;

	if (cs == NULL) {
		close(lfd);
		return NULL;
	}
	cs->lfd = lfd;
	cs->epfd = cs->tfd = -1;
	cs->ops = *ops;
	cs->arg = arg;
	cs->lim = *lim;
	cs->c = calloc(lim->max_clients ? lim->max_clients : 1, sizeof(*cs->c));
	if (cs->c == NULL)
		goto fail;
	for (i = 0; i < lim->max_clients; i++)
		cs->c[i].fd = -1;
	cs->epfd = epoll_create1(EPOLL_CLOEXEC);
	cs->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (cs->epfd == -1 || cs->tfd == -1)
		goto fail;
	ev.data.ptr = NULL;
	if (epoll_ctl(cs->epfd, EPOLL_CTL_ADD, lfd, &ev) == -1)
		goto fail;
	/* The timer's mark is the set itself: never a client's address. */
	ev.data.ptr = cs;
	if (epoll_ctl(cs->epfd, EPOLL_CTL_ADD, cs->tfd, &ev) == -1)
		goto fail;
	return cs;
fail:
	connset_free(cs);
	return NULL;
}

void connset_free(struct connset *cs)
{
	unsigned i;

	if (cs == NULL)
		return;
	for (i = 0; cs->c != NULL && i < cs->lim.max_clients; i++)
		if (cs->c[i].fd != -1)
			client_close(cs, &cs->c[i]);
	free(cs->c);
	if (cs->tfd != -1)
		close(cs->tfd);
	if (cs->epfd != -1)
		close(cs->epfd);
	close(cs->lfd);
	free(cs);
}

int connset_pollfd(const struct connset *cs)
{
	return cs->epfd;
}

void connset_stats_get(const struct connset *cs, struct connset_stats *out)
{
	*out = cs->st;
}
