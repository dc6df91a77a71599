/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_classify.c - the decision order of DESIGN.md section 3 and every rule criterion, on a
 * small in-memory content package, with the real dynamic bypass table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsgate/bypass.h"
#include "tlsgate/cidr.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/oshint.h"
#include "tlsgate/policy.h"

#include "policy_impl.h"
#include "tg_test.h"

static const uint8_t key[16] = "0123456789abcdef";

static const char pinned_json[] =
	"{\"format\":1,\"entries\":["
	"{\"pattern\":\"*.push.apple.com\",\"app\":\"Apple push\",\"reason\":\"pinned\","
	"\"source\":\"test\"},"
	"{\"pattern\":\"pinned.example\",\"app\":\"P\",\"reason\":\"r\",\"source\":\"s\"}]}";
static const char apps_json[] =
	"{\"format\":1,\"apps\":["
	"{\"name\":\"Dropbox\",\"hosts\":[\".dropbox.com\"],\"activities\":{\"upload\":[]}},"
	"{\"name\":\"Exchange Online\",\"group\":\"Office365-Apps\","
	"\"hosts\":[\"outlook.office365.com\"]},"
	"{\"name\":\"Teams\",\"group\":\"Office365-Apps\",\"hosts\":[\"*.teams.microsoft.com\"]}]}";
static const char m365_json[] =
	"{\"format\":1,\"endpoints\":["
	"{\"id\":1,\"category\":\"Optimize\",\"urls\":[\"outlook.office365.com\"],"
	"\"ips\":[\"13.107.6.152/31\"]},"
	"{\"id\":2,\"category\":\"Allow\",\"urls\":[\"smtp.office365.com\"]},"
	"{\"id\":3,\"category\":\"Default\",\"urls\":[\"r1.res.office365.com\"],"
	"\"globs\":[\"*-files.sharepoint.com\"]}]}";
static const char doh_json[] =
	"{\"format\":1,\"entries\":[{\"hosts\":[\".dns.google\"],\"ips\":[\"8.8.8.8\"]}]}";
static const char cats_tsv[] = "#tlsgate-categories 1\n"
			       ".bank.example\tfinance\t1\n"
			       ".evil.example\tmalware\t5\n"
			       ".news.example\tnews\t2\n"
			       ".risky.example\tnews\t4\n"
			       "app.example\ttechnology\t3\n";

static struct tg_content *content;

static struct tg_span span(const char *s)
{
	struct tg_span sp = { (const uint8_t *)s, strlen(s) };

	return sp;
}

static struct tg_policy *load(const char *json)
{
	struct tg_diag d;
	struct tg_policy *p = NULL;
	enum tg_err e;
	size_t i;

	tg_diag_init(&d);
	e = tg_policy_load((const uint8_t *)json, strlen(json), content, key, &d, &p);
	if (e != TG_OK) {
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "  %s\n", d.msg[i].text);
		fprintf(stderr, "policy did not load: %s\n", json);
	}
	CHECK_ERR(e, TG_OK);
	return p;
}

static void facts_tls(struct tg_flow_facts *f, const char *src, const char *sni)
{
	memset(f, 0, sizeof(*f));
	f->kind = TG_FLOW_TLS;
	f->family = 4;
	CHECK_ERR(tg_addr_parse(src, strlen(src), &f->family, f->src), TG_OK);
	f->dst[0] = 203;
	f->dst[3] = 7;
	f->dport = 443;
	f->sport = 50000;
	f->sni = span(sni);
}

/* Classify and compare action, reason and rule name (NULL: none). */
#define EXPECT(p, bp, f, act, rsn, rname)                                                        \
	do {                                                                                     \
		struct tg_decision d_;                                                           \
		CHECK_ERR(tg_classify((p), content, (bp), (f), 1000000, &d_), TG_OK);            \
		CHECK_MEM(tg_action_text(d_.action), strlen(tg_action_text(d_.action)),          \
			  tg_action_text(act));                                                  \
		CHECK_MEM(tg_reason_text(d_.reason), strlen(tg_reason_text(d_.reason)),          \
			  tg_reason_text(rsn));                                                  \
		if ((rname) == NULL)                                                             \
			CHECK(d_.rule_name == NULL);                                             \
		else                                                                             \
			CHECK(d_.rule_name &&strcmp(d_.rule_name, (rname) ? (rname) : "") == 0); \
	} while (0)

static void test_order(void)
{
	struct tg_policy *p;
	struct tg_flow_facts f;

	/* Filtering block beats the pinned list; the pinned list beats rules. */
	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\"},"
		 "\"filtering\":[{\"name\":\"f\",\"match\":{\"domains\":[\"pinned.example\"]},"
		 "\"action\":\"block\"}],"
		 "\"decryption\":[{\"name\":\"d\",\"match\":{\"sni\":[\"*.push.apple.com\"]},"
		 "\"action\":\"decrypt\"}]}");
	facts_tls(&f, "10.0.0.1", "pinned.example");
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "f");
	facts_tls(&f, "10.0.0.1", "a.push.apple.com");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_IMPLICIT_PINNED, NULL);
	facts_tls(&f, "10.0.0.1", "push.apple.com"); /* "*." does not cover the name itself */
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);

	/* implicit_bypass off: the rule decides. */
	p = load("{\"version\":1,\"settings\":{\"implicit_bypass\":false},"
		 "\"decryption\":[{\"name\":\"d\",\"match\":{\"sni\":[\"*.push.apple.com\"]},"
		 "\"action\":\"decrypt\"}]}");
	facts_tls(&f, "10.0.0.1", "a.push.apple.com");
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "d");
	tg_policy_free(p);

	/* First match; disabled rules skipped; default. */
	p = load("{\"version\":1,\"decryption\":["
		 "{\"name\":\"off\",\"enabled\":false,\"match\":{\"sni\":[\".example.org\"]},"
		 "\"action\":\"decrypt\"},"
		 "{\"name\":\"first\",\"match\":{\"sni\":[\"www.example.org\"]},"
		 "\"action\":\"no-decrypt\"},"
		 "{\"name\":\"second\",\"match\":{\"sni\":[\".example.org\"]},"
		 "\"action\":\"decrypt\"}]}");
	facts_tls(&f, "10.0.0.1", "www.example.org");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "first");
	facts_tls(&f, "10.0.0.1", "WWW.Example.ORG."); /* normalized before matching */
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "first");
	facts_tls(&f, "10.0.0.1", "mail.example.org");
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "second");
	facts_tls(&f, "10.0.0.1", "badexample.org");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);
}

static struct tg_bypass *bypass_with(const char *sni, const char *src, const char *user,
				     uint32_t ca_hosts)
{
	struct tg_bypass_cfg cfg;
	struct tg_bypass *t = NULL;
	struct tg_bypass_report rep = { false, false, true };
	struct tg_principal who;
	uint8_t fam, a[16];
	int i;

	tg_bypass_cfg_default(&cfg);
	cfg.failures = 2;
	cfg.ca_missing_hosts = ca_hosts;
	if (ca_hosts)
		cfg.ca_missing_window_s = 600, cfg.ca_missing_ttl_s = 600;
	CHECK_ERR(tg_bypass_new(&cfg, key, &t), TG_OK);
	if (user) {
		CHECK_ERR(tg_bypass_principal_user(&who, (const uint8_t *)user, strlen(user)),
			  TG_OK);
	} else {
		CHECK_ERR(tg_addr_parse(src, strlen(src), &fam, a), TG_OK);
		tg_bypass_principal_addr4(&who, a);
	}
	for (i = 0; i < 2 && sni; i++)
		tg_bypass_reject(t, &who, (const uint8_t *)sni, strlen(sni), &rep,
				 999000 + (uint64_t)i);
	return t;
}

static void test_dynamic_bypass(void)
{
	struct tg_bypass *t = bypass_with("app.example", "10.0.0.1", NULL, 0);
	struct tg_bypass *tu = bypass_with("app.example", NULL, "alice", 0);
	struct tg_policy *p;
	struct tg_flow_facts f;
	struct tg_decision d;

	p = load("{\"version\":1,\"identities\":{\"users\":[{\"name\":\"alice\","
		 "\"addresses\":[\"10.0.0.9\"]}]},"
		 "\"decryption\":[{\"name\":\"strict\",\"match\":{\"sni\":[\"app.example\"],"
		 "\"sources\":[\"10.0.5.0/24\"]},\"action\":\"decrypt\",\"bypass_pinned\":false},"
		 "{\"name\":\"d\",\"match\":{\"sni\":[\"app.example\"]},\"action\":\"decrypt\"}]}");
	/* A live entry beats the decrypt rule. */
	facts_tls(&f, "10.0.0.1", "app.example");
	EXPECT(p, t, &f, TG_ACTION_PASS, TG_REASON_DYNAMIC_BYPASS, NULL);
	/* Keyed by client: another client is decrypted, and may be bypassed later. */
	facts_tls(&f, "10.0.0.2", "app.example");
	EXPECT(p, t, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "d");
	CHECK_ERR(tg_classify(p, content, t, &f, 1000000, &d), TG_OK);
	CHECK(d.bypass_allowed);
	/* Keyed by user when known: alice's entry applies from her address. */
	facts_tls(&f, "10.0.0.9", "app.example");
	EXPECT(p, tu, &f, TG_ACTION_PASS, TG_REASON_DYNAMIC_BYPASS, NULL);
	EXPECT(p, t, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "d");
	/* An ECH outer name is never bypassed dynamically. */
	facts_tls(&f, "10.0.0.1", "app.example");
	f.ech = true;
	EXPECT(p, t, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "d");
	CHECK_ERR(tg_classify(p, content, t, &f, 1000000, &d), TG_OK);
	CHECK(!d.bypass_allowed);
	/* The entry expires with its TTL. */
	facts_tls(&f, "10.0.0.1", "app.example");
	EXPECT(p, t, &f, TG_ACTION_PASS, TG_REASON_DYNAMIC_BYPASS, NULL);
	CHECK_ERR(tg_classify(p, content, t, &f, 999001 + 86400 * 1000ull + 1, &d), TG_OK);
	CHECK_INT(d.reason, TG_REASON_RULE);
	tg_policy_free(p);

	/* bypass_pinned false: the live entry is ignored for flows that rule decides. */
	p = load("{\"version\":1,\"decryption\":[{\"name\":\"strict\",\"match\":{\"sni\":"
		 "[\"app.example\"]},\"action\":\"decrypt\",\"bypass_pinned\":false}]}");
	facts_tls(&f, "10.0.0.1", "app.example");
	EXPECT(p, t, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "strict");
	CHECK_ERR(tg_classify(p, content, t, &f, 1000000, &d), TG_OK);
	CHECK(!d.bypass_allowed);
	tg_policy_free(p);

	/* Dynamic bypass disabled in settings. */
	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\",\"dynamic_bypass\":"
		 "{\"enabled\":false}}}");
	EXPECT(p, t, &f, TG_ACTION_DECRYPT, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);

	/* Filtering still blocks a bypassed host. */
	p = load("{\"version\":1,\"filtering\":[{\"name\":\"f\",\"match\":{\"categories\":"
		 "[\"technology\"]},\"action\":\"block\"}]}");
	EXPECT(p, t, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "f");
	tg_policy_free(p);
	tg_bypass_free(t);
	tg_bypass_free(tu);
}

static void test_ca_missing(void)
{
	struct tg_bypass *t = bypass_with(NULL, "10.0.0.1", NULL, 2);
	struct tg_bypass_report rep = { false, false, true };
	const char *hosts[] = { "a.example", "b.example", "c.example" };
	struct tg_principal who;
	struct tg_policy *p;
	struct tg_flow_facts f;
	uint8_t a[4] = { 10, 0, 0, 1 };
	size_t i;

	tg_bypass_principal_addr4(&who, a);
	for (i = 0; i < 3; i++)
		tg_bypass_reject(t, &who, (const uint8_t *)hosts[i], strlen(hosts[i]), &rep,
				 999000 + i);
	CHECK(tg_bypass_ca_missing(t, &who, 1000000, NULL));
	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\"}}");
	facts_tls(&f, "10.0.0.1", "www.example.org");
	EXPECT(p, t, &f, TG_ACTION_PASS, TG_REASON_CA_MISSING, NULL);
	facts_tls(&f, "10.0.0.2", "www.example.org");
	EXPECT(p, t, &f, TG_ACTION_DECRYPT, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);
	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\",\"dynamic_bypass\":"
		 "{\"ca_missing\":{\"action\":\"block\"}}}}");
	facts_tls(&f, "10.0.0.1", "www.example.org");
	EXPECT(p, t, &f, TG_ACTION_BLOCK, TG_REASON_CA_MISSING, NULL);
	tg_policy_free(p);
	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\",\"dynamic_bypass\":"
		 "{\"ca_missing\":{\"action\":\"decrypt\"}}}}");
	EXPECT(p, t, &f, TG_ACTION_DECRYPT, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);
	/* A pass decision is not affected. */
	p = load("{\"version\":1}");
	EXPECT(p, t, &f, TG_ACTION_PASS, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);
	tg_bypass_free(t);
}

static void test_identity_criteria(void)
{
	struct tg_policy *p;
	struct tg_flow_facts f;
	struct tg_decision d;

	p = load("{\"version\":1,\"identities\":{"
		 "\"users\":[{\"name\":\"alice\",\"addresses\":[\"10.1.0.5\"]},"
		 "{\"name\":\"bob\",\"macs\":[\"02:00:00:00:00:0b\"]},"
		 "{\"name\":\"carol\",\"addresses\":[\"10.1.0.0/16\"]}],"
		 "\"groups\":[{\"name\":\"admins\",\"members\":[\"alice\"]},"
		 "{\"name\":\"lab\",\"addresses\":[\"10.1.2.0/24\"]},"
		 "{\"name\":\"kiosk\",\"macs\":[\"02:00:00:00:00:0c\"]}]},"
		 "\"decryption\":["
		 "{\"name\":\"u-alice\",\"match\":{\"users\":[\"alice\"]},\"action\":\"no-"
		 "decrypt\"},"
		 "{\"name\":\"g-kiosk\",\"match\":{\"groups\":[\"kiosk\"]},\"action\":\"no-"
		 "decrypt\"},"
		 "{\"name\":\"g-lab\",\"match\":{\"groups\":[\"lab\"]},\"action\":\"no-decrypt\"},"
		 "{\"name\":\"u-bob\",\"match\":{\"users\":[\"bob\"]},\"action\":\"no-decrypt\"},"
		 "{\"name\":\"u-carol\",\"match\":{\"users\":[\"carol\"]},\"action\":\"no-"
		 "decrypt\"},"
		 "{\"name\":\"src\",\"match\":{\"sources\":[\"10.9.0.0/"
		 "16\"]},\"action\":\"decrypt\"},"
		 "{\"name\":\"dst\",\"match\":{\"destinations\":[\"203.0.113.0/24\"]},"
		 "\"action\":\"decrypt\"}]}");
	facts_tls(&f, "10.1.0.5", "www.example.org"); /* longest prefix: alice */
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "u-alice");
	CHECK_ERR(tg_classify(p, content, NULL, &f, 0, &d), TG_OK);
	CHECK(d.user_name && strcmp(d.user_name, "alice") == 0);
	CHECK(d.groups[0] & 1); /* admins via members */
	facts_tls(&f, "10.1.0.6", "www.example.org"); /* the /16 binding: carol */
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "u-carol");
	facts_tls(&f, "10.1.2.3", "www.example.org"); /* carol, and the lab group by address */
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "g-lab");
	f.has_mac = true;
	memcpy(f.mac, "\x02\x00\x00\x00\x00\x0b", 6); /* MAC binding beats the address */
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "g-lab");
	facts_tls(&f, "192.168.0.1", "www.example.org");
	f.has_mac = true;
	memcpy(f.mac, "\x02\x00\x00\x00\x00\x0b", 6);
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "u-bob");
	memcpy(f.mac, "\x02\x00\x00\x00\x00\x0c", 6);
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "g-kiosk");
	/* An authenticated user given by the daemon wins over bindings. */
	facts_tls(&f, "10.1.0.6", "www.example.org");
	f.user = span("alice");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "u-alice");
	f.user = span("nobody");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "u-carol");
	facts_tls(&f, "10.9.1.1", "www.example.org");
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "src");
	facts_tls(&f, "10.8.1.1", "www.example.org");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_DEFAULT, NULL);
	f.dst[0] = 203, f.dst[1] = 0, f.dst[2] = 113;
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "dst");
	tg_policy_free(p);
}

static void test_content_criteria(void)
{
	struct tg_policy *p;
	struct tg_flow_facts f;
	struct tg_decision d;

	p = load("{\"version\":1,\"settings\":{\"m365\":\"off\"},"
		 "\"applications\":[{\"name\":\"Intranet\",\"hosts\":[\".corp.example\"],"
		 "\"networks\":[\"198.51.100.0/24\"]}],"
		 "\"application_groups\":[{\"name\":\"Mine\",\"apps\":[\"Intranet\"]}],"
		 "\"decryption\":["
		 "{\"name\":\"apps\",\"match\":{\"apps\":[\"Dropbox\"]},\"action\":\"decrypt\"},"
		 "{\"name\":\"cgroup\",\"match\":{\"app_groups\":[\"Office365-Apps\"]},"
		 "\"action\":\"decrypt\"},"
		 "{\"name\":\"agroup\",\"match\":{\"app_groups\":[\"Mine\"]},\"action\":"
		 "\"decrypt\"},"
		 "{\"name\":\"cat\",\"match\":{\"categories\":[\"finance\",\"news\"],"
		 "\"reputation\":{\"max\":2}},\"action\":\"no-decrypt\"},"
		 "{\"name\":\"rep\",\"match\":{\"reputation\":{\"min\":4}},\"action\":\"decrypt\"},"
		 "{\"name\":\"ja4\",\"match\":{\"ja4\":[\"t13d1516h2_8daaf6152771_e5627efa2ab1\"]},"
		 "\"action\":\"decrypt\"}]}");
	facts_tls(&f, "10.0.0.1", "www.dropbox.com");
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "apps");
	CHECK_ERR(tg_classify(p, content, NULL, &f, 0, &d), TG_OK);
	CHECK(d.app_name && strcmp(d.app_name, "Dropbox") == 0);
	facts_tls(&f, "10.0.0.1", "x.teams.microsoft.com");
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "cgroup");
	facts_tls(&f, "10.0.0.1", "wiki.corp.example");
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "agroup");
	facts_tls(&f, "10.0.0.1", ""); /* no name: the application by destination network */
	f.dst[0] = 198, f.dst[1] = 51, f.dst[2] = 100;
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "agroup");
	facts_tls(&f, "10.0.0.1", "www.bank.example");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "cat");
	CHECK_ERR(tg_classify(p, content, NULL, &f, 0, &d), TG_OK);
	CHECK_INT(d.reputation, 1);
	facts_tls(&f, "10.0.0.1", "a.risky.example"); /* news but reputation 4 */
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "rep");
	facts_tls(&f, "10.0.0.1", "unknown.example"); /* no reputation: never matches */
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_DEFAULT, NULL);
	f.ja4 = span("t13d1516h2_8daaf6152771_e5627efa2ab1");
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_RULE, "ja4");
	f.ja4 = span("t13d1516h2_8daaf6152771_e5627efa2ab2");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);
}

static void test_posture(void)
{
	struct tg_policy *p;
	struct tg_flow_facts f;
	struct tg_decision d;

	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\"},"
		 "\"endpoints\":[{\"name\":\"pc\",\"addresses\":[\"10.0.3.0/24\"],"
		 "\"os\":\"windows\",\"managed\":true},"
		 "{\"addresses\":[\"10.0.4.4\"],\"os\":\"android\"}],"
		 "\"decryption\":["
		 "{\"name\":\"mobile\",\"match\":{\"os\":[\"android\",\"ios\"]},"
		 "\"action\":\"no-decrypt\"},"
		 "{\"name\":\"unmanaged\",\"match\":{\"managed\":false},\"action\":\"no-decrypt\"}]"
		 "}");
	facts_tls(&f, "10.0.4.4", "www.example.org");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "mobile");
	facts_tls(&f, "10.0.3.3", "www.example.org");
	f.hint_os_mask = TG_OS_MASK_APPLE; /* pushed windows wins over the hint */
	f.hint_confidence = 90;
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_DEFAULT, NULL);
	CHECK_ERR(tg_classify(p, content, NULL, &f, 0, &d), TG_OK);
	CHECK_INT(d.posture.source, TG_POSTURE_PUSHED);
	CHECK_INT(d.posture.os_mask, 1u << TG_OS_WINDOWS);
	CHECK(d.posture.managed);
	facts_tls(&f, "10.0.9.9", "www.example.org"); /* hint only: apple may be ios */
	f.hint_os_mask = TG_OS_MASK_APPLE;
	f.hint_confidence = 90;
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "mobile");
	CHECK_ERR(tg_classify(p, content, NULL, &f, 0, &d), TG_OK);
	CHECK_INT(d.posture.source, TG_POSTURE_HINT);
	f.hint_confidence = 59; /* below min_confidence 60: ignored; unknown = unmanaged */
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "unmanaged");
	f.hint_os_mask = TG_OS_MASK_WINDOWS;
	f.hint_confidence = 100;
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "unmanaged");
	{
		struct tg_os_hint h;

		memset(&h, 0, sizeof(h));
		h.family = TG_OSF_LINUX; /* may be Android */
		h.confidence = 70;
		tg_flow_facts_set_hint(&f, &h);
		CHECK_INT(f.hint_os_mask, TG_OS_MASK_LINUX);
		EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "mobile");
		h.family = TG_OSF_UNKNOWN;
		tg_flow_facts_set_hint(&f, &h);
		CHECK_INT(f.hint_os_mask, 0);
	}
	tg_policy_free(p);
}

static void test_global_modes(void)
{
	struct tg_policy *p;
	struct tg_flow_facts f;

	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\",\"ech\":\"block\","
		 "\"quic\":\"block\",\"fail\":{\"unparsable_client_hello\":\"block\","
		 "\"incomplete_client_hello\":\"pass\"},"
		 "\"inspected_ports\":[443,8443]},"
		 "\"filtering\":[{\"name\":\"evil\",\"match\":{\"categories\":[\"malware\"]},"
		 "\"action\":\"block\"},"
		 "{\"name\":\"watch\",\"match\":{\"categories\":[\"news\"]},\"action\":\"alert\"}]"
		 "}");
	facts_tls(&f, "10.0.0.1", "www.example.org");
	f.ech = true;
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_ECH_BLOCK, NULL);
	f.sni = span("x.evil.example"); /* filtering first */
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "evil");
	facts_tls(&f, "10.0.0.1", "www.example.org");
	f.kind = TG_FLOW_QUIC;
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_QUIC_BLOCK, NULL);
	facts_tls(&f, "10.0.0.1", "www.example.org");
	f.dport = 8443;
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_DEFAULT, NULL);
	f.dport = 993;
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_NOT_INSPECTED, NULL);
	facts_tls(&f, "10.0.0.1", "");
	f.fail = TG_FLOW_FAIL_UNPARSABLE_CH;
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FAIL_UNPARSABLE, NULL);
	f.fail = TG_FLOW_FAIL_INCOMPLETE_CH;
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_FAIL_INCOMPLETE, NULL);
	facts_tls(&f, "10.0.0.1", "www.news.example"); /* alert does not block */
	{
		struct tg_decision d;

		CHECK_ERR(tg_classify(p, content, NULL, &f, 0, &d), TG_OK);
		CHECK_INT(d.action, TG_ACTION_DECRYPT);
		CHECK_INT(d.alert_rule, 1);
	}
	/* DNS and HTTP flows: filtering only. */
	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.kind = TG_FLOW_DNS;
	f.dns_name = span("c2.evil.example");
	f.dport = 53;
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "evil");
	f.dns_name = span("www.example.org");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_NOT_TLS, NULL);
	f.kind = TG_FLOW_HTTP;
	f.http_host = span("x.EVIL.example:8080");
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "evil");
	tg_policy_free(p);

	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\",\"ech\":\"allow\","
		 "\"quic\":\"allow\"}}");
	facts_tls(&f, "10.0.0.1", "cover.example");
	f.ech = true;
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_ECH_PASS, NULL);
	f.ech = false;
	f.upstream_excluded = true;
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_UPSTREAM_EXCLUDED, NULL);
	f.upstream_excluded = false;
	f.kind = TG_FLOW_QUIC;
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_NOT_TLS, NULL);
	tg_policy_free(p);
	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\"}}");
	facts_tls(&f, "10.0.0.1", "cover.example");
	f.ech = true; /* strip (default): decided on the outer name */
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);
}

static void test_m365(void)
{
	struct tg_policy *p;
	struct tg_flow_facts f;

	p = load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\",\"m365\":"
		 "\"microsoft\"}}");
	facts_tls(&f, "10.0.0.1", "outlook.office365.com");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_M365_BYPASS, NULL);
	facts_tls(&f, "10.0.0.1", "smtp.office365.com");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_M365_BYPASS, NULL);
	facts_tls(&f, "10.0.0.1", "r1.res.office365.com"); /* Default category: rules */
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_DEFAULT, NULL);
	facts_tls(&f, "10.0.0.1", ""); /* no name: by address */
	f.dst[0] = 13, f.dst[1] = 107, f.dst[2] = 6, f.dst[3] = 153;
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_M365_BYPASS, NULL);
	tg_policy_free(p);

	p = load("{\"version\":1,\"settings\":{\"m365\":\"inspect\"},\"decryption\":[{\"name\":"
		 "\"no-exchange\",\"match\":{\"apps\":[\"Exchange Online\"]},"
		 "\"action\":\"no-decrypt\"}]}");
	facts_tls(&f, "10.0.0.1", "abc-files.sharepoint.com"); /* glob, Default category */
	EXPECT(p, NULL, &f, TG_ACTION_DECRYPT, TG_REASON_M365_INSPECT, NULL);
	facts_tls(&f, "10.0.0.1", "a.b-files.sharepoint.com"); /* '*' never crosses a dot */
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_DEFAULT, NULL);
	facts_tls(&f, "10.0.0.1", "outlook.office365.com");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_RULE, "no-exchange");
	tg_policy_free(p);

	p = load("{\"version\":1,\"settings\":{\"m365\":\"off\"}}");
	facts_tls(&f, "10.0.0.1", "outlook.office365.com");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_DEFAULT, NULL);
	tg_policy_free(p);
}

static void test_doh_and_errors(void)
{
	struct tg_policy *p;
	struct tg_flow_facts f;
	struct tg_decision d;
	struct tg_content *other = tg_content_empty();

	p = load("{\"version\":1,\"filtering\":[{\"name\":\"doh\",\"match\":{\"apps\":[\"DoH\"]},"
		 "\"action\":\"block\"}]}");
	facts_tls(&f, "10.0.0.1", "dns.google");
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "doh");
	facts_tls(&f, "10.0.0.1", "");
	f.dst[0] = 8, f.dst[1] = 8, f.dst[2] = 8, f.dst[3] = 8;
	EXPECT(p, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "doh");
	f.kind = TG_FLOW_DNS; /* plain DNS to that resolver is not DoH */
	f.dns_name = span("www.example.org");
	EXPECT(p, NULL, &f, TG_ACTION_PASS, TG_REASON_NOT_TLS, NULL);
	/* The policy must be used with its own content package; family must be 4 or 6. */
	CHECK_ERR(tg_classify(p, other, NULL, &f, 0, &d), TG_ERR_ARG);
	CHECK_INT(d.action, TG_ACTION_PASS);
	f.family = 5;
	CHECK_ERR(tg_classify(p, content, NULL, &f, 0, &d), TG_ERR_ARG);
	tg_policy_free(p);
	tg_content_free(other);
}

/* The combined name index answers exactly what the three separate sets answer. */
/*
 * Failures are facts of the decision: filtering on the learned name and the destination comes
 * first, then each failure's own class and reason; the shipped defaults block where an honest
 * stack never goes. Names that are no valid domain name are the invalid-name failure, and
 * filtering still sees their longest valid suffix.
 */
static void test_failures(void)
{
	static const struct {
		enum tg_flow_fail why;
		enum tg_action dflt;
		enum tg_reason reason;
		const char *key;
	} fails[] = {
		{ TG_FLOW_FAIL_UNPARSABLE_CH, TG_ACTION_BLOCK, TG_REASON_FAIL_UNPARSABLE,
		  "unparsable_client_hello" },
		{ TG_FLOW_FAIL_INCOMPLETE_CH, TG_ACTION_BLOCK, TG_REASON_FAIL_INCOMPLETE,
		  "incomplete_client_hello" },
		{ TG_FLOW_FAIL_NON_TLS, TG_ACTION_PASS, TG_REASON_FAIL_NON_TLS, "non_tls" },
		{ TG_FLOW_FAIL_REASM_CONFLICT, TG_ACTION_BLOCK, TG_REASON_FAIL_CONFLICT,
		  "reassembly_conflict" },
		{ TG_FLOW_FAIL_REASM_WINDOW, TG_ACTION_BLOCK, TG_REASON_FAIL_WINDOW,
		  "reassembly_window" },
		{ TG_FLOW_FAIL_MALFORMED, TG_ACTION_BLOCK, TG_REASON_FAIL_MALFORMED,
		  "malformed_packet" },
		{ TG_FLOW_FAIL_TFO, TG_ACTION_BLOCK, TG_REASON_FAIL_TFO, "tcp_fast_open" },
		{ TG_FLOW_FAIL_MIDSTREAM, TG_ACTION_PASS, TG_REASON_FAIL_MIDSTREAM, "midstream" },
		{ TG_FLOW_FAIL_OVERLOAD, TG_ACTION_PASS, TG_REASON_FAIL_OVERLOAD, "queue_full" },
		{ TG_FLOW_FAIL_ADOPTION, TG_ACTION_PASS, TG_REASON_FAIL_ADOPTION,
		  "adoption_failure" },
		{ TG_FLOW_FAIL_INVALID_NAME, TG_ACTION_BLOCK, TG_REASON_FAIL_INVALID_NAME,
		  "invalid_name" },
		{ TG_FLOW_FAIL_UNPARSABLE_DNS, TG_ACTION_BLOCK, TG_REASON_FAIL_UNPARSABLE_DNS,
		  "unparsable_dns" },
		{ TG_FLOW_FAIL_CERT_MINT, TG_ACTION_BLOCK, TG_REASON_FAIL_CERT_MINT,
		  "cert_mint_failure" },
	};
	struct tg_policy *dflt =
		load("{\"version\":1,\"settings\":{\"default_action\":\"decrypt\"},"
		     "\"filtering\":[{\"name\":\"evil\",\"match\":{\"categories\":"
		     "[\"malware\"]},\"action\":\"block\"},{\"name\":\"net\","
		     "\"match\":{\"destinations\":[\"192.0.2.0/24\"]},"
		     "\"action\":\"block\"}]}");
	struct tg_flow_facts f;
	char json[1024];
	size_t i;

	CHECK(TG_FLOW_FAIL__COUNT == sizeof(fails) / sizeof(fails[0]) + 1);
	for (i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
		struct tg_policy *flip;

		facts_tls(&f, "10.0.0.1", "");
		f.fail = fails[i].why;
		EXPECT(dflt, NULL, &f, fails[i].dflt, fails[i].reason, NULL);
		/* The class is the one named: flipping it flips the outcome. */
		snprintf(json, sizeof(json),
			 "{\"version\":1,\"settings\":{\"fail\":{\"%s\":\"%s\"}}}", fails[i].key,
			 fails[i].dflt == TG_ACTION_BLOCK ? "pass" : "block");
		flip = load(json);
		EXPECT(flip, NULL, &f,
		       fails[i].dflt == TG_ACTION_BLOCK ? TG_ACTION_PASS : TG_ACTION_BLOCK,
		       fails[i].reason, NULL);
		tg_policy_free(flip);
		/* Filtering first: on the name learned for the destination, and on the address. */
		f.dns_name = span("c2.evil.example");
		EXPECT(dflt, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "evil");
		facts_tls(&f, "10.0.0.1", "");
		f.fail = fails[i].why;
		CHECK_ERR(tg_addr_parse("192.0.2.7", 9, &f.family, f.dst), TG_OK);
		EXPECT(dflt, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "net");
	}
	/* Names that fail normalization: never a silent empty name. */
	facts_tls(&f, "10.0.0.1", "www.example.org:443");
	EXPECT(dflt, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FAIL_INVALID_NAME, NULL);
	facts_tls(&f, "10.0.0.1", "x.evil.example:443");
	EXPECT(dflt, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "evil");
	facts_tls(&f, "10.0.0.1", "x-.evil.example");
	EXPECT(dflt, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FILTER_BLOCK, "evil");
	facts_tls(&f, "10.0.0.1", "bad name.example.org");
	EXPECT(dflt, NULL, &f, TG_ACTION_BLOCK, TG_REASON_FAIL_INVALID_NAME, NULL);
	/* An IP literal as Host is no name and no failure. */
	memset(&f, 0, sizeof(f));
	f.family = 4;
	f.kind = TG_FLOW_HTTP;
	f.dport = 80;
	f.http_host = span("[2001:db8::1]:8080");
	EXPECT(dflt, NULL, &f, TG_ACTION_PASS, TG_REASON_NOT_TLS, NULL);
	f.http_host = span("198.51.100.1");
	EXPECT(dflt, NULL, &f, TG_ACTION_PASS, TG_REASON_NOT_TLS, NULL);
	f.http_host = span("www.example.org:8080");
	EXPECT(dflt, NULL, &f, TG_ACTION_PASS, TG_REASON_NOT_TLS, NULL);
	/* The names of the failures read back. */
	for (i = 1; i < TG_FLOW_FAIL__COUNT; i++) {
		const char *t = tg_flow_fail_text((enum tg_flow_fail)i);

		CHECK_INT(tg_flow_fail_parse(t, strlen(t)), (int)i);
	}
	CHECK_INT(tg_flow_fail_parse("none", 4), -1);
	tg_policy_free(dflt);
}

static void test_name_index(void)
{
	static const char *const names[] = {
		"push.apple.com",
		"a.push.apple.com",
		"b.a.push.apple.com",
		"pinned.example",
		"x.pinned.example",
		"dropbox.com",
		"www.dropbox.com",
		"a.b.dropbox.com",
		"outlook.office365.com",
		"x.outlook.office365.com",
		"teams.microsoft.com",
		"a.teams.microsoft.com",
		"smtp.office365.com",
		"r1.res.office365.com",
		"dns.google",
		"x.dns.google",
		"_.dns.google",
		"example.org",
		"com",
		"apple.com",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];
		size_t len = strlen(n);
		struct content_rec r;
		uint32_t v;
		int32_t app = -1, m365 = -1;

		content_names_lookup(content, n, len, &r);
		if (tg_dset_lookup(content->app_hosts, n, len, &v, NULL, NULL))
			app = (int32_t)v;
		if (tg_dset_lookup(content->m365_urls, n, len, &v, NULL, NULL))
			m365 = (int32_t)v;
		CHECK_INT(r.pin, tg_content_pin_lookup(content, n, len));
		CHECK_INT(r.app, app);
		CHECK_INT(r.m365, m365);
	}
}

int main(void)
{
	struct tg_content_files files;
	struct tg_diag d;

	memset(&files, 0, sizeof(files));
	files.pinned = span(pinned_json);
	files.apps = span(apps_json);
	files.m365 = span(m365_json);
	files.doh = span(doh_json);
	files.categories = span(cats_tsv);
	tg_diag_init(&d);
	CHECK_ERR(tg_content_load(&files, key, &d, &content), TG_OK);
	if (content == NULL)
		return tg_test_done();
	test_order();
	test_dynamic_bypass();
	test_ca_missing();
	test_identity_criteria();
	test_content_criteria();
	test_posture();
	test_global_modes();
	test_m365();
	test_doh_and_errors();
	test_name_index();
	test_failures();
	tg_content_free(content);
	return tg_test_done();
}
