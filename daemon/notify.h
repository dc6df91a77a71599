/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notify.h - the sd_notify protocol without libsystemd: datagrams to $NOTIFY_SOCKET
 * ("READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1"). Without systemd these do nothing.
 */
#ifndef TLSGATE_NOTIFY_H
#define TLSGATE_NOTIFY_H

#include <stdint.h>

/* Returns 1 sent, 0 not under systemd, -1 error (errno). */
int notify_send(const char *state);
/* The watchdog interval systemd asked for, in microseconds; 0 when none. */
uint64_t notify_watchdog_usec(void);

#endif
