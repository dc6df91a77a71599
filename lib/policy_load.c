/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy_load.c - policy JSON to compiled policy: tg_policy_load, the top level and "settings".
 * The sections have their own files (load_impl.h lists them); they and content_load.c are the
 * only files that include cJSON (STYLE.md rule 12): the parse tree never leaves them.
 *
 * The policy walk is strict (policy/README.md "Strictness"): closed objects, one type per
 * value, every reference resolved. Each error names its path ("decryption[3].match.apps[1]")
 * and, for unknown names, the nearest known one by edit distance. Structural errors are all
 * reported (up to the diag cap) in one pass; the policy is compiled only if there were none,
 * then linted (warnings, policy_lint.c).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "load_impl.h"

#define LD_DESCRIPTION_MAX  1024 /* bytes of the top-level "description" */
#define LD_UPSTREAM_TTL_MIN 60 /* unsupported_upstream.ttl_s: 0 (off) or at least this */

/* --- settings: one table per object ----------------------------------------------------------- */

enum ld_set_kind {
	LD_SET_BOOL, /* bool */
	LD_SET_U32, /* uint32_t in lo..hi */
	LD_SET_U8, /* uint8_t in lo..hi */
	LD_SET_ENUM, /* one of names[]; stores values[i] in an enum */
	LD_SET_FLAG, /* one of names[]; stores values[i] in a bool */
	LD_SET_PORTS, /* a list of ports (uint16_t[TG_CAP_PORTS]), its count (size_t) at off_n */
	LD_SET_ADDR, /* an address of family lo (4 or 6), stored as 4 or 16 bytes */
	LD_SET_OBJ, /* an object of the fields sub[], then check() */
};

/* A settings field: its key, what it accepts, and where in struct tg_policy_settings it goes. */
struct ld_set {
	const char *key;
	enum ld_set_kind kind;
	size_t off, off_n;
	long lo, hi;
	const char *const *names;
	const int *values;
	const struct ld_set *sub; /* ends with a NULL key */
	void (*check)(struct ld *l, const struct tg_policy_settings *s);
};

#define LD_SET_MAX 16 /* fields of one settings object */
#define SET_OFF(m) offsetof(struct tg_policy_settings, m)

/* A field's initializer, between braces: { LD_U32("ttl_s", upstream_excl_ttl_s, 0, 604800) }. */
#define LD_BOOL(k, m)	   .key = k, .kind = LD_SET_BOOL, .off = SET_OFF(m)
#define LD_U32(k, m, l, h) .key = k, .kind = LD_SET_U32, .off = SET_OFF(m), .lo = l, .hi = h
#define LD_U8(k, m, l, h)  .key = k, .kind = LD_SET_U8, .off = SET_OFF(m), .lo = l, .hi = h
#define LD_ENUM(k, m, n, v) \
	.key = k, .kind = LD_SET_ENUM, .off = SET_OFF(m), .names = n, .values = v
#define LD_FLAG(k, m, n, v) \
	.key = k, .kind = LD_SET_FLAG, .off = SET_OFF(m), .names = n, .values = v
#define LD_PORTS(k, m)	   .key = k, .kind = LD_SET_PORTS, .off = SET_OFF(m), .off_n = SET_OFF(n_##m)
#define LD_ADDR(k, m, fam) .key = k, .kind = LD_SET_ADDR, .off = SET_OFF(m), .lo = fam
#define LD_OBJ(k, t, c)	   .key = k, .kind = LD_SET_OBJ, .sub = t, .check = c
#define LD_FAIL(k, cls)	   LD_ENUM(k, fail[cls], ld_passblock, ld_passblock_v)

_Static_assert(sizeof(enum tg_action) == sizeof(int) && sizeof(enum tg_ech_mode) == sizeof(int) &&
		       sizeof(enum tg_quic_mode) == sizeof(int) &&
		       sizeof(enum tg_m365_mode) == sizeof(int) &&
		       sizeof(enum tg_dns_answer) == sizeof(int),
	       "LD_SET_ENUM stores an int");

static const char *const ld_passblock[] = { "pass", "block", NULL };
static const int ld_passblock_v[] = { TG_ACTION_PASS, TG_ACTION_BLOCK };
static const char *const ld_ca_actions[] = { "pass", "block", "decrypt", NULL };
static const int ld_ca_actions_v[] = { TG_ACTION_PASS, TG_ACTION_BLOCK, TG_ACTION_DECRYPT };
static const char *const ld_def_actions[] = { "decrypt", "no-decrypt", NULL };
static const int ld_def_actions_v[] = { true, false };
static const char *const ld_ech[] = { "strip", "block", "allow", NULL };
static const int ld_ech_v[] = { TG_ECH_STRIP, TG_ECH_BLOCK, TG_ECH_ALLOW };
static const char *const ld_quic[] = { "block", "allow", NULL };
static const int ld_quic_v[] = { TG_QUIC_BLOCK, TG_QUIC_ALLOW };
static const char *const ld_m365[] = { "microsoft", "inspect", "off", NULL };
static const int ld_m365_v[] = { TG_M365_MICROSOFT, TG_M365_INSPECT, TG_M365_OFF };
static const char *const ld_dns_answers[] = { "nxdomain", "sinkhole", NULL };
static const int ld_dns_answers_v[] = { TG_DNS_NXDOMAIN, TG_DNS_SINKHOLE };

static const struct ld_set ld_set_ca_missing[] = {
	{ LD_U32("hosts", dynamic_bypass.ca_missing_hosts, 2, 1000) },
	{ LD_U32("window_s", dynamic_bypass.ca_missing_window_s, 1, 86400) },
	{ LD_U32("ttl_s", dynamic_bypass.ca_missing_ttl_s, 60, 2592000) },
	{ LD_ENUM("action", dynamic_bypass.ca_missing_action, ld_ca_actions, ld_ca_actions_v) },
	{ NULL },
};

static const struct ld_set ld_set_dynamic_bypass[] = {
	{ LD_BOOL("enabled", dynamic_bypass.enabled) },
	{ LD_U32("failures", dynamic_bypass.failures, 1, 100) },
	{ LD_U32("window_s", dynamic_bypass.window_s, 1, 86400) },
	{ LD_U32("ttl_s", dynamic_bypass.ttl_s, 60, 2592000) },
	{ LD_U32("per_user_max", dynamic_bypass.per_user_max, 1, 4096) },
	{ LD_U32("total_max", dynamic_bypass.total_max, 1, 1048576) },
	{ LD_OBJ("ca_missing", ld_set_ca_missing, NULL) },
	{ NULL },
};

static void ld_check_upstream(struct ld *l, const struct tg_policy_settings *s)
{
	size_t old;

	if (s->upstream_excl_ttl_s == 0 || s->upstream_excl_ttl_s >= LD_UPSTREAM_TTL_MIN)
		return;
	old = ld_push_key(l, "ttl_s");
	ld_err(l, "must be 0 (disabled) or at least %d", LD_UPSTREAM_TTL_MIN);
	ld_pop(l, old);
}

static const struct ld_set ld_set_upstream[] = {
	{ LD_U32("ttl_s", upstream_excl_ttl_s, 0, 604800) },
	{ NULL },
};

/* One key per failure class (policy/README.md "settings.fail"). */
static const struct ld_set ld_set_fail[] = {
	{ LD_FAIL("queue_full", TG_FAIL_QUEUE_FULL) },
	{ LD_FAIL("unparsable_client_hello", TG_FAIL_UNPARSABLE_CH) },
	{ LD_FAIL("incomplete_client_hello", TG_FAIL_INCOMPLETE_CH) },
	{ LD_FAIL("adoption_failure", TG_FAIL_ADOPTION) },
	{ LD_FAIL("upstream_untrusted", TG_FAIL_UPSTREAM_UNTRUSTED) },
	{ LD_FAIL("upstream_unsupported", TG_FAIL_UPSTREAM_UNSUPPORTED) },
	{ LD_FAIL("cert_mint_failure", TG_FAIL_CERT_MINT) },
	{ LD_FAIL("reassembly_conflict", TG_FAIL_REASM_CONFLICT) },
	{ LD_FAIL("reassembly_window", TG_FAIL_REASM_WINDOW) },
	{ LD_FAIL("malformed_packet", TG_FAIL_MALFORMED) },
	{ LD_FAIL("tcp_fast_open", TG_FAIL_TFO) },
	{ LD_FAIL("midstream", TG_FAIL_MIDSTREAM) },
	{ LD_FAIL("non_tls", TG_FAIL_NON_TLS) },
	{ LD_FAIL("invalid_name", TG_FAIL_INVALID_NAME) },
	{ LD_FAIL("unparsable_dns", TG_FAIL_UNPARSABLE_DNS) },
	{ NULL },
};
_Static_assert(sizeof(ld_set_fail) / sizeof(ld_set_fail[0]) == TG_FAIL__COUNT + 1,
	       "one settings.fail key per class");

static const struct ld_set ld_set_dns[] = {
	{ LD_ENUM("block_answer", dns_answer, ld_dns_answers, ld_dns_answers_v) },
	{ LD_ADDR("sinkhole_ipv4", sinkhole_ipv4, 4) },
	{ LD_ADDR("sinkhole_ipv6", sinkhole_ipv6, 6) },
	{ NULL },
};

static const struct ld_set ld_set_os_hint[] = {
	{ LD_BOOL("enabled", os_hint) },
	{ LD_U8("min_confidence", os_hint_min_confidence, 0, 100) },
	{ NULL },
};

static const struct ld_set ld_set_settings[] = {
	{ LD_FLAG("default_action", default_decrypt, ld_def_actions, ld_def_actions_v) },
	{ LD_BOOL("implicit_bypass", implicit_bypass) },
	{ LD_OBJ("dynamic_bypass", ld_set_dynamic_bypass, NULL) },
	{ LD_OBJ("unsupported_upstream", ld_set_upstream, ld_check_upstream) },
	{ LD_ENUM("ech", ech, ld_ech, ld_ech_v) },
	{ LD_ENUM("quic", quic, ld_quic, ld_quic_v) },
	{ LD_ENUM("m365", m365, ld_m365, ld_m365_v) },
	{ LD_OBJ("fail", ld_set_fail, NULL) },
	{ LD_PORTS("inspected_ports", inspected_ports) },
	{ LD_PORTS("http_ports", http_ports) },
	{ LD_PORTS("dns_ports", dns_ports) },
	{ LD_PORTS("quic_ports", quic_ports) },
	{ LD_OBJ("dns", ld_set_dns, NULL) },
	{ LD_OBJ("os_hint", ld_set_os_hint, NULL) },
	{ NULL },
};

static void ld_settings_defaults(struct tg_policy_settings *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->default_decrypt = false;
	s->implicit_bypass = true;
	s->dynamic_bypass.enabled = true;
	s->dynamic_bypass.failures = 3;
	s->dynamic_bypass.window_s = 600;
	s->dynamic_bypass.ttl_s = 86400;
	s->dynamic_bypass.per_user_max = 64;
	s->dynamic_bypass.total_max = 16384;
	s->dynamic_bypass.ca_missing_hosts = 8;
	s->dynamic_bypass.ca_missing_window_s = 300;
	s->dynamic_bypass.ca_missing_ttl_s = 3600;
	s->dynamic_bypass.ca_missing_action = TG_ACTION_PASS;
	s->upstream_excl_ttl_s = 3600;
	s->ech = TG_ECH_STRIP;
	s->quic = TG_QUIC_BLOCK;
	s->m365 = TG_M365_MICROSOFT;
	/*
	 * Fail closed where an honest stack never goes (policy/README.md "settings.fail" gives
	 * each reason); pass where honest traffic does get: overload, a daemon restart
	 * (midstream), other protocols on the port, an adoption or upstream the proxy cannot do.
	 */
	for (i = 0; i < TG_FAIL__COUNT; i++)
		s->fail[i] = TG_ACTION_BLOCK;
	s->fail[TG_FAIL_QUEUE_FULL] = TG_ACTION_PASS;
	s->fail[TG_FAIL_ADOPTION] = TG_ACTION_PASS;
	s->fail[TG_FAIL_UPSTREAM_UNSUPPORTED] = TG_ACTION_PASS;
	s->fail[TG_FAIL_MIDSTREAM] = TG_ACTION_PASS;
	s->fail[TG_FAIL_NON_TLS] = TG_ACTION_PASS;
	/* What tlsgate-setup queues by default: TLS 443 and DNS-over-TLS 853, which is TLS too. */
	s->inspected_ports[0] = 443;
	s->inspected_ports[1] = 853;
	s->n_inspected_ports = 2;
	s->http_ports[0] = 80;
	s->n_http_ports = 1;
	s->dns_ports[0] = 53;
	s->n_dns_ports = 1;
	s->quic_ports[0] = 443;
	s->n_quic_ports = 1;
	s->dns_answer = TG_DNS_NXDOMAIN;
	s->os_hint = true;
	s->os_hint_min_confidence = 60;
}

static void ld_ports(struct ld *l, const cJSON *v, const char *key, uint16_t *ports, size_t *n)
{
	size_t old = ld_push_key(l, key), cnt, i, j;
	const cJSON *it;

	if (!ld_array(l, v, TG_CAP_PORTS, &cnt))
		goto out;
	if (cnt == 0) {
		ld_err(l, "expected at least one port");
		goto out;
	}
	i = 0;
	cJSON_ArrayForEach(it, v)
	{
		size_t o2 = ld_push_idx(l, i);
		long x;

		if (!cJSON_IsNumber(it)) {
			ld_err(l, "expected an integer");
		} else if (ld_int(l, it, "", 1, 65535, 0, &x)) {
			ports[i] = (uint16_t)x;
			for (j = 0; j < i; j++)
				if (ports[j] == ports[i])
					ld_err(l, "duplicate port %ld", x);
		}
		ld_pop(l, o2);
		i++;
	}
	*n = cnt;
out:
	ld_pop(l, old);
}

/* An address of family @fam (4 or 6) into @out (4 or 16 bytes). */
static void ld_addr(struct ld *l, const cJSON *v, const char *key, long fam, uint8_t *out)
{
	size_t old = ld_push_key(l, key);
	uint8_t f, a[16];

	if (!cJSON_IsString(v))
		ld_err(l, "expected a string");
	else if (tg_addr_parse(v->valuestring, strlen(v->valuestring), &f, a) != TG_OK || f != fam)
		ld_err(l, "expected an IPv%ld address", fam);
	else
		memcpy(out, a, fam == 4 ? 4 : 16);
	ld_pop(l, old);
}

static bool ld_set_object(struct ld *l, const cJSON *o, const struct ld_set *t,
			  struct tg_policy_settings *s);

/* Read the present value @v of field @f into @s. */
static void ld_set_value(struct ld *l, const cJSON *v, const struct ld_set *f,
			 struct tg_policy_settings *s)
{
	char *at = (char *)s + f->off;
	uint32_t u;
	size_t old;
	int x;

	switch (f->kind) {
	case LD_SET_BOOL:
		ld_bool(l, v, f->key, *(bool *)at, (bool *)at);
		break;
	case LD_SET_U32:
		ld_u32(l, v, f->key, f->lo, f->hi, (uint32_t *)at);
		break;
	case LD_SET_U8:
		u = *(uint8_t *)at;
		ld_u32(l, v, f->key, f->lo, f->hi, &u);
		*(uint8_t *)at = (uint8_t)u;
		break;
	case LD_SET_ENUM:
		if (ld_enum(l, v, f->key, f->names, 0, &x))
			memcpy(at, &f->values[x], sizeof(int));
		break;
	case LD_SET_FLAG:
		if (ld_enum(l, v, f->key, f->names, 0, &x))
			*(bool *)at = f->values[x] != 0;
		break;
	case LD_SET_PORTS:
		ld_ports(l, v, f->key, (uint16_t *)at, (size_t *)((char *)s + f->off_n));
		break;
	case LD_SET_ADDR:
		ld_addr(l, v, f->key, f->lo, (uint8_t *)at);
		break;
	case LD_SET_OBJ:
		old = ld_push_key(l, f->key);
		if (ld_set_object(l, v, f->sub, s) && f->check)
			f->check(l, s);
		ld_pop(l, old);
		break;
	default:
		break;
	}
}

/* The object @o of the fields @t, in the table's order; false when it is not an object. */
static bool ld_set_object(struct ld *l, const cJSON *o, const struct ld_set *t,
			  struct tg_policy_settings *s)
{
	const char *keys[LD_SET_MAX + 1];
	const cJSON *v[LD_SET_MAX];
	size_t n, i;

	for (n = 0; t[n].key && n < LD_SET_MAX; n++)
		keys[n] = t[n].key;
	keys[n] = NULL;
	if (!ld_obj(l, o, keys, v))
		return false;
	for (i = 0; i < n; i++)
		if (v[i])
			ld_set_value(l, v[i], &t[i], s);
	return true;
}

void ld_settings(struct ld *l, const cJSON *o)
{
	ld_set_object(l, o, ld_set_settings, &l->p->set);
}

/* --- the top level ---------------------------------------------------------------------------- */

static void ld_filtering(struct ld *l, const cJSON *v)
{
	ld_rules(l, v, TG_RULES_FILTERING);
}

static void ld_decryption(struct ld *l, const cJSON *v)
{
	ld_rules(l, v, TG_RULES_DECRYPTION);
}

static void ld_casb(struct ld *l, const cJSON *v)
{
	ld_rules(l, v, TG_RULES_CASB);
}

static void ld_dlp(struct ld *l, const cJSON *v)
{
	ld_rules(l, v, TG_RULES_DLP);
}

/* The sections after "version", "description" and "$schema", read in this order (a later one
 * resolves names an earlier one defines). */
static const struct {
	const char *key;
	void (*load)(struct ld *l, const cJSON *v);
	bool always; /* called when absent too */
} ld_sections[] = {
	{ "settings", ld_settings, false },
	{ "identities", ld_identities, false },
	{ "endpoints", ld_endpoints, false },
	{ "applications", ld_applications, true },
	{ "application_groups", ld_app_groups, false },
	{ "filtering", ld_filtering, false },
	{ "decryption", ld_decryption, false },
	{ "casb", ld_casb, false },
	{ "dlp", ld_dlp, false },
};

#define LD_SECTIONS (sizeof(ld_sections) / sizeof(ld_sections[0]))
#define LD_TOP_KEYS 3 /* "version", "description", "$schema": before the sections */

/*
 * "version" (required, 1), "description" and "$schema" (the URI of the policy's JSON Schema, for
 * editors: a string, never read); false when the version is not one this reads.
 */
static bool ld_version(struct ld *l, const cJSON *ver, const cJSON *desc, const cJSON *schema)
{
	size_t old = ld_push_key(l, "version");
	long version;

	if (ver == NULL)
		ld_err(l, "required (this build reads version 1)");
	else if (!cJSON_IsNumber(ver) || !(ver->valuedouble >= -1e15 && ver->valuedouble <= 1e15) ||
		 ver->valuedouble != (double)(long)ver->valuedouble)
		ld_err(l, "expected an integer"); /* range first: casting 1e300 is undefined */
	else if ((version = (long)ver->valuedouble) != 1)
		ld_err(l, "unsupported policy version %ld (this build reads version 1)", version);
	ld_pop(l, old);
	if (ver == NULL || !cJSON_IsNumber(ver) || ver->valuedouble != 1)
		return false;
	if (desc && (!cJSON_IsString(desc) || strlen(desc->valuestring) > LD_DESCRIPTION_MAX)) {
		old = ld_push_key(l, "description");
		ld_err(l, "expected a string of at most %d bytes", LD_DESCRIPTION_MAX);
		ld_pop(l, old);
	}
	if (schema && !cJSON_IsString(schema)) {
		old = ld_push_key(l, "$schema");
		ld_err(l, "expected a string (the URI of the policy's JSON Schema)");
		ld_pop(l, old);
	}
	return true;
}

/* The top-level object: false when it is not one or its version is not 1 (reported). */
static bool ld_top(struct ld *l, const cJSON *root)
{
	const char *keys[LD_TOP_KEYS + LD_SECTIONS + 1] = { "version", "description", "$schema" };
	const cJSON *v[LD_TOP_KEYS + LD_SECTIONS];
	size_t i, old;

	for (i = 0; i < LD_SECTIONS; i++)
		keys[LD_TOP_KEYS + i] = ld_sections[i].key;
	keys[LD_TOP_KEYS + LD_SECTIONS] = NULL;
	if (!ld_obj(l, root, keys, v) || !ld_version(l, v[0], v[1], v[2]))
		return false;
	for (i = 0; i < LD_SECTIONS; i++) {
		if (v[LD_TOP_KEYS + i] == NULL && !ld_sections[i].always)
			continue;
		old = ld_push_key(l, ld_sections[i].key);
		ld_sections[i].load(l, v[LD_TOP_KEYS + i]);
		ld_pop(l, old);
	}
	return true;
}

static void ld_free_scratch(struct ld *l)
{
	size_t i;

	for (i = 0; i < l->n_agroups; i++) {
		free(l->agroups[i].name);
		free(l->agroups[i].apps);
	}
	free(l->agroups);
	free(l->binds);
	free(l->macs);
}

static size_t ld_policy_bytes(const struct tg_policy *p)
{
	size_t b = sizeof(*p) + p->n_binds * sizeof(*p->binds) + p->n_macs * sizeof(*p->macs);
	size_t i, k;

	if (p->app_hosts)
		b += tg_dset_bytes(p->app_hosts);
	for (k = 0; k < POL_LISTS; k++)
		for (i = 0; i < p->lists[k].n; i++)
			if (p->lists[k].r[i].m.names)
				b += tg_dset_bytes(p->lists[k].r[i].m.names) +
				     sizeof(struct pol_rule);
	return b;
}

enum tg_err tg_policy_load(const uint8_t *json, size_t len, const struct tg_content *content,
			   const uint8_t key[static 16], struct tg_diag *diag,
			   struct tg_policy **out)
{
	struct tg_content *empty = NULL;
	struct ld l;
	cJSON *root = NULL;
	enum tg_err e = TG_OK;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.d = diag;
	l.key = key;
	if (content == NULL) {
		empty = tg_content_empty();
		if (empty == NULL)
			return TG_ERR_NOMEM;
		content = empty;
	}
	l.c = content;
	root = ld_parse(&l, json, len, TG_CAP_POLICY_BYTES, &e);
	if (root == NULL)
		goto out;
	l.p = calloc(1, sizeof(*l.p));
	if (l.p == NULL) {
		e = TG_ERR_NOMEM;
		goto out;
	}
	l.p->content = content;
	l.p->owned_content = empty;
	empty = NULL;
	ld_settings_defaults(&l.p->set);
	if (!ld_top(&l, root)) {
		e = TG_ERR_POLICY;
		goto out;
	}
	if (l.errors == 0)
		ld_bind_compile(&l);
	if (l.errors) {
		e = TG_ERR_POLICY;
		goto out;
	}
	pol_lint(l.p, l.d);
	l.p->bytes = ld_policy_bytes(l.p);
	*out = l.p;
	l.p = NULL;
out:
	cJSON_Delete(root);
	tg_policy_free(l.p);
	ld_free_scratch(&l);
	tg_content_free(empty);
	return e;
}
