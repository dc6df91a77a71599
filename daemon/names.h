/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * names.h - address -> name pairs learned from the DNS answers the gateway sees, for the
 * decision logs and for flows that carry no name (no SNI, IP-only): DESIGN.md "DNS filtering
 * ... learns address->name pairs".
 *
 * A pair belongs to the client that resolved it: the key is (client address, server address),
 * so one client's answers (or forgeries) never name another client's flows. A live pair is
 * never overwritten by a different name (names_learn() says NAMES_CONFLICT and keeps the
 * first); the same name again extends it. Only answers to queries the gateway forwarded are
 * fed in (dnsq.h), with the addresses tg_dns_answer_addrs() gives for the question name.
 *
 * Bounded (NAMES_ENTRIES); each pair lives its record's TTL, at most NAMES_TTL_MAX_S. Shared by
 * every queue thread behind one mutex: a lookup or an insert is a few dozen instructions.
 */
#ifndef TLSGATE_NAMES_H
#define TLSGATE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"

#include "caps.h"

enum names_learn {
	NAMES_NEW, /* a new pair, in a free slot */
	NAMES_EVICTED, /* a new pair, in place of the window's live pair soonest to expire */
	NAMES_REFRESHED, /* the same pair again: it lives on to the later expiry */
	NAMES_CONFLICT, /* a live pair gives the address another name: kept, not overwritten */
	NAMES_IGNORED, /* empty or overlong name, unknown family */
};

struct names;

/* A table with a fresh random hash key; NULL when out of memory or randomness. */
struct names *names_new(void);
void names_free(struct names *n);
/*
 * For @client (family @cfamily: 4 or 6, 4 or 16 bytes), @server (family @sfamily) resolves to
 * @name (normalized, @len bytes) for @ttl_s seconds (at most NAMES_TTL_MAX_S, 0 counts as 1).
 * The families differ when an AAAA answer came over IPv4 or an A over IPv6.
 */
enum names_learn names_learn(struct names *n, uint8_t cfamily, const uint8_t *client,
			     uint8_t sfamily, const uint8_t *server, const char *name, size_t len,
			     uint32_t ttl_s, uint64_t now_ms);
/* The live name @client resolved for @server (both of @family) into @out; false when none. */
bool names_lookup(struct names *n, uint8_t family, const uint8_t *client, const uint8_t *server,
		  char out[static TG_CAP_NAME_LEN + 1], size_t *len, uint64_t now_ms);

#endif
