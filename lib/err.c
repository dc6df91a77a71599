/* SPDX-License-Identifier: GPL-2.0-or-later */
/* err.c - texts for enum tg_err, generated from the one table in err.h. */
#include "tlsgate/err.h"

static const char *const err_texts[] = {
#define TG_ERR_TEXT(name, text) [name] = text,
	TG_ERR_TABLE(TG_ERR_TEXT)
#undef TG_ERR_TEXT
};

static const char *const err_names[] = {
#define TG_ERR_NAME(name, text) [name] = #name,
	TG_ERR_TABLE(TG_ERR_NAME)
#undef TG_ERR_NAME
};

const char *tg_strerror(enum tg_err e)
{
	if ((unsigned)e >= TG_ERR__COUNT)
		return "unknown error";
	return err_texts[e];
}

const char *tg_err_name(enum tg_err e)
{
	if ((unsigned)e >= TG_ERR__COUNT)
		return "TG_ERR_UNKNOWN";
	return err_names[e];
}
