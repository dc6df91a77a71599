/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_worker.c - a proxy worker process: tlsgated exec'd with --proxy-worker, unprivileged
 * (another user, no capabilities, no_new_privs), one event loop over the intercepted
 * connections tlsgated hands it (proxy_msg.h). It never sees the CA key: forged leaves come
 * from the CA process (leafcache.h).
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
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>

#include "tlsgate/pindetect.h"
#include "tlsgate/tls_ch.h"

#include "caps.h"
#include "leafcache.h"
#include "log.h"
#include "proxy_msg.h"
#include "proxy_spawn.h"
#include "proxy_worker.h"
#include "tlsx.h"

enum cstate { C_CH, C_UP_CONN, C_UP_HS, C_CL_HS, C_RELAY, C_REPLAY_CONN, C_REPLAY, C_DONE };

struct dir {
	uint8_t *buf; /* PROXY_DIR_BUF bytes while it holds some, else NULL */
	size_t len, off;
	bool eof; /* the source ended */
	bool shut; /* the end was passed on */
};

struct conn;
struct ep {
	struct conn *c;
	bool up;
};

struct conn {
	struct conn *prev, *next;
	struct proxy_job job;
	enum cstate st;
	int cfd, ufd;
	struct ep ec, eu;
	uint32_t cev, uev; /* registered epoll interest */
	uint32_t cwant, uwant; /* interest the last step asked for */
	uint8_t *ch; /* the client's first bytes (ClientHello and anything after) */
	size_t ch_len;
	struct tlsx_io cio, uio;
	mbedtls_ssl_context *cl, *up;
	struct leaf *leaf;
	struct tg_pindetect pd;
	bool flight;
	bool up_resumed;
	bool outcome_sent;
	struct proxy_report rep;
	struct dir c2u, u2c;
	uint64_t start_ms, active_ms;
	uint64_t told_up, told_down; /* byte counts last reported (PROXY_REP_PROGRESS) */
};

struct worker {
	int sock, epfd;
	struct tlsx *tls;
	struct leafcache *leaves;
	struct conn *conns;
	struct conn *dead; /* ended in this batch of events, freed after it */
	unsigned n;
	struct ep esock;
};

static volatile sig_atomic_t stop;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void send_report(struct worker *w, const struct proxy_report *r)
{
	/* Blocking on purpose: a report must not be lost; tlsgated reads them in its loop. */
	while (send(w->sock, r, sizeof(*r), MSG_NOSIGNAL) == -1 && errno == EINTR)
		;
}

static void outcome(struct worker *w, struct conn *c, enum proxy_outcome o)
{
	if (c->outcome_sent)
		return;
	c->outcome_sent = true;
	c->rep.id = c->job.id;
	c->rep.type = PROXY_REP_OUTCOME;
	c->rep.outcome = (uint8_t)o;
	send_report(w, &c->rep);
}

static void ep_set(struct worker *w, int fd, struct ep *e, uint32_t *have, uint32_t want)
{
	struct epoll_event ev = { .events = want, .data.ptr = e };

	if (fd < 0 || *have == want)
		return;
	if (*have == 0 && want != 0)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
	else if (want == 0)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
	else
		(void)epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev);
	*have = want;
}

static void reset_close(int fd)
{
	struct linger l = { 1, 0 };

	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* The end of a connection: OUTCOME if none went yet (@o), CLOSED, resources back. */
static void conn_end(struct worker *w, struct conn *c, enum proxy_outcome o, bool reset)
{
	if (!c->outcome_sent) {
		struct tg_pin_event ev = { .type = TG_PIN_EV_CLOSE };

		(void)tg_pindetect_event(&c->pd, &ev, now_ms());
		outcome(w, c, o);
	}
	c->rep.type = PROXY_REP_CLOSED;
	send_report(w, &c->rep);
	ep_set(w, c->cfd, &c->ec, &c->cev, 0);
	ep_set(w, c->ufd, &c->eu, &c->uev, 0);
	tlsx_ssl_free(c->cl);
	tlsx_ssl_free(c->up);
	if (c->leaf != NULL)
		leaf_put(c->leaf);
	if (reset) {
		reset_close(c->cfd);
		reset_close(c->ufd);
	} else {
		if (c->cfd >= 0)
			close(c->cfd);
		if (c->ufd >= 0)
			close(c->ufd);
	}
	free(c->c2u.buf);
	free(c->u2c.buf);
	free(c->ch);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->n--;
	/* Events of this batch may still name it: freed once the batch is done. */
	c->st = C_DONE;
	c->next = w->dead;
	w->dead = c;
}

/* The pinning detector's view of the client leg; its final verdict is the OUTCOME. */
static void pin_feed(struct worker *w, struct conn *c, const struct tg_pin_event *ev)
{
	struct tg_pin_verdict v = tg_pindetect_event(&c->pd, ev, now_ms());

	if (c->outcome_sent || v.result == TG_PIN_UNDECIDED)
		return;
	c->rep.pin_why = (uint8_t)v.why;
	c->rep.alert = v.alert;
	switch (v.result) {
	case TG_PIN_REJECTION:
		outcome(w, c, PROXY_CLIENT_REJECTED);
		break;
	case TG_PIN_CLIENT_ABORT:
		outcome(w, c, PROXY_CLIENT_ABORTED);
		break;
	default:
		/* NONE: app data, the window passed, or a close not about trust. */
		outcome(w, c, c->st >= C_RELAY ? PROXY_INTERCEPTED : PROXY_CLIENT_ABORTED);
		break;
	}
}

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
		ep_set(w, c->ufd, &c->eu, &c->uev, 0);
		reset_close(c->ufd);
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

/* ---- relaying ---- */

/*
 * Move bytes @src -> @dst as far as they go. Raw (@raw: both NULL TLS contexts) or TLS.
 * Returns -1 on a fatal error, else 0 with the interest each side needs ORed into *@sw and *@dw.
 */
static int pump(struct conn *c, struct dir *d, mbedtls_ssl_context *s, int sfd,
		mbedtls_ssl_context *t, int tfd, uint32_t *sw, uint32_t *dw, uint64_t *count)
{
	int r;

	for (;;) {
		if (d->off == d->len && !d->eof) {
			if (d->buf == NULL) {
				d->buf = malloc(PROXY_DIR_BUF);
				if (d->buf == NULL)
					return -1;
			}
			d->off = d->len = 0;
			if (s != NULL) {
				r = mbedtls_ssl_read(s, d->buf, PROXY_DIR_BUF);
				if (r == MBEDTLS_ERR_SSL_WANT_READ) {
					*sw |= EPOLLIN;
					break;
				}
				if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
					*sw |= EPOLLOUT;
					break;
				}
				if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
				    r == MBEDTLS_ERR_SSL_CONN_EOF) {
					d->eof = true;
				} else if (r < 0) {
					return -1;
				} else {
					d->len = (size_t)r;
				}
			} else {
				ssize_t n = recv(sfd, d->buf, PROXY_DIR_BUF, MSG_DONTWAIT);

				if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
					*sw |= EPOLLIN;
					break;
				}
				if (n < 0)
					return -1;
				if (n == 0)
					d->eof = true;
				else
					d->len = (size_t)n;
			}
			if (d->len) {
				*count += d->len;
				c->active_ms = now_ms();
			}
		}
		if (d->off < d->len) {
			if (t != NULL) {
				r = mbedtls_ssl_write(t, d->buf + d->off, d->len - d->off);
				if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
					*dw |= EPOLLOUT;
					break;
				}
				if (r == MBEDTLS_ERR_SSL_WANT_READ) {
					*dw |= EPOLLIN;
					break;
				}
				if (r < 0)
					return -1;
			} else {
				ssize_t n = send(tfd, d->buf + d->off, d->len - d->off,
						 MSG_DONTWAIT | MSG_NOSIGNAL);

				if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
					*dw |= EPOLLOUT;
					break;
				}
				if (n < 0)
					return -1;
				r = (int)n;
			}
			d->off += (size_t)r;
			continue;
		}
		if (d->eof) {
			if (!d->shut) {
				if (t != NULL) {
					r = mbedtls_ssl_close_notify(t);
					if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
						*dw |= EPOLLOUT;
						break;
					}
				}
				(void)shutdown(tfd, SHUT_WR);
				d->shut = true;
				c->active_ms = now_ms();
			}
			break;
		}
	}
	/* Nothing held: give the buffer back (an idle connection costs no relay buffer). */
	if (d->off == d->len && d->buf != NULL) {
		free(d->buf);
		d->buf = NULL;
		d->off = d->len = 0;
	}
	return 0;
}

/* Relay both ways; true when the connection is over. */
static bool relay_step(struct worker *w, struct conn *c, bool tls)
{
	uint32_t cw = 0, uw = 0;
	uint64_t before = c->rep.bytes_up;

	if (pump(c, &c->c2u, tls ? c->cl : NULL, c->cfd, tls ? c->up : NULL, c->ufd, &cw, &uw,
		 &c->rep.bytes_up) == -1 ||
	    pump(c, &c->u2c, tls ? c->up : NULL, c->ufd, tls ? c->cl : NULL, c->cfd, &uw, &cw,
		 &c->rep.bytes_down) == -1) {
		if (tls && !c->outcome_sent) {
			struct tg_pin_event ev = { .type = c->cio.err == ECONNRESET
								   ? TG_PIN_EV_RST
								   : TG_PIN_EV_CLOSE };

			pin_feed(w, c, &ev);
		}
		conn_end(w, c, PROXY_INTERCEPTED, true);
		return true;
	}
	if (tls && !c->outcome_sent) {
		if (c->rep.bytes_up > before) {
			struct tg_pin_event ev = { .type = TG_PIN_EV_APP_DATA,
						   .bytes = c->rep.bytes_up - before };

			pin_feed(w, c, &ev);
		} else if (c->c2u.eof) {
			struct tg_pin_event ev = { .type = TG_PIN_EV_EOF };

			pin_feed(w, c, &ev);
		}
	}
	if (c->c2u.shut && c->u2c.shut) {
		conn_end(w, c, PROXY_INTERCEPTED, false);
		return true;
	}
	c->cwant = cw;
	c->uwant = uw;
	return false;
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
			outcome(w, c, PROXY_MINT_FAILED);
			return true;
		}
		conn_end(w, c, PROXY_MINT_FAILED, true);
		return false;
	}
	c->cio.own_crt = leaf_crt(c->leaf);
	c->cl = tlsx_client_leg(w->tls, &c->cio);
	if (c->cl == NULL) {
		conn_end(w, c, PROXY_INTERNAL, true);
		return false;
	}
	c->st = C_CL_HS;
	return true;
failed:
	if (c->job.fail_untrusted == PROXY_CLASS_PASS && replay_start(w, c)) {
		outcome(w, c, PROXY_UPSTREAM_FAILED);
		return true;
	}
	/* The client's handshake fails: an alert it can read, then the close. */
	{
		static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 40 }; /* handshake_failure */

		(void)!send(c->cfd, alert, sizeof(alert), MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	conn_end(w, c, PROXY_UPSTREAM_FAILED, false);
	return false;
unsupported:
	if (replay_start(w, c)) {
		outcome(w, c, PROXY_UNSUPPORTED);
		return true;
	}
	conn_end(w, c, PROXY_UNSUPPORTED, true);
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
		pin_feed(w, c, &ev);
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
			outcome(w, c, PROXY_INTERCEPTED);
		} else {
			ev.type = TG_PIN_EV_FINISHED;
			pin_feed(w, c, &ev);
		}
		c->active_ms = now_ms();
		return !relay_step(w, c, true);
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
	pin_feed(w, c, &ev);
	conn_end(w, c, PROXY_CLIENT_ABORTED, ev.type == TG_PIN_EV_CLOSE);
	return false;
}

/* Advance @c as far as it goes; false when it ended. */
static bool conn_step(struct worker *w, struct conn *c, bool up_ready)
{
	switch (c->st) {
	case C_CH:
		switch (ch_read(c)) {
		case CH_MORE:
			c->cwant = EPOLLIN;
			return true;
		case CH_FAIL:
			conn_end(w, c, PROXY_CLIENT_ABORTED, true);
			return false;
		case CH_REPLAY:
			c->rep.unsup = PROXY_UNSUP_CLIENT;
			if (!replay_start(w, c)) {
				c->rep.up_err = PROXY_UP_CONNECT;
				conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
				return false;
			}
			outcome(w, c, PROXY_UNSUPPORTED);
			return true;
		case CH_OK:
			break;
		}
		c->cio.pre = c->ch;
		c->cio.pre_len = c->ch_len;
		if (c->job.sni_len == 0) {
			c->rep.up_err = PROXY_UP_NO_SNI;
			if (c->job.fail_untrusted == PROXY_CLASS_PASS && replay_start(w, c)) {
				outcome(w, c, PROXY_UPSTREAM_FAILED);
				return true;
			}
			conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
			return false;
		}
		c->ufd = sock_connect(c);
		if (c->ufd == -1) {
			c->rep.up_err = PROXY_UP_CONNECT;
			conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
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
			conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
			return false;
		}
		c->uio.fd = c->ufd;
		c->up = tlsx_upstream_leg(w->tls, &c->uio, c->job.sni);
		if (c->up == NULL) {
			conn_end(w, c, PROXY_INTERNAL, true);
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
		return !relay_step(w, c, true);
	case C_REPLAY_CONN:
		if (!up_ready)
			return true;
		if (!connect_done(c->ufd)) {
			conn_end(w, c, PROXY_UPSTREAM_FAILED, true);
			return false;
		}
		/* The client's first bytes, as they came, start the upstream's stream. */
		c->c2u.buf = c->ch;
		c->c2u.len = c->ch_len;
		c->c2u.off = 0;
		c->ch = NULL;
		c->st = C_REPLAY;
		c->active_ms = now_ms();
		/* fall through */
	case C_REPLAY:
		return !relay_step(w, c, false);
	case C_DONE:
		break;
	}
	return true;
}

static void conn_run(struct worker *w, struct conn *c, bool up_ready)
{
	if (!conn_step(w, c, up_ready))
		return;
	ep_set(w, c->cfd, &c->ec, &c->cev, c->cwant);
	ep_set(w, c->ufd, &c->eu, &c->uev, c->uwant);
}

static void job_take(struct worker *w)
{
	struct proxy_job job;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &job, sizeof(job) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct conn *c;
	ssize_t n;
	int fd = -1;

	n = recvmsg(w->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == 0) {
		stop = 1; /* tlsgated is gone */
		return;
	}
	if (n < 0)
		return;
	fd = proxy_msg_take_fd(&mh);
	if ((size_t)n != sizeof(job) || fd == -1) {
		if (fd != -1)
			reset_close(fd);
		return;
	}
	job.sni[sizeof(job.sni) - 1] = '\0';
	c = calloc(1, sizeof(*c));
	if (c == NULL || w->n >= PROXY_WORKER_MAX_CONNS) {
		struct proxy_report r = { .id = job.id,
					  .type = PROXY_REP_OUTCOME,
					  .outcome = PROXY_INTERNAL };

		free(c);
		reset_close(fd);
		send_report(w, &r);
		r.type = PROXY_REP_CLOSED;
		send_report(w, &r);
		return;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	{
		/* Handshake flights go out whole, not behind Nagle waiting for an ACK. */
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->job = job;
	c->cfd = fd;
	c->ufd = -1;
	c->ec.c = c->eu.c = c;
	c->eu.up = true;
	c->cio.fd = fd;
	c->uio.fd = -1;
	c->start_ms = c->active_ms = now_ms();
	tg_pindetect_init(&c->pd, job.silent_close_ms);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->n++;
	conn_run(w, c, false);
}

/* Byte counts of the connections that moved, and the worker's cache (PROXY_PROGRESS_MS). */
static void progress(struct worker *w)
{
	struct proxy_report r;
	struct leafcache_stats ls;
	struct conn *c;

	for (c = w->conns; c != NULL; c = c->next) {
		if (c->rep.bytes_up == c->told_up && c->rep.bytes_down == c->told_down)
			continue;
		r = c->rep;
		r.id = c->job.id;
		r.type = PROXY_REP_PROGRESS;
		send_report(w, &r);
		c->told_up = c->rep.bytes_up;
		c->told_down = c->rep.bytes_down;
	}
	memset(&r, 0, sizeof(r));
	leafcache_stats(w->leaves, &ls);
	r.type = PROXY_REP_WORKER;
	r.cache_entries = ls.entries;
	r.cache_bytes = ls.bytes;
	send_report(w, &r);
}

/* Timeouts, and the detector's window closing on a quiet intercepted connection. */
static void sweep(struct worker *w)
{
	uint64_t now = now_ms();
	struct conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->st == C_RELAY && !c->outcome_sent) {
			struct tg_pin_event ev = { .type = TG_PIN_EV_TICK };

			pin_feed(w, c, &ev);
		}
		if (c->st < C_RELAY && now - c->start_ms > PROXY_HANDSHAKE_TIMEOUT_MS) {
			if (c->st == C_UP_CONN || c->st == C_UP_HS)
				c->rep.up_err =
					c->st == C_UP_CONN ? PROXY_UP_CONNECT : PROXY_UP_HANDSHAKE;
			conn_end(w, c,
				 c->st == C_UP_CONN || c->st == C_UP_HS ? PROXY_UPSTREAM_FAILED
									: PROXY_CLIENT_ABORTED,
				 true);
			continue;
		}
		if ((c->c2u.shut || c->u2c.shut) &&
		    now - c->active_ms > PROXY_HALFCLOSE_TIMEOUT_MS) {
			conn_end(w, c, PROXY_INTERCEPTED, true);
			continue;
		}
		if (now - c->active_ms > PROXY_IDLE_TIMEOUT_MS)
			conn_end(w, c, PROXY_INTERCEPTED, true);
	}
}

static void free_dead(struct worker *w)
{
	while (w->dead != NULL) {
		struct conn *c = w->dead;

		w->dead = c->next;
		free(c);
	}
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int proxy_worker_main(const char *trust_name, int keylog_fd)
{
	struct worker w;
	char err[256];
	uint64_t last_sweep = 0, last_progress = 0;
	struct rlimit rl = { 0, 0 };

	memset(&w, 0, sizeof(w));
	w.sock = PROXY_FD_MAIN;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	w.tls = tlsx_new(PROXY_FD_TRUST, trust_name, keylog_fd, err, sizeof(err));
	if (w.tls == NULL) {
		log_warnx("proxy worker: %s", err);
		return 1;
	}
	w.leaves = leafcache_new(PROXY_FD_CA, tlsx_leaf_key(w.tls), PROXY_LEAF_CACHE);
	w.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w.leaves == NULL || w.epfd == -1) {
		log_warnx("proxy worker: out of resources");
		return 1;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w.esock };

		if (epoll_ctl(w.epfd, EPOLL_CTL_ADD, w.sock, &ev) == -1)
			return 1;
	}
	while (!stop) {
		struct epoll_event evs[64];
		int i, n = epoll_wait(w.epfd, evs, 64, PROXY_SWEEP_MS);
		uint64_t now;

		for (i = 0; i < n; i++) {
			struct ep *e = evs[i].data.ptr;

			if (e == &w.esock) {
				if (evs[i].events & (EPOLLHUP | EPOLLERR))
					stop = 1;
				job_take(&w);
				continue;
			}
			/* It may have ended earlier in this batch. */
			if (e->c->st != C_DONE)
				conn_run(&w, e->c,
					 e->up && (evs[i].events &
						   (EPOLLOUT | EPOLLERR | EPOLLHUP)));
		}
		now = now_ms();
		if (now - last_sweep >= PROXY_SWEEP_MS) {
			sweep(&w);
			last_sweep = now;
		}
		if (now - last_progress >= PROXY_PROGRESS_MS) {
			progress(&w);
			last_progress = now;
		}
		free_dead(&w);
	}
	while (w.conns != NULL)
		conn_end(&w, w.conns, PROXY_INTERCEPTED, true);
	free_dead(&w);
	leafcache_free(w.leaves);
	tlsx_free(w.tls);
	close(w.epfd);
	return 0;
}
