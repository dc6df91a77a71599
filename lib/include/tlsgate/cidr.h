/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cidr.h - IPv4/IPv6 addresses and prefixes in text, and an immutable prefix set with
 * longest-prefix match (policy source/destination networks, Microsoft 365 endpoint sets, the
 * content package's address lists).
 *
 * Text accepted (strict: what an administrator writes is what the gateway uses):
 * - IPv4: a dotted quad, exactly four decimal octets 0..255, no leading zeros ("010.1.1.1" is
 *   an error, not octal 8), no short forms ("10.1", "167772161"), nothing around it.
 * - IPv6: RFC 4291 2.2 - eight groups of 1..4 hex digits (either case), "::" at most once and
 *   standing for one or more zero groups, optionally ending in a dotted quad for the last 32 bits
 *   ("::ffff:192.0.2.1", "64:ff9b::192.0.2.1"). No zone ("%eth0"), no brackets, no spaces.
 * - A prefix: address "/" length, the length decimal without leading zeros, 0..32 or 0..128.
 *   A bare address is a /32 or /128. An address with bits set beyond the length
 *   ("10.1.2.3/8") is TG_ERR_CIDR_HOST_BITS, not silently truncated: it is almost always a
 *   typo for something else, and the admin should say which.
 * Everything else is TG_ERR_CIDR.
 *
 * Output text: IPv4 as a dotted quad; IPv6 in the RFC 5952 canonical form (lowercase, no leading
 * zeros, "::" for the longest run of two or more zero groups, the first such run on a tie), and
 * IPv4-mapped addresses (::ffff:0:0/96) as "::ffff:a.b.c.d" (RFC 5952 5). Other embeddings are
 * printed as plain IPv6.
 *
 * IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer) IS IPv4
 * for the set: a lookup of a mapped address is the lookup of a.b.c.d, and an added IPv6 prefix
 * inside ::ffff:0:0/96 with a length of at least 96 is stored as the IPv4 prefix it covers
 * (::ffff:10.0.0.0/104 is 10.0.0.0/8). An IPv6 prefix shorter than 96 that covers the mapped
 * block (::/0, ::/80) stays IPv6 and never matches an IPv4 or mapped address: ::/0 is "all of
 * IPv6", not "everything".
 */
#ifndef TLSGATE_CIDR_H
#define TLSGATE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/err.h"

/* Text buffer sizes, NUL included: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" and "/128". */
#define TG_ADDR_TEXT_MAX 46
#define TG_CIDR_TEXT_MAX 50

/* A prefix. IPv4 uses addr[0..3] (network order) and keeps addr[4..15] zero. */
struct tg_cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint8_t plen;
};

/*
 * tg_addr_parse() - parse an address (@text, @len bytes, not NUL-terminated) as described
 * above. On TG_OK *@family is 4 or 6 and @addr holds it in network order (IPv4 in addr[0..3],
 * the rest zeroed). Returns TG_OK or TG_ERR_CIDR; on error @family and @addr are unspecified.
 */
enum tg_err tg_addr_parse(const char *text, size_t len, uint8_t *family,
			  uint8_t addr[static 16]) TG_WUR;

/*
 * tg_cidr_parse() - parse "address/length" or a bare address into @out. Returns TG_OK,
 * TG_ERR_CIDR_HOST_BITS, or TG_ERR_CIDR. The prefix is returned as written: a mapped IPv6
 * prefix stays family 6 here (the set folds it, see above).
 */
enum tg_err tg_cidr_parse(const char *text, size_t len, struct tg_cidr *out) TG_WUR;

/*
 * tg_addr_format() - write the text of an address of @family (4 or 6) to @out (@cap bytes),
 * NUL-terminated and truncated like snprintf. Returns the length of the full text (without the
 * NUL), at most TG_ADDR_TEXT_MAX - 1; 0 (and an empty string) for an unknown family.
 */
size_t tg_addr_format(uint8_t family, const uint8_t addr[static 16], char *out, size_t cap);

/* tg_cidr_format() - "address/length", like tg_addr_format (at most TG_CIDR_TEXT_MAX - 1). */
size_t tg_cidr_format(const struct tg_cidr *c, char *out, size_t cap);

/*
 * tg_cidr_contains() - true when @addr of @family lies inside prefix @c of the same family.
 * Plain bit comparison: no IPv4-mapped folding here.
 */
bool tg_cidr_contains(const struct tg_cidr *c, uint8_t family, const uint8_t addr[static 16]);

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
