/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_stats.c - `tlsgatectl stats [--control PATH]`: ask the running daemon for its counters
 * (one JSON line: per-engine counters summed over queues, NFQUEUE and relay counters).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"

#define CTL_CONTROL_DEFAULT "/run/tlsgate/control"

int ctl_stats_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CTL_CONTROL_DEFAULT;
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;
	int c, fd, rc = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			printf("usage: tlsgatectl stats [--control PATH]   (default %s)\n",
			       CTL_CONTROL_DEFAULT);
			return 0;
		default:
			return 2;
		}
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tlsgatectl: %s: path too long\n", path);
		return 1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "tlsgatectl: %s: %s (is tlsgated running?)\n", path,
			strerror(errno));
		goto out;
	}
	if (write(fd, "stats\n", 6) != 6) {
		fprintf(stderr, "tlsgatectl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	rc = n == 0 ? 0 : 1;
out:
	if (fd != -1)
		close(fd);
	return rc;
}
