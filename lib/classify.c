/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * classify.c - one decision per flow, in the fixed order of DESIGN.md section 3 (classify.h,
 * policy/README.md "The decision").
 *
 * The facts are resolved once (name, identity, posture, application, category), then the
 * filtering rules, the global blocks, the implicit lists, the dynamic bypass table and the
 * decryption rules are consulted in that order. Everything read is immutable or lock-free
 * (the bypass table); nothing is allocated; the decision is written into the caller's struct.
 * The CASB rules (tg_policy_casb_eval) go through the same matcher.
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/bypass.h"
#include "tlsgate/cidr.h"
#include "tlsgate/domain.h"
#include "tlsgate/ja4.h"
#include "tlsgate/oshint.h"
#include "tlsgate/tls_ch.h"
#include "policy_impl.h"

/* The flow's resolved attributes that rules match on. */
struct cl_ctx {
	const struct tg_flow_facts *f;
	const char *name;
	size_t name_len;
	int32_t user;
	const uint64_t *groups;
	int32_t app;
	const struct tg_catset *cats;
	uint8_t rep;
	uint8_t os_mask;
	bool managed;
	unsigned activity; /* index in pol_activity_names; POL_ACTIVITIES: none */
};

static const char *const cl_reason_texts[TG_REASON__COUNT] = {
	[TG_REASON_FILTER_BLOCK] = "filter-block",
	[TG_REASON_ECH_BLOCK] = "ech-block",
	[TG_REASON_QUIC_BLOCK] = "quic-block",
	[TG_REASON_FAIL_UNPARSABLE] = "fail-unparsable",
	[TG_REASON_FAIL_INCOMPLETE] = "fail-incomplete",
	[TG_REASON_NOT_TLS] = "not-tls",
	[TG_REASON_NOT_INSPECTED] = "not-inspected",
	[TG_REASON_IMPLICIT_PINNED] = "implicit-pinned",
	[TG_REASON_M365_BYPASS] = "m365-bypass",
	[TG_REASON_DYNAMIC_BYPASS] = "dynamic-bypass",
	[TG_REASON_RULE] = "rule",
	[TG_REASON_M365_INSPECT] = "m365-inspect",
	[TG_REASON_DEFAULT] = "default",
	[TG_REASON_ECH_PASS] = "ech-pass",
	[TG_REASON_UPSTREAM_EXCLUDED] = "upstream-excluded",
	[TG_REASON_CA_MISSING] = "ca-missing",
	[TG_REASON_FAIL_NON_TLS] = "fail-non-tls",
	[TG_REASON_FAIL_CONFLICT] = "fail-conflict",
	[TG_REASON_FAIL_WINDOW] = "fail-window",
	[TG_REASON_FAIL_MALFORMED] = "fail-malformed",
	[TG_REASON_FAIL_TFO] = "fail-tfo",
	[TG_REASON_FAIL_MIDSTREAM] = "fail-midstream",
	[TG_REASON_FAIL_OVERLOAD] = "fail-overload",
	[TG_REASON_FAIL_ADOPTION] = "fail-adoption",
	[TG_REASON_FAIL_INVALID_NAME] = "fail-invalid-name",
	[TG_REASON_FAIL_UNPARSABLE_DNS] = "fail-unparsable-dns",
	[TG_REASON_FAIL_CERT_MINT] = "fail-cert-mint",
};

/* Each failure: its settings.fail class, its reason, its stable name. */
static const struct {
	enum tg_fail_class cls;
	enum tg_reason reason;
	const char *text;
} cl_fails[TG_FLOW_FAIL__COUNT] = {
	[TG_FLOW_FAIL_NONE] = { TG_FAIL__COUNT, TG_REASON_DEFAULT, "none" },
	[TG_FLOW_FAIL_UNPARSABLE_CH] = { TG_FAIL_UNPARSABLE_CH, TG_REASON_FAIL_UNPARSABLE,
					 "unparsable-client-hello" },
	[TG_FLOW_FAIL_INCOMPLETE_CH] = { TG_FAIL_INCOMPLETE_CH, TG_REASON_FAIL_INCOMPLETE,
					 "incomplete-client-hello" },
	[TG_FLOW_FAIL_NON_TLS] = { TG_FAIL_NON_TLS, TG_REASON_FAIL_NON_TLS, "non-tls" },
	[TG_FLOW_FAIL_REASM_CONFLICT] = { TG_FAIL_REASM_CONFLICT, TG_REASON_FAIL_CONFLICT,
					  "reassembly-conflict" },
	[TG_FLOW_FAIL_REASM_WINDOW] = { TG_FAIL_REASM_WINDOW, TG_REASON_FAIL_WINDOW,
					"reassembly-window" },
	[TG_FLOW_FAIL_MALFORMED] = { TG_FAIL_MALFORMED, TG_REASON_FAIL_MALFORMED,
				     "malformed-packet" },
	[TG_FLOW_FAIL_TFO] = { TG_FAIL_TFO, TG_REASON_FAIL_TFO, "tcp-fast-open" },
	[TG_FLOW_FAIL_MIDSTREAM] = { TG_FAIL_MIDSTREAM, TG_REASON_FAIL_MIDSTREAM, "midstream" },
	[TG_FLOW_FAIL_OVERLOAD] = { TG_FAIL_QUEUE_FULL, TG_REASON_FAIL_OVERLOAD, "overload" },
	[TG_FLOW_FAIL_ADOPTION] = { TG_FAIL_ADOPTION, TG_REASON_FAIL_ADOPTION, "adoption" },
	[TG_FLOW_FAIL_INVALID_NAME] = { TG_FAIL_INVALID_NAME, TG_REASON_FAIL_INVALID_NAME,
					"invalid-name" },
	[TG_FLOW_FAIL_UNPARSABLE_DNS] = { TG_FAIL_UNPARSABLE_DNS, TG_REASON_FAIL_UNPARSABLE_DNS,
					  "unparsable-dns" },
	[TG_FLOW_FAIL_CERT_MINT] = { TG_FAIL_CERT_MINT, TG_REASON_FAIL_CERT_MINT, "cert-mint" },
};

enum tg_fail_class tg_flow_fail_class(enum tg_flow_fail why)
{
	return (unsigned)why < TG_FLOW_FAIL__COUNT ? cl_fails[why].cls : TG_FAIL__COUNT;
}

const char *tg_flow_fail_text(enum tg_flow_fail why)
{
	return (unsigned)why < TG_FLOW_FAIL__COUNT ? cl_fails[why].text : "unknown";
}

int tg_flow_fail_parse(const char *name, size_t len)
{
	size_t i;

	for (i = 1; i < TG_FLOW_FAIL__COUNT; i++)
		if (strlen(cl_fails[i].text) == len && memcmp(cl_fails[i].text, name, len) == 0)
			return (int)i;
	return -1;
}

static const char *const cl_os_texts[TG_OS__COUNT] = {
	"android", "ios", "windows", "macos", "linux", "chromeos", "other",
};

const char *tg_reason_text(enum tg_reason r)
{
	return (unsigned)r < TG_REASON__COUNT ? cl_reason_texts[r] : "unknown";
}

const char *tg_action_text(enum tg_action a)
{
	switch (a) {
	case TG_ACTION_PASS:
		return "pass";
	case TG_ACTION_DECRYPT:
		return "decrypt";
	case TG_ACTION_BLOCK:
		return "block";
	default:
		return "unknown";
	}
}

const char *tg_os_text(enum tg_os os)
{
	return (unsigned)os < TG_OS__COUNT ? cl_os_texts[os] : "unknown";
}

void tg_flow_facts_set_ch(struct tg_flow_facts *f, const struct tg_ch *ch,
			  char ja4[static TG_CAP_JA4_LEN + 1])
{
	f->kind = TG_FLOW_TLS;
	if (ch->has_sni)
		f->sni = ch->sni;
	if (ch->n_alpn > 0)
		f->alpn = ch->alpn[0];
	if (tg_ja4(ch, 't', ja4) == TG_OK) {
		f->ja4.p = (const uint8_t *)ja4;
		f->ja4.len = TG_JA4_LEN;
	}
	f->ech = ch->has_ech && ch->ech_type == TG_TLS_ECH_OUTER;
}

void tg_flow_facts_set_hint(struct tg_flow_facts *f, const struct tg_os_hint *h)
{
	switch (h->family) {
	case TG_OSF_WINDOWS:
		f->hint_os_mask = TG_OS_MASK_WINDOWS;
		break;
	case TG_OSF_APPLE:
		f->hint_os_mask = TG_OS_MASK_APPLE;
		break;
	case TG_OSF_LINUX:
		f->hint_os_mask = TG_OS_MASK_LINUX;
		break;
	case TG_OSF_UNKNOWN:
	default:
		f->hint_os_mask = 0;
		f->hint_confidence = 0;
		return;
	}
	f->hint_confidence = h->confidence;
}

int tg_os_parse(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < TG_OS__COUNT; i++)
		if (strlen(cl_os_texts[i]) == len && memcmp(cl_os_texts[i], name, len) == 0)
			return (int)i;
	return -1;
}

static bool cl_match(const struct pol_match *m, const struct cl_ctx *x)
{
	const struct tg_flow_facts *f = x->f;
	size_t i;

	if ((m->have & CRIT_USERS) && (x->user < 0 || !bsearch(&x->user, m->users, m->n_users,
							       sizeof(*m->users), pol_u32_cmp)))
		return false;
	if (m->have & CRIT_GROUPS) {
		bool meet = false;

		for (i = 0; i < POL_GROUP_WORDS; i++)
			meet |= (m->groups[i] & x->groups[i]) != 0;
		if (!meet)
			return false;
	}
	if ((m->have & CRIT_APPS) && (x->app < 0 || !(m->apps[x->app / 64] >> (x->app % 64) & 1)))
		return false;
	if (m->have & CRIT_CATS) {
		bool meet = false;

		for (i = 0; i < TG_CAP_CATEGORIES / 64; i++)
			meet |= (m->cats.w[i] & x->cats->w[i]) != 0;
		if (!meet)
			return false;
	}
	if ((m->have & CRIT_REP) && (x->rep == 0 || x->rep < m->rep_min || x->rep > m->rep_max))
		return false;
	if ((m->have & CRIT_OS) && !(m->os_mask & x->os_mask))
		return false;
	if ((m->have & CRIT_MANAGED) && m->managed != x->managed)
		return false;
	if ((m->have & CRIT_ACTIVITIES) &&
	    (x->activity >= POL_ACTIVITIES || !(m->activities >> x->activity & 1)))
		return false;
	if ((m->have & CRIT_SOURCES) && !tg_cidrset_lookup(m->src, f->family, f->src, NULL, NULL))
		return false;
	if ((m->have & CRIT_DESTS) && !tg_cidrset_lookup(m->dst, f->family, f->dst, NULL, NULL))
		return false;
	if ((m->have & CRIT_NAMES) &&
	    (x->name_len == 0 || !tg_dset_lookup(m->names, x->name, x->name_len, NULL, NULL, NULL)))
		return false;
	if (m->have & CRIT_JA4) {
		char key[TG_CAP_JA4_LEN + 1];

		if (f->ja4.len != TG_CAP_JA4_LEN)
			return false;
		memcpy(key, f->ja4.p, TG_CAP_JA4_LEN);
		key[TG_CAP_JA4_LEN] = '\0';
		if (!bsearch(key, m->ja4, m->n_ja4, sizeof(*m->ja4), pol_ja4_cmp))
			return false;
	}
	return true;
}

/* Index of the first enabled rule of @list matching, or -1. */
static int32_t cl_first(const struct tg_policy *p, enum tg_rule_list list, const struct cl_ctx *x)
{
	const struct pol_rules *rl = &p->lists[list];
	size_t i;

	for (i = 0; i < rl->n; i++)
		if (rl->r[i].enabled && cl_match(&rl->r[i].m, x))
			return (int32_t)i;
	return -1;
}

/*
 * The longest suffix of @s that is a valid name, after cutting a ":port" and lowercasing
 * (tg_domain_normalize does that): what filtering still matches a name that failed
 * normalization on ("x-.blocked.example", "blocked.example:443" -> "blocked.example").
 */
static void cl_name_lenient(struct tg_span s, struct tg_decision *out)
{
	const uint8_t *colon = s.len && s.p[0] != '[' ? memchr(s.p, ':', s.len) : NULL;
	size_t i;

	if (colon)
		s.len = (size_t)(colon - s.p);
	for (i = 0; i < s.len; i++) {
		if (i > 0 && s.p[i - 1] != '.')
			continue;
		if (tg_domain_normalize(s.p + i, s.len - i, out->name, &out->name_len) == TG_OK)
			return;
	}
	out->name[0] = '\0';
	out->name_len = 0;
}

/*
 * The name a flow is matched on (policy/README.md "What a flow is matched on"). Returns false
 * when there was a name and it is not a valid domain name (the invalid-name failure); the
 * name matched on is then its longest valid suffix.
 */
static bool cl_name(const struct tg_flow_facts *f, struct tg_decision *out)
{
	struct tg_span s = { NULL, 0 };
	uint8_t fam, addr[16];

	switch (f->kind) {
	case TG_FLOW_TLS:
	case TG_FLOW_QUIC:
		s = f->sni.len ? f->sni : f->dns_name;
		break;
	case TG_FLOW_HTTP:
		s = f->http_host;
		if (s.len && s.p[0] == '[') {
			/* "[v6]:port": the literal between the brackets */
			const uint8_t *rb = memchr(s.p, ']', s.len);

			s.len = rb ? (size_t)(rb - s.p - 1) : 0;
			s.p++;
		} else if (s.len) {
			const uint8_t *colon = memchr(s.p, ':', s.len);

			if (colon)
				s.len = (size_t)(colon - s.p);
		}
		if (s.len == 0)
			s = f->dns_name;
		break;
	case TG_FLOW_DNS:
	case TG_FLOW_OTHER:
	default:
		s = f->dns_name;
		break;
	}
	out->name[0] = '\0';
	out->name_len = 0;
	if (s.len == 0)
		return true;
	if (tg_domain_normalize(s.p, s.len, out->name, &out->name_len) == TG_OK)
		return true;
	/* An IP literal in a Host header is no name, and no failure. */
	if (f->kind == TG_FLOW_HTTP && tg_addr_parse((const char *)s.p, s.len, &fam, addr) == TG_OK)
		return true;
	cl_name_lenient(s, out);
	return false;
}

static int cl_mac_cmp(const void *a, const void *b)
{
	return memcmp(a, ((const struct pol_mac *)b)->mac, 6);
}

/* User, groups and pushed posture from the bindings; the OS hint if nothing was pushed. */
static void cl_identity(const struct tg_policy *p, const struct tg_flow_facts *f,
			struct tg_decision *out)
{
	const struct pol_bind *mb = NULL, *ab = NULL;
	int32_t ep = -1;
	uint32_t v;
	size_t i;

	if (f->has_mac && p->n_macs) {
		const struct pol_mac *m =
			bsearch(f->mac, p->macs, p->n_macs, sizeof(*p->macs), cl_mac_cmp);

		if (m)
			mb = &p->binds[m->bind];
	}
	if (p->bind_set && tg_cidrset_lookup(p->bind_set, f->family, f->src, &v, NULL))
		ab = &p->binds[v];
	if (f->user.len)
		out->user = pol_user_find(p, (const char *)f->user.p, f->user.len);
	if (out->user < 0 && mb && mb->user >= 0)
		out->user = mb->user;
	if (out->user < 0 && ab && ab->user >= 0)
		out->user = ab->user;
	for (i = 0; i < POL_GROUP_WORDS; i++)
		out->groups[i] = (mb ? mb->groups[i] : 0) | (ab ? ab->groups[i] : 0) |
				 (out->user >= 0 ? p->user_groups[out->user][i] : 0);
	out->user_name = out->user >= 0 ? p->users[out->user] : NULL;
	if (mb && mb->endpoint >= 0)
		ep = mb->endpoint;
	else if (ab && ab->endpoint >= 0)
		ep = ab->endpoint;
	if (ep >= 0) {
		out->posture.os_mask = (uint8_t)(1u << p->endpoints[ep].os);
		out->posture.managed = p->endpoints[ep].managed;
		out->posture.source = TG_POSTURE_PUSHED;
		out->posture.endpoint = p->endpoints[ep].name;
	} else if (p->set.os_hint && f->hint_os_mask &&
		   f->hint_confidence >= p->set.os_hint_min_confidence) {
		out->posture.os_mask = f->hint_os_mask;
		out->posture.source = TG_POSTURE_HINT;
	}
}

/* The most specific host match over the content's and the policy's applications. */
static void cl_app(const struct tg_policy *p, const struct tg_content *c,
		   const struct tg_flow_facts *f, const struct content_rec *cr,
		   struct tg_decision *out)
{
	size_t la = 0, lc = 0;
	uint32_t va = 0, vc = 0;
	bool ha = false, hc = false;

	if (out->name_len && p->app_hosts)
		ha = tg_dset_lookup(p->app_hosts, out->name, out->name_len, &va, NULL, &la);
	if (cr->app >= 0) {
		vc = (uint32_t)cr->app;
		hc = true;
		/* a policy application wins over a content one only when more specific */
		if (ha)
			tg_dset_lookup(c->app_hosts, out->name, out->name_len, NULL, NULL, &lc);
	}
	if (ha && (!hc || la >= lc))
		out->app = (int32_t)va;
	else if (hc)
		out->app = (int32_t)vc;
	else if (f->kind == TG_FLOW_DNS)
		out->app = -1; /* a DNS query's destination is the resolver, not the subject */
	else if (p->app_nets && tg_cidrset_lookup(p->app_nets, f->family, f->dst, &va, NULL))
		out->app = (int32_t)va;
	else if (c->app_nets && tg_cidrset_lookup(c->app_nets, f->family, f->dst, &vc, NULL))
		out->app = (int32_t)vc;
	if (out->app >= (int32_t)p->n_all_apps)
		out->app = -1;
	out->app_name = out->app >= 0 ? tg_policy_app_name(p, (size_t)out->app) : NULL;
}

static bool cl_port_in(const uint16_t *ports, size_t n, uint16_t port)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

/* Who the bypass table knows: the user if known (and not over-long), else the client address. */
static void cl_principal(const struct tg_flow_facts *f, const struct tg_decision *out,
			 struct tg_principal *who)
{
	memset(who, 0, sizeof(*who));
	if (out->user_name && tg_bypass_principal_user(who, (const uint8_t *)out->user_name,
						       strlen(out->user_name)) == TG_OK)
		return;
	if (f->family == 4)
		tg_bypass_principal_addr4(who, f->src);
	else
		tg_bypass_principal_addr6(who, f->src);
}

static void cl_decide(struct tg_decision *out, enum tg_action a, enum tg_reason r)
{
	out->action = a;
	out->reason = r;
}

static void cl_rule(const struct tg_policy *p, struct tg_decision *out, enum tg_rule_list list,
		    int32_t idx)
{
	out->rule_list = list;
	out->rule = idx;
	out->rule_name = p->lists[list].r[idx].name;
}

/*
 * The facts, resolved once: the name (and the invalid-name failure), identity and posture,
 * what the content says about the name, the application, categories and reputation; into
 * @out, @cr and the rules' view of them @x.
 */
static void cl_facts(const struct tg_policy *p, const struct tg_content *c,
		     const struct tg_flow_facts *f, struct tg_decision *out, struct content_rec *cr,
		     struct cl_ctx *x)
{
	out->fail = f->fail;
	if (!cl_name(f, out) && out->fail == TG_FLOW_FAIL_NONE)
		out->fail = TG_FLOW_FAIL_INVALID_NAME;
	cl_identity(p, f, out);
	content_names_lookup(c, out->name, out->name_len, cr);
	cl_app(p, c, f, cr, out);
	if (out->name_len)
		tg_catdb_lookup(c->cat, out->name, out->name_len, &out->categories,
				&out->reputation);
	x->f = f;
	x->name = out->name;
	x->name_len = out->name_len;
	x->user = out->user;
	x->groups = out->groups;
	x->app = out->app;
	x->cats = &out->categories;
	x->rep = out->reputation;
	x->os_mask = out->posture.os_mask;
	x->managed = out->posture.source == TG_POSTURE_PUSHED && out->posture.managed;
	x->activity = POL_ACTIVITIES;
}

/*
 * 1. Filtering (first match: a block wins over everything after), then what decides before any
 * list: a failure (its own class), QUIC, not TLS, a port not inspected, ECH when blocked. True
 * when @out is decided.
 */
static bool cl_gate(const struct tg_policy *p, const struct tg_flow_facts *f,
		    const struct cl_ctx *x, struct tg_decision *out)
{
	const struct tg_policy_settings *s = &p->set;
	int32_t fr = cl_first(p, TG_RULES_FILTERING, x);

	if (fr >= 0) {
		const struct pol_rule *r = &p->lists[TG_RULES_FILTERING].r[fr];

		if (r->action == TG_ACTION_BLOCK) {
			cl_rule(p, out, TG_RULES_FILTERING, fr);
			cl_decide(out, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK);
			return true;
		}
		if (r->alert)
			out->alert_rule = fr;
	}
	/* A failure: its own class decides, after filtering, before anything else. */
	if (out->fail != TG_FLOW_FAIL_NONE && (unsigned)out->fail < TG_FLOW_FAIL__COUNT) {
		enum tg_fail_class fc = cl_fails[out->fail].cls;

		cl_decide(out,
			  fc < TG_FAIL__COUNT && s->fail[fc] == TG_ACTION_BLOCK ? TG_ACTION_BLOCK
										: TG_ACTION_PASS,
			  cl_fails[out->fail].reason);
		return true;
	}
	if (f->kind == TG_FLOW_QUIC) {
		if (s->quic == TG_QUIC_BLOCK)
			cl_decide(out, TG_ACTION_BLOCK, TG_REASON_QUIC_BLOCK);
		else
			cl_decide(out, TG_ACTION_PASS, TG_REASON_NOT_TLS);
		return true;
	}
	if (f->kind != TG_FLOW_TLS) {
		cl_decide(out, TG_ACTION_PASS, TG_REASON_NOT_TLS);
		return true;
	}
	if (!cl_port_in(s->inspected_ports, s->n_inspected_ports, f->dport)) {
		cl_decide(out, TG_ACTION_PASS, TG_REASON_NOT_INSPECTED);
		return true;
	}
	if (f->ech && s->ech == TG_ECH_BLOCK) {
		cl_decide(out, TG_ACTION_BLOCK, TG_REASON_ECH_BLOCK);
		return true;
	}
	return false;
}

/*
 * 2. The implicit lists: a pinned application (implicit bypass), Microsoft 365's Optimize and
 * Allow names (m365: microsoft). Sets out->pinned and out->m365 as they apply. True when @out
 * is decided.
 */
static bool cl_implicit(const struct tg_policy *p, const struct tg_content *c,
			const struct tg_flow_facts *f, const struct content_rec *cr,
			struct tg_decision *out)
{
	const struct tg_policy_settings *s = &p->set;

	if (s->implicit_bypass)
		out->pinned = cr->pin;
	if (out->pinned >= 0) {
		cl_decide(out, TG_ACTION_PASS, TG_REASON_IMPLICIT_PINNED);
		return true;
	}
	if (s->m365 != TG_M365_OFF)
		out->m365 = cr->m365 >= 0 && (size_t)cr->m365 < c->n_m365
				    ? c->m365[cr->m365].cat
				    : content_m365_lookup(c, out->name, out->name_len, f->family,
							  f->dst, NULL, false);
	if (s->m365 == TG_M365_MICROSOFT &&
	    (out->m365 == TG_M365_CAT_OPTIMIZE || out->m365 == TG_M365_CAT_ALLOW)) {
		cl_decide(out, TG_ACTION_PASS, TG_REASON_M365_BYPASS);
		return true;
	}
	return false;
}

/*
 * 4. The decryption rule @dr (-1: none); 5. the default. A decrypt outcome is then downgraded
 * where decrypting cannot work: ECH allowed, an excluded upstream, a principal @who (known
 * when @bypass is not NULL) without the CA. @bypass_ok: the dynamic bypass may apply.
 */
static void cl_decrypt(const struct tg_policy *p, const struct tg_bypass *bypass,
		       const struct tg_principal *who, const struct tg_flow_facts *f, int32_t dr,
		       bool bypass_ok, uint64_t now_ms, struct tg_decision *out)
{
	const struct tg_policy_settings *s = &p->set;

	if (dr >= 0) {
		cl_rule(p, out, TG_RULES_DECRYPTION, dr);
		cl_decide(out, p->lists[TG_RULES_DECRYPTION].r[dr].action, TG_REASON_RULE);
	} else if (s->m365 == TG_M365_INSPECT && out->m365 != TG_M365_CAT_NONE) {
		cl_decide(out, TG_ACTION_DECRYPT, TG_REASON_M365_INSPECT);
	} else {
		cl_decide(out, s->default_decrypt ? TG_ACTION_DECRYPT : TG_ACTION_PASS,
			  TG_REASON_DEFAULT);
	}
	if (out->action != TG_ACTION_DECRYPT)
		return;

	/* A decrypt outcome, downgraded where decrypting cannot work. */
	out->bypass_allowed = bypass_ok;
	if (f->ech && s->ech == TG_ECH_ALLOW) {
		cl_decide(out, TG_ACTION_PASS, TG_REASON_ECH_PASS);
	} else if (f->upstream_excluded && s->upstream_excl_ttl_s) {
		cl_decide(out, TG_ACTION_PASS, TG_REASON_UPSTREAM_EXCLUDED);
	} else if (bypass && s->dynamic_bypass.enabled &&
		   tg_bypass_ca_missing(bypass, who, now_ms, NULL) &&
		   s->dynamic_bypass.ca_missing_action != TG_ACTION_DECRYPT) {
		cl_decide(out, s->dynamic_bypass.ca_missing_action, TG_REASON_CA_MISSING);
	}
	if (out->action != TG_ACTION_DECRYPT)
		out->bypass_allowed = false;
}

enum tg_err tg_classify(const struct tg_policy *p, const struct tg_content *c,
			const struct tg_bypass *bypass, const struct tg_flow_facts *f,
			uint64_t now_ms, struct tg_decision *out)
{
	const struct tg_policy_settings *s = &p->set;
	struct tg_principal who;
	struct content_rec cr;
	struct cl_ctx x;
	int32_t dr;
	bool bypass_ok;

	memset(out, 0, sizeof(*out));
	out->action = TG_ACTION_PASS;
	out->reason = TG_REASON_DEFAULT;
	out->rule_list = TG_RULES_NONE;
	out->rule = -1;
	out->alert_rule = -1;
	out->user = -1;
	out->app = -1;
	out->pinned = -1;
	if (c != p->content || (f->family != 4 && f->family != 6) ||
	    (unsigned)f->fail >= TG_FLOW_FAIL__COUNT)
		return TG_ERR_ARG;

	cl_facts(p, c, f, out, &cr, &x);
	/* 1. Filtering and what decides before the lists; 2. the implicit lists. */
	if (cl_gate(p, f, &x, out) || cl_implicit(p, c, f, &cr, out))
		return TG_OK;

	/* 3. Dynamic bypass, unless the rule that would decide forbids it. */
	dr = cl_first(p, TG_RULES_DECRYPTION, &x);
	bypass_ok = s->dynamic_bypass.enabled && !f->ech && out->name_len &&
		    (dr < 0 || p->lists[TG_RULES_DECRYPTION].r[dr].action != TG_ACTION_DECRYPT ||
		     p->lists[TG_RULES_DECRYPTION].r[dr].bypass_pinned);
	memset(&who, 0, sizeof(who));
	if (bypass)
		cl_principal(f, out, &who);
	if (bypass && bypass_ok &&
	    tg_bypass_lookup(bypass, &who, (const uint8_t *)out->name, out->name_len, now_ms,
			     NULL)) {
		cl_decide(out, TG_ACTION_PASS, TG_REASON_DYNAMIC_BYPASS);
		return TG_OK;
	}

	/* 4. Decryption rules; 5. the default; a decrypt outcome downgraded where it cannot work. */
	cl_decrypt(p, bypass, &who, f, dr, bypass_ok, now_ms, out);
	return TG_OK;
}

int tg_policy_casb_eval(const struct tg_policy *p, uint32_t app, const char *activity, int32_t user,
			const uint64_t groups[static TG_CAP_GROUPS / 64], enum tg_action *action,
			bool *alert)
{
	struct tg_flow_facts none;
	struct tg_catset no_cats;
	struct cl_ctx x;
	int32_t i;

	/* A CASB rule matches on applications, activities, users and groups only. */
	memset(&none, 0, sizeof(none));
	memset(&no_cats, 0, sizeof(no_cats));
	memset(&x, 0, sizeof(x));
	x.f = &none;
	x.user = user;
	x.groups = groups;
	x.app = app < p->n_all_apps ? (int32_t)app : -1;
	x.cats = &no_cats;
	for (x.activity = 0; x.activity < POL_ACTIVITIES; x.activity++)
		if (strcmp(activity, pol_activity_names[x.activity]) == 0)
			break;
	*action = TG_ACTION_PASS;
	*alert = false;
	i = cl_first(p, TG_RULES_CASB, &x);
	if (i < 0)
		return -1;
	*action = p->lists[TG_RULES_CASB].r[i].action;
	*alert = p->lists[TG_RULES_CASB].r[i].alert;
	return i;
}
