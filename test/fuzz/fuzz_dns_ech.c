/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_dns_ech.c - ech stripping over any message the DNS parser accepts. Invariants: the
 * rewritten message parses; it has the same questions and answers with the same names, types
 * and TTLs; no answer keeps an ech parameter; it is shorter by exactly the parameters removed;
 * without ech it is a byte-exact copy.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/dns.h"
#include "tlsgate/dns_ech.h"

static struct tg_dns_msg in, out;
static uint8_t buf[65536];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t olen, i, cut = 0;
	unsigned n;

	if (size > sizeof(buf) || tg_dns_parse(&in, data, size) != TG_OK)
		return 0;
	if (tg_dns_strip_ech(&in, data, size, buf, &olen, &n) != TG_OK)
		return 0;
	for (i = 0; i < in.n_an; i++)
		if ((in.an[i].type == 64 || in.an[i].type == 65) && in.an[i].u.svcb.has_ech)
			cut += 4 + in.an[i].u.svcb.ech.len;
	if (olen != size - cut || (n == 0 && memcmp(buf, data, size) != 0))
		abort();
	if (tg_dns_parse(&out, buf, olen) != TG_OK || out.n_q != in.n_q || out.n_an != in.n_an)
		abort();
	for (i = 0; i < in.n_an; i++) {
		if (out.an[i].type != in.an[i].type || out.an[i].ttl != in.an[i].ttl ||
		    strcmp(out.an[i].name.text, in.an[i].name.text) != 0)
			abort();
		if ((out.an[i].type == 64 || out.an[i].type == 65) && out.an[i].u.svcb.has_ech)
			abort();
		if (out.an[i].type == 5 &&
		    strcmp(out.an[i].u.cname.text, in.an[i].u.cname.text) != 0)
			abort();
	}
	return 0;
}
