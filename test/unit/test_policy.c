/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_policy.c - the loader (policy_load.c), the compiled policy (policy.c), the category
 * database (catdb.c) and the DLP detectors (dlp.c): defaults, every setting, caps, error paths,
 * several errors in one pass, lint warnings, binding inheritance, CASB evaluation, truncation.
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/catdb.h"
#include "tlsgate/content.h"
#include "tlsgate/dlp.h"
#include "tlsgate/policy.h"

#include "tg_test.h"

static const uint8_t key[16] = "fedcba9876543210";
static struct tg_content *content;
static struct tg_diag diag;

static struct tg_span span(const char *s)
{
	struct tg_span sp = { (const uint8_t *)s, strlen(s) };

	return sp;
}

static enum tg_err load(const char *json, struct tg_policy **p)
{
	tg_diag_init(&diag);
	return tg_policy_load((const uint8_t *)json, strlen(json), content, key, &diag, p);
}

/* Whether the diagnostics hold exactly @text at @level. */
static bool has_diag(enum tg_diag_level level, const char *text)
{
	size_t i;

	for (i = 0; i < diag.n; i++)
		if (diag.msg[i].level == level && strcmp(diag.msg[i].text, text) == 0)
			return true;
	for (i = 0; i < diag.n; i++)
		fprintf(stderr, "  have: %s\n", diag.msg[i].text);
	fprintf(stderr, "  want: %s\n", text);
	return false;
}

static void test_defaults_and_settings(void)
{
	struct tg_policy *p = NULL;
	const struct tg_policy_settings *s;

	CHECK_ERR(load("{\"version\":1}", &p), TG_OK);
	s = tg_policy_settings(p);
	CHECK(!s->default_decrypt);
	CHECK(s->implicit_bypass);
	CHECK(s->dynamic_bypass.enabled);
	CHECK_INT(s->dynamic_bypass.failures, 3);
	CHECK_INT(s->dynamic_bypass.window_s, 600);
	CHECK_INT(s->dynamic_bypass.ttl_s, 86400);
	CHECK_INT(s->dynamic_bypass.per_user_max, 64);
	CHECK_INT(s->dynamic_bypass.total_max, 16384);
	CHECK_INT(s->dynamic_bypass.ca_missing_hosts, 8);
	CHECK_INT(s->dynamic_bypass.ca_missing_action, TG_ACTION_PASS);
	CHECK_INT(s->upstream_excl_ttl_s, 3600);
	CHECK_INT(s->ech, TG_ECH_STRIP);
	CHECK_INT(s->quic, TG_QUIC_BLOCK);
	CHECK_INT(s->m365, TG_M365_MICROSOFT);
	CHECK_INT(s->fail[TG_FAIL_QUEUE_FULL], TG_ACTION_PASS);
	CHECK_INT(s->fail[TG_FAIL_UPSTREAM_UNTRUSTED], TG_ACTION_BLOCK);
	CHECK_INT(s->fail[TG_FAIL_CERT_MINT], TG_ACTION_BLOCK);
	/* The defaults are what tlsgate-setup queues by default (TLS and DoT, HTTP, DNS, QUIC). */
	CHECK_INT(s->n_inspected_ports, 2);
	CHECK_INT(s->inspected_ports[0], 443);
	CHECK_INT(s->inspected_ports[1], 853);
	CHECK_INT(s->http_ports[0], 80);
	CHECK_INT(s->n_dns_ports, 1);
	CHECK_INT(s->dns_ports[0], 53);
	CHECK_INT(s->n_quic_ports, 1);
	CHECK_INT(s->quic_ports[0], 443);
	CHECK_INT(s->dns_answer, TG_DNS_NXDOMAIN);
	CHECK(s->os_hint);
	CHECK_INT(s->os_hint_min_confidence, 60);
	CHECK(tg_policy_content(p) == content);
	tg_policy_free(p);

	CHECK_ERR(load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\","
		       "\"implicit_bypass\":false,\"dynamic_bypass\":{\"enabled\":false,"
		       "\"failures\":5,\"window_s\":60,\"ttl_s\":120,\"per_user_max\":7,"
		       "\"total_max\":99,\"ca_missing\":{\"hosts\":4,\"window_s\":30,\"ttl_s\":900,"
		       "\"action\":\"block\"}},\"unsupported_upstream\":{\"ttl_s\":0},"
		       "\"ech\":\"allow\",\"quic\":\"allow\",\"m365\":\"inspect\","
		       "\"fail\":{\"queue_full\":\"block\",\"upstream_untrusted\":\"pass\"},"
		       "\"inspected_ports\":[443,8443,993],\"http_ports\":[80,8080],"
		       "\"dns_ports\":[53,5353],\"quic_ports\":[443,8443],\"dns\":{\"block_"
		       "answer\":\"sinkhole\",\"sinkhole_ipv4\":\"192.0.2.1\","
		       "\"sinkhole_ipv6\":\"2001:db8::1\"},\"os_hint\":{\"enabled\":false,"
		       "\"min_confidence\":0}}}",
		       &p),
		  TG_OK);
	s = tg_policy_settings(p);
	CHECK(s->default_decrypt);
	CHECK(!s->implicit_bypass);
	CHECK(!s->dynamic_bypass.enabled);
	CHECK_INT(s->dynamic_bypass.failures, 5);
	CHECK_INT(s->dynamic_bypass.window_s, 60);
	CHECK_INT(s->dynamic_bypass.ttl_s, 120);
	CHECK_INT(s->dynamic_bypass.per_user_max, 7);
	CHECK_INT(s->dynamic_bypass.total_max, 99);
	CHECK_INT(s->dynamic_bypass.ca_missing_hosts, 4);
	CHECK_INT(s->dynamic_bypass.ca_missing_window_s, 30);
	CHECK_INT(s->dynamic_bypass.ca_missing_ttl_s, 900);
	CHECK_INT(s->dynamic_bypass.ca_missing_action, TG_ACTION_BLOCK);
	CHECK_INT(s->upstream_excl_ttl_s, 0);
	CHECK_INT(s->ech, TG_ECH_ALLOW);
	CHECK_INT(s->quic, TG_QUIC_ALLOW);
	CHECK_INT(s->m365, TG_M365_INSPECT);
	CHECK_INT(s->fail[TG_FAIL_QUEUE_FULL], TG_ACTION_BLOCK);
	CHECK_INT(s->fail[TG_FAIL_UPSTREAM_UNTRUSTED], TG_ACTION_PASS);
	CHECK_INT(s->fail[TG_FAIL_ADOPTION], TG_ACTION_PASS);
	CHECK_INT(s->n_inspected_ports, 3);
	CHECK_INT(s->inspected_ports[2], 993);
	CHECK_INT(s->n_http_ports, 2);
	CHECK_INT(s->n_dns_ports, 2);
	CHECK_INT(s->dns_ports[1], 5353);
	CHECK_INT(s->n_quic_ports, 2);
	CHECK_INT(s->quic_ports[1], 8443);
	CHECK_INT(s->dns_answer, TG_DNS_SINKHOLE);
	CHECK(memcmp(s->sinkhole_ipv4, "\xc0\x00\x02\x01", 4) == 0);
	CHECK_INT(s->sinkhole_ipv6[0], 0x20);
	CHECK_INT(s->sinkhole_ipv6[15], 1);
	CHECK(!s->os_hint);
	tg_policy_free(p);
}

static void test_errors(void)
{
	struct tg_policy *p = (struct tg_policy *)&diag; /* must be reset to NULL on error */
	char *big, *deep;
	size_t i;

	CHECK_ERR(load("{\"version\":1,", &p), TG_ERR_JSON);
	CHECK(p == NULL);
	CHECK(has_diag(TG_DIAG_ERROR, "(top level): line 1, column 13: JSON syntax error"));
	CHECK_ERR(load("{\"version\":1,\"settings\":{\"ech\":1}}", &p), TG_ERR_POLICY);
	CHECK(has_diag(TG_DIAG_ERROR,
		       "settings.ech: expected a string, one of \"strip\", \"block\", \"allow\""));
	/* Several errors in one pass, each with its path. */
	CHECK_ERR(load("{\"version\":1,\"settings\":{\"quic\":\"x\",\"m365\":\"y\"},"
		       "\"decryption\":[{\"name\":\"a\",\"action\":\"decrypt\",\"mtach\":{}}]}",
		       &p),
		  TG_ERR_POLICY);
	CHECK_INT(diag.errors, 3);
	CHECK(has_diag(TG_DIAG_ERROR,
		       "decryption[0].mtach: unknown field (did you mean \"match\"?)"));
	/* Size cap (checked before parsing) and depth cap. */
	big = malloc(TG_CAP_POLICY_BYTES + 2);
	memset(big, ' ', TG_CAP_POLICY_BYTES + 1);
	big[TG_CAP_POLICY_BYTES + 1] = '\0';
	CHECK_ERR(load(big, &p), TG_ERR_CAP);
	big[TG_CAP_POLICY_BYTES] = '\0';
	memcpy(big, "{\"version\":1}", 13);
	CHECK_ERR(load(big, &p), TG_OK); /* exactly at the cap: fine */
	tg_policy_free(p);
	free(big);
	deep = calloc(1, 200);
	memcpy(deep, "{\"version\":1,\"description\":", 27);
	for (i = 0; i < TG_CAP_JSON_DEPTH; i++)
		deep[strlen(deep)] = '[';
	for (i = 0; i < TG_CAP_JSON_DEPTH; i++)
		deep[strlen(deep)] = ']';
	deep[strlen(deep)] = '}';
	CHECK_ERR(load(deep, &p), TG_ERR_CAP); /* 17 levels with the top object */
	free(deep);
	/* A '[' inside a string does not count as nesting. */
	CHECK_ERR(load("{\"version\":1,\"description\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[\"}", &p),
		  TG_OK);
	tg_policy_free(p);
	/* cJSON would cut a string at \u0000: refused before. */
	CHECK_ERR(load("{\"version\":1,\"description\":\"a\\u0000\"}", &p), TG_ERR_JSON);
}

/* "$schema" names the policy's JSON Schema for editors: a string at the top level, nowhere else. */
static void test_schema_key(void)
{
	struct tg_policy *p = NULL;

	CHECK_ERR(load("{\"$schema\":\"file:///usr/share/tlsgate/schema.json\",\"version\":1}", &p),
		  TG_OK);
	CHECK(p != NULL);
	CHECK_INT(diag.n, 0);
	tg_policy_free(p);
	p = NULL;
	CHECK_ERR(load("{\"version\":1,\"$schema\":\"\"}", &p), TG_OK);
	tg_policy_free(p);
	p = NULL;
	CHECK_ERR(load("{\"version\":1,\"$schema\":{\"$ref\":\"x\"}}", &p), TG_ERR_POLICY);
	CHECK(p == NULL);
	CHECK(has_diag(TG_DIAG_ERROR,
		       "$schema: expected a string (the URI of the policy's JSON Schema)"));
	CHECK_ERR(load("{\"version\":1,\"$schema\":null}", &p), TG_ERR_POLICY);
	CHECK(has_diag(TG_DIAG_ERROR,
		       "$schema: expected a string (the URI of the policy's JSON Schema)"));
	CHECK_ERR(load("{\"version\":1,\"$schema\":\"a\",\"$schema\":\"b\"}", &p), TG_ERR_POLICY);
	CHECK(has_diag(TG_DIAG_ERROR, "$schema: duplicate key"));
	CHECK_ERR(load("{\"version\":1,\"settings\":{\"$schema\":\"x\"}}", &p), TG_ERR_POLICY);
	CHECK(has_diag(TG_DIAG_ERROR, "settings.$schema: unknown field"));
	CHECK_ERR(load("{\"version\":1,\"filtering\":[{\"$schema\":\"x\",\"name\":\"r\","
		       "\"action\":\"block\"}]}",
		       &p),
		  TG_ERR_POLICY);
	CHECK(has_diag(TG_DIAG_ERROR, "filtering[0].$schema: unknown field"));
	/* The version is still required beside it. */
	CHECK_ERR(load("{\"$schema\":\"x\"}", &p), TG_ERR_POLICY);
	CHECK(has_diag(TG_DIAG_ERROR, "version: required (this build reads version 1)"));
}

static void test_truncation(void)
{
	const char *json =
		"{\"version\":1,\"settings\":{\"default_action\":\"decrypt\"},"
		"\"decryption\":[{\"name\":\"r\",\"match\":{\"sni\":[\"*.example.com\"]},"
		"\"action\":\"no-decrypt\"}]}";
	size_t n = strlen(json), i, bad = 0;
	struct tg_policy *p;

	for (i = 0; i < n; i++) {
		char *t = malloc(i + 1);

		memcpy(t, json, i);
		t[i] = '\0';
		tg_diag_init(&diag);
		if (tg_policy_load((const uint8_t *)t, i, content, key, &diag, &p) != TG_ERR_JSON ||
		    p != NULL)
			bad++;
		free(t);
	}
	CHECK_INT(bad, 0);
	CHECK_ERR(load(json, &p), TG_OK);
	tg_policy_free(p);
}

static void test_lint(void)
{
	struct tg_policy *p = NULL;

	CHECK_ERR(load("{\"version\":1,\"decryption\":["
		       "{\"name\":\"wide\",\"match\":{\"sni\":[\".example.com\"]},"
		       "\"action\":\"no-decrypt\"},"
		       "{\"name\":\"narrow\",\"match\":{\"sni\":[\"*.a.example.com\",\"example."
		       "com\"]},"
		       "\"action\":\"decrypt\"},"
		       "{\"name\":\"other\",\"match\":{\"sni\":[\"example.net\"]},"
		       "\"action\":\"decrypt\"},"
		       "{\"name\":\"tld\",\"match\":{\"sni\":[\"*.com\",\".co.uk\",\"*.cloudfront."
		       "net\","
		       "\"*.bbc.co.uk\",\"com\"]},\"action\":\"no-decrypt\"}],"
		       "\"casb\":[{\"name\":\"c\",\"match\":{\"apps\":[\"Dropbox\"]},\"action\":"
		       "\"block\"}]}",
		       &p),
		  TG_OK);
	CHECK(has_diag(TG_DIAG_WARNING, "decryption[1]: never matches: rule \"wide\" "
					"(decryption[0]) matches everything it matches"));
	CHECK(has_diag(TG_DIAG_WARNING,
		       "decryption[3].match.sni: \"*.com\" covers the whole public suffix \"com\": "
		       "broader than a registrable domain"));
	CHECK(has_diag(TG_DIAG_WARNING,
		       "decryption[3].match.sni: \".co.uk\" covers the whole public suffix "
		       "\"co.uk\": broader than a registrable domain"));
	CHECK(has_diag(
		TG_DIAG_WARNING,
		"decryption[3].match.sni: \"*.cloudfront.net\" covers the whole public suffix "
		"\"cloudfront.net\": broader than a registrable domain"));
	CHECK(has_diag(TG_DIAG_WARNING, "casb[0]: application \"Dropbox\" is not decrypted by any "
					"decryption rule: CASB cannot see what is not decrypted"));
	CHECK_INT(diag.warnings, 5); /* not "other", not "*.bbc.co.uk", not exact "com" */
	CHECK_INT(diag.errors, 0);
	CHECK_INT(tg_policy_rule_count(p, TG_RULES_DECRYPTION), 4);
	CHECK(strcmp(tg_policy_rule_name(p, TG_RULES_DECRYPTION, 2), "other") == 0);
	CHECK(tg_policy_rule_name(p, TG_RULES_DECRYPTION, 4) == NULL);
	tg_policy_free(p);

	/* Covered CASB application, disabled shadowing rule, narrower earlier rule: silent. */
	CHECK_ERR(load("{\"version\":1,\"decryption\":["
		       "{\"name\":\"a\",\"enabled\":false,\"action\":\"no-decrypt\"},"
		       "{\"name\":\"b\",\"match\":{\"sni\":[\"x.example.com\"],\"users\":[]},"
		       "\"action\":\"decrypt\"}]}",
		       &p),
		  TG_ERR_POLICY);
	CHECK(has_diag(TG_DIAG_ERROR, "decryption[1].match.users: empty list (omit the field to "
				      "match anything)"));
	CHECK_ERR(load("{\"version\":1,\"decryption\":["
		       "{\"name\":\"a\",\"enabled\":false,\"action\":\"no-decrypt\"},"
		       "{\"name\":\"b\",\"match\":{\"sni\":[\"x.example.com\"]},\"action\":"
		       "\"decrypt\"},"
		       "{\"name\":\"c\",\"match\":{\"apps\":[\"Dropbox\"]},\"action\":\"decrypt\"},"
		       "{\"name\":\"d\",\"match\":{\"sni\":[\".example.com\"]},\"action\":"
		       "\"decrypt\"}],"
		       "\"casb\":[{\"name\":\"c\",\"match\":{\"apps\":[\"Dropbox\"]},\"action\":"
		       "\"block\"}]}",
		       &p),
		  TG_OK);
	CHECK_INT(diag.warnings, 0);
	tg_policy_free(p);
}

static void test_bindings_and_casb(void)
{
	struct tg_policy *p = NULL;
	uint64_t groups[TG_CAP_GROUPS / 64] = { 0 };
	enum tg_action a;
	bool alert;
	int dropbox = -1;
	size_t i;

	CHECK_ERR(
		load("{\"version\":1,\"identities\":{\"users\":[{\"name\":\"u\"},{\"name\":\"v\"}],"
		     "\"groups\":[{\"name\":\"g\",\"members\":[\"v\"]}]},"
		     "\"decryption\":[{\"name\":\"dec\",\"action\":\"decrypt\"}],"
		     "\"casb\":["
		     "{\"name\":\"share\",\"match\":{\"apps\":[\"Dropbox\"],\"activities\":"
		     "[\"share\"],\"groups\":[\"g\"]},\"action\":\"alert\"},"
		     "{\"name\":\"noshare\",\"match\":{\"apps\":[\"Dropbox\"],\"activities\":"
		     "[\"share\",\"delete\"]},\"action\":\"block\"}]}",
		     &p),
		TG_OK);
	for (i = 0; i < tg_policy_app_count(p); i++)
		if (strcmp(tg_policy_app_name(p, i), "Dropbox") == 0)
			dropbox = (int)i;
	CHECK(dropbox >= 0);
	CHECK_INT(tg_policy_casb_eval(p, (uint32_t)dropbox, "share", 0, groups, &a, &alert), 1);
	CHECK_INT(a, TG_ACTION_BLOCK);
	groups[0] = 1;
	CHECK_INT(tg_policy_casb_eval(p, (uint32_t)dropbox, "share", 1, groups, &a, &alert), 0);
	CHECK_INT(a, TG_ACTION_PASS);
	CHECK(alert);
	CHECK_INT(tg_policy_casb_eval(p, (uint32_t)dropbox, "upload", 1, groups, &a, &alert), -1);
	CHECK_INT(tg_policy_casb_eval(p, (uint32_t)dropbox, "bogus", 1, groups, &a, &alert), -1);
	CHECK_INT(tg_policy_user_count(p), 2);
	CHECK(strcmp(tg_policy_user_name(p, 1), "v") == 0);
	CHECK_INT(tg_policy_group_count(p), 1);
	CHECK(tg_policy_bytes(p) > 0);
	tg_policy_free(p);

	/* The same prefix bound to two endpoints is an error with both paths. */
	CHECK_ERR(load("{\"version\":1,\"endpoints\":[{\"addresses\":[\"10.0.0.0/"
		       "8\"],\"os\":\"ios\"},"
		       "{\"addresses\":[\"10.0.0.0/8\"],\"os\":\"android\"}]}",
		       &p),
		  TG_ERR_POLICY);
	CHECK(has_diag(TG_DIAG_ERROR, "endpoints[1].addresses[0]: this address is already bound to "
				      "an endpoint (endpoints[0].addresses[0])"));
}

static void test_catdb(void)
{
	struct tg_catdb *db = NULL;
	struct tg_catset cats;
	uint8_t rep;
	struct tg_diag d;
	const char *ok = "#tlsgate-categories 1\r\n# comment\n\n"
			 ".example.com\tnews\t2\n"
			 "www.example.com\tfinance,health\t1\n"
			 "*.cdn.example.com\tut1-custom,technology\t3\n"
			 ".example.com\tmalware\t5\n";

	tg_diag_init(&d);
	CHECK_ERR(tg_catdb_parse((const uint8_t *)ok, strlen(ok), key, &d, &db), TG_OK);
	CHECK_INT(tg_catdb_count(db), 4);
	CHECK(tg_catdb_lookup(db, "a.example.com", 13, &cats, &rep));
	CHECK_INT(rep, 2); /* the first of the duplicate lines wins */
	CHECK(tg_catset_has(&cats, (unsigned)tg_catdb_category_id(db, "news", 4)));
	CHECK(tg_catdb_lookup(db, "www.example.com", 15, &cats, &rep));
	CHECK_INT(rep, 1);
	CHECK(tg_catset_has(&cats, (unsigned)tg_catdb_category_id(db, "health", 6)));
	CHECK(!tg_catset_has(&cats, (unsigned)tg_catdb_category_id(db, "news", 4)));
	CHECK(tg_catdb_lookup(db, "x.cdn.example.com", 17, &cats, &rep));
	CHECK(tg_catset_has(&cats, (unsigned)tg_catdb_category_id(db, "ut1-custom", 10)));
	CHECK_INT(tg_catdb_category_id(db, "ut1-custom", 10), TG_CATDB_FIXED);
	CHECK(!tg_catdb_lookup(db, "example.org", 11, &cats, &rep));
	CHECK_INT(rep, 0);
	CHECK(strcmp(tg_catdb_category_name(db, 0), "adult") == 0);
	CHECK(tg_catdb_category_name(db, TG_CATDB_FIXED + 1) == NULL);
	tg_catdb_free(db);

#define BAD(T_, M_)                                                                        \
	do {                                                                               \
		tg_diag_init(&d);                                                          \
		db = (struct tg_catdb *)&d;                                                \
		CHECK_ERR(tg_catdb_parse((const uint8_t *)(T_), strlen(T_), key, &d, &db), \
			  TG_ERR_CATDB);                                                   \
		CHECK(db == NULL);                                                         \
		CHECK(d.n == 1 && strcmp(d.msg[0].text, (M_)) == 0);                       \
		if (d.n != 1 || strcmp(d.msg[0].text, (M_)) != 0)                          \
			fprintf(stderr, "  catdb: %s\n", d.n ? d.msg[0].text : "-");       \
	} while (0)
	BAD("a.com\tnews\t1\n",
	    "categories.tsv: line 1: expected the header \"#tlsgate-categories 1\"");
	BAD("#tlsgate-categories 1\na.com\tnews\t6\n",
	    "categories.tsv: line 2: reputation must be one digit 1-5");
	BAD("#tlsgate-categories 1\na.com\tnews\t12\n",
	    "categories.tsv: line 2: reputation must be one digit 1-5");
	BAD("#tlsgate-categories 1\na.com\tnewz\t1\n", "categories.tsv: line 2: unknown category");
	BAD("#tlsgate-categories 1\na.com news 1\n",
	    "categories.tsv: line 2: expected pattern<TAB>categories<TAB>reputation");
	BAD("#tlsgate-categories 1\na.com\tnews,,finance\t1\n",
	    "categories.tsv: line 2: empty category name");
	BAD("#tlsgate-categories 1\na..com\tnews\t1\n",
	    "categories.tsv: line 2: empty or over-long domain label");
	BAD("#tlsgate-categories "
	    "1\na.com\tnews,finance,health,games,vpn,dating,drugs,hate,doh\t1\n",
	    "categories.tsv: line 2: more than 8 categories");
#undef BAD
}

static void test_content_errors(void)
{
	struct tg_content_files f;
	struct tg_content *c = NULL;

	memset(&f, 0, sizeof(f));
	f.apps = span("{\"apps\":[{\"name\":\"A\",\"hosts\":[\"a.example\",\"b..example\"]}]}");
	tg_diag_init(&diag);
	CHECK_ERR(tg_content_load(&f, key, &diag, &c), TG_ERR_POLICY);
	CHECK(c == NULL);
	CHECK(has_diag(TG_DIAG_ERROR, "apps.json: apps[0].hosts[1]: invalid domain pattern "
				      "\"b..example\": empty or over-long domain label"));
	f.apps = span("{\"apps\":[");
	CHECK_ERR(tg_content_load(&f, key, &diag, &c), TG_ERR_JSON);
	memset(&f, 0, sizeof(f));
	f.manifest = span("{\"version\":\"2026.11.26\"}");
	CHECK_ERR(tg_content_load(&f, key, &diag, &c), TG_OK);
	CHECK(strcmp(tg_content_version(c), "2026.11.26") == 0);
	CHECK_INT(tg_content_app_count(c), 0);
	CHECK_INT(tg_content_pin_lookup(c, "a.example", 9), -1);
	tg_content_free(c);
}

static void test_dlp(void)
{
	static const char *luhn_ok[] = { "4111111111111111", "5500005555555559", "378282246310005",
					 "6011111111111117", "79927398713" };
	static const char *luhn_bad[] = { "4111111111111112", "1234567812345678", "", "41a1" };
	const char *body =
		"card 4111 1111 1111 1111, again 4111-1111-1111-1111; not 4111111111111112 "
		"nor 41111111111111110000, amex 378282246310005.";
	size_t i;

	for (i = 0; i < sizeof(luhn_ok) / sizeof(luhn_ok[0]); i++)
		CHECK(tg_dlp_luhn_ok((const uint8_t *)luhn_ok[i], strlen(luhn_ok[i])));
	for (i = 0; i < sizeof(luhn_bad) / sizeof(luhn_bad[0]); i++)
		CHECK(!tg_dlp_luhn_ok((const uint8_t *)luhn_bad[i], strlen(luhn_bad[i])));
	CHECK_INT(tg_dlp_count_cards((const uint8_t *)body, strlen(body), 100), 3);
	CHECK_INT(tg_dlp_count_cards((const uint8_t *)body, strlen(body), 2), 2);
	CHECK_INT(tg_dlp_count_cards((const uint8_t *)"4111 1111", 9, 10), 0);
	CHECK_INT(tg_dlp_count_keyword((const uint8_t *)"Secret SECRET secrets", 21,
				       (const uint8_t *)"secret", 6, false, 10),
		  3);
	CHECK_INT(tg_dlp_count_keyword((const uint8_t *)"Secret SECRET secrets", 21,
				       (const uint8_t *)"secret", 6, true, 10),
		  1);
	CHECK_INT(tg_dlp_count_keyword((const uint8_t *)"aaaa", 4, (const uint8_t *)"aa", 2, true,
				       10),
		  2);
	CHECK_INT(tg_dlp_count_keyword((const uint8_t *)"a", 1, (const uint8_t *)"aa", 2, true, 10),
		  0);
}

int main(void)
{
	struct tg_content_files files;

	memset(&files, 0, sizeof(files));
	files.apps = span("{\"apps\":[{\"name\":\"Dropbox\",\"hosts\":[\".dropbox.com\"]},"
			  "{\"name\":\"Box\",\"group\":\"Storage\",\"hosts\":[\".box.com\"]}]}");
	files.categories = span("#tlsgate-categories 1\n.example.com\tnews\t2\n");
	tg_diag_init(&diag);
	CHECK_ERR(tg_content_load(&files, key, &diag, &content), TG_OK);
	if (content == NULL)
		return tg_test_done();
	test_defaults_and_settings();
	test_errors();
	test_schema_key();
	test_truncation();
	test_lint();
	test_bindings_and_casb();
	test_catdb();
	test_content_errors();
	test_dlp();
	tg_content_free(content);
	return tg_test_done();
}
