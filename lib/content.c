/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * content.c - the loaded content package (content.h): lookups and release. Loading is in
 * content_load.c (JSON) and catdb.c (categories.tsv).
 *
 * Microsoft 365 globs (m365.json "globs") are the one pattern kind a domain set cannot hold:
 * '*' stands for zero or more characters other than '.', anywhere in a label
 * ("*-files.sharepoint.com", "autodiscover.*.onmicrosoft.com"). They are few (a handful), so
 * they are matched one by one after the exact and wildcard URLs.
 */
#include <stdlib.h>
#include <string.h>

#include "policy_impl.h"

struct tg_content *tg_content_empty(void)
{
	struct tg_content *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->cat = tg_catdb_empty();
	if (c->cat == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void tg_content_free(struct tg_content *c)
{
	size_t i;

	if (c == NULL)
		return;
	tg_dset_free(c->names);
	free(c->recs);
	for (i = 0; i < c->n_notes; i++)
		free(c->notes[i].name);
	free(c->notes);
	tg_catdb_free(c->cat);
	for (i = 0; i < c->n_pins; i++) {
		free((char *)(uintptr_t)c->pins[i].pattern);
		free((char *)(uintptr_t)c->pins[i].app);
		free((char *)(uintptr_t)c->pins[i].reason);
		free((char *)(uintptr_t)c->pins[i].source);
	}
	free(c->pins);
	tg_dset_free(c->pin_set);
	for (i = 0; i < c->n_apps; i++)
		free(c->apps[i].name);
	free(c->apps);
	tg_dset_free(c->app_hosts);
	tg_cidrset_free(c->app_nets);
	for (i = 0; i < c->n_groups; i++) {
		free(c->groups[i].name);
		free(c->groups[i].apps);
	}
	free(c->groups);
	free(c->m365);
	tg_dset_free(c->m365_urls);
	for (i = 0; i < c->n_m365_globs; i++)
		free(c->m365_globs[i].glob);
	free(c->m365_globs);
	tg_cidrset_free(c->m365_ips);
	free(c);
}

const char *tg_content_version(const struct tg_content *c)
{
	return c->version;
}

size_t tg_content_pin_count(const struct tg_content *c)
{
	return c->n_pins;
}

const struct tg_content_pin *tg_content_pin_get(const struct tg_content *c, size_t idx)
{
	return idx < c->n_pins ? &c->pins[idx] : NULL;
}

int32_t tg_content_pin_lookup(const struct tg_content *c, const char *name, size_t len)
{
	uint32_t v;

	if (c->pin_set == NULL || len == 0 ||
	    !tg_dset_lookup(c->pin_set, name, len, &v, NULL, NULL))
		return -1;
	return v < c->n_pins ? (int32_t)v : -1;
}

size_t tg_content_app_count(const struct tg_content *c)
{
	return c->n_apps;
}

const char *tg_content_app_name(const struct tg_content *c, size_t idx)
{
	return idx < c->n_apps ? c->apps[idx].name : NULL;
}

size_t tg_content_group_count(const struct tg_content *c)
{
	return c->n_groups;
}

const char *tg_content_group_name(const struct tg_content *c, size_t idx)
{
	return idx < c->n_groups ? c->groups[idx].name : NULL;
}

const char *tg_content_category_name(const struct tg_content *c, unsigned id)
{
	return tg_catdb_category_name(c->cat, id);
}

bool content_glob_match(const char *glob, const char *name, size_t len)
{
	size_t g = 0, n = 0, star_g = (size_t)-1, star_n = 0;

	/* Iterative wildcard match where '*' never crosses a '.'. */
	while (n < len) {
		if (glob[g] == '*') {
			star_g = ++g;
			star_n = n;
		} else if (glob[g] != '\0' && glob[g] == name[n]) {
			g++;
			n++;
		} else if (star_g != (size_t)-1 && name[star_n] != '.') {
			g = star_g;
			n = ++star_n;
		} else {
			return false;
		}
	}
	while (glob[g] == '*')
		g++;
	return glob[g] == '\0';
}

/* Cheap rejection: the literal text before the first '*' and after the last one must be the
 * name's prefix and suffix. */
static bool content_glob_ends_ok(const char *glob, const char *name, size_t len)
{
	const char *star = strchr(glob, '*'), *last;
	size_t gl = strlen(glob), pre, suf;

	if (star == NULL)
		return gl == len && memcmp(glob, name, len) == 0;
	for (last = glob + gl - 1; *last != '*'; last--)
		;
	pre = (size_t)(star - glob);
	suf = gl - (size_t)(last - glob) - 1;
	return pre + suf <= len && memcmp(glob, name, pre) == 0 &&
	       memcmp(last + 1, name + len - suf, suf) == 0;
}

enum tg_m365_cat tg_content_m365_lookup(const struct tg_content *c, const char *name, size_t len,
					uint8_t family, const uint8_t addr[static 16], uint32_t *id)
{
	return content_m365_lookup(c, name, len, family, addr, id, true);
}

enum tg_m365_cat content_m365_lookup(const struct tg_content *c, const char *name, size_t len,
				     uint8_t family, const uint8_t addr[static 16], uint32_t *id,
				     bool urls)
{
	uint32_t v;
	size_t i;

	if (urls && len && c->m365_urls && tg_dset_lookup(c->m365_urls, name, len, &v, NULL, NULL))
		goto found;
	for (i = 0; len && i < c->n_m365_globs; i++)
		if (content_glob_ends_ok(c->m365_globs[i].glob, name, len) &&
		    content_glob_match(c->m365_globs[i].glob, name, len)) {
			v = c->m365_globs[i].ep;
			goto found;
		}
	if (len == 0 && c->m365_ips && tg_cidrset_lookup(c->m365_ips, family, addr, &v, NULL))
		goto found;
	return TG_M365_CAT_NONE;
found:
	if (v >= c->n_m365)
		return TG_M365_CAT_NONE;
	if (id)
		*id = c->m365[v].id;
	return c->m365[v].cat;
}

const char *tg_m365_cat_text(enum tg_m365_cat cat)
{
	switch (cat) {
	case TG_M365_CAT_OPTIMIZE:
		return "Optimize";
	case TG_M365_CAT_ALLOW:
		return "Allow";
	case TG_M365_CAT_DEFAULT:
		return "Default";
	case TG_M365_CAT_NONE:
	default:
		return "";
	}
}

bool content_note(struct tg_content *c, enum tg_dset_kind kind, const char *name, size_t len)
{
	struct pol_pattern *n;

	if (c->n_notes == c->cap_notes) {
		size_t cap = c->cap_notes ? c->cap_notes * 2 : 256;

		n = realloc(c->notes, cap * sizeof(*n));
		if (n == NULL)
			return false;
		c->notes = n;
		c->cap_notes = cap;
	}
	n = &c->notes[c->n_notes];
	n->name = malloc(len + 1);
	if (n->name == NULL)
		return false;
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	n->len = len;
	n->kind = kind;
	c->n_notes++;
	return true;
}

/* What the three sets say about @name itself. */
static void content_rec_of(const struct tg_content *c, const char *name, size_t len,
			   struct content_rec *r)
{
	uint32_t v;

	r->pin = r->app = r->m365 = -1;
	if (c->pin_set && tg_dset_lookup(c->pin_set, name, len, &v, NULL, NULL))
		r->pin = (int32_t)v;
	if (c->app_hosts && tg_dset_lookup(c->app_hosts, name, len, &v, NULL, NULL))
		r->app = (int32_t)v;
	if (c->m365_urls && tg_dset_lookup(c->m365_urls, name, len, &v, NULL, NULL))
		r->m365 = (int32_t)v;
}

/*
 * Every pattern's record is what the separate sets answer for a name it decides: the name
 * itself (EXACT, DOMAIN_AND_SUBS) or a name below it that no more specific pattern of the
 * index covers (SUBDOMAINS, DOMAIN_AND_SUBS), computed for the stand-in child "_.<name>" (a
 * label no real pattern uses). The index then answers with one lookup what the three sets
 * answer with three.
 */
enum tg_err content_index_build(struct tg_content *c, const uint8_t key[static 16])
{
	struct tg_dset_builder *b = tg_dset_builder_new();
	size_t i, n = 0;
	enum tg_err e = TG_ERR_NOMEM;

	c->recs = calloc(2 * c->n_notes + 1, sizeof(*c->recs));
	if (b == NULL || c->recs == NULL)
		goto out;
	for (i = 0; i < c->n_notes; i++) {
		const struct pol_pattern *pt = &c->notes[i];
		char child[TG_CAP_NAME_LEN + 1];
		uint32_t first = (uint32_t)n;

		if (pt->kind != TG_DSET_SUBDOMAINS)
			content_rec_of(c, pt->name, pt->len, &c->recs[n++]);
		if (pt->kind != TG_DSET_EXACT) {
			if (pt->len + 2 > TG_CAP_NAME_LEN) {
				c->recs[n].pin = c->recs[n].app = c->recs[n].m365 = -1;
				n++;
			} else {
				child[0] = '_';
				child[1] = '.';
				memcpy(child + 2, pt->name, pt->len);
				content_rec_of(c, child, pt->len + 2, &c->recs[n++]);
			}
		}
		e = tg_dset_builder_add(b, pt->name, pt->len, pt->kind, first);
		if (e != TG_OK)
			goto out;
	}
	c->n_recs = n;
	c->names = tg_dset_build(b, key);
	b = NULL;
	e = c->names ? TG_OK : TG_ERR_NOMEM;
out:
	tg_dset_builder_free(b);
	for (i = 0; i < c->n_notes; i++)
		free(c->notes[i].name);
	free(c->notes);
	c->notes = NULL;
	c->n_notes = c->cap_notes = 0;
	return e;
}

void content_names_lookup(const struct tg_content *c, const char *name, size_t len,
			  struct content_rec *out)
{
	enum tg_dset_kind kind;
	size_t mlen;
	uint32_t v;

	out->pin = out->app = out->m365 = -1;
	if (c->names == NULL || len == 0 || !tg_dset_lookup(c->names, name, len, &v, &kind, &mlen))
		return;
	if (kind == TG_DSET_DOMAIN_AND_SUBS && mlen != len)
		v++;
	if (v < c->n_recs)
		*out = c->recs[v];
}
