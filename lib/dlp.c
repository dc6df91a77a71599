/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dlp.c - Luhn-checked card number finder and keyword counter (dlp.h). Both read the body
 * through the cursor once, left to right; no allocation.
 */
#include "tlsgate/cursor.h"
#include "tlsgate/dlp.h"

#define DLP_CARD_MIN 13
#define DLP_CARD_MAX 19

static bool dlp_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

bool tg_dlp_luhn_ok(const uint8_t *d, size_t n)
{
	unsigned sum = 0;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned v;

		if (!dlp_digit(d[n - 1 - i]))
			return false;
		v = (unsigned)(d[n - 1 - i] - '0');
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

/*
 * From a digit that does not follow another digit, take digits with single separators (space
 * or dash) between them; a run of 13..19 digits that is not followed by a further digit and
 * passes Luhn is a card number.
 */
size_t tg_dlp_count_cards(const uint8_t *buf, size_t len, size_t max)
{
	struct tg_cur c;
	size_t found = 0;
	uint8_t prev = 0;

	tg_cur_init(&c, buf, len);
	while (tg_cur_left(&c) > 0 && found < max) {
		uint8_t ch = tg_cur_peek(&c, 0), digits[DLP_CARD_MAX];
		size_t nd = 0, ahead = 0, used = 0;

		if (!dlp_digit(ch) || dlp_digit(prev)) {
			prev = tg_cur_u8(&c);
			continue;
		}
		while (ahead < tg_cur_left(&c)) {
			uint8_t x = tg_cur_peek(&c, ahead);

			if (dlp_digit(x)) {
				if (nd == DLP_CARD_MAX) {
					nd = 0; /* too long a digit run: not a card */
					break;
				}
				digits[nd++] = x;
				used = ++ahead;
			} else if ((x == ' ' || x == '-') && ahead + 1 < tg_cur_left(&c) &&
				   dlp_digit(tg_cur_peek(&c, ahead + 1)) && nd > 0) {
				ahead++;
			} else {
				break;
			}
		}
		if (nd >= DLP_CARD_MIN && tg_dlp_luhn_ok(digits, nd)) {
			found++;
			tg_cur_skip(&c, used);
			prev = '0';
			continue;
		}
		prev = tg_cur_u8(&c);
	}
	return found;
}

static uint8_t dlp_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

size_t tg_dlp_count_keyword(const uint8_t *buf, size_t len, const uint8_t *word, size_t wlen,
			    bool case_sensitive, size_t max)
{
	struct tg_cur c;
	size_t found = 0;

	if (wlen == 0)
		return 0;
	tg_cur_init(&c, buf, len);
	while (tg_cur_left(&c) >= wlen && found < max) {
		size_t i;

		for (i = 0; i < wlen; i++) {
			uint8_t a = tg_cur_peek(&c, i), b = word[i];

			if (case_sensitive ? a != b : dlp_lower(a) != dlp_lower(b))
				break;
		}
		if (i == wlen) {
			found++;
			tg_cur_skip(&c, wlen);
		} else {
			tg_cur_skip(&c, 1);
		}
	}
	return found;
}
