/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * domain.h - the one normal form of a domain name (SNI, Host, DNS QNAME, policy files).
 *
 * Every name that is compared, stored or looked up goes through tg_domain_normalize() first, so
 * "WWW.Example.COM." from a Host header and "www.example.com" from a policy file are the same
 * bytes. The normal form (RFC 1035 2.3.1 "preferred name syntax", RFC 5890 A-labels):
 *
 *   name   = label *("." label)          total 1..253 bytes (TG_CAP_NAME_LEN), no trailing dot
 *   label  = 1..63 bytes (TG_CAP_LABEL_LEN) of [a-z0-9_-], not starting or ending with "-"
 *
 * Decisions, with their reasons:
 * - ASCII letters are lowercased (DNS compares case-insensitively, RFC 4343); nothing else is
 *   folded and no locale is consulted.
 * - ONE trailing dot is removed: "example.com." is the absolute form of "example.com". A second
 *   one leaves an empty label and is TG_ERR_NAME_LABEL. "." alone (the root) is TG_ERR_NAME_EMPTY.
 * - '_' is accepted anywhere in a label. DNS has _service labels (RFC 8552), and real hosts send
 *   underscores in SNI and Host (browsers accept them); rejecting them would make a policy unable
 *   to name such a host, and an attacker gains nothing from it: matching is on exact bytes.
 * - Non-ASCII bytes are TG_ERR_NAME_CHAR: callers send A-labels ("xn--..."), never UTF-8.
 *   NUL, space, '*', '/', ':' and every other byte outside [A-Za-z0-9_.-] are TG_ERR_NAME_CHAR.
 * - A label beginning "xn--" is an A-label (RFC 5890 2.3.2.1) and must be valid punycode
 *   (RFC 3492 6.2): decodable without overflow, at least one non-ASCII code point, no surrogate
 *   or code point above U+10FFFF, only LDH characters (no '_'), and the decoded U-label must not
 *   begin or end with '-' nor have "--" in positions 3 and 4 (RFC 5891 4.2.3.1). Otherwise
 *   TG_ERR_NAME_PUNYCODE. Full IDNA2008 code point rules (RFC 5892) are not checked.
 * - Other labels with "--" in positions 3 and 4 (RFC 5890 "reserved LDH labels") are ACCEPTED
 *   as plain LDH labels: real hosts use them (YouTube's "r3---sn-abc.googlevideo.com"), and the
 *   gateway must be able to name what clients connect to.
 * - All-numeric names ("10.0.0.1") are syntactically LDH and accepted; callers that must tell an
 *   IP literal from a name ask tg_addr_parse() (cidr.h).
 *
 * Error precedence, so a given bad input always gives the same answer: empty input or "." →
 * TG_ERR_NAME_EMPTY; more than 253 bytes after removing one trailing dot → TG_ERR_NAME_TOO_LONG;
 * then labels left to right, and within a label: a bad byte (TG_ERR_NAME_CHAR), then its length
 * (TG_ERR_NAME_LABEL), then a leading/trailing hyphen (TG_ERR_NAME_HYPHEN), then punycode
 * (TG_ERR_NAME_PUNYCODE).
 */
#ifndef TLSGATE_DOMAIN_H
#define TLSGATE_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/err.h"

/*
 * tg_domain_normalize() - validate @in (@len bytes, not NUL-terminated, may contain anything)
 * and write its normal form to @out, NUL-terminated, with its length (without the NUL) in
 * *@out_len. @in and @out may not overlap. On error @out is the empty string and *@out_len is
 * 0. Returns TG_OK or TG_ERR_NAME_EMPTY / _TOO_LONG / _LABEL / _CHAR / _HYPHEN / _PUNYCODE.
 * The output is a fixed point: normalizing it again gives the same bytes.
 */
enum tg_err tg_domain_normalize(const uint8_t *in, size_t len, char out[static TG_CAP_NAME_LEN + 1],
				size_t *out_len) TG_WUR;

/*
 * tg_domain_punycode_check() - check the part of an A-label after "xn--": @label, @len bytes,
 * lowercase. Returns TG_OK when it is valid punycode as described above (decodes, yields at
 * least one non-ASCII code point, U-label hyphen rules hold), else TG_ERR_NAME_PUNYCODE.
 * Exposed for tests and for callers that validate single labels.
 */
enum tg_err tg_domain_punycode_check(const uint8_t *label, size_t len) TG_WUR;

#endif
