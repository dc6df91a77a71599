/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * load.h - reading the policy and the content package from files for the library loaders,
 * shared by tlsgatectl and tlsgated. Files are size-capped before they are read. Errors are
 * written to @err ("PATH: what went wrong"); library diagnostics stay in the caller's tg_diag.
 */
#ifndef TLSGATE_LOAD_H
#define TLSGATE_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct tg_content;
struct tg_policy;
struct tg_diag;

#define LOAD_SYSTEM_CONTENT "/usr/share/tlsgate/content"

/* Read @path whole (a regular file of at most @cap bytes) into a new buffer. 0 or -1. */
int load_file(const char *path, size_t cap, uint8_t **buf, size_t *len, char *err, size_t errlen);
/*
 * The default content directory: $TLSGATE_CONTENT, else policy/content of the source tree the
 * binary was built in (BIN/../../policy/content), else LOAD_SYSTEM_CONTENT.
 */
const char *load_content_dir(char *out, size_t cap);
/* 16 random bytes for the keyed hash tables. 0 or -1. */
int load_key(uint8_t key[static 16], char *err, size_t errlen);
/* The content package in @dir (NULL: the default). NULL on error (@err, @d). */
struct tg_content *load_content(const char *dir, const uint8_t key[static 16], struct tg_diag *d,
				char *err, size_t errlen);
/* The policy in @file compiled against @content. NULL on error (@err, @d). */
struct tg_policy *load_policy(const char *file, const struct tg_content *content,
			      const uint8_t key[static 16], struct tg_diag *d, char *err,
			      size_t errlen);
/* The same from @len bytes at @buf; @name stands for the file in errors. */
struct tg_policy *load_policy_buf(const uint8_t *buf, size_t len, const char *name,
				  const struct tg_content *content, const uint8_t key[static 16],
				  struct tg_diag *d, char *err, size_t errlen);
/* Print diagnostics as "error: PATH: MESSAGE" / "warning: ..." lines to @f. */
void load_print_diag(FILE *f, const struct tg_diag *d);

/*
 * The loaders of the programs' commands (tlsgatectl, tlsgated --check-config), which say what
 * went wrong: every diagnostic on stderr, and a file error as "@prog: PATH: ..." on stderr.
 * load_content_report: as load_content; @d is the caller's, reinitialized.
 * load_policy_report: as load_policy; its verdict, "FILE: valid (N warnings)" or
 * "FILE: invalid" (when the loader gave reasons), goes to @verdict, or, when @verdict is NULL,
 * only "FILE: invalid" to stderr. The policy or NULL.
 */
struct tg_content *load_content_report(const char *prog, const char *dir,
				       const uint8_t key[static 16], struct tg_diag *d);
struct tg_policy *load_policy_report(const char *prog, const char *file,
				     const struct tg_content *content, const uint8_t key[static 16],
				     FILE *verdict);
/*
 * Check @policy against the content package in @content_dir (NULL: the default) as the daemon
 * loads them, with load_*_report: every error and warning on stderr, the verdict on @verdict.
 * 0 valid, 1 not (or not readable).
 */
int load_check(const char *prog, const char *policy, const char *content_dir, FILE *verdict);

#endif
