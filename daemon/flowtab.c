/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flowtab.c - the engine's table of TCP flows being decided (engine_impl.h): a keyed hash of
 * 4-tuples (SipHash, random key per table, against hash flooding), the list of all flows in
 * the order of their last state change (expiry walks only its old end), the short list of
 * flows with first bytes and no decision (the incomplete timeout), and the per-client count
 * of undecided flows (the per-source quota). Eviction when full takes the oldest SYN-only
 * flow. Single-threaded: one table per queue thread.
 */
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include "tlsgate/reasm.h"

#include "engine_impl.h"
#include "tuple.h"

#define FLOWTAB_SOURCE_BUCKETS 4096

static const uint8_t eng_zero[16];

static uint64_t key_hash(const struct engine *e, uint8_t family, const uint8_t *c, uint16_t cp,
			 const uint8_t *s, uint16_t sp)
{
	return tuple_hash(e->key, family, c, cp, s, sp);
}

static bool key_eq(const struct eflow *fl, uint8_t family, const uint8_t *c, uint16_t cp,
		   const uint8_t *s, uint16_t sp)
{
	size_t n = family == 4 ? 4 : 16;

	return fl->f.family == family && fl->f.client_port == cp && fl->f.server_port == sp &&
	       !memcmp(fl->f.client, c, n) && !memcmp(fl->f.server, s, n);
}

/* The flow count of @addr, created at its first flow; NULL when out of memory. */
static struct eng_source *source_get(struct engine *e, uint8_t family, const uint8_t *addr)
{
	size_t n = family == 4 ? 4 : 16;
	struct eng_source **pp =
		&e->srcs[tuple_hash(e->key, family, addr, 0, eng_zero, 0) & e->src_mask];
	struct eng_source *s;

	for (s = *pp; s != NULL; s = s->next)
		if (s->family == family && !memcmp(s->addr, addr, n))
			return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->family = family;
	memcpy(s->addr, addr, n);
	s->next = *pp;
	*pp = s;
	return s;
}

void flowtab_source_put(struct engine *e, struct eng_source *s)
{
	struct eng_source **pp;

	if (s == NULL || --s->flows > 0)
		return;
	pp = &e->srcs[tuple_hash(e->key, s->family, s->addr, 0, eng_zero, 0) & e->src_mask];
	while (*pp != NULL && *pp != s)
		pp = &(*pp)->next;
	if (*pp == s)
		*pp = s->next;
	free(s);
}

static void lru_unlink(struct eflow *fl)
{
	fl->lru_prev->lru_next = fl->lru_next;
	fl->lru_next->lru_prev = fl->lru_prev;
}

static void lru_push(struct engine *e, struct eflow *fl)
{
	fl->lru_prev = e->lru.lru_prev;
	fl->lru_next = &e->lru;
	e->lru.lru_prev->lru_next = fl;
	e->lru.lru_prev = fl;
}

/* A state change: the flow moves to the young end, so engine_tick() can stop early. */
void flowtab_state(struct engine *e, struct eflow *fl, enum eflow_state st, uint64_t now_ms)
{
	fl->state = st;
	fl->state_ms = now_ms;
	lru_unlink(fl);
	lru_push(e, fl);
}

void flowtab_part_add(struct engine *e, struct eflow *fl)
{
	if (fl->in_part)
		return;
	fl->part_prev = e->part.part_prev;
	fl->part_next = &e->part;
	e->part.part_prev->part_next = fl;
	e->part.part_prev = fl;
	fl->in_part = true;
}

void flowtab_part_del(struct eflow *fl)
{
	if (!fl->in_part)
		return;
	fl->part_prev->part_next = fl->part_next;
	fl->part_next->part_prev = fl->part_prev;
	fl->in_part = false;
}

void flowtab_remove(struct engine *e, struct eflow *fl)
{
	struct eflow **pp = &e->tab[key_hash(e, fl->f.family, fl->f.client, fl->f.client_port,
					     fl->f.server, fl->f.server_port) &
				    e->tab_mask];

	while (*pp != NULL && *pp != fl)
		pp = &(*pp)->next;
	if (*pp == fl)
		*pp = fl->next;
	lru_unlink(fl);
	flowtab_part_del(fl);
	flowtab_source_put(e, fl->src);
	tg_reasm_free(fl->reasm);
	tg_reasm_free(fl->sreasm);
	free(fl);
	e->nflows--;
}

/* Find the flow of a packet in either direction; *to_server tells which. */
struct eflow *flowtab_find(struct engine *e, const struct tg_pkt *p, bool *to_server)
{
	struct eflow *fl;

	for (fl = e->tab[key_hash(e, p->ip_version, p->src, p->sport, p->dst, p->dport) &
			 e->tab_mask];
	     fl != NULL; fl = fl->next)
		if (key_eq(fl, p->ip_version, p->src, p->sport, p->dst, p->dport)) {
			*to_server = true;
			return fl;
		}
	for (fl = e->tab[key_hash(e, p->ip_version, p->dst, p->dport, p->src, p->sport) &
			 e->tab_mask];
	     fl != NULL; fl = fl->next)
		if (key_eq(fl, p->ip_version, p->dst, p->dport, p->src, p->sport)) {
			*to_server = false;
			return fl;
		}
	return NULL;
}

/*
 * Table full: the oldest flow that has seen only a SYN (no answer yet: a flood's favourite)
 * among the ENG_EVICT_SCAN oldest makes room. False when there is none.
 */
static bool flowtab_evict(struct engine *e)
{
	struct eflow *fl = e->lru.lru_next;
	unsigned i;

	for (i = 0; i < ENG_EVICT_SCAN && fl != &e->lru; i++, fl = fl->lru_next)
		if (fl->state == EF_SYN) {
			flowtab_remove(e, fl);
			CTR_INC(e, flows_evicted);
			return true;
		}
	return false;
}

enum flowtab_new_err flowtab_new(struct engine *e, const struct tg_pkt *p, uint64_t now_ms,
				 struct eflow **out)
{
	struct eng_source *src;
	struct eflow *fl;
	size_t i;

	*out = NULL;
	if (e->nflows >= ENG_MAX_FLOWS && !flowtab_evict(e))
		return FLOWTAB_NEW_FULL;
	src = source_get(e, p->ip_version, p->src);
	if (src == NULL)
		return FLOWTAB_NEW_FULL;
	if (src->flows >= ENG_MAX_FLOWS_PER_SOURCE)
		return FLOWTAB_NEW_SOURCE;
	fl = calloc(1, sizeof(*fl));
	if (fl == NULL) {
		src->flows++;
		flowtab_source_put(e, src);
		return FLOWTAB_NEW_FULL;
	}
	src->flows++;
	fl->src = src;
	fl->f.family = p->ip_version;
	memcpy(fl->f.client, p->src, 16);
	memcpy(fl->f.server, p->dst, 16);
	fl->f.client_port = p->sport;
	fl->f.server_port = p->dport;
	fl->state_ms = now_ms;
	i = key_hash(e, p->ip_version, p->src, p->sport, p->dst, p->dport) & e->tab_mask;
	fl->next = e->tab[i];
	e->tab[i] = fl;
	lru_push(e, fl);
	e->nflows++;
	CTR_INC(e, flows_new);
	*out = fl;
	return FLOWTAB_NEW_OK;
}

int flowtab_init(struct engine *e)
{
	size_t size = 1;

	e->lru.lru_next = e->lru.lru_prev = &e->lru;
	e->part.part_next = e->part.part_prev = &e->part;
	while (size < ENG_MAX_FLOWS)
		size <<= 1;
	e->tab = calloc(size, sizeof(*e->tab));
	e->srcs = calloc(FLOWTAB_SOURCE_BUCKETS, sizeof(*e->srcs));
	if (e->tab == NULL || e->srcs == NULL ||
	    getrandom(e->key, sizeof(e->key), 0) != (ssize_t)sizeof(e->key))
		return -1;
	e->tab_mask = size - 1;
	e->src_mask = FLOWTAB_SOURCE_BUCKETS - 1;
	return 0;
}

void flowtab_fini(struct engine *e)
{
	struct eflow *fl, *next;

	/* Initialized lists (an engine whose init failed has none: lru_next is NULL). */
	for (fl = e->lru.lru_next; fl != NULL && fl != &e->lru; fl = next) {
		next = fl->lru_next;
		flowtab_remove(e, fl);
	}
	free(e->srcs);
	e->srcs = NULL;
	free(e->tab);
	e->tab = NULL;
}
