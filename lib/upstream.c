/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upstream.c - unsupported-upstream exclusions (contract in upstream.h).
 *
 * One seqtab table. Key words: w[0] = kind | port << 8 | len << 24 (kind 1 = SNI, 2 = address),
 * then the lowercased SNI or the 16 address bytes, zero-padded. Value words:
 * { reason, since_ms, expires_ms, adds }.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/seqtab.h"
#include "tlsgate/upstream.h"

#define KW (1 + (TG_CAP_NAME_LEN + 7) / 8)
#define VW 4

enum { V_REASON = 0, V_SINCE = 1, V_END = 2, V_ADDS = 3 };
enum { K_SNI = 1, K_ADDR = 2 };
enum { C_ADDED, C_REFRESHED, C_EVICTED, C_EXPIRED, C_REMOVED, C__COUNT };

struct tg_upstream {
	struct tg_upstream_cfg cfg;
	uint64_t ttl_ms;
	uint8_t key[16];
	struct tg_seqtab *tab;
	_Atomic uint64_t c[C__COUNT];
};

struct ukey {
	uint64_t w[KW];
	struct tg_seqtab_key k;
};

static const char *const reason_names[] = {
	[TG_UPSTREAM_NO_TLS12] = "no-tls12",
	[TG_UPSTREAM_CLIENT_CERT] = "client-cert",
	[TG_UPSTREAM_PROTOCOL_VERSION] = "protocol-version",
	[TG_UPSTREAM_OTHER] = "other",
};

const char *tg_upstream_reason_name(enum tg_upstream_reason r)
{
	if (r < TG_UPSTREAM_NO_TLS12 || r > TG_UPSTREAM_REASON__MAX)
		return "unknown";
	return reason_names[r];
}

static void cnt(struct tg_upstream *t, int c, uint64_t n)
{
	atomic_store_explicit(&t->c[c], atomic_load_explicit(&t->c[c], memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static bool server_ok(const struct tg_upstream_server *srv)
{
	return srv != NULL && srv->sni_len <= TG_CAP_NAME_LEN && (srv->sni_len == 0 || srv->sni);
}

static void key_pack(const struct tg_upstream *t, const struct tg_upstream_server *srv,
		     struct ukey *uk)
{
	uint8_t *b = (uint8_t *)&uk->w[1];
	size_t i, len = srv->sni_len ? srv->sni_len : sizeof(srv->addr);
	uint8_t kind = srv->sni_len ? K_SNI : K_ADDR;

	/* Only the first nw words are ever read: zero the padding of the last one. */
	uk->k.nw = (uint32_t)(1 + (len + 7) / 8);
	uk->w[uk->k.nw - 1] = 0;
	uk->w[0] = kind | (uint64_t)srv->port << 8 | (uint64_t)len << 24;
	for (i = 0; i < len; i++) {
		uint8_t c = srv->sni_len ? srv->sni[i] : srv->addr[i];

		if (kind == K_SNI && c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		b[i] = c;
	}
	uk->k.w = uk->w;
	uk->k.hash = tg_seqtab_hash(t->key, uk->w, 8 + len);
}

void tg_upstream_cfg_default(struct tg_upstream_cfg *cfg)
{
	cfg->ttl_s = 3600;
	cfg->max = 4096;
}

#define STR_(x) #x
#define STR(x)	STR_(x)

enum tg_err tg_upstream_cfg_check(const struct tg_upstream_cfg *cfg, const char **what)
{
	const char *bad = NULL;

	if (cfg->ttl_s < 1)
		bad = "ttl_s: must be at least 1";
	else if (cfg->max < 1 || cfg->max > TG_CAP_UPSTREAM_EXCL)
		bad = "max: must be 1.." STR(TG_CAP_UPSTREAM_EXCL);
	if (what != NULL)
		*what = bad;
	return bad ? TG_ERR_ARG : TG_OK;
}

enum tg_err tg_upstream_new(const struct tg_upstream_cfg *cfg, const uint8_t key[static 16],
			    struct tg_upstream **out)
{
	struct tg_upstream *t = NULL;
	enum tg_err err;
	int i;

	*out = NULL;
	err = tg_upstream_cfg_check(cfg, NULL);
	if (err != TG_OK)
		goto out;
	err = TG_ERR_NOMEM;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto out;
	t->cfg = *cfg;
	t->ttl_ms = (uint64_t)cfg->ttl_s * 1000;
	memcpy(t->key, key, sizeof(t->key));
	for (i = 0; i < C__COUNT; i++)
		atomic_init(&t->c[i], 0);
	err = tg_seqtab_new(cfg->max, KW, VW, &t->tab);
	if (err != TG_OK)
		goto out;
	*out = t;
	t = NULL;
out:
	tg_upstream_free(t);
	return err;
}

void tg_upstream_free(struct tg_upstream *t)
{
	if (t == NULL)
		return;
	tg_seqtab_free(t->tab);
	free(t);
}

enum tg_err tg_upstream_excl_add(struct tg_upstream *t, const struct tg_upstream_server *srv,
				 enum tg_upstream_reason why, uint64_t now_ms)
{
	uint64_t val[VW];
	struct ukey uk;
	uint32_t r;

	if (!server_ok(srv) || why < TG_UPSTREAM_NO_TLS12 || why > TG_UPSTREAM_REASON__MAX)
		return TG_ERR_ARG;
	key_pack(t, srv, &uk);
	if (tg_seqtab_find(t->tab, &uk.k, &r)) {
		tg_seqtab_get(t->tab, r, NULL, val);
		if (now_ms < val[V_END]) {
			val[V_ADDS]++;
			cnt(t, C_REFRESHED, 1);
		} else {
			val[V_ADDS] = 1;
			cnt(t, C_EXPIRED, 1);
			cnt(t, C_ADDED, 1);
		}
		val[V_REASON] = why;
		val[V_SINCE] = now_ms;
		val[V_END] = add_sat(now_ms, t->ttl_ms);
		tg_seqtab_set(t->tab, r, val);
		tg_seqtab_touch(t->tab, r, now_ms);
		return TG_OK;
	}
	while (tg_seqtab_count(t->tab) >= t->cfg.max && tg_seqtab_lru(t->tab, &r)) {
		tg_seqtab_delete(t->tab, r);
		cnt(t, C_EVICTED, 1);
	}
	val[V_REASON] = why;
	val[V_SINCE] = now_ms;
	val[V_END] = add_sat(now_ms, t->ttl_ms);
	val[V_ADDS] = 1;
	cnt(t, C_ADDED, 1);
	return tg_seqtab_insert(t->tab, &uk.k, val, now_ms, NULL);
}

static void excl_fill(const uint64_t *val, struct tg_upstream_excl *e)
{
	e->reason = (enum tg_upstream_reason)val[V_REASON];
	e->since_ms = val[V_SINCE];
	e->expires_ms = val[V_END];
	e->adds = (uint32_t)val[V_ADDS];
}

bool tg_upstream_excl_lookup(const struct tg_upstream *t, const struct tg_upstream_server *srv,
			     uint64_t now_ms, struct tg_upstream_excl *out)
{
	uint64_t val[VW];
	struct ukey uk;

	if (!server_ok(srv))
		return false;
	key_pack(t, srv, &uk);
	if (!tg_seqtab_lookup(t->tab, &uk.k, val, now_ms, NULL) || now_ms >= val[V_END])
		return false;
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		excl_fill(val, out);
	}
	return true;
}

enum tg_err tg_upstream_excl_remove(struct tg_upstream *t, const struct tg_upstream_server *srv)
{
	struct ukey uk;
	uint32_t r;

	if (!server_ok(srv))
		return TG_ERR_ARG;
	key_pack(t, srv, &uk);
	if (!tg_seqtab_find(t->tab, &uk.k, &r))
		return TG_ERR_NOT_FOUND;
	tg_seqtab_delete(t->tab, r);
	cnt(t, C_REMOVED, 1);
	return TG_OK;
}

size_t tg_upstream_expire(struct tg_upstream *t, uint64_t now_ms)
{
	uint32_t r, n = tg_seqtab_capacity(t->tab);
	uint64_t val[VW];
	size_t freed = 0;

	for (r = 0; r < n; r++) {
		if (tg_seqtab_get(t->tab, r, NULL, val) && now_ms >= val[V_END]) {
			tg_seqtab_delete(t->tab, r);
			freed++;
		}
	}
	cnt(t, C_EXPIRED, freed);
	return freed;
}

struct list_ctx {
	uint64_t now;
	bool (*cb)(const struct tg_upstream_excl *e, void *arg);
	void *arg;
};

static bool list_one(const uint64_t *key, const uint64_t *val, void *arg)
{
	const struct list_ctx *lc = arg;
	const uint8_t *b = (const uint8_t *)&key[1];
	size_t len = (key[0] >> 24) & 0xff;
	struct tg_upstream_excl e;

	if (lc->now >= val[V_END])
		return true;
	memset(&e, 0, sizeof(e));
	excl_fill(val, &e);
	e.port = (uint16_t)(key[0] >> 8);
	if ((key[0] & 0xff) == K_SNI) {
		e.sni_len = len > TG_CAP_NAME_LEN ? TG_CAP_NAME_LEN : len;
		memcpy(e.sni, b, e.sni_len);
	} else {
		memcpy(e.addr, b, sizeof(e.addr));
	}
	return lc->cb(&e, lc->arg);
}

void tg_upstream_list(const struct tg_upstream *t, uint64_t now_ms,
		      bool (*cb)(const struct tg_upstream_excl *e, void *arg), void *arg)
{
	struct list_ctx lc = { now_ms, cb, arg };

	tg_seqtab_walk(t->tab, list_one, &lc);
}

void tg_upstream_stats(const struct tg_upstream *t, struct tg_upstream_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->added = atomic_load_explicit(&t->c[C_ADDED], memory_order_relaxed);
	out->refreshed = atomic_load_explicit(&t->c[C_REFRESHED], memory_order_relaxed);
	out->evicted = atomic_load_explicit(&t->c[C_EVICTED], memory_order_relaxed);
	out->expired = atomic_load_explicit(&t->c[C_EXPIRED], memory_order_relaxed);
	out->removed = atomic_load_explicit(&t->c[C_REMOVED], memory_order_relaxed);
	out->held = tg_seqtab_count(t->tab);
}
