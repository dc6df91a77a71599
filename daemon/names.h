/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * names.h - address -> name pairs learned from the DNS answers the gateway sees, for the
 * decision logs and for flows that carry no name (no SNI, IP-only): DESIGN.md "DNS filtering
 * ... learns address->name pairs". Bounded (NAMES_ENTRIES), each pair lives its record's TTL
 * (at most NAMES_TTL_MAX_S). Shared by every queue thread behind one mutex: a lookup or an
 * insert is a few dozen instructions.
 */
#ifndef TLSGATE_NAMES_H
#define TLSGATE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"

#define NAMES_ENTRIES	16384 /* pairs kept; a full probe window replaces its oldest */
#define NAMES_PROBE	8 /* slots looked at per address */
#define NAMES_TTL_MAX_S 86400 /* a record's TTL is honoured up to this */

struct names;

struct names *names_new(void);
void names_free(struct names *n);
/* @addr (4 bytes for family 4) resolves to @name (normalized, @len bytes) for @ttl_s. */
void names_learn(struct names *n, uint8_t family, const uint8_t *addr, const char *name, size_t len,
		 uint32_t ttl_s, uint64_t now_ms);
/* The live name of @addr into @out (NUL-terminated); false when none. */
bool names_lookup(struct names *n, uint8_t family, const uint8_t *addr,
		  char out[static TG_CAP_NAME_LEN + 1], size_t *len, uint64_t now_ms);

#endif
