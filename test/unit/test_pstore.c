/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pstore.c - the policy store (daemon/pstore.c) in a temporary state directory: --policy
 * until something is pushed, then the pushed policy; persisting keeps the policy in force as
 * the previous one; no temporary file is left; the SHA-256 of what is in force; errors name
 * the file.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "pstore.h"
#include "tg_test.h"

static char dir[64];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static bool source_is(struct pstore *ps, const char *text, bool want_pushed)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *path;
	bool pushed, ok;
	char err[256];

	if (pstore_source(ps, &buf, &len, &path, &pushed, err, sizeof(err)) != 0)
		return false;
	ok = len == strlen(text) && memcmp(buf, text, len) == 0 && pushed == want_pushed;
	free(buf);
	return ok;
}

int main(void)
{
	char policy[128], state[128], path[192], err[256];
	struct pstore *ps;
	uint8_t *buf = NULL;
	size_t len = 0;

	snprintf(dir, sizeof(dir), "/tmp/tg-pstore-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(policy, sizeof(policy), "%s/policy.json", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	put(policy, "{\"a\":1}");

	ps = pstore_new(state, policy, err, sizeof(err));
	CHECK(ps != NULL);
	CHECK_INT(pstore_mkdir(ps, err, sizeof(err)), 0);
	CHECK_INT(access(state, F_OK), 0);
	CHECK_INT(pstore_mkdir(ps, err, sizeof(err)), 0); /* there already */
	CHECK(source_is(ps, "{\"a\":1}", false));
	CHECK_INT(pstore_previous(ps, &buf, &len, err, sizeof(err)), -1);
	CHECK(strstr(err, "no previous policy") != NULL);

	/* What is in force: its SHA-256 (of the bytes "abc", the FIPS 180-2 example). */
	CHECK_INT(pstore_set_current(ps, (const uint8_t *)"abc", 3, policy, false), 0);
	CHECK(strcmp(pstore_sha256(ps),
		     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	CHECK(strcmp(pstore_path(ps), policy) == 0);
	CHECK(!pstore_pushed(ps));

	/* A push: the pushed file wins, the one in force becomes the previous one. */
	CHECK_INT(pstore_persist(ps, (const uint8_t *)"{\"b\":2}", 7, err, sizeof(err)), 0);
	CHECK(source_is(ps, "{\"b\":2}", true));
	CHECK_INT(pstore_previous(ps, &buf, &len, err, sizeof(err)), 0);
	CHECK(len == 3 && memcmp(buf, "abc", 3) == 0);
	free(buf);
	buf = NULL;
	snprintf(path, sizeof(path), "%s/%s.tmp", state, PSTORE_CURRENT);
	CHECK_INT(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/%s.tmp", state, PSTORE_PREVIOUS);
	CHECK_INT(access(path, F_OK), -1);
	CHECK(strncmp(pstore_pushed_path(ps), state, strlen(state)) == 0);

	/* A second one: the previous is now what was in force then. */
	CHECK_INT(pstore_set_current(ps, (const uint8_t *)"{\"b\":2}", 7, pstore_pushed_path(ps),
				     true),
		  0);
	CHECK_INT(pstore_persist(ps, (const uint8_t *)"{\"c\":3}", 7, err, sizeof(err)), 0);
	CHECK(source_is(ps, "{\"c\":3}", true));
	CHECK_INT(pstore_previous(ps, &buf, &len, err, sizeof(err)), 0);
	CHECK(len == 7 && memcmp(buf, "{\"b\":2}", 7) == 0);
	free(buf);
	buf = NULL;
	{
		struct stat st;

		CHECK_INT(stat(pstore_pushed_path(ps), &st), 0);
		CHECK_INT(st.st_mode & 0777, 0600);
	}
	pstore_free(ps);

	/* A state directory that cannot be made: the error names it. */
	snprintf(path, sizeof(path), "%s/file", dir);
	put(path, "");
	snprintf(path, sizeof(path), "%s/file/sub", dir);
	ps = pstore_new(path, policy, err, sizeof(err));
	CHECK(ps != NULL);
	CHECK_INT(pstore_mkdir(ps, err, sizeof(err)), -1);
	CHECK(strstr(err, path) != NULL);
	CHECK_INT(pstore_persist(ps, (const uint8_t *)"x", 1, err, sizeof(err)), -1);
	CHECK(strstr(err, "file/sub/policy.json") != NULL);
	pstore_free(ps);

	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return tg_test_done();
}
