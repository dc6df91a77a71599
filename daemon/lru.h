/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lru.h - an intrusive index of entries keyed by a 32-byte digest, kept in least-recently-used
 * order: the CA process's signed leaves (ca_proc.c) and a worker's forged leaves (leafcache.c).
 *
 * The caller embeds a struct lru_node in its entry, sets node->key, and owns the entry: the index
 * never allocates or frees one, and eviction is the caller's choice (lru_oldest, lru_newer).
 * Buckets are chosen by SipHash of the digest under a random key, so digests of names a client
 * picks cannot be ground into one chain. Not thread-safe: one index belongs to one thread.
 */
#ifndef TLSGATE_LRU_H
#define TLSGATE_LRU_H

#include <stddef.h>
#include <stdint.h>

#define LRU_KEY_LEN 32

struct lru_node {
	uint8_t key[LRU_KEY_LEN];
	struct lru_node *hnext; /* the bucket's chain */
	struct lru_node *older, *newer;
};

struct lru {
	struct lru_node **buckets;
	size_t mask;
	struct lru_node *oldest, *newest;
	size_t count;
	uint8_t hkey[16];
};

/* The entry of type @type whose member @member is the node @n. */
#define lru_entry(n, type, member) ((type *)(void *)((char *)(n)-offsetof(type, member)))

/*
 * lru_init() - an empty index sized for @max_entries (buckets: the next power of two). Returns 0,
 * or -1 with errno set (ENOMEM, or getrandom's error).
 */
int lru_init(struct lru *l, size_t max_entries);

/* lru_fini() - release the buckets; the entries still indexed stay the caller's. */
void lru_fini(struct lru *l);

/* lru_find() - the node with @key, made the most recent; NULL when absent. */
struct lru_node *lru_find(struct lru *l, const uint8_t key[static LRU_KEY_LEN]);

/* lru_insert() - index @n (its key set, not indexed yet, no other node with that key) as newest. */
void lru_insert(struct lru *l, struct lru_node *n);

/* lru_remove() - take @n out of the index; it stays the caller's. */
void lru_remove(struct lru *l, struct lru_node *n);

/* lru_touch() - make @n the most recent. */
void lru_touch(struct lru *l, struct lru_node *n);

/* The least recent node, or NULL; the next more recent after @n, or NULL. */
struct lru_node *lru_oldest(const struct lru *l);
struct lru_node *lru_newer(const struct lru_node *n);

#endif
