/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay.h - relay an adopted client connection to its original destination, bytes untouched,
 * with splice(2) (DESIGN.md "Unsupported upstreams"; issue 4 item 4). The upstream connection
 * is made from the router's own address. One relay thread owns every relayed connection;
 * queue threads hand sockets over with relay_adopt(), which never blocks on the relay.
 */
#ifndef TLSGATE_RELAY_H
#define TLSGATE_RELAY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Caps and timeouts. Every connection counts against both caps from relay_adopt() until it is
 * closed, so one client cannot fill the relay and have every later decrypted connection reset.
 * A connection that goes quiet is closed (both sides reset), so abandoned ones give their
 * place back: after RELAY_IDLE_TIMEOUT_MS without a byte either way, or, once one side has
 * sent its FIN, after RELAY_HALFCLOSE_TIMEOUT_MS without a byte from the other (as Linux's
 * tcp_fin_timeout bounds FIN-WAIT-2). Timeouts are checked every RELAY_SWEEP_MS.
 */
#include "caps.h"

struct relay;

struct relay_stats {
	uint64_t adopted; /* handed over by relay_adopt(), refused ones included */
	uint64_t connected, connect_failed; /* connect_failed includes the connect timeout */
	uint64_t over_cap; /* refused: RELAY_MAX_CONNS reached */
	uint64_t per_client_full; /* refused: the client had RELAY_MAX_PER_CLIENT */
	uint64_t nomem; /* refused or closed for want of memory */
	uint64_t idle_timeouts, halfclose_timeouts;
	uint64_t closed, bytes_up, bytes_down;
	uint64_t active; /* gauge: connections admitted and not yet closed */
};

struct relay *relay_new(void);
/* Start the relay thread. Returns 0 or -1 with errno. */
int relay_start(struct relay *r);
/* Stop the thread, close every connection, free. */
void relay_free(struct relay *r);

/*
 * relay_has_room() - whether relay_adopt() would take one more connection of @client (@family
 * 4 or 6; IPv4 in the first 4 bytes) now: fewer than RELAY_MAX_CONNS in all and fewer than
 * RELAY_MAX_PER_CLIENT of that client. Thread-safe; a queue thread asks before adopting, so a
 * full relay leaves the connection to the policy instead of resetting it after the decision.
 * The answer can be stale by the time relay_adopt() runs; relay_adopt() enforces the caps.
 */
bool relay_has_room(struct relay *r, uint8_t family, const uint8_t *client);

/*
 * relay_adopt() - take ownership of @fd (an adopted socket of @client) and relay it to
 * @dst:@port (@family 4 or 6; addresses 16 bytes with IPv4 in the first 4). Thread-safe,
 * never waits on the relay thread. Over a cap, @fd is reset and closed and the refusal
 * counted (over_cap, per_client_full).
 */
void relay_adopt(struct relay *r, int fd, uint8_t family, const uint8_t *client, const uint8_t *dst,
		 uint16_t port);
void relay_stats_get(struct relay *r, struct relay_stats *out);

#endif
