/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cidr.h - IPv4/IPv6 addresses and prefixes in text. The immutable prefix set with
 * longest-prefix match built from them is cidrset.h (included below).
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
 * prefix stays family 6 here (the set folds it, cidrset.h).
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

/*
 * tg_addr_is_mapped() - true when @addr (IPv6, 16 bytes) lies in ::ffff:0:0/96, the block of
 * IPv4-mapped addresses.
 */
bool tg_addr_is_mapped(const uint8_t addr[static 16]);

/*
 * tg_cidr_check() - whether @c is a prefix tg_cidr_parse could have returned: TG_OK;
 * TG_ERR_CIDR for a family other than 4/6 or a length beyond 32/128; TG_ERR_CIDR_HOST_BITS for
 * bits set beyond the length.
 */
enum tg_err tg_cidr_check(const struct tg_cidr *c) TG_WUR;

/* The prefix set (cidrset.h), included here for the callers that found it in this header. */
#include "tlsgate/cidrset.h"

#endif
