/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bypass_impl.h - the dynamic bypass table's layout, private to its two files:
 *   bypass.c        the object (configuration, new, free), principals and the packed key,
 *                   and the readers any thread may call (lookup, ca_missing, list, stats)
 *   bypass_write.c  the one writer: what a rejection report teaches (candidates, going live,
 *                   the ca_missing detector) and the housekeeping (remove, flush, expire)
 * The rules and the threading contract are bypass.h's.
 *
 * Three seqtab tables, each bounded by cfg.total_max records:
 *
 *   live  (principal, SNI) -> { went_live_ms, expires_ms, rejections }   read by any thread
 *   cand  (principal, SNI) -> { first_ms, last_ms, rejections }           writer (listable)
 *   prin  principal        -> { ca_until_ms, ca_since_ms }                read by any thread
 *
 * Key words: w[0] = kind | principal_len << 8 | sni_len << 16, then the principal id bytes and
 * the lowercased SNI bytes back to back, zero-padded. The hash covers only the bytes used.
 *
 * Writer-private state sits in arrays parallel to the records: for live and candidate records,
 * the owning principal and a per-principal doubly linked list (for per_user_max); for each
 * principal, its list heads and counts, and the distinct hosts it rejected recently (the
 * ca_missing detector: a ring of (SNI hash, time), at most ca_missing_hosts long).
 */
#ifndef TLSGATE_BYPASS_IMPL_H
#define TLSGATE_BYPASS_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/bypass.h"
#include "tlsgate/seqtab.h"

#define NIL	  UINT32_MAX
#define KEY_BYTES (TG_CAP_USER_NAME + TG_CAP_NAME_LEN)
#define ENT_KW	  (1 + (KEY_BYTES + 7) / 8)
#define ENT_VW	  3
#define PRIN_KW	  (1 + (TG_CAP_USER_NAME + 7) / 8)
#define PRIN_VW	  2

/* Value word positions. */
enum { V_SINCE = 0, V_END = 1, V_COUNT = 2 };
enum { P_UNTIL = 0, P_SINCE = 1 };

/* clang-format off */
#define COUNTERS(X)							\
	X(reports) X(invalid) X(counted) X(went_live) X(already_live)	\
	X(refused_filtered) X(refused_ech) X(refused_rule)		\
	X(ca_missing_entered) X(ca_missing_reports) X(ca_withdrawn)	\
	X(evicted_user) X(evicted_total) X(evicted_cand)		\
	X(evicted_principal) X(expired) X(removed)
/* clang-format on */

enum {
#define C_ENUM(n) C_##n,
	COUNTERS(C_ENUM)
#undef C_ENUM
		C__COUNT
};

/* A packed key: words, and the seqtab view of them. */
struct bkey {
	uint64_t w[ENT_KW];
	struct tg_seqtab_key k;
};

/* Per-principal list membership of live or candidate records. */
struct plist {
	uint32_t *owner; /* principal record */
	uint32_t *prev, *next;
};

struct pstate {
	uint32_t live_head, cand_head;
	uint32_t nlive, ncand;
	uint32_t nhosts;
	uint32_t eprev, enext; /* on the idle list (no entries): LRU order */
	bool idle;
};

struct host_seen {
	uint64_t hash;
	uint64_t ms;
};

struct tg_bypass {
	struct tg_bypass_cfg cfg;
	uint64_t window_ms, ttl_ms, ca_window_ms, ca_ttl_ms;
	uint8_t key[16];
	struct tg_seqtab *live, *cand, *prin;
	struct plist lp, cp;
	uint64_t *cand_ts; /* failures stamps per candidate, oldest first */
	uint8_t *cand_n;
	struct pstate *ps;
	uint32_t idle_head, idle_tail; /* principals without entries, least recent first */
	struct host_seen *hosts; /* ca_missing_hosts per principal */
	_Atomic uint64_t c[C__COUNT];
};

/* a + b, saturating at UINT64_MAX (times near the end of the clock never wrap). */
static inline uint64_t bypass_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Is a stamp at @ms inside a window of @win ms ending now? Future stamps count as recent. */
static inline bool bypass_in_window(uint64_t ms, uint64_t now, uint64_t win)
{
	return now < ms || now - ms < win;
}

/* bypass_principal_ok() - @p is a kind this table knows with a length that kind allows. */
bool bypass_principal_ok(const struct tg_principal *p);

/* bypass_input_ok() - @p is valid and @sni is 1..TG_CAP_NAME_LEN bytes (not NULL). */
bool bypass_input_ok(const struct tg_principal *p, const uint8_t *sni, size_t sni_len);

/*
 * bypass_key_pack() - pack (@p, @sni) into @bk, with its hash under @t's key; @sni_len 0 packs
 * the principal alone (the prin table's key). The SNI is folded to lowercase so that callers
 * that forgot to normalize still hit one key. @p must be bypass_principal_ok() and @sni_len at
 * most TG_CAP_NAME_LEN; @bk's seqtab view points into @bk itself.
 */
void bypass_key_pack(const struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
		     size_t sni_len, struct bkey *bk);

#endif
