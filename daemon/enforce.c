/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * enforce.c - what a block puts on the wire, from the router's raw sockets (adopt_raw_open:
 * SO_MARK RST, untracked): RSTs to both ends of a TCP flow, the 403 page for plain HTTP, the
 * NXDOMAIN or sinkhole answer for a DNS query. The engine decides; this file only writes.
 */
#include <stdio.h>
#include <string.h>

#include "tlsgate/pkt_build.h"

#include "enforce.h"

#define ENFORCE_PAGE_WINDOW 512 /* the window the 403 page segment advertises */
#define ENFORCE_DNS_TTL_S   60 /* TTL of a sinkhole answer */

/* Append @s to @out with the HTML specials escaped; returns the new length. */
static size_t html_escape(char *out, size_t at, size_t cap, const char *s)
{
	for (; *s && at + 7 < cap; s++) {
		const char *rep = *s == '<'   ? "&lt;"
				  : *s == '>' ? "&gt;"
				  : *s == '&' ? "&amp;"
				  : *s == '"' ? "&quot;"
					      : NULL;

		if (rep) {
			memcpy(out + at, rep, strlen(rep));
			at += strlen(rep);
		} else {
			out[at++] = *s;
		}
	}
	return at;
}

int enforce_reset(int raw_fd, const struct adopt_facts *f, uint32_t client_bytes, bool server_too)
{
	if (adopt_reset_client(raw_fd, f, client_bytes) == -1)
		return -1;
	return server_too ? adopt_reset_server(raw_fd, f) : 0;
}

int enforce_block_page(int raw_fd, const struct adopt_facts *f, uint32_t client_bytes,
		       const char *rule)
{
	static const char head[] = "HTTP/1.1 403 Forbidden\r\n"
				   "Content-Type: text/html; charset=utf-8\r\n"
				   "Cache-Control: no-store\r\n"
				   "Connection: close\r\n"
				   "Content-Length: ";
	char body[512], page[768];
	uint8_t pkt[1024];
	size_t blen, plen, n;

	blen = (size_t)snprintf(body, sizeof(body),
				"<!doctype html><title>Blocked</title><h1>Blocked</h1>"
				"<p>This site is not allowed by your organization's policy.</p>"
				"<p>Rule: ");
	blen = html_escape(body, blen, sizeof(body) - 16, rule[0] ? rule : "-");
	memcpy(body + blen, "</p>\n", 5);
	blen += 5;
	plen = (size_t)snprintf(page, sizeof(page), "%s%zu\r\n\r\n%.*s", head, blen, (int)blen,
				body);
	n = tg_pkt_build_tcp(pkt, sizeof(pkt), f->family, f->server, f->client, f->server_port,
			     f->client_port, f->server_isn + 1 + f->server_sent,
			     f->client_isn + 1 + client_bytes, TG_TCP_PSH | TG_TCP_ACK | TG_TCP_FIN,
			     ENFORCE_PAGE_WINDOW, (const uint8_t *)page, plen);
	if (n == 0 || adopt_raw_send(raw_fd, f->family, f->client, pkt, n) == -1)
		return -1;
	return adopt_reset_server(raw_fd, f);
}

int enforce_dns_answer(int raw_fd, const struct tg_pkt *q, uint8_t sink_family,
		       const uint8_t sink_addr[static 16])
{
	uint8_t out[TG_PKT_DNS_ANSWER_MAX];
	size_t n = tg_pkt_build_dns_block(out, sizeof(out), q, sink_family, sink_addr,
					  ENFORCE_DNS_TTL_S);

	if (n == 0)
		return -1;
	return adopt_raw_send(raw_fd, q->ip_version, q->src, out, n);
}
