/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_domain.c - domain name normal form: case, trailing dot, lengths at and past the caps,
 * hyphens, underscores, reserved LDH labels, punycode (valid, undecodable, overflowing,
 * out-of-range, U-label hyphen rules), non-ASCII, NUL, error precedence, idempotence, and every
 * truncation of a name.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "tlsgate/domain.h"
#include "tg_test.h"

struct norm_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	enum tg_err err;
	const char *out; /* expected normal form when err is TG_OK */
};

static const struct norm_case cases[] = {
	/* case and the trailing dot */
	{ "example.com", 0, TG_OK, "example.com" },
	{ "WWW.Example.COM", 0, TG_OK, "www.example.com" },
	{ "example.com.", 0, TG_OK, "example.com" },
	{ "EXAMPLE.COM.", 0, TG_OK, "example.com" },
	{ "localhost", 0, TG_OK, "localhost" },
	{ "a", 0, TG_OK, "a" },
	{ "a.", 0, TG_OK, "a" },
	{ "example.com..", 0, TG_ERR_NAME_LABEL, NULL },
	{ "", 0, TG_ERR_NAME_EMPTY, NULL },
	{ ".", 0, TG_ERR_NAME_EMPTY, NULL },
	{ "..", 0, TG_ERR_NAME_LABEL, NULL },
	{ "a..b", 0, TG_ERR_NAME_LABEL, NULL },
	{ ".a", 0, TG_ERR_NAME_LABEL, NULL },
	{ ".example.com", 0, TG_ERR_NAME_LABEL, NULL },
	/* hyphens; reserved LDH labels ("--" in positions 3-4) are accepted */
	{ "a-b.com", 0, TG_OK, "a-b.com" },
	{ "-ab.com", 0, TG_ERR_NAME_HYPHEN, NULL },
	{ "ab-.com", 0, TG_ERR_NAME_HYPHEN, NULL },
	{ "ab.com-", 0, TG_ERR_NAME_HYPHEN, NULL },
	{ "-", 0, TG_ERR_NAME_HYPHEN, NULL },
	{ "r3---sn-abcdefg.googlevideo.com", 0, TG_OK, "r3---sn-abcdefg.googlevideo.com" },
	{ "ab--cd.com", 0, TG_OK, "ab--cd.com" },
	{ "a--b.com", 0, TG_OK, "a--b.com" },
	/* underscores are allowed anywhere in a label */
	{ "_dmarc.Example.com", 0, TG_OK, "_dmarc.example.com" },
	{ "_sip._tcp.example.com", 0, TG_OK, "_sip._tcp.example.com" },
	{ "a_b.example.com", 0, TG_OK, "a_b.example.com" },
	{ "a_.example.com", 0, TG_OK, "a_.example.com" },
	/* all-numeric is LDH */
	{ "10.0.0.1", 0, TG_OK, "10.0.0.1" },
	{ "123", 0, TG_OK, "123" },
	/* bytes that are not allowed */
	{ "*.example.com", 0, TG_ERR_NAME_CHAR, NULL },
	{ "exa mple.com", 0, TG_ERR_NAME_CHAR, NULL },
	{ "example.com/", 0, TG_ERR_NAME_CHAR, NULL },
	{ "example.com:443", 0, TG_ERR_NAME_CHAR, NULL },
	{ "b\xc3\xbc"
	  "cher.de",
	  0, TG_ERR_NAME_CHAR, NULL },
	{ "\x80", 0, TG_ERR_NAME_CHAR, NULL },
	{ "\xff.com", 0, TG_ERR_NAME_CHAR, NULL },
	{ "a\0b.com", 7, TG_ERR_NAME_CHAR, NULL },
	{ "example.com\0", 12, TG_ERR_NAME_CHAR, NULL },
	{ "\0", 1, TG_ERR_NAME_CHAR, NULL },
	{ "example.com.\0", 13, TG_ERR_NAME_CHAR, NULL },
	/* punycode: valid A-labels (from the punycode codec of another implementation) */
	{ "xn--bcher-kva.example", 0, TG_OK, "xn--bcher-kva.example" },
	{ "XN--BCHER-KVA.Example", 0, TG_OK, "xn--bcher-kva.example" },
	{ "xn--mnchen-3ya.de", 0, TG_OK, "xn--mnchen-3ya.de" },
	{ "xn--fiqs8s", 0, TG_OK, "xn--fiqs8s" },
	{ "xn--wgv71a119e.jp", 0, TG_OK, "xn--wgv71a119e.jp" },
	{ "xn--r8jz45g.jp", 0, TG_OK, "xn--r8jz45g.jp" },
	{ "xn--a--b-1ra.com", 0, TG_OK, "xn--a--b-1ra.com" },
	{ "xn--dn32g.com", 0, TG_OK, "xn--dn32g.com" }, /* U+10FFFF: the last code point */
	{ "xn--hb9b.com", 0, TG_OK, "xn--hb9b.com" }, /* U+D7FF, just below surrogates */
	{ "xn--0y0c.com", 0, TG_OK, "xn--0y0c.com" }, /* U+E000, just above */
	{ "sub.xn--tda.com", 0, TG_OK, "sub.xn--tda.com" }, /* "ü" */
	{ "xn--bch", 0, TG_OK, "xn--bch" }, /* U+2246, no basic code points */
	{ "xn--bcher", 0, TG_OK, "xn--bcher" },
	/* punycode: invalid */
	{ "xn--", 0, TG_ERR_NAME_HYPHEN, NULL },
	{ "xn--abc-", 0, TG_ERR_NAME_HYPHEN, NULL },
	{ "xn--ib9b.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* U+D800, a surrogate */
	{ "xn--en32g.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* U+110000 */
	{ "xn--999999999a.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* integer overflow */
	{ "xn--99999999999999.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* never terminates */
	{ "xn--9.com", 0, TG_ERR_NAME_PUNYCODE, NULL },
	{ "xn---abc.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* delimiter, no basic code points */
	{ "xn----eha.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* U-label "-ü" */
	{ "xn----dha.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* U-label "ü-" */
	{ "xn--ab---3ra.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* U-label "ab--ü" */
	{ "xn--bcher_kva.com", 0, TG_ERR_NAME_PUNYCODE, NULL }, /* '_' in an A-label */
	{ "xn--_tda.com", 0, TG_ERR_NAME_PUNYCODE, NULL },
	/* error precedence: labels left to right; in a label bytes, length, hyphen, punycode */
	{ "a..-b", 0, TG_ERR_NAME_LABEL, NULL },
	{ "-a$.com", 0, TG_ERR_NAME_CHAR, NULL },
	{ "-a.b$", 0, TG_ERR_NAME_HYPHEN, NULL },
	{ "xn--ib9b.a..b", 0, TG_ERR_NAME_PUNYCODE, NULL },
};

static void check_case(const struct norm_case *c)
{
	char out[TG_CAP_NAME_LEN + 1];
	size_t len = c->len ? c->len : strlen(c->in), olen = 99;
	enum tg_err err;

	err = tg_domain_normalize((const uint8_t *)c->in, len, out, &olen);
	if (err != c->err)
		fprintf(stderr, "input \"%s\" (len %zu):\n", c->in, len);
	CHECK_ERR(err, c->err);
	if (c->err == TG_OK) {
		CHECK_MEM(out, olen, c->out);
		CHECK_INT(out[olen], 0);
	} else {
		/* On error the output is the empty string. */
		CHECK_INT(olen, 0);
		CHECK_INT(out[0], 0);
	}
}

/* A name of @total bytes made of labels of @label bytes ("aaa.aaa.a"). */
static size_t make_name(char *buf, size_t total, size_t label)
{
	size_t i, run = 0;

	for (i = 0; i < total; i++) {
		if (run == label && i + 1 < total) {
			buf[i] = '.';
			run = 0;
		} else {
			buf[i] = 'a';
			run++;
		}
	}
	buf[total] = '\0';
	return total;
}

static void test_lengths(void)
{
	char in[400], out[TG_CAP_NAME_LEN + 1];
	size_t olen, n;

	/* Labels of 63 and 64 bytes. */
	memset(in, 'x', 64);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 63, out, &olen), TG_OK);
	CHECK_INT(olen, 63);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 64, out, &olen), TG_ERR_NAME_LABEL);
	memcpy(in + 64, ".com", 4);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 68, out, &olen), TG_ERR_NAME_LABEL);
	memcpy(in, "a.", 2);
	memset(in + 2, 'y', 63);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 65, out, &olen), TG_OK);
	in[65] = 'y';
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 66, out, &olen), TG_ERR_NAME_LABEL);

	/* Names of 253 and 254 bytes, with and without the trailing dot. */
	n = make_name(in, 253, 63);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, n, out, &olen), TG_OK);
	CHECK_INT(olen, 253);
	CHECK(memcmp(out, in, 253) == 0);
	in[253] = '.';
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 254, out, &olen), TG_OK);
	CHECK_INT(olen, 253);
	n = make_name(in, 254, 63);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, n, out, &olen), TG_ERR_NAME_TOO_LONG);
	in[254] = '.';
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 255, out, &olen), TG_ERR_NAME_TOO_LONG);
	/* 127 one-byte labels: the most labels a name can have. */
	n = make_name(in, 253, 1);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, n, out, &olen), TG_OK);
	CHECK_INT(olen, 253);
	/* Length is judged first: 300 bytes of garbage are too long, not a bad character. */
	memset(in, 0xff, 300);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 300, out, &olen), TG_ERR_NAME_TOO_LONG);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, SIZE_MAX, out, &olen),
		  TG_ERR_NAME_TOO_LONG);
	/* No input at all. */
	CHECK_ERR(tg_domain_normalize(NULL, 0, out, &olen), TG_ERR_NAME_EMPTY);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)"x", 0, out, &olen), TG_ERR_NAME_EMPTY);
	/* A 63-byte A-label is as long as punycode gets. */
	memcpy(in, "xn--", 4);
	memset(in + 4, '9', 59);
	CHECK_ERR(tg_domain_normalize((const uint8_t *)in, 63, out, &olen), TG_ERR_NAME_PUNYCODE);
}

/* Every prefix of a valid name without empty labels is valid; a trailing dot is dropped. */
static void test_truncations(void)
{
	static const char name[] = "Www.Xn--Bcher-Kva.Example.Co.UK.";
	char out[TG_CAP_NAME_LEN + 1], want[sizeof(name)];
	size_t n, k, olen;

	for (n = 1; n < sizeof(name); n++) {
		enum tg_err err = tg_domain_normalize((const uint8_t *)name, n, out, &olen);
		size_t wl = name[n - 1] == '.' ? n - 1 : n;

		for (k = 0; k < wl; k++)
			want[k] =
				(name[k] >= 'A' && name[k] <= 'Z') ? (char)(name[k] + 32) : name[k];
		want[wl] = '\0';
		/*
		 * Cut inside "Xn--Bcher-Kva": a label ending in '-', or some other (maybe valid)
		 * punycode. Everywhere else the prefix is a valid name.
		 */
		if (n >= 7 && n <= 16) {
			CHECK(err == TG_OK || err == TG_ERR_NAME_HYPHEN ||
			      err == TG_ERR_NAME_PUNYCODE);
			if (err != TG_OK)
				continue;
		}
		CHECK_ERR(err, TG_OK);
		CHECK_MEM(out, olen, want);
	}
}

/* Normalizing the normal form gives it back, for every case above that succeeds. */
static void test_idempotent(void)
{
	char out[TG_CAP_NAME_LEN + 1], again[TG_CAP_NAME_LEN + 1];
	size_t i, olen, alen;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct norm_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->in);

		if (tg_domain_normalize((const uint8_t *)c->in, len, out, &olen) != TG_OK)
			continue;
		CHECK_ERR(tg_domain_normalize((const uint8_t *)out, olen, again, &alen), TG_OK);
		CHECK_MEM(again, alen, out);
	}
}

/* Every single byte value in the middle of a label: exactly [A-Za-z0-9_-] pass. */
static void test_each_byte(void)
{
	char in[] = "ab?cd.com", out[TG_CAP_NAME_LEN + 1];
	size_t olen;
	unsigned c, ok = 0;

	for (c = 0; c < 256; c++) {
		enum tg_err err;
		bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			       (c >= '0' && c <= '9') || c == '-' || c == '_';

		in[2] = (char)c;
		err = tg_domain_normalize((const uint8_t *)in, 9, out, &olen);
		if (c == '.') {
			CHECK_ERR(err, TG_OK); /* "ab.cd.com" */
			continue;
		}
		CHECK_ERR(err, allowed ? TG_OK : TG_ERR_NAME_CHAR);
		if (err == TG_OK) {
			ok++;
			CHECK_INT(out[2], (c >= 'A' && c <= 'Z') ? c + 32 : c);
		}
	}
	CHECK_INT(ok, 26 * 2 + 10 + 2);
}

static void test_punycode_direct(void)
{
	CHECK_ERR(tg_domain_punycode_check((const uint8_t *)"bcher-kva", 9), TG_OK);
	CHECK_ERR(tg_domain_punycode_check((const uint8_t *)"tda", 3), TG_OK);
	CHECK_ERR(tg_domain_punycode_check((const uint8_t *)"", 0), TG_ERR_NAME_PUNYCODE);
	CHECK_ERR(tg_domain_punycode_check((const uint8_t *)"abc-", 4), TG_ERR_NAME_PUNYCODE);
	CHECK_ERR(tg_domain_punycode_check((const uint8_t *)"t\xc3\xa1", 4), TG_ERR_NAME_PUNYCODE);
	CHECK_ERR(tg_domain_punycode_check((const uint8_t *)"TDA", 3), TG_ERR_NAME_PUNYCODE);
	/* "a" is delta 0: U+0080. Decodable; IDNA code point rules are not checked (domain.h). */
	CHECK_ERR(tg_domain_punycode_check((const uint8_t *)"a", 1), TG_OK);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
	test_lengths();
	test_truncations();
	test_idempotent();
	test_each_byte();
	test_punycode_direct();
	return tg_test_done();
}
