/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * load_identity.c - the policy's "identities" (users, groups) and "endpoints", and the address
 * and MAC bindings they declare (policy/README.md "identities", "endpoints").
 *
 * Bindings are collected during the walk with the path that made each, for conflict errors,
 * then compiled once the walk found no error (ld_bind_compile): duplicates merged, each prefix
 * inheriting user, endpoint and groups from the prefixes containing it, MACs sorted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_impl.h"

/* What an address or MAC binding says, and where the policy said it (for conflict errors). */
static void ld_bind_fill(const struct ld *l, struct pol_bind *rec,
			 char origin[static LD_ORIGIN_MAX], int32_t user, int32_t ep, int32_t group)
{
	rec->user = user;
	rec->endpoint = ep;
	if (group >= 0)
		rec->groups[group / 64] |= 1ull << (group % 64);
	snprintf(origin, LD_ORIGIN_MAX, "%.*s", LD_ORIGIN_MAX - 1, l->path);
}

static void ld_bind_add(struct ld *l, const struct tg_cidr *c, int32_t user, int32_t ep,
			int32_t group)
{
	struct ld_bind *b;

	if (l->n_binds >= TG_CAP_BINDINGS) {
		ld_err(l, "more than %d address bindings in the policy", TG_CAP_BINDINGS);
		return;
	}
	if (!ld_grow(l, (void **)&l->binds, &l->cap_binds, l->n_binds, sizeof(*l->binds)))
		return;
	b = &l->binds[l->n_binds++];
	memset(b, 0, sizeof(*b));
	b->pfx = *c;
	ld_bind_fill(l, &b->rec, b->origin, user, ep, group);
}

static void ld_mac_add(struct ld *l, const uint8_t mac[static 6], int32_t user, int32_t ep,
		       int32_t group)
{
	struct ld_macbind *b;

	if (l->n_macs >= TG_CAP_BINDINGS) {
		ld_err(l, "more than %d MAC bindings in the policy", TG_CAP_BINDINGS);
		return;
	}
	if (!ld_grow(l, (void **)&l->macs, &l->cap_macs, l->n_macs, sizeof(*l->macs)))
		return;
	b = &l->macs[l->n_macs++];
	memset(b, 0, sizeof(*b));
	memcpy(b->mac, mac, 6);
	ld_bind_fill(l, &b->rec, b->origin, user, ep, group);
}

/* "addresses" and "macs" of a user, group or endpoint object. */
static void ld_bindings(struct ld *l, const cJSON *addrs, const cJSON *macs, int32_t user,
			int32_t ep, int32_t group)
{
	const cJSON *it;
	size_t old, n, i;

	if (addrs) {
		old = ld_push_key(l, "addresses");
		if (ld_array(l, addrs, TG_CAP_POLICY_LIST, &n)) {
			i = 0;
			cJSON_ArrayForEach(it, addrs)
			{
				size_t o2 = ld_push_idx(l, i++);
				struct tg_cidr c;

				if (ld_cidr(l, it, &c))
					ld_bind_add(l, &c, user, ep, group);
				ld_pop(l, o2);
			}
		}
		ld_pop(l, old);
	}
	if (macs) {
		old = ld_push_key(l, "macs");
		if (ld_array(l, macs, TG_CAP_POLICY_LIST, &n)) {
			i = 0;
			cJSON_ArrayForEach(it, macs)
			{
				size_t o2 = ld_push_idx(l, i++);
				uint8_t mac[6];

				if (ld_mac(l, it, mac))
					ld_mac_add(l, mac, user, ep, group);
				ld_pop(l, o2);
			}
		}
		ld_pop(l, old);
	}
}

int ld_group_find(const struct tg_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_groups; i++)
		if (strcmp(p->groups[i], name) == 0)
			return (int)i;
	return -1;
}

/* User @idx's name; "" for one whose copy failed (out of memory: reported, the load fails). */
static const char *ld_user_name(const struct tg_policy *p, uint32_t idx)
{
	return p->users[idx] != NULL ? p->users[idx] : "";
}

static void ld_sort_users(struct tg_policy *p)
{
	size_t i, j;

	/* A bottom-up merge sort of indexes by name (qsort has no context argument). */
	uint32_t *tmp = malloc(p->n_users * sizeof(*tmp));
	size_t width;

	for (i = 0; i < p->n_users; i++)
		p->user_sorted[i] = (uint32_t)i;
	if (tmp == NULL)
		return;
	for (width = 1; width < p->n_users; width *= 2) {
		for (i = 0; i < p->n_users; i += 2 * width) {
			size_t a = i, am = i + width < p->n_users ? i + width : p->n_users;
			size_t b = am, bm = i + 2 * width < p->n_users ? i + 2 * width : p->n_users;
			size_t k = i;

			while (a < am || b < bm) {
				if (b >= bm ||
				    (a < am && strcmp(ld_user_name(p, p->user_sorted[a]),
						      ld_user_name(p, p->user_sorted[b])) <= 0))
					tmp[k++] = p->user_sorted[a++];
				else
					tmp[k++] = p->user_sorted[b++];
			}
		}
		for (j = 0; j < p->n_users; j++)
			p->user_sorted[j] = tmp[j];
	}
	free(tmp);
}

void ld_unknown_user(struct ld *l, const char *name)
{
	const struct tg_policy *p = l->p;
	struct ld_sugg s = { name, NULL, (size_t)-1 };
	size_t q;

	for (q = 0; q < p->n_users && q < LD_SUGG_USERS; q++)
		ld_sugg_try(&s, ld_user_name(p, (uint32_t)q));
	ld_unknown(l, "user", &s);
}

/* One user object; its name (or "" when there is none) takes the next index. */
static void ld_user(struct ld *l, const cJSON *it)
{
	static const char *const keys[] = { "name", "addresses", "macs", NULL };
	struct tg_policy *p = l->p;
	const cJSON *u[3];
	const char *name;
	size_t old;

	if (ld_obj(l, it, keys, u)) {
		old = ld_push_key(l, "name");
		if (u[0] == NULL)
			ld_err(l, "required");
		else if ((name = ld_name_at(l, u[0])) != NULL)
			p->users[p->n_users] = ld_strdup(name);
		ld_pop(l, old);
		if (p->users[p->n_users] == NULL)
			p->users[p->n_users] = ld_strdup("");
		ld_bindings(l, u[1], u[2], (int32_t)p->n_users, -1, -1);
	} else {
		p->users[p->n_users] = ld_strdup("");
	}
	/* The index stays taken (bindings name it); the load fails and ld_user_name reads "". */
	if (p->users[p->n_users] == NULL)
		ld_err(l, "out of memory");
	p->n_users++;
}

static void ld_users(struct ld *l, const cJSON *v)
{
	struct tg_policy *p = l->p;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_array(l, v, TG_CAP_USERS, &n) || n == 0)
		return;
	p->users = calloc(n, sizeof(*p->users));
	p->user_sorted = calloc(n, sizeof(*p->user_sorted));
	p->user_groups = calloc(n, sizeof(*p->user_groups));
	if (!p->users || !p->user_sorted || !p->user_groups) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t old = ld_push_idx(l, i++);

		ld_user(l, it);
		ld_pop(l, old);
	}
	ld_sort_users(p);
	for (i = 1; i < p->n_users; i++) {
		const char *a = p->users[p->user_sorted[i - 1]];
		const char *b = p->users[p->user_sorted[i]];

		if (a && b && *b && strcmp(a, b) == 0) {
			size_t hi = p->user_sorted[i] > p->user_sorted[i - 1]
					    ? p->user_sorted[i]
					    : p->user_sorted[i - 1];
			size_t o2 = ld_push_idx(l, hi), o3 = ld_push_key(l, "name");

			ld_err(l, "duplicate user \"%s\"", b);
			ld_pop(l, o3);
			ld_pop(l, o2);
		}
	}
}

/* "members" of group @gi: each a known user, who joins the group. */
static void ld_group_members(struct ld *l, const cJSON *v, int32_t gi)
{
	struct tg_policy *p = l->p;
	const cJSON *mem;
	size_t n, k = 0;

	if (!ld_array(l, v, TG_CAP_USERS, &n))
		return;
	cJSON_ArrayForEach(mem, v)
	{
		size_t old = ld_push_idx(l, k++);
		const char *un = ld_name_at(l, mem);
		int ui = un ? pol_user_find(p, un, strlen(un)) : -1;

		if (un && ui < 0)
			ld_unknown_user(l, un);
		else if (ui >= 0)
			p->user_groups[ui][gi / 64] |= 1ull << (gi % 64);
		ld_pop(l, old);
	}
}

/* One group object; its name (or "" when there is none) takes the next index. */
static void ld_group(struct ld *l, const cJSON *it)
{
	static const char *const keys[] = { "name", "members", "addresses", "macs", NULL };
	struct tg_policy *p = l->p;
	const cJSON *g[4];
	const char *name = NULL;
	int32_t gi = (int32_t)p->n_groups;
	size_t old;

	if (!ld_obj(l, it, keys, g)) {
		p->groups[p->n_groups++] = ld_strdup("");
		return;
	}
	old = ld_push_key(l, "name");
	if (g[0] == NULL)
		ld_err(l, "required");
	else if ((name = ld_name_at(l, g[0])) != NULL) {
		if (ld_group_find(p, name) >= 0)
			ld_err(l, "duplicate group \"%s\"", name);
		else if (pol_user_find(p, name, strlen(name)) >= 0)
			ld_err(l, "\"%s\" is already a user name", name);
	}
	ld_pop(l, old);
	p->groups[p->n_groups++] = ld_strdup(name ? name : "");
	if (g[1]) {
		old = ld_push_key(l, "members");
		ld_group_members(l, g[1], gi);
		ld_pop(l, old);
	}
	ld_bindings(l, g[2], g[3], -1, -1, gi);
}

static void ld_groups(struct ld *l, const cJSON *v)
{
	struct tg_policy *p = l->p;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_array(l, v, TG_CAP_GROUPS, &n) || n == 0)
		return;
	p->groups = calloc(n, sizeof(*p->groups));
	if (p->groups == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t old = ld_push_idx(l, i++);

		ld_group(l, it);
		ld_pop(l, old);
	}
}

void ld_identities(struct ld *l, const cJSON *o)
{
	static const char *const keys[] = { "users", "groups", NULL };
	const cJSON *v[2];
	size_t old;

	if (!ld_obj(l, o, keys, v))
		return;
	if (v[0]) {
		old = ld_push_key(l, "users");
		ld_users(l, v[0]);
		ld_pop(l, old);
	}
	if (v[1]) {
		old = ld_push_key(l, "groups");
		ld_groups(l, v[1]);
		ld_pop(l, old);
	}
}

void ld_os_names(const char *names[static TG_OS__COUNT + 1])
{
	size_t i;

	for (i = 0; i < TG_OS__COUNT; i++)
		names[i] = tg_os_text((enum tg_os)i);
	names[TG_OS__COUNT] = NULL;
}

void ld_endpoints(struct ld *l, const cJSON *v)
{
	static const char *const keys[] = { "name", "addresses", "macs", "os", "managed", NULL };
	struct tg_policy *p = l->p;
	const char *os_names[TG_OS__COUNT + 1];
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_array(l, v, TG_CAP_POLICY_LIST, &n) || n == 0)
		return;
	ld_os_names(os_names);
	p->endpoints = calloc(n, sizeof(*p->endpoints));
	if (p->endpoints == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o2 = ld_push_idx(l, i++), o3;
		const cJSON *e[5];
		struct pol_endpoint *ep = &p->endpoints[p->n_endpoints];
		int os;

		if (!ld_obj(l, it, keys, e)) {
			ld_pop(l, o2);
			continue;
		}
		if (e[0]) {
			const char *name;

			o3 = ld_push_key(l, "name");
			if ((name = ld_name_at(l, e[0])) != NULL)
				ep->name = ld_strdup(name);
			ld_pop(l, o3);
		}
		if (e[3] == NULL) {
			o3 = ld_push_key(l, "os");
			ld_err(l, "required");
			ld_pop(l, o3);
		} else if (ld_enum(l, e[3], "os", os_names, TG_OS_OTHER, &os)) {
			ep->os = (uint8_t)os;
		}
		ld_bool(l, e[4], "managed", false, &ep->managed);
		if (e[1] == NULL && e[2] == NULL)
			ld_err(l, "needs \"addresses\" or \"macs\"");
		ld_bindings(l, e[1], e[2], -1, (int32_t)p->n_endpoints, -1);
		p->n_endpoints++;
		ld_pop(l, o2);
	}
}

/* Sorting and merging address bindings; each prefix inherits from the prefixes containing it. */
static int ld_cidr_cmp(const struct tg_cidr *a, const struct tg_cidr *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, 16);
	if (c)
		return c;
	return a->plen < b->plen ? -1 : a->plen > b->plen;
}

static int ld_bind_cmp(const void *a, const void *b)
{
	return ld_cidr_cmp(&((const struct ld_bind *)a)->pfx, &((const struct ld_bind *)b)->pfx);
}

static int ld_mac_cmp(const void *a, const void *b)
{
	return memcmp(((const struct ld_macbind *)a)->mac, ((const struct ld_macbind *)b)->mac, 6);
}

/* Merge @src into @dst (same key); false on a user or endpoint conflict (reported). */
static bool ld_rec_merge(struct ld *l, struct pol_bind *dst, const char *dst_origin,
			 const struct pol_bind *src, const char *src_origin, const char *what)
{
	size_t i;

	for (i = 0; i < POL_GROUP_WORDS; i++)
		dst->groups[i] |= src->groups[i];
	if (src->user >= 0) {
		if (dst->user >= 0 && dst->user != src->user) {
			tg_diag_add(l->d, TG_DIAG_ERROR,
				    "%s: %s is already bound to user \"%s\" (%s)", src_origin, what,
				    ld_user_name(l->p, (uint32_t)dst->user), dst_origin);
			l->errors++;
			return false;
		}
		dst->user = src->user;
	}
	if (src->endpoint >= 0) {
		if (dst->endpoint >= 0 && dst->endpoint != src->endpoint) {
			tg_diag_add(l->d, TG_DIAG_ERROR,
				    "%s: %s is already bound to an endpoint (%s)", src_origin, what,
				    dst_origin);
			l->errors++;
			return false;
		}
		dst->endpoint = src->endpoint;
	}
	return true;
}

/* Addresses: merged, sorted, each inheriting from the prefixes containing it, then indexed.
 * False when out of memory (reported). */
static bool ld_bind_compile_addrs(struct ld *l)
{
	struct tg_policy *p = l->p;
	struct tg_cidrset_builder *b = NULL;
	size_t i, n = 0, *stack = NULL, depth = 0;
	bool ok = false;

	qsort(l->binds, l->n_binds, sizeof(*l->binds), ld_bind_cmp);
	for (i = 0; i < l->n_binds; i++) {
		if (n && ld_cidr_cmp(&l->binds[n - 1].pfx, &l->binds[i].pfx) == 0) {
			ld_rec_merge(l, &l->binds[n - 1].rec, l->binds[n - 1].origin,
				     &l->binds[i].rec, l->binds[i].origin, "this address");
			continue;
		}
		l->binds[n++] = l->binds[i];
	}
	l->n_binds = n;
	p->binds = calloc(n, sizeof(*p->binds));
	stack = calloc(n, sizeof(*stack));
	b = tg_cidrset_builder_new();
	if (!p->binds || !stack || !b) {
		ld_err(l, "out of memory");
		goto out;
	}
	/* Sorted by (family, address, length): containing prefixes come first. */
	for (i = 0; i < n; i++) {
		struct pol_bind *r = &l->binds[i].rec;

		while (depth && !pol_cidr_covers(&l->binds[stack[depth - 1]].pfx, &l->binds[i].pfx))
			depth--;
		if (depth) {
			const struct pol_bind *up = &p->binds[stack[depth - 1]];
			size_t w;

			if (r->user < 0)
				r->user = up->user;
			if (r->endpoint < 0)
				r->endpoint = up->endpoint;
			for (w = 0; w < POL_GROUP_WORDS; w++)
				r->groups[w] |= up->groups[w];
		}
		p->binds[i] = *r;
		stack[depth++] = i;
		if (tg_cidrset_builder_add(b, &l->binds[i].pfx, (uint32_t)i) != TG_OK) {
			ld_err(l, "out of memory");
			goto out;
		}
	}
	p->n_binds = n;
	p->bind_set = tg_cidrset_build(b);
	b = NULL;
	if (p->bind_set == NULL)
		ld_err(l, "out of memory");
	ok = true;
out:
	free(stack);
	tg_cidrset_builder_free(b);
	return ok;
}

/* MACs: merged, sorted, their records appended to the binding table. */
static void ld_bind_compile_macs(struct ld *l)
{
	struct tg_policy *p = l->p;
	struct pol_bind *nb;
	size_t i, n = 0;

	qsort(l->macs, l->n_macs, sizeof(*l->macs), ld_mac_cmp);
	for (i = 0; i < l->n_macs; i++) {
		if (n && memcmp(l->macs[n - 1].mac, l->macs[i].mac, 6) == 0) {
			ld_rec_merge(l, &l->macs[n - 1].rec, l->macs[n - 1].origin, &l->macs[i].rec,
				     l->macs[i].origin, "this MAC");
			continue;
		}
		l->macs[n++] = l->macs[i];
	}
	l->n_macs = n;
	nb = realloc(p->binds, (p->n_binds + n) * sizeof(*nb));
	p->macs = calloc(n, sizeof(*p->macs));
	if (nb == NULL || p->macs == NULL) {
		if (nb)
			p->binds = nb;
		ld_err(l, "out of memory");
		return;
	}
	p->binds = nb;
	for (i = 0; i < n; i++) {
		memcpy(p->macs[i].mac, l->macs[i].mac, 6);
		p->macs[i].bind = (uint32_t)(p->n_binds + i);
		p->binds[p->n_binds + i] = l->macs[i].rec;
	}
	p->n_binds += n;
	p->n_macs = n;
}

void ld_bind_compile(struct ld *l)
{
	if (l->n_binds && !ld_bind_compile_addrs(l))
		return;
	if (l->n_macs)
		ld_bind_compile_macs(l);
}
