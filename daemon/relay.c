/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay.c - splice relay between adopted client sockets and upstream connections; see relay.h.
 *
 * Each direction moves bytes socket -> pipe -> socket. A direction stops reading while its pipe
 * holds bytes the other socket cannot take yet (backpressure), and a FIN is passed on as
 * shutdown(SHUT_WR) once the pipe is drained. A failed upstream connect resets the client
 * (SO_LINGER 0) so it sees a failure rather than a silent hang.
 *
 * Admission. relay_adopt() counts a connection against the caps (in all and per client
 * address) under r->lock the moment it is handed over, and the count is given back when the
 * relay thread closes it; relay_has_room() reads the same counts. The per-client counts live
 * in an open-addressing table keyed by SipHash under a random key (client addresses are
 * chosen by clients), at most half full, with backward-shift deletion.
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
#include <sys/random.h>
#include <sys/socket.h>

#include "tlsgate/siphash.h"

#include "log.h"
#include "relay.h"

/* A power of two, twice the most distinct clients there can be: probes stay short. */
#define RELAY_CLIENT_SLOTS (2 * RELAY_MAX_CONNS)

struct pending {
	struct pending *next;
	int fd;
	uint8_t family;
	uint8_t client[16];
	uint8_t dst[16];
	uint16_t port;
};

/* Connections admitted for one client address: queued for the relay thread or live. */
struct client_slot {
	uint8_t family; /* 0: free */
	uint8_t addr[16]; /* zero-padded */
	unsigned count;
};

/* Why the sweep closes a connection. */
enum conn_expiry {
	CONN_LIVE,
	CONN_CONNECT_TIMEOUT,
	CONN_HALFCLOSE_TIMEOUT,
	CONN_IDLE_TIMEOUT,
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
	uint8_t family;
	uint8_t client[16]; /* whose admission this connection holds */
	uint64_t started_ms;
	uint64_t active_ms; /* the last time a byte moved either way (or the connect) */
	struct half up, down; /* up: client -> server; down: server -> client */
	uint32_t cmask, smask; /* current epoll interest */
	bool dead; /* closed; freed after the current event batch */
	struct rconn *prev, *next;
};

struct relay {
	pthread_t thread;
	bool running;
	int epfd, evfd;
	pthread_mutex_t lock; /* inbox, admitted, clients */
	struct pending *inbox;
	unsigned admitted; /* connections counted against the caps */
	struct client_slot clients[RELAY_CLIENT_SLOTS];
	uint8_t key[16]; /* SipHash key of the clients table */
	struct rconn conns; /* list sentinel */
	struct rconn *graveyard; /* closed during this event batch (linked through next) */
	uint64_t swept_ms; /* the last timeout sweep */
	struct relay_stats st;
	pthread_mutex_t stlock;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stat_inc(struct relay *r, uint64_t *ctr)
{
	pthread_mutex_lock(&r->stlock);
	(*ctr)++;
	pthread_mutex_unlock(&r->stlock);
}

static size_t client_addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static size_t client_home(const struct relay *r, uint8_t family, const uint8_t *addr)
{
	uint8_t buf[1 + 16];
	size_t n = client_addr_len(family);

	buf[0] = family;
	memcpy(buf + 1, addr, n);
	return (size_t)tg_siphash24(r->key, buf, 1 + n) & (RELAY_CLIENT_SLOTS - 1);
}

/*
 * The slot holding @addr, or the free slot where it belongs. r->lock held. Ends: the table
 * holds at most RELAY_MAX_CONNS clients, so it always has a free slot.
 */
static struct client_slot *client_find(struct relay *r, uint8_t family, const uint8_t *addr)
{
	size_t i = client_home(r, family, addr), n = client_addr_len(family);

	for (;;) {
		struct client_slot *s = &r->clients[i];

		if (s->family == 0 || (s->family == family && memcmp(s->addr, addr, n) == 0))
			return s;
		i = (i + 1) & (RELAY_CLIENT_SLOTS - 1);
	}
}

/* Free slot @i, moving later entries of its probe run back so every lookup still finds them. */
static void client_remove(struct relay *r, size_t i)
{
	size_t j = i;

	for (;;) {
		struct client_slot *t;
		size_t home;

		j = (j + 1) & (RELAY_CLIENT_SLOTS - 1);
		t = &r->clients[j];
		if (t->family == 0)
			break;
		home = client_home(r, t->family, t->addr);
		/* t may fill the hole unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		r->clients[i] = *t;
		i = j;
	}
	memset(&r->clients[i], 0, sizeof(r->clients[i]));
}

/* The refusal counter for one more connection of @client, or NULL to admit. r->lock held. */
static uint64_t *relay_full(struct relay *r, uint8_t family, const uint8_t *client)
{
	const struct client_slot *s;

	if (r->admitted >= RELAY_MAX_CONNS)
		return &r->st.over_cap;
	s = client_find(r, family, client);
	if (s->family != 0 && s->count >= RELAY_MAX_PER_CLIENT)
		return &r->st.per_client_full;
	return NULL;
}

/* Count one connection of @client against the caps; relay_full() said there is room. */
static void relay_admit(struct relay *r, uint8_t family, const uint8_t *client)
{
	struct client_slot *s = client_find(r, family, client);

	if (s->family == 0) {
		s->family = family;
		memcpy(s->addr, client, client_addr_len(family));
	}
	s->count++;
	r->admitted++;
}

/* Give back what relay_admit() counted. */
static void relay_release(struct relay *r, uint8_t family, const uint8_t *client)
{
	struct client_slot *s;

	pthread_mutex_lock(&r->lock);
	s = client_find(r, family, client);
	if (s->family != 0 && --s->count == 0)
		client_remove(r, (size_t)(s - r->clients));
	r->admitted--;
	pthread_mutex_unlock(&r->lock);
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
	if (r->epfd == -1 || r->evfd == -1 ||
	    getrandom(r->key, sizeof(r->key), 0) != (ssize_t)sizeof(r->key)) {
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
	relay_release(r, c->family, c->client);
	stat_inc(r, &r->st.closed);
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
	unsigned fins = (unsigned)c->up.eof + c->down.eof;

	if (!c->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			stat_inc(r, &r->st.connect_failed);
			errno = err;
			log_warn("relay: upstream connect");
			conn_free(r, c, true);
			return;
		}
		c->connected = true;
		c->active_ms = mono_ms();
		stat_inc(r, &r->st.connected);
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
	/* A FIN counts as activity: the half-close timeout runs from the first one. */
	if (up + down > 0 || (unsigned)c->up.eof + c->down.eof != fins)
		c->active_ms = mono_ms();
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

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		stat_inc(r, &r->st.nomem);
		reset_close(p->fd);
		relay_release(r, p->family, p->client);
		return;
	}
	c->cfd = p->fd;
	c->sfd = -1;
	c->family = p->family;
	memcpy(c->client, p->client, sizeof(c->client));
	c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
	c->started_ms = c->active_ms = mono_ms();
	c->next = &r->conns;
	c->prev = r->conns.prev;
	r->conns.prev->next = c;
	r->conns.prev = c;
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
	stat_inc(r, &r->st.connect_failed);
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

static enum conn_expiry conn_expired(const struct rconn *c, uint64_t now)
{
	if (!c->connected)
		return now - c->started_ms > RELAY_CONNECT_TIMEOUT_MS ? CONN_CONNECT_TIMEOUT
								      : CONN_LIVE;
	if ((c->up.eof || c->down.eof) && now - c->active_ms > RELAY_HALFCLOSE_TIMEOUT_MS)
		return CONN_HALFCLOSE_TIMEOUT;
	if (now - c->active_ms > RELAY_IDLE_TIMEOUT_MS)
		return CONN_IDLE_TIMEOUT;
	return CONN_LIVE;
}

/* Reset what has waited too long; a walk over every connection, so at most every sweep. */
static void relay_timeouts(struct relay *r)
{
	uint64_t now = mono_ms();
	struct rconn *c, *next;

	if (now - r->swept_ms < RELAY_SWEEP_MS)
		return;
	r->swept_ms = now;
	for (c = r->conns.next; c != &r->conns; c = next) {
		next = c->next;
		switch (conn_expired(c, now)) {
		case CONN_CONNECT_TIMEOUT:
			stat_inc(r, &r->st.connect_failed);
			break;
		case CONN_HALFCLOSE_TIMEOUT:
			stat_inc(r, &r->st.halfclose_timeouts);
			break;
		case CONN_IDLE_TIMEOUT:
			stat_inc(r, &r->st.idle_timeouts);
			break;
		case CONN_LIVE:
		default:
			continue;
		}
		conn_free(r, c, true);
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

bool relay_has_room(struct relay *r, uint8_t family, const uint8_t *client)
{
	bool room;

	pthread_mutex_lock(&r->lock);
	room = relay_full(r, family, client) == NULL;
	pthread_mutex_unlock(&r->lock);
	return room;
}

void relay_adopt(struct relay *r, int fd, uint8_t family, const uint8_t *client, const uint8_t *dst,
		 uint16_t port)
{
	struct pending *p = calloc(1, sizeof(*p));
	uint64_t one = 1, *refused = &r->st.nomem;

	stat_inc(r, &r->st.adopted);
	if (p == NULL)
		goto out;
	p->fd = fd;
	p->family = family;
	memcpy(p->client, client, client_addr_len(family));
	memcpy(p->dst, dst, client_addr_len(family));
	p->port = port;
	pthread_mutex_lock(&r->lock);
	refused = relay_full(r, family, client);
	if (refused == NULL) {
		relay_admit(r, family, client);
		p->next = r->inbox;
		r->inbox = p;
		p = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	if (refused == NULL)
		(void)!write(r->evfd, &one, sizeof(one));
out:
	if (refused != NULL) {
		stat_inc(r, refused);
		reset_close(fd);
	}
	free(p);
}

void relay_stats_get(struct relay *r, struct relay_stats *out)
{
	unsigned active;

	pthread_mutex_lock(&r->lock);
	active = r->admitted;
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_lock(&r->stlock);
	*out = r->st;
	pthread_mutex_unlock(&r->stlock);
	out->active = active;
}
