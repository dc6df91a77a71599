/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * load_impl.h - the JSON loaders' shared state and toolkit, private to the files that walk a
 * cJSON tree (STYLE.md rule 12: the tree never leaves them):
 *   load_json.c      typed readers (ld_obj, ld_int, ld_enum, ...), paths, "did you mean"
 *   policy_load.c    tg_policy_load: the top level and "settings"
 *   load_identity.c  "identities", "endpoints" and the address and MAC bindings they make
 *   load_apps.c      "applications", "application_groups"
 *   load_rules.c     "filtering", "decryption", "casb", "dlp": rules and their matches
 *   content_load.c   tg_content_load: the content package's JSON files
 * What they build is policy_impl.h's; the lint that reads it afterwards (policy_lint.c) does not
 * include this header.
 *
 * Every reader reports its errors itself, at the current path (ld_push_key / ld_push_idx /
 * ld_pop), and counts them in struct ld's errors; a false return means "reported, skip it".
 */
#ifndef TLSGATE_LOAD_IMPL_H
#define TLSGATE_LOAD_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "policy_impl.h"

#define LD_PATH_MAX   512
#define LD_ORIGIN_MAX 96 /* the path kept with a binding, for conflict errors */
#define LD_SUGG_USERS 10000 /* users tried for a "did you mean": bounds one error's work */

/* An administrator's application group: a bitmap over all applications. */
struct ld_agroup {
	char *name;
	uint64_t *apps;
};

struct ld_bind {
	struct tg_cidr pfx;
	struct pol_bind rec;
	char origin[LD_ORIGIN_MAX];
};

struct ld_macbind {
	uint8_t mac[6];
	struct pol_bind rec;
	char origin[LD_ORIGIN_MAX];
};

/* One load: where the walk is, what it has reported, and the scratch tables of the policy. */
struct ld {
	struct tg_diag *d;
	const uint8_t *key;
	const char *file; /* prefix for content files, NULL for the policy */
	char path[LD_PATH_MAX];
	size_t plen;
	size_t errors;
	struct tg_policy *p;
	const struct tg_content *c;
	struct ld_agroup *agroups;
	size_t n_agroups;
	struct ld_bind *binds;
	size_t n_binds, cap_binds;
	struct ld_macbind *macs;
	size_t n_macs, cap_macs;
	size_t app_words;
};

/* A "did you mean" search: the candidate nearest to @want so far. */
struct ld_sugg {
	const char *want;
	const char *best;
	size_t dist;
};

/* --- load_json.c: paths, messages, suggestions ------------------------------------------------ */

/* Append ".@k" or "[@i]" to the path; returns the old length for ld_pop. */
size_t ld_push_key(struct ld *l, const char *k);
size_t ld_push_idx(struct ld *l, size_t i);
void ld_pop(struct ld *l, size_t old);

/* An error at the current path ("FILE: PATH: MESSAGE"), counted in l->errors. */
void ld_err(struct ld *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

char ld_lower(char ch);

/* Offer @cand (NULL is skipped) to the search @s. */
void ld_sugg_try(struct ld_sugg *s, const char *cand);

/* Error "unknown WHAT "NAME"" with the suggestion when it is close enough. */
void ld_unknown(struct ld *l, const char *what, const struct ld_sugg *s);

/* --- load_json.c: JSON access ----------------------------------------------------------------- */

/*
 * ld_parse() - @s (@len bytes) as JSON of at most @cap bytes, pre-scanned for depth and
 * "\u0000". Returns the tree (the caller frees it: cJSON_Delete) or NULL with *@e set and the
 * reason reported with its line and column.
 */
cJSON *ld_parse(struct ld *l, const uint8_t *s, size_t len, size_t cap, enum tg_err *e);

/*
 * ld_obj() - check that @o is an object whose keys are all in @keys (NULL-terminated) without
 * duplicates; store the child for keys[i] in vals[i] (NULL when absent). Unknown and duplicate
 * keys are reported and skipped. Returns false (reported) when @o is not an object.
 */
bool ld_obj(struct ld *l, const cJSON *o, const char *const *keys, const cJSON **vals);

/*
 * Typed values. Each stores @def in *@out when @v is NULL (absent: not an error), reports a
 * value of the wrong type or range at @key below the current path, and returns false then.
 */
bool ld_bool(struct ld *l, const cJSON *v, const char *key, bool def, bool *out);
bool ld_int(struct ld *l, const cJSON *v, const char *key, long lo, long hi, long def, long *out);
/* An integer in @lo..@hi into *@out, left as it is when absent or invalid. */
void ld_u32(struct ld *l, const cJSON *v, const char *key, long lo, long hi, uint32_t *out);
/* A string among @names (NULL-terminated); *@out is its index. */
bool ld_enum(struct ld *l, const cJSON *v, const char *key, const char *const *names, int def,
	     int *out);

/* Name rules: 1..TG_CAP_POLICY_NAME bytes of printable ASCII, no space at either end. */
bool ld_name_ok(const char *s);
/* A name-valued item at the current path: the string, or NULL (reported). */
const char *ld_name_at(struct ld *l, const cJSON *v);
/* An array of at most @max items at the current path; *@n its size. */
bool ld_array(struct ld *l, const cJSON *v, size_t max, size_t *n);

/* A copy the caller frees, or NULL when out of memory. */
char *ld_strdup(const char *s);
/* Room for one more element in a doubling array of @elem-byte items; false: out of memory. */
bool ld_grow(struct ld *l, void **arr, size_t *cap, size_t n, size_t elem);

/* A domain pattern (out->name is the caller's to free, NULL on failure), a prefix, a MAC. */
bool ld_pattern(struct ld *l, const cJSON *v, struct pol_pattern *out);
bool ld_cidr(struct ld *l, const cJSON *v, struct tg_cidr *out);
bool ld_mac(struct ld *l, const cJSON *v, uint8_t mac[static 6]);

/* --- the sections ----------------------------------------------------------------------------- */

/* policy_load.c */
void ld_settings(struct ld *l, const cJSON *o);

/* load_identity.c; ld_bind_compile runs after the walk, when there were no errors. */
void ld_identities(struct ld *l, const cJSON *o);
void ld_endpoints(struct ld *l, const cJSON *v);
void ld_bind_compile(struct ld *l);
/* Error "unknown user" with the nearest user name when one is close. */
void ld_unknown_user(struct ld *l, const char *name);
/* Index of group @name of @p, or -1. */
int ld_group_find(const struct tg_policy *p, const char *name);
/* The OS names (tg_os_text) as a NULL-terminated list for ld_enum. */
void ld_os_names(const char *names[static TG_OS__COUNT + 1]);

/* load_apps.c; ld_applications is called even when the section is absent (it sizes the
 * application bitmaps, l->app_words, over the content package's applications). */
void ld_applications(struct ld *l, const cJSON *v);
void ld_app_groups(struct ld *l, const cJSON *v);
/* Global application index of @name (content applications first), or -1. */
int ld_app_find(const struct ld *l, const char *name);
void ld_app_sugg(const struct ld *l, struct ld_sugg *s);
/* Content group index (>= 0), administrator's group (-2 - i), or INT32_MIN. */
int32_t ld_agroup_find(const struct ld *l, const char *name);
void ld_agroup_sugg(const struct ld *l, struct ld_sugg *s);
/* OR the applications of group @g (from ld_agroup_find) into @bits. */
void ld_agroup_bits(const struct ld *l, int32_t g, uint64_t *bits);

/* load_rules.c */
void ld_rules(struct ld *l, const cJSON *v, enum tg_rule_list list);

#endif
