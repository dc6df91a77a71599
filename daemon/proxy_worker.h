/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_worker.h - the body of a proxy worker process (proxy_worker.c). tlsgated starts it as
 * `tlsgated --proxy-worker --trust NAME` after fork, as an unprivileged user, with its sockets
 * and files on fixed descriptors: PROXY_FD_MAIN (jobs in, reports out; proxy_msg.h), PROXY_FD_CA
 * (the CA process, leafcache.h), PROXY_FD_TRUST (the trust bundle, opened by tlsgated before it
 * dropped privileges: the proxy user need not be able to read it; NAME is for messages) and,
 * when keylogging, PROXY_FD_KEYLOG.
 */
#ifndef TLSGATE_PROXY_WORKER_H
#define TLSGATE_PROXY_WORKER_H

#define PROXY_FD_MAIN	3
#define PROXY_FD_CA	4
#define PROXY_FD_TRUST	5
#define PROXY_FD_KEYLOG 6

/* Run until tlsgated goes away or SIGTERM; the process's exit status. */
int proxy_worker_main(const char *trust_name, int keylog_fd);

#endif
