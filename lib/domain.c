/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * domain.c - the normal form of a domain name, and an RFC 3492 punycode decoder used to check
 * A-labels.
 *
 * Text form (RFC 1035 2.3.1, RFC 1123 2.1, RFC 5890 2.3): labels separated by '.', each 1..63
 * bytes of letters, digits and hyphens, 253 bytes in all (255 on the wire: one length byte per
 * label plus the root). See domain.h for what is accepted beyond that ('_', reserved LDH labels)
 * and why.
 *
 * Punycode (RFC 3492 6.2): an A-label is "xn--" followed by the basic code points, a '-' if there
 * were any, then generalized variable-length integers (digits a-z = 0..25, 0-9 = 26..35) each
 * giving the next insertion as a delta over (code point, position). The decoder below is the
 * RFC's, with the overflow checks of its section 6.4, run only to decide validity; the decoded
 * U-label is kept just long enough to check its hyphen rules.
 */
#include <stdbool.h>
#include <string.h>

#include "tlsgate/cursor.h"
#include "tlsgate/domain.h"

/* RFC 3492 5: the Bootstring parameters that make it punycode. */
enum {
	PUNY_BASE = 36,
	PUNY_TMIN = 1,
	PUNY_TMAX = 26,
	PUNY_SKEW = 38,
	PUNY_DAMP = 700,
	PUNY_INITIAL_BIAS = 72,
	PUNY_INITIAL_N = 128,
};

#define PUNY_MAXINT    UINT32_MAX
#define UNICODE_MAX    0x10ffffu
#define ACE_PREFIX     "xn--"
#define ACE_PREFIX_LEN 4
/* The U-label of a 63-byte A-label has at most 59 code points (each takes at least one byte). */
#define PUNY_MAX_POINTS (TG_CAP_LABEL_LEN - ACE_PREFIX_LEN)

static inline uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* After lowercasing: the bytes a label may hold (domain.h explains '_'). */
static inline bool name_byte_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static inline bool ldh_lower(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* RFC 3492 5: a-z are 0..25, 0-9 are 26..35; -1 for anything else. */
static int puny_digit(uint8_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '0' && c <= '9')
		return c - '0' + 26;
	return -1;
}

/* RFC 3492 6.1: bias adaptation after each delta. */
static uint32_t puny_adapt(uint32_t delta, uint32_t numpoints, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / PUNY_DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
		delta /= PUNY_BASE - PUNY_TMIN;
		k += PUNY_BASE;
	}
	return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

/* Threshold t for digit position k (RFC 3492 6.2, clamped to [tmin, tmax]). */
static uint32_t puny_threshold(uint32_t k, uint32_t bias)
{
	if (k <= bias)
		return PUNY_TMIN;
	if (k >= bias + PUNY_TMAX)
		return PUNY_TMAX;
	return k - bias;
}

/*
 * Read one generalized variable-length integer from @c and add it to *@i. False on a bad digit,
 * the end of input inside the integer, or overflow.
 */
static bool puny_read_delta(struct tg_cur *c, uint32_t *i, uint32_t bias)
{
	uint32_t w = 1, k;

	for (k = PUNY_BASE;; k += PUNY_BASE) {
		uint32_t t = puny_threshold(k, bias);
		int digit;

		if (tg_cur_left(c) == 0)
			return false;
		digit = puny_digit(tg_cur_u8(c));
		if (digit < 0 || (uint32_t)digit > (PUNY_MAXINT - *i) / w)
			return false;
		*i += (uint32_t)digit * w;
		if ((uint32_t)digit < t)
			return true;
		if (w > PUNY_MAXINT / (PUNY_BASE - t))
			return false;
		w *= PUNY_BASE - t;
	}
}

enum tg_err tg_domain_punycode_check(const uint8_t *label, size_t len)
{
	uint32_t cp[PUNY_MAX_POINTS];
	uint32_t n = PUNY_INITIAL_N, i = 0, bias = PUNY_INITIAL_BIAS, out = 0;
	size_t basic = 0, pos, inserted = 0;
	struct tg_cur c;

	if (len == 0 || len > PUNY_MAX_POINTS)
		return TG_ERR_NAME_PUNYCODE;
	/* Basic code points are everything before the last delimiter (none if there is none). */
	tg_cur_init(&c, label, len);
	for (pos = 0; tg_cur_left(&c); pos++) {
		uint8_t ch = tg_cur_u8(&c);

		if (!ldh_lower(ch))
			return TG_ERR_NAME_PUNYCODE;
		if (ch == '-')
			basic = pos;
	}
	tg_cur_init(&c, label, len);
	for (pos = 0; pos < basic; pos++)
		cp[out++] = tg_cur_u8(&c);
	if (basic > 0)
		(void)tg_cur_u8(&c); /* the delimiter */
	else if (tg_cur_peek(&c, 0) == '-')
		return TG_ERR_NAME_PUNYCODE; /* "-x": a delimiter with no basic code points */

	while (tg_cur_left(&c)) {
		uint32_t oldi = i;

		if (!puny_read_delta(&c, &i, bias))
			return TG_ERR_NAME_PUNYCODE;
		bias = puny_adapt(i - oldi, out + 1, oldi == 0);
		if (i / (out + 1) > PUNY_MAXINT - n)
			return TG_ERR_NAME_PUNYCODE;
		n += i / (out + 1);
		i %= out + 1;
		if (n > UNICODE_MAX || (n >= 0xd800 && n <= 0xdfff) || out >= PUNY_MAX_POINTS)
			return TG_ERR_NAME_PUNYCODE;
		memmove(cp + i + 1, cp + i, (out - i) * sizeof(cp[0]));
		cp[i++] = n;
		out++;
		inserted++;
	}
	/* An A-label must encode something non-ASCII; then the U-label's own hyphen rules. */
	if (inserted == 0 || cp[0] == '-' || cp[out - 1] == '-')
		return TG_ERR_NAME_PUNYCODE;
	if (out >= 4 && cp[2] == '-' && cp[3] == '-')
		return TG_ERR_NAME_PUNYCODE;
	return TG_OK;
}

/* Checks on one complete label @p (@len bytes, already lowercased and of allowed bytes). */
static enum tg_err domain_label_check(const char *p, size_t len)
{
	size_t k;

	if (len == 0 || len > TG_CAP_LABEL_LEN)
		return TG_ERR_NAME_LABEL;
	if (p[0] == '-' || p[len - 1] == '-')
		return TG_ERR_NAME_HYPHEN;
	if (len < ACE_PREFIX_LEN || memcmp(p, ACE_PREFIX, ACE_PREFIX_LEN) != 0)
		return TG_OK;
	for (k = ACE_PREFIX_LEN; k < len; k++)
		if (p[k] == '_')
			return TG_ERR_NAME_PUNYCODE;
	return tg_domain_punycode_check((const uint8_t *)p + ACE_PREFIX_LEN, len - ACE_PREFIX_LEN);
}

enum tg_err tg_domain_normalize(const uint8_t *in, size_t len, char out[static TG_CAP_NAME_LEN + 1],
				size_t *out_len)
{
	enum tg_err err = TG_OK;
	struct tg_cur c;
	size_t n = 0, start = 0;

	out[0] = '\0';
	*out_len = 0;
	if (in == NULL || len == 0)
		return TG_ERR_NAME_EMPTY;
	/* Too long even with a trailing dot: decided before reading a byte. */
	if (len > TG_CAP_NAME_LEN + 1)
		return TG_ERR_NAME_TOO_LONG;
	/* Drop one trailing dot: the absolute form names the same host. */
	tg_cur_init(&c, in, len);
	(void)tg_cur_skip(&c, len - 1);
	if (tg_cur_u8(&c) == '.')
		len--;
	if (len == 0)
		return TG_ERR_NAME_EMPTY;
	if (len > TG_CAP_NAME_LEN)
		return TG_ERR_NAME_TOO_LONG;

	tg_cur_init(&c, in, len);
	while (tg_cur_left(&c)) {
		uint8_t ch = ascii_lower(tg_cur_u8(&c));

		if (ch == '.') {
			err = domain_label_check(out + start, n - start);
			if (err != TG_OK)
				goto out;
			out[n++] = '.';
			start = n;
			continue;
		}
		if (!name_byte_ok(ch)) {
			err = TG_ERR_NAME_CHAR;
			goto out;
		}
		out[n++] = (char)ch;
	}
	err = domain_label_check(out + start, n - start);
out:
	if (err != TG_OK)
		n = 0;
	out[n] = '\0';
	*out_len = n;
	return err;
}
