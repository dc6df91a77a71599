/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bypass.c - the dynamic bypass table (rules and threading in bypass.h, layout in
 * bypass_impl.h): the object and its configuration, principals and the packed key, and the
 * readers any thread may call. What the one writer does is bypass_write.c's.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bypass_impl.h"

static const char *const result_names[TG_BYPASS_RESULT__COUNT] = {
	[TG_BYPASS_COUNTED] = "counted",
	[TG_BYPASS_LIVE] = "live",
	[TG_BYPASS_ALREADY_LIVE] = "already-live",
	[TG_BYPASS_REFUSED_FILTERED] = "refused-filtered",
	[TG_BYPASS_REFUSED_ECH] = "refused-ech",
	[TG_BYPASS_REFUSED_RULE] = "refused-rule",
	[TG_BYPASS_CA_MISSING_ENTERED] = "ca-missing-entered",
	[TG_BYPASS_CA_MISSING] = "ca-missing",
	[TG_BYPASS_INVALID] = "invalid",
};

const char *tg_bypass_result_name(enum tg_bypass_result r)
{
	if ((unsigned)r >= TG_BYPASS_RESULT__COUNT)
		return "unknown";
	return result_names[r];
}

/* ---- principals ---- */

enum tg_err tg_bypass_principal_user(struct tg_principal *p, const uint8_t *name, size_t len)
{
	memset(p, 0, sizeof(*p));
	if (len == 0)
		return TG_ERR_ZERO_LENGTH;
	if (len > TG_CAP_USER_NAME)
		return TG_ERR_CAP;
	p->kind = TG_PRINCIPAL_USER;
	p->len = (uint8_t)len;
	memcpy(p->id, name, len);
	return TG_OK;
}

void tg_bypass_principal_addr4(struct tg_principal *p, const uint8_t addr[static 4])
{
	memset(p, 0, sizeof(*p));
	p->kind = TG_PRINCIPAL_ADDR4;
	p->len = 4;
	memcpy(p->id, addr, 4);
}

void tg_bypass_principal_addr6(struct tg_principal *p, const uint8_t addr[static 16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		tg_bypass_principal_addr4(p, addr + 12);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->kind = TG_PRINCIPAL_ADDR6;
	p->len = 16;
	memcpy(p->id, addr, 16);
}

bool bypass_principal_ok(const struct tg_principal *p)
{
	switch (p->kind) {
	case TG_PRINCIPAL_USER:
		return p->len >= 1 && p->len <= TG_CAP_USER_NAME;
	case TG_PRINCIPAL_ADDR4:
		return p->len == 4;
	case TG_PRINCIPAL_ADDR6:
		return p->len == 16;
	default:
		return false;
	}
}

/* See bypass_impl.h. */
void bypass_key_pack(const struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
		     size_t sni_len, struct bkey *bk)
{
	uint8_t *b = (uint8_t *)&bk->w[1];
	size_t i, n = (size_t)p->len + sni_len;

	/* Only the first nw words are ever read: zero the padding of the last one. */
	bk->k.nw = (uint32_t)(1 + (n + 7) / 8);
	bk->w[bk->k.nw - 1] = 0;
	bk->w[0] = p->kind | (uint64_t)p->len << 8 | (uint64_t)sni_len << 16;
	memcpy(b, p->id, p->len);
	for (i = 0; i < sni_len; i++) {
		uint8_t c = sni[i];

		b[p->len + i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
	}
	bk->k.w = bk->w;
	bk->k.hash = tg_seqtab_hash(t->key, bk->w, 8 + n);
}

/* Unpack key words into an entry (lengths come from our own packing; clamp anyway). */
static void key_unpack(const uint64_t *w, struct tg_bypass_entry *e)
{
	const uint8_t *b = (const uint8_t *)&w[1];
	size_t plen = (w[0] >> 8) & 0xff, slen = (w[0] >> 16) & 0xff;

	if (plen > TG_CAP_USER_NAME)
		plen = TG_CAP_USER_NAME;
	if (slen > TG_CAP_NAME_LEN)
		slen = TG_CAP_NAME_LEN;
	memset(&e->principal, 0, sizeof(e->principal));
	e->principal.kind = (uint8_t)(w[0] & 0xff);
	e->principal.len = (uint8_t)plen;
	memcpy(e->principal.id, b, plen);
	memcpy(e->sni, b + plen, slen);
	e->sni_len = slen;
}

bool bypass_input_ok(const struct tg_principal *p, const uint8_t *sni, size_t sni_len)
{
	return p != NULL && bypass_principal_ok(p) && sni != NULL && sni_len >= 1 &&
	       sni_len <= TG_CAP_NAME_LEN;
}

/* ---- configuration ---- */

void tg_bypass_cfg_default(struct tg_bypass_cfg *cfg)
{
	cfg->failures = 3;
	cfg->window_s = 600;
	cfg->ttl_s = 86400;
	cfg->per_user_max = 64;
	cfg->total_max = 4096;
	cfg->ca_missing_hosts = 8;
	cfg->ca_missing_window_s = 120;
	cfg->ca_missing_ttl_s = 3600;
}

#define STR_(x) #x
#define STR(x)	STR_(x)

enum tg_err tg_bypass_cfg_check(const struct tg_bypass_cfg *cfg, const char **what)
{
	const char *bad = NULL;

	if (cfg->failures < 1 || cfg->failures > TG_CAP_BYPASS_FAILURES)
		bad = "failures: must be 1.." STR(TG_CAP_BYPASS_FAILURES);
	else if (cfg->window_s < 1)
		bad = "window_s: must be at least 1";
	else if (cfg->ttl_s < 1)
		bad = "ttl_s: must be at least 1";
	else if (cfg->total_max < 1 || cfg->total_max > TG_CAP_BYPASS_ENTRIES)
		bad = "total_max: must be 1.." STR(TG_CAP_BYPASS_ENTRIES);
	else if (cfg->per_user_max < 1 || cfg->per_user_max > cfg->total_max)
		bad = "per_user_max: must be 1..total_max";
	else if (cfg->ca_missing_hosts == 1 || cfg->ca_missing_hosts > TG_CAP_BYPASS_CA_HOSTS)
		bad = "ca_missing_hosts: must be 0 (off) or 2.." STR(TG_CAP_BYPASS_CA_HOSTS);
	else if (cfg->ca_missing_hosts && cfg->ca_missing_window_s < 1)
		bad = "ca_missing_window_s: must be at least 1";
	else if (cfg->ca_missing_hosts && cfg->ca_missing_ttl_s < 1)
		bad = "ca_missing_ttl_s: must be at least 1";
	if (what != NULL)
		*what = bad;
	return bad ? TG_ERR_ARG : TG_OK;
}

void tg_bypass_free(struct tg_bypass *t)
{
	if (t == NULL)
		return;
	tg_seqtab_free(t->live);
	tg_seqtab_free(t->cand);
	tg_seqtab_free(t->prin);
	free(t->lp.owner);
	free(t->lp.prev);
	free(t->lp.next);
	free(t->cp.owner);
	free(t->cp.prev);
	free(t->cp.next);
	free(t->cand_ts);
	free(t->cand_n);
	free(t->ps);
	free(t->hosts);
	free(t);
}

enum tg_err tg_bypass_new(const struct tg_bypass_cfg *cfg, const uint8_t key[static 16],
			  struct tg_bypass **out)
{
	struct tg_bypass *t = NULL;
	enum tg_err err;
	size_t n;
	int i;

	*out = NULL;
	err = tg_bypass_cfg_check(cfg, NULL);
	if (err != TG_OK)
		goto out;
	err = TG_ERR_NOMEM;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto out;
	t->cfg = *cfg;
	t->window_ms = (uint64_t)cfg->window_s * 1000;
	t->ttl_ms = (uint64_t)cfg->ttl_s * 1000;
	t->ca_window_ms = (uint64_t)cfg->ca_missing_window_s * 1000;
	t->ca_ttl_ms = (uint64_t)cfg->ca_missing_ttl_s * 1000;
	memcpy(t->key, key, sizeof(t->key));
	for (i = 0; i < C__COUNT; i++)
		atomic_init(&t->c[i], 0);
	n = cfg->total_max;
	err = tg_seqtab_new(cfg->total_max, ENT_KW, ENT_VW, &t->live);
	if (err == TG_OK)
		err = tg_seqtab_new(cfg->total_max, ENT_KW, ENT_VW, &t->cand);
	if (err == TG_OK)
		err = tg_seqtab_new(2 * cfg->total_max + 1, PRIN_KW, PRIN_VW, &t->prin);
	if (err != TG_OK)
		goto out;
	err = TG_ERR_NOMEM;
	t->lp.owner = calloc(n, sizeof(uint32_t));
	t->lp.prev = calloc(n, sizeof(uint32_t));
	t->lp.next = calloc(n, sizeof(uint32_t));
	t->cp.owner = calloc(n, sizeof(uint32_t));
	t->cp.prev = calloc(n, sizeof(uint32_t));
	t->cp.next = calloc(n, sizeof(uint32_t));
	t->cand_ts = calloc(n * cfg->failures, sizeof(uint64_t));
	t->cand_n = calloc(n, 1);
	t->ps = calloc(2 * n + 1, sizeof(*t->ps));
	t->hosts = calloc((2 * n + 1) * (cfg->ca_missing_hosts ? cfg->ca_missing_hosts : 1),
			  sizeof(*t->hosts));
	t->idle_head = t->idle_tail = NIL;
	if (!t->lp.owner || !t->lp.prev || !t->lp.next || !t->cp.owner || !t->cp.prev ||
	    !t->cp.next || !t->cand_ts || !t->cand_n || !t->ps || !t->hosts)
		goto out;
	*out = t;
	t = NULL;
	err = TG_OK;
out:
	tg_bypass_free(t);
	return err;
}

/* ---- readers ---- */

bool tg_bypass_lookup(const struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
		      size_t sni_len, uint64_t now_ms, uint64_t *expires_ms)
{
	uint64_t val[ENT_VW];
	struct bkey bk;

	if (!bypass_input_ok(p, sni, sni_len))
		return false;
	bypass_key_pack(t, p, sni, sni_len, &bk);
	if (!tg_seqtab_lookup(t->live, &bk.k, val, now_ms, NULL) || now_ms >= val[V_END])
		return false;
	if (expires_ms != NULL)
		*expires_ms = val[V_END];
	return true;
}

bool tg_bypass_ca_missing(const struct tg_bypass *t, const struct tg_principal *p, uint64_t now_ms,
			  uint64_t *until_ms)
{
	uint64_t val[PRIN_VW];
	struct bkey pk;

	if (p == NULL || !bypass_principal_ok(p))
		return false;
	bypass_key_pack(t, p, NULL, 0, &pk);
	if (!tg_seqtab_lookup(t->prin, &pk.k, val, now_ms, NULL) || now_ms >= val[P_UNTIL])
		return false;
	if (until_ms != NULL)
		*until_ms = val[P_UNTIL];
	return true;
}

struct list_ctx {
	const struct tg_bypass *t;
	enum tg_bypass_state state;
	uint64_t now;
	bool (*cb)(const struct tg_bypass_entry *e, void *arg);
	void *arg;
	bool stop;
};

static bool list_one(const uint64_t *key, const uint64_t *val, void *arg)
{
	struct list_ctx *lc = arg;
	struct tg_bypass_entry e;

	memset(&e, 0, sizeof(e));
	key_unpack(key, &e);
	e.state = lc->state;
	switch (lc->state) {
	case TG_BYPASS_STATE_LIVE:
		e.since_ms = val[V_SINCE];
		e.expires_ms = val[V_END];
		e.rejections = (uint32_t)val[V_COUNT];
		if (lc->now >= e.expires_ms)
			return true;
		break;
	case TG_BYPASS_STATE_CANDIDATE:
		e.since_ms = val[V_SINCE];
		e.expires_ms = bypass_add_sat(val[V_END], lc->t->window_ms);
		e.rejections = (uint32_t)val[V_COUNT];
		if (!bypass_in_window(val[V_END], lc->now, lc->t->window_ms))
			return true;
		break;
	default:
		e.since_ms = val[P_SINCE];
		e.expires_ms = val[P_UNTIL];
		e.sni_len = 0;
		if (lc->now >= e.expires_ms)
			return true;
		break;
	}
	lc->stop = !lc->cb(&e, lc->arg);
	return !lc->stop;
}

void tg_bypass_list(const struct tg_bypass *t, unsigned states, uint64_t now_ms,
		    bool (*cb)(const struct tg_bypass_entry *e, void *arg), void *arg)
{
	struct list_ctx lc = { t, TG_BYPASS_STATE_LIVE, now_ms, cb, arg, false };

	if (states & TG_BYPASS_STATE_LIVE)
		tg_seqtab_walk(t->live, list_one, &lc);
	lc.state = TG_BYPASS_STATE_CANDIDATE;
	if (!lc.stop && (states & TG_BYPASS_STATE_CANDIDATE))
		tg_seqtab_walk(t->cand, list_one, &lc);
	lc.state = TG_BYPASS_STATE_CA_MISSING;
	if (!lc.stop && (states & TG_BYPASS_STATE_CA_MISSING))
		tg_seqtab_walk(t->prin, list_one, &lc);
}

void tg_bypass_stats(const struct tg_bypass *t, struct tg_bypass_stats *out)
{
	memset(out, 0, sizeof(*out));
#define C_COPY(n) out->n = atomic_load_explicit(&t->c[C_##n], memory_order_relaxed);
	COUNTERS(C_COPY)
#undef C_COPY
	out->live = tg_seqtab_count(t->live);
	out->candidates = tg_seqtab_count(t->cand);
	out->principals = tg_seqtab_count(t->prin);
}
