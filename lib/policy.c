/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.c - the compiled policy: accessors and release. Its rules are evaluated by
 * classify.c (one matcher for every list).
 *
 * The structure itself (policy_impl.h) is built by policy_load.c and only read afterwards; a
 * policy is freed whole by tg_policy_free, never changed in place.
 */
#include <stdlib.h>
#include <string.h>

#include "policy_impl.h"

static void pol_match_free(struct pol_match *m)
{
	size_t i;

	free(m->users);
	tg_cidrset_free(m->src);
	tg_cidrset_free(m->dst);
	free(m->src_list);
	free(m->dst_list);
	free(m->apps);
	tg_dset_free(m->names);
	for (i = 0; i < m->n_patterns; i++)
		free(m->patterns[i].name);
	free(m->patterns);
	free(m->ja4);
	memset(m, 0, sizeof(*m));
}

void pol_rule_free(struct pol_rule *r)
{
	size_t i, j;

	free(r->name);
	pol_match_free(&r->m);
	for (i = 0; i < r->n_detectors; i++) {
		free(r->detectors[i].pattern);
		for (j = 0; j < r->detectors[i].n_words; j++)
			free(r->detectors[i].words[j]);
		free(r->detectors[i].words);
	}
	free(r->detectors);
	memset(r, 0, sizeof(*r));
}

static void pol_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void tg_policy_free(struct tg_policy *p)
{
	size_t i, l;

	if (p == NULL)
		return;
	pol_strv_free(p->users, p->n_users);
	free(p->user_sorted);
	free(p->user_groups);
	pol_strv_free(p->groups, p->n_groups);
	for (i = 0; i < p->n_endpoints; i++)
		free(p->endpoints[i].name);
	free(p->endpoints);
	free(p->binds);
	tg_cidrset_free(p->bind_set);
	free(p->macs);
	for (i = 0; i < p->n_apps; i++)
		free(p->apps[i].name);
	free(p->apps);
	tg_dset_free(p->app_hosts);
	tg_cidrset_free(p->app_nets);
	for (l = 0; l < POL_LISTS; l++) {
		for (i = 0; i < p->lists[l].n; i++)
			pol_rule_free(&p->lists[l].r[i]);
		free(p->lists[l].r);
	}
	tg_content_free(p->owned_content);
	free(p);
}

const struct tg_policy_settings *tg_policy_settings(const struct tg_policy *p)
{
	return &p->set;
}

const struct tg_content *tg_policy_content(const struct tg_policy *p)
{
	return p->content;
}

size_t tg_policy_rule_count(const struct tg_policy *p, enum tg_rule_list list)
{
	if ((unsigned)list >= POL_LISTS)
		return 0;
	return p->lists[list].n;
}

const char *tg_policy_rule_name(const struct tg_policy *p, enum tg_rule_list list, size_t idx)
{
	if ((unsigned)list >= POL_LISTS || idx >= p->lists[list].n)
		return NULL;
	return p->lists[list].r[idx].name;
}

size_t tg_policy_user_count(const struct tg_policy *p)
{
	return p->n_users;
}

const char *tg_policy_user_name(const struct tg_policy *p, size_t idx)
{
	return idx < p->n_users ? p->users[idx] : NULL;
}

size_t tg_policy_group_count(const struct tg_policy *p)
{
	return p->n_groups;
}

const char *tg_policy_group_name(const struct tg_policy *p, size_t idx)
{
	return idx < p->n_groups ? p->groups[idx] : NULL;
}

size_t tg_policy_app_count(const struct tg_policy *p)
{
	return p->n_all_apps;
}

const char *tg_policy_app_name(const struct tg_policy *p, size_t idx)
{
	size_t nc = p->n_all_apps - p->n_apps;

	if (idx < nc)
		return tg_content_app_name(p->content, idx);
	if (idx < p->n_all_apps)
		return p->apps[idx - nc].name;
	return NULL;
}

size_t tg_policy_bytes(const struct tg_policy *p)
{
	return p->bytes;
}

int pol_user_find(const struct tg_policy *p, const char *name, size_t len)
{
	size_t lo = 0, hi = p->n_users;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *u = p->users[p->user_sorted[mid]];
		size_t ul = strlen(u);
		int c = memcmp(u, name, ul < len ? ul : len);

		if (c == 0)
			c = ul < len ? -1 : ul > len;
		if (c == 0)
			return (int)p->user_sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const char *const pol_activity_names[POL_ACTIVITIES + 1] = {
	"login", "upload", "download", "share", "post", "delete", NULL,
};

int pol_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int pol_ja4_cmp(const void *a, const void *b)
{
	return memcmp(a, b, TG_CAP_JA4_LEN);
}
