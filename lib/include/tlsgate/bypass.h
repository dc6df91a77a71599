/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bypass.h - the dynamic bypass table (DESIGN.md section 3, "The dynamic bypass").
 *
 * The proxy's pinning detector (pindetect.h) reports each client that rejected the gateway's
 * certificate; after `failures` rejections for the same (principal, SNI) within `window_s`, the
 * pair goes live and the classifier passes that client's flows to that name without decryption
 * for `ttl_s`. Entries are keyed by (principal, SNI): the user if known, else the client
 * address; never the server address (CDNs share addresses).
 *
 * Threads. ONE writer thread calls everything marked "writer" (tg_bypass_reject() and the
 * housekeeping); any number of threads call tg_bypass_lookup(), tg_bypass_ca_missing(),
 * tg_bypass_list() and tg_bypass_stats() concurrently with it, without locks (seqtab.h). The
 * policy classifier holds a `const struct tg_bypass *` and only calls those.
 *
 * Rules (each one tested in test_bypass.c):
 * - Refusals. A report with `filtered` (filtering blocks the host), `ech_outer` (the SNI is an
 *   ECH outer name: a shared front) or `!rule_allows_bypass` (the matching decrypt rule has
 *   bypass_pinned: false) is counted per reason and creates nothing.
 * - Window. A rejection counts while (now - its time) < window_s*1000; the entry goes live at the
 *   rejection that brings the count in the window to `failures` (failures = 1: at the first).
 * - TTL. A live entry is alive for now in [went_live, went_live + ttl_s*1000): exact at the
 *   boundary, checked at every lookup (tg_bypass_expire() only frees the memory). Neither
 *   lookups nor further rejections extend it: a late rejection (a flow classified before the
 *   entry went live) answers TG_BYPASS_ALREADY_LIVE. TTL is the bound on how long one
 *   observation is trusted; when it ends, the host is inspected again and must be re-learned.
 * - Bounds. At most `per_user_max` live entries per principal and `total_max` in all; the same
 *   two bounds apply separately to candidates (keys counting towards `failures`). Making room
 *   evicts the least recently used entry of the principal, else of the table (a counted
 *   eviction). Recency is the later of the last rejection (insert/refresh, writer) and the last
 *   successful lookup (readers stamp it with one relaxed atomic store, at most once a second per
 *   entry): an app in use keeps its entry. Principals (with their ca_missing state and recent
 *   hosts) are tracked up to 2 * total_max + 1; making room evicts the least recent principal
 *   that owns no entry (one always exists), so the principal bound never removes entries.
 * - ca_missing. A principal that rejects >= `ca_missing_hosts` DISTINCT SNIs within
 *   `ca_missing_window_s` does not pin: it lacks the gateway's CA. The rejection that tips it over
 *   creates nothing and answers TG_BYPASS_CA_MISSING_ENTERED; the principal's candidates and
 *   the live entries that went live within the last ca_missing_window_s (learned during the
 *   burst) are withdrawn; older live entries stay (they were learned before, one by one). For
 *   `ca_missing_ttl_s` every further rejection answers TG_BYPASS_CA_MISSING and learns nothing;
 *   tg_bypass_ca_missing() tells the classifier, whose policy decides (e.g. no-decrypt, block,
 *   or a page telling the user to install the CA). All rejections count towards the distinct
 *   hosts, refused ones too (a client without the CA also rejects hosts a rule keeps decrypted).
 *   ca_missing_hosts = 0 turns this off.
 * - Time. now_ms is the caller's monotonic clock; it must not go backwards (if it does,
 *   stamps in the future count as recent).
 *
 * SNI: 1..TG_CAP_NAME_LEN bytes, normalized by the caller (tg_domain_normalize: lowercase, no
 * trailing dot); this module also folds ASCII case, so "A.com" and "a.com" are one key. A flow
 * without SNI cannot be learned.
 *
 * A new configuration (policy reload with changed bypass settings) means a new table: entries
 * are observations, and losing them costs at most `failures` more rejections per pinned app.
 */
#ifndef TLSGATE_BYPASS_H
#define TLSGATE_BYPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/err.h"

struct tg_bypass;

enum tg_principal_kind {
	TG_PRINCIPAL_NONE = 0,
	TG_PRINCIPAL_USER = 1, /* id = user name bytes, 1..TG_CAP_USER_NAME */
	TG_PRINCIPAL_ADDR4 = 4, /* id = IPv4 address, network order */
	TG_PRINCIPAL_ADDR6 = 6, /* id = IPv6 address, network order (never v4-mapped) */
};

/*
 * Who rejected: the user if the identity module knows one, else the client address. Fill it
 * with the tg_bypass_principal_*() helpers. Compared byte for byte: the identity module gives
 * the canonical user name (this module does not fold its case).
 */
struct tg_principal {
	uint8_t kind; /* enum tg_principal_kind */
	uint8_t len; /* bytes of id used */
	uint8_t id[TG_CAP_USER_NAME];
};

/* A user principal: TG_ERR_ZERO_LENGTH for "", TG_ERR_CAP above TG_CAP_USER_NAME bytes. */
enum tg_err tg_bypass_principal_user(struct tg_principal *p, const uint8_t *name,
				     size_t len) TG_WUR;
void tg_bypass_principal_addr4(struct tg_principal *p, const uint8_t addr[static 4]);
/* An IPv6 client; a v4-mapped address (::ffff:a.b.c.d) becomes the IPv4 principal. */
void tg_bypass_principal_addr6(struct tg_principal *p, const uint8_t addr[static 16]);

struct tg_bypass_cfg {
	uint32_t failures; /* rejections to go live, 1..TG_CAP_BYPASS_FAILURES */
	uint32_t window_s; /* ... within this many seconds, >= 1 */
	uint32_t ttl_s; /* a live entry lives this long, >= 1 */
	uint32_t per_user_max; /* live entries per principal, 1..total_max */
	uint32_t total_max; /* live entries in all, 1..TG_CAP_BYPASS_ENTRIES */
	uint32_t ca_missing_hosts; /* distinct hosts, 0 (off) or 2..TG_CAP_BYPASS_CA_HOSTS */
	uint32_t ca_missing_window_s; /* ... within this many seconds, >= 1 when on */
	uint32_t ca_missing_ttl_s; /* the ca_missing state lasts this long, >= 1 when on */
};

/*
 * tg_bypass_cfg_default() - the defaults a policy gets when it says nothing: 3 failures in 600 s,
 * live 24 h, 64 per principal, 4096 in all, ca_missing at 8 distinct hosts in 120 s for 3600 s.
 */
void tg_bypass_cfg_default(struct tg_bypass_cfg *cfg);

/*
 * tg_bypass_cfg_check() - TG_OK, or TG_ERR_ARG with *@what (may be NULL) set to a static text
 * naming the field and its allowed range, e.g. "failures: must be 1..16", for the policy
 * loader's error message.
 */
enum tg_err tg_bypass_cfg_check(const struct tg_bypass_cfg *cfg, const char **what) TG_WUR;

/*
 * tg_bypass_new() - an empty table for @cfg, keyed with the 16 random bytes @key (hash-flooding
 * resistance: give it fresh randomness per process). *@out owns it; tg_bypass_free() frees it.
 * TG_ERR_ARG (bad cfg), TG_ERR_NOMEM. Memory is fixed here: about 1.6 KB * total_max
 * (+ 32 bytes * ca_missing_hosts * 2 * total_max).
 */
enum tg_err tg_bypass_new(const struct tg_bypass_cfg *cfg, const uint8_t key[static 16],
			  struct tg_bypass **out) TG_WUR;

/* tg_bypass_free() - free @t (NULL is a no-op); no thread may use it any more. */
void tg_bypass_free(struct tg_bypass *t);

/* What the caller knows about the flow whose rejection it reports (decision-time facts). */
struct tg_bypass_report {
	bool filtered; /* filtering blocks this host */
	bool ech_outer; /* the SNI is an ECH outer (public) name */
	bool rule_allows_bypass; /* the matching decrypt rule has bypass_pinned (default true) */
};

enum tg_bypass_result {
	TG_BYPASS_COUNTED, /* counted towards `failures`; not live yet */
	TG_BYPASS_LIVE, /* this rejection made the entry live */
	TG_BYPASS_ALREADY_LIVE, /* the entry was live already (not extended) */
	TG_BYPASS_REFUSED_FILTERED, /* filtering blocks the host: never bypassed */
	TG_BYPASS_REFUSED_ECH, /* ECH outer name: never bypassed */
	TG_BYPASS_REFUSED_RULE, /* the decrypt rule says bypass_pinned: false */
	TG_BYPASS_CA_MISSING_ENTERED, /* this rejection showed the client lacks the CA */
	TG_BYPASS_CA_MISSING, /* the principal is in the ca_missing state */
	TG_BYPASS_INVALID, /* bad principal or SNI: nothing recorded */
	TG_BYPASS_RESULT__COUNT
};

/* tg_bypass_result_name() - a stable lowercase text ("counted", "refused-ech", ...). */
const char *tg_bypass_result_name(enum tg_bypass_result r);

/*
 * tg_bypass_reject() - writer. Report that @p rejected the gateway's certificate for @sni
 * (@sni_len bytes) at @now_ms, with the decision-time facts in @rep (NULL = all false, which
 * refuses: no rule allowed it). Applies the rules above and answers what happened.
 */
enum tg_bypass_result tg_bypass_reject(struct tg_bypass *t, const struct tg_principal *p,
				       const uint8_t *sni, size_t sni_len,
				       const struct tg_bypass_report *rep, uint64_t now_ms);

/*
 * tg_bypass_lookup() - any thread. True when (@p, @sni) is live at @now_ms; *@expires_ms (may be
 * NULL) gets its end. False for invalid input. Lock-free; may miss an entry only while the writer
 * is deleting entries at that instant (seqtab.h), which costs one more inspected flow.
 */
bool tg_bypass_lookup(const struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
		      size_t sni_len, uint64_t now_ms, uint64_t *expires_ms);

/*
 * tg_bypass_ca_missing() - any thread. True when @p is in the ca_missing state at @now_ms;
 * *@until_ms (may be NULL) gets its end.
 */
bool tg_bypass_ca_missing(const struct tg_bypass *t, const struct tg_principal *p, uint64_t now_ms,
			  uint64_t *until_ms);

/* tg_bypass_remove() - writer. Forget (@p, @sni), live or candidate. TG_OK or TG_ERR_NOT_FOUND. */
enum tg_err tg_bypass_remove(struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
			     size_t sni_len) TG_WUR;

/* tg_bypass_ca_clear() - writer. End @p's ca_missing state. TG_OK or TG_ERR_NOT_FOUND. */
enum tg_err tg_bypass_ca_clear(struct tg_bypass *t, const struct tg_principal *p) TG_WUR;

/* tg_bypass_flush() - writer. Forget everything (counters stay). */
void tg_bypass_flush(struct tg_bypass *t);

/*
 * tg_bypass_expire() - writer housekeeping, about once a second: free expired live entries,
 * candidates with no rejection left in the window, ended ca_missing states and principals with
 * nothing left. Returns the number of entries freed. O(total_max).
 */
size_t tg_bypass_expire(struct tg_bypass *t, uint64_t now_ms);

enum tg_bypass_state {
	TG_BYPASS_STATE_LIVE = 1,
	TG_BYPASS_STATE_CANDIDATE = 2,
	TG_BYPASS_STATE_CA_MISSING = 4,
};

/* One row of `tlsgatectl bypass list`: a copy, valid during the callback. */
struct tg_bypass_entry {
	enum tg_bypass_state state;
	struct tg_principal principal;
	uint8_t sni[TG_CAP_NAME_LEN]; /* not NUL-terminated; empty for CA_MISSING */
	size_t sni_len;
	uint64_t since_ms; /* went live / first counted rejection / entered ca_missing */
	uint64_t expires_ms; /* end of life / last rejection leaves the window / ca_missing ends */
	uint32_t rejections; /* rejections seen (LIVE: including late ones; CANDIDATE: in window) */
};

/*
 * tg_bypass_list() - any thread. Call @cb for each entry whose state is in the mask @states
 * (TG_BYPASS_STATE_* or'ed) and that is alive at @now_ms, until @cb returns false. Each entry is
 * a consistent copy (its principal and SNI belong together); the list as a whole is not one
 * instant. Candidates are the writer's: listing them from another thread is still safe.
 */
void tg_bypass_list(const struct tg_bypass *t, unsigned states, uint64_t now_ms,
		    bool (*cb)(const struct tg_bypass_entry *e, void *arg), void *arg);

/* Counters (monotonic) and gauges; tg_bypass_stats() may be called from any thread. */
struct tg_bypass_stats {
	uint64_t reports; /* tg_bypass_reject() calls with valid input */
	uint64_t invalid; /* ... with invalid input */
	uint64_t counted; /* TG_BYPASS_COUNTED */
	uint64_t went_live; /* TG_BYPASS_LIVE */
	uint64_t already_live; /* TG_BYPASS_ALREADY_LIVE */
	uint64_t refused_filtered; /* TG_BYPASS_REFUSED_* */
	uint64_t refused_ech;
	uint64_t refused_rule;
	uint64_t ca_missing_entered; /* TG_BYPASS_CA_MISSING_ENTERED */
	uint64_t ca_missing_reports; /* TG_BYPASS_CA_MISSING */
	uint64_t ca_withdrawn; /* entries withdrawn when a principal entered ca_missing */
	uint64_t evicted_user; /* live entries evicted by per_user_max */
	uint64_t evicted_total; /* live entries evicted by total_max */
	uint64_t evicted_cand; /* candidates evicted by either bound */
	uint64_t evicted_principal; /* principals evicted (with their entries) */
	uint64_t expired; /* entries freed by tg_bypass_expire() */
	uint64_t removed; /* entries removed by tg_bypass_remove() / flush */
	uint32_t live; /* gauges: records held now (live ones may have expired) */
	uint32_t candidates;
	uint32_t principals;
};

void tg_bypass_stats(const struct tg_bypass *t, struct tg_bypass_stats *out);

/*
 * tg_bypass_add() - writer. The administrator's entry: (@p, @sni) is live from @now_ms for
 * @ttl_s seconds (0: the table's ttl_s). An entry live already gets the new lifetime; a
 * candidate for the pair is replaced. The bounds apply as for a learned entry (per_user_max,
 * total_max: the least recently used goes, counted as an eviction); a new entry counts in
 * went_live. TG_OK, or TG_ERR_ARG for an invalid principal or SNI (nothing recorded).
 */
enum tg_err tg_bypass_add(struct tg_bypass *t, const struct tg_principal *p, const uint8_t *sni,
			  size_t sni_len, uint32_t ttl_s, uint64_t now_ms) TG_WUR;

/*
 * tg_bypass_flush_principal() - writer. Forget everything about @p: its live entries,
 * candidates and ca_missing state (counted as removed). Returns the entries removed (0 also
 * when @p is unknown or invalid).
 */
size_t tg_bypass_flush_principal(struct tg_bypass *t, const struct tg_principal *p);

#endif
