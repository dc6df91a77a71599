/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bypass.c - the dynamic bypass table (rules and threading in bypass.h).
 *
 * Three seqtab tables, each bounded by cfg.total_max records:
 *
 *   live  (principal, SNI) -> { went_live_ms, expires_ms, rejections }   read by any thread
 *   cand  (principal, SNI) -> { first_ms, last_ms, rejections }           writer (listable)
 *   prin  principal        -> { ca_until_ms, ca_since_ms }                read by any thread
 *
 * Key words: w[0] = kind | principal_len << 8 | sni_len << 16, then the principal id bytes and
 * the lowercased SNI bytes back to back, zero-padded. The hash covers only the bytes used.
 *
 * Writer-private state sits in arrays parallel to the records: for live and candidate records,
 * the owning principal and a per-principal doubly linked list (for per_user_max); for each
 * principal, its list heads and counts, and the distinct hosts it rejected recently (the
 * ca_missing detector: a ring of (SNI hash, time), at most ca_missing_hosts long).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/bypass.h"
#include "tlsgate/seqtab.h"

#define NIL	  UINT32_MAX
#define KEY_BYTES (TG_CAP_USER_NAME + TG_CAP_NAME_LEN)
#define ENT_KW	  (1 + (KEY_BYTES + 7) / 8)
#define ENT_VW	  3
#define PRIN_KW	  (1 + (TG_CAP_USER_NAME + 7) / 8)
#define PRIN_VW	  2

/* Value word positions. */
enum { V_SINCE = 0, V_END = 1, V_COUNT = 2 };
enum { P_UNTIL = 0, P_SINCE = 1 };

/* clang-format off */
#define COUNTERS(X)							\
	X(reports) X(invalid) X(counted) X(went_live) X(already_live)	\
	X(refused_filtered) X(refused_ech) X(refused_rule)		\
	X(ca_missing_entered) X(ca_missing_reports) X(ca_withdrawn)	\
	X(evicted_user) X(evicted_total) X(evicted_cand)		\
	X(evicted_principal) X(expired) X(removed)
/* clang-format on */

enum {
#define C_ENUM(n) C_##n,
	COUNTERS(C_ENUM)
#undef C_ENUM
		C__COUNT
};

/* A packed key: words, and the seqtab view of them. */
struct bkey {
	uint64_t w[ENT_KW];
	struct tg_seqtab_key k;
};

/* Per-principal list membership of live or candidate records. */
struct plist {
	uint32_t *owner; /* principal record */
	uint32_t *prev, *next;
};

struct pstate {
	uint32_t live_head, cand_head;
	uint32_t nlive, ncand;
	uint32_t nhosts;
	uint32_t eprev, enext; /* on the idle list (no entries): LRU order */
	bool idle;
};

struct host_seen {
	uint64_t hash;
	uint64_t ms;
};

struct tg_bypass {
	struct tg_bypass_cfg cfg;
	uint64_t window_ms, ttl_ms, ca_window_ms, ca_ttl_ms;
	uint8_t key[16];
	struct tg_seqtab *live, *cand, *prin;
	struct plist lp, cp;
	uint64_t *cand_ts; /* failures stamps per candidate, oldest first */
	uint8_t *cand_n;
	struct pstate *ps;
	uint32_t idle_head, idle_tail; /* principals without entries, least recent first */
	struct host_seen *hosts; /* ca_missing_hosts per principal */
	_Atomic uint64_t c[C__COUNT];
};

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

static bool principal_ok(const struct tg_principal *p)
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

/*
 * Pack (@p, @sni) into @bk; @sni_len 0 packs the principal alone (the prin table's key). The
 * SNI is folded to lowercase so that callers that forgot to normalize still hit one key.
 */
static void key_pack(const struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
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

/* ---- small helpers ---- */

/* Counters: one writer, so a relaxed load + store (no locked add); readers see whole values. */
static void cnt_add(struct tg_bypass *t, int c, uint64_t n)
{
	atomic_store_explicit(&t->c[c], atomic_load_explicit(&t->c[c], memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static void cnt(struct tg_bypass *t, int c)
{
	cnt_add(t, c, 1);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Is a stamp at @ms inside a window of @win ms ending now? Future stamps count as recent. */
static bool in_window(uint64_t ms, uint64_t now, uint64_t win)
{
	return now < ms || now - ms < win;
}

static void pl_add(struct plist *l, uint32_t *head, uint32_t r, uint32_t owner)
{
	l->owner[r] = owner;
	l->prev[r] = NIL;
	l->next[r] = *head;
	if (*head != NIL)
		l->prev[*head] = r;
	*head = r;
}

static void pl_del(struct plist *l, uint32_t *head, uint32_t r)
{
	if (l->prev[r] != NIL)
		l->next[l->prev[r]] = l->next[r];
	else
		*head = l->next[r];
	if (l->next[r] != NIL)
		l->prev[l->next[r]] = l->prev[r];
}

/*
 * The idle list: principals that own no entry, in the order they became idle or were last
 * touched. Only these are evicted to make room for a new principal, so evicting a principal
 * never takes entries with it (the prin table holds 2 * total_max + 1: live entries and
 * candidates name at most 2 * total_max principals, so one is always idle when it is full).
 */
static void idle_del(struct tg_bypass *t, uint32_t pr)
{
	struct pstate *ps = &t->ps[pr];

	if (!ps->idle)
		return;
	if (ps->eprev != NIL)
		t->ps[ps->eprev].enext = ps->enext;
	else
		t->idle_head = ps->enext;
	if (ps->enext != NIL)
		t->ps[ps->enext].eprev = ps->eprev;
	else
		t->idle_tail = ps->eprev;
	ps->idle = false;
}

static void idle_add(struct tg_bypass *t, uint32_t pr)
{
	struct pstate *ps = &t->ps[pr];

	idle_del(t, pr);
	ps->eprev = t->idle_tail;
	ps->enext = NIL;
	if (t->idle_tail != NIL)
		t->ps[t->idle_tail].enext = pr;
	else
		t->idle_head = pr;
	t->idle_tail = pr;
	ps->idle = true;
}

static void live_del(struct tg_bypass *t, uint32_t r)
{
	uint32_t pr = t->lp.owner[r];
	struct pstate *ps = &t->ps[pr];

	pl_del(&t->lp, &ps->live_head, r);
	ps->nlive--;
	tg_seqtab_delete(t->live, r);
	if (ps->nlive + ps->ncand == 0)
		idle_add(t, pr);
}

static void cand_del(struct tg_bypass *t, uint32_t r)
{
	uint32_t pr = t->cp.owner[r];
	struct pstate *ps = &t->ps[pr];

	pl_del(&t->cp, &ps->cand_head, r);
	ps->ncand--;
	tg_seqtab_delete(t->cand, r);
	if (ps->nlive + ps->ncand == 0)
		idle_add(t, pr);
}

/* The least recently used record of a per-principal list (at most per_user_max long). */
static uint32_t pl_oldest(const struct plist *l, const struct tg_seqtab *tab, uint32_t head)
{
	uint32_t r, best = head;
	uint64_t best_ms = UINT64_MAX;

	for (r = head; r != NIL; r = l->next[r]) {
		uint64_t ms = tg_seqtab_recency(tab, r);

		if (ms < best_ms) {
			best_ms = ms;
			best = r;
		}
	}
	return best;
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

/* ---- principals table (writer) ---- */

/* Forget principal @pr and everything it owns. */
static void prin_drop(struct tg_bypass *t, uint32_t pr)
{
	while (t->ps[pr].live_head != NIL)
		live_del(t, t->ps[pr].live_head);
	while (t->ps[pr].cand_head != NIL)
		cand_del(t, t->ps[pr].cand_head);
	idle_del(t, pr);
	tg_seqtab_delete(t->prin, pr);
}

/*
 * The principal record for @pk, touched, or created if absent: making room evicts the least
 * recent idle principal (its ca_missing state and host ring are lost; it owns no entries).
 */
static uint32_t prin_get(struct tg_bypass *t, const struct bkey *pk, uint64_t now)
{
	uint32_t pr;

	if (tg_seqtab_find(t->prin, &pk->k, &pr)) {
		tg_seqtab_touch(t->prin, pr, now);
		if (t->ps[pr].idle)
			idle_add(t, pr);
		return pr;
	}
	if (tg_seqtab_count(t->prin) == tg_seqtab_capacity(t->prin)) {
		/* Full, with at most 2 * total_max owners: someone is idle. */
		if (t->idle_head == NIL)
			abort();
		prin_drop(t, t->idle_head);
		cnt(t, C_evicted_principal);
	}
	if (tg_seqtab_insert(t->prin, &pk->k, NULL, now, &pr) != TG_OK)
		abort();
	t->ps[pr].live_head = t->ps[pr].cand_head = NIL;
	t->ps[pr].nlive = t->ps[pr].ncand = t->ps[pr].nhosts = 0;
	t->ps[pr].idle = false;
	idle_add(t, pr);
	return pr;
}

/* Drop hosts that left the ca_missing window; returns how many are left. */
static uint32_t hosts_prune(struct tg_bypass *t, uint32_t pr, uint64_t now)
{
	struct host_seen *hs = &t->hosts[(size_t)pr * t->cfg.ca_missing_hosts];
	uint32_t i, n = t->ps[pr].nhosts, w = 0;

	for (i = 0; i < n; i++)
		if (in_window(hs[i].ms, now, t->ca_window_ms))
			hs[w++] = hs[i];
	t->ps[pr].nhosts = w;
	return w;
}

/* Note that @pr rejected the host with hash @h; returns the distinct hosts in the window. */
static uint32_t hosts_note(struct tg_bypass *t, uint32_t pr, uint64_t h, uint64_t now)
{
	struct host_seen *hs = &t->hosts[(size_t)pr * t->cfg.ca_missing_hosts];
	uint32_t i, n = hosts_prune(t, pr, now);

	for (i = 0; i < n; i++) {
		if (hs[i].hash == h) {
			hs[i].ms = now;
			return n;
		}
	}
	/* n < ca_missing_hosts here: reaching it enters ca_missing and empties the ring. */
	hs[n].hash = h;
	hs[n].ms = now;
	t->ps[pr].nhosts = n + 1;
	return n + 1;
}

/* @pr lacks the CA: record the state and withdraw what was learned during the burst. */
static void ca_enter(struct tg_bypass *t, uint32_t pr, uint64_t now)
{
	uint64_t val[PRIN_VW] = { [P_UNTIL] = add_sat(now, t->ca_ttl_ms), [P_SINCE] = now };
	uint32_t r, next;

	tg_seqtab_set(t->prin, pr, val);
	t->ps[pr].nhosts = 0;
	while (t->ps[pr].cand_head != NIL) {
		cand_del(t, t->ps[pr].cand_head);
		cnt(t, C_ca_withdrawn);
	}
	for (r = t->ps[pr].live_head; r != NIL; r = next) {
		uint64_t lv[ENT_VW];

		next = t->lp.next[r];
		if (tg_seqtab_get(t->live, r, NULL, lv) &&
		    in_window(lv[V_SINCE], now, t->ca_window_ms)) {
			live_del(t, r);
			cnt(t, C_ca_withdrawn);
		}
	}
}

/* ---- live entries and candidates (writer) ---- */

static void make_live(struct tg_bypass *t, uint32_t pr, const struct bkey *bk, uint64_t now,
		      uint64_t count)
{
	uint64_t val[ENT_VW] = {
		[V_SINCE] = now, [V_END] = add_sat(now, t->ttl_ms), [V_COUNT] = count
	};
	uint32_t r;

	while (t->ps[pr].nlive >= t->cfg.per_user_max) {
		live_del(t, pl_oldest(&t->lp, t->live, t->ps[pr].live_head));
		cnt(t, C_evicted_user);
	}
	while (tg_seqtab_count(t->live) >= t->cfg.total_max && tg_seqtab_lru(t->live, &r)) {
		live_del(t, r);
		cnt(t, C_evicted_total);
	}
	if (tg_seqtab_insert(t->live, &bk->k, val, now, &r) != TG_OK)
		abort();
	pl_add(&t->lp, &t->ps[pr].live_head, r, pr);
	t->ps[pr].nlive++;
	idle_del(t, pr);
	cnt(t, C_went_live);
}

static void cand_new(struct tg_bypass *t, uint32_t pr, const struct bkey *bk, uint64_t now)
{
	uint64_t val[ENT_VW] = { [V_SINCE] = now, [V_END] = now, [V_COUNT] = 1 };
	uint32_t r;

	while (t->ps[pr].ncand >= t->cfg.per_user_max) {
		cand_del(t, pl_oldest(&t->cp, t->cand, t->ps[pr].cand_head));
		cnt(t, C_evicted_cand);
	}
	while (tg_seqtab_count(t->cand) >= t->cfg.total_max && tg_seqtab_lru(t->cand, &r)) {
		cand_del(t, r);
		cnt(t, C_evicted_cand);
	}
	if (tg_seqtab_insert(t->cand, &bk->k, val, now, &r) != TG_OK)
		abort();
	pl_add(&t->cp, &t->ps[pr].cand_head, r, pr);
	t->ps[pr].ncand++;
	idle_del(t, pr);
	t->cand_ts[(size_t)r * t->cfg.failures] = now;
	t->cand_n[r] = 1;
	cnt(t, C_counted);
}

/* One more rejection for candidate @r: true when it now has `failures` in the window. */
static bool cand_count(struct tg_bypass *t, uint32_t r, uint64_t now, uint64_t *count)
{
	uint64_t *ts = &t->cand_ts[(size_t)r * t->cfg.failures];
	uint64_t val[ENT_VW];
	uint32_t i, n = t->cand_n[r], w = 0;

	for (i = 0; i < n; i++)
		if (in_window(ts[i], now, t->window_ms))
			ts[w++] = ts[i];
	/* w < failures: the rejection that reached it promoted the candidate. */
	ts[w++] = now;
	t->cand_n[r] = (uint8_t)w;
	*count = w;
	if (w >= t->cfg.failures)
		return true;
	val[V_SINCE] = ts[0];
	val[V_END] = now;
	val[V_COUNT] = w;
	tg_seqtab_set(t->cand, r, val);
	tg_seqtab_touch(t->cand, r, now);
	return false;
}

static enum tg_bypass_result learn(struct tg_bypass *t, uint32_t pr, const struct bkey *bk,
				   uint64_t now)
{
	uint64_t val[ENT_VW], count;
	uint32_t r;

	if (tg_seqtab_find(t->live, &bk->k, &r)) {
		tg_seqtab_get(t->live, r, NULL, val);
		if (now < val[V_END]) {
			val[V_COUNT]++;
			tg_seqtab_set(t->live, r, val);
			tg_seqtab_touch(t->live, r, now);
			cnt(t, C_already_live);
			return TG_BYPASS_ALREADY_LIVE;
		}
		live_del(t, r);
		cnt(t, C_expired);
	}
	if (tg_seqtab_find(t->cand, &bk->k, &r)) {
		if (!cand_count(t, r, now, &count)) {
			cnt(t, C_counted);
			return TG_BYPASS_COUNTED;
		}
		cand_del(t, r);
		make_live(t, pr, bk, now, count);
		return TG_BYPASS_LIVE;
	}
	if (t->cfg.failures == 1) {
		make_live(t, pr, bk, now, 1);
		return TG_BYPASS_LIVE;
	}
	cand_new(t, pr, bk, now);
	return TG_BYPASS_COUNTED;
}

static bool input_ok(const struct tg_principal *p, const uint8_t *sni, size_t sni_len)
{
	return p != NULL && principal_ok(p) && sni != NULL && sni_len >= 1 &&
	       sni_len <= TG_CAP_NAME_LEN;
}

enum tg_bypass_result tg_bypass_reject(struct tg_bypass *t, const struct tg_principal *p,
				       const uint8_t *sni, size_t sni_len,
				       const struct tg_bypass_report *rep, uint64_t now_ms)
{
	static const struct tg_bypass_report none = { false, false, false };
	struct bkey bk, pk;
	uint64_t pv[PRIN_VW];
	uint32_t pr;

	if (!input_ok(p, sni, sni_len)) {
		cnt(t, C_invalid);
		return TG_BYPASS_INVALID;
	}
	if (rep == NULL)
		rep = &none;
	cnt(t, C_reports);
	key_pack(t, p, sni, sni_len, &bk);
	key_pack(t, p, NULL, 0, &pk);
	pr = prin_get(t, &pk, now_ms);
	tg_seqtab_get(t->prin, pr, NULL, pv);
	if (pv[P_UNTIL] > now_ms) {
		cnt(t, C_ca_missing_reports);
		return TG_BYPASS_CA_MISSING;
	}
	if (pv[P_UNTIL] != 0) {
		pv[P_UNTIL] = pv[P_SINCE] = 0;
		tg_seqtab_set(t->prin, pr, pv);
	}
	if (t->cfg.ca_missing_hosts &&
	    hosts_note(t, pr, bk.k.hash, now_ms) >= t->cfg.ca_missing_hosts) {
		ca_enter(t, pr, now_ms);
		cnt(t, C_ca_missing_entered);
		return TG_BYPASS_CA_MISSING_ENTERED;
	}
	if (rep->filtered) {
		cnt(t, C_refused_filtered);
		return TG_BYPASS_REFUSED_FILTERED;
	}
	if (rep->ech_outer) {
		cnt(t, C_refused_ech);
		return TG_BYPASS_REFUSED_ECH;
	}
	if (!rep->rule_allows_bypass) {
		cnt(t, C_refused_rule);
		return TG_BYPASS_REFUSED_RULE;
	}
	return learn(t, pr, &bk, now_ms);
}

/* ---- readers ---- */

bool tg_bypass_lookup(const struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
		      size_t sni_len, uint64_t now_ms, uint64_t *expires_ms)
{
	uint64_t val[ENT_VW];
	struct bkey bk;

	if (!input_ok(p, sni, sni_len))
		return false;
	key_pack(t, p, sni, sni_len, &bk);
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

	if (p == NULL || !principal_ok(p))
		return false;
	key_pack(t, p, NULL, 0, &pk);
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
		e.expires_ms = add_sat(val[V_END], lc->t->window_ms);
		e.rejections = (uint32_t)val[V_COUNT];
		if (!in_window(val[V_END], lc->now, lc->t->window_ms))
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

/* ---- writer housekeeping ---- */

enum tg_err tg_bypass_remove(struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
			     size_t sni_len)
{
	enum tg_err err = TG_ERR_NOT_FOUND;
	struct bkey bk;
	uint32_t r;

	if (!input_ok(p, sni, sni_len))
		return TG_ERR_ARG;
	key_pack(t, p, sni, sni_len, &bk);
	if (tg_seqtab_find(t->live, &bk.k, &r)) {
		live_del(t, r);
		cnt(t, C_removed);
		err = TG_OK;
	}
	if (tg_seqtab_find(t->cand, &bk.k, &r)) {
		cand_del(t, r);
		cnt(t, C_removed);
		err = TG_OK;
	}
	return err;
}

enum tg_err tg_bypass_ca_clear(struct tg_bypass *t, const struct tg_principal *p)
{
	uint64_t val[PRIN_VW];
	struct bkey pk;
	uint32_t pr;

	if (p == NULL || !principal_ok(p))
		return TG_ERR_ARG;
	key_pack(t, p, NULL, 0, &pk);
	if (!tg_seqtab_find(t->prin, &pk.k, &pr))
		return TG_ERR_NOT_FOUND;
	tg_seqtab_get(t->prin, pr, NULL, val);
	if (val[P_UNTIL] == 0)
		return TG_ERR_NOT_FOUND;
	val[P_UNTIL] = val[P_SINCE] = 0;
	tg_seqtab_set(t->prin, pr, val);
	t->ps[pr].nhosts = 0;
	return TG_OK;
}

void tg_bypass_flush(struct tg_bypass *t)
{
	uint32_t r, n = tg_seqtab_capacity(t->prin);

	for (r = 0; r < n; r++) {
		if (!tg_seqtab_get(t->prin, r, NULL, NULL))
			continue;
		cnt_add(t, C_removed, t->ps[r].nlive + t->ps[r].ncand);
		prin_drop(t, r);
	}
}

size_t tg_bypass_expire(struct tg_bypass *t, uint64_t now_ms)
{
	uint32_t r, n = t->cfg.total_max;
	uint64_t val[ENT_VW];
	size_t freed = 0;

	for (r = 0; r < n; r++) {
		if (tg_seqtab_get(t->live, r, NULL, val) && now_ms >= val[V_END]) {
			live_del(t, r);
			freed++;
		}
		if (tg_seqtab_get(t->cand, r, NULL, val) &&
		    !in_window(val[V_END], now_ms, t->window_ms)) {
			cand_del(t, r);
			freed++;
		}
	}
	n = tg_seqtab_capacity(t->prin);
	for (r = 0; r < n; r++) {
		if (!tg_seqtab_get(t->prin, r, NULL, val))
			continue;
		if (val[P_UNTIL] != 0 && now_ms >= val[P_UNTIL]) {
			val[P_UNTIL] = val[P_SINCE] = 0;
			tg_seqtab_set(t->prin, r, val);
		}
		if (val[P_UNTIL] == 0 && t->ps[r].nlive == 0 && t->ps[r].ncand == 0 &&
		    (t->cfg.ca_missing_hosts == 0 || hosts_prune(t, r, now_ms) == 0))
			prin_drop(t, r);
	}
	cnt_add(t, C_expired, freed);
	return freed;
}

/* ---- administrator's entries (writer) ---- */

enum tg_err tg_bypass_add(struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
			  size_t sni_len, uint32_t ttl_s, uint64_t now_ms)
{
	uint64_t val[ENT_VW];
	struct bkey bk, pk;
	uint32_t pr, r;

	if (!input_ok(p, sni, sni_len))
		return TG_ERR_ARG;
	key_pack(t, p, sni, sni_len, &bk);
	key_pack(t, p, NULL, 0, &pk);
	pr = prin_get(t, &pk, now_ms);
	/* A candidate is superseded: the administrator decided for it. */
	if (tg_seqtab_find(t->cand, &bk.k, &r))
		cand_del(t, r);
	if (!tg_seqtab_find(t->live, &bk.k, &r)) {
		make_live(t, pr, &bk, now_ms, 0);
		if (!tg_seqtab_find(t->live, &bk.k, &r))
			abort();
	}
	tg_seqtab_get(t->live, r, NULL, val);
	val[V_SINCE] = now_ms;
	val[V_END] = add_sat(now_ms, ttl_s ? (uint64_t)ttl_s * 1000 : t->ttl_ms);
	tg_seqtab_set(t->live, r, val);
	tg_seqtab_touch(t->live, r, now_ms);
	return TG_OK;
}

size_t tg_bypass_flush_principal(struct tg_bypass *t, const struct tg_principal *p)
{
	struct bkey pk;
	size_t n;
	uint32_t pr;

	if (p == NULL || !principal_ok(p))
		return 0;
	key_pack(t, p, NULL, 0, &pk);
	if (!tg_seqtab_find(t->prin, &pk.k, &pr))
		return 0;
	n = (size_t)t->ps[pr].nlive + t->ps[pr].ncand;
	cnt_add(t, C_removed, n);
	prin_drop(t, pr);
	return n;
}
