/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_spawn.h - the spawner: a process forked before tlsgated drops its privileges that keeps
 * CAP_SETUID and CAP_SETGID and nothing else, so that tlsgated itself need not keep them to
 * start a proxy worker again (proxy.c asks; the spawner forks and the child executes
 * `tlsgated --proxy-worker` as the proxy user, descriptors in place: proxy_worker.h).
 */
#ifndef TLSGATE_PROXY_SPAWN_H
#define TLSGATE_PROXY_SPAWN_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

struct spawn_cfg {
	char *self; /* the worker's argv[0] */
	char *trust; /* the --trust name, for the worker's messages */
	int self_fd; /* tlsgated's executable, opened as root (fexecve) */
	int trust_fd; /* the trust bundle (PROXY_FD_TRUST in the worker) */
	int keylog_fd; /* -1: no keylog */
	uid_t uid;
	gid_t gid;
	const int *ca_ends; /* by worker slot: its socket to the CA process */
	unsigned nworkers;
};

/*
 * spawner_start() - fork the spawner (before threads start and privileges drop). It keeps only
 * what @c names open. *@sock is tlsgated's end of its socket (closing it ends the spawner),
 * *@pid the process. 0, or -1 with errno.
 */
int spawner_start(const struct spawn_cfg *c, int *sock, pid_t *pid);

/* spawner_request() - start worker @slot with @job_fd as its job socket. 0, or -1 with errno. */
int spawner_request(int sock, unsigned slot, int job_fd);

/* proxy_msg_take_fd() - the descriptor a received @mh carries as SCM_RIGHTS; -1: none. */
int proxy_msg_take_fd(struct msghdr *mh);

/* proxy_msg_put_fd() - put @fd into @mh's control buffer (CMSG_SPACE(sizeof(int))) as SCM_RIGHTS. */
bool proxy_msg_put_fd(struct msghdr *mh, int fd);

#endif
