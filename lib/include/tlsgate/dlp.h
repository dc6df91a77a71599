/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dlp.h - the cheap DLP detectors of policy format v1 (policy/README.md "dlp[]"): payment card
 * numbers with the Luhn check, and keyword counting. Regular expressions are stored by the
 * policy but evaluated by the proxy's scanner, not here.
 *
 * Card numbers: 13 to 19 digits, optionally in groups separated by single spaces or dashes,
 * not preceded or followed by another digit, whose Luhn checksum (ISO/IEC 7812-1 annex B) is 0.
 */
#ifndef TLSGATE_DLP_H
#define TLSGATE_DLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tg_dlp_luhn_ok() - whether the @n ASCII digits at @d pass the Luhn check (false if n is 0
 * or a byte is not a digit). */
bool tg_dlp_luhn_ok(const uint8_t *d, size_t n);

/* tg_dlp_count_cards() - card numbers found in @buf (@len bytes), counting up to @max. */
size_t tg_dlp_count_cards(const uint8_t *buf, size_t len, size_t max);

/*
 * tg_dlp_count_keyword() - non-overlapping occurrences of @word (@wlen bytes, > 0) in @buf,
 * ASCII case-insensitively unless @case_sensitive, counting up to @max.
 */
size_t tg_dlp_count_keyword(const uint8_t *buf, size_t len, const uint8_t *word, size_t wlen,
			    bool case_sensitive, size_t max);

#endif
