/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oshint.h - a passive OS hint from a client's TCP SYN (the p0f idea: each stack fills its SYN
 * in its own way). The daemon's packet dissector fills struct tg_oshint_syn; tg_oshint_guess()
 * answers a family, a confidence and the initial TTL. Pure: no table is loaded at run time.
 *
 * The clues, strongest first (published p0f v3 signatures, checked against real captures):
 * - TCP option order. Windows 7..11: MSS,NOP,WS,NOP,NOP,SACK_PERM (no timestamps by default).
 *   macOS and iOS: MSS,NOP,WS,NOP,NOP,TS,SACK_PERM,EOL(,EOL) - the only common stack that pads
 *   with EOL. Linux and Android: MSS,SACK_PERM,TS,NOP,WS, or MSS,NOP,NOP,SACK_PERM,NOP,WS with
 *   timestamps off.
 * - Initial TTL: 128 for Windows, 64 for Apple and Linux (255 for network gear, some BSDs and
 *   old Solaris). The observed TTL is the initial one minus the hops to the gateway.
 * - Window and window scale. Windows 10/11: 64240, scale 8 (Windows 7: 8192). Apple: 65535,
 *   scale 5..6 today (1..4 on old releases). Linux: a multiple of the MSS (10x, 20x, 44x =
 *   64240), 29200 or 65535, scale 7 or more on current kernels.
 * - DF: all three set it on IPv4; its absence weakens every guess.
 *
 * What a passive hint cannot know, and why pushed posture always wins (the classifier applies
 * it: "pushed posture always wins"): the hint sees the stack that built the SYN, which is not
 * always the endpoint - a VM behind host NAT shows the host's stack, a phone's hotspot or a
 * travel router rewrites TTL (and may clamp MSS), VPN and proxy clients show the tunnel's
 * stack, and anyone can tune window, scale and timestamps. It cannot tell iOS from macOS,
 * Android from desktop Linux or ChromeOS, or one Windows release from another, and it knows
 * nothing of the managed state. Pushed posture (from an agent or MDM) overrides family,
 * version and managed; use the hint only where no posture was pushed, and only above a
 * confidence threshold the policy chooses.
 */
#ifndef TLSGATE_OSHINT_H
#define TLSGATE_OSHINT_H

#include <stdbool.h>
#include <stdint.h>

#include "tlsgate/caps.h"

/* The SYN as the dissector saw it. */
struct tg_oshint_syn {
	uint8_t ip_version; /* 4 or 6 */
	uint8_t ttl; /* IPv4 TTL / IPv6 hop limit, as received */
	bool df; /* IPv4 don't-fragment (ignored for IPv6) */
	uint16_t ip_len; /* IPv4 total length / IPv6 payload length (informational) */
	uint16_t window; /* TCP window, unscaled */
	bool has_mss;
	uint16_t mss;
	bool has_wscale;
	uint8_t wscale;
	bool sack_perm;
	bool has_ts;
	uint8_t nopts; /* option kinds in wire order, NOP and EOL included */
	uint8_t opts[TG_CAP_TCP_OPT_KINDS]; /* kinds beyond the cap are not looked at */
};

enum tg_os_family {
	TG_OSF_UNKNOWN = 0,
	TG_OSF_WINDOWS = 1,
	TG_OSF_APPLE = 2, /* macOS and iOS/iPadOS */
	TG_OSF_LINUX = 3, /* Linux, Android, ChromeOS */
	TG_OSF__COUNT
};

struct tg_os_hint {
	enum tg_os_family family;
	uint8_t confidence; /* 0..100; 0 with TG_OSF_UNKNOWN */
	uint8_t initial_ttl; /* 32, 64, 128 or 255 */
	uint8_t hops; /* initial_ttl - ttl */
};

/*
 * tg_oshint_guess() - the hint for @syn into *@out. Never fails: unusable input (no options,
 * unknown IP version) gives TG_OSF_UNKNOWN with confidence 0. A family is named only when its
 * score beats the others clearly (a TTL of 64 alone does not tell Apple from Linux).
 */
void tg_oshint_guess(const struct tg_oshint_syn *syn, struct tg_os_hint *out);

/* tg_oshint_family_name() - "windows", "apple", "linux" or "unknown". */
const char *tg_oshint_family_name(enum tg_os_family f);

#endif
