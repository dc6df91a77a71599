/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay.h - relay an adopted client connection to its original destination, bytes untouched,
 * with splice(2) (DESIGN.md "Unsupported upstreams"; issue 4 item 4). The upstream connection
 * is made from the router's own address. One relay thread owns every relayed connection;
 * queue threads hand sockets over with relay_adopt(), which never blocks on the relay.
 */
#ifndef TLSGATE_RELAY_H
#define TLSGATE_RELAY_H

#include <stdint.h>

#define RELAY_MAX_CONNS		 4096 /* concurrent relayed connections */
#define RELAY_PIPE_BYTES	 65536 /* splice chunk per direction */
#define RELAY_CONNECT_TIMEOUT_MS 10000

struct relay;

struct relay_stats {
	uint64_t adopted, connected, connect_failed, over_cap, closed, bytes_up, bytes_down;
};

struct relay *relay_new(void);
/* Start the relay thread. Returns 0 or -1 with errno. */
int relay_start(struct relay *r);
/* Stop the thread, close every connection, free. */
void relay_free(struct relay *r);
/* Take ownership of @fd (an adopted socket) and relay it to @dst:@port. Thread-safe. */
void relay_adopt(struct relay *r, int fd, uint8_t family, const uint8_t *dst, uint16_t port);
void relay_stats_get(struct relay *r, struct relay_stats *out);

#endif
