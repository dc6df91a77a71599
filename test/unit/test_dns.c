/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_dns.c - DNS message parser: real messages from the shared captures, hand-built names
 * (compression loops, forward and out-of-range pointers, label and name limits, characters),
 * lying counts and lengths, every truncation point, EDNS OPT, RFC 9460 Appendix D SVCB vectors
 * and failure cases, the ECH parameter of a real HTTPS answer, TCP framing.
 */
#include <stdlib.h>

#include "tlsgate/dns.h"
#include "tg_test.h"

/* ---- message builder ---- */

struct mb {
	uint8_t b[70000];
	size_t n;
};

static void mb_raw(struct mb *m, const void *p, size_t n)
{
	if (m->n + n > sizeof(m->b))
		abort();
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

#define MB_LIT(m, lit) mb_raw((m), (lit), sizeof(lit) - 1)

static void mb_u8(struct mb *m, unsigned v)
{
	uint8_t b = (uint8_t)v;

	mb_raw(m, &b, 1);
}

static void mb_u16(struct mb *m, unsigned v)
{
	mb_u8(m, v >> 8);
	mb_u8(m, v);
}

static void mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, v >> 16);
	mb_u16(m, v & 0xffff);
}

static void mb_header(struct mb *m, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	mb_u16(m, 0x1234);
	mb_u16(m, 0x8180);
	mb_u16(m, qd);
	mb_u16(m, an);
	mb_u16(m, ns);
	mb_u16(m, ar);
}

/* RR fields after the owner name; rdata follows. */
static void mb_rr(struct mb *m, unsigned type, unsigned class, uint32_t ttl, unsigned rdlen)
{
	mb_u16(m, type);
	mb_u16(m, class);
	mb_u32(m, ttl);
	mb_u16(m, rdlen);
}

static size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (hex[0] && hex[1]) {
		char t[3] = { hex[0], hex[1], 0 };

		if (n == cap)
			abort();
		out[n++] = (uint8_t)strtoul(t, NULL, 16);
		hex += 2;
	}
	return n;
}

static struct tg_dns_msg msg; /* 52 KB: not on the stack */

/* Every proper prefix of a valid message is TRUNCATED; one byte more is TRAILING. */
static void check_cuts(const uint8_t *b, size_t n)
{
	static uint8_t copy[70000];
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		/* A heap copy of exactly i bytes, so ASan sees any read past the cut. */
		uint8_t *p = malloc(i ? i : 1);

		memcpy(p, b, i);
		if (tg_dns_parse(&msg, p, i) != TG_ERR_TRUNCATED) {
			fprintf(stderr, "cut at %zu/%zu: %s\n", i, n,
				tg_err_name(tg_dns_parse(&msg, p, i)));
			bad++;
		}
		free(p);
	}
	CHECK_INT(bad, 0);
	memcpy(copy, b, n);
	copy[n] = 0;
	CHECK_ERR(tg_dns_parse(&msg, copy, n + 1), TG_ERR_TRAILING);
}

/* ---- real messages (shared captures, UDP payloads) ---- */

/* tls3.pcapng frame 134: rsms.me HTTPS 1 . alpn=h3,h2 ipv4hint=.. ech=.. ipv6hint=.. */
static const char rsms_https[] =
	"75ac818000010001000000000472736d73026d650000410001c00c004100010000009d008800010000010006"
	"026833026832000400086815eaea6815eaeb000500470045fe0d00415200200020d1abbc2f77ae5e09e5ae7e"
	"dc2f91227fd8625beb416750c1310508abdcacc76d0004000100010012636c6f7564666c6172652d656368"
	"2e636f6d0000000600202606470030380000000000006815eaea2606470030380000000000006815eaeb";

/* tls3.pcapng frame 74: apps.identrust.com HTTPS: two CNAMEs, SOA in authority. */
static const char identrust_cname[] =
	"a5cc818000010002000100000461707073096964656e747275737403636f6d0000410001c00c000500010000"
	"00700019096964656e747275737409656467657375697465036e657400c03000050001000053a40014056131"
	"393532046473637106616b616d6169c044c05b000600010000032c0031066e3064736371c0600a686f73746d"
	"617374657206616b616d6169c01b64e7939a000003e8000003e8000003e800000708";

/* v6.pcap frame 2: itojun.org ANY: NS NS MX MX A SOA, 2 NS authority, A A A AAAA AAAA extra. */
static const char itojun_any[] =
	"0006858000010006000200050669746f6a756e036f72670000ff0001c00c0002000100000e10001407636f63"
	"6f6e75740669746f6a756e036f726700c00c0002000100000e10001a057469676572056869726f6f086f7368"
	"6f6b756a69036f726700c00c000f000100000e100016000a07636f636f6e75740669746f6a756e036f726700"
	"c00c000f000100000e1000130014046b6977690669746f6a756e036f726700c00c0001000100000e100004d2"
	"a05f61c00c0006000100000e1000310669746f6a756e036f72670004726f6f740669746f6a756e036f726700"
	"0bea476800000e100000012c0036ee8000000e10c00c0002000100000e10001407636f636f6e75740669746f"
	"6a756e036f726700c00c0002000100000e10001a057469676572056869726f6f086f73686f6b756a69036f72"
	"670007636f636f6e7574c00c0001000100000e100004d2a05f61057469676572056869726f6f086f73686f6b"
	"756a69c0130001000100000e100004d29121f2046b697769c00c001c000100000e1000103ffe05010410000002"
	"c0dffffe47033ec173001c000100000e1000103ffe050104100100525400fffeda48bfc1730001000100000e"
	"100004d2a05f63";

/* latest.pcapng frame 6: a CNAME then eight A records. */
static const char appd_cname_a[] =
	"533c81800001000900000000077064782d636f6c0f65756d2d61707064796e616d69637303636f6d00000100"
	"01c00c0005000100000101000603636f6cc014c039000100010000003c000422d45d41c03900010001000000"
	"3c000422df77d1c039000100010000003c00042cecc429c039000100010000003c00042cf00e0fc039000100"
	"010000003c00043270c01ac039000100010000003c00043425348fc039000100010000003c00043425571bc0"
	"39000100010000003c000422d0ab57";

/* latest.pcapng frame 3 (HTTPS query) and gre-sample.pcap frame 33 (ANY query). */
static const char appd_query[] = "c96701000001000000000000077064782d636f6c0f65756d2d61707064796e616"
				 "d69637303636f6d0000410001";
static const char gleeble_query[] =
	"bdaa010000010000000000000377777707676c6565626c65036f72670000ff0001";

static void test_real_https_ech(void)
{
	static uint8_t b[512];
	size_t n = hex_decode(rsms_https, b, sizeof(b));
	const struct tg_dns_svcb *s = &msg.an[0].u.svcb;
	static const uint8_t v4[] = { 104, 21, 234, 234, 104, 21, 234, 235 };

	CHECK_ERR(tg_dns_parse(&msg, b, n), TG_OK);
	CHECK_INT(msg.id, 0x75ac);
	CHECK(msg.qr);
	CHECK_INT(msg.opcode, 0);
	CHECK_INT(msg.rcode, 0);
	CHECK_INT(msg.n_q, 1);
	CHECK_MEM(msg.q[0].name.text, msg.q[0].name.len, "rsms.me");
	CHECK(strcmp(msg.q[0].name.text, "rsms.me") == 0);
	CHECK_INT(msg.q[0].qtype, TG_DNS_TYPE_HTTPS);
	CHECK_INT(msg.q[0].qclass, 1);
	CHECK_INT(msg.n_an, 1);
	CHECK_MEM(msg.an[0].name.text, msg.an[0].name.len, "rsms.me");
	CHECK_INT(msg.an[0].type, 65);
	CHECK_INT(msg.an[0].ttl, 157);
	CHECK_INT(msg.an[0].rr_off, 25);
	CHECK_INT(msg.an[0].rdata_off, 37);
	CHECK_INT(msg.an[0].rdata.len, 136);
	CHECK(msg.an[0].rdata.p == b + 37);
	CHECK_INT(s->priority, 1);
	CHECK_INT(s->target.len, 0);
	CHECK(!s->target_compressed);
	CHECK_INT(s->n_params, 4);
	CHECK_INT(s->n_alpn, 2);
	CHECK_SPAN(s->alpn[0], "h3");
	CHECK_SPAN(s->alpn[1], "h2");
	CHECK(!s->no_default_alpn && !s->has_port);
	CHECK(s->ipv4hint.len == 8 && memcmp(s->ipv4hint.p, v4, 8) == 0);
	CHECK_INT(s->ipv6hint.len, 32);
	CHECK(s->has_ech);
	CHECK_INT(s->ech.len, 71);
	/* ECHConfigList length 0x45, then ECHConfig version 0xfe0d. */
	CHECK(s->ech.p[0] == 0x00 && s->ech.p[1] == 0x45 && s->ech.p[2] == 0xfe &&
	      s->ech.p[3] == 0x0d);
	CHECK_INT(s->ech_param_off, 37 + 2 + 1 + 10 + 12);
	CHECK(b[s->ech_param_off] == 0 && b[s->ech_param_off + 1] == 5);
	CHECK(s->ech.p == b + s->ech_param_off + 4);
	CHECK(!msg.has_edns);
	check_cuts(b, n);
}

static void test_real_cname_chain(void)
{
	static uint8_t b[512];
	size_t n = hex_decode(identrust_cname, b, sizeof(b));

	CHECK_ERR(tg_dns_parse(&msg, b, n), TG_OK);
	CHECK_INT(msg.nscount, 1);
	CHECK_INT(msg.n_an, 2);
	CHECK_MEM(msg.q[0].name.text, msg.q[0].name.len, "apps.identrust.com");
	CHECK_INT(msg.an[0].type, TG_DNS_TYPE_CNAME);
	CHECK_INT(msg.an[0].ttl, 112);
	CHECK_MEM(msg.an[0].name.text, msg.an[0].name.len, "apps.identrust.com");
	CHECK_MEM(msg.an[0].u.cname.text, msg.an[0].u.cname.len, "identrust.edgesuite.net");
	CHECK_MEM(msg.an[1].name.text, msg.an[1].name.len, "identrust.edgesuite.net");
	CHECK_MEM(msg.an[1].u.cname.text, msg.an[1].u.cname.len, "a1952.dscq.akamai.net");
	CHECK_INT(msg.an[1].ttl, 21412);
	check_cuts(b, n);
}

static void test_real_any(void)
{
	static uint8_t b[1024];
	size_t n = hex_decode(itojun_any, b, sizeof(b));
	static const uint8_t a[] = { 210, 160, 95, 97 };
	static const uint16_t types[] = { 2, 2, 15, 15, 1, 6 };
	size_t i;

	CHECK_ERR(tg_dns_parse(&msg, b, n), TG_OK);
	CHECK_INT(msg.flags, 0x8580);
	CHECK_INT(msg.n_an, 6);
	CHECK_INT(msg.nscount, 2);
	CHECK_INT(msg.arcount, 5);
	CHECK_INT(msg.q[0].qtype, 255);
	for (i = 0; i < 6; i++) {
		CHECK_INT(msg.an[i].type, types[i]);
		CHECK_MEM(msg.an[i].name.text, msg.an[i].name.len, "itojun.org");
		CHECK_INT(msg.an[i].ttl, 3600);
	}
	CHECK(memcmp(msg.an[4].u.a, a, 4) == 0);
	/* Types not decoded keep their rdata view only. */
	CHECK_INT(msg.an[2].rdata.len, 22);
	CHECK(msg.an[2].rdata.p == b + msg.an[2].rdata_off);
	check_cuts(b, n);
}

static void test_real_cname_a(void)
{
	static uint8_t b[512];
	size_t n = hex_decode(appd_cname_a, b, sizeof(b));
	static const uint8_t last[] = { 0x22, 0xd0, 0xab, 0x57 };

	CHECK_ERR(tg_dns_parse(&msg, b, n), TG_OK);
	CHECK_INT(msg.n_an, 9);
	CHECK_MEM(msg.an[0].u.cname.text, msg.an[0].u.cname.len, "col.eum-appdynamics.com");
	CHECK_MEM(msg.an[8].name.text, msg.an[8].name.len, "col.eum-appdynamics.com");
	CHECK(memcmp(msg.an[8].u.a, last, 4) == 0);
	CHECK_INT(msg.an[8].ttl, 60);
	check_cuts(b, n);
}

static void test_real_queries(void)
{
	static uint8_t b[256];
	size_t n = hex_decode(appd_query, b, sizeof(b));

	CHECK_ERR(tg_dns_parse(&msg, b, n), TG_OK);
	CHECK(!msg.qr);
	CHECK_INT(msg.flags, 0x0100);
	CHECK_INT(msg.n_q, 1);
	CHECK_INT(msg.n_an, 0);
	CHECK_MEM(msg.q[0].name.text, msg.q[0].name.len, "pdx-col.eum-appdynamics.com");
	CHECK_INT(msg.q[0].qtype, 65);
	check_cuts(b, n);
	n = hex_decode(gleeble_query, b, sizeof(b));
	CHECK_ERR(tg_dns_parse(&msg, b, n), TG_OK);
	CHECK_MEM(msg.q[0].name.text, msg.q[0].name.len, "www.gleeble.org");
	CHECK_INT(msg.q[0].qtype, 255);
	check_cuts(b, n);
}

/* ---- names ---- */

static struct mb m;

/* One question with the given wire name. */
static enum tg_err parse_qname(const void *name, size_t len)
{
	mb_header(&m, 1, 0, 0, 0);
	mb_raw(&m, name, len);
	mb_u16(&m, 1);
	mb_u16(&m, 1);
	return tg_dns_parse(&msg, m.b, m.n);
}

#define QNAME(lit) parse_qname((lit), sizeof(lit) - 1)

static void q_example(struct mb *mm)
{
	MB_LIT(mm, "\x07"
		   "example\x03"
		   "com\x00");
	mb_u16(mm, 1);
	mb_u16(mm, 1);
}

static void test_name_chars(void)
{
	CHECK_ERR(QNAME("\x03WwW\x07"
			"ExAmPlE\x03"
			"COM\x00"),
		  TG_OK);
	CHECK_MEM(msg.q[0].name.text, msg.q[0].name.len, "www.example.com");
	CHECK_ERR(QNAME("\x00"), TG_OK);
	CHECK_INT(msg.q[0].name.len, 0);
	CHECK(msg.q[0].name.text[0] == '\0');
	CHECK_ERR(QNAME("\x04_443\x06_https\x01*\x03x-y\x00"), TG_OK);
	CHECK_MEM(msg.q[0].name.text, msg.q[0].name.len, "_443._https.*.x-y");
	/* A '.' inside a label would make "a.b" (one label) and "a" "b" the same text. */
	CHECK_ERR(QNAME("\x03"
			"a.b\x03"
			"com\x00"),
		  TG_ERR_DNS_NAME);
	CHECK_ERR(QNAME("\x03"
			"a\x00"
			"b\x03"
			"com\x00"),
		  TG_ERR_DNS_NAME);
	CHECK_ERR(QNAME("\x03"
			"a b\x00"),
		  TG_ERR_DNS_NAME);
	CHECK_ERR(QNAME("\x03"
			"a\x1f"
			"b\x00"),
		  TG_ERR_DNS_NAME);
	CHECK_ERR(QNAME("\x03"
			"a\x7f"
			"b\x00"),
		  TG_ERR_DNS_NAME);
	CHECK_ERR(QNAME("\x04"
			"\xc3\xa9t\xc3\x00"),
		  TG_ERR_DNS_NAME);
	CHECK_ERR(QNAME("\x03"
			"~!}\x00"),
		  TG_OK);
}

static void test_name_limits(void)
{
	uint8_t name[300];
	size_t n = 0, i, l;

	/* 63-octet label fine; a 0x40 length byte is a reserved label type, as is 0x80. */
	name[n++] = 63;
	for (i = 0; i < 63; i++)
		name[n++] = 'a';
	name[n++] = 0;
	CHECK_ERR(parse_qname(name, n), TG_OK);
	CHECK_INT(msg.q[0].name.len, 63);
	name[0] = 64;
	CHECK_ERR(parse_qname(name, n), TG_ERR_DNS_NAME);
	name[0] = 0x80;
	CHECK_ERR(parse_qname(name, n), TG_ERR_DNS_NAME);
	name[0] = 0x41;
	CHECK_ERR(parse_qname(name, n), TG_ERR_DNS_NAME);

	/* 255 octets on the wire: 63+63+63+61 with length bytes and root = 253 characters. */
	for (l = 61; l <= 62; l++) {
		n = 0;
		for (i = 0; i < 4; i++) {
			size_t j, len = i < 3 ? 63 : l;

			name[n++] = (uint8_t)len;
			for (j = 0; j < len; j++)
				name[n++] = (uint8_t)('a' + i);
		}
		name[n++] = 0;
		if (l == 61) {
			CHECK_INT(n, 255);
			CHECK_ERR(parse_qname(name, n), TG_OK);
			CHECK_INT(msg.q[0].name.len, 253);
			CHECK_INT(strlen(msg.q[0].name.text), 253);
		} else {
			CHECK_INT(n, 256);
			CHECK_ERR(parse_qname(name, n), TG_ERR_DNS_NAME);
		}
	}

	/* Many one-character labels: 127 of them plus root is 255 octets, 128 is 257. */
	for (l = 127; l <= 128; l++) {
		n = 0;
		for (i = 0; i < l; i++) {
			name[n++] = 1;
			name[n++] = 'x';
		}
		name[n++] = 0;
		CHECK_ERR(parse_qname(name, n), l == 127 ? TG_OK : TG_ERR_DNS_NAME);
	}
}

/* Too long only once a pointer joins two names that are each fine. */
static void test_name_too_long_via_pointer(void)
{
	size_t i, j, l;

	for (l = 0; l < 2; l++) {
		mb_header(&m, 2, 0, 0, 0);
		/* Name 1: three labels of 63 = 193 octets. */
		for (i = 0; i < 3; i++) {
			mb_u8(&m, 63);
			for (j = 0; j < 63; j++)
				mb_u8(&m, 'a');
		}
		mb_u8(&m, 0);
		mb_u16(&m, 1);
		mb_u16(&m, 1);
		/* Name 2: a label of 60 / 62 then a pointer to name 1: 61 / 63 + 193 = 254 / 256. */
		mb_u8(&m, 60 + 2 * l);
		for (j = 0; j < 60 + 2 * l; j++)
			mb_u8(&m, 'b');
		mb_u16(&m, 0xc00c);
		mb_u16(&m, 1);
		mb_u16(&m, 1);
		CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), l == 0 ? TG_OK : TG_ERR_DNS_NAME);
	}
	CHECK_INT(msg.n_q, 2);
}

static void test_pointers(void)
{
	/* Self-pointer: the name at 12 points at 12. */
	CHECK_ERR(QNAME("\xc0\x0c"), TG_ERR_DNS_POINTER);
	/* A label, then a pointer back to that label: a loop through one label. */
	CHECK_ERR(QNAME("\x01"
			"a\xc0\x0c"),
		  TG_ERR_DNS_POINTER);
	/* Forward pointer and pointer past the end. */
	CHECK_ERR(QNAME("\xc0\x0e\x00"), TG_ERR_DNS_POINTER);
	CHECK_ERR(QNAME("\xff\xff"), TG_ERR_DNS_POINTER);
	/* Into the header. */
	CHECK_ERR(QNAME("\xc0\x00"), TG_ERR_DNS_POINTER);
	CHECK_ERR(QNAME("\xc0\x0b"), TG_ERR_DNS_POINTER);

	/* Forward pointer from the first name to the second. */
	mb_header(&m, 2, 0, 0, 0);
	MB_LIT(&m, "\x01"
		   "a\xc0\x13"); /* 12: "a" then -> 19 */
	mb_u16(&m, 1);
	mb_u16(&m, 1);
	MB_LIT(&m, "\x01"
		   "b\x00"); /* 20 */
	mb_u16(&m, 1);
	mb_u16(&m, 1);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_POINTER);

	/*
	 * Two-pointer cycle through bytes no name reader visits first: a TXT record's opaque
	 * rdata at 41 holds label "a" and a pointer to 45; the next answer's owner at 45 points
	 * back to 41. Without the rule: 45 -> 41 -> 45 -> ... forever.
	 */
	mb_header(&m, 1, 2, 0, 0);
	q_example(&m);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 16, 1, 60, 4);
	CHECK_INT(m.n, 41);
	MB_LIT(&m, "\x01"
		   "a\xc0\x2d");
	MB_LIT(&m, "\xc0\x29");
	mb_rr(&m, 1, 1, 60, 4);
	MB_LIT(&m, "\x01\x02\x03\x04");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_POINTER);
	/* The same owner pointing at the TXT rdata is fine once that ends in the root. */
	m.b[43] = 0;
	m.b[44] = 0;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_MEM(msg.an[1].name.text, msg.an[1].name.len, "a");
	/* A pointer to a pointer to a pointer ... backwards is fine (below the hop cap). */
	m.b[43] = 0xc0;
	m.b[44] = 0x0c;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_MEM(msg.an[1].name.text, msg.an[1].name.len, "a.example.com");

	/* A correct backward pointer into the middle of an earlier name. */
	mb_header(&m, 2, 0, 0, 0);
	MB_LIT(&m, "\x03www\x07"
		   "example\x03"
		   "com\x00");
	mb_u16(&m, 1);
	mb_u16(&m, 1);
	MB_LIT(&m, "\x04mail\xc0\x10");
	mb_u16(&m, 1);
	mb_u16(&m, 1);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_MEM(msg.q[1].name.text, msg.q[1].name.len, "mail.example.com");
}

/* A chain of pointer-only names, each pointing at the previous one: hop cap. */
static void test_pointer_hops(void)
{
	size_t k, i;

	for (k = TG_CAP_DNS_PTR_HOPS + 1; k <= TG_CAP_DNS_PTR_HOPS + 2; k++) {
		size_t prev = 12;

		mb_header(&m, (unsigned)k, 0, 0, 0);
		MB_LIT(&m, "\x02hi\x00");
		mb_u16(&m, 1);
		mb_u16(&m, 1);
		for (i = 1; i < k; i++) {
			size_t here = m.n;

			mb_u16(&m, 0xc000 | (unsigned)prev);
			mb_u16(&m, 1);
			mb_u16(&m, 1);
			prev = here;
		}
		/* The last name takes k - 1 hops. */
		CHECK_ERR(tg_dns_parse(&msg, m.b, m.n),
			  k - 1 <= TG_CAP_DNS_PTR_HOPS ? TG_OK : TG_ERR_DNS_POINTER);
	}
	CHECK_INT(msg.n_q, TG_CAP_DNS_QUESTIONS);
	CHECK_INT(msg.q_skipped, TG_CAP_DNS_PTR_HOPS + 2 - TG_CAP_DNS_QUESTIONS);
	CHECK_ERR(QNAME("\x02hi\x00"), TG_OK);
	CHECK_INT(msg.q_skipped, 0);
}

/* ---- records ---- */

static void test_lying_lengths(void)
{
	/* qdcount claims 2, one present. */
	mb_header(&m, 2, 0, 0, 0);
	q_example(&m);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_TRUNCATED);
	/* ancount claims 1 fewer than present: the rest is trailing. */
	mb_header(&m, 1, 1, 0, 0);
	q_example(&m);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 1, 1, 60, 4);
	MB_LIT(&m, "\x01\x02\x03\x04");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 1, 1, 60, 4);
	MB_LIT(&m, "\x05\x06\x07\x08");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_TRAILING);
	/* ... and claims more than present. */
	m.b[7] = 3;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_TRUNCATED);
	m.b[7] = 2;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_INT(msg.n_an, 2);
	/* A with rdlength 5 (the extra byte exists), 3, 0. */
	m.b[7] = 1;
	m.n = 12 + 17 + 12;
	mb_raw(&m, "\x01\x02\x03\x04\x05", 5);
	m.b[12 + 17 + 11] = 5;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	m.b[12 + 17 + 11] = 3;
	m.n -= 2;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	m.b[12 + 17 + 11] = 0;
	m.n -= 3;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	/* rdlength larger than the message. */
	m.b[12 + 17 + 11] = 9;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_TRUNCATED);
	/* AAAA with 4 octets. */
	mb_header(&m, 0, 1, 0, 0);
	MB_LIT(&m, "\x00");
	mb_rr(&m, 28, 1, 60, 4);
	MB_LIT(&m, "\x01\x02\x03\x04");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	/* Class CH: an A record's rdata is not IN's, not decoded, any length. */
	mb_header(&m, 0, 1, 0, 0);
	MB_LIT(&m, "\x00");
	mb_rr(&m, 1, 3, 60, 7);
	MB_LIT(&m, "\x01\x02\x03\x04\x05\x06\x07");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_INT(msg.an[0].class, 3);
	CHECK_INT(msg.an[0].rdata.len, 7);
}

static void test_cname_rdata(void)
{
	/* CNAME whose name is shorter than rdlength, longer, and compressed. */
	mb_header(&m, 1, 1, 0, 0);
	q_example(&m);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 5, 1, 60, 6);
	MB_LIT(&m, "\x03www\xc0\x0c");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_MEM(msg.an[0].u.cname.text, msg.an[0].u.cname.len, "www.example.com");
	m.b[m.n - 7] = 7; /* rdlength 7: a byte of rdata after the name */
	mb_u8(&m, 0);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	m.b[m.n - 8] = 5; /* rdlength 5: the pointer is cut */
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	m.b[m.n - 8] = 0;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	/* A CNAME rdata pointer may not point into its own rdata start or later. */
	mb_header(&m, 1, 1, 0, 0);
	q_example(&m);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 5, 1, 60, 2);
	mb_u16(&m, 0xc000 | (unsigned)m.n);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_POINTER);
}

static void test_ttl_and_caps(void)
{
	size_t i;

	mb_header(&m, 1, 1, 0, 0);
	q_example(&m);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 1, 1, 0x80000001u, 4);
	MB_LIT(&m, "\x01\x02\x03\x04");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_INT(msg.an[0].ttl, 0);
	m.b[m.n - 10] = 0x7f;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_INT(msg.an[0].ttl, 0x7f000001);

	/* More answers than the cap: kept up to the cap, the rest counted and validated. */
	mb_header(&m, 1, TG_CAP_DNS_ANSWERS + 6, 0, 0);
	q_example(&m);
	for (i = 0; i < TG_CAP_DNS_ANSWERS + 6; i++) {
		mb_u16(&m, 0xc00c);
		mb_rr(&m, 1, 1, 60, 4);
		mb_u32(&m, (uint32_t)i);
	}
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_INT(msg.n_an, TG_CAP_DNS_ANSWERS);
	CHECK_INT(msg.an_skipped, 6);
	CHECK_INT(msg.an[TG_CAP_DNS_ANSWERS - 1].u.a[3], TG_CAP_DNS_ANSWERS - 1);
	/* The last (skipped) answer is still checked. */
	m.b[m.n - 5] = 5;
	mb_u8(&m, 0);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);

	/* Bigger than any DNS message. */
	CHECK_ERR(tg_dns_parse(&msg, m.b, TG_CAP_DNS_MSG + 1), TG_ERR_CAP);
	CHECK_ERR(tg_dns_parse(&msg, NULL, 0), TG_ERR_TRUNCATED);
	CHECK(sizeof(struct tg_dns_msg) < (size_t)64 * 1024);
}

static void test_sections_and_opt(void)
{
	/* Authority SOA and additional OPT with one option, DO bit, version 0, size 1232. */
	mb_header(&m, 1, 0, 1, 1);
	q_example(&m);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, 6, 1, 300, 4);
	MB_LIT(&m, "\xde\xad\xbe\xef");
	MB_LIT(&m, "\x00");
	mb_rr(&m, 41, 1232, 0x01008000, 6);
	MB_LIT(&m, "\x00\x0a\x00\x02\xab\xcd");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK(msg.has_edns);
	CHECK_INT(msg.edns_udp_size, 1232);
	CHECK_INT(msg.edns_rcode_hi, 1);
	CHECK_INT(msg.edns_version, 0);
	CHECK(msg.edns_do);
	CHECK_INT(msg.edns_options.len, 6);
	CHECK_INT(msg.edns_off, 12 + 17 + 16);
	CHECK_INT(msg.n_an, 0);
	check_cuts(m.b, m.n);
	/* Option framing must fill the rdata exactly. */
	m.b[m.n - 3] = 3;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	m.b[m.n - 3] = 1;
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	m.b[m.n - 3] = 2;
	/* Two OPTs. */
	m.b[11] = 2;
	MB_LIT(&m, "\x00");
	mb_rr(&m, 41, 512, 0, 0);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	/* OPT in the authority section; OPT owned by a name. */
	mb_header(&m, 0, 0, 1, 0);
	MB_LIT(&m, "\x00");
	mb_rr(&m, 41, 512, 0, 0);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	mb_header(&m, 0, 0, 0, 1);
	MB_LIT(&m, "\x01x\x00");
	mb_rr(&m, 41, 512, 0, 0);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	/* A malformed additional record fails the message too. */
	mb_header(&m, 0, 0, 0, 1);
	MB_LIT(&m, "\x01x\x00");
	mb_rr(&m, 28, 1, 0, 3);
	MB_LIT(&m, "abc");
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_ERR_DNS_RR);
	/* Header alone is a message; less is not. */
	mb_header(&m, 0, 0, 0, 0);
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	CHECK_ERR(tg_dns_parse(&msg, m.b, 11), TG_ERR_TRUNCATED);
}

/* ---- SVCB / HTTPS: RFC 9460 Appendix D ---- */

/* A response with one answer of @type for example.com whose rdata is @rd. */
static enum tg_err parse_svcb(unsigned type, const void *rd, size_t rdlen)
{
	mb_header(&m, 1, 1, 0, 0);
	q_example(&m);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, type, 1, 300, (unsigned)rdlen);
	mb_raw(&m, rd, rdlen);
	return tg_dns_parse(&msg, m.b, m.n);
}

#define SVCB(lit) parse_svcb(TG_DNS_TYPE_SVCB, (lit), sizeof(lit) - 1)

#define FOO_COM       \
	"\x03"        \
	"foo\x07"     \
	"example\x03" \
	"com\x00"
#define FOO_ORG       \
	"\x03"        \
	"foo\x07"     \
	"example\x03" \
	"org\x00"

static void test_svcb_vectors(void)
{
	const struct tg_dns_svcb *s = &msg.an[0].u.svcb;
	static const uint8_t v6[] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53, 0, 1
	};
	static const uint8_t v6e[] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x22, 0x03, 0x44,
				       0,    0,	   0,	 0,    0xc0, 0x00, 0x02, 0x21 };

	/* D.1 AliasMode */
	CHECK_ERR(parse_svcb(TG_DNS_TYPE_HTTPS, "\x00\x00" FOO_COM, 19), TG_OK);
	CHECK_INT(msg.an[0].type, 65);
	CHECK_INT(s->priority, 0);
	CHECK_MEM(s->target.text, s->target.len, "foo.example.com");
	CHECK_INT(s->n_params, 0);
	/* D.2 ServiceMode, TargetName "." */
	CHECK_ERR(SVCB("\x00\x01\x00"), TG_OK);
	CHECK_INT(s->priority, 1);
	CHECK_INT(s->target.len, 0);
	CHECK(!s->has_ech && !s->has_port && s->n_alpn == 0);
	/* port=53 */
	CHECK_ERR(SVCB("\x00\x10" FOO_COM "\x00\x03\x00\x02\x00\x35"), TG_OK);
	CHECK_INT(s->priority, 16);
	CHECK(s->has_port);
	CHECK_INT(s->port, 53);
	/* key667=hello and key667="hello\210qoo": unknown keys are opaque. */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x02\x9b\x00\x05hello"), TG_OK);
	CHECK_INT(s->n_params, 1);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x02\x9b\x00\x09hello\xd2qoo"), TG_OK);
	CHECK_INT(s->n_params, 1);
	/* ipv6hint="2001:db8::1,2001:db8::53:1" */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x06\x00\x20"
		       "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
		       "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x53\x00\x01"),
		  TG_OK);
	CHECK(s->ipv6hint.len == 32 && memcmp(s->ipv6hint.p, v6, 32) == 0);
	/* ipv6hint="2001:db8:122:344::192.0.2.33", target example.com */
	CHECK_ERR(SVCB("\x00\x01\x07"
		       "example\x03"
		       "com\x00\x00\x06\x00\x10"
		       "\x20\x01\x0d\xb8\x01\x22\x03\x44\x00\x00\x00\x00\xc0\x00\x02\x21"),
		  TG_OK);
	CHECK_MEM(s->target.text, s->target.len, "example.com");
	CHECK(s->ipv6hint.len == 16 && memcmp(s->ipv6hint.p, v6e, 16) == 0);
	/* alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1 (sorted on the wire) */
	CHECK_ERR(SVCB("\x00\x10" FOO_ORG "\x00\x00\x00\x04\x00\x01\x00\x04"
		       "\x00\x01\x00\x09\x02h2\x05h3-19"
		       "\x00\x04\x00\x04\xc0\x00\x02\x01"),
		  TG_OK);
	CHECK_MEM(s->target.text, s->target.len, "foo.example.org");
	CHECK_INT(s->n_params, 3);
	CHECK(s->mandatory.len == 4 && memcmp(s->mandatory.p, "\x00\x01\x00\x04", 4) == 0);
	CHECK_INT(s->n_alpn, 2);
	CHECK_SPAN(s->alpn[0], "h2");
	CHECK_SPAN(s->alpn[1], "h3-19");
	CHECK(s->ipv4hint.len == 4 && memcmp(s->ipv4hint.p, "\xc0\x00\x02\x01", 4) == 0);
	/* alpn="f\\\\oo\\,bar,h2": ids are opaque octets */
	CHECK_ERR(SVCB("\x00\x10" FOO_ORG "\x00\x01\x00\x0c\x08"
		       "f\\oo,bar\x02h2"),
		  TG_OK);
	CHECK_INT(s->n_alpn, 2);
	CHECK_SPAN(s->alpn[0], "f\\oo,bar");
	CHECK_SPAN(s->alpn[1], "h2");
	check_cuts(m.b, m.n);
}

static void test_svcb_failures(void)
{
	/* D.3: the same key twice */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x7b\x00\x03"
		       "abc\x00\x7b\x00\x03"
		       "def"),
		  TG_ERR_DNS_SVCB);
	/* Missing values that must be non-empty */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x00\x00\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x01\x00\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x03\x00\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x04\x00\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x06\x00\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x05\x00\x00"), TG_ERR_DNS_SVCB);
	/* no-default-alpn=abc */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x01\x00\x03\x02h2\x00\x02\x00\x03"
		       "abc"),
		  TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x01\x00\x03\x02h2\x00\x02\x00\x00"), TG_OK);
	CHECK(msg.an[0].u.svcb.no_default_alpn);
	/* mandatory=key123 without key123; mandatory=mandatory; mandatory=key123,key123 */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x00\x00\x02\x00\x7b"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x00\x00\x02\x00\x7b\x00\x7b\x00\x03"
		       "abc"),
		  TG_OK);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x00\x00\x02\x00\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x00\x00\x04\x00\x7b\x00\x7b\x00\x7b\x00\x03"
		       "abc"),
		  TG_ERR_DNS_SVCB);
	/* mandatory list not increasing, odd length */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x00\x00\x04\x00\x04\x00\x01"
		       "\x00\x01\x00\x03\x02h2\x00\x04\x00\x04\x01\x02\x03\x04"),
		  TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x00\x00\x03\x00\x01\x00"
		       "\x00\x01\x00\x03\x02h2"),
		  TG_ERR_DNS_SVCB);
	/* Keys decreasing; key 65535 */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x03\x00\x02\x01\xbb\x00\x01\x00\x03\x02h2"),
		  TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\xff\xff\x00\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\xff\xfe\x00\x00"), TG_OK);
	/* The end of the rdata inside a SvcParam: key only, length only, value cut */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x03"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x03\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x03\x00\x02\x01"), TG_ERR_DNS_SVCB);
	/* Wrong value shapes */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x03\x00\x03\x01\xbb\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x04\x00\x05\x01\x02\x03\x04\x05"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x06\x00\x04\x01\x02\x03\x04"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x01\x00\x04\x02h2\x00"), TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x01\x00\x04\x02h2\x02"), TG_ERR_DNS_SVCB);
	/* ech: the list length must frame the value, and a list holds at least 4 octets */
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x05\x00\x06\x00\x04\xfe\x0d\x00\x00"), TG_OK);
	CHECK(msg.an[0].u.svcb.has_ech);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x05\x00\x06\x00\x05\xfe\x0d\x00\x00"),
		  TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x05\x00\x07\x00\x04\xfe\x0d\x00\x00\x00"),
		  TG_ERR_DNS_SVCB);
	CHECK_ERR(SVCB("\x00\x01" FOO_COM "\x00\x05\x00\x05\x00\x03\xfe\x0d\x00"), TG_ERR_DNS_SVCB);
	/* Rdata too short for the priority, target cut by rdlength */
	CHECK_ERR(SVCB("\x00"), TG_ERR_DNS_RR);
	CHECK_ERR(SVCB("\x00\x01\x03"
		       "foo"),
		  TG_ERR_DNS_RR);
	/* AliasMode ignores whatever params follow, even malformed ones */
	CHECK_ERR(SVCB("\x00\x00" FOO_COM "\xff\xff\x00\x09"), TG_OK);
	CHECK_INT(msg.an[0].u.svcb.n_params, 0);
	CHECK(!msg.an[0].u.svcb.has_ech);
}

static void test_svcb_caps_and_compression(void)
{
	uint8_t rd[600];
	size_t n = 0, i;
	const struct tg_dns_svcb *s = &msg.an[0].u.svcb;

	/* alpn with 10 ids: the first TG_CAP_DNS_ALPN kept, the rest counted. */
	rd[n++] = 0;
	rd[n++] = 1; /* priority 1 */
	rd[n++] = 0; /* root target */
	rd[n++] = 0;
	rd[n++] = 1; /* alpn */
	rd[n++] = 0;
	rd[n++] = 30;
	for (i = 0; i < 10; i++) {
		rd[n++] = 2;
		rd[n++] = 'a';
		rd[n++] = (uint8_t)('0' + i);
	}
	CHECK_ERR(parse_svcb(65, rd, n), TG_OK);
	CHECK_INT(s->n_alpn, TG_CAP_DNS_ALPN);
	CHECK_INT(s->alpn_skipped, 10 - TG_CAP_DNS_ALPN);
	CHECK_SPAN(s->alpn[TG_CAP_DNS_ALPN - 1], "a7");

	/* TG_CAP_DNS_SVC_PARAMS params are fine, one more is the cap. */
	for (i = 0; i < 2; i++) {
		size_t k, np = TG_CAP_DNS_SVC_PARAMS + i;

		n = 3;
		for (k = 0; k < np; k++) {
			rd[n++] = 0x10;
			rd[n++] = (uint8_t)k;
			rd[n++] = 0;
			rd[n++] = 0;
		}
		CHECK_ERR(parse_svcb(64, rd, n), i == 0 ? TG_OK : TG_ERR_CAP);
	}
	CHECK_INT(s->n_params, TG_CAP_DNS_SVC_PARAMS);

	/* A compressed TargetName is decoded and flagged; a bad pointer is still refused. */
	CHECK_ERR(SVCB("\x00\x01\x03"
		       "svc\xc0\x0c\x00\x03\x00\x02\x01\xbb"),
		  TG_OK);
	CHECK(s->target_compressed);
	CHECK_MEM(s->target.text, s->target.len, "svc.example.com");
	CHECK_INT(s->port, 443);
	CHECK_ERR(SVCB("\x00\x01\x03"
		       "svc\xc0\x30"),
		  TG_ERR_DNS_POINTER);
}

/* The ECH param's offset is where a stripper would cut: check it against a hand-built one. */
static void test_svcb_ech_offset(void)
{
	const struct tg_dns_svcb *s = &msg.an[0].u.svcb;
	size_t rdata_off = 12 + 17 + 12;

	CHECK_ERR(
		SVCB("\x00\x01\x00"
		     "\x00\x01\x00\x03\x02h2"
		     "\x00\x05\x00\x08\x00\x06\xfe\x0d\x00\x02\xaa\xbb"
		     "\x00\x06\x00\x10\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		     "\x01"),
		TG_OK);
	CHECK(s->has_ech);
	CHECK_INT(s->ech_param_off, rdata_off + 3 + 7);
	CHECK_INT(s->ech.len, 8);
	CHECK(s->ech.p == m.b + s->ech_param_off + 4);
	CHECK(memcmp(s->ech.p, "\x00\x06\xfe\x0d\x00\x02\xaa\xbb", 8) == 0);
	CHECK_INT(s->ipv6hint.len, 16);
	CHECK_INT(msg.an[0].rdata.len, 3 + 7 + 12 + 20);
}

/* ---- TCP framing and type names ---- */

/* ---- addresses for the question name: owner names and CNAME chains ---- */

/* @name ("a.b.c") as uncompressed labels, then the root. */
static void mb_name(struct mb *mm, const char *name)
{
	while (*name) {
		size_t n = strcspn(name, ".");

		mb_u8(mm, (unsigned)n);
		mb_raw(mm, name, n);
		name += n;
		if (*name == '.')
			name++;
	}
	mb_u8(mm, 0);
}

static void mb_a(struct mb *mm, const char *owner, uint32_t ttl, unsigned last)
{
	mb_name(mm, owner);
	mb_rr(mm, TG_DNS_TYPE_A, TG_DNS_CLASS_IN, ttl, 4);
	mb_u32(mm, 0xc6336400u | last);
}

static void mb_cname(struct mb *mm, const char *owner, const char *target, uint32_t ttl)
{
	mb_name(mm, owner);
	mb_rr(mm, TG_DNS_TYPE_CNAME, TG_DNS_CLASS_IN, ttl, (unsigned)strlen(target) + 2);
	mb_name(mm, target);
}

static void mb_question(struct mb *mm, const char *name, unsigned qd, unsigned an)
{
	mb_header(mm, qd, an, 0, 0);
	mb_name(mm, name);
	mb_u16(mm, TG_DNS_TYPE_A);
	mb_u16(mm, TG_DNS_CLASS_IN);
}

static size_t addrs_of(struct tg_dns_addr *out, size_t cap)
{
	CHECK_ERR(tg_dns_parse(&msg, m.b, m.n), TG_OK);
	return tg_dns_answer_addrs(&msg, out, cap);
}

static void test_answer_addrs_real(void)
{
	static uint8_t b[512];
	size_t n = hex_decode(appd_cname_a, b, sizeof(b)), i;
	struct tg_dns_addr out[TG_CAP_DNS_ANSWERS];
	static const uint8_t last[] = { 0x22, 0xd0, 0xab, 0x57 };

	CHECK_ERR(tg_dns_parse(&msg, b, n), TG_OK);
	n = tg_dns_answer_addrs(&msg, out, TG_CAP_DNS_ANSWERS);
	CHECK_INT(n, 8);
	for (i = 0; i < n; i++) {
		CHECK_INT(out[i].family, 4);
		CHECK(out[i].ttl <= msg.an[0].ttl && out[i].ttl <= msg.an[i + 1].ttl);
	}
	CHECK(memcmp(out[7].addr, last, 4) == 0);
}

static void test_answer_addrs_chain(void)
{
	struct tg_dns_addr out[8];
	size_t cname_at;

	/*
	 * q WWW.Example.COM; an: its CNAME (owner compressed to the question) -> cdn.example.net
	 * (ttl 300); cdn.example.net (owner compressed to that rdata) CNAME -> edge.example.org
	 * (ttl 50); EDGE.example.ORG A .1 (ttl 600); other.test A .6; www.example.com AAAA (ttl 20).
	 */
	mb_question(&m, "WWW.Example.COM", 1, 5);
	mb_u16(&m, 0xc00c);
	mb_rr(&m, TG_DNS_TYPE_CNAME, TG_DNS_CLASS_IN, 300, 17);
	cname_at = m.n;
	mb_name(&m, "cdn.example.net");
	mb_u16(&m, 0xc000 | (unsigned)cname_at);
	mb_rr(&m, TG_DNS_TYPE_CNAME, TG_DNS_CLASS_IN, 50, 18);
	mb_name(&m, "edge.example.org");
	mb_a(&m, "EDGE.example.ORG", 600, 1);
	mb_a(&m, "other.test", 600, 6);
	mb_name(&m, "www.example.com");
	mb_rr(&m, TG_DNS_TYPE_AAAA, TG_DNS_CLASS_IN, 20, 16);
	mb_raw(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
	CHECK_INT(addrs_of(out, 8), 2);
	CHECK_INT(out[0].family, 4);
	CHECK(memcmp(out[0].addr, "\xc6\x33\x64\x01\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	CHECK_INT(out[0].ttl, 50);
	CHECK_INT(out[1].family, 6);
	CHECK_INT(out[1].addr[15], 7);
	CHECK_INT(out[1].ttl, 20);
	/* The cap on what is written. */
	CHECK_INT(tg_dns_answer_addrs(&msg, out, 1), 1);
	CHECK_INT(out[0].ttl, 50);
	CHECK_INT(tg_dns_answer_addrs(&msg, out, 0), 0);

	/* Only records for other owners: nothing. */
	mb_question(&m, "a.test", 1, 2);
	mb_a(&m, "b.test", 60, 2);
	mb_cname(&m, "b.test", "a.test", 60);
	CHECK_INT(addrs_of(out, 8), 0);

	/* A loop a -> b -> a: cut; b's address still counts once. */
	mb_question(&m, "a.test", 1, 3);
	mb_cname(&m, "a.test", "b.test", 30);
	mb_cname(&m, "b.test", "a.test", 40);
	mb_a(&m, "b.test", 60, 3);
	CHECK_INT(addrs_of(out, 8), 1);
	CHECK_INT(out[0].ttl, 30);
	/* A CNAME to itself. */
	mb_question(&m, "a.test", 1, 2);
	mb_cname(&m, "a.test", "a.test", 30);
	mb_a(&m, "a.test", 60, 4);
	CHECK_INT(addrs_of(out, 8), 1);
	CHECK_INT(out[0].ttl, 60);

	/* Two CNAMEs for one owner: the first is followed. */
	mb_question(&m, "a.test", 1, 4);
	mb_cname(&m, "a.test", "b.test", 30);
	mb_cname(&m, "a.test", "c.test", 30);
	mb_a(&m, "b.test", 60, 5);
	mb_a(&m, "c.test", 60, 6);
	CHECK_INT(addrs_of(out, 8), 1);
	CHECK_INT(out[0].addr[3], 5);
}

static void test_answer_addrs_limits(void)
{
	struct tg_dns_addr out[8];
	char from[16], to[16];
	unsigned i;

	/* c0 -> c1 -> ... -> c17; A at c16 (16 CNAMEs away) counts, A at c17 does not. */
	mb_question(&m, "c0.test", 1, TG_CAP_DNS_CNAME_CHAIN + 3);
	for (i = 0; i <= TG_CAP_DNS_CNAME_CHAIN; i++) {
		snprintf(from, sizeof(from), "c%u.test", i);
		snprintf(to, sizeof(to), "c%u.test", i + 1);
		mb_cname(&m, from, to, 100 + i);
	}
	snprintf(from, sizeof(from), "c%u.test", TG_CAP_DNS_CNAME_CHAIN);
	mb_a(&m, from, 900, 16);
	snprintf(from, sizeof(from), "c%u.test", TG_CAP_DNS_CNAME_CHAIN + 1);
	mb_a(&m, from, 900, 17);
	CHECK_INT(addrs_of(out, 8), 1);
	CHECK_INT(out[0].addr[3], 16);
	CHECK_INT(out[0].ttl, 100);

	/* Class CH records are not addresses and not CNAMEs to follow. */
	mb_question(&m, "a.test", 1, 2);
	mb_name(&m, "a.test");
	mb_rr(&m, TG_DNS_TYPE_A, 3, 60, 4);
	mb_u32(&m, 1);
	mb_name(&m, "a.test");
	mb_rr(&m, TG_DNS_TYPE_CNAME, 3, 60, 8);
	mb_name(&m, "b.test");
	CHECK_INT(addrs_of(out, 8), 0);

	/* No question, two questions: nothing. */
	mb_header(&m, 0, 1, 0, 0);
	mb_a(&m, "a.test", 60, 1);
	CHECK_INT(addrs_of(out, 8), 0);
	mb_question(&m, "a.test", 2, 1);
	mb_name(&m, "b.test");
	mb_u16(&m, 1);
	mb_u16(&m, 1);
	mb_a(&m, "a.test", 60, 1);
	CHECK_INT(addrs_of(out, 8), 0);
}

static void test_tcp_frame(void)
{
	static uint8_t s[1024];
	static uint8_t b[512];
	size_t n = hex_decode(appd_query, b, sizeof(b)), used, i;
	struct tg_span msgv;

	s[0] = 0;
	s[1] = (uint8_t)n;
	memcpy(s + 2, b, n);
	s[2 + n] = 0;
	s[3 + n] = (uint8_t)n;
	memcpy(s + 4 + n, b, n);
	CHECK_ERR(tg_dns_tcp_frame(s, 4 + 2 * n, &msgv, &used), TG_OK);
	CHECK_INT(used, n + 2);
	CHECK(msgv.p == s + 2 && msgv.len == n);
	CHECK_ERR(tg_dns_parse(&msg, msgv.p, msgv.len), TG_OK);
	CHECK_ERR(tg_dns_tcp_frame(s + used, 4 + 2 * n - used, &msgv, &used), TG_OK);
	CHECK_INT(used, n + 2);
	for (i = 0; i < n + 2; i++)
		CHECK_ERR(tg_dns_tcp_frame(s, i, &msgv, &used), TG_NEED_MORE);
	CHECK_ERR(tg_dns_tcp_frame(s, 0, &msgv, &used), TG_NEED_MORE);
	CHECK_ERR(tg_dns_tcp_frame((const uint8_t *)"\x00\x00", 2, &msgv, &used),
		  TG_ERR_ZERO_LENGTH);
	CHECK_ERR(tg_dns_tcp_frame((const uint8_t *)"\x00\x0b"
						    "01234567890",
				   13, &msgv, &used),
		  TG_ERR_DNS_HEADER);
	CHECK_ERR(tg_dns_tcp_frame((const uint8_t *)"\x00\x0c"
						    "012345678901",
				   14, &msgv, &used),
		  TG_OK);
	CHECK_ERR(tg_dns_tcp_frame((const uint8_t *)"\xff\xff"
						    "0123",
				   6, &msgv, &used),
		  TG_NEED_MORE);
}

static void test_type_names(void)
{
	CHECK(strcmp(tg_dns_type_name(1), "A") == 0);
	CHECK(strcmp(tg_dns_type_name(28), "AAAA") == 0);
	CHECK(strcmp(tg_dns_type_name(5), "CNAME") == 0);
	CHECK(strcmp(tg_dns_type_name(64), "SVCB") == 0);
	CHECK(strcmp(tg_dns_type_name(65), "HTTPS") == 0);
	CHECK(strcmp(tg_dns_type_name(41), "OPT") == 0);
	CHECK(strcmp(tg_dns_type_name(257), "CAA") == 0);
	CHECK(tg_dns_type_name(0) == NULL);
	CHECK(tg_dns_type_name(3) == NULL);
	CHECK(tg_dns_type_name(65535) == NULL);
}

int main(void)
{
	test_real_https_ech();
	test_real_cname_chain();
	test_real_any();
	test_real_cname_a();
	test_real_queries();
	test_name_chars();
	test_name_limits();
	test_name_too_long_via_pointer();
	test_pointers();
	test_pointer_hops();
	test_lying_lengths();
	test_cname_rdata();
	test_ttl_and_caps();
	test_sections_and_opt();
	test_svcb_vectors();
	test_svcb_failures();
	test_svcb_caps_and_compression();
	test_svcb_ech_offset();
	test_tcp_frame();
	test_type_names();
	test_answer_addrs_real();
	test_answer_addrs_chain();
	test_answer_addrs_limits();
	return tg_test_done();
}
