/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy_spawn.c - the proxy's spawner process (proxy_spawn.h) and SCM_RIGHTS, built and read in
 * one place.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "proxy_spawn.h"

/* Descriptors from @lowfd up close at the exec (the executable's own until it is loaded). */
static void close_range_from(int lowfd)
{
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 4 /* CLOSE_RANGE_CLOEXEC */) == -1) {
		int fd;

		for (fd = lowfd; fd < 1024; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
}

/* Put @fds[i] on descriptor 3 + i in a child about to exec (dup2 clears close-on-exec). */
static bool child_fds(const int *fds, int n)
{
	int tmp[4], i;

	for (i = 0; i < n; i++) {
		tmp[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD, 64) : -1;
		if (fds[i] >= 0 && tmp[i] == -1)
			return false;
	}
	for (i = 0; i < n; i++)
		if (tmp[i] >= 0 && dup2(tmp[i], 3 + i) == -1)
			return false;
	close_range_from(3 + n);
	return true;
}

/*
 * The spawner: a process forked before tlsgated drops its privileges that keeps CAP_SETUID and
 * CAP_SETGID and nothing else, so that tlsgated itself need not keep them to start a worker
 * again. It reads one request per worker start (the slot number, with the worker's job socket
 * as SCM_RIGHTS), forks, and the child execs `tlsgated --proxy-worker` as the proxy user with
 * its descriptors in place. It never reads the network or a file; it exits when tlsgated's end
 * of its socket closes. Workers are its children: tlsgated sees a worker die as its job socket
 * closing.
 */
/* Put @fd into @mh's control buffer (sized CMSG_SPACE(sizeof(int))) as SCM_RIGHTS. */
bool proxy_msg_put_fd(struct msghdr *mh, int fd)
{
	struct cmsghdr *cm;

	memset(mh->msg_control, 0, mh->msg_controllen);
	cm = CMSG_FIRSTHDR(mh);
	if (cm == NULL)
		return false;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return true;
}

int proxy_msg_take_fd(struct msghdr *mh)
{
	struct cmsghdr *cm;
	int fd = -1;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

struct spawn_req {
	uint32_t slot;
};

static void spawner_child(const struct spawn_cfg *p, int job_fd, unsigned slot)
{
	int fds[4] = { job_fd, p->ca_ends[slot], p->trust_fd, p->keylog_fd };
	char a_worker[] = "--proxy-worker", a_trust[] = "--trust";
	char *argv[] = { p->self, a_worker, a_trust, p->trust, NULL };
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (!child_fds(fds, p->keylog_fd >= 0 ? 4 : 3) || setgroups(0, NULL) == -1 ||
	    setgid(p->gid) == -1 || setuid(p->uid) == -1 || setuid(0) != -1)
		_exit(127);
	fexecve(p->self_fd, argv, environ);
	_exit(127);
}

/* Keep CAP_SETUID and CAP_SETGID only (effective and permitted), with no_new_privs. */
static void spawner_privs(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = 1u << CAP_SETUID | 1u << CAP_SETGID;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data) == -1)
		_exit(1);
}

static void spawner_main(const struct spawn_cfg *p, int sock)
{
	for (;;) {
		struct spawn_req req;
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &req, sizeof(req) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		int fd = -1;
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (n == 0)
			_exit(0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		fd = proxy_msg_take_fd(&mh);
		if (n == (ssize_t)sizeof(req) && fd >= 0 && req.slot < p->nworkers && fork() == 0)
			spawner_child(p, fd, req.slot);
		if (fd >= 0)
			close(fd);
	}
}

int spawner_start(const struct spawn_cfg *p, int *sock, pid_t *pid_out)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	pid = fork();
	if (pid == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		int fd;

		/* Only its socket, the CA sockets and the keylog stay open. */
		for (fd = 3; fd < 65536; fd++) {
			bool keep = fd == sv[1] || fd == p->keylog_fd || fd == p->trust_fd ||
				    fd == p->self_fd;
			unsigned i;

			for (i = 0; i < p->nworkers; i++)
				keep |= fd == p->ca_ends[i];
			if (!keep)
				close(fd);
		}
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		(void)prctl(PR_SET_NAME, "tlsgate-spawn", 0, 0, 0);
		spawner_privs();
		spawner_main(p, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	*sock = sv[0];
	*pid_out = pid;
	return 0;
}

int spawner_request(int sock, unsigned slot, int job_fd)
{
	struct spawn_req req = { .slot = slot };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &req, sizeof(req) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };

	if (!proxy_msg_put_fd(&mh, job_fd) ||
	    sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return -1;
	return 0;
}
