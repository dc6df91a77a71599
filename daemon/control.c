/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control.c - the control socket; see control.h. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "caps.h"
#include "control.h"
#include "log.h"

#define CONTROL_PEER_GROUPS 64 /* the peer's groups read at once; more are read in a second go */

struct control {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool has_group;
	gid_t gid;
	char group[64];
	control_handler h;
	void *arg;
	struct connset *cs;
};

enum control_parse control_req_parse(const uint8_t *buf, size_t len, struct control_req *req,
				     const char **why)
{
	const uint8_t *nl = memchr(buf, '\n', len < CONTROL_LINE_MAX ? len : CONTROL_LINE_MAX);
	size_t i, line_len, body_len = 0, word;

	memset(req, 0, sizeof(*req));
	if (nl == NULL) {
		if (len >= CONTROL_LINE_MAX) {
			*why = "request line too long";
			return CONTROL_REQ_INVALID;
		}
		return CONTROL_REQ_MORE;
	}
	line_len = (size_t)(nl - buf);
	for (i = 0; i < line_len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			*why = "request line is not printable ASCII";
			return CONTROL_REQ_INVALID;
		}
	if (line_len == 0 || buf[0] == ' ') {
		*why = "empty request";
		return CONTROL_REQ_INVALID;
	}
	/* The last word: "#N" announces a body. */
	word = line_len;
	while (word > 0 && buf[word - 1] != ' ')
		word--;
	req->line = (const char *)buf;
	req->line_len = line_len;
	if (buf[word] == '#') {
		if (word == 0 || word + 1 == line_len) {
			*why = "malformed body length";
			return CONTROL_REQ_INVALID;
		}
		for (i = word + 1; i < line_len; i++) {
			if (buf[i] < '0' || buf[i] > '9') {
				*why = "malformed body length";
				return CONTROL_REQ_INVALID;
			}
			body_len = body_len * 10 + (size_t)(buf[i] - '0');
			if (body_len > CONTROL_BODY_MAX) {
				*why = "request body larger than the policy size cap";
				return CONTROL_REQ_INVALID;
			}
		}
		req->line_len = word - 1;
		req->body = nl + 1;
		req->body_len = body_len;
	}
	if (len - line_len - 1 < body_len)
		return CONTROL_REQ_MORE;
	if (len - line_len - 1 > body_len) {
		*why = "bytes after the request";
		return CONTROL_REQ_INVALID;
	}
	return CONTROL_REQ_OK;
}

int control_words(const char *line, size_t len, char *buf, char **argv)
{
	size_t i;
	int n = 0;

	memcpy(buf, line, len);
	buf[len] = '\0';
	for (i = 0; i < len; i++) {
		if (buf[i] == ' ') {
			buf[i] = '\0';
			continue;
		}
		if (i > 0 && buf[i - 1] != '\0')
			continue;
		if (n == CONTROL_WORDS_MAX)
			return -1;
		argv[n++] = &buf[i];
	}
	return n;
}

static void reply_error(FILE *out, const char *msg)
{
	/* The messages here are ours: no byte needs escaping. */
	fprintf(out, "{\"error\":\"%s\"}\n", msg);
}

static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[CONTROL_PEER_GROUPS], *g = small;
	socklen_t len = sizeof(small);
	bool found = false;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1) {
		if (errno != ERANGE)
			return false;
		g = malloc(len);
		if (g == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1) {
			free(g);
			return false;
		}
	}
	for (i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = g[i] == gid;
	if (g != small)
		free(g);
	return found;
}

static int control_admit(void *arg, int fd, FILE *out)
{
	const struct control *c = arg;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char msg[256];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		reply_error(out, "permission denied: peer credentials unavailable");
		return -1;
	}
	if (cr.uid == 0 || cr.uid == geteuid())
		return 0;
	if (c->has_group && (cr.gid == c->gid || peer_in_group(fd, c->gid)))
		return 0;
	if (c->has_group)
		snprintf(msg, sizeof(msg),
			 "permission denied: uid %u is neither root nor in group %s", cr.uid,
			 c->group);
	else
		snprintf(msg, sizeof(msg),
			 "permission denied: uid %u is not root (tlsgated --control-group GROUP "
			 "admits a group)",
			 cr.uid);
	reply_error(out, msg);
	log_info("control: refused uid %u pid %d", cr.uid, (int)cr.pid);
	return -1;
}

static enum connset_step control_input(void *arg, const uint8_t *buf, size_t len, FILE *out)
{
	const struct control *c = arg;
	struct control_req req;
	char words[CONTROL_LINE_MAX], *argv[CONTROL_WORDS_MAX];
	const char *why = NULL;
	int argc;

	switch (control_req_parse(buf, len, &req, &why)) {
	case CONTROL_REQ_MORE:
		return CONNSET_MORE;
	case CONTROL_REQ_OK:
		break;
	case CONTROL_REQ_INVALID:
	default:
		reply_error(out, why != NULL ? why : "invalid request");
		return CONNSET_REFUSE;
	}
	argc = control_words(req.line, req.line_len, words, argv);
	if (argc <= 0) {
		reply_error(out, argc == 0 ? "empty request" : "too many words in the request");
		return CONNSET_REFUSE;
	}
	return c->h(c->arg, argc, argv, req.body, req.body_len, out) == 0 ? CONNSET_REPLY
									  : CONNSET_REFUSE;
}

/* mkdir -p of @path's directory: every missing component 0755 (the socket's mode guards it). */
static int mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	size_t i;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (i = 1; dir[i] != '\0'; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return -1;
		dir[i] = '/';
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int control_listen(struct control *c, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	if (mkdir_parents(c->path) == -1) {
		snprintf(err, errlen, "%s: creating its directory: %s", c->path, strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->path, strlen(c->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)unlink(c->path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(c->path, c->has_group ? 0660 : 0600) == -1 ||
	    (c->has_group && chown(c->path, (uid_t)-1, c->gid) == -1) ||
	    listen(fd, CONTROL_MAX_CLIENTS) == -1) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct control *control_new(const char *path, const char *group, control_handler h, void *arg,
			    char *err, size_t errlen)
{
	static const struct connset_ops ops = { control_admit, control_input };
	const struct connset_limits lim = { CONTROL_MAX_CLIENTS,
					    CONTROL_LINE_MAX + CONTROL_BODY_MAX, CONTROL_TIMEOUT_MS,
					    "{\"error\":\"busy: too many control clients\"}\n" };
	struct control *c = calloc(1, sizeof(*c));
	int fd;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strlen(path) >= sizeof(c->path)) {
		snprintf(err, errlen, "%s: path too long", path);
		goto fail;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (group != NULL) {
		const struct group *gr = getgrnam(group);

		if (gr == NULL || strlen(group) >= sizeof(c->group)) {
			snprintf(err, errlen, "--control-group %s: no such group", group);
			goto fail;
		}
		c->has_group = true;
		c->gid = gr->gr_gid;
		snprintf(c->group, sizeof(c->group), "%s", group);
	}
	c->h = h;
	c->arg = arg;
	fd = control_listen(c, err, errlen);
	if (fd == -1)
		goto fail;
	c->cs = connset_new(fd, &ops, c, &lim);
	if (c->cs == NULL) {
		snprintf(err, errlen, "out of memory");
		(void)unlink(c->path);
		goto fail;
	}
	return c;
fail:
	free(c);
	return NULL;
}

void control_free(struct control *c)
{
	if (c == NULL)
		return;
	connset_free(c->cs);
	(void)unlink(c->path);
	free(c);
}

int control_pollfd(const struct control *c)
{
	return connset_pollfd(c->cs);
}

void control_dispatch(struct control *c)
{
	connset_dispatch(c->cs);
}

void control_stats_get(const struct control *c, struct connset_stats *out)
{
	connset_stats_get(c->cs, out);
}
