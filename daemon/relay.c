/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay.c - splice relay between adopted client sockets and upstream connections; see relay.h.
 *
 * Each direction moves bytes socket -> pipe -> socket. A direction stops reading while its pipe
 * holds bytes the other socket cannot take yet (backpressure), and a FIN is passed on as
 * shutdown(SHUT_WR) once the pipe is drained. A failed upstream connect resets the client
 * (SO_LINGER 0) so it sees a failure rather than a silent hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "log.h"
#include "relay.h"

struct pending {
	struct pending *next;
	int fd;
	uint8_t family;
	uint8_t dst[16];
	uint16_t port;
};

struct half {
	int pipe[2];
	size_t queued; /* bytes in the pipe */
	bool eof; /* source sent FIN */
	bool shut; /* FIN passed on */
};

struct rconn {
	int cfd, sfd;
	bool connected;
	uint64_t started_ms;
	struct half up, down; /* up: client -> server; down: server -> client */
	uint32_t cmask, smask; /* current epoll interest */
	bool dead; /* closed; freed after the current event batch */
	struct rconn *prev, *next;
};

struct relay {
	pthread_t thread;
	bool running;
	int epfd, evfd;
	pthread_mutex_t lock;
	struct pending *inbox;
	struct rconn conns; /* list sentinel */
	struct rconn *graveyard; /* closed during this event batch (linked through next) */
	unsigned nconns;
	struct relay_stats st;
	pthread_mutex_t stlock;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct relay *relay_new(void)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->epfd = r->evfd = -1;
	r->conns.next = r->conns.prev = &r->conns;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->stlock, NULL);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->epfd == -1 || r->evfd == -1) {
		relay_free(r);
		return NULL;
	}
	return r;
}

static void reset_close(int fd)
{
	struct linger lg = { 1, 0 };

	if (fd == -1)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void half_close(struct half *h)
{
	if (h->pipe[0] != -1)
		close(h->pipe[0]);
	if (h->pipe[1] != -1)
		close(h->pipe[1]);
	h->pipe[0] = h->pipe[1] = -1;
}

/*
 * Close a connection. Its memory lives until the end of the event batch, since later events
 * of the same batch may still point at it (they see c->dead).
 */
static void conn_free(struct relay *r, struct rconn *c, bool reset)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->dead = true;
	if (reset) {
		reset_close(c->cfd);
		reset_close(c->sfd);
	} else {
		if (c->cfd != -1)
			close(c->cfd);
		if (c->sfd != -1)
			close(c->sfd);
	}
	c->cfd = c->sfd = -1;
	half_close(&c->up);
	half_close(&c->down);
	c->next = r->graveyard;
	r->graveyard = c;
	r->nconns--;
	pthread_mutex_lock(&r->stlock);
	r->st.closed++;
	pthread_mutex_unlock(&r->stlock);
}

static int epoll_set(struct relay *r, int fd, struct rconn *c, uint32_t *cur, uint32_t want)
{
	struct epoll_event ev = { .events = want, .data.ptr = c };
	int op;

	if (*cur == want)
		return 0;
	op = *cur == 0 ? EPOLL_CTL_ADD : (want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
	if (epoll_ctl(r->epfd, op, fd, &ev) == -1)
		return -1;
	*cur = want;
	return 0;
}

/* Move what can move from @src to @dst. Returns -1 on a hard error. */
static int pump(int src, int dst, struct half *h, uint64_t *count)
{
	for (;;) {
		ssize_t n;

		if (h->queued > 0) {
			n = splice(h->pipe[0], NULL, dst, NULL, h->queued,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				h->queued -= (size_t)n;
				*count += (uint64_t)n;
				continue;
			}
			if (n == -1 && errno == EAGAIN)
				return 0;
			return -1;
		}
		if (h->eof) {
			if (!h->shut) {
				shutdown(dst, SHUT_WR);
				h->shut = true;
			}
			return 0;
		}
		n = splice(src, NULL, h->pipe[1], NULL, RELAY_PIPE_BYTES,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			h->queued += (size_t)n;
			continue;
		}
		if (n == 0) {
			h->eof = true;
			continue;
		}
		if (errno == EAGAIN)
			return 0;
		return -1;
	}
}

static int conn_update(struct relay *r, struct rconn *c)
{
	uint32_t cw = 0, sw = 0;

	if (!c->connected) {
		/* Until connected: wait for the upstream's writability only. */
		return epoll_set(r, c->sfd, c, &c->smask, EPOLLOUT);
	}
	if (!c->up.eof && c->up.queued == 0)
		cw |= EPOLLIN;
	if (c->down.queued > 0)
		cw |= EPOLLOUT;
	if (!c->down.eof && c->down.queued == 0)
		sw |= EPOLLIN;
	if (c->up.queued > 0)
		sw |= EPOLLOUT;
	if (epoll_set(r, c->cfd, c, &c->cmask, cw) == -1 ||
	    epoll_set(r, c->sfd, c, &c->smask, sw) == -1)
		return -1;
	return 0;
}

static void conn_event(struct relay *r, struct rconn *c)
{
	uint64_t up = 0, down = 0;

	if (!c->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			pthread_mutex_lock(&r->stlock);
			r->st.connect_failed++;
			pthread_mutex_unlock(&r->stlock);
			errno = err;
			log_warn("relay: upstream connect");
			conn_free(r, c, true);
			return;
		}
		c->connected = true;
		pthread_mutex_lock(&r->stlock);
		r->st.connected++;
		pthread_mutex_unlock(&r->stlock);
	}
	if (pump(c->cfd, c->sfd, &c->up, &up) == -1 ||
	    pump(c->sfd, c->cfd, &c->down, &down) == -1) {
		pthread_mutex_lock(&r->stlock);
		r->st.bytes_up += up;
		r->st.bytes_down += down;
		pthread_mutex_unlock(&r->stlock);
		conn_free(r, c, true);
		return;
	}
	pthread_mutex_lock(&r->stlock);
	r->st.bytes_up += up;
	r->st.bytes_down += down;
	pthread_mutex_unlock(&r->stlock);
	if (c->up.shut && c->down.shut) {
		conn_free(r, c, false);
		return;
	}
	if (conn_update(r, c) == -1)
		conn_free(r, c, true);
}

static void conn_start(struct relay *r, struct pending *p)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct rconn *c = NULL;

	if (r->nconns >= RELAY_MAX_CONNS) {
		pthread_mutex_lock(&r->stlock);
		r->st.over_cap++;
		pthread_mutex_unlock(&r->stlock);
		reset_close(p->fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		reset_close(p->fd);
		return;
	}
	c->cfd = p->fd;
	c->sfd = -1;
	c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
	c->started_ms = mono_ms();
	c->next = &r->conns;
	c->prev = r->conns.prev;
	r->conns.prev->next = c;
	r->conns.prev = c;
	r->nconns++;
	memset(&ss, 0, sizeof(ss));
	if (p->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(p->port);
		memcpy(&sin->sin_addr, p->dst, 4);
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p->port);
		memcpy(&sin6->sin6_addr, p->dst, 16);
		sslen = sizeof(*sin6);
	}
	if (fcntl(c->cfd, F_SETFL, fcntl(c->cfd, F_GETFL) | O_NONBLOCK) == -1 ||
	    pipe2(c->up.pipe, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    pipe2(c->down.pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		goto fail;
	c->sfd = socket(p->family == 4 ? AF_INET : AF_INET6,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->sfd == -1)
		goto fail;
	if (connect(c->sfd, (struct sockaddr *)&ss, sslen) == -1 && errno != EINPROGRESS)
		goto fail;
	if (conn_update(r, c) == -1)
		goto fail;
	return;
fail:
	log_warn("relay: upstream");
	pthread_mutex_lock(&r->stlock);
	r->st.connect_failed++;
	pthread_mutex_unlock(&r->stlock);
	conn_free(r, c, true);
}

static void relay_inbox(struct relay *r)
{
	struct pending *list, *p;
	uint64_t v;

	(void)!read(r->evfd, &v, sizeof(v));
	pthread_mutex_lock(&r->lock);
	list = r->inbox;
	r->inbox = NULL;
	pthread_mutex_unlock(&r->lock);
	while ((p = list) != NULL) {
		list = p->next;
		conn_start(r, p);
		free(p);
	}
}

static void relay_timeouts(struct relay *r)
{
	uint64_t now = mono_ms();
	struct rconn *c, *next;

	for (c = r->conns.next; c != &r->conns; c = next) {
		next = c->next;
		if (!c->connected && now - c->started_ms > RELAY_CONNECT_TIMEOUT_MS) {
			pthread_mutex_lock(&r->stlock);
			r->st.connect_failed++;
			pthread_mutex_unlock(&r->stlock);
			conn_free(r, c, true);
		}
	}
}

static void relay_bury(struct relay *r)
{
	struct rconn *c;

	while ((c = r->graveyard) != NULL) {
		r->graveyard = c->next;
		free(c);
	}
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	struct epoll_event evs[64];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->evfd, &ev) == -1) {
		log_warn("relay: epoll");
		return NULL;
	}
	while (__atomic_load_n(&r->running, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(r->epfd, evs, 64, 1000), i;

		if (n == -1 && errno != EINTR) {
			log_warn("relay: epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				relay_inbox(r);
		}
		for (i = 0; i < n; i++) {
			struct rconn *c = evs[i].data.ptr;

			if (c != NULL && !c->dead)
				conn_event(r, c);
		}
		relay_timeouts(r);
		relay_bury(r);
	}
	return NULL;
}

int relay_start(struct relay *r)
{
	int e;

	__atomic_store_n(&r->running, true, __ATOMIC_RELEASE);
	e = pthread_create(&r->thread, NULL, relay_main, r);
	if (e != 0) {
		__atomic_store_n(&r->running, false, __ATOMIC_RELEASE);
		errno = e;
		return -1;
	}
	return 0;
}

void relay_free(struct relay *r)
{
	struct pending *p;
	uint64_t one = 1;

	if (r == NULL)
		return;
	if (__atomic_load_n(&r->running, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&r->running, false, __ATOMIC_RELEASE);
		(void)!write(r->evfd, &one, sizeof(one));
		pthread_join(r->thread, NULL);
	}
	while (r->conns.next != &r->conns)
		conn_free(r, r->conns.next, true);
	relay_bury(r);
	while ((p = r->inbox) != NULL) {
		r->inbox = p->next;
		reset_close(p->fd);
		free(p);
	}
	if (r->epfd != -1)
		close(r->epfd);
	if (r->evfd != -1)
		close(r->evfd);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->stlock);
	free(r);
}

void relay_adopt(struct relay *r, int fd, uint8_t family, const uint8_t *dst, uint16_t port)
{
	struct pending *p = calloc(1, sizeof(*p));
	uint64_t one = 1;

	if (p == NULL) {
		reset_close(fd);
		return;
	}
	p->fd = fd;
	p->family = family;
	memcpy(p->dst, dst, family == 4 ? 4 : 16);
	p->port = port;
	pthread_mutex_lock(&r->lock);
	p->next = r->inbox;
	r->inbox = p;
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_lock(&r->stlock);
	r->st.adopted++;
	pthread_mutex_unlock(&r->stlock);
	(void)!write(r->evfd, &one, sizeof(one));
}

void relay_stats_get(struct relay *r, struct relay_stats *out)
{
	pthread_mutex_lock(&r->stlock);
	*out = r->st;
	pthread_mutex_unlock(&r->stlock);
}
