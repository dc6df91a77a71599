/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tlsx.h - the proxy worker's TLS: the one module that calls mbedTLS for the two legs of an
 * intercepted connection (DESIGN.md: keep every 2.28-vs-3.x difference in one place). What
 * differs between mbedTLS 2.28 (Debian 12: TLS 1.2 only) and 3.x is in tlsx.c's compat block;
 * the worker's state machine (proxy_worker.c) sees only this interface.
 *
 * Legs. The CLIENT leg is a TLS 1.2 server towards the LAN client: the forged leaf (from the
 * CA process through leafcache.h) and the worker's own leaf key, ALPN http/1.1 only, session
 * tickets (keys rotated by mbedTLS every PROXY_TICKET_LIFETIME_S) and a session cache. The
 * UPSTREAM leg is a TLS 1.2 client towards the real server: SNI as the client sent it, ALPN
 * http/1.1, sessions resumed per server name, and the chain verified here after the handshake
 * against the trust store (tlsx_verify; a repeat chain is answered from a cache of verified
 * chains keyed by their hash and the name).
 *
 * I/O. Both legs read and write non-blocking sockets through struct tlsx_io; the client leg
 * first reads the ClientHello bytes the worker already took off the socket (pre).
 */
#ifndef TLSGATE_TLSX_H
#define TLSGATE_TLSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "proxy_msg.h"

struct tlsx;

struct tlsx_io {
	int fd;
	const uint8_t *pre; /* bytes served before the socket's (the ClientHello), may be NULL */
	size_t pre_len, pre_off;
	int err; /* errno of the last failed send/recv (ECONNRESET tells an RST) */
	bool eof; /* the socket read 0 */
	mbedtls_x509_crt *own_crt; /* client leg: the certificate presented */
};

/*
 * tlsx_trust_check() - whether the bundle open on @fd (named @name in messages) parses: tlsgated
 * checks it once before starting workers, so a bad bundle is one clear error, not workers that
 * fail at every start. 0, or -1 with a reason in @err.
 */
int tlsx_trust_check(int fd, const char *name, char *err, size_t errlen);

/*
 * tlsx_new() - the worker's TLS state: the trust store open on @trust_fd (PEM or DER bundle,
 * @trust_name for messages; read, not kept open by tlsx), a fresh
 * ECDSA P-256 leaf key (one per worker start; every forged leaf of this worker carries it), the
 * RNG, session ticket keys and caches; @keylog_fd >= 0 gets SSLKEYLOGFILE lines of both legs.
 * NULL with a reason in @err.
 */
struct tlsx *tlsx_new(int trust_fd, const char *trust_name, int keylog_fd, char *err,
		      size_t errlen);
void tlsx_free(struct tlsx *t);
mbedtls_pk_context *tlsx_leaf_key(struct tlsx *t);

/* A new leg on @io, or NULL (out of memory). Free with tlsx_ssl_free(). */
mbedtls_ssl_context *tlsx_client_leg(struct tlsx *t, struct tlsx_io *io);
mbedtls_ssl_context *tlsx_upstream_leg(struct tlsx *t, struct tlsx_io *io, const char *sni);
void tlsx_ssl_free(mbedtls_ssl_context *ssl);

/* After a handshake error: the peer's alert (true when MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE). */
bool tlsx_peer_alert(const mbedtls_ssl_context *ssl, int ret, uint8_t *level, uint8_t *code);
/* Upstream leg: the server sent a CertificateRequest. */
bool tlsx_cert_requested(const mbedtls_ssl_context *ssl);
/*
 * tlsx_queued_alert() - a plaintext alert record waiting, unread, on @fd (peeked, not consumed):
 * a client that sends its alert and resets while the gateway is still writing its flight leaves
 * the alert in the receive queue behind a failed write.
 */
bool tlsx_queued_alert(int fd, uint8_t *level, uint8_t *code);
/* Client leg: the certificate of the flight has gone out (ServerHelloDone may not have yet). */
bool tlsx_flight_sent(const mbedtls_ssl_context *ssl);
/* The handshake resumes a session (no certificate shown); known only while it is under way. */
bool tlsx_resumed(const mbedtls_ssl_context *ssl);
/*
 * tlsx_up_handshake() - mbedtls_ssl_handshake() for the upstream leg, step by step: *@resumed
 * is set once the ServerHello is read. Offering a session (mbedtls_ssl_set_session) marks the
 * handshake resumed until a ServerHello without that session clears it, so resumption cannot
 * be read off the handshake before then, nor after it (2.28 frees its handshake state).
 */
int tlsx_up_handshake(mbedtls_ssl_context *up, bool *resumed);

/*
 * tlsx_verify() - the upstream's chain for @sni against the trust store at @now_s. True when
 * trusted, with *@until_out the chain's earliest expiry; else *@why is PROXY_UP_UNTRUSTED,
 * PROXY_UP_EXPIRED or PROXY_UP_NAME_MISMATCH. A @resumed handshake (no chain shown) is trusted
 * while the session this worker saved for @sni after a full verification is unexpired.
 */
bool tlsx_verify(struct tlsx *t, mbedtls_ssl_context *up, const char *sni, bool resumed,
		 int64_t now_s, enum proxy_up_err *why, int64_t *until_out);
/*
 * Upstream leg after a verified handshake: keep its session for the next connection to @sni,
 * trusted on resumption until @until (tlsx_verify's).
 */
void tlsx_save_session(struct tlsx *t, mbedtls_ssl_context *up, const char *sni, bool resumed,
		       int64_t until);

struct tlsx_stats {
	uint64_t verify_cache_hits, verify_runs, sessions_resumed_up;
};
void tlsx_stats_get(const struct tlsx *t, struct tlsx_stats *out);

#endif
