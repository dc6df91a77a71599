/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * content.h - the content package (policy/content/, its README gives every file's format):
 * the implicit pinned list, application definitions and groups, Microsoft 365 endpoint sets,
 * the URL category and reputation database, the DoH resolver list.
 *
 * The package is loaded from buffers (the caller reads the files; the library makes no
 * syscalls) by tg_content_load (lib/content_load.c: JSON files; lib/catdb.c: categories.tsv),
 * then immutable: many threads may read it at once. A policy is compiled against one content
 * package and keeps referring to it, so a new package means a new policy compiled against it;
 * both are swapped together and the old pair freed together.
 */
#ifndef TLSGATE_CONTENT_H
#define TLSGATE_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/cursor.h"
#include "tlsgate/err.h"

struct tg_content;
struct tg_diag;

/* The package's files as bytes; an empty span (p NULL or len 0) means the file is absent. */
struct tg_content_files {
	struct tg_span manifest; /* manifest.json */
	struct tg_span pinned; /* pinned.json */
	struct tg_span apps; /* apps.json */
	struct tg_span m365; /* m365.json */
	struct tg_span doh; /* doh.json */
	struct tg_span categories; /* categories.tsv */
};

/* The file names, in the order of struct tg_content_files. */
#define TG_CONTENT_FILE_NAMES                                                         \
	{                                                                             \
		"manifest.json", "pinned.json", "apps.json", "m365.json", "doh.json", \
			"categories.tsv"                                              \
	}

/*
 * tg_content_load() - parse and index a content package. @key: 16 random bytes for the keyed
 * hashes. Errors and warnings go to @diag, each prefixed with the file name ("apps.json:
 * apps[3].hosts[0]: ..."). Unknown fields in content files are ignored (a newer package may
 * carry more); wrong types and bad patterns are errors. Returns TG_OK and *@out (caller frees
 * with tg_content_free), or TG_ERR_CAP / TG_ERR_JSON / TG_ERR_POLICY / TG_ERR_CATDB /
 * TG_ERR_NOMEM with *@out NULL.
 */
enum tg_err tg_content_load(const struct tg_content_files *files, const uint8_t key[static 16],
			    struct tg_diag *diag, struct tg_content **out) TG_WUR;

/* tg_content_empty() - an empty package (no pinned list, no apps, no categories); NULL: OOM. */
struct tg_content *tg_content_empty(void);

void tg_content_free(struct tg_content *c);

/* The manifest's "version" ("" when absent). */
const char *tg_content_version(const struct tg_content *c);

/* One entry of the implicit pinned list. Strings live as long as the package. */
struct tg_content_pin {
	const char *pattern;
	const char *app;
	const char *reason;
	const char *source;
};

size_t tg_content_pin_count(const struct tg_content *c);
const struct tg_content_pin *tg_content_pin_get(const struct tg_content *c, size_t idx);

/*
 * tg_content_pin_lookup() - index of the most specific pinned-list pattern matching the
 * normalized @name, or -1.
 */
int32_t tg_content_pin_lookup(const struct tg_content *c, const char *name, size_t len);

/* Applications and groups of the package. Names live as long as the package. */
size_t tg_content_app_count(const struct tg_content *c);
const char *tg_content_app_name(const struct tg_content *c, size_t idx);
size_t tg_content_group_count(const struct tg_content *c);
const char *tg_content_group_name(const struct tg_content *c, size_t idx);

/* Name of URL category @id (catdb.h ids) in this package's database, NULL if unknown. */
const char *tg_content_category_name(const struct tg_content *c, unsigned id);

/* Microsoft 365 endpoint set categories. */
enum tg_m365_cat {
	TG_M365_CAT_NONE,
	TG_M365_CAT_OPTIMIZE,
	TG_M365_CAT_ALLOW,
	TG_M365_CAT_DEFAULT,
};

/*
 * tg_content_m365_lookup() - the Microsoft 365 category of a flow by its normalized @name
 * (urls and globs), or, for a flow without a name (@len 0), its destination (@family 4 or 6,
 * @addr): a name decides alone, since Microsoft's ranges also serve other names. Stores the
 * endpoint set id in *@id when found.
 */
enum tg_m365_cat tg_content_m365_lookup(const struct tg_content *c, const char *name, size_t len,
					uint8_t family, const uint8_t addr[static 16],
					uint32_t *id);

const char *tg_m365_cat_text(enum tg_m365_cat cat);

#endif
