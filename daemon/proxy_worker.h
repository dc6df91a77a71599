/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_worker.h - the body of a proxy worker process (proxy_worker.c). tlsgated starts it as
 * `tlsgated --proxy-worker --trust FILE` after fork, as an unprivileged user, with its sockets
 * on fixed descriptors: PROXY_FD_MAIN (jobs in, reports out; proxy_msg.h), PROXY_FD_CA (the CA
 * process, leafcache.h) and, when keylogging, PROXY_FD_KEYLOG.
 */
#ifndef TLSGATE_PROXY_WORKER_H
#define TLSGATE_PROXY_WORKER_H

#define PROXY_FD_MAIN	3
#define PROXY_FD_CA	4
#define PROXY_FD_KEYLOG 5

/* Run until tlsgated goes away or SIGTERM; the process's exit status. */
int proxy_worker_main(const char *trust, int keylog_fd);

#endif
