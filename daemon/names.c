/* SPDX-License-Identifier: GPL-2.0-or-later */
/* names.c - learned (client, address) -> name pairs; see names.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include "tlsgate/siphash.h"

#include "names.h"

struct name_slot {
	uint64_t expires_ms; /* 0: empty */
	uint8_t cfamily, sfamily;
	uint8_t client[16], server[16];
	uint8_t len;
	char name[TG_CAP_NAME_LEN + 1];
};

struct names {
	pthread_mutex_t lock;
	uint8_t key[16];
	struct name_slot slots[NAMES_ENTRIES];
};

struct names *names_new(void)
{
	struct names *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	if (getrandom(n->key, sizeof(n->key), 0) != (ssize_t)sizeof(n->key)) {
		free(n);
		return NULL;
	}
	pthread_mutex_init(&n->lock, NULL);
	return n;
}

void names_free(struct names *n)
{
	if (n == NULL)
		return;
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static size_t names_alen(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/* Keyed: the server addresses come from answers a client's own zone may choose. */
static size_t names_hash(const struct names *n, uint8_t cfamily, const uint8_t *client,
			 uint8_t sfamily, const uint8_t *server)
{
	struct tg_siphash h;

	tg_siphash_init(&h, n->key);
	tg_siphash_update(&h, &cfamily, 1);
	tg_siphash_update(&h, client, names_alen(cfamily));
	tg_siphash_update(&h, &sfamily, 1);
	tg_siphash_update(&h, server, names_alen(sfamily));
	return (size_t)tg_siphash_final(&h);
}

static bool slot_is(const struct name_slot *s, uint8_t cfamily, const uint8_t *client,
		    uint8_t sfamily, const uint8_t *server)
{
	return s->expires_ms && s->cfamily == cfamily && s->sfamily == sfamily &&
	       memcmp(s->client, client, names_alen(cfamily)) == 0 &&
	       memcmp(s->server, server, names_alen(sfamily)) == 0;
}

static bool family_ok(uint8_t family)
{
	return family == 4 || family == 6;
}

enum names_learn names_learn(struct names *n, uint8_t cfamily, const uint8_t *client,
			     uint8_t sfamily, const uint8_t *server, const char *name, size_t len,
			     uint32_t ttl_s, uint64_t now_ms)
{
	struct name_slot *pick = NULL;
	enum names_learn res = NAMES_NEW;
	uint64_t expires;
	size_t h, i;

	if (len == 0 || len > TG_CAP_NAME_LEN || !family_ok(cfamily) || !family_ok(sfamily))
		return NAMES_IGNORED;
	if (ttl_s > NAMES_TTL_MAX_S)
		ttl_s = NAMES_TTL_MAX_S;
	expires = now_ms + (uint64_t)(ttl_s ? ttl_s : 1) * 1000;
	h = names_hash(n, cfamily, client, sfamily, server);
	pthread_mutex_lock(&n->lock);
	for (i = 0; i < NAMES_PROBE; i++) {
		struct name_slot *s = &n->slots[(h + i) % NAMES_ENTRIES];

		if (!slot_is(s, cfamily, client, sfamily, server) || s->expires_ms <= now_ms)
			continue;
		if (s->len != len || memcmp(s->name, name, len) != 0) {
			res = NAMES_CONFLICT;
		} else {
			if (expires > s->expires_ms)
				s->expires_ms = expires;
			res = NAMES_REFRESHED;
		}
		goto out;
	}
	/* An empty or expired slot, else the live one soonest to expire. */
	for (i = 0; i < NAMES_PROBE; i++) {
		struct name_slot *s = &n->slots[(h + i) % NAMES_ENTRIES];

		if (s->expires_ms <= now_ms) {
			pick = s;
			break;
		}
		if (pick == NULL || s->expires_ms < pick->expires_ms)
			pick = s;
	}
	if (pick->expires_ms > now_ms)
		res = NAMES_EVICTED;
	memset(pick, 0, sizeof(*pick));
	pick->cfamily = cfamily;
	pick->sfamily = sfamily;
	memcpy(pick->client, client, names_alen(cfamily));
	memcpy(pick->server, server, names_alen(sfamily));
	memcpy(pick->name, name, len);
	pick->len = (uint8_t)len;
	pick->expires_ms = expires;
out:
	pthread_mutex_unlock(&n->lock);
	return res;
}

bool names_lookup(struct names *n, uint8_t family, const uint8_t *client, const uint8_t *server,
		  char out[static TG_CAP_NAME_LEN + 1], size_t *len, uint64_t now_ms)
{
	size_t h, i;
	bool found = false;

	if (!family_ok(family))
		return false;
	h = names_hash(n, family, client, family, server);
	pthread_mutex_lock(&n->lock);
	for (i = 0; i < NAMES_PROBE; i++) {
		const struct name_slot *s = &n->slots[(h + i) % NAMES_ENTRIES];

		if (slot_is(s, family, client, family, server) && s->expires_ms > now_ms) {
			memcpy(out, s->name, s->len);
			out[s->len] = '\0';
			*len = s->len;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&n->lock);
	return found;
}
