/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake_daemon.h - what test_engine.c links in place of daemon/queue.c, daemon/adopt.c and
 * daemon/proxy.c: fakes that record every verdict and every packet the engine would send,
 * and answer the proxy's room, the hand-over and the adoption as the test sets them.
 */
#ifndef FAKE_DAEMON_H
#define FAKE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy_msg.h"

#define FAKE_MAX_VERDICTS 1024
#define FAKE_PKT_MAX	  2048

/* One queue_verdict() or queue_verdict_pkt() call. */
struct fake_verdict {
	uint32_t id;
	int verdict; /* NF_ACCEPT, NF_DROP, NF_REPEAT */
	bool set_mark;
	uint32_t mark;
	bool has_pkt; /* queue_verdict_pkt(): the packet was replaced by pkt */
	uint8_t pkt[FAKE_PKT_MAX];
	size_t pkt_len;
};

/* A packet the engine would have sent through a raw socket. */
struct fake_sent {
	uint8_t pkt[FAKE_PKT_MAX];
	size_t len;
};

struct fake_daemon {
	struct fake_verdict v[FAKE_MAX_VERDICTS];
	unsigned n_v;
	unsigned reset_client, reset_server, raw_send;
	struct fake_sent last_client_rst, last_server_rst, last_raw;
	unsigned adopt_calls, handoff_calls;
	struct proxy_job last_job; /* what proxy_handoff() was given last */
	size_t last_flow_frag_len;
	char last_flow_name[256];
	/* Settings. */
	bool proxy_room; /* proxy_has_room()'s answer */
	bool handoff_ok; /* proxy_handoff()'s answer */
	int adopt_result; /* adopt_socket()'s return: -1 fails (EPERM, step "fake"),
			  * else an fd proxy_handoff() closes */
};

extern struct fake_daemon fake;

/* Forget what was recorded; the settings go back to: room in the proxy, adoption fails. */
void fake_reset(void);
/* The verdict of packet @id (the last one given), or NULL. */
const struct fake_verdict *fake_verdict_of(uint32_t id);

#endif
