/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * adopt.h - turn the client half of a live TCP connection, seen only as packets in NFQUEUE,
 * into a local socket that continues the server's side exactly (TCP_REPAIR; the recipe and its
 * measured reasons are in HANDOFF.md). Also the untracked RST that closes the server's half.
 */
#ifndef TLSGATE_ADOPT_H
#define TLSGATE_ADOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the SYN and SYN-ACK said; both directions' facts are needed. */
struct adopt_facts {
	uint8_t family; /* 4 or 6 */
	uint8_t client[16], server[16];
	uint16_t client_port, server_port;
	uint32_t client_isn, server_isn;
	uint16_t client_mss; /* from the SYN (0: absent, use 536/1220) */
	uint16_t server_mss; /* from the SYN-ACK */
	bool wscale_ok; /* both SYN and SYN-ACK carried window scale */
	uint8_t client_wscale, server_wscale;
	bool sack_ok; /* both carried SACK-permitted */
	bool ts_ok; /* both carried timestamps */
	uint32_t server_tsval; /* last TSval the server sent (SYN-ACK) */
	uint64_t server_tsval_ms; /* monotonic ms when that TSval was seen */
	uint16_t client_window; /* last window the client advertised (unscaled, as on the wire) */
	uint16_t synack_window; /* the SYN-ACK's window (unscaled) */
	uint32_t server_has; /* client stream bytes released to the server before the decision */
	uint32_t server_sent; /* server stream bytes seen (HTTP or DNS answers on a kept flow) */
};

/*
 * Build the adopted socket. @prefix (@prefix_len bytes): the client's first bytes that went
 * on to the server (and that it acknowledged) before the decision; they are put into the
 * socket's receive queue, so its stream continues at client ISN + 1 + @prefix_len, where the
 * held segment the caller re-injects begins. Returns the connected, repaired socket (repair
 * mode already off, so the kernel has sent its window probe), or -1 with errno set and *step
 * naming the step that failed (for the counter and the log). On failure nothing was sent to
 * the client. Needs CAP_NET_ADMIN.
 */
int adopt_socket(const struct adopt_facts *f, const uint8_t *prefix, size_t prefix_len,
		 uint32_t fwmark, uint64_t now_ms, const char **step);

/*
 * Send an RST|ACK from the client's address to the server (seq = client ISN + 1 + the bytes
 * the server has, exactly its rcv_nxt, or it would answer with a challenge ACK; ack = server
 * ISN + 1) through a raw socket whose SO_MARK @mark the ruleset matches with
 * CT --notrack. Returns 0 or -1 with errno. @raw_fd is a raw socket of the right family
 * (adopt_raw_open()).
 */
int adopt_reset_server(int raw_fd, const struct adopt_facts *f);

/* A raw IPPROTO_RAW socket for @family with SO_MARK @mark; -1 on error. */
int adopt_raw_open(uint8_t family, uint32_t mark);

/*
 * RST to the client (as if from the server), for BLOCK: seq = server ISN + 1 + server_sent
 * (0 before the first message is answered), ack = client ISN + 1 + @client_bytes.
 */
int adopt_reset_client(int raw_fd, const struct adopt_facts *f, uint32_t client_bytes);

/* Send a complete IP packet @pkt to @dst through @raw_fd. */
int adopt_raw_send(int raw_fd, uint8_t family, const uint8_t *dst, const uint8_t *pkt, size_t len);

#endif
