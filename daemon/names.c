/* SPDX-License-Identifier: GPL-2.0-or-later */
/* names.c - learned address -> name pairs; see names.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

struct name_slot {
	uint64_t expires_ms; /* 0: empty */
	uint8_t family;
	uint8_t addr[16];
	uint8_t len;
	char name[TG_CAP_NAME_LEN + 1];
};

struct names {
	pthread_mutex_t lock;
	struct name_slot slots[NAMES_ENTRIES];
};

struct names *names_new(void)
{
	struct names *n = calloc(1, sizeof(*n));

	if (n != NULL)
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

static size_t names_hash(uint8_t family, const uint8_t *addr)
{
	size_t i, len = family == 4 ? 4 : 16;
	uint64_t h = 0xcbf29ce484222325ull ^ family;

	for (i = 0; i < len; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 32));
}

static bool slot_is(const struct name_slot *s, uint8_t family, const uint8_t *addr)
{
	return s->expires_ms && s->family == family &&
	       memcmp(s->addr, addr, family == 4 ? 4 : 16) == 0;
}

void names_learn(struct names *n, uint8_t family, const uint8_t *addr, const char *name, size_t len,
		 uint32_t ttl_s, uint64_t now_ms)
{
	size_t h = names_hash(family, addr), i;
	struct name_slot *pick = NULL;

	if (len == 0 || len > TG_CAP_NAME_LEN || (family != 4 && family != 6))
		return;
	if (ttl_s > NAMES_TTL_MAX_S)
		ttl_s = NAMES_TTL_MAX_S;
	pthread_mutex_lock(&n->lock);
	/* The address's own slot, else an empty or expired one, else the soonest to expire. */
	for (i = 0; i < NAMES_PROBE; i++) {
		struct name_slot *s = &n->slots[(h + i) % NAMES_ENTRIES];
		bool free_slot = s->expires_ms <= now_ms;

		if (slot_is(s, family, addr)) {
			pick = s;
			break;
		}
		if (pick == NULL || (free_slot && pick->expires_ms > now_ms) ||
		    (!free_slot && pick->expires_ms > now_ms && s->expires_ms < pick->expires_ms))
			pick = s;
	}
	memset(pick, 0, sizeof(*pick));
	pick->family = family;
	memcpy(pick->addr, addr, family == 4 ? 4 : 16);
	memcpy(pick->name, name, len);
	pick->len = (uint8_t)len;
	pick->expires_ms = now_ms + (uint64_t)(ttl_s ? ttl_s : 1) * 1000;
	pthread_mutex_unlock(&n->lock);
}

bool names_lookup(struct names *n, uint8_t family, const uint8_t *addr,
		  char out[static TG_CAP_NAME_LEN + 1], size_t *len, uint64_t now_ms)
{
	size_t h = names_hash(family, addr), i;
	bool found = false;

	pthread_mutex_lock(&n->lock);
	for (i = 0; i < NAMES_PROBE; i++) {
		const struct name_slot *s = &n->slots[(h + i) % NAMES_ENTRIES];

		if (slot_is(s, family, addr) && s->expires_ms > now_ms) {
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
