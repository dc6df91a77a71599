/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h - diagnostics for the daemon: log_warn appends strerror(errno), log_warnx does not;
 * both go to stderr (the journal under systemd) with a level prefix sd-daemon understands.
 * The event log (one JSON line per decision) is evlog.h's.
 */
#ifndef TLSGATE_LOG_H
#define TLSGATE_LOG_H

#include <stddef.h>
#include <stdio.h>

void log_init(const char *ident, int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
