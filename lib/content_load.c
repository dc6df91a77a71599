/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * content_load.c - the content package's JSON files to a struct tg_content (content.h):
 * manifest.json, pinned.json, apps.json with doh.json, m365.json; categories.tsv is catdb.c's.
 *
 * Content files are read leniently (unknown fields are ignored: a newer package may carry more)
 * but every value used is checked; each error is prefixed with its file name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_impl.h"

/* The JSON files, in the order of TG_CONTENT_FILE_NAMES (categories.tsv, the last, is not). */
enum {
	CF_MANIFEST,
	CF_PINNED,
	CF_APPS,
	CF_M365,
	CF_DOH,
	CF__JSON,
};

static const char *ld_cstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The entry array of a content file: {"<key>": [...]} or a top-level array. */
static const cJSON *ld_entries(struct ld *l, const cJSON *root, const char *key)
{
	const cJSON *a = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, key);

	if (!cJSON_IsArray(a)) {
		size_t old = ld_push_key(l, key);

		ld_err(l, "expected an array");
		ld_pop(l, old);
		return NULL;
	}
	return a;
}

static void ld_content_pinned(struct ld *l, struct tg_content *c, const cJSON *root)
{
	const cJSON *a = ld_entries(l, root, "entries"), *it;
	struct tg_dset_builder *b;
	size_t n, i = 0, old = ld_push_key(l, "entries");

	if (a == NULL || !ld_array(l, a, TG_CAP_POLICY_LIST, &n) || n == 0)
		goto out;
	c->pins = calloc(n, sizeof(*c->pins));
	b = tg_dset_builder_new();
	if (c->pins == NULL || b == NULL) {
		tg_dset_builder_free(b);
		ld_err(l, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, a)
	{
		size_t o = ld_push_idx(l, i++), k;
		const cJSON *pv = cJSON_GetObjectItemCaseSensitive(it, "pattern");
		struct tg_content_pin *pin = &c->pins[c->n_pins];
		const char *f[4] = { NULL, ld_cstr(it, "app"), ld_cstr(it, "reason"),
				     ld_cstr(it, "source") };
		struct pol_pattern pt;
		size_t o2 = ld_push_key(l, "pattern");

		if (ld_pattern(l, pv, &pt)) {
			if (tg_dset_builder_add(b, pt.name, pt.len, pt.kind, (uint32_t)c->n_pins) !=
				    TG_OK ||
			    !content_note(c, pt.kind, pt.name, pt.len))
				ld_err(l, "cannot add the pattern");
			f[0] = pv->valuestring;
			for (k = 0; k < 4; k++) {
				char *d = ld_strdup(f[k] ? f[k] : "");

				if (k == 0)
					pin->pattern = d;
				else if (k == 1)
					pin->app = d;
				else if (k == 2)
					pin->reason = d;
				else
					pin->source = d;
			}
			c->n_pins++;
		}
		free(pt.name);
		ld_pop(l, o2);
		ld_pop(l, o);
	}
	c->pin_set = tg_dset_build(b, l->key);
	if (c->pin_set == NULL)
		ld_err(l, "out of memory");
out:
	ld_pop(l, old);
}

static int ld_cgroup(struct tg_content *c, const char *name)
{
	size_t i;
	struct content_group *g;

	for (i = 0; i < c->n_groups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return (int)i;
	if (c->n_groups >= TG_CAP_GROUPS)
		return -1;
	g = realloc(c->groups, (c->n_groups + 1) * sizeof(*g));
	if (g == NULL)
		return -1;
	c->groups = g;
	memset(&g[c->n_groups], 0, sizeof(*g));
	g[c->n_groups].name = ld_strdup(name);
	return (int)c->n_groups++;
}

static void ld_cgroup_add(struct tg_content *c, int g, uint32_t app)
{
	struct content_group *cg = &c->groups[g];
	uint32_t *n = realloc(cg->apps, (cg->n_apps + 1) * sizeof(*n));

	if (n == NULL)
		return;
	cg->apps = n;
	cg->apps[cg->n_apps++] = app;
}

/* Add @hosts patterns and @ips networks (arrays, may be NULL) with value @app. */
static void ld_content_hosts(struct ld *l, struct tg_content *c, struct tg_dset_builder *hb,
			     struct tg_cidrset_builder *nb, const cJSON *hosts, const cJSON *ips,
			     uint32_t app)
{
	const cJSON *h;
	size_t k = 0, old;

	if (hosts) {
		old = ld_push_key(l, "hosts");
		cJSON_ArrayForEach(h, hosts)
		{
			size_t o = ld_push_idx(l, k++);
			struct pol_pattern pt;

			if (ld_pattern(l, h, &pt) &&
			    (tg_dset_builder_add(hb, pt.name, pt.len, pt.kind, app) != TG_OK ||
			     !content_note(c, pt.kind, pt.name, pt.len)))
				ld_err(l, "cannot add the pattern");
			free(pt.name);
			ld_pop(l, o);
		}
		ld_pop(l, old);
	}
	k = 0;
	if (ips) {
		old = ld_push_key(l, "ips");
		cJSON_ArrayForEach(h, ips)
		{
			size_t o = ld_push_idx(l, k++);
			struct tg_cidr cd;

			if (ld_cidr(l, h, &cd) && tg_cidrset_builder_add(nb, &cd, app) != TG_OK)
				ld_err(l, "cannot add the network");
			ld_pop(l, o);
		}
		ld_pop(l, old);
	}
}

/* One application: name, optional group, activities (only which ones are described). */
static bool ld_content_app(struct ld *l, struct tg_content *c, const cJSON *it, const char *name,
			   const char *group)
{
	const cJSON *acts;
	struct content_app *app = &c->apps[c->n_apps];
	size_t k, old;
	unsigned a;

	if (name == NULL || !ld_name_ok(name)) {
		old = ld_push_key(l, "name");
		ld_err(l, "expected a name");
		ld_pop(l, old);
		return false;
	}
	for (k = 0; k < c->n_apps; k++)
		if (strcmp(c->apps[k].name, name) == 0) {
			old = ld_push_key(l, "name");
			ld_err(l, "duplicate application \"%s\"", name);
			ld_pop(l, old);
			return false;
		}
	app->name = ld_strdup(name);
	if (app->name == NULL) {
		ld_err(l, "out of memory");
		return false;
	}
	acts = it ? cJSON_GetObjectItemCaseSensitive(it, "activities") : NULL;
	for (a = 0; acts && pol_activity_names[a]; a++)
		if (cJSON_GetObjectItemCaseSensitive(acts, pol_activity_names[a]))
			app->activities |= (uint8_t)(1u << a);
	if (group) {
		int g = ld_cgroup(c, group);

		if (g < 0)
			ld_err(l, "cannot add group \"%s\"", group);
		else
			ld_cgroup_add(c, g, (uint32_t)c->n_apps);
	}
	c->n_apps++;
	return true;
}

static void ld_content_apps(struct ld *l, struct tg_content *c, const cJSON *apps, const cJSON *doh)
{
	const cJSON *a = apps ? ld_entries(l, apps, "apps") : NULL, *it;
	const cJSON *d = doh ? cJSON_GetObjectItemCaseSensitive(doh, "entries") : NULL;
	struct tg_dset_builder *hb = tg_dset_builder_new();
	struct tg_cidrset_builder *nb = tg_cidrset_builder_new();
	size_t n = a ? (size_t)cJSON_GetArraySize(a) : 0, i = 0, old;

	if (hb == NULL || nb == NULL)
		goto nomem;
	if (n + 1 > TG_CAP_APPS) {
		ld_err(l, "more than %d applications", TG_CAP_APPS);
		goto out;
	}
	c->apps = calloc(n + 1, sizeof(*c->apps));
	if (c->apps == NULL)
		goto nomem;
	c->n_apps = 0; /* the count is of this array's entries */
	old = ld_push_key(l, "apps");
	cJSON_ArrayForEach(it, a)
	{
		size_t o = ld_push_idx(l, i++);
		const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(it, "hosts");

		if (!cJSON_IsObject(it))
			ld_err(l, "expected an object");
		else if (hosts && !cJSON_IsArray(hosts))
			ld_err(l, "hosts: expected an array");
		else if (ld_content_app(l, c, it, ld_cstr(it, "name"), ld_cstr(it, "group")))
			ld_content_hosts(l, c, hb, nb, hosts, NULL, (uint32_t)(c->n_apps - 1));
		ld_pop(l, o);
	}
	ld_pop(l, old);
	/* doh.json: every resolver's hosts and addresses form the application "DoH". */
	if (cJSON_IsArray(d) && cJSON_GetArraySize(d) > 0) {
		const char *save = l->file;
		uint32_t doh_app = (uint32_t)c->n_apps;

		l->file = "doh.json";
		if (!ld_content_app(l, c, NULL, "DoH", NULL))
			d = NULL;
		old = ld_push_key(l, "entries");
		i = 0;
		cJSON_ArrayForEach(it, d)
		{
			size_t o = ld_push_idx(l, i++);
			const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(it, "hosts");
			const cJSON *ips = cJSON_GetObjectItemCaseSensitive(it, "ips");

			if ((hosts && !cJSON_IsArray(hosts)) || (ips && !cJSON_IsArray(ips)))
				ld_err(l, "hosts and ips must be arrays");
			else
				ld_content_hosts(l, c, hb, nb, hosts, ips, doh_app);
			ld_pop(l, o);
		}
		ld_pop(l, old);
		l->file = save;
	}
	c->app_hosts = tg_dset_build(hb, l->key);
	c->app_nets = tg_cidrset_build(nb);
	hb = NULL;
	nb = NULL;
	if (c->app_hosts == NULL || c->app_nets == NULL)
		goto nomem;
	goto out;
nomem:
	ld_err(l, "out of memory");
out:
	tg_dset_builder_free(hb);
	tg_cidrset_builder_free(nb);
}

static void ld_content_m365(struct ld *l, struct tg_content *c, const cJSON *root)
{
	static const char *const cats[] = { "", "Optimize", "Allow", "Default", NULL };
	const cJSON *a = ld_entries(l, root, "endpoints"), *it;
	struct tg_dset_builder *ub = tg_dset_builder_new();
	struct tg_cidrset_builder *ib = tg_cidrset_builder_new();
	size_t n, i = 0, old = ld_push_key(l, "endpoints");

	if (ub == NULL || ib == NULL)
		goto nomem;
	if (a == NULL || !ld_array(l, a, TG_CAP_POLICY_LIST, &n))
		goto out;
	c->m365 = calloc(n ? n : 1, sizeof(*c->m365));
	if (c->m365 == NULL)
		goto nomem;
	cJSON_ArrayForEach(it, a)
	{
		size_t o = ld_push_idx(l, i++), k = 0, o2;
		const cJSON *urls = cJSON_GetObjectItemCaseSensitive(it, "urls");
		const cJSON *globs = cJSON_GetObjectItemCaseSensitive(it, "globs");
		const cJSON *ips = cJSON_GetObjectItemCaseSensitive(it, "ips");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id"), *g;
		uint32_t idx = (uint32_t)c->n_m365;
		int cat;

		if (!ld_enum(l, cJSON_GetObjectItemCaseSensitive(it, "category"), "category", cats,
			     0, &cat) ||
		    cat == 0 || !cJSON_IsNumber(id) || !(id->valuedouble >= 0) ||
		    id->valuedouble > 4294967295.0) {
			if (cat == 0 || !cJSON_IsNumber(id) || !(id->valuedouble >= 0) ||
			    id->valuedouble > 4294967295.0)
				ld_err(l, "needs an id (0 to 4294967295) and a category");
			ld_pop(l, o);
			continue;
		}
		c->m365[idx].id = (uint32_t)id->valuedouble;
		c->m365[idx].cat = (enum tg_m365_cat)cat;
		c->n_m365++;
		ld_content_hosts(l, c, ub, ib, NULL, ips, idx);
		if (urls) {
			o2 = ld_push_key(l, "urls");
			cJSON_ArrayForEach(g, urls)
			{
				size_t o3 = ld_push_idx(l, k++);
				struct pol_pattern pt;

				if (ld_pattern(l, g, &pt) &&
				    (tg_dset_builder_add(ub, pt.name, pt.len, pt.kind, idx) !=
					     TG_OK ||
				     !content_note(c, pt.kind, pt.name, pt.len)))
					ld_err(l, "cannot add the pattern");
				free(pt.name);
				ld_pop(l, o3);
			}
			ld_pop(l, o2);
		}
		k = 0;
		o2 = ld_push_key(l, "globs");
		cJSON_ArrayForEach(g, globs)
		{
			size_t o3 = ld_push_idx(l, k++);
			struct content_glob *ng;

			if (!cJSON_IsString(g) || strlen(g->valuestring) > TG_CAP_NAME_LEN) {
				ld_err(l, "expected a glob string");
			} else if ((ng = realloc(c->m365_globs,
						 (c->n_m365_globs + 1) * sizeof(*ng))) != NULL) {
				char *lc = ld_strdup(g->valuestring), *q;

				for (q = lc; q && *q; q++)
					*q = ld_lower(*q);
				c->m365_globs = ng;
				ng[c->n_m365_globs].glob = lc;
				ng[c->n_m365_globs].ep = idx;
				c->n_m365_globs += lc != NULL;
			}
			ld_pop(l, o3);
		}
		ld_pop(l, o2);
		ld_pop(l, o);
	}
	c->m365_urls = tg_dset_build(ub, l->key);
	c->m365_ips = tg_cidrset_build(ib);
	ub = NULL;
	ib = NULL;
	if (c->m365_urls == NULL || c->m365_ips == NULL)
		goto nomem;
	goto out;
nomem:
	ld_err(l, "out of memory");
out:
	tg_dset_builder_free(ub);
	tg_cidrset_builder_free(ib);
	ld_pop(l, old);
}

enum tg_err tg_content_load(const struct tg_content_files *files, const uint8_t key[static 16],
			    struct tg_diag *diag, struct tg_content **out)
{
	static const char *const names[] = TG_CONTENT_FILE_NAMES;
	const struct tg_span *f[CF__JSON] = {
		[CF_MANIFEST] = &files->manifest, [CF_PINNED] = &files->pinned,
		[CF_APPS] = &files->apps,	  [CF_M365] = &files->m365,
		[CF_DOH] = &files->doh,
	};
	cJSON *root[CF__JSON] = { NULL };
	struct tg_content *c = NULL;
	enum tg_err e = TG_OK;
	struct ld l;
	size_t i;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.d = diag;
	l.key = key;
	for (i = 0; i < CF__JSON; i++) {
		if (f[i]->p == NULL || f[i]->len == 0)
			continue;
		l.file = names[i];
		root[i] = ld_parse(&l, f[i]->p, f[i]->len, TG_CAP_CONTENT_BYTES, &e);
		if (root[i] == NULL)
			goto out;
		if (!cJSON_IsObject(root[i]) && !cJSON_IsArray(root[i])) {
			ld_err(&l, "expected an object");
			e = TG_ERR_POLICY;
			goto out;
		}
	}
	c = tg_content_empty();
	if (c == NULL) {
		e = TG_ERR_NOMEM;
		goto out;
	}
	if (root[CF_MANIFEST]) {
		const char *ver = ld_cstr(root[CF_MANIFEST], "version");

		snprintf(c->version, sizeof(c->version), "%s", ver ? ver : "");
	}
	if (root[CF_PINNED]) {
		l.file = names[CF_PINNED];
		ld_content_pinned(&l, c, root[CF_PINNED]);
	}
	l.file = names[CF_APPS];
	ld_content_apps(&l, c, root[CF_APPS], root[CF_DOH]);
	if (root[CF_M365]) {
		l.file = names[CF_M365];
		ld_content_m365(&l, c, root[CF_M365]);
	}
	if (l.errors) {
		e = TG_ERR_POLICY;
		goto out;
	}
	e = content_index_build(c, key);
	if (e != TG_OK)
		goto out;
	if (files->categories.p && files->categories.len) {
		struct tg_catdb *db = NULL;

		e = tg_catdb_parse(files->categories.p, files->categories.len, key, diag, &db);
		if (e != TG_OK)
			goto out;
		tg_catdb_free(c->cat);
		c->cat = db;
	}
	*out = c;
	c = NULL;
out:
	for (i = 0; i < CF__JSON; i++)
		cJSON_Delete(root[i]);
	tg_content_free(c);
	return e;
}
