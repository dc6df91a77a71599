/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pindetect.c - the pinning detector: every row of the transition table (each state times
 * each kind of event), the classification of all 256 alert codes at both levels, the
 * post-handshake window exact at its boundary, sticky verdicts, time going backwards, and the
 * client sequences seen in practice (curl/OpenSSL unknown_ca, Java certificate_unknown, Chrome
 * closing the socket, OkHttp closing after the handshake).
 */
#include <string.h>

#include "tlsgate/pindetect.h"
#include "tg_test.h"

enum { PRE, FLIGHT, DONE, FINAL };

static struct tg_pin_event ev(enum tg_pin_event_type type)
{
	struct tg_pin_event e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	return e;
}

static struct tg_pin_event alert(uint8_t level, uint8_t code)
{
	struct tg_pin_event e = ev(TG_PIN_EV_ALERT);

	e.alert_level = level;
	e.alert_code = code;
	return e;
}

static struct tg_pin_event data(uint64_t n)
{
	struct tg_pin_event e = ev(TG_PIN_EV_APP_DATA);

	e.bytes = n;
	return e;
}

/* A detector in state @st at time 1000 (window 2000 ms; DONE entered at 1000). */
static void reach(struct tg_pindetect *d, int st)
{
	struct tg_pin_event f = ev(TG_PIN_EV_SERVER_FLIGHT), fin = ev(TG_PIN_EV_FINISHED);

	tg_pindetect_init(d, 2000);
	if (st >= FLIGHT)
		(void)tg_pindetect_event(d, &f, 900);
	if (st >= DONE)
		(void)tg_pindetect_event(d, &fin, 1000);
}

struct row {
	int state;
	struct tg_pin_event e;
	const char *name;
	int next;
	enum tg_pin_result res;
	enum tg_pin_why why;
};

#define U    TG_PIN_UNDECIDED
#define W(x) TG_PIN_WHY_##x

static void test_table(void)
{
	const struct row rows[] = {
		/* PRE: the client has not seen a certificate. */
		{ PRE, ev(TG_PIN_EV_SERVER_FLIGHT), "flight", FLIGHT, U, W(NONE) },
		{ PRE, alert(2, 48), "unknown_ca", FINAL, TG_PIN_CLIENT_ABORT,
		  W(ALERT_BEFORE_FLIGHT) },
		{ PRE, alert(1, 0), "close_notify", FINAL, TG_PIN_NONE, W(CLOSED_BEFORE_FLIGHT) },
		{ PRE, alert(1, 90), "user_canceled", FINAL, TG_PIN_CLIENT_ABORT, W(ABORT_ALERT) },
		{ PRE, alert(2, 70), "protocol_version", FINAL, TG_PIN_CLIENT_ABORT,
		  W(ABORT_ALERT) },
		{ PRE, alert(1, 100), "warning", PRE, U, W(NONE) },
		{ PRE, ev(TG_PIN_EV_EOF), "eof", FINAL, TG_PIN_NONE, W(CLOSED_BEFORE_FLIGHT) },
		{ PRE, ev(TG_PIN_EV_RST), "rst", FINAL, TG_PIN_NONE, W(CLOSED_BEFORE_FLIGHT) },
		{ PRE, ev(TG_PIN_EV_FINISHED), "finished", DONE, U, W(NONE) },
		{ PRE, data(10), "data", PRE, U, W(NONE) },
		{ PRE, data(0), "data0", PRE, U, W(NONE) },
		{ PRE, ev(TG_PIN_EV_CLOSE), "close", FINAL, TG_PIN_NONE, W(PROXY_CLOSE) },
		{ PRE, ev(TG_PIN_EV_UP_PROTOCOL_VERSION), "up-pv", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_PROTOCOL_VERSION) },
		{ PRE, ev(TG_PIN_EV_UP_CLIENT_CERT), "up-cc", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_CLIENT_CERT) },
		{ PRE, ev(TG_PIN_EV_UP_NO_TLS12), "up-12", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_NO_TLS12) },
		{ PRE, ev(TG_PIN_EV_TICK), "tick", PRE, U, W(NONE) },
		/* FLIGHT: the certificate is out, the client's Finished is not in. */
		{ FLIGHT, ev(TG_PIN_EV_SERVER_FLIGHT), "flight", FLIGHT, U, W(NONE) },
		{ FLIGHT, alert(2, 48), "unknown_ca", FINAL, TG_PIN_REJECTION, W(TRUST_ALERT) },
		{ FLIGHT, alert(1, 0), "close_notify", FINAL, TG_PIN_REJECTION,
		  W(CLOSE_AFTER_FLIGHT) },
		{ FLIGHT, alert(1, 90), "user_canceled", FINAL, TG_PIN_CLIENT_ABORT,
		  W(ABORT_ALERT) },
		{ FLIGHT, alert(2, 70), "protocol_version", FINAL, TG_PIN_CLIENT_ABORT,
		  W(ABORT_ALERT) },
		{ FLIGHT, alert(1, 100), "warning", FLIGHT, U, W(NONE) },
		{ FLIGHT, ev(TG_PIN_EV_EOF), "eof", FINAL, TG_PIN_REJECTION,
		  W(CLOSE_AFTER_FLIGHT) },
		{ FLIGHT, ev(TG_PIN_EV_RST), "rst", FINAL, TG_PIN_REJECTION, W(RST_AFTER_FLIGHT) },
		{ FLIGHT, ev(TG_PIN_EV_FINISHED), "finished", DONE, U, W(NONE) },
		{ FLIGHT, data(10), "data", FLIGHT, U, W(NONE) },
		{ FLIGHT, data(0), "data0", FLIGHT, U, W(NONE) },
		{ FLIGHT, ev(TG_PIN_EV_CLOSE), "close", FINAL, TG_PIN_NONE, W(PROXY_CLOSE) },
		{ FLIGHT, ev(TG_PIN_EV_UP_PROTOCOL_VERSION), "up-pv", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_PROTOCOL_VERSION) },
		{ FLIGHT, ev(TG_PIN_EV_UP_CLIENT_CERT), "up-cc", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_CLIENT_CERT) },
		{ FLIGHT, ev(TG_PIN_EV_UP_NO_TLS12), "up-12", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_NO_TLS12) },
		{ FLIGHT, ev(TG_PIN_EV_TICK), "tick", FLIGHT, U, W(NONE) },
		/* DONE: handshake complete, no data yet, inside the window (events at 1500). */
		{ DONE, ev(TG_PIN_EV_SERVER_FLIGHT), "flight", DONE, U, W(NONE) },
		{ DONE, alert(2, 42), "bad_certificate", FINAL, TG_PIN_REJECTION, W(TRUST_ALERT) },
		{ DONE, alert(1, 0), "close_notify", FINAL, TG_PIN_REJECTION, W(SILENT_CLOSE) },
		{ DONE, alert(1, 90), "user_canceled", FINAL, TG_PIN_CLIENT_ABORT, W(ABORT_ALERT) },
		{ DONE, alert(2, 80), "internal_error", FINAL, TG_PIN_CLIENT_ABORT,
		  W(ABORT_ALERT) },
		{ DONE, alert(1, 100), "warning", DONE, U, W(NONE) },
		{ DONE, ev(TG_PIN_EV_EOF), "eof", FINAL, TG_PIN_REJECTION, W(SILENT_CLOSE) },
		{ DONE, ev(TG_PIN_EV_RST), "rst", FINAL, TG_PIN_REJECTION, W(SILENT_CLOSE) },
		{ DONE, ev(TG_PIN_EV_FINISHED), "finished", DONE, U, W(NONE) },
		{ DONE, data(1), "data", FINAL, TG_PIN_NONE, W(APP_DATA) },
		{ DONE, data(0), "data0", DONE, U, W(NONE) },
		{ DONE, ev(TG_PIN_EV_CLOSE), "close", FINAL, TG_PIN_NONE, W(PROXY_CLOSE) },
		{ DONE, ev(TG_PIN_EV_UP_PROTOCOL_VERSION), "up-pv", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_PROTOCOL_VERSION) },
		{ DONE, ev(TG_PIN_EV_UP_CLIENT_CERT), "up-cc", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_CLIENT_CERT) },
		{ DONE, ev(TG_PIN_EV_UP_NO_TLS12), "up-12", FINAL, TG_PIN_UNSUPPORTED,
		  W(UP_NO_TLS12) },
		{ DONE, ev(TG_PIN_EV_TICK), "tick", DONE, U, W(NONE) },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct tg_pindetect d;
		struct tg_pin_verdict v;

		reach(&d, r->state);
		v = tg_pindetect_event(&d, &r->e, 1500);
		if (v.result != r->res || v.why != r->why || d.state != r->next)
			fprintf(stderr, "row %zu (state %d, %s): got %s/%s state %d\n", i, r->state,
				r->name, tg_pindetect_result_name(v.result),
				tg_pindetect_why_name(v.why), d.state);
		CHECK_INT(v.result, r->res);
		CHECK_INT(v.why, r->why);
		CHECK_INT(d.state, r->next);
		/* An alert that decided is named in the verdict. */
		if (r->e.type == TG_PIN_EV_ALERT && r->res != U)
			CHECK_INT(v.alert, r->e.alert_code);
		/* FINAL: nothing moves it any more. */
		if (r->next == FINAL) {
			struct tg_pin_event more[] = { ev(TG_PIN_EV_EOF), alert(2, 48), data(5),
						       ev(TG_PIN_EV_UP_CLIENT_CERT),
						       ev(TG_PIN_EV_FINISHED) };
			size_t j;

			for (j = 0; j < sizeof(more) / sizeof(more[0]); j++) {
				struct tg_pin_verdict w = tg_pindetect_event(&d, &more[j], 1600);

				CHECK(w.result == v.result && w.why == v.why && w.alert == v.alert);
			}
			CHECK(tg_pindetect_verdict(&d, 999999).result == v.result);
		}
	}
}

/* All 256 codes at both levels, against the list in pindetect.h. */
static void test_alert_classes(void)
{
	static const uint8_t trust[] = { 42, 43, 45, 46, 48, 49 };
	static const uint8_t named[] = { 0,   10,  20,	21,  22,  30,  40,  41,	 42,  43,  44, 45,
					 46,  47,  48,	49,  50,  51,  60,  70,	 71,  80,  86, 90,
					 100, 109, 110, 111, 112, 113, 114, 115, 116, 120, 121 };
	unsigned code, bad = 0;

	for (code = 0; code < 256; code++) {
		bool is_trust = memchr(trust, (int)code, sizeof(trust)) != NULL;
		bool is_named = memchr(named, (int)code, sizeof(named)) != NULL;
		enum tg_pin_alert_class want2, want1;

		if (code == 0)
			want2 = TG_PIN_ALERT_CLOSURE;
		else if (code == 90)
			want2 = TG_PIN_ALERT_CANCEL;
		else if (is_trust)
			want2 = TG_PIN_ALERT_TRUST;
		else
			want2 = TG_PIN_ALERT_ERROR;
		want1 = (!is_named || code == 100) ? TG_PIN_ALERT_IGNORED : want2;
		bad += tg_pindetect_alert_class(2, (uint8_t)code) != want2;
		bad += tg_pindetect_alert_class(1, (uint8_t)code) != want1;
		/* A level that is neither warning nor fatal is fatal. */
		bad += tg_pindetect_alert_class(0, (uint8_t)code) != want2;
		bad += tg_pindetect_alert_class(255, (uint8_t)code) != want2;
		bad += (strcmp(tg_pindetect_alert_name((uint8_t)code), "unknown") != 0) != is_named;
	}
	CHECK_INT(bad, 0);
	CHECK(strcmp(tg_pindetect_alert_name(48), "unknown_ca") == 0);
	CHECK(strcmp(tg_pindetect_alert_name(121), "ech_required") == 0);
	CHECK(strcmp(tg_pindetect_alert_name(255), "unknown") == 0);
	/* Warning-level trust alerts are rejections (RFC 8446 6.2: level ignored). */
	CHECK_INT(tg_pindetect_alert_class(1, 46), TG_PIN_ALERT_TRUST);
	/* The deliberate exclusions. */
	CHECK_INT(tg_pindetect_alert_class(2, 44), TG_PIN_ALERT_ERROR);
	CHECK_INT(tg_pindetect_alert_class(2, 113), TG_PIN_ALERT_ERROR);
	CHECK_INT(tg_pindetect_alert_class(2, 40), TG_PIN_ALERT_ERROR);
}

/* The window: a close at finished + 1999 is a rejection, at + 2000 it is not. */
static void test_window(void)
{
	struct tg_pindetect d;
	struct tg_pin_event eof = ev(TG_PIN_EV_EOF), tick = ev(TG_PIN_EV_TICK);
	struct tg_pin_verdict v;

	reach(&d, DONE);
	CHECK_INT(tg_pindetect_verdict(&d, 2999).result, TG_PIN_UNDECIDED);
	CHECK_INT(tg_pindetect_verdict(&d, 3000).result, TG_PIN_NONE);
	CHECK_INT(tg_pindetect_verdict(&d, 3000).why, TG_PIN_WHY_IDLE);
	v = tg_pindetect_event(&d, &eof, 2999);
	CHECK_INT(v.result, TG_PIN_REJECTION);
	CHECK_INT(v.why, TG_PIN_WHY_SILENT_CLOSE);

	reach(&d, DONE);
	v = tg_pindetect_event(&d, &eof, 3000);
	CHECK_INT(v.result, TG_PIN_NONE);
	CHECK_INT(v.why, TG_PIN_WHY_IDLE);

	/* A TICK closes the window; the EOF after it changes nothing. */
	reach(&d, DONE);
	CHECK_INT(tg_pindetect_event(&d, &tick, 2999).result, TG_PIN_UNDECIDED);
	CHECK_INT(tg_pindetect_event(&d, &tick, 3000).result, TG_PIN_NONE);
	CHECK_INT(tg_pindetect_event(&d, &eof, 3001).result, TG_PIN_NONE);

	/* Time going backwards: no time passed, still inside. */
	reach(&d, DONE);
	CHECK_INT(tg_pindetect_event(&d, &eof, 10).result, TG_PIN_REJECTION);

	/* A zero window: only a close at the very same millisecond counts. */
	tg_pindetect_init(&d, 0);
	v = tg_pindetect_event(&d, &(struct tg_pin_event){ .type = TG_PIN_EV_FINISHED }, 50);
	CHECK_INT(tg_pindetect_event(&d, &eof, 50).result, TG_PIN_REJECTION);
	tg_pindetect_init(&d, 0);
	v = tg_pindetect_event(&d, &(struct tg_pin_event){ .type = TG_PIN_EV_FINISHED }, 50);
	CHECK_INT(tg_pindetect_event(&d, &eof, 51).result, TG_PIN_NONE);
	(void)v;
}

static struct tg_pin_verdict run(const struct tg_pin_event *evs, size_t n)
{
	struct tg_pindetect d;
	struct tg_pin_verdict v = { TG_PIN_UNDECIDED, TG_PIN_WHY_NONE, 0 };
	size_t i;

	tg_pindetect_init(&d, TG_PINDETECT_SILENT_MS_DEFAULT);
	for (i = 0; i < n; i++)
		v = tg_pindetect_event(&d, &evs[i], 1000 + 100 * i);
	return v;
}

#define RUN(...)                                          \
	run((const struct tg_pin_event[]){ __VA_ARGS__ }, \
	    sizeof((const struct tg_pin_event[]){ __VA_ARGS__ }) / sizeof(struct tg_pin_event))

static void test_sequences(void)
{
	struct tg_pin_event fl = ev(TG_PIN_EV_SERVER_FLIGHT), fin = ev(TG_PIN_EV_FINISHED),
			    eof = ev(TG_PIN_EV_EOF), rst = ev(TG_PIN_EV_RST),
			    close = ev(TG_PIN_EV_CLOSE);
	struct tg_pin_verdict v;

	/* curl / OpenSSL without the CA: fatal unknown_ca, then FIN. */
	v = RUN(fl, alert(2, 48), eof);
	CHECK(v.result == TG_PIN_REJECTION && v.why == TG_PIN_WHY_TRUST_ALERT && v.alert == 48);
	/* Java: certificate_unknown. Go: bad_certificate. */
	CHECK_INT(RUN(fl, alert(2, 46)).result, TG_PIN_REJECTION);
	CHECK_INT(RUN(fl, alert(2, 42)).result, TG_PIN_REJECTION);
	/* A pinning app that just drops the connection. */
	CHECK_INT(RUN(fl, rst).why, TG_PIN_WHY_RST_AFTER_FLIGHT);
	CHECK_INT(RUN(fl, alert(1, 0), eof).why, TG_PIN_WHY_CLOSE_AFTER_FLIGHT);
	/* OkHttp: handshake completes, close_notify and FIN, no request. */
	CHECK_INT(RUN(fl, fin, alert(1, 0), eof).why, TG_PIN_WHY_SILENT_CLOSE);
	/* A normal HTTPS request: data after Finished; closing later is fine. */
	v = RUN(fl, fin, data(517), alert(1, 0), eof);
	CHECK(v.result == TG_PIN_NONE && v.why == TG_PIN_WHY_APP_DATA);
	/* A port scanner: connect and close before any certificate. */
	CHECK_INT(RUN(eof).result, TG_PIN_NONE);
	CHECK_INT(RUN(rst).result, TG_PIN_NONE);
	/* A client that does not speak the proxy's TLS version. */
	v = RUN(fl, alert(2, 70), eof);
	CHECK(v.result == TG_PIN_CLIENT_ABORT && v.alert == 70);
	/* ECH: the client wanted ECH and retries; not pinning. */
	CHECK_INT(RUN(fl, alert(2, 121), eof).result, TG_PIN_CLIENT_ABORT);
	/* A warning no_renegotiation, then the client leaves: the EOF decides. */
	CHECK_INT(RUN(fl, alert(1, 100), eof).result, TG_PIN_REJECTION);
	/* The upstream asks for a client certificate: unsupported, before anything else. */
	CHECK_INT(RUN(ev(TG_PIN_EV_UP_CLIENT_CERT), fl, alert(2, 48)).result, TG_PIN_UNSUPPORTED);
	/* The proxy gave up (upstream failure): not the client's rejection. */
	CHECK_INT(RUN(fl, close, eof).result, TG_PIN_NONE);
	/* Unknown event types are ignored. */
	CHECK_INT(RUN(fl, ev((enum tg_pin_event_type)99), eof).result, TG_PIN_REJECTION);
	/* Nothing yet. */
	CHECK_INT(RUN(fl, data(0)).result, TG_PIN_UNDECIDED);
	/* Byte counts saturate instead of wrapping to zero. */
	{
		struct tg_pindetect d;

		reach(&d, FLIGHT);
		(void)tg_pindetect_event(
			&d,
			&(struct tg_pin_event){ .type = TG_PIN_EV_APP_DATA, .bytes = UINT64_MAX },
			950);
		(void)tg_pindetect_event(
			&d, &(struct tg_pin_event){ .type = TG_PIN_EV_APP_DATA, .bytes = 5 }, 960);
		CHECK(d.app_bytes == UINT64_MAX);
	}
}

static void test_names(void)
{
	CHECK(strcmp(tg_pindetect_result_name(TG_PIN_REJECTION), "rejection") == 0);
	CHECK(strcmp(tg_pindetect_result_name(TG_PIN_RESULT__COUNT), "unknown") == 0);
	CHECK(strcmp(tg_pindetect_why_name(TG_PIN_WHY_SILENT_CLOSE),
		     "silent-close-after-handshake") == 0);
	CHECK(strcmp(tg_pindetect_why_name(TG_PIN_WHY__COUNT), "unknown") == 0);
	{
		int w, bad = 0;

		for (w = 0; w < TG_PIN_WHY__COUNT; w++)
			bad += strcmp(tg_pindetect_why_name((enum tg_pin_why)w), "unknown") == 0;
		for (w = 0; w < TG_PIN_RESULT__COUNT; w++)
			bad += strcmp(tg_pindetect_result_name((enum tg_pin_result)w), "unknown") ==
			       0;
		CHECK_INT(bad, 0);
	}
}

int main(void)
{
	test_table();
	test_alert_classes();
	test_window();
	test_sequences();
	test_names();
	return tg_test_done();
}
