/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pindetect.h - the pinning detector (DESIGN.md section 3, "The dynamic bypass"): a pure state
 * machine over the proxy's view of ONE client connection's handshake. The proxy feeds it events
 * with its clock; the first final verdict sticks.
 *
 * What it can tell. Only the TLS server the client talks to sees the client reject the forged
 * certificate. At one connection, a client that PINS and a client that simply LACKS THE
 * GATEWAY'S CA look the same (unknown_ca 48, or a silent close): the detector reports a trust
 * REJECTION either way, and the bypass table (bypass.h) separates the two by counting distinct
 * hosts per client (ca_missing). Feed TG_PIN_REJECTION to tg_bypass_reject(), TG_PIN_UNSUPPORTED
 * to tg_upstream_excl_add(); count TG_PIN_CLIENT_ABORT (a client that cannot talk to the proxy's
 * TLS stack is a problem to show the admin, not a reason to bypass).
 *
 * Rules (the transition table in pindetect.c, one test per row):
 * - A fatal alert from the client before its Finished, after the server's certificate flight,
 *   with a trust code (bad_certificate 42, unsupported_certificate 43, certificate_expired 45,
 *   certificate_unknown 46, unknown_ca 48, access_denied 49) -> REJECTION.
 * - EOF or RST from the client after the certificate flight and before its Finished ->
 *   REJECTION. close_notify there is treated as EOF: RFC 8446 6.1 makes it a closure alert
 *   that says nothing about why, and a client that ends the handshake politely right after
 *   seeing the certificate behaves exactly like one that closes the socket.
 * - Handshake complete (client Finished), then the client closes (EOF, RST, close_notify, or a
 *   trust alert) with zero application bytes within `silent_close_ms` of the Finished ->
 *   REJECTION (OkHttp's CertificatePinner, Firefox for Android: they reject after the handshake).
 *   Closing at or after the window, or sending any application byte first -> NONE.
 * - Anything before the certificate flight is not pinning: the client has not seen the
 *   certificate (EOF/RST/close_notify -> NONE, any other alert -> CLIENT_ABORT).
 * - Alerts that are not about trust -> CLIENT_ABORT, at any time: protocol_version 70 (the
 *   client does not accept the version the proxy chose; a client problem, not the upstream's),
 *   handshake_failure 40 and insufficient_security 71 (parameter negotiation), ech_required 121,
 *   illegal_parameter 47, decode_error 50, decrypt_error 51 (a proxy bug if anything), internal
 *   errors, and unknown codes (RFC 8446 6: unknown alerts are errors). user_canceled 90 ->
 *   CLIENT_ABORT: RFC 8446 6.1 defines it as a cancellation "for some reason unrelated to a
 *   protocol failure". certificate_revoked 44 is deliberately NOT a trust rejection: the gateway
 *   never revokes its leaves and gives them no revocation pointers, so 44 reports the ORIGINAL
 *   certificate revoked (a client consulting the real CA), a reason to inspect, not to bypass.
 *   bad_certificate_status_response 113 likewise concerns OCSP stapling, not the chain.
 * - Alert level: RFC 8446 6.2 makes every error alert fatal whatever its level, so the level is
 *   ignored except that a warning-level no_renegotiation 100 or unknown code is ignored (TLS 1.2
 *   warnings do not end the connection; if the client then closes, the EOF rule decides).
 * - The upstream answered protocol_version, requested a client certificate, or has no TLS >= 1.2
 *   -> UNSUPPORTED (at any time before a final verdict: a TLS 1.2 renegotiation or TLS 1.3
 *   post-handshake authentication asks for a client certificate after the handshake too).
 * - CLOSE (the proxy or the upstream ended the connection, a timeout) -> NONE: not the client's
 *   doing.
 */
#ifndef TLSGATE_PINDETECT_H
#define TLSGATE_PINDETECT_H

#include <stdbool.h>
#include <stdint.h>

/* The window after the client's Finished in which a silent close is a rejection. */
#define TG_PINDETECT_SILENT_MS_DEFAULT 2000

enum tg_pin_event_type {
	TG_PIN_EV_SERVER_FLIGHT = 1, /* the proxy sent its certificate flight to the client */
	TG_PIN_EV_ALERT = 2, /* an alert from the client: alert_level, alert_code */
	TG_PIN_EV_EOF = 3, /* the client closed its side (FIN) */
	TG_PIN_EV_RST = 4, /* the client reset the connection */
	TG_PIN_EV_FINISHED = 5, /* the client's Finished verified: handshake complete */
	TG_PIN_EV_APP_DATA = 6, /* application bytes from the client: bytes */
	TG_PIN_EV_CLOSE = 7, /* torn down for another reason (proxy, upstream, timeout) */
	TG_PIN_EV_UP_PROTOCOL_VERSION = 8, /* the upstream answered a protocol_version alert */
	TG_PIN_EV_UP_CLIENT_CERT = 9, /* the upstream requested a client certificate */
	TG_PIN_EV_UP_NO_TLS12 = 10, /* the upstream offers nothing >= TLS 1.2 */
	TG_PIN_EV_TICK = 11, /* time passed (closes the post-handshake window) */
};

struct tg_pin_event {
	enum tg_pin_event_type type;
	uint8_t alert_level; /* ALERT: 1 warning, 2 fatal (RFC 8446 6) */
	uint8_t alert_code; /* ALERT: AlertDescription */
	uint64_t bytes; /* APP_DATA: bytes received */
};

enum tg_pin_result {
	TG_PIN_UNDECIDED = 0, /* not yet */
	TG_PIN_REJECTION, /* the client rejected the certificate: pinning or a missing CA */
	TG_PIN_UNSUPPORTED, /* the upstream cannot be intercepted */
	TG_PIN_CLIENT_ABORT, /* the client aborted for a reason that is not about trust */
	TG_PIN_NONE, /* not a rejection */
	TG_PIN_RESULT__COUNT
};

enum tg_pin_why {
	TG_PIN_WHY_NONE = 0, /* undecided */
	TG_PIN_WHY_TRUST_ALERT, /* trust alert after the flight */
	TG_PIN_WHY_CLOSE_AFTER_FLIGHT, /* EOF or close_notify after the flight, before Finished */
	TG_PIN_WHY_RST_AFTER_FLIGHT, /* RST after the flight, before Finished */
	TG_PIN_WHY_SILENT_CLOSE, /* closed after Finished with no data within the window */
	TG_PIN_WHY_ABORT_ALERT, /* an alert not about trust */
	TG_PIN_WHY_ALERT_BEFORE_FLIGHT, /* a trust alert before the client saw a certificate */
	TG_PIN_WHY_CLOSED_BEFORE_FLIGHT, /* EOF/RST/close_notify before the flight */
	TG_PIN_WHY_APP_DATA, /* the client sent application data after Finished */
	TG_PIN_WHY_IDLE, /* the window passed without data or close */
	TG_PIN_WHY_PROXY_CLOSE, /* CLOSE */
	TG_PIN_WHY_UP_PROTOCOL_VERSION, /* UNSUPPORTED reasons */
	TG_PIN_WHY_UP_CLIENT_CERT,
	TG_PIN_WHY_UP_NO_TLS12,
	TG_PIN_WHY__COUNT
};

struct tg_pin_verdict {
	enum tg_pin_result result;
	enum tg_pin_why why;
	uint8_t alert; /* the client's alert code when an alert decided, else 0 */
};

/* One connection's detector. Embed it by value; its fields are private to pindetect.c. */
struct tg_pindetect {
	uint8_t state;
	uint32_t silent_ms;
	uint64_t finished_ms;
	uint64_t app_bytes;
	struct tg_pin_verdict v;
};

/* tg_pindetect_init() - start a detector; @silent_close_ms is the post-handshake window. */
void tg_pindetect_init(struct tg_pindetect *d, uint32_t silent_close_ms);

/*
 * tg_pindetect_event() - apply @ev at @now_ms and return the verdict so far. Once the verdict
 * is final (not UNDECIDED) it never changes and further events are ignored. Unknown event types
 * are ignored. Time going backwards counts as no time passing.
 */
struct tg_pin_verdict tg_pindetect_event(struct tg_pindetect *d, const struct tg_pin_event *ev,
					 uint64_t now_ms);

/*
 * tg_pindetect_verdict() - the verdict at @now_ms without changing @d: what a TICK would give
 * (the post-handshake window may have closed since the last event).
 */
struct tg_pin_verdict tg_pindetect_verdict(const struct tg_pindetect *d, uint64_t now_ms);

/* How the detector reads a client alert (exposed for tests and `tlsgatectl explain`). */
enum tg_pin_alert_class {
	TG_PIN_ALERT_TRUST = 1, /* about the certificate chain: rejection material */
	TG_PIN_ALERT_CLOSURE, /* close_notify: like EOF */
	TG_PIN_ALERT_CANCEL, /* user_canceled: not a protocol failure */
	TG_PIN_ALERT_ERROR, /* any other error alert: client abort */
	TG_PIN_ALERT_IGNORED, /* a TLS 1.2 warning that does not end the connection */
};

enum tg_pin_alert_class tg_pindetect_alert_class(uint8_t level, uint8_t code);

/* Stable names: the RFC's alert name ("unknown_ca", "unknown" when unassigned), and texts. */
const char *tg_pindetect_alert_name(uint8_t code);
const char *tg_pindetect_result_name(enum tg_pin_result r);
const char *tg_pindetect_why_name(enum tg_pin_why w);

#endif
