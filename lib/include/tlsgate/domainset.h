/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * domainset.h - an immutable set of domain patterns with label-aligned, most-specific matching,
 * built for millions of entries (category databases, the implicit bypass list, policy rules).
 *
 * Patterns (the name part is in the normal form of domain.h):
 *
 *   kind                     text            matches                    does not match
 *   TG_DSET_EXACT            example.com     example.com                a.example.com
 *   TG_DSET_SUBDOMAINS       *.example.com   a.example.com, a.b.ex...   example.com
 *   TG_DSET_DOMAIN_AND_SUBS  .example.com    example.com, a.example.com
 *
 * Matching is label-aligned: example.com never matches badexample.com. A pattern's "*" stands
 * for one or more whole labels; there is no other wildcard ("a*.example.com" is not a pattern).
 *
 * Lookup returns the MOST SPECIFIC match: the pattern with the longest name that matches, i.e.
 * the longest label-aligned suffix of the query that carries a pattern of a kind that applies.
 * At the same name the narrower kind wins: EXACT over DOMAIN_AND_SUBS for the query itself, and
 * SUBDOMAINS over DOMAIN_AND_SUBS for a query below it (they match the same queries there, and
 * the one that says less about the parent is the more specific statement).
 *
 * Duplicates: adding the same name with the same kind twice keeps the FIRST value (the same rule
 * as first-match rule order); the set counts dropped duplicates (tg_dset_duplicates) so a loader
 * can warn. The same name with different kinds is three distinct entries.
 *
 * Representation and its one inexactness: the set does not store names. Each entry is a 64-bit
 * keyed fingerprint - SipHash-2-4 under the caller's 128-bit key of the name's labels, right to
 * left, each as a length byte and its bytes - with the kind in its low two bits, plus the 32-bit
 * value: 12 bytes in a bucketized cuckoo hash table (two candidate buckets of five slots, one
 * 64-byte cache line each, ~90% full), 14.2 bytes per entry in all. A lookup computes the
 * fingerprints of every label-aligned suffix of the query in one right-to-left pass and probes
 * two cache lines per suffix. Consequences:
 * - A name that is not in the set is reported as a member only if its 62-bit fingerprint equals
 *   a stored one in one of its two buckets: at most 10 comparisons per suffix, so below 2^-58
 *   per suffix probed, and since the key is secret an attacker cannot search for such names
 *   offline. Two distinct patterns with the same fingerprint (probability about n^2 / 2^63, 3e-6
 *   for 5 million entries) are treated as duplicates: the second one is dropped and counted.
 * - Patterns cannot be listed back from a built set; keep the source if you need to show them.
 */
#ifndef TLSGATE_DOMAINSET_H
#define TLSGATE_DOMAINSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/err.h"

enum tg_dset_kind {
	TG_DSET_EXACT, /* "example.com" */
	TG_DSET_SUBDOMAINS, /* "*.example.com" */
	TG_DSET_DOMAIN_AND_SUBS, /* ".example.com" */
};

struct tg_dset_builder;
struct tg_dset;

/* tg_dset_builder_new() - an empty builder, or NULL when out of memory. Free with
 * tg_dset_builder_free() or hand it to tg_dset_build(). */
struct tg_dset_builder *tg_dset_builder_new(void);

/*
 * tg_dset_builder_add() - add @name (@len bytes, any case, optional trailing dot: it is
 * normalized with tg_domain_normalize) as a pattern of @kind carrying @value. The name must not
 * carry the "*." or "." prefix; tg_dset_parse_pattern() turns pattern text into name + kind.
 * Returns TG_OK, a TG_ERR_NAME_* code from normalization, TG_ERR_ARG for an unknown @kind,
 * TG_ERR_CAP beyond TG_CAP_DSET_ENTRIES entries, or TG_ERR_NOMEM. Duplicates are not an error
 * here (see above). On error the builder is unchanged.
 */
enum tg_err tg_dset_builder_add(struct tg_dset_builder *b, const char *name, size_t len,
				enum tg_dset_kind kind, uint32_t value) TG_WUR;

/*
 * tg_dset_builder_add_pattern() - tg_dset_parse_pattern() then tg_dset_builder_add(): add the
 * pattern text @text ("*.x", ".x" or "x") with @value. Same errors as the two.
 */
enum tg_err tg_dset_builder_add_pattern(struct tg_dset_builder *b, const char *text, size_t len,
					uint32_t value) TG_WUR;

/* tg_dset_builder_count() - entries added so far, duplicates included. */
size_t tg_dset_builder_count(const struct tg_dset_builder *b);

/*
 * tg_dset_parse_pattern() - split pattern text @text (@len bytes) into its kind and normalized
 * name: "*.example.com" is TG_DSET_SUBDOMAINS, ".example.com" is TG_DSET_DOMAIN_AND_SUBS,
 * "example.com" is TG_DSET_EXACT. The name is written to @out (NUL-terminated) and its length
 * to *@out_len. Returns TG_OK or the TG_ERR_NAME_* code of the name part: "*." and "." give
 * TG_ERR_NAME_EMPTY, any other '*' ("*", "**.x", "a*.x", "x.*") gives TG_ERR_NAME_CHAR.
 */
enum tg_err tg_dset_parse_pattern(const char *text, size_t len,
				  char out[static TG_CAP_NAME_LEN + 1], size_t *out_len,
				  enum tg_dset_kind *kind) TG_WUR;

/*
 * tg_dset_build() - build the immutable set from everything added to @b, fingerprinted under
 * @key (16 bytes; secret and random, from the caller: the library has no randomness). Consumes
 * @b: it is freed whether or not the build succeeds. Returns the set, or NULL when out of memory
 * (or, with vanishing probability, when twelve growing table sizes all fail to place every
 * entry). Takes O(n) expected time. Peak memory is the builder (6 bytes + the name per entry)
 * plus the set.
 */
struct tg_dset *tg_dset_build(struct tg_dset_builder *b, const uint8_t key[static 16]);

void tg_dset_builder_free(struct tg_dset_builder *b);
void tg_dset_free(struct tg_dset *s);

/*
 * tg_dset_lookup() - the most specific pattern matching @name (@len bytes, ALREADY NORMALIZED:
 * lowercase, no trailing dot; a name that is not in normal form - an empty or over-long label,
 * more than 253 bytes - matches nothing). On a match returns true and stores the pattern's
 * value, kind and name length (the length of the matching suffix of @name) through the pointers
 * that are not NULL. Returns false when nothing matches. Never allocates; safe to call from
 * several threads at once on the same set.
 */
bool tg_dset_lookup(const struct tg_dset *s, const char *name, size_t len, uint32_t *value,
		    enum tg_dset_kind *kind, size_t *matched_len);

/* tg_dset_count() - distinct entries in the set (duplicates dropped). */
size_t tg_dset_count(const struct tg_dset *s);

/* tg_dset_duplicates() - entries dropped at build time as duplicates of an earlier one. */
size_t tg_dset_duplicates(const struct tg_dset *s);

/* tg_dset_bytes() - every byte the set holds allocated, the structure itself included. */
size_t tg_dset_bytes(const struct tg_dset *s);

#endif
