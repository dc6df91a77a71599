/* SPDX-License-Identifier: GPL-2.0-or-later */
/* load.c - see load.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/random.h>
#include <sys/stat.h>

#include "tlsgate/caps.h"
#include "tlsgate/content.h"
#include "tlsgate/policy.h"

#include "load.h"

int load_file(const char *path, size_t cap, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t got = 0;
	int fd, rc = -1;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > cap) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, cap);
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (b == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path,
				 n == 0 ? "file shrank while reading" : strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	b = NULL;
	rc = 0;
out:
	free(b);
	close(fd);
	return rc;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *load_content_dir(char *out, size_t cap)
{
	char exe[PATH_MAX - 32];
	const char *env = getenv("TLSGATE_CONTENT");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			n = snprintf(out, cap, "%s/../../policy/content", exe);
			if (n > 0 && (size_t)n < cap && is_dir(out))
				return out;
		}
	}
	return LOAD_SYSTEM_CONTENT;
}

int load_key(uint8_t key[static 16], char *err, size_t errlen)
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(key + got, 16 - got, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

struct tg_content *load_content(const char *dir, const uint8_t key[static 16], struct tg_diag *d,
				char *err, size_t errlen)
{
	static const char *const names[] = TG_CONTENT_FILE_NAMES;
	struct tg_content_files files;
	struct tg_span *spans[6] = { &files.manifest, &files.pinned, &files.apps,
				     &files.m365,     &files.doh,    &files.categories };
	struct tg_content *c = NULL;
	char dbuf[PATH_MAX];
	size_t i;
	enum tg_err e;

	memset(&files, 0, sizeof(files));
	if (dir == NULL)
		dir = load_content_dir(dbuf, sizeof(dbuf));
	if (!is_dir(dir)) {
		snprintf(err, errlen, "content package %s: not a directory", dir);
		return NULL;
	}
	for (i = 0; i < 6; i++) {
		char path[PATH_MAX + 32];
		uint8_t *buf;
		size_t len;
		int pn = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);

		/* Missing files are absent parts of the package; a present one must load. */
		if (pn < 0 || (size_t)pn >= sizeof(path) || access(path, F_OK) == -1)
			continue;
		if (load_file(path, i == 5 ? TG_CAP_CATDB_BYTES : TG_CAP_CONTENT_BYTES, &buf, &len,
			      err, errlen) == -1)
			goto out;
		spans[i]->p = buf;
		spans[i]->len = len;
	}
	e = tg_content_load(&files, key, d, &c);
	if (e != TG_OK)
		snprintf(err, errlen, "content package %s: %s", dir, tg_strerror(e));
out:
	for (i = 0; i < 6; i++)
		free((void *)(uintptr_t)spans[i]->p);
	return c;
}

struct tg_policy *load_policy_buf(const uint8_t *buf, size_t len, const char *name,
				  const struct tg_content *content, const uint8_t key[static 16],
				  struct tg_diag *d, char *err, size_t errlen)
{
	struct tg_policy *p = NULL;
	enum tg_err e;

	e = tg_policy_load(buf, len, content, key, d, &p);
	if (e != TG_OK) {
		size_t i;

		/* The first error is the reason; all of them are in @d. */
		snprintf(err, errlen, "%s: invalid: %s", name, tg_strerror(e));
		for (i = 0; i < d->n; i++)
			if (d->msg[i].level == TG_DIAG_ERROR) {
				snprintf(err, errlen, "%s: %s", name, d->msg[i].text);
				break;
			}
	}
	return p;
}

struct tg_policy *load_policy(const char *file, const struct tg_content *content,
			      const uint8_t key[static 16], struct tg_diag *d, char *err,
			      size_t errlen)
{
	struct tg_policy *p;
	uint8_t *buf = NULL;
	size_t len;

	if (load_file(file, TG_CAP_POLICY_BYTES, &buf, &len, err, errlen) == -1)
		return NULL;
	p = load_policy_buf(buf, len, file, content, key, d, err, errlen);
	free(buf);
	return p;
}

void load_print_diag(FILE *f, const struct tg_diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(f, "%s: %s\n", d->msg[i].level == TG_DIAG_ERROR ? "error" : "warning",
			d->msg[i].text);
	if (d->errors + d->warnings > d->n)
		fprintf(f, "(%zu more messages not shown)\n", d->errors + d->warnings - d->n);
}

struct tg_content *load_content_report(const char *prog, const char *dir,
				       const uint8_t key[static 16], struct tg_diag *d)
{
	struct tg_content *c;
	char err[512];

	tg_diag_init(d);
	c = load_content(dir, key, d, err, sizeof(err));
	if (c == NULL) {
		load_print_diag(stderr, d);
		fprintf(stderr, "%s: %s\n", prog, err);
	}
	return c;
}

struct tg_policy *load_policy_report(const char *prog, const char *file,
				     const struct tg_content *content, const uint8_t key[static 16],
				     FILE *verdict)
{
	struct tg_policy *p;
	struct tg_diag *d = calloc(1, sizeof(*d));
	char err[512];

	if (d == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return NULL;
	}
	tg_diag_init(d);
	p = load_policy(file, content, key, d, err, sizeof(err));
	load_print_diag(stderr, d);
	if (p == NULL && d->n == 0)
		fprintf(stderr, "%s: %s\n", prog, err);
	else if (p == NULL)
		fprintf(verdict ? verdict : stderr, "%s: invalid\n", file);
	else if (verdict)
		fprintf(verdict, "%s: valid (%zu warning%s)\n", file, d->warnings,
			d->warnings == 1 ? "" : "s");
	free(d);
	return p;
}

int load_check(const char *prog, const char *policy, const char *content_dir, FILE *verdict)
{
	struct tg_content *c = NULL;
	struct tg_policy *p = NULL;
	struct tg_diag *d = calloc(1, sizeof(*d));
	uint8_t key[16];
	char err[128];
	int rc = 1;

	if (d == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	if (load_key(key, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto out;
	}
	c = load_content_report(prog, content_dir, key, d);
	if (c == NULL)
		goto out;
	p = load_policy_report(prog, policy, c, key, verdict);
	if (p)
		rc = 0;
out:
	tg_policy_free(p);
	tg_content_free(c);
	free(d);
	return rc;
}
