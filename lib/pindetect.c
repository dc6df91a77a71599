/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pindetect.c - the pinning detector's transition table (rules in pindetect.h).
 *
 * The alert the client sends is an Alert record (RFC 8446 6, RFC 5246 7.2):
 *
 *   struct { AlertLevel level (1 = warning, 2 = fatal); AlertDescription description; } Alert;
 *
 * The proxy has decrypted and parsed it; this file classifies the description and runs the
 * state machine. States:
 *
 *   PRE     nothing sent yet that carries a certificate
 *   FLIGHT  the certificate flight was sent, the client's Finished not yet received
 *   DONE    handshake complete, no application byte yet, post-handshake window open
 *   FINAL   a verdict was given
 *
 * DONE leaves by itself when the window closes (checked before every event and by
 * tg_pindetect_verdict()): -> NONE, why IDLE.
 */
#include <string.h>

#include "tlsgate/pindetect.h"

enum st { ST_PRE, ST_FLIGHT, ST_DONE, ST_FINAL, ST__COUNT };

/* Event classes: the event type, with alerts split by class and data by "any bytes". */
enum ec {
	EC_FLIGHT,
	EC_A_TRUST,
	EC_A_CLOSURE,
	EC_A_CANCEL,
	EC_A_ERROR,
	EC_A_IGNORED,
	EC_EOF,
	EC_RST,
	EC_FINISHED,
	EC_DATA,
	EC_DATA0,
	EC_CLOSE,
	EC_UP_PV,
	EC_UP_CC,
	EC_UP_NO12,
	EC_TICK,
	EC__COUNT
};

struct row {
	uint8_t next; /* enum st; ST_FINAL when res is final */
	uint8_t res; /* enum tg_pin_result */
	uint8_t why; /* enum tg_pin_why */
};

/* clang-format off */
#define STAY(s)	       { s, TG_PIN_UNDECIDED, TG_PIN_WHY_NONE }
#define GO(s)	       { s, TG_PIN_UNDECIDED, TG_PIN_WHY_NONE }
#define FIN(res, why)  { ST_FINAL, TG_PIN_##res, TG_PIN_WHY_##why }
#define UNSUP_ROWS                                      \
	[EC_UP_PV] = FIN(UNSUPPORTED, UP_PROTOCOL_VERSION), \
	[EC_UP_CC] = FIN(UNSUPPORTED, UP_CLIENT_CERT),      \
	[EC_UP_NO12] = FIN(UNSUPPORTED, UP_NO_TLS12)

static const struct row table[ST_FINAL][EC__COUNT] = {
	[ST_PRE] = {
		[EC_FLIGHT] = GO(ST_FLIGHT),
		[EC_A_TRUST] = FIN(CLIENT_ABORT, ALERT_BEFORE_FLIGHT),
		[EC_A_CLOSURE] = FIN(NONE, CLOSED_BEFORE_FLIGHT),
		[EC_A_CANCEL] = FIN(CLIENT_ABORT, ABORT_ALERT),
		[EC_A_ERROR] = FIN(CLIENT_ABORT, ABORT_ALERT),
		[EC_A_IGNORED] = STAY(ST_PRE),
		[EC_EOF] = FIN(NONE, CLOSED_BEFORE_FLIGHT),
		[EC_RST] = FIN(NONE, CLOSED_BEFORE_FLIGHT),
		[EC_FINISHED] = GO(ST_DONE), /* a Finished implies the flight went out */
		[EC_DATA] = STAY(ST_PRE),
		[EC_DATA0] = STAY(ST_PRE),
		[EC_CLOSE] = FIN(NONE, PROXY_CLOSE),
		UNSUP_ROWS,
		[EC_TICK] = STAY(ST_PRE),
	},
	[ST_FLIGHT] = {
		[EC_FLIGHT] = STAY(ST_FLIGHT),
		[EC_A_TRUST] = FIN(REJECTION, TRUST_ALERT),
		[EC_A_CLOSURE] = FIN(REJECTION, CLOSE_AFTER_FLIGHT),
		[EC_A_CANCEL] = FIN(CLIENT_ABORT, ABORT_ALERT),
		[EC_A_ERROR] = FIN(CLIENT_ABORT, ABORT_ALERT),
		[EC_A_IGNORED] = STAY(ST_FLIGHT),
		[EC_EOF] = FIN(REJECTION, CLOSE_AFTER_FLIGHT),
		[EC_RST] = FIN(REJECTION, RST_AFTER_FLIGHT),
		[EC_FINISHED] = GO(ST_DONE),
		[EC_DATA] = STAY(ST_FLIGHT),
		[EC_DATA0] = STAY(ST_FLIGHT),
		[EC_CLOSE] = FIN(NONE, PROXY_CLOSE),
		UNSUP_ROWS,
		[EC_TICK] = STAY(ST_FLIGHT),
	},
	[ST_DONE] = {
		[EC_FLIGHT] = STAY(ST_DONE),
		[EC_A_TRUST] = FIN(REJECTION, TRUST_ALERT),
		[EC_A_CLOSURE] = FIN(REJECTION, SILENT_CLOSE),
		[EC_A_CANCEL] = FIN(CLIENT_ABORT, ABORT_ALERT),
		[EC_A_ERROR] = FIN(CLIENT_ABORT, ABORT_ALERT),
		[EC_A_IGNORED] = STAY(ST_DONE),
		[EC_EOF] = FIN(REJECTION, SILENT_CLOSE),
		[EC_RST] = FIN(REJECTION, SILENT_CLOSE),
		[EC_FINISHED] = STAY(ST_DONE),
		[EC_DATA] = FIN(NONE, APP_DATA),
		[EC_DATA0] = STAY(ST_DONE),
		[EC_CLOSE] = FIN(NONE, PROXY_CLOSE),
		UNSUP_ROWS,
		[EC_TICK] = STAY(ST_DONE),
	},
};
/* clang-format on */

/* Alert descriptions (RFC 8446 6, RFC 5246 7.2, RFC 6066, RFC 7301, RFC 8446 ech_required). */
struct alert_info {
	const char *name;
	uint8_t cls; /* enum tg_pin_alert_class */
};

static const struct alert_info alerts[256] = {
	[0] = { "close_notify", TG_PIN_ALERT_CLOSURE },
	[10] = { "unexpected_message", TG_PIN_ALERT_ERROR },
	[20] = { "bad_record_mac", TG_PIN_ALERT_ERROR },
	[21] = { "decryption_failed", TG_PIN_ALERT_ERROR },
	[22] = { "record_overflow", TG_PIN_ALERT_ERROR },
	[30] = { "decompression_failure", TG_PIN_ALERT_ERROR },
	[40] = { "handshake_failure", TG_PIN_ALERT_ERROR },
	[41] = { "no_certificate", TG_PIN_ALERT_ERROR },
	[42] = { "bad_certificate", TG_PIN_ALERT_TRUST },
	[43] = { "unsupported_certificate", TG_PIN_ALERT_TRUST },
	[44] = { "certificate_revoked", TG_PIN_ALERT_ERROR },
	[45] = { "certificate_expired", TG_PIN_ALERT_TRUST },
	[46] = { "certificate_unknown", TG_PIN_ALERT_TRUST },
	[47] = { "illegal_parameter", TG_PIN_ALERT_ERROR },
	[48] = { "unknown_ca", TG_PIN_ALERT_TRUST },
	[49] = { "access_denied", TG_PIN_ALERT_TRUST },
	[50] = { "decode_error", TG_PIN_ALERT_ERROR },
	[51] = { "decrypt_error", TG_PIN_ALERT_ERROR },
	[60] = { "export_restriction", TG_PIN_ALERT_ERROR },
	[70] = { "protocol_version", TG_PIN_ALERT_ERROR },
	[71] = { "insufficient_security", TG_PIN_ALERT_ERROR },
	[80] = { "internal_error", TG_PIN_ALERT_ERROR },
	[86] = { "inappropriate_fallback", TG_PIN_ALERT_ERROR },
	[90] = { "user_canceled", TG_PIN_ALERT_CANCEL },
	[100] = { "no_renegotiation", TG_PIN_ALERT_ERROR },
	[109] = { "missing_extension", TG_PIN_ALERT_ERROR },
	[110] = { "unsupported_extension", TG_PIN_ALERT_ERROR },
	[111] = { "certificate_unobtainable", TG_PIN_ALERT_ERROR },
	[112] = { "unrecognized_name", TG_PIN_ALERT_ERROR },
	[113] = { "bad_certificate_status_response", TG_PIN_ALERT_ERROR },
	[114] = { "bad_certificate_hash_value", TG_PIN_ALERT_ERROR },
	[115] = { "unknown_psk_identity", TG_PIN_ALERT_ERROR },
	[116] = { "certificate_required", TG_PIN_ALERT_ERROR },
	[120] = { "no_application_protocol", TG_PIN_ALERT_ERROR },
	[121] = { "ech_required", TG_PIN_ALERT_ERROR },
};

enum tg_pin_alert_class tg_pindetect_alert_class(uint8_t level, uint8_t code)
{
	const struct alert_info *a = &alerts[code];

	/* TLS 1.2 warnings that do not end a connection; everything else by its code. */
	if (level == 1 && (a->name == NULL || code == 100))
		return TG_PIN_ALERT_IGNORED;
	if (a->name == NULL)
		return TG_PIN_ALERT_ERROR;
	return (enum tg_pin_alert_class)a->cls;
}

const char *tg_pindetect_alert_name(uint8_t code)
{
	return alerts[code].name ? alerts[code].name : "unknown";
}

static const char *const result_names[TG_PIN_RESULT__COUNT] = {
	[TG_PIN_UNDECIDED] = "undecided",
	[TG_PIN_REJECTION] = "rejection",
	[TG_PIN_UNSUPPORTED] = "unsupported",
	[TG_PIN_CLIENT_ABORT] = "client-abort",
	[TG_PIN_NONE] = "none",
};

const char *tg_pindetect_result_name(enum tg_pin_result r)
{
	if ((unsigned)r >= TG_PIN_RESULT__COUNT)
		return "unknown";
	return result_names[r];
}

static const char *const why_names[TG_PIN_WHY__COUNT] = {
	[TG_PIN_WHY_NONE] = "none",
	[TG_PIN_WHY_TRUST_ALERT] = "trust-alert",
	[TG_PIN_WHY_CLOSE_AFTER_FLIGHT] = "close-after-certificate",
	[TG_PIN_WHY_RST_AFTER_FLIGHT] = "reset-after-certificate",
	[TG_PIN_WHY_SILENT_CLOSE] = "silent-close-after-handshake",
	[TG_PIN_WHY_ABORT_ALERT] = "abort-alert",
	[TG_PIN_WHY_ALERT_BEFORE_FLIGHT] = "alert-before-certificate",
	[TG_PIN_WHY_CLOSED_BEFORE_FLIGHT] = "closed-before-certificate",
	[TG_PIN_WHY_APP_DATA] = "application-data",
	[TG_PIN_WHY_IDLE] = "idle-after-handshake",
	[TG_PIN_WHY_PROXY_CLOSE] = "proxy-close",
	[TG_PIN_WHY_UP_PROTOCOL_VERSION] = "upstream-protocol-version",
	[TG_PIN_WHY_UP_CLIENT_CERT] = "upstream-client-certificate",
	[TG_PIN_WHY_UP_NO_TLS12] = "upstream-no-tls12",
};

const char *tg_pindetect_why_name(enum tg_pin_why w)
{
	if ((unsigned)w >= TG_PIN_WHY__COUNT)
		return "unknown";
	return why_names[w];
}

void tg_pindetect_init(struct tg_pindetect *d, uint32_t silent_close_ms)
{
	memset(d, 0, sizeof(*d));
	d->state = ST_PRE;
	d->silent_ms = silent_close_ms;
}

static bool window_closed(const struct tg_pindetect *d, uint64_t now_ms)
{
	return now_ms > d->finished_ms && now_ms - d->finished_ms >= d->silent_ms;
}

struct tg_pin_verdict tg_pindetect_verdict(const struct tg_pindetect *d, uint64_t now_ms)
{
	struct tg_pin_verdict v = d->v;

	if (d->state == ST_DONE && window_closed(d, now_ms)) {
		v.result = TG_PIN_NONE;
		v.why = TG_PIN_WHY_IDLE;
	}
	return v;
}

static int event_class(const struct tg_pin_event *ev)
{
	static const int8_t by_alert[] = {
		[TG_PIN_ALERT_TRUST] = EC_A_TRUST,     [TG_PIN_ALERT_CLOSURE] = EC_A_CLOSURE,
		[TG_PIN_ALERT_CANCEL] = EC_A_CANCEL,   [TG_PIN_ALERT_ERROR] = EC_A_ERROR,
		[TG_PIN_ALERT_IGNORED] = EC_A_IGNORED,
	};

	switch (ev->type) {
	case TG_PIN_EV_SERVER_FLIGHT:
		return EC_FLIGHT;
	case TG_PIN_EV_ALERT:
		return by_alert[tg_pindetect_alert_class(ev->alert_level, ev->alert_code)];
	case TG_PIN_EV_EOF:
		return EC_EOF;
	case TG_PIN_EV_RST:
		return EC_RST;
	case TG_PIN_EV_FINISHED:
		return EC_FINISHED;
	case TG_PIN_EV_APP_DATA:
		return ev->bytes ? EC_DATA : EC_DATA0;
	case TG_PIN_EV_CLOSE:
		return EC_CLOSE;
	case TG_PIN_EV_UP_PROTOCOL_VERSION:
		return EC_UP_PV;
	case TG_PIN_EV_UP_CLIENT_CERT:
		return EC_UP_CC;
	case TG_PIN_EV_UP_NO_TLS12:
		return EC_UP_NO12;
	case TG_PIN_EV_TICK:
		return EC_TICK;
	default:
		return -1;
	}
}

struct tg_pin_verdict tg_pindetect_event(struct tg_pindetect *d, const struct tg_pin_event *ev,
					 uint64_t now_ms)
{
	const struct row *row;
	int ec;

	if (d->state >= ST_FINAL)
		return d->v;
	if (d->state == ST_DONE && window_closed(d, now_ms)) {
		d->state = ST_FINAL;
		d->v.result = TG_PIN_NONE;
		d->v.why = TG_PIN_WHY_IDLE;
		return d->v;
	}
	ec = event_class(ev);
	if (ec < 0)
		return d->v;
	row = &table[d->state][ec];
	if (ev->type == TG_PIN_EV_APP_DATA)
		d->app_bytes = ev->bytes > UINT64_MAX - d->app_bytes ? UINT64_MAX
								     : d->app_bytes + ev->bytes;
	if (row->next == ST_DONE && d->state != ST_DONE)
		d->finished_ms = now_ms;
	d->state = row->next;
	if (row->res != TG_PIN_UNDECIDED) {
		d->v.result = (enum tg_pin_result)row->res;
		d->v.why = (enum tg_pin_why)row->why;
		if (ev->type == TG_PIN_EV_ALERT)
			d->v.alert = ev->alert_code;
	}
	return d->v;
}
