/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upstream.h - unsupported-upstream exclusions (DESIGN.md section 3, "Unsupported upstreams").
 *
 * When the proxy finds that a server cannot be intercepted (it has no TLS >= 1.2, it requests a
 * client certificate, it answers protocol_version), it replays the client's ClientHello to a
 * fresh upstream connection, relays the bytes untouched, and records an exclusion here, so the
 * next flows to that server pass in the kernel. The classifier consults the table for every new
 * TLS flow.
 *
 * Key. A server is (SNI, destination port) when the ClientHello has an SNI: the TLS
 * configuration that defeats interception belongs to the virtual host, and CDNs put thousands of
 * unrelated hosts on one address, so the address is deliberately NOT part of the key (an
 * exclusion of one CDN customer must not exclude its neighbours). Only a ClientHello without SNI
 * is keyed by (destination address, port). The port is part of the key: one name may serve
 * plain HTTPS on 443 and mutual TLS on 8443.
 *
 * Lifetime and bounds. An exclusion lives `ttl_s` from its last add (adding an existing key
 * refreshes the expiry and the reason: it was observed again); alive for now in
 * [added, added + ttl). At most `max` exclusions; adding to a full table evicts the least
 * recently used (recency = last add, or last successful lookup by any thread, stamped at most
 * once a second). Lookups never extend the TTL: after it, the server is tried again.
 *
 * Threads: ONE writer (add, remove, expire); lookups, lists and stats from any thread, lock-free
 * (seqtab.h).
 */
#ifndef TLSGATE_UPSTREAM_H
#define TLSGATE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/err.h"

struct tg_upstream;

enum tg_upstream_reason {
	TG_UPSTREAM_NO_TLS12 = 1, /* server offers nothing >= TLS 1.2 */
	TG_UPSTREAM_CLIENT_CERT = 2, /* server requested a client certificate */
	TG_UPSTREAM_PROTOCOL_VERSION = 3, /* server answered a protocol_version alert */
	TG_UPSTREAM_OTHER = 4, /* another interception failure the proxy chose to exclude */
	TG_UPSTREAM_REASON__MAX = TG_UPSTREAM_OTHER
};

/* tg_upstream_reason_name() - stable text ("no-tls12", "client-cert", ...). */
const char *tg_upstream_reason_name(enum tg_upstream_reason r);

/*
 * The server as the flow names it. @sni (lowercased by the caller; ASCII case is folded here too)
 * with @sni_len 1..TG_CAP_NAME_LEN, or @sni_len 0 to key by @addr (IPv6, or IPv4 as v4-mapped
 * ::ffff:a.b.c.d). @port in host order.
 */
struct tg_upstream_server {
	const uint8_t *sni;
	size_t sni_len;
	uint8_t addr[16];
	uint16_t port;
};

struct tg_upstream_cfg {
	uint32_t ttl_s; /* >= 1 */
	uint32_t max; /* 1..TG_CAP_UPSTREAM_EXCL */
};

/* tg_upstream_cfg_default() - 3600 s, 4096 servers. */
void tg_upstream_cfg_default(struct tg_upstream_cfg *cfg);

/* tg_upstream_cfg_check() - TG_OK or TG_ERR_ARG with *@what (may be NULL) naming the field. */
enum tg_err tg_upstream_cfg_check(const struct tg_upstream_cfg *cfg, const char **what) TG_WUR;

/* tg_upstream_new() - an empty table with hash key @key (16 random bytes). Owner frees. */
enum tg_err tg_upstream_new(const struct tg_upstream_cfg *cfg, const uint8_t key[static 16],
			    struct tg_upstream **out) TG_WUR;
void tg_upstream_free(struct tg_upstream *t);

/*
 * tg_upstream_excl_add() - writer. Exclude @srv for ttl_s from @now_ms because of @why.
 * TG_OK; TG_ERR_ARG for a bad server or reason.
 */
enum tg_err tg_upstream_excl_add(struct tg_upstream *t, const struct tg_upstream_server *srv,
				 enum tg_upstream_reason why, uint64_t now_ms) TG_WUR;

/* One exclusion, as a lookup or a list returns it. */
struct tg_upstream_excl {
	enum tg_upstream_reason reason;
	uint64_t since_ms; /* last add */
	uint64_t expires_ms; /* since + ttl */
	uint32_t adds; /* times observed while alive */
	/* list only: the key */
	uint8_t sni[TG_CAP_NAME_LEN];
	size_t sni_len; /* 0: keyed by addr */
	uint8_t addr[16];
	uint16_t port;
};

/*
 * tg_upstream_excl_lookup() - any thread. True when @srv is excluded at @now_ms; *@out (may be
 * NULL) gets reason and times (its key fields are not filled).
 */
bool tg_upstream_excl_lookup(const struct tg_upstream *t, const struct tg_upstream_server *srv,
			     uint64_t now_ms, struct tg_upstream_excl *out);

/* tg_upstream_excl_remove() - writer. TG_OK, TG_ERR_NOT_FOUND or TG_ERR_ARG. */
enum tg_err tg_upstream_excl_remove(struct tg_upstream *t,
				    const struct tg_upstream_server *srv) TG_WUR;

/* tg_upstream_expire() - writer housekeeping: free expired exclusions; returns how many. */
size_t tg_upstream_expire(struct tg_upstream *t, uint64_t now_ms);

/* tg_upstream_list() - any thread. @cb for each exclusion alive at @now_ms until it says false. */
void tg_upstream_list(const struct tg_upstream *t, uint64_t now_ms,
		      bool (*cb)(const struct tg_upstream_excl *e, void *arg), void *arg);

struct tg_upstream_stats {
	uint64_t added; /* new exclusions */
	uint64_t refreshed; /* adds of an alive key */
	uint64_t evicted; /* LRU evictions by max */
	uint64_t expired; /* freed by tg_upstream_expire() or replaced after expiry */
	uint64_t removed;
	uint32_t held; /* records held now */
};

void tg_upstream_stats(const struct tg_upstream *t, struct tg_upstream_stats *out);

#endif
