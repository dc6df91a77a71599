/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_ca.c - `tlsgatectl ca init|export|show`: create the gateway's CA, export its certificate
 * for the clients, and show it. The directory is --dir DIR, else /var/lib/tlsgate/ca (tlsgated's
 * --ca-dir default). Errors go to stderr with exit 1; usage errors exit 2. Nothing here ever
 * prints the private key: export reads only ca.crt.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "caps.h"
#include "ctl.h"

static int ctl_ca_usage(FILE *f)
{
	fprintf(f,
		"usage: tlsgatectl ca init [--dir DIR] [--cn NAME] [--days N]\n"
		"       tlsgatectl ca export [--format pem|der] [--dir DIR] [--out FILE]\n"
		"       tlsgatectl ca show [--dir DIR] [--json]\n"
		"DIR defaults to %s; a new CA is valid for %d days.\n",
		CA_DIR_DEFAULT, CA_DAYS_DEFAULT);
	return f == stdout ? 0 : 2;
}

static int ctl_ca_days(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end != '\0' || s[0] == '-' || v == 0 || v > CA_DAYS_MAX) {
		fprintf(stderr, "tlsgatectl: --days: expected 1..%d, got \"%s\"\n", CA_DAYS_MAX, s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int ctl_ca_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "cn", required_argument, NULL, 'n' },
		{ "days", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = CA_DIR_DEFAULT, *cn = NULL;
	unsigned days = CA_DAYS_DEFAULT;
	char err[4200];
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			cn = optarg;
			break;
		case 'D':
			if (ctl_ca_days(optarg, &days) == -1)
				return 2;
			break;
		case 'h':
			return ctl_ca_usage(stdout);
		default:
			return ctl_ca_usage(stderr);
		}
	}
	if (optind != argc)
		return ctl_ca_usage(stderr);
	if (ca_init(dir, cn, days, err, sizeof(err)) == -1) {
		fprintf(stderr, "tlsgatectl: %s\n", err);
		return 1;
	}
	printf("created %s/%s and %s/%s (valid %u days)\n"
	       "install the certificate on clients: tlsgatectl ca export --dir %s --out FILE\n",
	       dir, CA_CRT_FILE, dir, CA_KEY_FILE, days, dir);
	return 0;
}

static int ctl_ca_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = CA_DIR_DEFAULT, *path = NULL;
	bool der = false;
	char err[4200], *buf = NULL;
	size_t len = 0;
	FILE *out = stdout, *mem;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "pem") != 0 && strcmp(optarg, "der") != 0) {
				fprintf(stderr,
					"tlsgatectl: --format: expected pem or der, got \"%s\"\n",
					optarg);
				return 2;
			}
			der = strcmp(optarg, "der") == 0;
			break;
		case 'o':
			path = optarg;
			break;
		case 'h':
			return ctl_ca_usage(stdout);
		default:
			return ctl_ca_usage(stderr);
		}
	}
	if (optind != argc)
		return ctl_ca_usage(stderr);
	/* Into memory first: a failed export leaves --out FILE as it was, never empty. */
	mem = open_memstream(&buf, &len);
	if (mem == NULL) {
		fprintf(stderr, "tlsgatectl: %s\n", strerror(errno));
		return 1;
	}
	c = ca_export(dir, der, mem, err, sizeof(err));
	if (fclose(mem) != 0 && c == 0) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		c = -1;
	}
	if (c == -1) {
		fprintf(stderr, "tlsgatectl: %s\n", err);
		free(buf);
		return 1;
	}
	if (path != NULL && strcmp(path, "-") != 0) {
		out = fopen(path, "wbe");
		if (out == NULL) {
			fprintf(stderr, "tlsgatectl: %s: %s\n", path, strerror(errno));
			free(buf);
			return 1;
		}
	}
	if (fwrite(buf, 1, len, out) == len && fflush(out) == 0)
		rc = 0;
	if (out != stdout && fclose(out) != 0)
		rc = 1;
	if (rc != 0)
		fprintf(stderr, "tlsgatectl: %s: %s\n", path ? path : "stdout", strerror(errno));
	free(buf);
	return rc;
}

static int ctl_ca_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = CA_DIR_DEFAULT;
	bool json = false;
	char err[4200];
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return ctl_ca_usage(stdout);
		default:
			return ctl_ca_usage(stderr);
		}
	}
	if (optind != argc)
		return ctl_ca_usage(stderr);
	if (ca_show(dir, stdout, json, err, sizeof(err)) == -1) {
		fprintf(stderr, "tlsgatectl: %s\n", err);
		return 1;
	}
	return 0;
}

int ctl_ca_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} subs[] = {
		{ "init", ctl_ca_init },
		{ "export", ctl_ca_export },
		{ "show", ctl_ca_show },
	};
	size_t i;

	if (argc < 2)
		return ctl_ca_usage(stderr);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return ctl_ca_usage(stdout);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0) {
			optind = 1;
			return subs[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "tlsgatectl: ca: unknown subcommand \"%s\"\n", argv[1]);
	return ctl_ca_usage(stderr);
}
