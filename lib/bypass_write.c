/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bypass_write.c - the dynamic bypass table's one writer (bypass.h: the calls marked "writer"):
 * what a rejection report teaches - a candidate counted, an entry gone live, a principal that
 * lacks the CA - and the housekeeping: remove, ca_clear, flush, expire. The layout and the
 * writer-private lists are bypass_impl.h's.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bypass_impl.h"

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
		if (bypass_in_window(hs[i].ms, now, t->ca_window_ms))
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
	uint64_t val[PRIN_VW] = { [P_UNTIL] = bypass_add_sat(now, t->ca_ttl_ms), [P_SINCE] = now };
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
		    bypass_in_window(lv[V_SINCE], now, t->ca_window_ms)) {
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
		[V_SINCE] = now, [V_END] = bypass_add_sat(now, t->ttl_ms), [V_COUNT] = count
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
		if (bypass_in_window(ts[i], now, t->window_ms))
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

enum tg_bypass_result tg_bypass_reject(struct tg_bypass *t, const struct tg_principal *p,
				       const uint8_t *sni, size_t sni_len,
				       const struct tg_bypass_report *rep, uint64_t now_ms)
{
	static const struct tg_bypass_report none = { false, false, false };
	struct bkey bk, pk;
	uint64_t pv[PRIN_VW];
	uint32_t pr;

	if (!bypass_input_ok(p, sni, sni_len)) {
		cnt(t, C_invalid);
		return TG_BYPASS_INVALID;
	}
	if (rep == NULL)
		rep = &none;
	cnt(t, C_reports);
	bypass_key_pack(t, p, sni, sni_len, &bk);
	bypass_key_pack(t, p, NULL, 0, &pk);
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

/* ---- writer housekeeping ---- */

enum tg_err tg_bypass_remove(struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
			     size_t sni_len)
{
	enum tg_err err = TG_ERR_NOT_FOUND;
	struct bkey bk;
	uint32_t r;

	if (!bypass_input_ok(p, sni, sni_len))
		return TG_ERR_ARG;
	bypass_key_pack(t, p, sni, sni_len, &bk);
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

	if (p == NULL || !bypass_principal_ok(p))
		return TG_ERR_ARG;
	bypass_key_pack(t, p, NULL, 0, &pk);
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
		    !bypass_in_window(val[V_END], now_ms, t->window_ms)) {
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

	if (!bypass_input_ok(p, sni, sni_len))
		return TG_ERR_ARG;
	bypass_key_pack(t, p, sni, sni_len, &bk);
	bypass_key_pack(t, p, NULL, 0, &pk);
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
	val[V_END] = bypass_add_sat(now_ms, ttl_s ? (uint64_t)ttl_s * 1000 : t->ttl_ms);
	tg_seqtab_set(t->live, r, val);
	tg_seqtab_touch(t->live, r, now_ms);
	return TG_OK;
}

size_t tg_bypass_flush_principal(struct tg_bypass *t, const struct tg_principal *p)
{
	struct bkey pk;
	size_t n;
	uint32_t pr;

	if (p == NULL || !bypass_principal_ok(p))
		return 0;
	bypass_key_pack(t, p, NULL, 0, &pk);
	if (!tg_seqtab_find(t->prin, &pk.k, &pr))
		return 0;
	n = (size_t)t->ps[pr].nlive + t->ps[pr].ncand;
	cnt_add(t, C_removed, n);
	prin_drop(t, pr);
	return n;
}
