/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_pindetect.c - event sequences for the pinning detector, taken from the input: two bytes
 * of post-handshake window, then 4-byte events (type, alert level, alert code, time step; an
 * APP_DATA event's byte count is level << 8 | code). Invariants, checked after every event:
 * - the verdict is deterministic (a second run over the same input agrees event by event);
 * - a final verdict never changes, and tg_pindetect_verdict() agrees with it;
 * - no REJECTION unless the certificate flight was sent or the handshake completed;
 * - a silent-close REJECTION only after the Finished and with zero application bytes since;
 * - result and reason agree (UNDECIDED has no reason; UNSUPPORTED has an upstream reason...).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/cursor.h"
#include "tlsgate/pindetect.h"

#define MAX_EVENTS 4096

static bool why_fits(const struct tg_pin_verdict *v)
{
	switch (v->result) {
	case TG_PIN_UNDECIDED:
		return v->why == TG_PIN_WHY_NONE;
	case TG_PIN_REJECTION:
		return v->why == TG_PIN_WHY_TRUST_ALERT ||
		       v->why == TG_PIN_WHY_CLOSE_AFTER_FLIGHT ||
		       v->why == TG_PIN_WHY_RST_AFTER_FLIGHT || v->why == TG_PIN_WHY_SILENT_CLOSE;
	case TG_PIN_UNSUPPORTED:
		return v->why == TG_PIN_WHY_UP_PROTOCOL_VERSION ||
		       v->why == TG_PIN_WHY_UP_CLIENT_CERT || v->why == TG_PIN_WHY_UP_NO_TLS12;
	case TG_PIN_CLIENT_ABORT:
		return v->why == TG_PIN_WHY_ABORT_ALERT || v->why == TG_PIN_WHY_ALERT_BEFORE_FLIGHT;
	case TG_PIN_NONE:
		return v->why == TG_PIN_WHY_CLOSED_BEFORE_FLIGHT || v->why == TG_PIN_WHY_APP_DATA ||
		       v->why == TG_PIN_WHY_IDLE || v->why == TG_PIN_WHY_PROXY_CLOSE;
	default:
		return false;
	}
}

static bool veq(const struct tg_pin_verdict *a, const struct tg_pin_verdict *b)
{
	return a->result == b->result && a->why == b->why && a->alert == b->alert;
}

/* Run the input; record each verdict into @out (n entries). Returns the number of events. */
static size_t run(const uint8_t *data, size_t size, struct tg_pin_verdict *out)
{
	struct tg_cur c;
	struct tg_pindetect d;
	struct tg_pin_verdict final = { TG_PIN_UNDECIDED, TG_PIN_WHY_NONE, 0 };
	bool flight = false, finished = false;
	uint64_t now, bytes = 0;
	size_t n = 0;

	tg_cur_init(&c, data, size);
	tg_pindetect_init(&d, tg_cur_u16(&c));
	now = tg_cur_u8(&c) * 1000ull;
	while (tg_cur_left(&c) >= 4 && n < MAX_EVENTS) {
		struct tg_pin_event ev;
		struct tg_pin_verdict v, q;
		uint8_t step;

		memset(&ev, 0, sizeof(ev));
		ev.type = (enum tg_pin_event_type)(tg_cur_u8(&c) % 13);
		ev.alert_level = tg_cur_u8(&c);
		ev.alert_code = tg_cur_u8(&c);
		ev.bytes = (uint64_t)ev.alert_level << 8 | ev.alert_code;
		step = tg_cur_u8(&c);
		/* Mostly forward, sometimes big jumps, sometimes backwards. */
		if (step == 0xff)
			now -= now > 5000 ? 5000 : now;
		else
			now += (uint64_t)step << (step & 3 ? 0 : 6);
		if (ev.type == TG_PIN_EV_SERVER_FLIGHT)
			flight = true;
		v = tg_pindetect_event(&d, &ev, now);
		if (ev.type == TG_PIN_EV_FINISHED)
			finished = true;
		if (ev.type == TG_PIN_EV_APP_DATA && finished && final.result == TG_PIN_UNDECIDED)
			bytes += ev.bytes;
		if ((unsigned)v.result >= TG_PIN_RESULT__COUNT || !why_fits(&v))
			abort();
		if (final.result != TG_PIN_UNDECIDED && !veq(&v, &final))
			abort();
		if (v.result == TG_PIN_REJECTION && !flight && !finished)
			abort();
		if (v.why == TG_PIN_WHY_SILENT_CLOSE && (bytes != 0 || !finished))
			abort();
		q = tg_pindetect_verdict(&d, now);
		if (v.result != TG_PIN_UNDECIDED && !veq(&q, &v))
			abort();
		if (v.result != TG_PIN_UNDECIDED)
			final = v;
		out[n++] = v;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tg_pin_verdict a[MAX_EVENTS], b[MAX_EVENTS];
	size_t i, na = run(data, size, a), nb = run(data, size, b);

	if (na != nb)
		abort();
	for (i = 0; i < na; i++)
		if (!veq(&a[i], &b[i]))
			abort();
	return 0;
}
