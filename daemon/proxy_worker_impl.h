/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_worker_impl.h - what a proxy worker's three files share, private to them:
 *   proxy_worker.c  the process: its event loop, jobs taken from tlsgated, reports, timeouts,
 *                   a connection's end
 *   proxy_conn.c    one connection's state machine: ClientHello, upstream connect and
 *                   handshake, the forged leaf, the client handshake, replay
 *   proxy_relay.c   moving bytes both ways once the handshakes are done (or when replaying)
 * All of it runs on the worker's one thread.
 */
#ifndef TLSGATE_PROXY_WORKER_IMPL_H
#define TLSGATE_PROXY_WORKER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/pindetect.h"

#include "leafcache.h"
#include "proxy_msg.h"
#include "tlsx.h"

/* A connection's states, in the order it goes through them (proxy_conn.c says what each does). */
enum cstate { C_CH, C_UP_CONN, C_UP_HS, C_CL_HS, C_RELAY, C_REPLAY_CONN, C_REPLAY, C_DONE };

/* One direction of the relay (proxy_relay.c). */
struct dir {
	uint8_t *buf; /* PROXY_DIR_BUF bytes while it holds some, else NULL */
	size_t len, off;
	bool eof; /* the source ended */
	bool shut; /* the end was passed on */
};

struct conn;
struct ep {
	struct conn *c;
	bool up;
};

struct conn {
	struct conn *prev, *next;
	struct proxy_job job;
	enum cstate st;
	int cfd, ufd;
	struct ep ec, eu;
	uint32_t cev, uev; /* registered epoll interest */
	uint32_t cwant, uwant; /* interest the last step asked for */
	uint8_t *ch; /* the client's first bytes (ClientHello and anything after) */
	size_t ch_len;
	struct tlsx_io cio, uio;
	mbedtls_ssl_context *cl, *up;
	struct leaf *leaf;
	struct tg_pindetect pd;
	bool flight;
	bool up_resumed;
	bool outcome_sent;
	struct proxy_report rep;
	struct dir c2u, u2c;
	uint64_t start_ms, active_ms;
	uint64_t told_up, told_down; /* byte counts last reported (PROXY_REP_PROGRESS) */
};

struct worker {
	int sock, epfd;
	struct tlsx *tls;
	struct leafcache *leaves;
	struct conn *conns;
	struct conn *dead; /* ended in this batch of events, freed after it */
	unsigned n;
	struct ep esock;
};

/* proxy_worker_now_ms() - CLOCK_MONOTONIC in milliseconds. */
uint64_t proxy_worker_now_ms(void);

/* proxy_worker_outcome() - report @c's OUTCOME @o to tlsgated, once: later calls do nothing. */
void proxy_worker_outcome(struct worker *w, struct conn *c, enum proxy_outcome o);

/*
 * proxy_worker_ep_set() - make @fd's epoll interest @want (0: none), given the registered
 * interest *@have, which it updates. A negative @fd is ignored.
 */
void proxy_worker_ep_set(struct worker *w, int fd, struct ep *e, uint32_t *have, uint32_t want);

/* proxy_worker_reset_close() - close @fd with an RST (SO_LINGER 0); a negative @fd is ignored. */
void proxy_worker_reset_close(int fd);

/*
 * proxy_worker_conn_end() - the end of @c: its OUTCOME @o if none went yet, CLOSED, sockets
 * closed (with an RST when @reset), everything it held freed but @c itself, which stays
 * readable (state C_DONE) until the current batch of events is done.
 */
void proxy_worker_conn_end(struct worker *w, struct conn *c, enum proxy_outcome o, bool reset);

/*
 * proxy_worker_pin_feed() - give @ev to @c's pinning detector; its final verdict becomes the
 * OUTCOME (once).
 */
void proxy_worker_pin_feed(struct worker *w, struct conn *c, const struct tg_pin_event *ev);

/*
 * proxy_conn_step() - advance @c as far as it goes (@up_ready: the upstream socket reported
 * writable or an error), leaving the interest it needs in c->cwant and c->uwant. Returns false
 * when @c ended (proxy_worker_conn_end was called).
 */
bool proxy_conn_step(struct worker *w, struct conn *c, bool up_ready);

/*
 * proxy_relay_step() - relay @c both ways, decrypted (@tls: through the two TLS legs) or as
 * raw bytes (replay), with backpressure, half-close passed on, and the pinning detector told
 * of the client's first bytes or its EOF. Returns true when @c ended.
 */
bool proxy_relay_step(struct worker *w, struct conn *c, bool tls);

#endif
