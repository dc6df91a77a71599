/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_policy.c - the policy loader (and, for inputs starting with byte 0x01, the category
 * database parser) on arbitrary bytes, against a small fixed content package.
 *
 * Invariants checked (abort on violation): a load gives the same result and the same
 * diagnostics twice; failure leaves no policy and at least one error; success leaves no error,
 * settings within their documented ranges, and decisions whose action, reason and rule are
 * consistent with the policy (rule index in range, name equal to the rule's name, block only
 * with a blocking reason).
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/catdb.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/policy.h"

#include "fuzz.h"

static const uint8_t key[16] = "fuzz-policy-key!";
static struct tg_content *content;

static struct tg_span span(const char *s)
{
	struct tg_span sp = { (const uint8_t *)s, strlen(s) };

	return sp;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct tg_content_files f;
	struct tg_diag d;

	(void)argc;
	(void)argv;
	memset(&f, 0, sizeof(f));
	f.pinned = span(
		"{\"entries\":[{\"pattern\":\"*.push.apple.com\"},{\"pattern\":\"p.example\"}]}");
	f.apps = span("{\"apps\":[{\"name\":\"Dropbox\",\"hosts\":[\".dropbox.com\"]},"
		      "{\"name\":\"Box\",\"group\":\"Office365-Apps\",\"hosts\":[\".box.com\"]}]}");
	f.m365 = span("{\"endpoints\":[{\"id\":1,\"category\":\"Optimize\",\"urls\":"
		      "[\"outlook.office365.com\"],\"globs\":[\"*-files.sharepoint.com\"]}]}");
	f.doh = span("{\"entries\":[{\"hosts\":[\".dns.google\"],\"ips\":[\"8.8.8.8\"]}]}");
	f.categories =
		span("#tlsgate-categories 1\n.example.com\tnews\t2\n.bank.example\tfinance\t1\n");
	tg_diag_init(&d);
	if (tg_content_load(&f, key, &d, &content) != TG_OK)
		abort();
	return 0;
}

static void check_decision(const struct tg_policy *p, const struct tg_decision *d)
{
	if ((unsigned)d->action > TG_ACTION_BLOCK || (unsigned)d->reason >= TG_REASON__COUNT)
		abort();
	if (d->rule >= 0) {
		if (d->rule_list != TG_RULES_FILTERING && d->rule_list != TG_RULES_DECRYPTION)
			abort();
		if ((size_t)d->rule >= tg_policy_rule_count(p, d->rule_list) ||
		    d->rule_name != tg_policy_rule_name(p, d->rule_list, (size_t)d->rule))
			abort();
	} else if (d->rule_name != NULL || d->reason == TG_REASON_RULE) {
		abort();
	}
	if (d->action == TG_ACTION_BLOCK && d->reason != TG_REASON_FILTER_BLOCK &&
	    d->reason != TG_REASON_ECH_BLOCK && d->reason != TG_REASON_QUIC_BLOCK &&
	    d->reason != TG_REASON_FAIL_UNPARSABLE && d->reason != TG_REASON_FAIL_INCOMPLETE &&
	    d->reason != TG_REASON_CA_MISSING)
		abort();
	if (d->bypass_allowed && d->action != TG_ACTION_DECRYPT)
		abort();
	if (d->name_len != strlen(d->name))
		abort();
}

static void classify_some(const struct tg_policy *p, const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"www.dropbox.com",	 "a.push.apple.com",	   "x.box.com",	 "www.bank.example",
		"outlook.office365.com", "a-files.sharepoint.com", "dns.google", ""
	};
	struct tg_flow_facts f;
	struct tg_decision d;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.kind = (enum tg_flow_kind)(i % 5);
		f.family = 4;
		f.src[0] = 10;
		f.src[3] = (uint8_t)(size ? data[i % size] : 1);
		f.dst[0] = 8, f.dst[1] = 8, f.dst[2] = 8, f.dst[3] = 8;
		f.dport = 443;
		f.sni = span(names[i]);
		f.dns_name = f.sni;
		f.http_host = f.sni;
		f.ech = i & 1;
		f.hint_os_mask = (uint8_t)(size > i ? data[size - 1 - i] : 0) & 0x7f;
		f.hint_confidence = 80;
		if (tg_classify(p, content, NULL, &f, 0, &d) != TG_OK)
			abort();
		check_decision(p, &d);
	}
}

static void fuzz_catdb(const uint8_t *data, size_t size)
{
	struct tg_catdb *a = NULL, *b = NULL;
	enum tg_err e1 = tg_catdb_parse(data, size, key, NULL, &a);
	enum tg_err e2 = tg_catdb_parse(data, size, key, NULL, &b);

	if (e1 != e2 || (e1 == TG_OK) != (a != NULL) || (a == NULL) != (b == NULL))
		abort();
	if (a && tg_catdb_count(a) != tg_catdb_count(b))
		abort();
	tg_catdb_free(a);
	tg_catdb_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_diag *d1 = malloc(sizeof(*d1)), *d2 = malloc(sizeof(*d2));
	struct tg_policy *p1 = NULL, *p2 = NULL;
	enum tg_err e1, e2;
	size_t i;

	if (d1 == NULL || d2 == NULL)
		abort();
	if (size > 0 && data[0] == 0x01) {
		fuzz_catdb(data + 1, size - 1);
		goto out;
	}
	tg_diag_init(d1);
	tg_diag_init(d2);
	e1 = tg_policy_load(data, size, content, key, d1, &p1);
	e2 = tg_policy_load(data, size, content, key, d2, &p2);
	if (e1 != e2 || d1->n != d2->n || d1->errors != d2->errors || d1->warnings != d2->warnings)
		abort();
	for (i = 0; i < d1->n; i++)
		if (d1->msg[i].level != d2->msg[i].level ||
		    strcmp(d1->msg[i].text, d2->msg[i].text) != 0)
			abort();
	if (e1 != TG_OK) {
		if (p1 != NULL || d1->errors == 0)
			abort();
		goto out;
	}
	if (p1 == NULL || d1->errors != 0) {
		abort();
	} else {
		const struct tg_policy_settings *s = tg_policy_settings(p1);

		if (s->dynamic_bypass.failures < 1 || s->dynamic_bypass.failures > 100 ||
		    s->n_inspected_ports < 1 || s->n_inspected_ports > TG_CAP_PORTS ||
		    s->os_hint_min_confidence > 100)
			abort();
		classify_some(p1, data, size);
	}
out:
	tg_policy_free(p1);
	tg_policy_free(p2);
	free(d1);
	free(d2);
	return 0;
}
