/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_names.c - daemon/names.c, the learned (client, server address) -> name pairs, through its
 * seam: time is an argument, so expiry is tested with a fake clock. Pairs belong to the client
 * that resolved them; a live pair is not overwritten; the same name again extends it; a full
 * table replaces, never loses count of what it holds.
 */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "tg_test.h"

static const uint8_t c1[4] = { 192, 0, 2, 10 }, c2[4] = { 192, 0, 2, 11 };
static const uint8_t s1[4] = { 203, 0, 113, 5 }, s2[4] = { 203, 0, 113, 6 };
static const uint8_t c6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x05 };

static enum names_learn learn4(struct names *n, const uint8_t *c, const uint8_t *s,
			       const char *name, uint32_t ttl_s, uint64_t now_ms)
{
	return names_learn(n, 4, c, 4, s, name, strlen(name), ttl_s, now_ms);
}

/* The name @c resolved for @s at @now_ms, "" when none. */
static const char *look4(struct names *n, const uint8_t *c, const uint8_t *s, uint64_t now_ms)
{
	static char out[TG_CAP_NAME_LEN + 1];
	size_t len = 9999;

	if (!names_lookup(n, 4, c, s, out, &len, now_ms))
		return "";
	if (len != strlen(out))
		return "(length disagrees)";
	return out;
}

#define CHECK_NAME(n, c, s, now, want)                          \
	do {                                                    \
		const char *got_ = look4((n), (c), (s), (now)); \
		CHECK_MEM(got_, strlen(got_), (want));          \
	} while (0)

/* Learned per client: another client, or another server, finds nothing. */
static void test_per_client(struct names *n)
{
	CHECK_INT(learn4(n, c1, s1, "pass.test", 60, 1000), NAMES_NEW);
	CHECK_NAME(n, c1, s1, 1000, "pass.test");
	CHECK_NAME(n, c2, s1, 1000, "");
	CHECK_NAME(n, c1, s2, 1000, "");
	/* The other client's own answer names its own flows, and leaves c1's alone. */
	CHECK_INT(learn4(n, c2, s1, "other.test", 60, 1000), NAMES_NEW);
	CHECK_NAME(n, c2, s1, 1000, "other.test");
	CHECK_NAME(n, c1, s1, 1000, "pass.test");
}

/* A pair lives its TTL to the millisecond; 0 counts as 1 s; the TTL is capped at an hour. */
static void test_ttl(struct names *n)
{
	const uint64_t t0 = 5000000;

	CHECK_INT(learn4(n, c1, s2, "ttl.test", 10, t0), NAMES_NEW);
	CHECK_NAME(n, c1, s2, t0 + 9999, "ttl.test");
	CHECK_NAME(n, c1, s2, t0 + 10000, "");
	/* Expired: the address may take another name (a new pair, not a conflict). */
	CHECK_INT(learn4(n, c1, s2, "next.test", 0, t0 + 10000), NAMES_NEW);
	CHECK_NAME(n, c1, s2, t0 + 10999, "next.test");
	CHECK_NAME(n, c1, s2, t0 + 11000, "");
	/* A day-long record lives an hour. */
	CHECK_INT(learn4(n, c2, s2, "day.test", 86400, t0), NAMES_NEW);
	CHECK(look4(n, c2, s2, t0 + NAMES_TTL_MAX_S * 1000ull - 1)[0] != '\0');
	CHECK_NAME(n, c2, s2, t0 + NAMES_TTL_MAX_S * 1000ull, "");
}

/* A live pair is not overwritten by another name; the same name again extends it. */
static void test_conflict_refresh(struct names *n)
{
	const uint64_t t0 = 9000000;
	const uint8_t s[4] = { 198, 51, 100, 1 };

	CHECK_INT(learn4(n, c1, s, "first.test", 30, t0), NAMES_NEW);
	CHECK_INT(learn4(n, c1, s, "second.test", 300, t0 + 1000), NAMES_CONFLICT);
	CHECK_NAME(n, c1, s, t0 + 1000, "first.test");
	/* The conflict did not extend the first pair either. */
	CHECK_NAME(n, c1, s, t0 + 30000, "");
	/* Refresh: the same name, later, lives to the later expiry; an earlier one shortens nothing. */
	CHECK_INT(learn4(n, c1, s, "first.test", 30, t0 + 30000), NAMES_NEW);
	CHECK_INT(learn4(n, c1, s, "first.test", 30, t0 + 50000), NAMES_REFRESHED);
	CHECK_NAME(n, c1, s, t0 + 79999, "first.test");
	CHECK_INT(learn4(n, c1, s, "first.test", 1, t0 + 51000), NAMES_REFRESHED);
	CHECK_NAME(n, c1, s, t0 + 79999, "first.test");
	CHECK_NAME(n, c1, s, t0 + 80000, "");
	/* Another name of the same length is still another name. */
	CHECK_INT(learn4(n, c1, s, "aaaaa.test", 30, t0 + 90000), NAMES_NEW);
	CHECK_INT(learn4(n, c1, s, "aaaab.test", 30, t0 + 90000), NAMES_CONFLICT);
}

/* IPv6, mixed families, and what is ignored. */
static void test_families(struct names *n)
{
	char out[TG_CAP_NAME_LEN + 1], big[TG_CAP_NAME_LEN + 2];
	size_t len = 0;

	CHECK_INT(names_learn(n, 6, c6, 6, s6, "v6.test", 7, 60, 1000), NAMES_NEW);
	CHECK(names_lookup(n, 6, c6, s6, out, &len, 1000));
	CHECK_MEM(out, len, "v6.test");
	/* The same 16 bytes read as IPv4 are another key. */
	CHECK(!names_lookup(n, 4, c6, s6, out, &len, 1000));
	/* An AAAA answer over IPv4: learned, but no IPv4 flow goes to that server. */
	CHECK_INT(names_learn(n, 4, c1, 6, s6, "aaaa.test", 9, 60, 1000), NAMES_NEW);
	CHECK(!names_lookup(n, 4, c1, s6, out, &len, 1000));
	/* Ignored: empty and overlong names, unknown families. */
	memset(big, 'a', sizeof(big));
	CHECK_INT(names_learn(n, 4, c1, 4, s1, "", 0, 60, 1000), NAMES_IGNORED);
	CHECK_INT(names_learn(n, 4, c1, 4, s1, big, TG_CAP_NAME_LEN + 1, 60, 1000), NAMES_IGNORED);
	CHECK_INT(names_learn(n, 5, c1, 4, s1, "x.test", 6, 60, 1000), NAMES_IGNORED);
	CHECK_INT(names_learn(n, 4, c1, 0, s1, "x.test", 6, 60, 1000), NAMES_IGNORED);
	CHECK(!names_lookup(n, 0, c1, s1, out, &len, 1000));
	/* The longest name is kept whole. */
	big[TG_CAP_NAME_LEN] = '\0';
	CHECK_INT(names_learn(n, 4, c2, 4, s6, big, TG_CAP_NAME_LEN, 60, 2000), NAMES_NEW);
	CHECK(names_lookup(n, 4, c2, s6, out, &len, 2000));
	CHECK_MEM(out, len, big);
}

/*
 * Full: more live pairs than slots. Every new pair is NEW or EVICTED, never lost; the pairs found
 * afterwards are exactly as many as the NEW answers (an eviction keeps the count); the newest is
 * found. The pairs are the server addresses 10.x.y.z of one client, all live to the end.
 */
static void test_full(void)
{
	struct names *n = names_new();
	const size_t total = NAMES_ENTRIES + NAMES_ENTRIES / 4;
	size_t i, fresh = 0, evicted = 0, other = 0, found = 0;
	char out[TG_CAP_NAME_LEN + 1];
	size_t len;

	if (n == NULL) {
		CHECK(n != NULL);
		return;
	}
	for (i = 0; i < total; i++) {
		const uint8_t s[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

		switch (names_learn(n, 4, c1, 4, s, "full.test", 9, 3600, 1000 + i)) {
		case NAMES_NEW:
			fresh++;
			break;
		case NAMES_EVICTED:
			evicted++;
			break;
		default:
			other++;
			break;
		}
	}
	CHECK_INT(other, 0);
	CHECK_INT(fresh + evicted, total);
	CHECK(fresh <= NAMES_ENTRIES);
	CHECK(evicted >= total - NAMES_ENTRIES);
	for (i = 0; i < total; i++) {
		const uint8_t s[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

		found += names_lookup(n, 4, c1, s, out, &len, 1000 + total);
	}
	CHECK_INT(found, fresh);
	{
		const uint8_t s[4] = { 10, (uint8_t)((total - 1) >> 16),
				       (uint8_t)((total - 1) >> 8), (uint8_t)(total - 1) };

		CHECK(names_lookup(n, 4, c1, s, out, &len, 1000 + total));
	}
	/* An hour later every pair has expired: their slots are free again. */
	CHECK_INT(learn4(n, c2, s1, "after.test", 60, 1000 + total + 3600 * 1000), NAMES_NEW);
	names_free(n);
}

int main(void)
{
	struct names *n = names_new();

	if (n == NULL) {
		CHECK(n != NULL);
		return tg_test_done();
	}
	test_per_client(n);
	test_ttl(n);
	test_conflict_refresh(n);
	test_families(n);
	names_free(n);
	names_free(NULL);
	test_full();
	return tg_test_done();
}
