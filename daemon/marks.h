/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * marks.h - the nfmark/connmark bit layout shared with scripts/tlsgate-setup. The defines are
 * the defaults, the same values as scripts/tlsgate-marks.env (test/test_marks.sh checks both
 * agree); the values in force are a struct tg_marks, which tlsgated takes from what
 * tlsgate-setup installed (datapath.h), so an override reaches both programs.
 *
 * A decision is recorded by answering NF_REPEAT with
 *   mark = (packet mark & ~(DECISION_MASK | DROP)) | decision [| DROP]
 * The first mangle PREROUTING rule saves the decision into the connmark, so every later packet
 * of the flow is handled in the kernel (HANDOFF.md). NF_REPEAT without decision or DROP bits
 * would queue the packet again: never do that.
 */
#ifndef TLSGATE_MARKS_H
#define TLSGATE_MARKS_H

#define TG_MARK_DECISION_MASK 0x00030000u /* connmark state of a flow */
#define TG_MARK_PASS	      0x00010000u /* decided: pass in the kernel */
#define TG_MARK_BLOCK	      0x00020000u /* decided: drop the rest */
#define TG_MARK_ADOPT	      0x00030000u /* client half adopted: server's late packets dropped */
#define TG_MARK_DROP	      0x00040000u /* nfmark only: drop this packet after saving */
#define TG_MARK_INSPECT	      0x00080000u /* set by the ruleset: flow was queued from the LAN */
#define TG_MARK_LOCAL	      0x00100000u /* fwmark: local delivery (socket match) */
#define TG_MARK_RST	      0x00200000u /* SO_MARK of injected packets: CT --notrack */
#define TG_MARK_STREAM	      0x00400000u /* HTTP flow judged per request: replies not queued */
#define TG_ROUTE_TABLE	      1443
#define TG_RULE_PREF	      1443

#include <stdint.h>

/* The marks in force (datapath.c fills them; the engine and the raw sockets use them). */
struct tg_marks {
	uint32_t decision_mask, pass, block, adopt, drop, inspect, local, rst, stream;
	uint32_t route_table, rule_pref;
};

static inline void tg_marks_default(struct tg_marks *m)
{
	m->decision_mask = TG_MARK_DECISION_MASK;
	m->pass = TG_MARK_PASS;
	m->block = TG_MARK_BLOCK;
	m->adopt = TG_MARK_ADOPT;
	m->drop = TG_MARK_DROP;
	m->inspect = TG_MARK_INSPECT;
	m->local = TG_MARK_LOCAL;
	m->rst = TG_MARK_RST;
	m->stream = TG_MARK_STREAM;
	m->route_table = TG_ROUTE_TABLE;
	m->rule_pref = TG_RULE_PREF;
}

#endif
