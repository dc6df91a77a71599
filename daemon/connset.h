/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * connset.h - the clients of one listening stream socket, served from the main thread's epoll
 * loop without ever blocking it: one request in, one reply out, then the connection closes.
 * Used by the control socket (control.c) and the metrics listener (metrics.c).
 *
 * Each client gets a slot (at most @max_clients at once; one more is told @busy_reply and
 * closed), a request buffer that grows up to @max_request bytes, and @timeout_ms from its
 * accept to the last byte of its reply: a client that sends nothing, sends slowly or does not
 * read its reply is closed then and takes nothing from anyone else. The protocol is the
 * caller's: @ops->admit vets a new client (peer credentials), @ops->input looks at the bytes
 * read so far and, once the request is whole, writes the reply. Every refusal is counted.
 */
#ifndef TLSGATE_CONNSET_H
#define TLSGATE_CONNSET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum connset_step {
	CONNSET_MORE, /* the request is not whole yet: read on */
	CONNSET_REPLY, /* the reply is in @out: send it, then close */
	CONNSET_REFUSE, /* the request is refused (a reply may be in @out): counted, closed */
};

struct connset_ops {
	/* A new client on @fd: 0 to serve it, -1 to refuse it (after the reply in @out). */
	int (*admit)(void *arg, int fd, FILE *out);
	/* The request so far, @len bytes at @buf (more may follow): see enum connset_step. */
	enum connset_step (*input)(void *arg, const uint8_t *buf, size_t len, FILE *out);
};

struct connset_limits {
	unsigned max_clients;
	size_t max_request; /* bytes; reaching it without a whole request is a refusal */
	unsigned timeout_ms; /* from accept to the reply's last byte */
	const char *busy_reply; /* what a client past @max_clients is told, or NULL */
};

struct connset_stats {
	uint64_t accepted; /* connections accepted, refused ones included */
	uint64_t served; /* replies sent whole */
	uint64_t refused_clients; /* past max_clients */
	uint64_t refused_peer; /* admit() said no */
	uint64_t refused_request; /* input() said no: malformed or over a cap */
	uint64_t too_large; /* max_request reached */
	uint64_t timeouts; /* timeout_ms passed first */
	uint64_t aborted; /* the client closed or failed before its reply was out */
	unsigned clients; /* connected now */
};

struct connset;

/*
 * connset_new() - serve the listening socket @lfd (non-blocking; owned from now on: closed by
 * connset_free(), or at once when this fails). NULL with errno.
 */
struct connset *connset_new(int lfd, const struct connset_ops *ops, void *arg,
			    const struct connset_limits *lim);
void connset_free(struct connset *cs);
/* The descriptor for the caller's epoll set (readable: call connset_dispatch()). */
int connset_pollfd(const struct connset *cs);
/* Accept, read, answer, write, time out: whatever is ready now. Never blocks. */
void connset_dispatch(struct connset *cs);
void connset_stats_get(const struct connset *cs, struct connset_stats *out);

#endif
