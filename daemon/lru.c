/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lru.c - see lru.h. Chained buckets and one doubly linked list, oldest at the head. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include "tlsgate/siphash.h"

#include "lru.h"

int lru_init(struct lru *l, size_t max_entries)
{
	size_t n = 1;

	memset(l, 0, sizeof(*l));
	while (n < max_entries && n < ((size_t)1 << 30))
		n <<= 1;
	if (getrandom(l->hkey, sizeof(l->hkey), 0) != (ssize_t)sizeof(l->hkey))
		return -1;
	l->buckets = calloc(n, sizeof(*l->buckets));
	if (l->buckets == NULL)
		return -1;
	l->mask = n - 1;
	return 0;
}

void lru_fini(struct lru *l)
{
	free(l->buckets);
	memset(l, 0, sizeof(*l));
}

static struct lru_node **lru_bucket(const struct lru *l, const uint8_t key[static LRU_KEY_LEN])
{
	return &l->buckets[tg_siphash24(l->hkey, key, LRU_KEY_LEN) & l->mask];
}

static void lru_unlink(struct lru *l, struct lru_node *n)
{
	if (n->older)
		n->older->newer = n->newer;
	else
		l->oldest = n->newer;
	if (n->newer)
		n->newer->older = n->older;
	else
		l->newest = n->older;
	n->older = n->newer = NULL;
}

static void lru_append(struct lru *l, struct lru_node *n)
{
	n->older = l->newest;
	n->newer = NULL;
	if (l->newest)
		l->newest->newer = n;
	else
		l->oldest = n;
	l->newest = n;
}

struct lru_node *lru_find(struct lru *l, const uint8_t key[static LRU_KEY_LEN])
{
	struct lru_node *n;

	for (n = *lru_bucket(l, key); n != NULL; n = n->hnext)
		if (memcmp(n->key, key, LRU_KEY_LEN) == 0)
			break;
	if (n != NULL)
		lru_touch(l, n);
	return n;
}

void lru_insert(struct lru *l, struct lru_node *n)
{
	struct lru_node **b = lru_bucket(l, n->key);

	n->hnext = *b;
	*b = n;
	lru_append(l, n);
	l->count++;
}

void lru_remove(struct lru *l, struct lru_node *n)
{
	struct lru_node **pp = lru_bucket(l, n->key);

	while (*pp != NULL && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp == NULL)
		return; /* not indexed: nothing to undo */
	*pp = n->hnext;
	n->hnext = NULL;
	lru_unlink(l, n);
	l->count--;
}

void lru_touch(struct lru *l, struct lru_node *n)
{
	if (l->newest == n)
		return;
	lru_unlink(l, n);
	lru_append(l, n);
}

struct lru_node *lru_oldest(const struct lru *l)
{
	return l->oldest;
}

struct lru_node *lru_newer(const struct lru_node *n)
{
	return n->newer;
}
