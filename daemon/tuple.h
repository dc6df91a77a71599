/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tuple.h - the hash of a flow's address/port tuple for the daemon's and inspect's flow
 * tables: SipHash-2-4 under a random per-table key, so that peers choosing ports and addresses
 * cannot pile their flows into one bucket (hash flooding).
 */
#ifndef TLSGATE_TUPLE_H
#define TLSGATE_TUPLE_H

#include <stdint.h>
#include <string.h>

#include "tlsgate/siphash.h"

static inline uint64_t tuple_hash(const uint8_t key[static 16], uint8_t family, const uint8_t *a,
				  uint16_t ap, const uint8_t *b, uint16_t bp)
{
	uint8_t buf[1 + 16 + 16 + 4];
	size_t n = family == 4 ? 4 : 16;

	buf[0] = family;
	memcpy(buf + 1, a, n);
	memcpy(buf + 1 + n, b, n);
	buf[1 + 2 * n] = (uint8_t)(ap >> 8);
	buf[2 + 2 * n] = (uint8_t)ap;
	buf[3 + 2 * n] = (uint8_t)(bp >> 8);
	buf[4 + 2 * n] = (uint8_t)bp;
	return tg_siphash24(key, buf, 5 + 2 * n);
}

#endif
