/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_control.c - the commands that ask the running daemon over its control socket:
 * `tlsgatectl stats` (one JSON line: per-engine counters summed over queues, NFQUEUE and proxy
 * counters), `tlsgatectl bypass list|flush` (the dynamic bypass table) and `tlsgatectl log
 * reopen` (the event log's file, after rotation).
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <cjson/cJSON.h>

#include "caps.h"
#include "ctl.h"

#define CTL_CONTROL_DEFAULT "/run/tlsgate/control"
#define CTL_ANSWER_MAX	    (64u << 20) /* the largest answer read (a full bypass table) */

/* Send @cmd, read the whole answer into a malloc'd string (*@out); 0, or 1 with a message. */
static int control_ask(const char *path, const char *cmd, char **out)
{
	struct sockaddr_un sun;
	size_t len = 0, cap = 0;
	char *buf = NULL, line[CONTROL_LINE_MAX];
	ssize_t n;
	int fd, rc = 1;

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
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "tlsgatectl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;

			if (cap >= CTL_ANSWER_MAX) {
				fprintf(stderr, "tlsgatectl: %s: answer over %u bytes\n", path,
					CTL_ANSWER_MAX);
				goto out;
			}
			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				fprintf(stderr, "tlsgatectl: out of memory\n");
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			fprintf(stderr, "tlsgatectl: %s: %s\n", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "tlsgatectl: %s: the daemon did not answer \"%s\"\n", path, cmd);
		goto out;
	}
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return rc;
}

int ctl_stats_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CTL_CONTROL_DEFAULT;
	char *ans = NULL;
	int c;

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
	if (control_ask(path, "stats", &ans) != 0)
		return 1;
	fputs(ans, stdout);
	free(ans);
	return 0;
}

static void bypass_usage(FILE *f)
{
	fprintf(f,
		"usage: tlsgatectl bypass list [--json] [--control PATH]\n"
		"       tlsgatectl bypass flush [--control PATH]\n"
		"  list   the dynamic bypass table: hosts learned per user or client, and\n"
		"         clients in the ca_missing state (default control socket %s)\n"
		"  flush  forget every entry: pinned hosts are decrypted again until re-learned\n",
		CTL_CONTROL_DEFAULT);
}

/* The table as lines: state, who, host, rejections, seconds left. */
static int bypass_print(const char *ans)
{
	cJSON *root = cJSON_Parse(ans), *arr, *e;

	arr = cJSON_GetObjectItemCaseSensitive(root, "bypass");
	if (!cJSON_IsArray(arr)) {
		fprintf(stderr, "tlsgatectl: unexpected answer from the daemon\n");
		cJSON_Delete(root);
		return 1;
	}
	printf("%-10s %-40s %-40s %10s %12s\n", "STATE", "WHO", "HOST", "REJECTIONS",
	       "EXPIRES_IN_S");
	cJSON_ArrayForEach(e, arr)
	{
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "state");
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "user");
		const cJSON *cl = cJSON_GetObjectItemCaseSensitive(e, "client");
		const cJSON *sni = cJSON_GetObjectItemCaseSensitive(e, "sni");
		const cJSON *rj = cJSON_GetObjectItemCaseSensitive(e, "rejections");
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(e, "expires_in_s");
		char who[96];

		if (cJSON_IsString(u))
			snprintf(who, sizeof(who), "user:%s", u->valuestring);
		else
			snprintf(who, sizeof(who), "%s",
				 cJSON_IsString(cl) ? cl->valuestring : "?");
		printf("%-10s %-40s %-40s %10.0f %12.0f\n",
		       cJSON_IsString(st) ? st->valuestring : "?", who,
		       cJSON_IsString(sni) ? sni->valuestring : "-",
		       cJSON_IsNumber(rj) ? rj->valuedouble : 0,
		       cJSON_IsNumber(ex) ? ex->valuedouble : 0);
	}
	cJSON_Delete(root);
	return 0;
}

int ctl_bypass_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CTL_CONTROL_DEFAULT, *sub;
	bool json = false;
	char *ans = NULL;
	int c, rc;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		bypass_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "list") != 0 && strcmp(sub, "flush") != 0) {
		fprintf(stderr, "tlsgatectl bypass: unknown subcommand \"%s\"\n", sub);
		bypass_usage(stderr);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			bypass_usage(stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		bypass_usage(stderr);
		return 2;
	}
	if (control_ask(path, strcmp(sub, "list") == 0 ? "bypass" : "bypass flush", &ans) != 0)
		return 1;
	if (strcmp(sub, "flush") == 0 || json) {
		fputs(ans, stdout);
		rc = 0;
	} else {
		rc = bypass_print(ans);
	}
	free(ans);
	return rc;
}

/* `tlsgatectl log reopen`: exit 0 when the daemon reopened its event log file. */
int ctl_log_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CTL_CONTROL_DEFAULT;
	char *ans = NULL;
	int c, rc;

	if (argc < 2 || strcmp(argv[1], "reopen") != 0) {
		fprintf(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
			"usage: tlsgatectl log reopen [--control PATH]   (default %s)\n",
			CTL_CONTROL_DEFAULT);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			printf("usage: tlsgatectl log reopen [--control PATH]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc || control_ask(path, "log reopen", &ans) != 0)
		return optind != argc ? 2 : 1;
	fputs(ans, stdout);
	rc = strstr(ans, "\"reopened\":true") != NULL ? 0 : 1;
	free(ans);
	return rc;
}
