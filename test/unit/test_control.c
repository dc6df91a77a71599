/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_control.c - the control socket (daemon/control.c over connset.c): the request framing
 * (lines, bodies, every refusal), the words, and a real socket in a temporary directory that
 * does not exist yet: a request answered through the handler, a body delivered whole, a
 * refusal counted, and the client past CONTROL_MAX_CLIENTS told it is busy while the others
 * stay served. (Peer credentials and timeouts: test/test_control.sh.)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "caps.h"
#include "control.h"
#include "tg_test.h"

static enum control_parse parse(const char *s, size_t len, struct control_req *r, const char **why)
{
	return control_req_parse((const uint8_t *)s, len, r, why);
}

#define P(str, r, why) parse(str, sizeof(str) - 1, r, why)

static void test_parse(void)
{
	struct control_req r;
	const char *why = NULL;
	char big[CONTROL_LINE_MAX + 8];

	CHECK_INT(P("status\n", &r, &why), CONTROL_REQ_OK);
	CHECK(r.line_len == 6 && memcmp(r.line, "status", 6) == 0 && r.body == NULL);
	CHECK_INT(P("status", &r, &why), CONTROL_REQ_MORE);
	CHECK_INT(P("", &r, &why), CONTROL_REQ_MORE);
	CHECK_INT(P("policy push #5\nab", &r, &why), CONTROL_REQ_MORE);
	CHECK_INT(P("policy push #5\nabcde", &r, &why), CONTROL_REQ_OK);
	CHECK(r.line_len == 11 && memcmp(r.line, "policy push", 11) == 0);
	CHECK(r.body_len == 5 && memcmp(r.body, "abcde", 5) == 0);
	CHECK_INT(P("policy push #0\n", &r, &why), CONTROL_REQ_OK);
	CHECK(r.body != NULL && r.body_len == 0);
	/* Refusals, each with its reason. */
	CHECK_INT(P("policy push #5\nabcdef", &r, &why), CONTROL_REQ_INVALID);
	CHECK(strcmp(why, "bytes after the request") == 0);
	CHECK_INT(P("status\nx", &r, &why), CONTROL_REQ_INVALID);
	CHECK_INT(P("policy push #16777217\n", &r, &why), CONTROL_REQ_INVALID);
	CHECK(strcmp(why, "request body larger than the policy size cap") == 0);
	CHECK_INT(P("policy push #16777216\n", &r, &why), CONTROL_REQ_MORE);
	CHECK_INT(P("policy push #99999999999999999999999999\n", &r, &why), CONTROL_REQ_INVALID);
	CHECK_INT(P("policy push #1a\n", &r, &why), CONTROL_REQ_INVALID);
	CHECK(strcmp(why, "malformed body length") == 0);
	CHECK_INT(P("policy push #\n", &r, &why), CONTROL_REQ_INVALID);
	CHECK_INT(P("#5\nabcde", &r, &why), CONTROL_REQ_INVALID);
	CHECK_INT(P("\n", &r, &why), CONTROL_REQ_INVALID);
	CHECK(strcmp(why, "empty request") == 0);
	CHECK_INT(P(" status\n", &r, &why), CONTROL_REQ_INVALID);
	CHECK_INT(P("sta\ttus\n", &r, &why), CONTROL_REQ_INVALID);
	CHECK(strcmp(why, "request line is not printable ASCII") == 0);
	CHECK_INT(P("st\xc3\xa4tus\n", &r, &why), CONTROL_REQ_INVALID);
	memset(big, 'x', sizeof(big));
	CHECK_INT(parse(big, CONTROL_LINE_MAX - 1, &r, &why), CONTROL_REQ_MORE);
	CHECK_INT(parse(big, CONTROL_LINE_MAX, &r, &why), CONTROL_REQ_INVALID);
	CHECK(strcmp(why, "request line too long") == 0);
	big[CONTROL_LINE_MAX - 1] = '\n';
	CHECK_INT(parse(big, CONTROL_LINE_MAX, &r, &why), CONTROL_REQ_OK);
}

static void test_words(void)
{
	char buf[64], *argv[CONTROL_WORDS_MAX];
	char many[2 * CONTROL_WORDS_MAX + 4];
	size_t i;

	CHECK_INT(control_words("bypass  add host=a", 18, buf, argv), 3);
	CHECK(strcmp(argv[0], "bypass") == 0 && strcmp(argv[1], "add") == 0 &&
	      strcmp(argv[2], "host=a") == 0);
	CHECK_INT(control_words("x ", 2, buf, argv), 1);
	for (i = 0; i < sizeof(many) - 1; i++)
		many[i] = i % 2 ? ' ' : 'w';
	many[sizeof(many) - 1] = '\0';
	CHECK_INT(control_words(many, 2 * CONTROL_WORDS_MAX - 1, buf, argv), CONTROL_WORDS_MAX);
	CHECK_INT(control_words(many, 2 * CONTROL_WORDS_MAX + 1, buf, argv), -1);
}

/* The handler: "echo ..." answers its words and body length; anything else is refused. */
static int handler(void *arg, int argc, char **argv, const uint8_t *body, size_t body_len,
		   FILE *out)
{
	int i;

	(void)arg;
	(void)body;
	if (strcmp(argv[0], "echo") != 0) {
		fputs("{\"error\":\"no\"}\n", out);
		return -1;
	}
	for (i = 0; i < argc; i++)
		fprintf(out, "%s%s", i ? " " : "", argv[i]);
	fprintf(out, " body=%zu\n", body_len);
	return 0;
}

static int client(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		abort();
	return fd;
}

/* Serve @c until @fd has its whole reply (the server closed its side); the reply in @buf. */
static size_t serve_until_reply(struct control *c, int fd, char *buf, size_t cap)
{
	struct pollfd p[2] = { { control_pollfd(c), POLLIN, 0 }, { fd, POLLIN, 0 } };
	size_t len = 0;
	int rounds;

	for (rounds = 0; rounds < 1000; rounds++) {
		ssize_t n;

		if (poll(p, 2, 10) == -1)
			break;
		control_dispatch(c);
		n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n > 0)
			len += (size_t)n;
		if (n == 0)
			break;
	}
	buf[len] = '\0';
	return len;
}

static void test_socket(void)
{
	char dir[] = "/tmp/tg-control-XXXXXX", path[128], reply[256], err[256];
	struct connset_stats st;
	struct control *c;
	int fds[CONTROL_MAX_CLIENTS], fd, i;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/a/b/control", dir);
	c = control_new(path, NULL, handler, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_INT(access(path, F_OK), 0);

	fd = client(path);
	CHECK_INT(write(fd, "echo  one two\n", 14), 14);
	serve_until_reply(c, fd, reply, sizeof(reply));
	CHECK(strcmp(reply, "echo one two body=0\n") == 0);
	close(fd);

	/* A body, sent in two pieces. */
	fd = client(path);
	CHECK_INT(write(fd, "echo x #10\n01234", 16), 16);
	control_dispatch(c);
	CHECK_INT(write(fd, "56789", 5), 5);
	serve_until_reply(c, fd, reply, sizeof(reply));
	CHECK(strcmp(reply, "echo x body=10\n") == 0);
	close(fd);

	/* Refused by the handler, and by the framing. */
	fd = client(path);
	CHECK_INT(write(fd, "nope\n", 5), 5);
	serve_until_reply(c, fd, reply, sizeof(reply));
	CHECK(strcmp(reply, "{\"error\":\"no\"}\n") == 0);
	close(fd);
	fd = client(path);
	CHECK_INT(write(fd, "\x01\n", 2), 2);
	serve_until_reply(c, fd, reply, sizeof(reply));
	CHECK(strstr(reply, "not printable ASCII") != NULL);
	close(fd);

	/* CONTROL_MAX_CLIENTS silent clients hold every slot: one more is told it is busy. */
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		fds[i] = client(path);
	control_dispatch(c);
	fd = client(path);
	serve_until_reply(c, fd, reply, sizeof(reply));
	CHECK(strstr(reply, "busy: too many control clients") != NULL);
	close(fd);
	/* ... and a held one is still served. */
	CHECK_INT(write(fds[0], "echo held\n", 10), 10);
	serve_until_reply(c, fds[0], reply, sizeof(reply));
	CHECK(strcmp(reply, "echo held body=0\n") == 0);
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
	control_dispatch(c);

	control_stats_get(c, &st);
	CHECK_INT(st.served, 5); /* refusals are answered too */
	CHECK_INT(st.refused_request, 2);
	CHECK_INT(st.refused_clients, 1);
	CHECK_INT(st.refused_peer, 0);
	control_free(c);
	CHECK_INT(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	test_parse();
	test_words();
	test_socket();
	return tg_test_done();
}
