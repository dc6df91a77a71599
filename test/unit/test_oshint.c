/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_oshint.c - the passive OS hint on real SYNs. Fields were extracted with tshark
 * (ip.ttl / ipv6.hlim, ip.flags.df, ip.len / ipv6.plen, tcp.window_size_value,
 * tcp.options.mss_val, tcp.options.wscale.shift, tcp.option_kind) from the shared JA4 test
 * captures and from SYNs of this Linux build machine captured on the loopback interface
 * (curl to a local listener); each case names its capture.
 */
#include <string.h>

#include "tlsgate/oshint.h"
#include "tg_test.h"

struct syn_case {
	const char *capture;
	uint8_t ipv, ttl, df;
	uint16_t ip_len, window, mss;
	int wscale; /* -1: absent */
	const char *kinds;
	enum tg_os_family want;
	uint8_t min_conf, ittl;
};

static struct tg_oshint_syn syn_of(const struct syn_case *c)
{
	struct tg_oshint_syn s;
	const char *p = c->kinds;

	memset(&s, 0, sizeof(s));
	s.ip_version = c->ipv;
	s.ttl = c->ttl;
	s.df = c->df;
	s.ip_len = c->ip_len;
	s.window = c->window;
	s.has_mss = c->mss != 0;
	s.mss = c->mss;
	s.has_wscale = c->wscale >= 0;
	s.wscale = (uint8_t)(c->wscale >= 0 ? c->wscale : 0);
	while (*p && s.nopts < TG_CAP_TCP_OPT_KINDS) {
		uint8_t k = 0;

		while (*p >= '0' && *p <= '9')
			k = (uint8_t)(k * 10 + (uint8_t)(*p++ - '0'));
		s.opts[s.nopts++] = k;
		s.sack_perm |= k == 4;
		s.has_ts |= k == 8;
		if (*p == ',')
			p++;
	}
	return s;
}

static const struct syn_case cases[] = {
	/* Windows 10/11: browsers-x509.pcapng frame 1, latest.pcapng frame 7, tls3.pcapng. */
	{ "browsers-x509.pcapng#1", 4, 128, 1, 52, 64240, 1460, 8, "2,1,3,1,1,4", TG_OSF_WINDOWS,
	  90, 128 },
	{ "latest.pcapng#7", 4, 128, 1, 52, 64240, 1460, 8, "2,1,3,1,1,4", TG_OSF_WINDOWS, 90,
	  128 },
	/* Windows 7: window 8192 (CVE-2018-6794.pcap frame 1). */
	{ "CVE-2018-6794.pcap#1", 4, 128, 1, 52, 8192, 1460, 8, "2,1,3,1,1,4", TG_OSF_WINDOWS, 90,
	  128 },
	/* macOS: macos_tcp_flags.pcap frame 1, badcurveball.pcap frame 1. */
	{ "macos_tcp_flags.pcap#1", 4, 64, 1, 64, 65535, 1460, 6, "2,1,3,1,1,8,4,0,0", TG_OSF_APPLE,
	  90, 64 },
	{ "badcurveball.pcap#1", 4, 64, 1, 64, 65535, 1386, 6, "2,1,3,1,1,8,4,0,0", TG_OSF_APPLE,
	  90, 64 },
	/* Apple over IPv6: tls-alpn-h2.pcap frame 1, chrome-cloudflare-quic-with-secrets #1. */
	{ "tls-alpn-h2.pcap#1", 6, 64, 0, 44, 65535, 1346, 6, "2,1,3,1,1,8,4,0,0", TG_OSF_APPLE, 90,
	  64 },
	{ "chrome-cloudflare-quic-with-secrets.pcapng#1", 6, 64, 0, 44, 65535, 1440, 6,
	  "2,1,3,1,1,8,4,0,0", TG_OSF_APPLE, 90, 64 },
	/* macOS loopback (MSS 16344): http1-with-cookies.pcapng frame 1. */
	{ "http1-with-cookies.pcapng#1", 4, 64, 1, 64, 65535, 16344, 6, "2,1,3,1,1,8,4,0,0",
	  TG_OSF_APPLE, 90, 64 },
	/* This build machine (Debian 12, Linux 6.x), curl over loopback, IPv4 and IPv6. */
	{ "lo-capture ipv4", 4, 64, 1, 60, 65495, 65495, 10, "2,4,8,1,3", TG_OSF_LINUX, 90, 64 },
	{ "lo-capture ipv6", 6, 64, 0, 40, 65476, 65476, 10, "2,4,8,1,3", TG_OSF_LINUX, 90, 64 },
	/* Linux with timestamps off: https-connect.pcap frame 1 (window 20 x MSS). */
	{ "https-connect.pcap#1", 4, 64, 1, 52, 29200, 1460, 7, "2,1,1,4,1,3", TG_OSF_LINUX, 80,
	  64 },
	/* Old Linux (window 4 x MSS, scale 0), inner packet of gre-sample.pcap frame 11. */
	{ "gre-sample.pcap#11", 4, 64, 1, 60, 5744, 1436, 0, "2,4,8,1,3", TG_OSF_LINUX, 80, 64 },
	/* Not one of the three (MSS,NOP,WS,NOP,NOP,TS, window 8192): v6.pcap frame 16. */
	{ "v6.pcap#16", 6, 64, 0, 40, 8192, 1440, 0, "2,1,3,1,1,8", TG_OSF_UNKNOWN, 0, 64 },
};

static void test_real_syns(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct syn_case *c = &cases[i];
		struct tg_oshint_syn s = syn_of(c);
		struct tg_os_hint h;

		tg_oshint_guess(&s, &h);
		if (h.family != c->want || h.confidence < c->min_conf)
			fprintf(stderr, "%s: got %s/%u, want %s/>=%u\n", c->capture,
				tg_oshint_family_name(h.family), h.confidence,
				tg_oshint_family_name(c->want), c->min_conf);
		CHECK_INT(h.family, c->want);
		CHECK(h.confidence >= c->min_conf);
		CHECK(h.confidence <= 100);
		CHECK_INT(h.initial_ttl, c->ittl);
		CHECK_INT(h.hops, 0);
		if (c->want == TG_OSF_UNKNOWN)
			CHECK_INT(h.confidence, 0);
	}
}

/* The same SYNs after hops, TTL rewriting, a middlebox, odd input. */
static void test_variations(void)
{
	struct tg_oshint_syn win = syn_of(&cases[0]), mac = syn_of(&cases[3]),
			     lin = syn_of(&cases[8]), s;
	struct tg_os_hint h;

	/* Three routers away: TTL 125 is still initial 128. */
	s = win;
	s.ttl = 125;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.family, TG_OSF_WINDOWS);
	CHECK_INT(h.initial_ttl, 128);
	CHECK_INT(h.hops, 3);
	/* A Windows layout with TTL 64 (a hotspot rewrote it): still Windows, less sure. */
	s = win;
	s.ttl = 64;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.family, TG_OSF_WINDOWS);
	CHECK(h.confidence < 90 && h.confidence >= 50);
	/* A Mac layout without the EOL padding is not Apple's stack as sent. */
	s = mac;
	s.nopts = 7;
	tg_oshint_guess(&s, &h);
	CHECK(h.family != TG_OSF_APPLE || h.confidence < 60);
	/* EOL padding after a Linux layout is foreign: not confidently Linux. */
	s = lin;
	s.opts[s.nopts++] = 0;
	tg_oshint_guess(&s, &h);
	CHECK(h.family != TG_OSF_LINUX || h.confidence < 60);
	/* No DF on IPv4 lowers the confidence. */
	s = lin;
	s.df = false;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.family, TG_OSF_LINUX);
	CHECK(h.confidence < 100);
	/* TTL 64 with nothing else (no options): unknown. */
	s = lin;
	s.nopts = 0;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.family, TG_OSF_UNKNOWN);
	CHECK_INT(h.confidence, 0);
	CHECK_INT(h.initial_ttl, 64);
	/* A scanner's bare MSS SYN. */
	memset(&s, 0, sizeof(s));
	s.ip_version = 4;
	s.ttl = 52;
	s.window = 1024;
	s.has_mss = true;
	s.mss = 1460;
	s.opts[0] = 2;
	s.nopts = 1;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.family, TG_OSF_UNKNOWN);
	/* Network gear: initial 255. */
	s.ttl = 250;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.initial_ttl, 255);
	CHECK_INT(h.hops, 5);
	s.ttl = 0;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.initial_ttl, 32);
	/* Unknown IP version. */
	s = win;
	s.ip_version = 5;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.family, TG_OSF_UNKNOWN);
	/* nopts beyond the cap is clamped, not read past the array. */
	s = win;
	s.nopts = 255;
	tg_oshint_guess(&s, &h);
	CHECK_INT(h.family != TG_OSF_WINDOWS || h.confidence < 90, 1);
	/* Unknown option kinds break the layout. */
	s = lin;
	s.opts[1] = 30;
	tg_oshint_guess(&s, &h);
	CHECK(h.family != TG_OSF_LINUX || h.confidence < 60);
}

static void test_names(void)
{
	CHECK(strcmp(tg_oshint_family_name(TG_OSF_WINDOWS), "windows") == 0);
	CHECK(strcmp(tg_oshint_family_name(TG_OSF_APPLE), "apple") == 0);
	CHECK(strcmp(tg_oshint_family_name(TG_OSF_LINUX), "linux") == 0);
	CHECK(strcmp(tg_oshint_family_name(TG_OSF_UNKNOWN), "unknown") == 0);
	CHECK(strcmp(tg_oshint_family_name(TG_OSF__COUNT), "unknown") == 0);
}

int main(void)
{
	test_real_syns();
	test_variations();
	test_names();
	return tg_test_done();
}
