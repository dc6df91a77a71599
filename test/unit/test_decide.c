/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_decide.c - daemon/decide.c through its seam: a decider loaded from files (the end-to-end
 * policy test/e2e/policy.json and the real content package policy/content), asked about
 * synthetic facts: a ClientHello, an HTTP Host, a DNS name, an address, QUIC, a failed flow.
 * Reload: a broken policy is refused with a reason and the running one keeps deciding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "decide.h"
#include "tg_test.h"
#include "tls_ch_util.h"

static char policy[4096], content[4096];
static const uint8_t client[4] = { 10, 0, 0, 2 }, server[4] = { 203, 0, 113, 5 };
static const uint8_t netblock[4] = { 198, 51, 100, 77 };

static struct dec_flow flow4(const uint8_t *dst, uint16_t dport)
{
	struct dec_flow fl;

	memset(&fl, 0, sizeof(fl));
	fl.family = 4;
	fl.src = client;
	fl.dst = dst;
	fl.sport = 40000;
	fl.dport = dport;
	return fl;
}

#define CHECK_DEC(res, act, why)                                                                \
	do {                                                                                    \
		CHECK_MEM(dec_action_name((res).action), strlen(dec_action_name((res).action)), \
			  act);                                                                 \
		CHECK_MEM((res).reason, strlen((res).reason), why);                             \
	} while (0)

static void test_decisions(const struct decider *d)
{
	static struct tb cap;
	static uint8_t scratch[TG_CAP_CH_BYTES];
	struct dec_flow fl = flow4(server, 443);
	struct dec_result r;
	struct tg_ch ch;

	/* TLS: a real ClientHello (SNI chromium.example) passes by the default. */
	if (tb_load_checked(&cap, "chromium.bin")) {
		CHECK_ERR(tg_tls_ch_parse(&ch, cap.b, cap.n, scratch), TG_OK);
		decider_tls(d, &fl, &ch, 1000, &r);
		CHECK(r.action == DEC_PASS);
		CHECK_INT(r.rule, -1);
	}

	/* HTTP: the blocked Host by its rule, another passes. */
	fl = flow4(server, 80);
	decider_http(d, &fl, "www.blocked.test", 16, "/x", 2, &r);
	CHECK(r.action == DEC_BLOCK);
	CHECK_MEM(r.rule_name, strlen(r.rule_name), "block-test");
	decider_http(d, &fl, "pass.test", 9, "/", 1, &r);
	CHECK(r.action == DEC_PASS);

	/* DNS: blocked name answered NXDOMAIN (no sinkhole address), another passes. */
	fl = flow4(server, 53);
	decider_dns(d, &fl, "www.blocked.test", 16, 1, &r);
	CHECK(r.action == DEC_BLOCK);
	CHECK_INT(r.sink_family, 0);
	decider_dns(d, &fl, "pass.test", 9, 1, &r);
	CHECK(r.action == DEC_PASS);

	/* IP filtering on the destination, and QUIC blocked by the settings. */
	fl = flow4(netblock, 443);
	decider_ip(d, &fl, &r);
	CHECK(r.action == DEC_BLOCK);
	CHECK_MEM(r.rule_name, strlen(r.rule_name), "block-net");
	fl = flow4(server, 443);
	decider_ip(d, &fl, &r);
	CHECK(r.action == DEC_PASS);
	decider_quic(d, &fl, &r);
	CHECK(r.action == DEC_BLOCK);

	/* A failed flow: its fail class (incomplete ClientHello: block by default) ... */
	decider_failed(d, &fl, TG_FLOW_TLS, TG_FLOW_FAIL_INCOMPLETE_CH, 1000, &r);
	CHECK_DEC(r, "block", "fail-incomplete");
	/* ... never decrypt, even when the learned name is one the policy decrypts. */
	fl.dns_name = "www.decrypt.test";
	fl.dns_name_len = strlen(fl.dns_name);
	decider_failed(d, &fl, TG_FLOW_TLS, TG_FLOW_FAIL_ADOPTION, 1000, &r);
	CHECK(r.action != DEC_DECRYPT);
	/* ... while filtering on the learned name comes first. */
	fl.dns_name = "www.blocked.test";
	fl.dns_name_len = strlen(fl.dns_name);
	decider_failed(d, &fl, TG_FLOW_TLS, TG_FLOW_FAIL_ADOPTION, 1000, &r);
	CHECK(r.action == DEC_BLOCK);
	CHECK_MEM(r.rule_name, strlen(r.rule_name), "block-test");

	CHECK(decider_ech_strip(d));
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

int main(void)
{
	const char *src = getenv("TG_SRC");
	char dir[] = "/tmp/tg-decide-XXXXXX", bad[4200], err[512];
	struct decider *d;
	struct dec_result r;
	struct dec_flow fl = flow4(server, 80);

	snprintf(policy, sizeof(policy), "%s/test/e2e/policy.json", src ? src : ".");
	snprintf(content, sizeof(content), "%s/policy/content", src ? src : ".");
	err[0] = '\0';
	d = decider_load(policy, content, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "decider_load: %s\n", err);
		CHECK(d != NULL);
		return tg_test_done();
	}
	test_decisions(d);

	/* A policy that does not load: NULL and a reason, on load and on reload. */
	if (mkdtemp(dir) == NULL) {
		CHECK(!"mkdtemp");
		decider_free(d);
		return tg_test_done();
	}
	snprintf(bad, sizeof(bad), "%s/policy.json", dir);
	CHECK_INT(write_file(bad, "{\"version\": 1, \"filtering\": [{\"name\": \"x\"}]"), 0);
	err[0] = '\0';
	CHECK(decider_load(bad, content, err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	err[0] = '\0';
	CHECK_INT(decider_reload(d, bad, content, err, sizeof(err)), -1);
	CHECK(err[0] != '\0');
	/* The running policy still decides. */
	decider_http(d, &fl, "www.blocked.test", 16, "/", 1, &r);
	CHECK(r.action == DEC_BLOCK);
	/* A good reload is taken and decides the same; the retired one is reclaimed. */
	CHECK_INT(decider_reload(d, policy, content, err, sizeof(err)), 0);
	decider_reclaim(d);
	test_decisions(d);
	unlink(bad);
	rmdir(dir);
	decider_free(d);
	return tg_test_done();
}
