/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * load_rules.c - the policy's rule lists "filtering", "decryption", "casb" and "dlp", each rule
 * a name, a match, an action and the list's own fields (policy/README.md "Rules").
 *
 * A match is an object of criteria, all of which must hold; which criteria a list takes is a
 * bitmask over one table of match fields (MF_*). Every name in a match is resolved here, to a
 * user or group index, a category bit or an application bitmap, so classify.c only compares.
 */
#include <stdlib.h>
#include <string.h>

#include "load_impl.h"

#define LD_ENUM_LIST_MAX    16 /* items of a small enum list (os, activities) */
#define LD_DLP_SCAN_DEFAULT 1048576 /* a DLP rule's scan.max_bytes when not given */

/* Match fields in a fixed order; @allowed is a bitmask over this table. */
enum {
	MF_USERS,
	MF_GROUPS,
	MF_SOURCES,
	MF_DESTINATIONS,
	MF_APPS,
	MF_APP_GROUPS,
	MF_CATEGORIES,
	MF_REPUTATION,
	MF_DOMAINS,
	MF_SNI,
	MF_JA4,
	MF_OS,
	MF_MANAGED,
	MF_ACTIVITIES,
	MF__COUNT,
};

static const char *const ld_match_names[MF__COUNT] = {
	"users",      "groups",	 "sources", "destinations", "apps", "app_groups", "categories",
	"reputation", "domains", "sni",	    "ja4",	    "os",   "managed",	  "activities",
};

#define MF(x) (1u << MF_##x)
#define MF_FILTERING                                                                           \
	(MF(USERS) | MF(GROUPS) | MF(SOURCES) | MF(DESTINATIONS) | MF(APPS) | MF(APP_GROUPS) | \
	 MF(CATEGORIES) | MF(REPUTATION) | MF(DOMAINS))
#define MF_DECRYPTION                                                                          \
	(MF(USERS) | MF(GROUPS) | MF(SOURCES) | MF(DESTINATIONS) | MF(APPS) | MF(APP_GROUPS) | \
	 MF(CATEGORIES) | MF(REPUTATION) | MF(SNI) | MF(JA4) | MF(OS) | MF(MANAGED))
#define MF_CASB (MF(USERS) | MF(GROUPS) | MF(APPS) | MF(APP_GROUPS) | MF(ACTIVITIES))

static bool ld_ja4_ok(const char *s)
{
	size_t i;

	if (strlen(s) != TG_CAP_JA4_LEN || s[10] != '_' || s[23] != '_')
		return false;
	if (s[0] != 't' && s[0] != 'q' && s[0] != 'd')
		return false;
	for (i = 1; i < 10; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	for (i = 11; i < TG_CAP_JA4_LEN; i++)
		if (i != 23 && !((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* A match list: an array of at most TG_CAP_POLICY_LIST items, not empty. */
static bool ld_match_array(struct ld *l, const cJSON *v, size_t *n)
{
	if (!ld_array(l, v, TG_CAP_POLICY_LIST, n))
		return false;
	if (*n == 0) {
		ld_err(l, "empty list (omit the field to match anything)");
		return false;
	}
	return true;
}

/* Name lists (users, groups, categories, apps, app_groups): each item resolved. */
static void ld_match_names_list(struct ld *l, int field, const cJSON *v, struct pol_match *m)
{
	struct tg_policy *p = l->p;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_match_array(l, v, &n))
		return;
	if (field == MF_USERS) {
		m->users = calloc(n, sizeof(*m->users));
		if (m->users == NULL) {
			ld_err(l, "out of memory");
			return;
		}
	}
	if ((field == MF_APPS || field == MF_APP_GROUPS) && m->apps == NULL) {
		m->apps = calloc(l->app_words, sizeof(uint64_t));
		if (m->apps == NULL) {
			ld_err(l, "out of memory");
			return;
		}
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);
		const char *name = ld_name_at(l, it);
		struct ld_sugg s = { name, NULL, (size_t)-1 };
		size_t q;
		int idx;

		if (name == NULL) {
			ld_pop(l, o);
			continue;
		}
		switch (field) {
		case MF_USERS:
			idx = pol_user_find(p, name, strlen(name));
			if (idx < 0) {
				ld_unknown_user(l, name);
			} else {
				m->users[m->n_users++] = (uint32_t)idx;
			}
			break;
		case MF_GROUPS:
			idx = ld_group_find(p, name);
			if (idx < 0) {
				for (q = 0; q < p->n_groups; q++)
					ld_sugg_try(&s, p->groups[q]);
				ld_unknown(l, "group", &s);
			} else {
				m->groups[idx / 64] |= 1ull << (idx % 64);
			}
			break;
		case MF_CATEGORIES:
			idx = tg_catdb_category_id(l->c->cat, name, strlen(name));
			if (idx < 0) {
				for (q = 0; q < tg_catdb_category_count(l->c->cat); q++)
					ld_sugg_try(&s,
						    tg_catdb_category_name(l->c->cat, (unsigned)q));
				ld_unknown(l, "category", &s);
			} else {
				m->cats.w[idx / 64] |= 1ull << (idx % 64);
			}
			break;
		case MF_APPS:
			idx = ld_app_find(l, name);
			if (idx < 0) {
				ld_app_sugg(l, &s);
				ld_unknown(l, "application", &s);
			} else {
				m->apps[idx / 64] |= 1ull << (idx % 64);
			}
			break;
		case MF_APP_GROUPS: {
			int32_t g = ld_agroup_find(l, name);

			if (g == INT32_MIN) {
				ld_agroup_sugg(l, &s);
				ld_unknown(l, "application group", &s);
			} else {
				ld_agroup_bits(l, g, m->apps);
			}
			break;
		}
		default:
			break;
		}
		ld_pop(l, o);
	}
	if (field == MF_USERS)
		qsort(m->users, m->n_users, sizeof(*m->users), pol_u32_cmp);
}

static void ld_match_nets(struct ld *l, const cJSON *v, struct tg_cidrset **set,
			  struct tg_cidr **list, size_t *nl)
{
	struct tg_cidrset_builder *b;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_match_array(l, v, &n))
		return;
	*list = calloc(n, sizeof(**list));
	b = tg_cidrset_builder_new();
	if (*list == NULL || b == NULL) {
		tg_cidrset_builder_free(b);
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);
		struct tg_cidr c;

		if (ld_cidr(l, it, &c)) {
			(*list)[(*nl)++] = c;
			if (tg_cidrset_builder_add(b, &c, 0) != TG_OK)
				ld_err(l, "cannot add the network");
		}
		ld_pop(l, o);
	}
	*set = tg_cidrset_build(b);
	if (*set == NULL)
		ld_err(l, "out of memory");
}

static void ld_match_patterns(struct ld *l, const cJSON *v, struct pol_match *m)
{
	struct tg_dset_builder *b;
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_match_array(l, v, &n))
		return;
	m->patterns = calloc(n, sizeof(*m->patterns));
	b = tg_dset_builder_new();
	if (m->patterns == NULL || b == NULL) {
		tg_dset_builder_free(b);
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);
		struct pol_pattern pt;

		if (ld_pattern(l, it, &pt)) {
			if (tg_dset_builder_add(b, pt.name, pt.len, pt.kind, 0) != TG_OK)
				ld_err(l, "cannot add the pattern");
			m->patterns[m->n_patterns++] = pt;
		}
		ld_pop(l, o);
	}
	m->names = tg_dset_build(b, l->key);
	if (m->names == NULL)
		ld_err(l, "out of memory");
}

static void ld_match_ja4(struct ld *l, const cJSON *v, struct pol_match *m)
{
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_match_array(l, v, &n))
		return;
	m->ja4 = calloc(n, sizeof(*m->ja4));
	if (m->ja4 == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);

		if (!cJSON_IsString(it))
			ld_err(l, "expected a string");
		else if (!ld_ja4_ok(it->valuestring))
			ld_err(l,
			       "invalid JA4 fingerprint \"%.60s\" (expected like "
			       "t13d1516h2_8daaf6152771_e5627efa2ab1)",
			       it->valuestring);
		else
			memcpy(m->ja4[m->n_ja4++], it->valuestring, TG_CAP_JA4_LEN + 1);
		ld_pop(l, o);
	}
	qsort(m->ja4, m->n_ja4, sizeof(*m->ja4), pol_ja4_cmp);
}

/* A small enum list (os, activities) as a bitmask. */
static uint8_t ld_match_enum_list(struct ld *l, const cJSON *v, const char *const *names)
{
	const cJSON *it;
	uint8_t mask = 0;
	size_t n, i = 0;
	int x;

	if (!ld_array(l, v, LD_ENUM_LIST_MAX, &n))
		return 0;
	if (n == 0)
		ld_err(l, "empty list (omit the field to match anything)");
	cJSON_ArrayForEach(it, v)
	{
		size_t o = ld_push_idx(l, i++);

		if (ld_enum(l, it, NULL, names, 0, &x))
			mask |= (uint8_t)(1u << x);
		ld_pop(l, o);
	}
	return mask;
}

static void ld_match(struct ld *l, const cJSON *o, unsigned allowed, struct pol_match *m)
{
	const char *keys[MF__COUNT + 1], *os_names[TG_OS__COUNT + 1];
	const cJSON *v[MF__COUNT], *all[MF__COUNT];
	size_t nk = 0, f, old;

	memset(m, 0, sizeof(*m));
	m->rep_max = TG_CATDB_REP_MAX;
	for (f = 0; f < MF__COUNT; f++)
		if (allowed & (1u << f))
			keys[nk++] = ld_match_names[f];
	keys[nk] = NULL;
	if (!ld_obj(l, o, keys, v))
		return;
	nk = 0;
	for (f = 0; f < MF__COUNT; f++)
		all[f] = (allowed & (1u << f)) ? v[nk++] : NULL;
	for (f = 0; f < MF__COUNT; f++) {
		if (all[f] == NULL)
			continue;
		old = ld_push_key(l, ld_match_names[f]);
		switch (f) {
		case MF_USERS:
			m->have |= CRIT_USERS;
			ld_match_names_list(l, (int)f, all[f], m);
			break;
		case MF_GROUPS:
			m->have |= CRIT_GROUPS;
			ld_match_names_list(l, (int)f, all[f], m);
			break;
		case MF_CATEGORIES:
			m->have |= CRIT_CATS;
			ld_match_names_list(l, (int)f, all[f], m);
			break;
		case MF_APPS:
		case MF_APP_GROUPS:
			m->have |= CRIT_APPS;
			ld_match_names_list(l, (int)f, all[f], m);
			break;
		case MF_SOURCES:
			m->have |= CRIT_SOURCES;
			ld_match_nets(l, all[f], &m->src, &m->src_list, &m->n_src);
			break;
		case MF_DESTINATIONS:
			m->have |= CRIT_DESTS;
			ld_match_nets(l, all[f], &m->dst, &m->dst_list, &m->n_dst);
			break;
		case MF_DOMAINS:
		case MF_SNI:
			m->have |= CRIT_NAMES;
			ld_match_patterns(l, all[f], m);
			break;
		case MF_JA4:
			m->have |= CRIT_JA4;
			ld_match_ja4(l, all[f], m);
			break;
		case MF_OS:
			m->have |= CRIT_OS;
			ld_os_names(os_names);
			m->os_mask = ld_match_enum_list(l, all[f], os_names);
			break;
		case MF_ACTIVITIES:
			m->have |= CRIT_ACTIVITIES;
			m->activities = ld_match_enum_list(l, all[f], pol_activity_names);
			break;
		case MF_MANAGED:
			m->have |= CRIT_MANAGED;
			ld_pop(l, old);
			ld_bool(l, all[f], "managed", false, &m->managed);
			continue;
		case MF_REPUTATION: {
			static const char *const rkeys[] = { "min", "max", NULL };
			const cJSON *r[2];
			long lo = TG_CATDB_REP_MIN, hi = TG_CATDB_REP_MAX;

			m->have |= CRIT_REP;
			if (ld_obj(l, all[f], rkeys, r)) {
				if (r[0] == NULL && r[1] == NULL)
					ld_err(l, "needs \"min\" or \"max\"");
				ld_int(l, r[0], "min", TG_CATDB_REP_MIN, TG_CATDB_REP_MAX,
				       TG_CATDB_REP_MIN, &lo);
				ld_int(l, r[1], "max", TG_CATDB_REP_MIN, TG_CATDB_REP_MAX,
				       TG_CATDB_REP_MAX, &hi);
				if (lo > hi)
					ld_err(l, "min %ld is above max %ld", lo, hi);
				m->rep_min = (uint8_t)lo;
				m->rep_max = (uint8_t)hi;
			}
			break;
		}
		default:
			break;
		}
		ld_pop(l, old);
	}
}

/* A field only detector type @only takes (its name @only_name), present on type @t: an error. */
static void ld_detector_only(struct ld *l, const cJSON *v, const char *field, int t, int only,
			     const char *only_name)
{
	size_t old;

	if (v == NULL || t == only)
		return;
	old = ld_push_key(l, field);
	ld_err(l, "only for type \"%s\"", only_name);
	ld_pop(l, old);
}

/* A DLP string (regex pattern, keyword) of 1..TG_CAP_DLP_PATTERN bytes: a copy, or NULL. */
static char *ld_dlp_string(struct ld *l, const cJSON *v)
{
	if (!cJSON_IsString(v))
		ld_err(l, "expected a string");
	else if (v->valuestring[0] == '\0' || strlen(v->valuestring) > TG_CAP_DLP_PATTERN)
		ld_err(l, "must be 1-%d bytes", TG_CAP_DLP_PATTERN);
	else
		return ld_strdup(v->valuestring);
	return NULL;
}

static void ld_detector_words(struct ld *l, const cJSON *v, struct pol_detector *d)
{
	const cJSON *w;
	size_t nw, k = 0;

	if (v == NULL) {
		ld_err(l, "required");
		return;
	}
	if (!ld_array(l, v, TG_CAP_DLP_KEYWORDS, &nw))
		return;
	if (nw == 0)
		ld_err(l, "expected at least one word");
	d->words = calloc(nw ? nw : 1, sizeof(*d->words));
	cJSON_ArrayForEach(w, v)
	{
		size_t old = ld_push_idx(l, k++);
		char *word = ld_dlp_string(l, w);

		if (word && d->words)
			d->words[d->n_words++] = word;
		else
			free(word);
		ld_pop(l, old);
	}
}

/* One detector object, at the current path; false when it is not an object (not counted). */
static bool ld_detector(struct ld *l, const cJSON *it, struct pol_detector *d)
{
	static const char *const keys[] = { "type",	 "pattern",	   "words",
					    "min_count", "case_sensitive", NULL };
	static const char *const types[] = { "card_number", "regex", "keywords", NULL };
	const cJSON *f[5];
	size_t old;
	int t;
	long mc;

	if (!ld_obj(l, it, keys, f))
		return false;
	if (f[0] == NULL) {
		old = ld_push_key(l, "type");
		ld_err(l, "required");
		ld_pop(l, old);
		return true;
	}
	if (!ld_enum(l, f[0], "type", types, 0, &t))
		return true;
	d->type = (enum dlp_type)t;
	if (ld_int(l, f[3], "min_count", 1, 1000, 1, &mc))
		d->min_count = (uint32_t)mc;
	ld_detector_only(l, f[1], "pattern", t, DLP_REGEX, "regex");
	ld_detector_only(l, f[2], "words", t, DLP_KEYWORDS, "keywords");
	ld_detector_only(l, f[4], "case_sensitive", t, DLP_KEYWORDS, "keywords");
	ld_bool(l, f[4], "case_sensitive", false, &d->case_sensitive);
	if (t == DLP_REGEX) {
		old = ld_push_key(l, "pattern");
		if (f[1] == NULL)
			ld_err(l, "required");
		else
			d->pattern = ld_dlp_string(l, f[1]);
		ld_pop(l, old);
	}
	if (t == DLP_KEYWORDS) {
		old = ld_push_key(l, "words");
		ld_detector_words(l, f[2], d);
		ld_pop(l, old);
	}
	return true;
}

static void ld_detectors(struct ld *l, const cJSON *v, struct pol_rule *r)
{
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_array(l, v, TG_CAP_DLP_DETECTORS, &n))
		return;
	if (n == 0) {
		ld_err(l, "expected at least one detector");
		return;
	}
	r->detectors = calloc(n, sizeof(*r->detectors));
	if (r->detectors == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t old = ld_push_idx(l, i++);

		if (ld_detector(l, it, &r->detectors[r->n_detectors]))
			r->n_detectors++;
		ld_pop(l, old);
	}
}

/* A DLP rule's "detectors" (required) and "scan". */
static void ld_rule_dlp(struct ld *l, const cJSON *detectors, const cJSON *scan, struct pol_rule *r)
{
	static const char *const scan_keys[] = { "max_bytes", "on_oversize", NULL };
	static const char *const oversize[] = { "allow", "block", NULL };
	const cJSON *s[2];
	size_t old = ld_push_key(l, "detectors");
	long mb;
	int a;

	if (detectors == NULL)
		ld_err(l, "required");
	else
		ld_detectors(l, detectors, r);
	ld_pop(l, old);
	r->scan_max_bytes = LD_DLP_SCAN_DEFAULT;
	if (scan == NULL)
		return;
	old = ld_push_key(l, "scan");
	if (ld_obj(l, scan, scan_keys, s)) {
		if (ld_int(l, s[0], "max_bytes", 1, TG_CAP_DLP_SCAN_BYTES, LD_DLP_SCAN_DEFAULT,
			   &mb))
			r->scan_max_bytes = (uint32_t)mb;
		if (ld_enum(l, s[1], "on_oversize", oversize, 0, &a))
			r->scan_oversize_block = a == 1;
	}
	ld_pop(l, old);
}

/* A rule's "action" (required): decrypt or no-decrypt, or allow, block or alert. */
static void ld_rule_action(struct ld *l, const cJSON *v, enum tg_rule_list list, struct pol_rule *r)
{
	static const char *const f_actions[] = { "allow", "block", "alert", NULL };
	static const char *const d_actions[] = { "decrypt", "no-decrypt", NULL };
	size_t old;
	int a;

	if (v == NULL) {
		old = ld_push_key(l, "action");
		ld_err(l, "required");
		ld_pop(l, old);
	} else if (list == TG_RULES_DECRYPTION) {
		if (ld_enum(l, v, "action", d_actions, 0, &a))
			r->action = a == 0 ? TG_ACTION_DECRYPT : TG_ACTION_PASS;
	} else if (ld_enum(l, v, "action", f_actions, 0, &a)) {
		r->action = a == 1 ? TG_ACTION_BLOCK : TG_ACTION_PASS;
		r->alert = a == 2;
	}
}

/* One rule object of @list, at the current path; false when it is not an object. */
static bool ld_rule(struct ld *l, const cJSON *it, enum tg_rule_list list, struct pol_rule *r)
{
	static const char *const fkeys[] = { "name", "enabled", "match", "action", NULL };
	static const char *const dkeys[] = { "name",   "enabled",	"match",
					     "action", "bypass_pinned", NULL };
	static const char *const lkeys[] = { "name",	  "enabled", "match", "action",
					     "detectors", "scan",    NULL };
	const struct pol_rules *rl = &l->p->lists[list];
	const char *const *keys = list == TG_RULES_DECRYPTION ? dkeys
				  : list == TG_RULES_DLP      ? lkeys
							      : fkeys;
	unsigned allowed = list == TG_RULES_FILTERING	 ? MF_FILTERING
			   : list == TG_RULES_DECRYPTION ? MF_DECRYPTION
							 : MF_CASB;
	const cJSON *f[6] = { NULL };
	const char *name = NULL;
	size_t old, j;

	if (!ld_obj(l, it, keys, f))
		return false;
	old = ld_push_key(l, "name");
	if (f[0] == NULL)
		ld_err(l, "required");
	else if ((name = ld_name_at(l, f[0])) != NULL) {
		for (j = 0; j < rl->n; j++)
			if (rl->r[j].name && strcmp(rl->r[j].name, name) == 0) {
				ld_err(l, "duplicate rule name \"%s\" (also [%zu])", name, j);
				break;
			}
		r->name = ld_strdup(name);
	}
	ld_pop(l, old);
	ld_bool(l, f[1], "enabled", true, &r->enabled);
	if (f[2]) {
		old = ld_push_key(l, "match");
		ld_match(l, f[2], allowed, &r->m);
		ld_pop(l, old);
	} else {
		r->m.rep_max = TG_CATDB_REP_MAX;
	}
	if (list == TG_RULES_CASB && !(r->m.have & CRIT_APPS))
		ld_err(l, "a CASB rule needs \"match.apps\" or \"match.app_groups\"");
	ld_rule_action(l, f[3], list, r);
	if (list == TG_RULES_DECRYPTION) {
		ld_bool(l, f[4], "bypass_pinned", true, &r->bypass_pinned);
		if (f[4] && r->action != TG_ACTION_DECRYPT) {
			old = ld_push_key(l, "bypass_pinned");
			ld_err(l, "only allowed when action is \"decrypt\"");
			ld_pop(l, old);
		}
	}
	if (list == TG_RULES_DLP)
		ld_rule_dlp(l, f[4], f[5], r);
	return true;
}

void ld_rules(struct ld *l, const cJSON *v, enum tg_rule_list list)
{
	struct pol_rules *rl = &l->p->lists[list];
	const cJSON *it;
	size_t n, i = 0;

	if (!ld_array(l, v, TG_CAP_RULES, &n) || n == 0)
		return;
	rl->r = calloc(n, sizeof(*rl->r));
	if (rl->r == NULL) {
		ld_err(l, "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		size_t old = ld_push_idx(l, i++);

		if (ld_rule(l, it, list, &rl->r[rl->n]))
			rl->n++;
		ld_pop(l, old);
	}
}
