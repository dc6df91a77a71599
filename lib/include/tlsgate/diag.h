/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diag.h - diagnostics of one load: the errors and warnings the policy, content and category
 * loaders report, as "PATH: MESSAGE" lines in a caller-provided struct. The library prints
 * nothing; the caller shows them.
 *
 * Its own module so that a loader below the policy (catdb.c) can report without including
 * policy.h; policy.h includes this header, so its callers see these names unchanged.
 */
#ifndef TLSGATE_DIAG_H
#define TLSGATE_DIAG_H

#include <stddef.h>

#include "tlsgate/caps.h"

enum tg_diag_level {
	TG_DIAG_ERROR,
	TG_DIAG_WARNING,
};

struct tg_diag_msg {
	enum tg_diag_level level;
	char text[TG_CAP_DIAG_TEXT]; /* "PATH: MESSAGE", NUL-terminated, truncated to fit */
};

/*
 * Diagnostics of one load: the first TG_CAP_DIAG_MSGS messages are kept in order; errors and
 * warnings count all of them. Zero it (tg_diag_init) before a load.
 */
struct tg_diag {
	struct tg_diag_msg msg[TG_CAP_DIAG_MSGS];
	size_t n;
	size_t errors;
	size_t warnings;
};

void tg_diag_init(struct tg_diag *d);

/* tg_diag_add() - append a printf-formatted message; counts it even when the array is full. */
void tg_diag_add(struct tg_diag *d, enum tg_diag_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
