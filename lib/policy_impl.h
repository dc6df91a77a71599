/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy_impl.h - the compiled policy and content package, shared by the files that build
 * them (policy_load.c and the load_*.c files, content_load.c, content.c), policy.c, the lint
 * (policy_lint.c) and the one that reads them (classify.c). Not a public header: the daemon
 * sees only the opaque types of policy.h and content.h.
 */
#ifndef TLSGATE_POLICY_IMPL_H
#define TLSGATE_POLICY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/catdb.h"
#include "tlsgate/cidr.h"
#include "tlsgate/cidrset.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/domainset.h"
#include "tlsgate/policy.h"

#define POL_GROUP_WORDS (TG_CAP_GROUPS / 64)
#define POL_ACTIVITIES	6 /* login upload download share post delete */
#define POL_LISTS	(TG_RULES_DLP + 1) /* rule lists, by enum tg_rule_list */

struct pol_pattern;

/* --- content ---------------------------------------------------------------------------------- */

struct content_app {
	char *name;
	uint8_t activities; /* set of activities the definition describes */
};

struct content_group {
	char *name;
	uint32_t *apps; /* content app indexes */
	size_t n_apps;
};

struct content_m365 {
	uint32_t id;
	enum tg_m365_cat cat;
};

struct content_glob {
	char *glob; /* '*' = zero or more characters other than '.' */
	uint32_t ep;
};

/* What the pinned list, the applications and the M365 URLs say about a name (-1: nothing). */
struct content_rec {
	int32_t pin;
	int32_t app;
	int32_t m365;
};

struct tg_content {
	char version[64];
	/* One index over the small name sets: value = record; a DOMAIN_AND_SUBS entry has two
	 * records, for the name itself (value) and for names below it (value + 1). */
	struct tg_dset *names;
	struct content_rec *recs;
	size_t n_recs;
	struct pol_pattern *notes; /* load time only: every pattern of the three sets */
	size_t n_notes, cap_notes;
	struct tg_catdb *cat;
	struct tg_content_pin *pins;
	size_t n_pins;
	struct tg_dset *pin_set; /* value: pin index */
	struct content_app *apps;
	size_t n_apps;
	struct tg_dset *app_hosts; /* value: app index */
	struct tg_cidrset *app_nets; /* value: app index */
	struct content_group *groups;
	size_t n_groups;
	struct content_m365 *m365;
	size_t n_m365;
	struct tg_dset *m365_urls; /* value: m365 index */
	struct content_glob *m365_globs;
	size_t n_m365_globs;
	struct tg_cidrset *m365_ips; /* value: m365 index */
};

/* --- policy ----------------------------------------------------------------------------------- */

enum pol_crit {
	CRIT_USERS = 1u << 0,
	CRIT_GROUPS = 1u << 1,
	CRIT_SOURCES = 1u << 2,
	CRIT_DESTS = 1u << 3,
	CRIT_APPS = 1u << 4, /* apps and/or app_groups: one criterion */
	CRIT_CATS = 1u << 5,
	CRIT_REP = 1u << 6,
	CRIT_NAMES = 1u << 7, /* domains (filtering), sni (decryption) */
	CRIT_JA4 = 1u << 8,
	CRIT_OS = 1u << 9,
	CRIT_MANAGED = 1u << 10,
	CRIT_ACTIVITIES = 1u << 11,
};

struct pol_pattern {
	enum tg_dset_kind kind;
	char *name;
	size_t len;
};

struct pol_match {
	uint32_t have; /* enum pol_crit bits */
	uint32_t *users; /* sorted user indexes */
	size_t n_users;
	uint64_t groups[POL_GROUP_WORDS];
	struct tg_cidrset *src, *dst;
	struct tg_cidr *src_list, *dst_list; /* kept for the shadowing lint */
	size_t n_src, n_dst;
	uint64_t *apps; /* bitmap over tg_policy_app_name indexes */
	struct tg_catset cats;
	uint8_t rep_min, rep_max;
	struct tg_dset *names;
	struct pol_pattern *patterns;
	size_t n_patterns;
	char (*ja4)[TG_CAP_JA4_LEN + 1]; /* sorted */
	size_t n_ja4;
	uint8_t os_mask;
	bool managed;
	uint8_t activities;
};

enum dlp_type {
	DLP_CARD,
	DLP_REGEX,
	DLP_KEYWORDS,
};

struct pol_detector {
	enum dlp_type type;
	uint32_t min_count;
	bool case_sensitive;
	char *pattern; /* regex */
	char **words; /* keywords */
	size_t n_words;
};

struct pol_rule {
	char *name;
	bool enabled;
	enum tg_action action; /* PASS (allow, no-decrypt), DECRYPT, BLOCK */
	bool alert; /* filtering/casb/dlp action "alert" (action PASS) */
	bool bypass_pinned;
	struct pol_match m;
	struct pol_detector *detectors; /* dlp */
	size_t n_detectors;
	uint32_t scan_max_bytes;
	bool scan_oversize_block;
};

struct pol_rules {
	struct pol_rule *r;
	size_t n;
};

/* What an address prefix or a MAC says about a client. */
struct pol_bind {
	int32_t user; /* -1 none */
	int32_t endpoint; /* -1 none */
	uint64_t groups[POL_GROUP_WORDS];
};

struct pol_mac {
	uint8_t mac[6];
	uint32_t bind;
};

struct pol_endpoint {
	char *name; /* may be NULL */
	uint8_t os;
	bool managed;
};

struct pol_app {
	char *name;
};

struct tg_policy {
	const struct tg_content *content;
	struct tg_content *owned_content; /* the empty package when loaded without one */
	struct tg_policy_settings set;
	char **users; /* by index */
	uint32_t *user_sorted; /* user indexes sorted by name */
	size_t n_users;
	uint64_t (*user_groups)[POL_GROUP_WORDS];
	char **groups;
	size_t n_groups;
	struct pol_endpoint *endpoints;
	size_t n_endpoints;
	struct pol_bind *binds;
	size_t n_binds;
	struct tg_cidrset *bind_set; /* value: bind index */
	struct pol_mac *macs; /* sorted */
	size_t n_macs;
	struct pol_app *apps; /* the policy's own; index = content apps + i */
	size_t n_apps;
	size_t n_all_apps;
	struct tg_dset *app_hosts; /* value: global app index */
	struct tg_cidrset *app_nets; /* value: global app index */
	struct pol_rules lists[POL_LISTS]; /* by enum tg_rule_list */
	size_t bytes;
};

/* Whether prefix @outer holds every address of prefix @inner. */
static inline bool pol_cidr_covers(const struct tg_cidr *outer, const struct tg_cidr *inner)
{
	return outer->plen <= inner->plen && tg_cidr_contains(outer, inner->family, inner->addr);
}

/* Words of an application bitmap over @n_all_apps applications (one spare). */
static inline size_t pol_app_words(size_t n_all_apps)
{
	return (n_all_apps + 63) / 64 + 1;
}

/* policy.c: free what a rule owns (the rule itself is in its list's array). */
void pol_rule_free(struct pol_rule *r);
/* policy.c: index of the user named @name (@len bytes), -1 if none; O(log n). */
int pol_user_find(const struct tg_policy *p, const char *name, size_t len);
/* policy.c: the CASB activities by bit, NULL-terminated (the loader's enum list). */
extern const char *const pol_activity_names[POL_ACTIVITIES + 1];
/* policy.c: qsort/bsearch orders of a rule's sorted user indexes and JA4 fingerprints. */
int pol_u32_cmp(const void *a, const void *b);
int pol_ja4_cmp(const void *a, const void *b);

/* policy_lint.c: whether @a matches every flow @b matches (conservative: false if unsure);
 * @words is the length of the application bitmaps. */
bool pol_match_shadows(const struct pol_match *a, const struct pol_match *b, size_t words);
/* policy_lint.c: the load's warnings about a policy that compiled, to @d. */
void pol_lint(const struct tg_policy *p, struct tg_diag *d);

/* content.c: M365 glob match ('*' = zero or more characters other than '.'). */
bool content_glob_match(const char *glob, const char *name, size_t len);
/* content.c: remember a pattern of the pinned list, apps or M365 URLs for the name index
 * (load time); false when out of memory. */
bool content_note(struct tg_content *c, enum tg_dset_kind kind, const char *name, size_t len);
/* content.c: build the name index from the noted patterns (after the three sets are built);
 * frees the notes. TG_OK or TG_ERR_NOMEM. */
enum tg_err content_index_build(struct tg_content *c, const uint8_t key[static 16]);
/* tg_content_m365_lookup(), the URL set consulted only if @urls (the index did already). */
enum tg_m365_cat content_m365_lookup(const struct tg_content *c, const char *name, size_t len,
				     uint8_t family, const uint8_t addr[static 16], uint32_t *id,
				     bool urls);
/* content.c: the records of the most specific indexed pattern for the normalized @name; all
 * -1 when none. One domain-set lookup. */
void content_names_lookup(const struct tg_content *c, const char *name, size_t len,
			  struct content_rec *out);

#endif
