/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dnsq.h - the UDP DNS queries one engine let through and whose answers have not come yet.
 *
 * Only the answer to a query the gateway saw going out may teach address -> name pairs
 * (names.h): it must come from the resolver address and port the query went to, to the client
 * address and port it came from, with the same DNS id and the same question (name, type,
 * class). Anything else - a LAN client forging "responses" from port 53, a second answer to one
 * query, a blind spoof - is still forwarded (the kernel routes it) but teaches nothing.
 *
 * One table per engine (queue thread), so no lock: a query and its answer reach the same queue
 * because NFQUEUE's --queue-balance hashes the address pair symmetrically. Bounded: DNSQ_ENTRIES
 * slots, open addressing over DNSQ_PROBE of them, placed by a keyed SipHash so a client cannot
 * aim its queries at one window. An entry lives DNSQ_TTL_MS and its answer consumes it. A full
 * window refuses a new entry (the query still goes out; its answer will teach nothing).
 */
#ifndef TLSGATE_DNSQ_H
#define TLSGATE_DNSQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"

struct dnsq;

/* A query as it went out, or an answer seen from the client's side (same fields, same roles). */
struct dnsq_key {
	uint8_t family; /* 4 or 6: the addresses are 4 or 16 bytes */
	const uint8_t *client, *resolver;
	uint16_t cport, rport;
	uint16_t id;
	uint16_t qtype, qclass;
	const char *qname; /* as tg_dns_parse() decodes it: lowercase, no trailing dot */
	size_t qname_len;
};

enum dnsq_add {
	DNSQ_ADDED,
	DNSQ_REFRESHED, /* the same query again (a retransmission): its lifetime restarts */
	DNSQ_FULL, /* no free slot in the key's window: not remembered */
};

enum dnsq_take {
	DNSQ_MATCH, /* a live pending query: consumed */
	DNSQ_NONE, /* nothing pending for this answer */
	DNSQ_EXPIRED, /* its query is older than DNSQ_TTL_MS: consumed, does not count */
};

/* A table with a fresh random hash key; NULL when out of memory or randomness. */
struct dnsq *dnsq_new(void);
void dnsq_free(struct dnsq *q);
/*
 * Remember query @k until @now_ms + DNSQ_TTL_MS. *@expired is set to 1 when the slot taken held
 * a query whose answer never came in time, else 0. A name longer than TG_CAP_NAME_LEN or a
 * family other than 4 or 6 is DNSQ_FULL (never produced by the parser).
 */
enum dnsq_add dnsq_add(struct dnsq *q, const struct dnsq_key *k, uint64_t now_ms,
		       unsigned *expired);
/* The pending query answered by @k (the answer's destination is the client), consumed. */
enum dnsq_take dnsq_take(struct dnsq *q, const struct dnsq_key *k, uint64_t now_ms);

#endif
