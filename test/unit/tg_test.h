/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tg_test.h - the minimal unit-test harness: CHECK macros that count, and a closing line
 * "N passed, N failed" that ctest and CI read. A test binary exits 1 on any failure, and on no
 * check at all (a test that ran nothing proves nothing); it exits 77 (ctest: skipped) when data
 * it needs from outside the repository is missing, except under CI, where that is a failure.
 */
#ifndef TG_TEST_H
#define TG_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

static unsigned tg_test_pass, tg_test_fail;
static const char *tg_test_skipped; /* why part of the test did not run, or NULL */

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

/*
 * Is @path (data from outside the repository, e.g. ../shared/testdata) readable? When it is not,
 * the checks that need it are skipped: the test ends with 77 if nothing failed — or, with CI set
 * in the environment (.ci/run), counts a failure, since CI must run every check. Data in the
 * repository needs no such test: a missing file there is an ordinary failed CHECK.
 */
static inline bool tg_test_need_external(const char *path)
{
	if (access(path, R_OK) == 0)
		return true;
	if (getenv("CI") != NULL) {
		tg_test_fail++;
		fprintf(stderr, "external test data missing under CI: %s\n", path);
	} else {
		tg_test_skipped = path;
		printf("skipping the checks that need %s (not readable)\n", path);
	}
	return false;
}

static inline int tg_test_done(void)
{
	printf("%u passed, %u failed\n", tg_test_pass, tg_test_fail);
	if (tg_test_fail)
		return 1;
	if (tg_test_pass == 0) {
		fprintf(stderr, "no check ran: a test that checks nothing fails\n");
		return 1;
	}
	if (tg_test_skipped != NULL) {
		printf("skipped: %s is missing\n", tg_test_skipped);
		return 77;
	}
	return 0;
}

#endif
