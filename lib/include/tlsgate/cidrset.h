/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cidrset.h - an immutable set of IPv4/IPv6 prefixes (struct tg_cidr, cidr.h) with
 * longest-prefix match: policy source/destination networks and bindings, Microsoft 365
 * endpoint sets, the content package's address lists.
 *
 * IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer) IS IPv4
 * for the set: a lookup of a mapped address is the lookup of a.b.c.d, and an added IPv6 prefix
 * inside ::ffff:0:0/96 with a length of at least 96 is stored as the IPv4 prefix it covers
 * (::ffff:10.0.0.0/104 is 10.0.0.0/8). An IPv6 prefix shorter than 96 that covers the mapped
 * block (::/0, ::/80) stays IPv6 and never matches an IPv4 or mapped address: ::/0 is "all of
 * IPv6", not "everything".
 */
#ifndef TLSGATE_CIDRSET_H
#define TLSGATE_CIDRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/err.h"

struct tg_cidr;
struct tg_cidrset_builder;
struct tg_cidrset;

/* tg_cidrset_builder_new() - an empty builder, or NULL when out of memory. */
struct tg_cidrset_builder *tg_cidrset_builder_new(void);

/*
 * tg_cidrset_builder_add() - add prefix @c with @value. Returns TG_OK; TG_ERR_CIDR for a family
 * other than 4/6 or a length beyond 32/128; TG_ERR_CIDR_HOST_BITS for bits set beyond the
 * length; TG_ERR_CAP beyond TG_CAP_CIDR_ENTRIES; TG_ERR_NOMEM. Adding the same prefix again is
 * not an error: the FIRST value is kept and the duplicate counted (tg_cidrset_duplicates).
 */
enum tg_err tg_cidrset_builder_add(struct tg_cidrset_builder *b, const struct tg_cidr *c,
				   uint32_t value) TG_WUR;

/*
 * tg_cidrset_build() - the immutable set of everything added to @b. Consumes @b (freed whether
 * or not the build succeeds). Returns NULL when out of memory. O(n log n).
 */
struct tg_cidrset *tg_cidrset_build(struct tg_cidrset_builder *b);

void tg_cidrset_builder_free(struct tg_cidrset_builder *b);
void tg_cidrset_free(struct tg_cidrset *s);

/*
 * tg_cidrset_lookup() - longest-prefix match of @addr (@family 4 or 6, IPv4 in addr[0..3]).
 * On a match returns true and stores the prefix's value and length (for a mapped address: the
 * IPv4 length) through the pointers that are not NULL. Never allocates; thread-safe on a shared
 * set.
 */
bool tg_cidrset_lookup(const struct tg_cidrset *s, uint8_t family, const uint8_t addr[static 16],
		       uint32_t *value, uint8_t *plen);

/* tg_cidrset_count() - distinct prefixes in the set. */
size_t tg_cidrset_count(const struct tg_cidrset *s);

/* tg_cidrset_duplicates() - prefixes dropped at build time as repeats of an earlier one. */
size_t tg_cidrset_duplicates(const struct tg_cidrset *s);

/* tg_cidrset_bytes() - every byte the set holds allocated, the structure itself included. */
size_t tg_cidrset_bytes(const struct tg_cidrset *s);

#endif
