/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tg_test.h - the minimal unit-test harness: CHECK macros that count, and a closing line
 * "N passed, N failed" that ctest and CI read. A test binary exits 1 on any failure.
 */
#ifndef TG_TEST_H
#define TG_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned tg_test_pass, tg_test_fail;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (cond) {                                                                      \
			tg_test_pass++;                                                          \
		} else {                                                                         \
			tg_test_fail++;                                                          \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_INT(a, b)                                                                       \
	do {                                                                                  \
		long long va_ = (long long)(a), vb_ = (long long)(b);                         \
		if (va_ == vb_) {                                                             \
			tg_test_pass++;                                                       \
		} else {                                                                      \
			tg_test_fail++;                                                       \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
				__LINE__, #a, va_, #b, vb_);                                  \
		}                                                                             \
	} while (0)

/* Compare an error code by name, so a failure prints which error came back. */
#define CHECK_ERR(a, b)                                                                   \
	do {                                                                              \
		enum tg_err ea_ = (a), eb_ = (b);                                         \
		if (ea_ == eb_) {                                                         \
			tg_test_pass++;                                                   \
		} else {                                                                  \
			tg_test_fail++;                                                   \
			fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, \
				__LINE__, #a, tg_err_name(ea_), tg_err_name(eb_));        \
		}                                                                         \
	} while (0)

/* Compare a span (or pointer + length) with a C string. */
#define CHECK_MEM(p, len, str)                                                              \
	do {                                                                                \
		const char *s_ = (str);                                                     \
		size_t l_ = (len);                                                          \
		if (l_ == strlen(s_) && (l_ == 0 || memcmp((p), s_, l_) == 0)) {            \
			tg_test_pass++;                                                     \
		} else {                                                                    \
			tg_test_fail++;                                                     \
			fprintf(stderr, "%s:%d: got \"%.*s\", expected \"%s\"\n", __FILE__, \
				__LINE__, (int)l_, (const char *)(p), s_);                  \
		}                                                                           \
	} while (0)

#define CHECK_SPAN(span, str) CHECK_MEM((span).p, (span).len, (str))

static inline int tg_test_done(void)
{
	printf("%u passed, %u failed\n", tg_test_pass, tg_test_fail);
	return tg_test_fail ? 1 : 0;
}

#endif
