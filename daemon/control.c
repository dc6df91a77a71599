/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control.c - the control socket; see control.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"
#include "log.h"

int control_listen(const char *path)
{
	struct sockaddr_un sun;
	int fd, saved;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 || chmod(path, 0660) == -1 ||
	    listen(fd, 8) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void control_serve(int lfd, int (*answer)(void *arg, const char *cmd, FILE *f), void *arg)
{
	struct timeval tv = { 0, CONTROL_TIMEOUT_MS * 1000 };
	char line[CONTROL_LINE_MAX], *nl;
	size_t got = 0;
	FILE *f = NULL;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return;
	/* A slow or silent client must not hold the main thread. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		goto out;
	while (got < sizeof(line) - 1) {
		ssize_t n = read(fd, line + got, sizeof(line) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(line, '\n', got) != NULL)
			break;
	}
	line[got] = '\0';
	nl = strchr(line, '\n');
	if (nl == NULL)
		goto out;
	*nl = '\0';
	f = fdopen(fd, "w");
	if (f == NULL)
		goto out;
	fd = -1;
	if (answer(arg, line, f) == -1)
		fprintf(f, "{\"error\":\"unknown command\"}\n");
out:
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
}
