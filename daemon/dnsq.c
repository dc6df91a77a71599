/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dnsq.c - pending UDP DNS queries of one engine; see dnsq.h. */
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include "tlsgate/caps.h"
#include "tlsgate/siphash.h"

#include "dnsq.h"

struct dnsq_slot {
	uint64_t expires_ms; /* 0: empty */
	uint8_t family;
	uint8_t client[16], resolver[16];
	uint16_t cport, rport, id, qtype, qclass;
	uint8_t qlen;
	char qname[TG_CAP_NAME_LEN];
};

struct dnsq {
	uint8_t key[16];
	struct dnsq_slot slots[DNSQ_ENTRIES];
};

struct dnsq *dnsq_new(void)
{
	struct dnsq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	if (getrandom(q->key, sizeof(q->key), 0) != (ssize_t)sizeof(q->key)) {
		free(q);
		return NULL;
	}
	return q;
}

void dnsq_free(struct dnsq *q)
{
	free(q);
}

static size_t dnsq_alen(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/* The window of a query: its addresses, ports and id (the name is compared on a hit). */
static size_t dnsq_hash(const struct dnsq *q, const struct dnsq_key *k)
{
	struct tg_siphash h;
	uint16_t w[3] = { k->cport, k->rport, k->id };

	tg_siphash_init(&h, q->key);
	tg_siphash_update(&h, &k->family, 1);
	tg_siphash_update(&h, k->client, dnsq_alen(k->family));
	tg_siphash_update(&h, k->resolver, dnsq_alen(k->family));
	tg_siphash_update(&h, w, sizeof(w));
	return (size_t)tg_siphash_final(&h);
}

static bool dnsq_slot_is(const struct dnsq_slot *s, const struct dnsq_key *k)
{
	size_t n = dnsq_alen(k->family);

	return s->expires_ms != 0 && s->family == k->family && s->cport == k->cport &&
	       s->rport == k->rport && s->id == k->id && s->qtype == k->qtype &&
	       s->qclass == k->qclass && s->qlen == k->qname_len &&
	       memcmp(s->client, k->client, n) == 0 && memcmp(s->resolver, k->resolver, n) == 0 &&
	       memcmp(s->qname, k->qname, k->qname_len) == 0;
}

static bool dnsq_key_ok(const struct dnsq_key *k)
{
	return (k->family == 4 || k->family == 6) && k->qname_len <= TG_CAP_NAME_LEN;
}

enum dnsq_add dnsq_add(struct dnsq *q, const struct dnsq_key *k, uint64_t now_ms, unsigned *expired)
{
	size_t h, i, n;
	struct dnsq_slot *pick = NULL;

	*expired = 0;
	if (!dnsq_key_ok(k))
		return DNSQ_FULL;
	h = dnsq_hash(q, k);
	/* The query's own slot first, so a key is never in two slots. */
	for (i = 0; i < DNSQ_PROBE; i++) {
		struct dnsq_slot *s = &q->slots[(h + i) % DNSQ_ENTRIES];

		if (!dnsq_slot_is(s, k))
			continue;
		if (s->expires_ms <= now_ms) {
			pick = s;
			break;
		}
		s->expires_ms = now_ms + DNSQ_TTL_MS;
		return DNSQ_REFRESHED;
	}
	for (i = 0; pick == NULL && i < DNSQ_PROBE; i++) {
		struct dnsq_slot *s = &q->slots[(h + i) % DNSQ_ENTRIES];

		if (s->expires_ms <= now_ms)
			pick = s;
	}
	if (pick == NULL)
		return DNSQ_FULL;
	*expired = pick->expires_ms != 0;
	n = dnsq_alen(k->family);
	memset(pick, 0, sizeof(*pick));
	pick->family = k->family;
	memcpy(pick->client, k->client, n);
	memcpy(pick->resolver, k->resolver, n);
	pick->cport = k->cport;
	pick->rport = k->rport;
	pick->id = k->id;
	pick->qtype = k->qtype;
	pick->qclass = k->qclass;
	pick->qlen = (uint8_t)k->qname_len;
	memcpy(pick->qname, k->qname, k->qname_len);
	pick->expires_ms = now_ms + DNSQ_TTL_MS;
	return DNSQ_ADDED;
}

enum dnsq_take dnsq_take(struct dnsq *q, const struct dnsq_key *k, uint64_t now_ms)
{
	size_t h, i;

	if (!dnsq_key_ok(k))
		return DNSQ_NONE;
	h = dnsq_hash(q, k);
	for (i = 0; i < DNSQ_PROBE; i++) {
		struct dnsq_slot *s = &q->slots[(h + i) % DNSQ_ENTRIES];
		bool live;

		if (!dnsq_slot_is(s, k))
			continue;
		live = s->expires_ms > now_ms;
		s->expires_ms = 0;
		return live ? DNSQ_MATCH : DNSQ_EXPIRED;
	}
	return DNSQ_NONE;
}
