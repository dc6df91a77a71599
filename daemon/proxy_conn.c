/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_conn.c - one intercepted connection's state machine in a proxy worker (the process is
 * proxy_worker.c's; relaying is proxy_relay.c's).
 *
 * One connection, in order (each step non-blocking, driven by epoll):
 *  CH        read the ClientHello off the adopted socket (the bytes the daemon held and
 *            released; the worker keeps a copy to replay); a client that offers no TLS 1.2
 *            or ALPN without http/1.1 cannot be intercepted here: REPLAY.
 *  UP_CONN   connect to the original destination from the router's own address.
 *  UP_HS     TLS 1.2 handshake with the real server (SNI as the client sent it). A server
 *            that asks for a client certificate, answers protocol_version or
 *            handshake_failure, or speaks no TLS 1.2 is UNSUPPORTED: REPLAY (tlsgated excludes
 *            it). Then the chain is verified for the SNI; a failure is UPSTREAM_FAILED and
 *            settings.fail.upstream_untrusted says block (an alert to the client) or pass
 *            (REPLAY: the client judges the real certificate itself).
 *  MINT      the forged leaf for (upstream certificate, SNI) from the leaf cache or the CA.
 *  CL_HS     TLS 1.2 handshake with the client behind the forged leaf; every step feeds the
 *            pinning detector (certificate flight out, alerts, EOF, RST, Finished).
 *  RELAY     decrypted bytes both ways, with backpressure (a direction stops reading while
 *            the other side cannot take its bytes), close_notify and half-close passed on,
 *            idle and half-close timeouts. The first client bytes, a close, or the end of the
 *            detector's window give its verdict: the OUTCOME goes to tlsgated.
 *  REPLAY    a fresh connection to the real server gets the client's ClientHello bytes
 *            untouched, then both sockets are relayed as they are.
 * Any end sends CLOSED. An error resets the client (SO_LINGER 0): it sees a failure, not a hang.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <mbedtls/net_sockets.h>

#include "tlsgate/tls_ch.h"

#include "caps.h"
#include "log.h"
#include "proxy_worker_impl.h"

static int sock_connect(const struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (c->job.family == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(c->job.server_port);
		memcpy(&a->sin_addr, c->job.server, 4);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(c->job.server_port);
		memcpy(&a->sin6_addr, c->job.server, 16);
		sl = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) == -1 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool connect_done(int fd)
{
	int err = 0;
	socklen_t l = sizeof(err);

	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0;
}

/* Start the untouched path: a fresh upstream gets the client's first bytes as they came. */
static bool replay_start(struct worker *w, struct conn *c)
{
	(void)w;
	tlsx_ssl_free(c->up);
	c->up = NULL;
	if (c->ufd >= 0) {
		proxy_worker_ep_set(w, c->ufd, &c->eu, &c->uev, 0);
		proxy_worker_reset_close(c->ufd);
	}
	c->ufd = sock_connect(c);
	if (c->ufd == -1)
		return false;
	c->rep.replayed = 1;
	c->st = C_REPLAY_CONN;
	c->cwant = 0;
	c->uwant = EPOLLOUT;
	return true;
}

/* ---- the ClientHello ---- */

enum ch_step { CH_MORE, CH_OK, CH_REPLAY, CH_FAIL };

static bool offers_tls12(const struct tg_ch *ch)
{
	size_t i;

	if (!ch->has_versions)
		return ch->legacy_version >= 0x0303;
	for (i = 0; i < ch->n_versions; i++)
		if (ch->versions[i] == 0x0303)
			return true;
	return false;
}

static bool offers_h1(const struct tg_ch *ch)
{
	size_t i;

	if (!ch->has_alpn)
		return true;
	for (i = 0; i < ch->n_alpn; i++)
		if (ch->alpn[i].len == 8 && memcmp(ch->alpn[i].p, "http/1.1", 8) == 0)
			return true;
	return false;
}

static enum ch_step ch_read(struct conn *c)
{
	static uint8_t scratch[TG_CAP_CH_BYTES];
	struct tg_ch ch;
	enum tg_err e;
	ssize_t n;

	if (c->ch == NULL) {
		c->ch = malloc(PROXY_CH_MAX);
		if (c->ch == NULL)
			return CH_FAIL;
	}
	for (;;) {
		if (c->ch_len == PROXY_CH_MAX)
			return CH_FAIL;
		n = recv(c->cfd, c->ch + c->ch_len, PROXY_CH_MAX - c->ch_len, MSG_DONTWAIT);
		if (n == 0)
			return CH_FAIL;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return CH_FAIL;
		}
		c->ch_len += (size_t)n;
	}
	e = tg_tls_ch_parse(&ch, c->ch, c->ch_len, scratch);
	if (e == TG_NEED_MORE)
		return CH_MORE;
	if (e != TG_OK)
		return CH_FAIL;
	if (!offers_tls12(&ch) || !offers_h1(&ch))
		return CH_REPLAY;
	return CH_OK;
}

/* ---- the handshakes ---- */

static enum proxy_unsup unsup_of_alert(uint8_t code)
{
	switch (code) {
	case 70:
		return PROXY_UNSUP_PROTOCOL_VERSION;
	case 40:
	case 71:
		return PROXY_UNSUP_HANDSHAKE;
	default:
		return PROXY_UNSUP_NONE;
	}
}

/* The upstream handshake went as far as it goes; false when the connection was ended. */
static bool up_hs_step(struct worker *w, struct conn *c)
{
	uint8_t level, code;
	enum proxy_up_err why;
	int64_t until = 0;
	char err[128];
	int r = tlsx_upstream_handshake(c->up, &c->up_resumed);

	if (tlsx_cert_requested(c->up)) {
		c->rep.unsup = PROXY_UNSUP_CLIENT_CERT;
		goto unsupported;
	}
	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
		c->uwant = r == MBEDTLS_ERR_SSL_WANT_READ ? EPOLLIN : EPOLLOUT;
		c->cwant = 0;
		return true;
	}
	if (r != 0) {
		if (tlsx_peer_alert(c->up, r, &level, &code) && unsup_of_alert(code)) {
			c->rep.unsup = (uint8_t)unsup_of_alert(code);
			goto unsupported;
		}
		if (r == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION) {
			c->rep.unsup = PROXY_UNSUP_NO_TLS12;
			goto unsupported;
		}
		c->rep.up_err = PROXY_UP_HANDSHAKE;
		goto failed;
	}
	if (!tlsx_verify(w->tls, c->up, c->job.sni, c->up_resumed, (int64_t)time(NULL), &why,
			 &until)) {
		c->rep.up_err = (uint8_t)why;
		goto failed;
	}
	tlsx_save_session(w->tls, c->up, c->job.sni, c->up_resumed, until);
	c->rep.up_resumed = c->up_resumed;
	if (leafcache_get(w->leaves, mbedtls_ssl_get_peer_cert(c->up), c->job.sni,
			  PROXY_MINT_TIMEOUT_MS, &c->leaf, err, sizeof(err)) != 0) {
		log_warnx("mint %s: %s", c->job.sni, err);
		if (c->job.fail_mint == PROXY_CLASS_PASS && replay_start(w, c)) {
			proxy_worker_outcome(w, c, PROXY_MINT_FAILED);
			return true;
		}
		proxy_worker_conn_end(w, c, PROXY_MINT_FAILED, true);
		return false;
	}
	c->cio.own_crt = leaf_crt(c->leaf);
	c->cl = tlsx_client_leg(w->tls, &c->cio);
	if (c->cl == NULL) {
		proxy_worker_conn_end(w, c, PROXY_INTERNAL, true);
		return false;
	}
	c->st = C_CL_HS;
	return true;
failed:
	if (c->job.fail_untrusted == PROXY_CLASS_PASS && replay_start(w, c)) {
		proxy_worker_outcome(w, c, PROXY_UPSTREAM_FAILED);
		return true;
	}
	/* The client's handshake fails: an alert it can read, then the close. */
	{
		static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 40 }; /* handshake_failure */

		(void)!send(c->cfd, alert, sizeof(alert), MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	proxy_worker_conn_end(w, c, PROXY_UPSTREAM_FAILED, false);
	return false;
unsupported:
	if (replay_start(w, c)) {
		proxy_worker_outcome(w, c, PROXY_UNSUPPORTED);
		return true;
	}
	proxy_worker_conn_end(w, c, PROXY_UNSUPPORTED, true);
	return false;
}

static bool cl_hs_step(struct worker *w, struct conn *c)
{
	struct tg_pin_event ev;
	uint8_t level, code;
	int r = mbedtls_ssl_handshake(c->cl);

	/* Known while the handshake is under way only (its state is freed at the end). */
	c->rep.resumed |= tlsx_resumed(c->cl);
	if (!c->flight && tlsx_flight_sent(c->cl)) {
		c->flight = true;
		memset(&ev, 0, sizeof(ev));
		ev.type = TG_PIN_EV_SERVER_FLIGHT;
		proxy_worker_pin_feed(w, c, &ev);
	}
	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
		c->cwant = r == MBEDTLS_ERR_SSL_WANT_READ ? EPOLLIN : EPOLLOUT;
		c->uwant = 0;
		return true;
	}
	memset(&ev, 0, sizeof(ev));
	if (r == 0) {
		c->st = C_RELAY;
		if (c->rep.resumed) {
			/*
			 * A resumed session showed no certificate: the client accepted the
			 * gateway's on an earlier connection, so how it closes this one says
			 * nothing about trust.
			 */
			proxy_worker_outcome(w, c, PROXY_INTERCEPTED);
		} else {
			ev.type = TG_PIN_EV_FINISHED;
			proxy_worker_pin_feed(w, c, &ev);
		}
		c->active_ms = proxy_worker_now_ms();
		return !proxy_relay_step(w, c, true);
	}
	if (tlsx_peer_alert(c->cl, r, &level, &code) || tlsx_queued_alert(c->cfd, &level, &code)) {
		ev.type = TG_PIN_EV_ALERT;
		ev.alert_level = level;
		ev.alert_code = code;
	} else if (r == MBEDTLS_ERR_NET_CONN_RESET || c->cio.err == ECONNRESET) {
		ev.type = TG_PIN_EV_RST;
	} else if (c->cio.eof || r == MBEDTLS_ERR_SSL_CONN_EOF ||
		   r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
		ev.type = TG_PIN_EV_EOF;
	} else {
		ev.type = TG_PIN_EV_CLOSE;
	}
	proxy_worker_pin_feed(w, c, &ev);
	proxy_worker_conn_end(w, c, PROXY_CLIENT_ABORTED, ev.type == TG_PIN_EV_CLOSE);
	return false;
}

/* ---- the state machine ---- */

/* Advance @c as far as it goes; false when it ended. */
bool proxy_conn_step(struct worker *w, struct conn *c, bool up_ready)
{
	switch (c->st) {
	case C_CH:
		switch (ch_read(c)) {
		case CH_MORE:
			c->cwant = EPOLLIN;
			return true;
		case CH_FAIL:
			proxy_worker_conn_end(w, c, PROXY_CLIENT_ABORTED, true);
			return false;
		case CH_REPLAY:
			c->rep.unsup = PROXY_UNSUP_CLIENT;
			if (!replay_start(w, c)) {
				c->rep.up_err = PROXY_UP_CONNECT;
				proxy_worker_conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
				return false;
			}
			proxy_worker_outcome(w, c, PROXY_UNSUPPORTED);
			return true;
		case CH_OK:
			break;
		}
		c->cio.pre = c->ch;
		c->cio.pre_len = c->ch_len;
		if (c->job.sni_len == 0) {
			c->rep.up_err = PROXY_UP_NO_SNI;
			if (c->job.fail_untrusted == PROXY_CLASS_PASS && replay_start(w, c)) {
				proxy_worker_outcome(w, c, PROXY_UPSTREAM_FAILED);
				return true;
			}
			proxy_worker_conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
			return false;
		}
		c->ufd = sock_connect(c);
		if (c->ufd == -1) {
			c->rep.up_err = PROXY_UP_CONNECT;
			proxy_worker_conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
			return false;
		}
		c->st = C_UP_CONN;
		c->cwant = 0;
		c->uwant = EPOLLOUT;
		return true;
	case C_UP_CONN:
		if (!up_ready)
			return true;
		if (!connect_done(c->ufd)) {
			c->rep.up_err = PROXY_UP_CONNECT;
			proxy_worker_conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
			return false;
		}
		c->uio.fd = c->ufd;
		c->up = tlsx_upstream_leg(w->tls, &c->uio, c->job.sni);
		if (c->up == NULL) {
			proxy_worker_conn_end(w, c, PROXY_INTERNAL, true);
			return false;
		}
		c->st = C_UP_HS;
		/* fall through */
	case C_UP_HS:
		if (!up_hs_step(w, c))
			return false;
		if (c->st != C_CL_HS)
			return true;
		/* fall through */
	case C_CL_HS:
		return cl_hs_step(w, c);
	case C_RELAY:
		return !proxy_relay_step(w, c, true);
	case C_REPLAY_CONN:
		if (!up_ready)
			return true;
		if (!connect_done(c->ufd)) {
			proxy_worker_conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
			return false;
		}
		/* The client's first bytes, as they came, start the upstream's stream. */
		c->c2u.buf = c->ch;
		c->c2u.len = c->ch_len;
		c->c2u.off = 0;
		c->ch = NULL;
		c->st = C_REPLAY;
		c->active_ms = proxy_worker_now_ms();
		/* fall through */
	case C_REPLAY:
		return !proxy_relay_step(w, c, false);
	case C_DONE:
		break;
	}
	return true;
}
