/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy_lint.c - warnings about a policy that loaded: what it says that it probably does not
 * mean. Reads the compiled policy only (no JSON here); never fails a load.
 *   - a rule that never matches because an earlier enabled rule of its list matches everything
 *     it matches (shadowed; conservative: warned only when sure);
 *   - a CASB rule's application that no decryption rule (nor the default) decrypts;
 *   - a decryption bypass pattern covering a whole public suffix ("*.co.uk").
 */
#include <stdlib.h>
#include <string.h>

#include "policy_impl.h"

/* Multi-label public suffixes commonly met (ICANN and the big private hosting suffixes). Any
 * single label is a public suffix. Not the whole Public Suffix List: a warning, not a rule. */
static const char *const lint_public_suffixes[] = {
	"ac.uk",
	"co.uk",
	"gov.uk",
	"ltd.uk",
	"me.uk",
	"net.uk",
	"org.uk",
	"plc.uk",
	"sch.uk",
	"com.au",
	"net.au",
	"org.au",
	"edu.au",
	"gov.au",
	"co.nz",
	"org.nz",
	"net.nz",
	"co.jp",
	"ne.jp",
	"or.jp",
	"ac.jp",
	"go.jp",
	"co.kr",
	"or.kr",
	"com.cn",
	"net.cn",
	"org.cn",
	"gov.cn",
	"com.hk",
	"com.tw",
	"com.sg",
	"com.my",
	"co.in",
	"net.in",
	"org.in",
	"gov.in",
	"co.id",
	"co.th",
	"com.br",
	"net.br",
	"org.br",
	"gov.br",
	"com.ar",
	"com.mx",
	"com.co",
	"com.pe",
	"co.za",
	"org.za",
	"com.ng",
	"co.ke",
	"com.eg",
	"com.tr",
	"gov.tr",
	"com.sa",
	"co.il",
	"org.il",
	"com.ua",
	"com.pl",
	"net.pl",
	"org.pl",
	"co.at",
	"or.at",
	"com.es",
	"com.pt",
	"com.gr",
	"co.it",
	"com.ru",
	"appspot.com",
	"blogspot.com",
	"cloudfront.net",
	"azurewebsites.net",
	"herokuapp.com",
	"github.io",
	"gitlab.io",
	"netlify.app",
	"vercel.app",
	"pages.dev",
	"workers.dev",
	"web.app",
	"firebaseapp.com",
	"amazonaws.com",
	"s3.amazonaws.com",
	"cloudapp.net",
	"azureedge.net",
	"fastly.net",
	"akamaized.net",
	"edgekey.net",
	"trafficmanager.net",
	NULL,
};

static bool lint_is_public_suffix(const char *name, size_t len)
{
	size_t i;

	if (memchr(name, '.', len) == NULL)
		return true;
	for (i = 0; lint_public_suffixes[i]; i++)
		if (strlen(lint_public_suffixes[i]) == len &&
		    memcmp(lint_public_suffixes[i], name, len) == 0)
			return true;
	return false;
}

static void lint_broad_sni(const struct tg_policy *p, struct tg_diag *d)
{
	const struct pol_rules *rl = &p->lists[TG_RULES_DECRYPTION];
	size_t i, j;

	for (i = 0; i < rl->n; i++) {
		const struct pol_rule *r = &rl->r[i];

		if (r->action != TG_ACTION_PASS)
			continue;
		for (j = 0; j < r->m.n_patterns; j++) {
			const struct pol_pattern *pt = &r->m.patterns[j];

			if (pt->kind == TG_DSET_EXACT || !lint_is_public_suffix(pt->name, pt->len))
				continue;
			tg_diag_add(d, TG_DIAG_WARNING,
				    "decryption[%zu].match.sni: \"%s%s\" covers the whole public "
				    "suffix \"%s\": broader than a registrable domain",
				    i, pt->kind == TG_DSET_SUBDOMAINS ? "*." : ".", pt->name,
				    pt->name);
		}
	}
}

/* Whether some enabled decrypt rule, or the default, can decrypt application @app. */
static bool lint_app_decrypted(const struct tg_policy *p, uint32_t app)
{
	const struct pol_rules *rl = &p->lists[TG_RULES_DECRYPTION];
	size_t i;

	if (p->set.m365 == TG_M365_INSPECT)
		return true; /* M365 endpoints are decrypted; other apps checked below */
	for (i = 0; i < rl->n; i++) {
		const struct pol_rule *r = &rl->r[i];

		if (!r->enabled || r->action != TG_ACTION_DECRYPT)
			continue;
		/* Covered: the rule names the application, or does not narrow on the server
		 * side at all (who it applies to is the CASB rule's business). */
		if ((r->m.have & CRIT_APPS) ? (r->m.apps[app / 64] >> (app % 64) & 1)
					    : !(r->m.have & (CRIT_NAMES | CRIT_CATS | CRIT_REP |
							     CRIT_DESTS | CRIT_JA4)))
			return true;
	}
	return p->set.default_decrypt;
}

static void lint_casb(const struct tg_policy *p, struct tg_diag *d)
{
	const struct pol_rules *rl = &p->lists[TG_RULES_CASB];
	size_t i;
	uint32_t a;

	for (i = 0; i < rl->n; i++) {
		const struct pol_rule *r = &rl->r[i];

		if (!r->enabled || !(r->m.have & CRIT_APPS) || r->m.apps == NULL)
			continue;
		for (a = 0; a < p->n_all_apps; a++) {
			if (!(r->m.apps[a / 64] >> (a % 64) & 1) || lint_app_decrypted(p, a))
				continue;
			tg_diag_add(d, TG_DIAG_WARNING,
				    "casb[%zu]: application \"%s\" is not decrypted by any "
				    "decryption rule: CASB cannot see what is not decrypted",
				    i, tg_policy_app_name(p, a));
		}
	}
}

static bool lint_bits_superset(const uint64_t *a, const uint64_t *b, size_t words)
{
	size_t i;

	for (i = 0; i < words; i++)
		if (b[i] & ~a[i])
			return false;
	return true;
}

/* Every prefix of @b lies inside some prefix of @a. */
static bool lint_cidrs_cover(const struct tg_cidr *a, size_t na, const struct tg_cidr *b, size_t nb)
{
	size_t i, j;

	for (i = 0; i < nb; i++) {
		for (j = 0; j < na; j++)
			if (pol_cidr_covers(&a[j], &b[i]))
				break;
		if (j == na)
			return false;
	}
	return true;
}

/* Does pattern @a match every name pattern @b matches? */
static bool lint_pattern_covers(const struct pol_pattern *a, const struct pol_pattern *b)
{
	bool below = b->len > a->len && b->name[b->len - a->len - 1] == '.' &&
		     memcmp(b->name + b->len - a->len, a->name, a->len) == 0;
	bool same = a->len == b->len && memcmp(a->name, b->name, a->len) == 0;

	switch (a->kind) {
	case TG_DSET_EXACT:
		return same && b->kind == TG_DSET_EXACT;
	case TG_DSET_SUBDOMAINS:
		return below || (same && b->kind == TG_DSET_SUBDOMAINS);
	case TG_DSET_DOMAIN_AND_SUBS:
		return below || same;
	default:
		return false;
	}
}

bool pol_match_shadows(const struct pol_match *a, const struct pol_match *b, size_t words)
{
	size_t i, j;

	if (a->have & ~b->have)
		return false; /* a narrows on a field b leaves open */
	if ((a->have & CRIT_USERS)) {
		for (i = 0; i < b->n_users; i++)
			if (!bsearch(&b->users[i], a->users, a->n_users, sizeof(*a->users),
				     pol_u32_cmp))
				return false;
	}
	if ((a->have & CRIT_GROUPS) && !lint_bits_superset(a->groups, b->groups, POL_GROUP_WORDS))
		return false;
	if ((a->have & CRIT_APPS) && !lint_bits_superset(a->apps, b->apps, words))
		return false;
	if ((a->have & CRIT_CATS) &&
	    !lint_bits_superset(a->cats.w, b->cats.w, TG_CAP_CATEGORIES / 64))
		return false;
	if ((a->have & CRIT_REP) && (a->rep_min > b->rep_min || a->rep_max < b->rep_max))
		return false;
	if ((a->have & CRIT_OS) && (b->os_mask & ~a->os_mask))
		return false;
	if ((a->have & CRIT_MANAGED) && a->managed != b->managed)
		return false;
	if ((a->have & CRIT_ACTIVITIES) && (b->activities & ~a->activities))
		return false;
	if (a->have & CRIT_JA4)
		for (i = 0; i < b->n_ja4; i++)
			if (!bsearch(b->ja4[i], a->ja4, a->n_ja4, sizeof(*a->ja4), pol_ja4_cmp))
				return false;
	if ((a->have & CRIT_SOURCES) &&
	    !lint_cidrs_cover(a->src_list, a->n_src, b->src_list, b->n_src))
		return false;
	if ((a->have & CRIT_DESTS) &&
	    !lint_cidrs_cover(a->dst_list, a->n_dst, b->dst_list, b->n_dst))
		return false;
	for (i = 0; (a->have & CRIT_NAMES) && i < b->n_patterns; i++) {
		for (j = 0; j < a->n_patterns; j++)
			if (lint_pattern_covers(&a->patterns[j], &b->patterns[i]))
				break;
		if (j == a->n_patterns)
			return false;
	}
	return true;
}

static void lint_shadow(const struct tg_policy *p, struct tg_diag *d, enum tg_rule_list list,
			const char *lname)
{
	const struct pol_rules *rl = &p->lists[list];
	size_t words = pol_app_words(p->n_all_apps), i, j;

	for (j = 0; j < rl->n; j++) {
		if (!rl->r[j].enabled)
			continue;
		/* Pairwise is quadratic; lists are capped at TG_CAP_RULES and the check is cheap
		 * for rules that differ in their fields, which is where it stops. */
		for (i = 0; i < j; i++) {
			if (!rl->r[i].enabled ||
			    !pol_match_shadows(&rl->r[i].m, &rl->r[j].m, words))
				continue;
			tg_diag_add(
				d, TG_DIAG_WARNING,
				"%s[%zu]: never matches: rule \"%s\" (%s[%zu]) matches everything "
				"it matches",
				lname, j, rl->r[i].name, lname, i);
			break;
		}
	}
}

void pol_lint(const struct tg_policy *p, struct tg_diag *d)
{
	lint_casb(p, d);
	lint_shadow(p, d, TG_RULES_FILTERING, "filtering");
	lint_shadow(p, d, TG_RULES_DECRYPTION, "decryption");
	lint_shadow(p, d, TG_RULES_CASB, "casb");
	lint_shadow(p, d, TG_RULES_DLP, "dlp");
	lint_broad_sni(p, d);
}
