/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_control.c - tlsgatectl's side of the control socket (control.h has the wire format):
 * sending a request and reading the reply, the options every such command takes (--control
 * PATH, --json), and the commands status, reload, stats, flows and log reopen (the event log's
 * file, after rotation). Exit codes (CTL_EXIT_*): 0 done, 1 the daemon refused or failed (its
 * error on stderr), 2 usage, 3 daemon unreachable.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <cjson/cJSON.h>

#include "caps.h"
#include "ctl.h"

/* Write all of @len bytes; 0 or -1 (errno). */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until EOF into a new string (*@out); 0, or 1 with a message. */
static int read_reply(int fd, const char *path, char **out)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		ssize_t n;

		if (len + 4096 + 1 > cap) {
			char *nb;

			if (cap >= CONTROL_REPLY_MAX) {
				fprintf(stderr, "tlsgatectl: %s: reply over %u bytes\n", path,
					CONTROL_REPLY_MAX);
				free(buf);
				return 1;
			}
			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				fprintf(stderr, "tlsgatectl: out of memory\n");
				free(buf);
				return 1;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "tlsgatectl: %s: %s\n", path, strerror(errno));
			free(buf);
			return 1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int ctl_ask(const char *path, const char *line, const uint8_t *body, size_t body_len, cJSON **reply,
	    char **raw)
{
	struct sockaddr_un sun;
	char head[CONTROL_LINE_MAX];
	const cJSON *e;
	char *text = NULL;
	int fd, rc = CTL_EXIT_UNREACHABLE, n;

	*reply = NULL;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tlsgatectl: %s: path too long\n", path);
		return CTL_EXIT_USAGE;
	}
	n = body != NULL ? snprintf(head, sizeof(head), "%s #%zu\n", line, body_len)
			 : snprintf(head, sizeof(head), "%s\n", line);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		fprintf(stderr, "tlsgatectl: request too long\n");
		return CTL_EXIT_USAGE;
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
	rc = CTL_EXIT_ERROR;
	/* A refusal (permission, busy) may come before the request is read: read it anyway. */
	(void)(write_all(fd, head, (size_t)n) == 0 && body != NULL &&
	       write_all(fd, body, body_len) == 0);
	(void)shutdown(fd, SHUT_WR);
	if (read_reply(fd, path, &text) != 0)
		goto out;
	if (text[0] == '\0') {
		fprintf(stderr, "tlsgatectl: %s: the daemon closed without answering \"%s\"\n",
			path, line);
		goto out;
	}
	*reply = cJSON_Parse(text);
	if (*reply == NULL || !cJSON_IsObject(*reply)) {
		fprintf(stderr, "tlsgatectl: %s: unexpected reply: %.200s\n", path, text);
		goto out;
	}
	e = cJSON_GetObjectItemCaseSensitive(*reply, "error");
	if (cJSON_IsString(e)) {
		fprintf(stderr, "tlsgatectl: %s\n", e->valuestring);
		goto out;
	}
	rc = CTL_EXIT_OK;
	if (raw != NULL) {
		*raw = text;
		text = NULL;
	}
out:
	if (rc != CTL_EXIT_OK) {
		cJSON_Delete(*reply);
		*reply = NULL;
	}
	free(text);
	if (fd != -1)
		close(fd);
	return rc;
}

const char *ctl_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

double ctl_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

int ctl_opts_parse(int argc, char **argv, unsigned allowed, struct ctl_opts *o,
		   void (*usage)(FILE *f))
{
	static const struct option lo[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "client", required_argument, NULL, 'a' },
		{ "ttl", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->control = CTL_CONTROL_DEFAULT;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		unsigned bit = ch == 'u'   ? CTL_OPT_USER
			       : ch == 'a' ? CTL_OPT_CLIENT
			       : ch == 't' ? CTL_OPT_TTL
			       : ch == 'f' ? CTL_OPT_FORMAT
					   : 0;

		if (bit != 0 && !(allowed & bit)) {
			fprintf(stderr, "tlsgatectl: %s takes no --%s\n", argv[0],
				lo[ch == 'u'   ? 2
				   : ch == 'a' ? 3
				   : ch == 't' ? 4
					       : 5]
					.name);
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
		switch (ch) {
		case 'c':
			o->control = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'a':
			o->client = optarg;
			break;
		case 't':
			o->ttl = optarg;
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (o->user != NULL && o->client != NULL) {
		fprintf(stderr, "tlsgatectl: --user or --client, not both\n");
		return CTL_EXIT_USAGE;
	}
	return 0;
}

/* A value the daemon's key=value arguments can carry: printable, no space, not empty. */
int ctl_word_ok(const char *what, const char *v)
{
	const char *p;

	for (p = v; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~')
			break;
	if (*v != '\0' && *p == '\0' && strlen(v) < CONTROL_LINE_MAX / 4)
		return 0;
	fprintf(stderr, "tlsgatectl: %s \"%s\": expected printable characters without spaces\n",
		what, v);
	return -1;
}

/* Run a request without arguments; --json prints the reply, else @print does. */
static int simple(int argc, char **argv, const char *line, void (*usage)(FILE *f),
		  void (*print)(const cJSON *r))
{
	struct ctl_opts o;
	char *raw = NULL;
	cJSON *r;
	int rc = ctl_opts_parse(argc, argv, 0, &o, usage);

	if (rc != 0)
		return rc == -1 ? CTL_EXIT_OK : rc;
	if (o.nargs != 0) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	rc = ctl_ask(o.control, line, NULL, 0, &r, &raw);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (o.json)
		fputs(raw, stdout);
	else
		print(r);
	free(raw);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

/* ---- status ---- */

static void status_usage(FILE *f)
{
	fprintf(f, "usage: tlsgatectl status [--json] [--control PATH]\n"
		   "  the running daemon: version, uptime, the policy in force (file, SHA-256),\n"
		   "  the last reload and how it went\n");
}

static void status_print(const cJSON *r)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "policy");
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "last_reload");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(l, "ok");

	printf("tlsgated %s, pid %.0f, up %.0f s (since %s)\n", ctl_str(r, "version"),
	       ctl_num(r, "pid"), ctl_num(r, "uptime_s"), ctl_str(r, "started"));
	printf("policy:      %s%s\n", ctl_str(p, "path"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "pushed")) ? " (pushed)" : "");
	printf("sha256:      %s (%.0f bytes)\n", ctl_str(p, "sha256"), ctl_num(p, "bytes"));
	printf("content:     %s\n", ctl_str(r, "content"));
	printf("last reload: %s at %s: %s%s\n", ctl_str(l, "trigger"), ctl_str(l, "time"),
	       cJSON_IsTrue(ok) ? "ok" : "failed: ", cJSON_IsTrue(ok) ? "" : ctl_str(l, "error"));
}

/* ---- reload ---- */

static void reload_usage(FILE *f)
{
	fprintf(f, "usage: tlsgatectl reload [--json] [--control PATH]\n"
		   "  load the policy again (a pushed one, else tlsgated's --policy) and wait for\n"
		   "  the answer: exit 1 with the error when it does not load (the running policy\n"
		   "  stays). scripts/tlsgated.service uses it as ExecReload.\n");
}

static void reload_print(const cJSON *r)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "policy");

	printf("reloaded %s (sha256 %s)\n", ctl_str(p, "path"), ctl_str(p, "sha256"));
}

/* ---- flows ---- */

static void flows_usage(FILE *f)
{
	fprintf(f, "usage: tlsgatectl flows [--json] [--control PATH]\n"
		   "  the intercepted connections the proxy holds now: client, server, SNI,\n"
		   "  state, age, application bytes each way (updated about once a second)\n");
}

static void flows_print(const cJSON *r)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(r, "flows"), *e;

	printf("%-47s %-47s %-32s %-16s %7s %12s %12s\n", "CLIENT", "SERVER", "SNI", "STATE",
	       "AGE_S", "BYTES_UP", "BYTES_DOWN");
	cJSON_ArrayForEach(e, arr)
	{
		printf("%-47s %-47s %-32s %-16s %7.0f %12.0f %12.0f\n", ctl_str(e, "client"),
		       ctl_str(e, "server"), ctl_str(e, "sni"), ctl_str(e, "state"),
		       ctl_num(e, "age_s"), ctl_num(e, "bytes_up"), ctl_num(e, "bytes_down"));
	}
}

/* status, reload and flows: a request without arguments, its answer printed. */
int ctl_daemon_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*usage)(FILE *f);
		void (*print)(const cJSON *r);
	} cmds[] = {
		{ "status", status_usage, status_print },
		{ "reload", reload_usage, reload_print },
		{ "flows", flows_usage, flows_print },
	};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return simple(argc, argv, cmds[i].name, cmds[i].usage, cmds[i].print);
	return CTL_EXIT_USAGE;
}

/* ---- stats ---- */

static void stats_usage(FILE *f)
{
	fprintf(f, "usage: tlsgatectl stats [--format json|prometheus] [--json] [--control PATH]\n"
		   "  every counter of the running daemon: one JSON line (the default), or the\n"
		   "  Prometheus text format (the same as tlsgated --metrics-listen serves)\n");
}

int ctl_stats_main(int argc, char **argv)
{
	struct ctl_opts o;
	const cJSON *t;
	char *raw = NULL;
	cJSON *r;
	int rc = ctl_opts_parse(argc, argv, CTL_OPT_FORMAT, &o, stats_usage);

	if (rc != 0)
		return rc == -1 ? CTL_EXIT_OK : rc;
	if (o.nargs != 0 || (o.format != NULL && strcmp(o.format, "json") != 0 &&
			     strcmp(o.format, "prometheus") != 0)) {
		stats_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	rc = ctl_ask(o.control,
		     o.format != NULL && strcmp(o.format, "prometheus") == 0
			     ? "stats format=prometheus"
			     : "stats",
		     NULL, 0, &r, &raw);
	if (rc != CTL_EXIT_OK)
		return rc;
	t = cJSON_GetObjectItemCaseSensitive(r, "text");
	if (o.json || !cJSON_IsString(t))
		fputs(raw, stdout);
	else
		fputs(t->valuestring, stdout);
	free(raw);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

/* `tlsgatectl log reopen`: exit 0 when the daemon reopened its event log file. */
static void log_usage(FILE *f)
{
	fprintf(f, "usage: tlsgatectl log reopen [--json] [--control PATH]\n"
		   "  the daemon reopens its event log file (after logrotate moved it)\n");
}

static void log_print(const cJSON *r)
{
	(void)r;
	printf("event log reopened\n");
}

int ctl_log_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "reopen") != 0) {
		bool help =
			argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);

		log_usage(help ? stdout : stderr);
		return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	return simple(argc - 1, argv + 1, "log reopen", log_usage, log_print);
}
