/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diag.c - diagnostics of one load (diag.h): a bounded array of formatted messages with
 * counts that keep going when it is full.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tlsgate/diag.h"

void tg_diag_init(struct tg_diag *d)
{
	d->n = 0;
	d->errors = 0;
	d->warnings = 0;
}

void tg_diag_add(struct tg_diag *d, enum tg_diag_level level, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return;
	if (level == TG_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n >= TG_CAP_DIAG_MSGS)
		return;
	d->msg[d->n].level = level;
	va_start(ap, fmt);
	vsnprintf(d->msg[d->n].text, sizeof(d->msg[d->n].text), fmt, ap);
	va_end(ap);
	d->n++;
}
