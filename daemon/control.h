/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.h - the daemon's control socket: a Unix stream socket (mode 0660) where one client
 * at a time sends one command line and gets one JSON line back, then the connection closes.
 * Commands: "stats" (every counter), "bypass" (the dynamic bypass table), "bypass flush",
 * "log reopen" (the event log's file, after rotation). Served by the main thread; a client gets
 * CONTROL_TIMEOUT_MS to send its line.
 */
#ifndef TLSGATE_CONTROL_H
#define TLSGATE_CONTROL_H

#include <stdio.h>

#include "caps.h"

/* Listen on @path (a stale socket file there is replaced). Returns the fd or -1 (errno). */
int control_listen(const char *path);
/*
 * Accept one client on @lfd, read its command and answer through @answer, which writes the
 * reply for @cmd to @f and returns 0, or -1 for an unknown command.
 */
void control_serve(int lfd, int (*answer)(void *arg, const char *cmd, FILE *f), void *arg);

#endif
