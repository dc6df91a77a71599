/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catdb.h - the URL category and reputation database (content package categories.tsv).
 *
 * Text format (policy/content/README.md), one record per line, fields separated by one TAB:
 *
 *   pattern <TAB> category[,category...] <TAB> reputation
 *
 * pattern: a domain pattern ("example.com", "*.example.com", ".example.com", domainset.h);
 * categories: 1..8 names from the closed list below or extension names "ut1-<name>";
 * reputation: one digit 1..5 (1 low risk, 5 high risk). Lines starting with '#' are comments;
 * the first line must be the header "#tlsgate-categories 1" (format version 1). Empty lines
 * are skipped. Lines end with LF (a CR before it is tolerated). The same pattern twice: the
 * first line wins (counted). A line longer than 1024 bytes is an error.
 *
 * The compiled database is a domain set (keyed 64-bit fingerprints, ~14 bytes an entry) whose
 * values index a table of distinct (category set, reputation) pairs: 5M domains fit in ~80 MB.
 */
#ifndef TLSGATE_CATDB_H
#define TLSGATE_CATDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/err.h"

struct tg_catdb;
struct tg_diag;

/* Reputation: 1 (low risk) to 5 (high risk); 0 means unknown. */
#define TG_CATDB_REP_MIN 1
#define TG_CATDB_REP_MAX 5

/* A set of category ids (TG_CAP_CATEGORIES bits). */
struct tg_catset {
	uint64_t w[TG_CAP_CATEGORIES / 64];
};

/* The closed list: ids 0..TG_CATDB_FIXED-1 are these names, in this order, in every database. */
#define TG_CATDB_FIXED 47

/*
 * tg_catdb_parse() - parse categories.tsv (@tsv, @len bytes) and build the database under @key
 * (16 random bytes). The first error stops the parse and is reported to @diag (may be NULL) as
 * "line N: MESSAGE". Returns TG_OK and *@out (free with tg_catdb_free), TG_ERR_CATDB,
 * TG_ERR_CAP (over TG_CAP_CATDB_BYTES, TG_CAP_DSET_ENTRIES entries or TG_CAP_CATEGORIES names),
 * or TG_ERR_NOMEM.
 */
enum tg_err tg_catdb_parse(const uint8_t *tsv, size_t len, const uint8_t key[static 16],
			   struct tg_diag *diag, struct tg_catdb **out) TG_WUR;

/* tg_catdb_empty() - a database with no entries (the closed category list only). */
struct tg_catdb *tg_catdb_empty(void);

void tg_catdb_free(struct tg_catdb *db);

/*
 * tg_catdb_lookup() - categories and reputation of the normalized @name by its most specific
 * pattern. Returns false (cats empty, rep 0) when nothing matches. Never allocates.
 */
bool tg_catdb_lookup(const struct tg_catdb *db, const char *name, size_t len,
		     struct tg_catset *cats, uint8_t *rep);

/* Category id of a name, or -1. Names: the closed list and this database's "ut1-" names. */
int tg_catdb_category_id(const struct tg_catdb *db, const char *name, size_t len);

/* Name of category @id, NULL if unknown. */
const char *tg_catdb_category_name(const struct tg_catdb *db, unsigned id);

size_t tg_catdb_category_count(const struct tg_catdb *db);
size_t tg_catdb_count(const struct tg_catdb *db);
size_t tg_catdb_bytes(const struct tg_catdb *db);

static inline bool tg_catset_has(const struct tg_catset *s, unsigned id)
{
	return id < TG_CAP_CATEGORIES && (s->w[id / 64] >> (id % 64) & 1);
}

#endif
