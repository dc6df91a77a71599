/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_cursor.c - the bounds-checked reader: reads, sticky errors, vectors, exact consumption. */
#include "tlsgate/cursor.h"
#include "tg_test.h"

static void test_reads(void)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct tg_cur c;
	struct tg_span s;

	tg_cur_init(&c, b, sizeof(b));
	CHECK_INT(tg_cur_u8(&c), 1);
	CHECK_INT(tg_cur_u16(&c), 0x0203);
	CHECK_INT(tg_cur_u24(&c), 0x040506);
	CHECK_INT(tg_cur_u32(&c), 0x0708090a);
	CHECK(tg_cur_ok(&c));
	CHECK_INT(tg_cur_left(&c), 0);
	CHECK(tg_cur_end(&c));
	/* Reading past the end: zero, TRUNCATED, and it sticks. */
	CHECK_INT(tg_cur_u8(&c), 0);
	CHECK_ERR(c.err, TG_ERR_TRUNCATED);
	s = tg_cur_span(&c, 0);
	CHECK(s.p == NULL && s.len == 0);
	CHECK_ERR(c.err, TG_ERR_TRUNCATED);
}

static void test_sticky_first_error(void)
{
	static const uint8_t b[] = { 0xff, 0xfe };
	struct tg_cur c;

	tg_cur_init(&c, b, sizeof(b));
	CHECK_INT(tg_cur_u32(&c), 0); /* too short: nothing consumed */
	CHECK_INT(tg_cur_pos(&c), 0);
	CHECK_INT(tg_cur_u8(&c), 0); /* even a read that would fit fails now */
	tg_cur_fail(&c, TG_ERR_INVALID);
	CHECK_ERR(c.err, TG_ERR_TRUNCATED);
	CHECK_INT(tg_cur_left(&c), 0);
}

static void test_vectors(void)
{
	/* vec16 of 3 bytes { vec8 of 1 byte {0xaa}, 0xbb }, then 0xcc */
	static const uint8_t b[] = { 0x00, 0x03, 0x01, 0xaa, 0xbb, 0xcc };
	struct tg_cur c, v, w;

	tg_cur_init(&c, b, sizeof(b));
	CHECK(tg_cur_vec16(&c, &v));
	CHECK_INT(tg_cur_pos(&c), 5); /* parent skipped the whole vector */
	CHECK(tg_cur_vec8(&v, &w));
	CHECK_INT(tg_cur_u8(&w), 0xaa);
	CHECK(tg_cur_close(&v, &w));
	/* 0xbb left unread in v: closing it is TRAILING on the parent. */
	CHECK(!tg_cur_close(&c, &v));
	CHECK_ERR(c.err, TG_ERR_TRAILING);
}

static void test_lying_length(void)
{
	static const uint8_t b[] = { 0x00, 0x09, 0x01, 0x02 };
	struct tg_cur c, v;

	tg_cur_init(&c, b, sizeof(b));
	CHECK(!tg_cur_vec16(&c, &v));
	CHECK_ERR(c.err, TG_ERR_TRUNCATED);
	CHECK_ERR(v.err, TG_ERR_TRUNCATED);
	CHECK_INT(tg_cur_u8(&v), 0);
	CHECK_INT(tg_cur_left(&v), 0);

	/* vec24 with maximum length on a tiny buffer */
	static const uint8_t m[] = { 0xff, 0xff, 0xff };
	tg_cur_init(&c, m, sizeof(m));
	CHECK(!tg_cur_vec24(&c, &v));
	CHECK_ERR(c.err, TG_ERR_TRUNCATED);
}

static void test_sub_error_propagates(void)
{
	static const uint8_t b[] = { 0x02, 0x01, 0x02, 0x03 };
	struct tg_cur c, v;

	tg_cur_init(&c, b, sizeof(b));
	CHECK(tg_cur_vec8(&c, &v));
	(void)tg_cur_u24(&v); /* asks for 3 of 2 */
	CHECK(!tg_cur_close(&c, &v));
	CHECK_ERR(c.err, TG_ERR_TRUNCATED);
	/* zero-length input */
	tg_cur_init(&c, NULL, 5);
	CHECK_INT(tg_cur_left(&c), 0);
	CHECK(tg_cur_end(&c));
	CHECK(!tg_cur_skip(&c, 1));
}

static void test_spans(void)
{
	struct tg_span a = { (const uint8_t *)"Example.COM", 11 };
	struct tg_span b = { (const uint8_t *)"example.com", 11 };

	CHECK(tg_span_eq_ci(a, b));
	CHECK(!tg_span_eq(a, b));
	CHECK(tg_span_eq_str_ci(a, "EXAMPLE.com"));
	CHECK(!tg_span_eq_str_ci(a, "example.co"));
	CHECK(tg_span_eq(a, a));
	CHECK_INT(tg_cur_peek(&(struct tg_cur){ 0 }, 0), 0);
	CHECK(strcmp(tg_strerror(TG_ERR_DNS_POINTER),
		     "DNS compression pointer loops or points forward") == 0);
	CHECK(strcmp(tg_strerror((enum tg_err)9999), "unknown error") == 0);
}

int main(void)
{
	test_reads();
	test_sticky_first_error();
	test_vectors();
	test_lying_length();
	test_sub_error_propagates();
	test_spans();
	return tg_test_done();
}
