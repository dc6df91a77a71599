/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cursor.c - span comparisons; the reader itself is inline in cursor.h. */
#include <string.h>

#include "tlsgate/cursor.h"

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool tg_span_eq(struct tg_span a, struct tg_span b)
{
	if (a.len != b.len)
		return false;
	return a.len == 0 || memcmp(a.p, b.p, a.len) == 0;
}

bool tg_span_eq_ci(struct tg_span a, struct tg_span b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (lower(a.p[i]) != lower(b.p[i]))
			return false;
	return true;
}

bool tg_span_eq_str_ci(struct tg_span a, const char *s)
{
	struct tg_span b = { (const uint8_t *)s, strlen(s) };

	return tg_span_eq_ci(a, b);
}
