/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.h - the daemon's control socket: a Unix stream socket where an administrator's
 * tlsgatectl sends one request and gets one reply, then the connection closes. Who may
 * connect: root, the daemon's own user, and members of the --control-group (the peer's
 * credentials, SO_PEERCRED and SO_PEERGROUPS, are checked at accept; anyone else is told why
 * and closed, counted in refused_peer). Clients are served by connset.c from the main loop,
 * within the CONTROL_* caps of caps.h.
 *
 * A request is one line of printable ASCII words separated by spaces, ending in '\n', at most
 * CONTROL_LINE_MAX bytes with the newline, at most CONTROL_WORDS_MAX words. When its last word
 * is '#' and a decimal length N (at most CONTROL_BODY_MAX), N bytes of body follow the newline
 * and end the request; nothing may follow them. Examples:
 *
 *   "status\n"                        "bypass add host=a.example user=alice\n"
 *   "policy push #1234\n" + 1234 bytes of policy JSON
 *
 * The reply is whatever the handler writes: ctlsrv.c writes one JSON object and a newline,
 * {"error": "..."} when the request is refused.
 */
#ifndef TLSGATE_CONTROL_H
#define TLSGATE_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "connset.h"

enum control_parse {
	CONTROL_REQ_OK,
	CONTROL_REQ_MORE, /* consistent so far: read on */
	CONTROL_REQ_INVALID, /* *why says what is wrong */
};

/* A parsed request: views into the bytes given to control_req_parse(). */
struct control_req {
	const char *line; /* the command line without the body word and the newline */
	size_t line_len;
	const uint8_t *body; /* NULL when the request has none */
	size_t body_len;
};

/*
 * control_req_parse() - the request in @len bytes at @buf (all that arrived so far). OK with
 * @req filled, MORE, or INVALID with *@why (a static text) set. Pure: no I/O, no allocation.
 */
enum control_parse control_req_parse(const uint8_t *buf, size_t len, struct control_req *req,
				     const char **why);

/*
 * control_words() - split @line (@len bytes, printable ASCII) at spaces into NUL-terminated
 * words in @buf (at least @len + 1 bytes) and @argv (CONTROL_WORDS_MAX entries). Returns the
 * number of words, or -1 past CONTROL_WORDS_MAX.
 */
int control_words(const char *line, size_t len, char *buf, char **argv);

/*
 * A command: @argc words in @argv (the first is the command), the body if any. Writes the
 * reply to @out; returns 0, or -1 when the request was refused (counted).
 */
typedef int (*control_handler)(void *arg, int argc, char **argv, const uint8_t *body,
			       size_t body_len, FILE *out);

struct control;

/*
 * control_new() - listen on @path (its directory is created when missing; a stale socket
 * there is replaced). @group (NULL: none) is the group whose members may connect besides
 * root: the socket file is then mode 0660 and that group's, else 0600. NULL with a message
 * in @err.
 */
struct control *control_new(const char *path, const char *group, control_handler h, void *arg,
			    char *err, size_t errlen);
/* Close the socket and remove its file. */
void control_free(struct control *c);
int control_pollfd(const struct control *c);
void control_dispatch(struct control *c);
void control_stats_get(const struct control *c, struct connset_stats *out);

#endif
