/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oshint.c - passive OS hint from a TCP SYN (clues and limits in oshint.h).
 *
 * The SYN fields come from the IPv4 header (RFC 791: TTL, DF flag, total length), the IPv6
 * header (RFC 8200: hop limit, payload length) and the TCP header and options (RFC 9293 3.1,
 * 3.2: window, MSS kind 2; RFC 7323: window scale kind 3, timestamps kind 8; RFC 2018: SACK
 * permitted kind 4; NOP kind 1, EOL kind 0). The dissector has parsed them; this file only
 * scores.
 *
 * Scoring, per family, out of 100: option layout 50 (40 for a family's secondary layout),
 * initial TTL 30, window 10, window scale 10 (5 or 3 for older values), minus 10 without DF on
 * IPv4. The best family is named if it scores at least 30 and beats the runner-up by more
 * than 10; otherwise the hint is UNKNOWN.
 */
#include <string.h>

#include "tlsgate/oshint.h"

/* Option layouts as letters: M mss, N nop, W wscale, S sack_perm, T timestamps, E eol. */
struct layout {
	const char *opts;
	uint8_t family;
	uint8_t points;
};

static const struct layout layouts[] = {
	{ "MNWNNS", TG_OSF_WINDOWS, 50 }, /* Windows 7..11 */
	{ "MNNS", TG_OSF_WINDOWS, 40 }, /* Windows without window scaling (XP era) */
	{ "MNWNNTS", TG_OSF_APPLE, 50 }, /* macOS, iOS (followed by EOL padding) */
	{ "MSTNW", TG_OSF_LINUX, 50 }, /* Linux, Android */
	{ "MNNSNW", TG_OSF_LINUX, 40 }, /* Linux with timestamps off */
	{ "MST", TG_OSF_LINUX, 40 }, /* Linux with window scaling off */
};

static const char *const family_names[TG_OSF__COUNT] = {
	[TG_OSF_UNKNOWN] = "unknown",
	[TG_OSF_WINDOWS] = "windows",
	[TG_OSF_APPLE] = "apple",
	[TG_OSF_LINUX] = "linux",
};

const char *tg_oshint_family_name(enum tg_os_family f)
{
	if ((unsigned)f >= TG_OSF__COUNT)
		return "unknown";
	return family_names[f];
}

static uint8_t initial_ttl(uint8_t ttl)
{
	if (ttl <= 32)
		return 32;
	if (ttl <= 64)
		return 64;
	if (ttl <= 128)
		return 128;
	return 255;
}

/* The layout as letters, trailing EOL padding dropped; *@eol tells whether there was some. */
static void layout_of(const struct tg_oshint_syn *syn, char *buf, size_t cap, bool *eol)
{
	size_t i, n = syn->nopts < TG_CAP_TCP_OPT_KINDS ? syn->nopts : TG_CAP_TCP_OPT_KINDS;
	size_t len = 0;

	for (i = 0; i < n && len + 1 < cap; i++) {
		switch (syn->opts[i]) {
		case 0:
			buf[len++] = 'E';
			break;
		case 1:
			buf[len++] = 'N';
			break;
		case 2:
			buf[len++] = 'M';
			break;
		case 3:
			buf[len++] = 'W';
			break;
		case 4:
			buf[len++] = 'S';
			break;
		case 8:
			buf[len++] = 'T';
			break;
		default:
			buf[len++] = '?';
			break;
		}
	}
	*eol = false;
	while (len > 0 && buf[len - 1] == 'E') {
		len--;
		*eol = true;
	}
	buf[len] = '\0';
}

static bool window_linux(const struct tg_oshint_syn *syn)
{
	static const uint8_t mult[] = { 1, 2, 4, 10, 20, 44, 45 };
	size_t i;

	if (syn->window == 64240 || syn->window == 65535 || syn->window == 29200)
		return true;
	if (!syn->has_mss || syn->mss == 0 || syn->window % syn->mss)
		return false;
	for (i = 0; i < sizeof(mult); i++)
		if (syn->window / syn->mss == mult[i])
			return true;
	return false;
}

static int window_points(const struct tg_oshint_syn *syn, enum tg_os_family f)
{
	switch (f) {
	case TG_OSF_WINDOWS:
		return syn->window == 64240 || syn->window == 65535 || syn->window == 8192 ? 10 : 0;
	case TG_OSF_APPLE:
		return syn->window == 65535 ? 10 : 0;
	case TG_OSF_LINUX:
		return window_linux(syn) ? 10 : 0;
	default:
		return 0;
	}
}

static int wscale_points(const struct tg_oshint_syn *syn, enum tg_os_family f)
{
	if (!syn->has_wscale)
		return 0;
	switch (f) {
	case TG_OSF_WINDOWS:
		return syn->wscale == 8 ? 10 : syn->wscale <= 2 ? 5 : 0;
	case TG_OSF_APPLE:
		return syn->wscale == 5 || syn->wscale == 6 ? 10 : syn->wscale <= 4 ? 5 : 0;
	case TG_OSF_LINUX:
		return syn->wscale >= 7 && syn->wscale <= 14 ? 10 : 3;
	default:
		return 0;
	}
}

void tg_oshint_guess(const struct tg_oshint_syn *syn, struct tg_os_hint *out)
{
	int score[TG_OSF__COUNT] = { 0 };
	char lay[TG_CAP_TCP_OPT_KINDS + 1];
	int f, best = TG_OSF_UNKNOWN, second = 0;
	uint8_t ittl = initial_ttl(syn->ttl);
	size_t i;
	bool eol;

	memset(out, 0, sizeof(*out));
	out->initial_ttl = ittl;
	out->hops = (uint8_t)(ittl - syn->ttl);
	if ((syn->ip_version != 4 && syn->ip_version != 6) || syn->nopts == 0)
		return;
	layout_of(syn, lay, sizeof(lay), &eol);
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (strcmp(lay, layouts[i].opts) != 0)
			continue;
		/* Only Apple pads with EOL; EOL after another family's layout is foreign. */
		if ((layouts[i].family == TG_OSF_APPLE) == eol)
			score[layouts[i].family] += layouts[i].points;
	}
	for (f = TG_OSF_WINDOWS; f < TG_OSF__COUNT; f++) {
		if ((f == TG_OSF_WINDOWS) == (ittl == 128) && ittl != 32 && ittl != 255)
			score[f] += 30;
		score[f] += window_points(syn, (enum tg_os_family)f);
		score[f] += wscale_points(syn, (enum tg_os_family)f);
		if (syn->ip_version == 4 && !syn->df)
			score[f] -= 10;
	}
	for (f = TG_OSF_WINDOWS; f < TG_OSF__COUNT; f++) {
		if (best == TG_OSF_UNKNOWN || score[f] > score[best]) {
			if (best != TG_OSF_UNKNOWN)
				second = score[best];
			best = f;
		} else if (score[f] > second) {
			second = score[f];
		}
	}
	if (score[best] < 30 || score[best] - second <= 10)
		return;
	out->family = (enum tg_os_family)best;
	out->confidence = (uint8_t)(score[best] > 100 ? 100 : score[best]);
}
