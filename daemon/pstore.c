/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pstore.c - the policy in force and the state directory's pushed policies; see pstore.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "tlsgate/caps.h"
#include "tlsgate/mbedtls_compat.h"

#include "load.h"
#include "pstore.h"

struct pstore {
	char dir[PATH_MAX];
	char pushed_path[PATH_MAX + 32];
	char prev_path[PATH_MAX + 32];
	char policy[PATH_MAX]; /* --policy */
	uint8_t *cur;
	size_t cur_len;
	char cur_path[PATH_MAX + 32];
	char sha[65];
	bool pushed;
};

struct pstore *pstore_new(const char *state_dir, const char *policy, char *err, size_t errlen)
{
	struct pstore *ps = calloc(1, sizeof(*ps));

	if (ps == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strlen(state_dir) >= sizeof(ps->dir) || strlen(policy) >= sizeof(ps->policy)) {
		snprintf(err, errlen, "%s: path too long", state_dir);
		goto fail;
	}
	snprintf(ps->dir, sizeof(ps->dir), "%s", state_dir);
	snprintf(ps->policy, sizeof(ps->policy), "%s", policy);
	snprintf(ps->pushed_path, sizeof(ps->pushed_path), "%s/%s", state_dir, PSTORE_CURRENT);
	snprintf(ps->prev_path, sizeof(ps->prev_path), "%s/%s", state_dir, PSTORE_PREVIOUS);
	return ps;
fail:
	free(ps);
	return NULL;
}

int pstore_mkdir(const struct pstore *ps, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(ps->dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "state directory %s: %s", ps->dir, strerror(errno));
		return -1;
	}
	if (stat(ps->dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state directory %s: not a directory", ps->dir);
		return -1;
	}
	return 0;
}

void pstore_free(struct pstore *ps)
{
	if (ps == NULL)
		return;
	free(ps->cur);
	free(ps);
}

int pstore_source(const struct pstore *ps, uint8_t **buf, size_t *len, const char **path,
		  bool *pushed, char *err, size_t errlen)
{
	*pushed = access(ps->pushed_path, F_OK) == 0;
	*path = *pushed ? ps->pushed_path : ps->policy;
	return load_file(*path, TG_CAP_POLICY_BYTES, buf, len, err, errlen);
}

int pstore_previous(const struct pstore *ps, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	if (access(ps->prev_path, F_OK) == -1) {
		snprintf(err, errlen, "no previous policy to roll back to (%s)", ps->prev_path);
		return -1;
	}
	return load_file(ps->prev_path, TG_CAP_POLICY_BYTES, buf, len, err, errlen);
}

/* Replace @path by @len bytes at @buf: a temporary file, fsync, rename. 0 or -1 (@err). */
static int write_atomic(const char *path, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 48];
	const char *what = tmp;
	size_t off = 0;
	int fd, saved, n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = path;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	snprintf(err, errlen, "%s: %s", what, strerror(saved));
	(void)unlink(tmp);
	return -1;
}

int pstore_persist(struct pstore *ps, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	int dfd;

	if (ps->cur != NULL && write_atomic(ps->prev_path, ps->cur, ps->cur_len, err, errlen) == -1)
		return -1;
	if (write_atomic(ps->pushed_path, buf, len, err, errlen) == -1)
		return -1;
	/* The renames are durable once the directory is. */
	dfd = open(ps->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) == -1) {
		snprintf(err, errlen, "%s: %s", ps->dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

int pstore_set_current(struct pstore *ps, const uint8_t *buf, size_t len, const char *path,
		       bool pushed)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t *copy = malloc(len ? len : 1), digest[32];
	size_t i;

	if (copy == NULL || tg_sha256(buf, len, digest) != 0) {
		free(copy);
		return -1;
	}
	memcpy(copy, buf, len);
	free(ps->cur);
	ps->cur = copy;
	ps->cur_len = len;
	for (i = 0; i < 32; i++) {
		ps->sha[2 * i] = hex[digest[i] >> 4];
		ps->sha[2 * i + 1] = hex[digest[i] & 15];
	}
	ps->sha[64] = '\0';
	snprintf(ps->cur_path, sizeof(ps->cur_path), "%s", path);
	ps->pushed = pushed;
	return 0;
}

const uint8_t *pstore_current(const struct pstore *ps, size_t *len)
{
	*len = ps->cur_len;
	return ps->cur;
}

const char *pstore_sha256(const struct pstore *ps)
{
	return ps->sha;
}

const char *pstore_path(const struct pstore *ps)
{
	return ps->cur_path;
}

bool pstore_pushed(const struct pstore *ps)
{
	return ps->pushed;
}

const char *pstore_pushed_path(const struct pstore *ps)
{
	return ps->pushed_path;
}
