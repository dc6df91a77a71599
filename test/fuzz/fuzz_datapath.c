/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_datapath.c - datapath_parse (daemon/datapath.c), tlsgate-setup's state file as tlsgated
 * reads it, over the whole input. Invariants (abort() on violation): a refusal says why and
 * leaves the output untouched; an accepted file has queues in range, port lists within
 * TG_CAP_PORTS without 0 or duplicates, and marks that pass the setup's checks (distinct
 * non-zero decisions inside the mask, single bits disjoint from it and from each other).
 */
#include <stdlib.h>
#include <string.h>

#include "datapath.h"
#include "fuzz.h"

static void check_ports(const struct dp_ports *ps)
{
	size_t i, j;

	if (ps->n > TG_CAP_PORTS)
		abort();
	for (i = 0; i < ps->n; i++) {
		if (ps->p[i] == 0)
			abort();
		for (j = i + 1; j < ps->n; j++)
			if (ps->p[i] == ps->p[j])
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct datapath dp, before;
	char err[256];
	const struct tg_marks *m = &dp.marks;
	uint32_t single[5];
	uint32_t used;
	size_t i;

	memset(&dp, 0x5a, sizeof(dp));
	memcpy(&before, &dp, sizeof(dp));
	err[0] = '\0';
	if (datapath_parse((const char *)data, size, &dp, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || memcmp(&dp, &before, sizeof(dp)) != 0)
			abort();
		return 0;
	}
	if (dp.queues == 0 || dp.queue_num + dp.queues > 65536)
		abort();
	for (i = 0; i < DP__COUNT; i++)
		check_ports(&dp.ports[i]);
	if (m->decision_mask == 0 || m->pass == m->block || m->pass == m->adopt ||
	    m->block == m->adopt || (m->pass & ~m->decision_mask) || m->pass == 0)
		abort();
	single[0] = m->drop;
	single[1] = m->inspect;
	single[2] = m->local;
	single[3] = m->rst;
	single[4] = m->stream;
	used = m->decision_mask;
	for (i = 0; i < 5; i++) {
		if (single[i] == 0 || (single[i] & used))
			abort();
		used |= single[i];
	}
	return 0;
}
