/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * leafcache.h - a proxy worker's forged leaves, by upstream certificate and SNI.
 *
 * The key is SHA-256(upstream leaf DER || 0x00 || SNI). A hit hands out a counted reference to
 * the parsed leaf; a miss builds a mint request (mint_req_from_crt) with the worker's leaf key,
 * sends it to the CA process on @ca_sock and waits for the answer with the same id, discarding
 * answers to earlier requests that timed out. At most @max_entries leaves (and LEAFCACHE_BYTES
 * of DER) are kept, least recently used first out; a leaf some connection still holds is never
 * evicted (see LEAFCACHE_EVICT_SCAN in caps.h).
 *
 * A worker is single-threaded and a miss is answered synchronously, so there is no pending
 * state: a second connection for the same key, handled after the first miss returned, finds
 * the entry already present. Not thread-safe.
 */
#ifndef TLSGATE_LEAFCACHE_H
#define TLSGATE_LEAFCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

struct leafcache;
struct leaf;

struct leafcache_stats {
	uint64_t hits, misses;
	uint64_t mint_errors; /* the CA answered with an error, or with something malformed */
	uint64_t timeouts; /* no answer within timeout_ms (or the CA process is gone) */
	uint64_t stale; /* answers to earlier requests that had timed out, discarded */
	uint64_t evictions;
	uint64_t uncached; /* leaves handed out without a place in the cache (all held) */
	size_t entries, bytes; /* now */
};

/*
 * leafcache_new() - a cache minting through @ca_sock (a worker end from ca_proc_spawn; stays the
 * caller's) with @leaf_key (the worker's EC P-256 key, which the caller keeps alive and uses as
 * every leaf's private key). @max_entries 0 means LEAFCACHE_ENTRIES. NULL on failure (errno).
 */
struct leafcache *leafcache_new(int ca_sock, mbedtls_pk_context *leaf_key, unsigned max_entries);

/*
 * leafcache_free() - free the cache. Leaves still held stay valid until their last leaf_put().
 */
void leafcache_free(struct leafcache *lc);

/*
 * leafcache_get() - the leaf for @upstream (verified for @sni; @sni may be NULL or "") into *@out,
 * a reference the caller releases with leaf_put(). @timeout_ms bounds the wait for the CA (0:
 * LEAFCACHE_TIMEOUT_MS). Returns 0, or -1 with *@out NULL and a message in @err (the SNI is not
 * a name, the CA refused or timed out, the answer did not parse).
 */
int leafcache_get(struct leafcache *lc, const mbedtls_x509_crt *upstream, const char *sni,
		  unsigned timeout_ms, struct leaf **out, char *err, size_t errlen);

/* leaf_crt() - the parsed leaf: for mbedtls_ssl_conf_own_cert() with the worker's key. */
mbedtls_x509_crt *leaf_crt(struct leaf *l);

/* leaf_put() - release a reference from leafcache_get(). */
void leaf_put(struct leaf *l);

void leafcache_stats(const struct leafcache *lc, struct leafcache_stats *out);

#endif
