/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_msg.h - what tlsgated and a proxy worker say to each other over their SOCK_SEQPACKET
 * socket pair (proxy.c is tlsgated's side, proxy_worker.c the worker's). One message is one
 * fixed-size struct; a job carries the adopted socket as SCM_RIGHTS. Both ends are the same
 * binary (the worker is tlsgated exec'd with --proxy-worker), so the layout needs no versioning.
 *
 * tlsgated -> worker: a JOB (an adopted client connection and what the worker needs to know).
 * worker -> tlsgated: for every job, first an OUTCOME (once it is known: the handshakes are
 * done and the pinning detector has a verdict, or something failed), then a CLOSED when the
 * connection is gone (its place under the caps is given back then). A worker that dies sends
 * neither: tlsgated settles its jobs itself.
 */
#ifndef TLSGATE_PROXY_MSG_H
#define TLSGATE_PROXY_MSG_H

#include <stdint.h>

#include "tlsgate/caps.h"

enum proxy_class { PROXY_CLASS_PASS = 0, PROXY_CLASS_BLOCK = 1 }; /* settings.fail class values */

struct proxy_job {
	uint64_t id;
	uint8_t family; /* 4 or 6 */
	uint8_t client[16], server[16]; /* IPv4 in the first 4 bytes */
	uint16_t client_port, server_port;
	/* The policy's settings.fail classes at decision time. */
	uint8_t fail_untrusted, fail_unsupported, fail_mint;
	uint32_t silent_close_ms; /* the pinning detector's post-handshake window */
	uint16_t sni_len; /* 0: the ClientHello had none */
	char sni[TG_CAP_NAME_LEN + 1];
};

enum proxy_outcome {
	PROXY_INTERCEPTED = 1, /* both handshakes done, the client accepted the certificate */
	PROXY_CLIENT_REJECTED, /* the pinning detector saw a trust rejection */
	PROXY_CLIENT_ABORTED, /* the client went away for another reason */
	PROXY_UPSTREAM_FAILED, /* connect, handshake or verification of the real server failed */
	PROXY_UNSUPPORTED, /* the upstream (or the client) cannot be intercepted: replayed */
	PROXY_MINT_FAILED, /* the forged certificate could not be had from the CA process */
	PROXY_INTERNAL, /* the worker could not take the job (memory, its own cap) */
	PROXY_OUTCOME__COUNT
};

/* What went wrong with the upstream (PROXY_UPSTREAM_FAILED). */
enum proxy_up_err {
	PROXY_UP_NONE = 0,
	PROXY_UP_CONNECT,
	PROXY_UP_HANDSHAKE,
	PROXY_UP_UNTRUSTED,
	PROXY_UP_EXPIRED,
	PROXY_UP_NAME_MISMATCH,
	PROXY_UP_NO_SNI,
	PROXY_UP__COUNT
};

/* Why a connection was not intercepted but replayed untouched (PROXY_UNSUPPORTED). */
enum proxy_unsup {
	PROXY_UNSUP_NONE = 0,
	PROXY_UNSUP_NO_TLS12, /* the server offers nothing this proxy speaks (TLS 1.2) */
	PROXY_UNSUP_CLIENT_CERT, /* the server requested a client certificate */
	PROXY_UNSUP_PROTOCOL_VERSION, /* the server answered protocol_version */
	PROXY_UNSUP_HANDSHAKE, /* the server answered handshake_failure (no common parameters) */
	PROXY_UNSUP_CLIENT, /* the client offers no TLS 1.2 or no http/1.1 ALPN: not excluded */
	PROXY_UNSUP__COUNT
};

/*
 * PROGRESS: a live connection's byte counts so far, at most every PROXY_PROGRESS_MS and only
 * when they moved (for `tlsgatectl flows`). WORKER (id 0): the worker's own figures, as often.
 */
enum proxy_report_type {
	PROXY_REP_OUTCOME = 1,
	PROXY_REP_CLOSED = 2,
	PROXY_REP_PROGRESS = 3,
	PROXY_REP_WORKER = 4,
};

struct proxy_report {
	uint64_t id;
	uint8_t type; /* enum proxy_report_type */
	uint8_t outcome; /* enum proxy_outcome */
	uint8_t up_err; /* enum proxy_up_err */
	uint8_t unsup; /* enum proxy_unsup */
	uint8_t pin_why; /* enum tg_pin_why */
	uint8_t alert; /* the client's alert code when an alert decided, else 0 */
	uint8_t replayed; /* the client's ClientHello went to the real server untouched */
	uint8_t resumed; /* the client leg resumed a session */
	uint8_t up_resumed; /* the upstream leg resumed a session */
	uint64_t bytes_up,
		bytes_down; /* CLOSED: application bytes client->server, server->client */
	uint64_t cache_entries, cache_bytes; /* WORKER: forged leaves cached, their DER bytes */
};

#endif
