/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_datapath.c - daemon/datapath.c: tlsgate-setup's state file (every key required, bad
 * values refused with the line, the marks checked as the setup checks them) and the policy's
 * ports against what is queued (any difference refused, naming the setting and the queue).
 */
#include <stdio.h>
#include <string.h>

#include "datapath.h"
#include "tg_test.h"

static const char good[] = "# written by tlsgate-setup up\n"
			   "TLSGATE_LAN=lan0\n"
			   "TLSGATE_QUEUE_NUM=5\n"
			   "TLSGATE_QUEUES=2\n"
			   "TLSGATE_PORTS=443,8443\n"
			   "TLSGATE_HTTP_PORTS=80\n"
			   "TLSGATE_DNS_PORTS=53\n"
			   "TLSGATE_DOT_PORTS=853\n"
			   "TLSGATE_QUIC_PORTS=443,8443\n"
			   "TG_MARK_DECISION_MASK=0x300\n"
			   "TG_MARK_PASS=0x100\n"
			   "TG_MARK_BLOCK=0x200\n"
			   "TG_MARK_ADOPT=0x300\n"
			   "TG_MARK_DROP=0x400\n"
			   "TG_MARK_INSPECT=0x800\n"
			   "TG_MARK_LOCAL=0x1000\n"
			   "TG_MARK_RST=0x2000\n"
			   "TG_MARK_STREAM=0x4000\n"
			   "TG_ROUTE_TABLE=0x5a3\n"
			   "TG_RULE_PREF=1443\n";

/* @good with line @key's value replaced by @val (NULL: the line removed). */
static int parse_with(const char *key, const char *val, struct datapath *dp, char *err, size_t len)
{
	char buf[2048], *at;
	size_t klen = strlen(key);
	const char *line = good;
	size_t n = 0;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t ll = (size_t)(nl - line) + 1;

		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			if (val != NULL)
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s=%s\n", key,
						      val);
		} else {
			memcpy(buf + n, line, ll);
			n += ll;
		}
		line += ll;
	}
	at = buf;
	memset(dp, 0, sizeof(*dp));
	return datapath_parse(at, n, dp, err, len);
}

static void test_parse(void)
{
	struct datapath dp;
	char err[256] = "";

	memset(&dp, 0, sizeof(dp));
	CHECK_INT(datapath_parse(good, strlen(good), &dp, err, sizeof(err)), 0);
	CHECK_INT(dp.queue_num, 5);
	CHECK_INT(dp.queues, 2);
	/* TLS holds TLSGATE_PORTS and the DoT ports. */
	CHECK_INT(dp.ports[DP_TLS].n, 3);
	CHECK_INT(dp.ports[DP_TLS].p[2], 853);
	CHECK_INT(dp.ports[DP_QUIC].n, 2);
	CHECK_INT(dp.ports[DP_QUIC].p[1], 8443);
	CHECK_INT(dp.marks.pass, 0x100);
	CHECK_INT(dp.marks.stream, 0x4000);
	CHECK_INT(dp.marks.route_table, 1443);
	CHECK_INT(dp.marks.rule_pref, 1443);
	/* A port list may be none; duplicates are merged. */
	CHECK_INT(parse_with("TLSGATE_QUIC_PORTS", "none", &dp, err, sizeof(err)), 0);
	CHECK_INT(dp.ports[DP_QUIC].n, 0);
	CHECK_INT(parse_with("TLSGATE_DOT_PORTS", "443", &dp, err, sizeof(err)), 0);
	CHECK_INT(dp.ports[DP_TLS].n, 2);
}

static void refused(const char *key, const char *val, const char *want)
{
	struct datapath dp;
	char err[256] = "";

	CHECK_INT(parse_with(key, val, &dp, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "%s=%s: \"%s\" lacks \"%s\"\n", key, val ? val : "(gone)", err,
			want);
		CHECK(0);
	}
}

static void test_refused(void)
{
	struct datapath dp;
	char err[256];
	static const char unknown[] = "TLSGATE_LAN=x\nTG_MARK_PURPLE=1\n";

	refused("TLSGATE_QUEUES", NULL, "TLSGATE_QUEUES is missing");
	refused("TG_MARK_STREAM", NULL, "TG_MARK_STREAM is missing");
	refused("TLSGATE_QUEUES", "0", "line 4: expected a queue count");
	refused("TLSGATE_QUEUE_NUM", "65536", "line 3: expected a queue number");
	refused("TLSGATE_QUEUE_NUM", "65535", "past queue 65535");
	refused("TLSGATE_PORTS", "443,", "line 5: expected ports");
	refused("TLSGATE_PORTS", "0", "expected ports");
	refused("TLSGATE_PORTS", "65536", "expected ports");
	refused("TLSGATE_PORTS", "44x", "expected ports");
	refused("TLSGATE_PORTS", "", "expected ports");
	refused("TG_MARK_PASS", "0x1ffffffff", "expected a 32-bit number");
	refused("TG_MARK_PASS", "0", "non-zero and inside the decision mask");
	refused("TG_MARK_PASS", "0x10000", "non-zero and inside the decision mask");
	refused("TG_MARK_BLOCK", "0x100", "must be different");
	refused("TG_MARK_DROP", "0x100", "overlaps");
	refused("TG_MARK_RST", "0x400", "overlaps");
	refused("TG_MARK_DECISION_MASK", "0", "decision mask is 0");
	memset(&dp, 0, sizeof(dp));
	CHECK_INT(datapath_parse(unknown, strlen(unknown), &dp, err, sizeof(err)), -1);
	CHECK(strstr(err, "line 2: unknown key") != NULL);
	/* A refused file changes nothing. */
	dp.queues = 7;
	CHECK_INT(datapath_parse("TLSGATE_QUEUES=3\n", 17, &dp, err, sizeof(err)), -1);
	CHECK_INT(dp.queues, 7);
	/* A key twice. */
	{
		char twice[2048];
		int n = snprintf(twice, sizeof(twice), "%sTLSGATE_QUEUES=2\n", good);

		CHECK_INT(datapath_parse(twice, (size_t)n, &dp, err, sizeof(err)), -1);
		CHECK(strstr(err, "given twice") != NULL);
	}
}

static void test_policy(void)
{
	struct tg_policy_settings s;
	struct datapath dp;
	char err[512] = "";

	memset(&dp, 0, sizeof(dp));
	CHECK_INT(datapath_parse(good, strlen(good), &dp, err, sizeof(err)), 0);
	memset(&s, 0, sizeof(s));
	s.inspected_ports[0] = 853;
	s.inspected_ports[1] = 443;
	s.inspected_ports[2] = 8443;
	s.n_inspected_ports = 3;
	s.http_ports[0] = 80;
	s.n_http_ports = 1;
	s.dns_ports[0] = 53;
	s.n_dns_ports = 1;
	s.quic_ports[0] = 8443;
	s.quic_ports[1] = 443;
	s.n_quic_ports = 2;
	/* The same sets, in another order. */
	CHECK_INT(datapath_check_policy(&dp, &s, err, sizeof(err)), 0);
	/* QUIC on 8443 queued but the policy does not know it: the defect of old. */
	s.n_quic_ports = 1;
	s.quic_ports[0] = 443;
	CHECK_INT(datapath_check_policy(&dp, &s, err, sizeof(err)), -1);
	CHECK(strstr(err, "settings.quic_ports is 443 but tlsgate-setup queues UDP 443,8443 as "
			  "QUIC") != NULL);
	s.quic_ports[1] = 8443;
	s.n_quic_ports = 2;
	/* A port the policy names that nothing queues. */
	s.http_ports[1] = 8080;
	s.n_http_ports = 2;
	CHECK_INT(datapath_check_policy(&dp, &s, err, sizeof(err)), -1);
	CHECK(strstr(err,
		     "settings.http_ports is 80,8080 but tlsgate-setup queues TCP 80 as HTTP") !=
	      NULL);
	s.n_http_ports = 1;
	s.n_dns_ports = 0;
	CHECK_INT(datapath_check_policy(&dp, &s, err, sizeof(err)), -1);
	CHECK(strstr(err, "settings.dns_ports is none") != NULL);
}

int main(void)
{
	test_parse();
	test_refused();
	test_policy();
	return tg_test_done();
}
