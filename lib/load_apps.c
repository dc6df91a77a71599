/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * load_apps.c - the policy's "applications" and "application_groups" (policy/README.md).
 *
 * Applications are numbered after the content package's: index = content applications + i,
 * one bitmap over all of them per rule and per group. A group name resolves to a content group
 * (index >= 0) or to one of the administrator's (-2 - i); both give a bitmap.
 */
#include <stdlib.h>
#include <string.h>

#include "load_impl.h"

int ld_app_find(const struct ld *l, const char *name)
{
	size_t i, nc = tg_content_app_count(l->c);

	for (i = 0; i < nc; i++)
		if (strcmp(tg_content_app_name(l->c, i), name) == 0)
			return (int)i;
	for (i = 0; i < l->p->n_apps; i++)
		if (l->p->apps[i].name && strcmp(l->p->apps[i].name, name) == 0)
			return (int)(nc + i);
	return -1;
}

void ld_app_sugg(const struct ld *l, struct ld_sugg *s)
{
	size_t i, nc = tg_content_app_count(l->c);

	for (i = 0; i < nc; i++)
		ld_sugg_try(s, tg_content_app_name(l->c, i));
	for (i = 0; i < l->p->n_apps; i++)
		ld_sugg_try(s, l->p->apps[i].name);
}

int32_t ld_agroup_find(const struct ld *l, const char *name)
{
	size_t i;

	for (i = 0; i < tg_content_group_count(l->c); i++)
		if (strcmp(tg_content_group_name(l->c, i), name) == 0)
			return (int32_t)i;
	for (i = 0; i < l->n_agroups; i++)
		if (l->agroups[i].name && strcmp(l->agroups[i].name, name) == 0)
			return -2 - (int32_t)i;
	return INT32_MIN;
}

void ld_agroup_sugg(const struct ld *l, struct ld_sugg *s)
{
	size_t i;

	for (i = 0; i < tg_content_group_count(l->c); i++)
		ld_sugg_try(s, tg_content_group_name(l->c, i));
	for (i = 0; i < l->n_agroups; i++)
		ld_sugg_try(s, l->agroups[i].name);
}

void ld_agroup_bits(const struct ld *l, int32_t g, uint64_t *bits)
{
	size_t i;

	if (g >= 0) {
		const struct content_group *cg = &l->c->groups[g];

		for (i = 0; i < cg->n_apps; i++)
			bits[cg->apps[i] / 64] |= 1ull << (cg->apps[i] % 64);
		return;
	}
	for (i = 0; i < l->app_words; i++)
		bits[i] |= l->agroups[-2 - g].apps[i];
}

/* The builders of the policy's application hosts and networks, and how much went in. */
struct ld_app_index {
	struct tg_dset_builder *hosts;
	struct tg_cidrset_builder *nets;
	size_t n_hosts, n_nets;
};

static void ld_app_hosts(struct ld *l, const cJSON *v, uint32_t app, struct ld_app_index *x)
{
	const cJSON *h;
	size_t n, k = 0;

	if (!ld_array(l, v, TG_CAP_POLICY_LIST, &n))
		return;
	cJSON_ArrayForEach(h, v)
	{
		size_t old = ld_push_idx(l, k++);
		struct pol_pattern pt;

		if (ld_pattern(l, h, &pt)) {
			if (tg_dset_builder_add(x->hosts, pt.name, pt.len, pt.kind, app) != TG_OK)
				ld_err(l, "cannot add the pattern");
			x->n_hosts++;
		}
		free(pt.name);
		ld_pop(l, old);
	}
}

static void ld_app_networks(struct ld *l, const cJSON *v, uint32_t app, struct ld_app_index *x)
{
	const cJSON *h;
	size_t n, k = 0;

	if (!ld_array(l, v, TG_CAP_POLICY_LIST, &n))
		return;
	cJSON_ArrayForEach(h, v)
	{
		size_t old = ld_push_idx(l, k++);
		struct tg_cidr c;

		if (ld_cidr(l, h, &c)) {
			if (tg_cidrset_builder_add(x->nets, &c, app) != TG_OK)
				ld_err(l, "cannot add the network");
			x->n_nets++;
		}
		ld_pop(l, old);
	}
}

/* Application object @it, the policy's @i-th, at the current path. */
static void ld_application(struct ld *l, const cJSON *it, size_t i, struct ld_app_index *x)
{
	static const char *const keys[] = { "name", "hosts", "networks", NULL };
	size_t nc = tg_content_app_count(l->c), old;
	uint32_t gidx = (uint32_t)(nc + i);
	const char *name = NULL;
	const cJSON *a[3];

	if (!ld_obj(l, it, keys, a))
		return;
	old = ld_push_key(l, "name");
	if (a[0] == NULL)
		ld_err(l, "required");
	else if ((name = ld_name_at(l, a[0])) != NULL) {
		if (ld_app_find(l, name) >= 0)
			ld_err(l, "duplicate application \"%s\"%s", name,
			       ld_app_find(l, name) < (int)nc ? " (a content application)" : "");
		else if (tg_content_group_count(l->c) && ld_agroup_find(l, name) != INT32_MIN)
			ld_err(l, "\"%s\" is a content application group", name);
	}
	ld_pop(l, old);
	if (name && ld_app_find(l, name) < 0)
		l->p->apps[i].name = ld_strdup(name);
	if (a[1]) {
		old = ld_push_key(l, "hosts");
		ld_app_hosts(l, a[1], gidx, x);
		ld_pop(l, old);
	}
	if (a[2]) {
		old = ld_push_key(l, "networks");
		ld_app_networks(l, a[2], gidx, x);
		ld_pop(l, old);
	}
	if ((a[1] == NULL || cJSON_GetArraySize(a[1]) == 0) &&
	    (a[2] == NULL || cJSON_GetArraySize(a[2]) == 0))
		ld_err(l, "needs \"hosts\" or \"networks\"");
}

void ld_applications(struct ld *l, const cJSON *v)
{
	struct tg_policy *p = l->p;
	struct ld_app_index x = { NULL, NULL, 0, 0 };
	size_t n = 0, i = 0, nc = tg_content_app_count(l->c);
	const cJSON *it;

	if (v && (!ld_array(l, v, TG_CAP_APPS, &n)))
		n = 0;
	if (nc + n > TG_CAP_APPS) {
		ld_err(l, "more than %d applications with the content package's", TG_CAP_APPS);
		n = 0;
	}
	p->n_all_apps = nc + n;
	l->app_words = pol_app_words(p->n_all_apps);
	if (n == 0)
		return;
	p->apps = calloc(n, sizeof(*p->apps));
	x.hosts = tg_dset_builder_new();
	x.nets = tg_cidrset_builder_new();
	if (!p->apps || !x.hosts || !x.nets) {
		ld_err(l, "out of memory");
		goto out;
	}
	p->n_apps = n;
	cJSON_ArrayForEach(it, v)
	{
		size_t old = ld_push_idx(l, i);

		ld_application(l, it, i++, &x);
		ld_pop(l, old);
	}
	if (x.n_hosts) {
		p->app_hosts = tg_dset_build(x.hosts, l->key);
		x.hosts = NULL;
	}
	if (x.n_nets) {
		p->app_nets = tg_cidrset_build(x.nets);
		x.nets = NULL;
	}
out:
	tg_dset_builder_free(x.hosts);
	tg_cidrset_builder_free(x.nets);
}

void ld_app_groups(struct ld *l, const cJSON *v)
{
	static const char *const keys[] = { "name", "apps", NULL };
	size_t n, i = 0;
	const cJSON *it;

	if (!ld_array(l, v, TG_CAP_GROUPS, &n) || n == 0)
		return;
	l->agroups = calloc(n, sizeof(*l->agroups));
	if (l->agroups == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o2 = ld_push_idx(l, i++), o3, k, m;
		struct ld_agroup *g = &l->agroups[l->n_agroups];
		const cJSON *a[2], *ai;
		const char *name = NULL;

		g->apps = calloc(l->app_words, sizeof(uint64_t));
		if (g->apps == NULL) {
			ld_err(l, "out of memory");
			ld_pop(l, o2);
			break;
		}
		if (!ld_obj(l, it, keys, a)) {
			l->n_agroups++;
			ld_pop(l, o2);
			continue;
		}
		o3 = ld_push_key(l, "name");
		if (a[0] == NULL)
			ld_err(l, "required");
		else if ((name = ld_name_at(l, a[0])) != NULL) {
			if (ld_agroup_find(l, name) != INT32_MIN)
				ld_err(l, "duplicate application group \"%s\"", name);
			else if (ld_app_find(l, name) >= 0)
				ld_err(l, "\"%s\" is already an application name", name);
		}
		ld_pop(l, o3);
		o3 = ld_push_key(l, "apps");
		if (a[1] == NULL)
			ld_err(l, "required");
		else if (ld_array(l, a[1], TG_CAP_APPS, &m)) {
			k = 0;
			cJSON_ArrayForEach(ai, a[1])
			{
				size_t o4 = ld_push_idx(l, k++);
				const char *an = ld_name_at(l, ai);
				int idx = an ? ld_app_find(l, an) : -1;

				if (an && idx < 0) {
					struct ld_sugg s = { an, NULL, (size_t)-1 };

					ld_app_sugg(l, &s);
					ld_unknown(l, "application", &s);
				} else if (idx >= 0) {
					g->apps[idx / 64] |= 1ull << (idx % 64);
				}
				ld_pop(l, o4);
			}
		}
		ld_pop(l, o3);
		if (name && ld_agroup_find(l, name) == INT32_MIN)
			g->name = ld_strdup(name);
		l->n_agroups++;
		ld_pop(l, o2);
	}
}
