/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * enforce.h - the packets a block sends (enforce.c). Each returns 0, or -1 with errno when a
 * packet could not be built or sent (the caller counts it; the decision stands).
 */
#ifndef TLSGATE_ENFORCE_H
#define TLSGATE_ENFORCE_H

#include <stdbool.h>
#include <stdint.h>

#include "tlsgate/pkt.h"

#include "adopt.h"

/*
 * RST to the client (in its window: the server's sequence it acknowledged, and an ACK of
 * @client_bytes of its stream) and, when @server_too, to the server at the sequence it expects.
 */
int enforce_reset(int raw_fd, const struct adopt_facts *f, uint32_t client_bytes, bool server_too);
/* The 403 page naming @rule, with FIN, in place of the client's request; the server reset. */
int enforce_block_page(int raw_fd, const struct adopt_facts *f, uint32_t client_bytes,
		       const char *rule);
/* The answer to the blocked UDP DNS query @q: NXDOMAIN (@sink_family 0) or the sinkhole. */
int enforce_dns_answer(int raw_fd, const struct tg_pkt *q, uint8_t sink_family,
		       const uint8_t sink_addr[static 16]);

#endif
