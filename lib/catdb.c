/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catdb.c - the URL category and reputation database: categories.tsv parser and index.
 *
 * Line format (catdb.h, policy/content/README.md):
 *
 *   pattern TAB category[,category...] TAB reputation LF
 *
 * Lines are read through the cursor; each is split at its two TABs. Patterns go into one
 * domain set whose 32-bit value indexes a table of distinct (category set, reputation) pairs,
 * so the per-domain cost is the set's ~14 bytes and 5M domains stay under 100 MB.
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/catdb.h"
#include "tlsgate/cursor.h"
#include "tlsgate/diag.h"
#include "tlsgate/domainset.h"

#define CATDB_LINE_MAX	1024
#define CATDB_LINE_CATS 8
#define CATDB_HEADER	"#tlsgate-categories 1"

/* The closed list, in id order (policy/content/README.md), with lengths for fast compares. */
struct catdb_name {
	const char *name;
	uint8_t len;
};

#define CATDB_NAME(s)            \
	{                        \
		s, sizeof(s) - 1 \
	}

static const struct catdb_name catdb_fixed[TG_CATDB_FIXED] = {
	CATDB_NAME("adult"),
	CATDB_NAME("ads-tracking"),
	CATDB_NAME("blogs"),
	CATDB_NAME("business"),
	CATDB_NAME("chat-messaging"),
	CATDB_NAME("cheating"),
	CATDB_NAME("collaboration"),
	CATDB_NAME("cryptomining"),
	CATDB_NAME("dating"),
	CATDB_NAME("doh"),
	CATDB_NAME("drugs"),
	CATDB_NAME("education"),
	CATDB_NAME("entertainment"),
	CATDB_NAME("file-sharing"),
	CATDB_NAME("finance"),
	CATDB_NAME("forums"),
	CATDB_NAME("gambling"),
	CATDB_NAME("games"),
	CATDB_NAME("government"),
	CATDB_NAME("hacking"),
	CATDB_NAME("hate"),
	CATDB_NAME("health"),
	CATDB_NAME("job-search"),
	CATDB_NAME("lifestyle"),
	CATDB_NAME("malware"),
	CATDB_NAME("mixed-adult"),
	CATDB_NAME("news"),
	CATDB_NAME("phishing"),
	CATDB_NAME("piracy"),
	CATDB_NAME("proxy-avoidance"),
	CATDB_NAME("reference"),
	CATDB_NAME("religion"),
	CATDB_NAME("remote-access"),
	CATDB_NAME("search-engines"),
	CATDB_NAME("shopping"),
	CATDB_NAME("social-networking"),
	CATDB_NAME("software-downloads"),
	CATDB_NAME("software-updates"),
	CATDB_NAME("sports"),
	CATDB_NAME("streaming-media"),
	CATDB_NAME("technology"),
	CATDB_NAME("translation"),
	CATDB_NAME("travel"),
	CATDB_NAME("url-shorteners"),
	CATDB_NAME("vpn"),
	CATDB_NAME("weapons"),
	CATDB_NAME("webmail"),
};

struct catdb_combo {
	struct tg_catset cats;
	uint8_t rep;
};

struct tg_catdb {
	struct tg_dset *set;
	/* build time: the previous line's categories and reputation field, and its combo index
	 * (databases list lines grouped by category, so most lines reuse it) */
	char last_field[CATDB_LINE_MAX];
	size_t last_len;
	int64_t last_idx;
	struct catdb_combo *combos;
	size_t n_combos, cap_combos;
	uint32_t *combo_hash; /* open addressing over combos (index + 1), build time only */
	size_t hash_cap;
	char *ext[TG_CAP_CATEGORIES - TG_CATDB_FIXED]; /* "ut1-" names */
	size_t n_ext;
	size_t count;
};

static bool catdb_name_eq(const char *name, const char *p, size_t len)
{
	return strlen(name) == len && memcmp(name, p, len) == 0;
}

int tg_catdb_category_id(const struct tg_catdb *db, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < TG_CATDB_FIXED; i++)
		if (catdb_fixed[i].len == len && catdb_fixed[i].name[0] == name[0] &&
		    memcmp(catdb_fixed[i].name, name, len) == 0)
			return (int)i;
	for (i = 0; db && i < db->n_ext; i++)
		if (catdb_name_eq(db->ext[i], name, len))
			return (int)(TG_CATDB_FIXED + i);
	return -1;
}

const char *tg_catdb_category_name(const struct tg_catdb *db, unsigned id)
{
	if (id < TG_CATDB_FIXED)
		return catdb_fixed[id].name;
	if (db && id - TG_CATDB_FIXED < db->n_ext)
		return db->ext[id - TG_CATDB_FIXED];
	return NULL;
}

size_t tg_catdb_category_count(const struct tg_catdb *db)
{
	return TG_CATDB_FIXED + (db ? db->n_ext : 0);
}

size_t tg_catdb_count(const struct tg_catdb *db)
{
	return db ? db->count : 0;
}

size_t tg_catdb_bytes(const struct tg_catdb *db)
{
	if (db == NULL)
		return 0;
	return sizeof(*db) + db->cap_combos * sizeof(*db->combos) +
	       (db->set ? tg_dset_bytes(db->set) : 0);
}

void tg_catdb_free(struct tg_catdb *db)
{
	size_t i;

	if (db == NULL)
		return;
	tg_dset_free(db->set);
	free(db->combos);
	free(db->combo_hash);
	for (i = 0; i < db->n_ext; i++)
		free(db->ext[i]);
	free(db);
}

struct tg_catdb *tg_catdb_empty(void)
{
	return calloc(1, sizeof(struct tg_catdb));
}

bool tg_catdb_lookup(const struct tg_catdb *db, const char *name, size_t len,
		     struct tg_catset *cats, uint8_t *rep)
{
	uint32_t v;

	memset(cats, 0, sizeof(*cats));
	*rep = 0;
	if (db == NULL || db->set == NULL || !tg_dset_lookup(db->set, name, len, &v, NULL, NULL))
		return false;
	if (v >= db->n_combos)
		return false;
	*cats = db->combos[v].cats;
	*rep = db->combos[v].rep;
	return true;
}

/* A category name on a line: a fixed one, a known extension, or a new "ut1-" extension. */
static int catdb_category(struct tg_catdb *db, const char *p, size_t len)
{
	int id = tg_catdb_category_id(db, p, len);
	size_t i;

	if (id >= 0)
		return id;
	if (len < 5 || len > 52 || memcmp(p, "ut1-", 4) != 0)
		return -1;
	for (i = 4; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-' ||
		      p[i] == '_'))
			return -1;
	if (db->n_ext >= TG_CAP_CATEGORIES - TG_CATDB_FIXED)
		return -2;
	db->ext[db->n_ext] = malloc(len + 1);
	if (db->ext[db->n_ext] == NULL)
		return -3;
	memcpy(db->ext[db->n_ext], p, len);
	db->ext[db->n_ext][len] = '\0';
	return (int)(TG_CATDB_FIXED + db->n_ext++);
}

static uint32_t catdb_combo_hash(const struct catdb_combo *c)
{
	uint64_t h = c->rep * 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < TG_CAP_CATEGORIES / 64; i++)
		h = (h ^ c->cats.w[i]) * 0xff51afd7ed558ccdull;
	return (uint32_t)(h >> 32);
}

static bool catdb_combo_grow(struct tg_catdb *db)
{
	size_t cap = db->hash_cap ? db->hash_cap * 2 : 64, i;
	uint32_t *h = calloc(cap, sizeof(*h));

	if (h == NULL)
		return false;
	for (i = 0; i < db->n_combos; i++) {
		size_t j = catdb_combo_hash(&db->combos[i]) & (cap - 1);

		while (h[j])
			j = (j + 1) & (cap - 1);
		h[j] = (uint32_t)i + 1;
	}
	free(db->combo_hash);
	db->combo_hash = h;
	db->hash_cap = cap;
	return true;
}

/* Index of the combo equal to @c, added if new; -1 when out of memory. */
static int64_t catdb_combo_index(struct tg_catdb *db, const struct catdb_combo *c)
{
	size_t j;

	if ((db->n_combos + 1) * 2 > db->hash_cap && !catdb_combo_grow(db))
		return -1;
	j = catdb_combo_hash(c) & (db->hash_cap - 1);
	while (db->combo_hash[j]) {
		const struct catdb_combo *o = &db->combos[db->combo_hash[j] - 1];

		if (o->rep == c->rep && memcmp(&o->cats, &c->cats, sizeof(c->cats)) == 0)
			return db->combo_hash[j] - 1;
		j = (j + 1) & (db->hash_cap - 1);
	}
	if (db->n_combos == db->cap_combos) {
		size_t cap = db->cap_combos ? db->cap_combos * 2 : 64;
		struct catdb_combo *n = realloc(db->combos, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		db->combos = n;
		db->cap_combos = cap;
	}
	db->combos[db->n_combos] = *c;
	db->combo_hash[j] = (uint32_t)db->n_combos + 1;
	return (int64_t)db->n_combos++;
}

/* Parse the category list @p/@len ("a,b,c") into @cats. Returns TG_OK or an error for diag. */
static enum tg_err catdb_parse_cats(struct tg_catdb *db, const char *p, size_t len,
				    struct tg_catset *cats, const char **why)
{
	size_t start = 0, i, n = 0;

	memset(cats, 0, sizeof(*cats));
	for (i = 0; i <= len; i++) {
		int id;

		if (i < len && p[i] != ',')
			continue;
		if (i == start) {
			*why = "empty category name";
			return TG_ERR_CATDB;
		}
		if (++n > CATDB_LINE_CATS) {
			*why = "more than 8 categories";
			return TG_ERR_CATDB;
		}
		id = catdb_category(db, p + start, i - start);
		if (id == -2) {
			*why = "too many extension categories";
			return TG_ERR_CAP;
		}
		if (id == -3)
			return TG_ERR_NOMEM;
		if (id < 0) {
			*why = "unknown category";
			return TG_ERR_CATDB;
		}
		cats->w[id / 64] |= 1ull << (id % 64);
		start = i + 1;
	}
	return TG_OK;
}

/* One record line (no LF, no CR). */
static enum tg_err catdb_line(struct tg_catdb *db, struct tg_dset_builder *b, struct tg_span l,
			      const char **why)
{
	const char *s = (const char *)l.p;
	const char *t1 = memchr(s, '\t', l.len), *t2;
	struct catdb_combo c;
	enum tg_err e;
	int64_t idx;

	if (t1 == NULL || (t2 = memchr(t1 + 1, '\t', l.len - (size_t)(t1 + 1 - s))) == NULL) {
		*why = "expected pattern<TAB>categories<TAB>reputation";
		return TG_ERR_CATDB;
	}
	if ((size_t)(t2 + 1 - s) != l.len - 1 || s[l.len - 1] < '0' + TG_CATDB_REP_MIN ||
	    s[l.len - 1] > '0' + TG_CATDB_REP_MAX) {
		*why = "reputation must be one digit 1-5";
		return TG_ERR_CATDB;
	}
	c.rep = (uint8_t)(s[l.len - 1] - '0');
	if (db->last_idx >= 0 && db->last_len == l.len - (size_t)(t1 + 1 - s) &&
	    memcmp(db->last_field, t1 + 1, db->last_len) == 0) {
		idx = db->last_idx;
	} else {
		e = catdb_parse_cats(db, t1 + 1, (size_t)(t2 - t1 - 1), &c.cats, why);
		if (e != TG_OK)
			return e;
		idx = catdb_combo_index(db, &c);
		if (idx < 0)
			return TG_ERR_NOMEM;
		db->last_len = l.len - (size_t)(t1 + 1 - s);
		memcpy(db->last_field, t1 + 1, db->last_len);
		db->last_idx = idx;
	}
	e = tg_dset_builder_add_pattern(b, s, (size_t)(t1 - s), (uint32_t)idx);
	if (e != TG_OK) {
		*why = e == TG_ERR_CAP ? "too many entries" : tg_strerror(e);
		return e == TG_ERR_NOMEM || e == TG_ERR_CAP ? e : TG_ERR_CATDB;
	}
	db->count++;
	return TG_OK;
}

enum tg_err tg_catdb_parse(const uint8_t *tsv, size_t len, const uint8_t key[static 16],
			   struct tg_diag *diag, struct tg_catdb **out)
{
	struct tg_dset_builder *b = NULL;
	struct tg_catdb *db = NULL;
	struct tg_cur c;
	enum tg_err e = TG_OK;
	const char *why = NULL;
	size_t lineno = 0;

	*out = NULL;
	if (len > TG_CAP_CATDB_BYTES) {
		e = TG_ERR_CAP;
		why = "file larger than the cap";
		goto out;
	}
	db = tg_catdb_empty();
	b = tg_dset_builder_new();
	if (db == NULL || b == NULL) {
		e = TG_ERR_NOMEM;
		goto out;
	}
	db->last_idx = -1;
	tg_cur_init(&c, tsv, len);
	while (tg_cur_left(&c) > 0) {
		struct tg_span rest = { c.p + c.off, tg_cur_left(&c) };
		const uint8_t *nl = memchr(rest.p, '\n', rest.len);
		size_t n = nl ? (size_t)(nl - rest.p) : rest.len;
		struct tg_span l = tg_cur_span(&c, n);

		tg_cur_skip(&c, nl ? 1 : 0);
		lineno++;
		if (l.len && l.p[l.len - 1] == '\r')
			l.len--;
		if (l.len > CATDB_LINE_MAX) {
			e = TG_ERR_CATDB;
			why = "line longer than 1024 bytes";
			goto out;
		}
		if (lineno == 1 &&
		    !(l.len == sizeof(CATDB_HEADER) - 1 && memcmp(l.p, CATDB_HEADER, l.len) == 0)) {
			e = TG_ERR_CATDB;
			why = "expected the header \"" CATDB_HEADER "\"";
			goto out;
		}
		if (l.len == 0 || l.p[0] == '#')
			continue;
		e = catdb_line(db, b, l, &why);
		if (e != TG_OK)
			goto out;
	}
	db->set = tg_dset_build(b, key);
	b = NULL;
	if (db->set == NULL) {
		e = TG_ERR_NOMEM;
		goto out;
	}
	free(db->combo_hash);
	db->combo_hash = NULL;
	*out = db;
	db = NULL;
out:
	if (e != TG_OK && diag != NULL)
		tg_diag_add(diag, TG_DIAG_ERROR, "categories.tsv: line %zu: %s", lineno,
			    why ? why : tg_strerror(e));
	tg_dset_builder_free(b);
	tg_catdb_free(db);
	return e;
}
