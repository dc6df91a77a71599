/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_relay.c - a proxy worker's relay (proxy_worker_impl.h): decrypted bytes both ways
 * between the two TLS legs, or raw bytes when replaying, with backpressure (a direction stops
 * reading while the other side cannot take its bytes), close_notify and half-close passed on.
 * A direction holds a PROXY_DIR_BUF buffer only while it has bytes in flight.
 */
#include <errno.h>
#include <stdlib.h>

#include <sys/epoll.h>
#include <sys/socket.h>

#include "caps.h"
#include "proxy_worker_impl.h"

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
				c->active_ms = proxy_worker_now_ms();
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
				c->active_ms = proxy_worker_now_ms();
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
bool proxy_relay_step(struct worker *w, struct conn *c, bool tls)
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

			proxy_worker_pin_feed(w, c, &ev);
		}
		proxy_worker_conn_end(w, c, PROXY_INTERCEPTED, true);
		return true;
	}
	if (tls && !c->outcome_sent) {
		if (c->rep.bytes_up > before) {
			struct tg_pin_event ev = { .type = TG_PIN_EV_APP_DATA,
						   .bytes = c->rep.bytes_up - before };

			proxy_worker_pin_feed(w, c, &ev);
		} else if (c->c2u.eof) {
			struct tg_pin_event ev = { .type = TG_PIN_EV_EOF };

			proxy_worker_pin_feed(w, c, &ev);
		}
	}
	if (c->c2u.shut && c->u2c.shut) {
		proxy_worker_conn_end(w, c, PROXY_INTERCEPTED, false);
		return true;
	}
	c->cwant = cw;
	c->uwant = uw;
	return false;
}
