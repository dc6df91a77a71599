/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pstore.h - where the running policy comes from and where a pushed one is kept.
 *
 * The state directory (tlsgated --state-dir, default /var/lib/tlsgate; pstore_mkdir() creates
 * it 0700) holds the policy pushed over the control socket, PSTORE_CURRENT, and the one in
 * force before it, PSTORE_PREVIOUS (what `policy rollback` goes back to). Each is replaced
 * atomically: written to a temporary file beside it, fsync'ed, renamed over it, and the
 * directory fsync'ed. At start and on a reload, a pushed policy wins over the --policy file.
 *
 * pstore also remembers the bytes in force (their SHA-256, where they came from), for
 * `tlsgatectl status` and `policy show`. Main thread only.
 */
#ifndef TLSGATE_PSTORE_H
#define TLSGATE_PSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PSTORE_CURRENT	"policy.json"
#define PSTORE_PREVIOUS "policy.prev.json"

struct pstore;

/* @state_dir holds pushed policies; @policy is the --policy file. NULL with @err. */
struct pstore *pstore_new(const char *state_dir, const char *policy, char *err, size_t errlen);
/* Create the state directory (0700) if it is missing. 0, or -1 with @err. */
int pstore_mkdir(const struct pstore *ps, char *err, size_t errlen);
void pstore_free(struct pstore *ps);

/*
 * The policy a start or a reload takes: the pushed one if the state directory has it, else the
 * --policy file. *@buf is the caller's (free()); *@path names the file (pstore's string);
 * *@pushed says which. 0, or -1 with @err.
 */
int pstore_source(const struct pstore *ps, uint8_t **buf, size_t *len, const char **path,
		  bool *pushed, char *err, size_t errlen);
/* The previous policy (for rollback): 0, or -1 with @err (none: "no previous policy"). */
int pstore_previous(const struct pstore *ps, uint8_t **buf, size_t *len, char *err, size_t errlen);
/*
 * Keep @len bytes at @buf as the pushed policy, and the policy in force now as the previous
 * one. 0, or -1 with @err (then the files may hold the previous policy already updated, never
 * a partial file).
 */
int pstore_persist(struct pstore *ps, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* The policy now in force: @len bytes at @buf (copied) from @path, pushed or not. 0 or -1. */
int pstore_set_current(struct pstore *ps, const uint8_t *buf, size_t len, const char *path,
		       bool pushed);

/* What is in force: bytes, their SHA-256 as 64 hex digits, the file, pushed or not. */
const uint8_t *pstore_current(const struct pstore *ps, size_t *len);
const char *pstore_sha256(const struct pstore *ps);
const char *pstore_path(const struct pstore *ps);
bool pstore_pushed(const struct pstore *ps);
/* The state directory's PSTORE_CURRENT path. */
const char *pstore_pushed_path(const struct pstore *ps);

#endif
