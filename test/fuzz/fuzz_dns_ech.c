/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_dns_ech.c - ech stripping over arbitrary bytes. Invariants: stripping never reads or
 * writes out of bounds; on success the output is shorter exactly when parameters were removed
 * (at least 4 octets each) and without them is a byte-exact copy; stripping the output again
 * removes nothing and copies it exactly (no ech left in any section). For a message the parser
 * accepts: the rewritten one parses too, with the same counts, questions and answers (names,
 * types, TTLs, CNAME targets), and no answer keeps an ech parameter.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/dns.h"
#include "tlsgate/dns_ech.h"

static struct tg_dns_msg in, out;
static uint8_t buf[65536], again[65536];

#define FUZZ_ASSERT(c)           \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static void check_parsed(const uint8_t *data, size_t size, size_t olen)
{
	size_t i;

	if (tg_dns_parse(&in, data, size) != TG_OK)
		return;
	FUZZ_ASSERT(tg_dns_parse(&out, buf, olen) == TG_OK);
	FUZZ_ASSERT(out.n_q == in.n_q && out.n_an == in.n_an && out.ancount == in.ancount &&
		    out.nscount == in.nscount && out.arcount == in.arcount);
	for (i = 0; i < in.n_q; i++)
		FUZZ_ASSERT(strcmp(out.q[i].name.text, in.q[i].name.text) == 0);
	for (i = 0; i < in.n_an; i++) {
		FUZZ_ASSERT(out.an[i].type == in.an[i].type && out.an[i].ttl == in.an[i].ttl &&
			    strcmp(out.an[i].name.text, in.an[i].name.text) == 0);
		if (out.an[i].class != TG_DNS_CLASS_IN)
			continue;
		if (out.an[i].type == TG_DNS_TYPE_SVCB || out.an[i].type == TG_DNS_TYPE_HTTPS)
			FUZZ_ASSERT(!out.an[i].u.svcb.has_ech);
		if (out.an[i].type == TG_DNS_TYPE_CNAME)
			FUZZ_ASSERT(strcmp(out.an[i].u.cname.text, in.an[i].u.cname.text) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t olen, olen2;
	unsigned n, n2;

	if (size > sizeof(buf))
		return 0;
	if (tg_dns_strip_ech(data, size, buf, &olen, &n) != TG_OK) {
		FUZZ_ASSERT(olen == 0 && n == 0);
		return 0;
	}
	FUZZ_ASSERT(n == 0 ? olen == size && memcmp(buf, data, size) == 0
			   : olen + 4 * (size_t)n <= size);
	FUZZ_ASSERT(tg_dns_strip_ech(buf, olen, again, &olen2, &n2) == TG_OK);
	FUZZ_ASSERT(n2 == 0 && olen2 == olen && memcmp(again, buf, olen) == 0);
	check_parsed(data, size, olen);
	return 0;
}
