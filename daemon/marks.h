/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * marks.h - the nfmark/connmark bit layout shared with scripts/tlsgate-setup (which reads the
 * same values from scripts/tlsgate-marks.env; test_marks checks both agree).
 *
 * A verdict sets nfmark bits with NF_REPEAT; the first mangle PREROUTING rule saves them into
 * the connmark, so every later packet of the flow is handled in the kernel (HANDOFF.md).
 */
#ifndef TLSGATE_MARKS_H
#define TLSGATE_MARKS_H

#define TG_MARK_STATE_MASK 0x00030000u /* connmark state of a flow */
#define TG_MARK_PASS 0x00010000u       /* decided: pass in the kernel */
#define TG_MARK_BLOCK 0x00020000u      /* decided: drop the rest */
#define TG_MARK_ADOPTED 0x00030000u    /* client half adopted: server's late packets dropped */
#define TG_MARK_DROP 0x00040000u       /* nfmark only: drop this packet after saving the state */
#define TG_MARK_LOCAL 0x00080000u      /* fwmark: route to local delivery (socket match) */
#define TG_MARK_RST 0x00100000u        /* SO_MARK of injected packets: CT --notrack */

#endif
