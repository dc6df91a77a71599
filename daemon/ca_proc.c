/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ca_proc.c - see ca_proc.h. One thread, one poll() over the workers' sockets, one message read
 * per ready socket per round (so one busy worker cannot starve the others), one response per
 * request. Signed leaves are kept by the digest of the request without its id (mint_req_digest),
 * least recently used first out, within CA_PROC_CACHE_ENTRIES and CA_PROC_CACHE_BYTES.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <mbedtls/ctr_drbg.h>

#include "ca.h"
#include "ca_proc.h"
#include "caps.h"
#include "log.h"
#include "lru.h"
#include "mint.h"

struct ca_leaf {
	struct lru_node node;
	size_t len;
	uint8_t der[];
};

struct ca_proc_stats {
	uint64_t requests, signed_, cached, bad, errors, dropped, evicted;
};

struct ca_proc {
	struct ca *ca;
	mbedtls_ctr_drbg_context drbg;
	struct lru cache;
	size_t cache_bytes;
	struct ca_proc_stats st;
	struct mint_req req;
	uint8_t in[MINT_REQ_MAX + 1];
	uint8_t out[MINT_RESP_MAX];
	uint8_t der[MINT_LEAF_MAX];
};

/* --- the cache ------------------------------------------------------------------------------- */

static void ca_proc_evict(struct ca_proc *cp)
{
	while (cp->cache.count > CA_PROC_CACHE_ENTRIES || cp->cache_bytes > CA_PROC_CACHE_BYTES) {
		struct lru_node *n = lru_oldest(&cp->cache);
		struct ca_leaf *l;

		if (n == NULL)
			return;
		l = lru_entry(n, struct ca_leaf, node);
		lru_remove(&cp->cache, n);
		cp->cache_bytes -= l->len;
		free(l);
		cp->st.evicted++;
	}
}

static void ca_proc_keep(struct ca_proc *cp, const uint8_t key[static 32], const uint8_t *der,
			 size_t len)
{
	struct ca_leaf *l = malloc(sizeof(*l) + len);

	if (l == NULL)
		return; /* not kept: signed again next time */
	memset(&l->node, 0, sizeof(l->node));
	memcpy(l->node.key, key, LRU_KEY_LEN);
	l->len = len;
	memcpy(l->der, der, len);
	lru_insert(&cp->cache, &l->node);
	cp->cache_bytes += len;
	ca_proc_evict(cp);
}

static void ca_proc_cache_free(struct ca_proc *cp)
{
	struct lru_node *n;

	while ((n = lru_oldest(&cp->cache)) != NULL) {
		lru_remove(&cp->cache, n);
		free(lru_entry(n, struct ca_leaf, node));
	}
	lru_fini(&cp->cache);
}

/* --- one request ----------------------------------------------------------------------------- */

/* The id of a request too broken to decode, so the worker can still match the answer. */
static uint64_t ca_proc_raw_id(const uint8_t *p, size_t len)
{
	uint64_t id = 0;
	size_t i;

	if (len < 9)
		return 0;
	for (i = 1; i < 9; i++)
		id = id << 8 | p[i];
	return id;
}

/* The answer to the @len bytes in cp->in: a leaf from the cache or the signer, or an error. */
static ssize_t ca_proc_answer(struct ca_proc *cp, size_t len)
{
	const uint8_t *der = cp->der;
	struct lru_node *n;
	enum mint_status st;
	const char *why;
	uint8_t key[32];
	size_t der_len = 0;
	char err[256];

	cp->st.requests++;
	if (len > MINT_REQ_MAX || mint_req_decode(cp->in, len, &cp->req, &why) == -1 ||
	    mint_req_digest(cp->in, len, key) == -1) {
		cp->st.bad++;
		log_debug("bad mint request (%zu bytes): %s", len,
			  len > MINT_REQ_MAX ? "longer than MINT_REQ_MAX" : why);
		return mint_resp_encode(ca_proc_raw_id(cp->in, len), MINT_ERR_REQUEST, NULL, 0,
					cp->out, sizeof(cp->out));
	}
	n = lru_find(&cp->cache, key);
	if (n != NULL) {
		const struct ca_leaf *l = lru_entry(n, struct ca_leaf, node);

		cp->st.cached++;
		return mint_resp_encode(cp->req.id, MINT_OK, l->der, l->len, cp->out,
					sizeof(cp->out));
	}
	st = mint_sign(cp->ca, &cp->req, &cp->drbg, cp->der, sizeof(cp->der), &der_len, err,
		       sizeof(err));
	if (st != MINT_OK) {
		cp->st.errors++;
		log_warnx("mint request %llu: %s", (unsigned long long)cp->req.id, err);
		return mint_resp_encode(cp->req.id, st, NULL, 0, cp->out, sizeof(cp->out));
	}
	cp->st.signed_++;
	ca_proc_keep(cp, key, der, der_len);
	return mint_resp_encode(cp->req.id, MINT_OK, der, der_len, cp->out, sizeof(cp->out));
}

/* Read one message from @fd and answer it. Returns -1 when the socket is done with. */
static int ca_proc_serve(struct ca_proc *cp, int fd, short revents)
{
	ssize_t n, m;

	/* MSG_TRUNC: the real length of a message longer than the buffer, to refuse it. */
	n = recv(fd, cp->in, sizeof(cp->in), MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0 && (revents & (POLLHUP | POLLERR)))
		return -1;
	m = ca_proc_answer(cp, (size_t)n);
	if (m < 0)
		return 0;
	if (send(fd, cp->out, (size_t)m, MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
		if (errno != EAGAIN && errno != ENOBUFS)
			return -1;
		cp->st.dropped++; /* the worker is not reading: it will time out */
	}
	return 0;
}

/* --- the process ----------------------------------------------------------------------------- */

static void ca_proc_harden(void)
{
	const struct rlimit zero = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("ca process: PR_SET_DUMPABLE");
	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		log_warn("ca process: RLIMIT_CORE");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_warn("ca process: PR_SET_NO_NEW_PRIVS");
	signal(SIGPIPE, SIG_IGN);
}

static int ca_proc_loop(struct ca_proc *cp, const int *socks, unsigned nsocks)
{
	struct pollfd pfd[CA_PROC_MAX_SOCKS];
	unsigned i, open = nsocks;

	for (i = 0; i < nsocks; i++) {
		pfd[i].fd = socks[i];
		pfd[i].events = POLLIN;
	}
	while (open > 0) {
		if (poll(pfd, nsocks, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("ca process: poll");
			return 1;
		}
		for (i = 0; i < nsocks; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (ca_proc_serve(cp, pfd[i].fd, pfd[i].revents) == -1) {
				close(pfd[i].fd);
				pfd[i].fd = -1; /* poll() skips it */
				open--;
			}
		}
	}
	return 0;
}

int ca_proc_main(int crt_fd, int key_fd, const int *socks, unsigned nsocks)
{
	struct ca_proc *cp;
	bool served = false;
	char err[512];
	unsigned i;
	int rc = 1;

	ca_proc_harden();
	cp = calloc(1, sizeof(*cp));
	if (cp == NULL || nsocks == 0 || nsocks > CA_PROC_MAX_SOCKS) {
		log_warnx("ca process: %s", cp ? "bad socket count" : "out of memory");
		close(crt_fd);
		close(key_fd);
		goto out;
	}
	mbedtls_ctr_drbg_init(&cp->drbg);
	cp->ca = ca_load_fds(crt_fd, key_fd, err, sizeof(err));
	close(crt_fd);
	close(key_fd);
	if (cp->ca == NULL) {
		log_warnx("ca process: %s", err);
		goto out;
	}
	if (ca_mlock_key(cp->ca) == -1)
		log_debug("ca process: the key is not locked in memory: %s", strerror(errno));
	if (ca_drbg_seed(&cp->drbg, "tlsgate ca process") != 0 ||
	    lru_init(&cp->cache, CA_PROC_CACHE_ENTRIES) == -1) {
		log_warnx("ca process: setup failed");
		goto out;
	}
	log_info("ca process: serving %u sockets", nsocks);
	served = true;
	rc = ca_proc_loop(cp, socks, nsocks);
	log_info("ca process: %llu requests, %llu signed, %llu from the cache, %llu malformed, "
		 "%llu failed, %llu answers dropped",
		 (unsigned long long)cp->st.requests, (unsigned long long)cp->st.signed_,
		 (unsigned long long)cp->st.cached, (unsigned long long)cp->st.bad,
		 (unsigned long long)cp->st.errors, (unsigned long long)cp->st.dropped);
out:
	if (!served)
		for (i = 0; i < nsocks; i++)
			close(socks[i]);
	if (cp != NULL) {
		ca_proc_cache_free(cp);
		ca_free(cp->ca);
		mbedtls_ctr_drbg_free(&cp->drbg);
		free(cp);
	}
	return rc;
}

int ca_proc_exec_main(int argc, char **argv)
{
	int socks[CA_PROC_MAX_SOCKS];
	unsigned long n;
	struct stat st;
	char *end;
	unsigned i;

	log_init("tlsgated-ca", getenv("TLSGATE_CA_DEBUG") != NULL);
	if (argc != 4 || strcmp(argv[1], CA_PROC_ARG) != 0 ||
	    strcmp(argv[2], CA_PROC_SOCKS_ARG) != 0) {
		log_warnx("usage: %s " CA_PROC_ARG " " CA_PROC_SOCKS_ARG
			  " N (started by tlsgated, not by hand)",
			  argv[0]);
		return 2;
	}
	errno = 0;
	n = strtoul(argv[3], &end, 10);
	if (errno != 0 || end == argv[3] || *end != '\0' || n == 0 || n > CA_PROC_MAX_SOCKS) {
		log_warnx("%s: expected 1..%d, got \"%s\"", CA_PROC_SOCKS_ARG, CA_PROC_MAX_SOCKS,
			  argv[3]);
		return 2;
	}
	for (i = 0; i < n; i++) {
		socks[i] = CA_PROC_FD_SOCK0 + (int)i;
		if (fstat(socks[i], &st) == -1 || !S_ISSOCK(st.st_mode)) {
			log_warnx("ca process: descriptor %d is not a socket (started by hand?)",
				  socks[i]);
			return 2;
		}
	}
	return ca_proc_main(CA_PROC_FD_CRT, CA_PROC_FD_KEY, socks, (unsigned)n);
}

/* --- spawning -------------------------------------------------------------------------------- */

/* What the child reports on its error pipe before _exit(): the step and its errno. */
enum ca_spawn_step {
	CA_SPAWN_FDS,
	CA_SPAWN_DEVNULL,
	CA_SPAWN_SETGROUPS,
	CA_SPAWN_SETGID,
	CA_SPAWN_SETUID,
	CA_SPAWN_STILL_ROOT,
	CA_SPAWN_NO_NEW_PRIVS,
	CA_SPAWN_EXEC,
};

static const char *const ca_spawn_steps[] = {
	[CA_SPAWN_FDS] = "moving descriptors",
	[CA_SPAWN_DEVNULL] = "opening /dev/null",
	[CA_SPAWN_SETGROUPS] = "setgroups",
	[CA_SPAWN_SETGID] = "setgid",
	[CA_SPAWN_SETUID] = "setuid",
	[CA_SPAWN_STILL_ROOT] = "dropping privileges (still able to become root)",
	[CA_SPAWN_NO_NEW_PRIVS] = "PR_SET_NO_NEW_PRIVS",
	[CA_SPAWN_EXEC] = "exec",
};

struct ca_spawn_ctx {
	const char *exe;
	char *const *argv;
	int crt_fd, key_fd, errfd;
	const int *ca_ends;
	unsigned nsocks;
	bool drop;
	uid_t uid;
	gid_t gid;
};

static __attribute__((noreturn)) void ca_spawn_fail(int errfd, enum ca_spawn_step step)
{
	int msg[2] = { (int)step, errno };

	(void)!write(errfd, msg, sizeof(msg));
	_exit(127);
}

/*
 * The child between fork and exec: async-signal-safe calls only (the daemon may have threads).
 * Every descriptor goes first above the target range, then down to its number: dup2() leaves
 * the copy without O_CLOEXEC, which is what keeps it across the exec.
 */
static __attribute__((noreturn)) void ca_spawn_child(const struct ca_spawn_ctx *c)
{
	const int high = CA_PROC_FD_SOCK0 + (int)c->nsocks + 8;
	struct sigaction sa;
	sigset_t none;
	int errfd, fds[2 + CA_PROC_MAX_SOCKS], i, n = 2 + (int)c->nsocks, nul, exe;

	errfd = fcntl(c->errfd, F_DUPFD_CLOEXEC, high);
	if (errfd == -1)
		ca_spawn_fail(c->errfd, CA_SPAWN_FDS);
	fds[0] = c->crt_fd;
	fds[1] = c->key_fd;
	for (i = 0; i < (int)c->nsocks; i++)
		fds[2 + i] = c->ca_ends[i];
	for (i = 0; i < n; i++) {
		fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, high + 1);
		if (fds[i] == -1)
			ca_spawn_fail(errfd, CA_SPAWN_FDS);
	}
	for (i = 0; i < n; i++)
		if (dup2(fds[i], CA_PROC_FD_CRT + i) == -1)
			ca_spawn_fail(errfd, CA_SPAWN_FDS);
	/* Nothing else crosses the exec (the error pipe closes with it). */
	if (close_range((unsigned)(CA_PROC_FD_CRT + n), ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		for (i = CA_PROC_FD_CRT + n; i < 4096; i++)
			(void)fcntl(i, F_SETFD, FD_CLOEXEC);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul == -1 || dup2(nul, STDIN_FILENO) == -1 || dup2(nul, STDOUT_FILENO) == -1)
		ca_spawn_fail(errfd, CA_SPAWN_DEVNULL);
	/* The daemon blocks its signals for a signalfd and ignores some: start clean. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		(void)sigaction(i, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* Opened as root: the user it becomes may not reach the executable's path. */
	exe = open(c->exe, O_RDONLY | O_CLOEXEC);
	if (exe == -1)
		ca_spawn_fail(errfd, CA_SPAWN_EXEC);
	if (c->drop) {
		if (setgroups(0, NULL) == -1)
			ca_spawn_fail(errfd, CA_SPAWN_SETGROUPS);
		if (setgid(c->gid) == -1)
			ca_spawn_fail(errfd, CA_SPAWN_SETGID);
		if (setuid(c->uid) == -1)
			ca_spawn_fail(errfd, CA_SPAWN_SETUID);
	}
	if (getuid() == 0 || geteuid() == 0 || setuid(0) != -1) {
		errno = EPERM;
		ca_spawn_fail(errfd, CA_SPAWN_STILL_ROOT);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		ca_spawn_fail(errfd, CA_SPAWN_NO_NEW_PRIVS);
	fexecve(exe, c->argv, environ);
	ca_spawn_fail(errfd, CA_SPAWN_EXEC);
}

/* Who the child becomes: @user's uid and gid (never root), or the caller when not root. */
static int ca_spawn_user(const char *user, struct ca_spawn_ctx *c, char *err, size_t errlen)
{
	const struct passwd *pw;

	if (user == NULL) {
		if (geteuid() == 0) {
			snprintf(err, errlen, "the CA process must not run as root: name a user");
			return -1;
		}
		c->drop = false;
		return 0;
	}
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "user \"%s\": %s", user,
			 errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user \"%s\" is root: the CA process must not run as root",
			 user);
		return -1;
	}
	c->drop = true;
	c->uid = pw->pw_uid;
	c->gid = pw->pw_gid;
	return 0;
}

int ca_proc_spawn(const char *self_exe, const char *ca_dir, unsigned nsocks, int *worker_ends,
		  pid_t *pid, const char *run_as_user, char *err, size_t errlen)
{
	struct ca_spawn_ctx c;
	int ca_ends[CA_PROC_MAX_SOCKS], errpipe[2] = { -1, -1 }, msg[2], sv[2];
	char nbuf[16], *argv[5];
	unsigned i, made = 0;
	ssize_t n;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.crt_fd = c.key_fd = -1;
	*pid = -1;
	if (nsocks == 0 || nsocks > CA_PROC_MAX_SOCKS) {
		snprintf(err, errlen, "CA process: expected 1..%d sockets, got %u",
			 CA_PROC_MAX_SOCKS, nsocks);
		return -1;
	}
	if (ca_spawn_user(run_as_user, &c, err, errlen) == -1 ||
	    ca_open_files(ca_dir, &c.crt_fd, &c.key_fd, err, errlen) == -1)
		goto out;
	for (made = 0; made < nsocks; made++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
			snprintf(err, errlen, "socketpair: %s", strerror(errno));
			goto out;
		}
		worker_ends[made] = sv[0];
		ca_ends[made] = sv[1];
	}
	if (pipe2(errpipe, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	snprintf(nbuf, sizeof(nbuf), "%u", nsocks);
	argv[0] = (char *)(uintptr_t) "tlsgated";
	argv[1] = (char *)(uintptr_t)CA_PROC_ARG;
	argv[2] = (char *)(uintptr_t)CA_PROC_SOCKS_ARG;
	argv[3] = nbuf;
	argv[4] = NULL;
	c.exe = self_exe;
	c.argv = argv;
	c.errfd = errpipe[1];
	c.ca_ends = ca_ends;
	c.nsocks = nsocks;
	*pid = fork();
	if (*pid == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	if (*pid == 0)
		ca_spawn_child(&c);
	close(errpipe[1]);
	errpipe[1] = -1;
	do
		n = read(errpipe[0], msg, sizeof(msg));
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		rc = 0; /* the exec closed the pipe */
		goto out;
	}
	if (n == (ssize_t)sizeof(msg) && msg[0] >= 0 && msg[0] <= CA_SPAWN_EXEC)
		snprintf(err, errlen, "CA process: %s: %s", ca_spawn_steps[msg[0]],
			 strerror(msg[1]));
	else
		snprintf(err, errlen, "CA process: failed before exec");
	(void)waitpid(*pid, NULL, 0);
	*pid = -1;
out:
	for (i = 0; i < made; i++) {
		close(ca_ends[i]);
		if (rc == -1) {
			close(worker_ends[i]);
			worker_ends[i] = -1;
		}
	}
	if (c.crt_fd != -1)
		close(c.crt_fd);
	if (c.key_fd != -1)
		close(c.key_fd);
	if (errpipe[0] != -1)
		close(errpipe[0]);
	if (errpipe[1] != -1)
		close(errpipe[1]);
	return rc;
}
