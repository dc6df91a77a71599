/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ca_proc.h - the CA process: the only process that holds the CA private key. It signs forged
 * leaves for the proxy workers and does nothing else (STYLE.md rule 13; relayd's "ca").
 *
 * tlsgated starts it with ca_proc_spawn() before it drops its own privileges: the daemon opens
 * ca.crt and ca.key as root, makes one SOCK_SEQPACKET socket pair per worker, forks, and the
 * child re-executes the daemon's binary as `tlsgated --ca-process --ca-socks N` under an
 * unprivileged user with no_new_privs, holding only these descriptors:
 *
 *   3        ca.crt (read, then closed)
 *   4        ca.key (read, then closed)
 *   5..5+N-1 one socket per worker: a mint request in (mint.h), one response out
 *
 * tlsgated's main dispatches `--ca-process` to ca_proc_exec_main() before anything else.
 * The process is not dumpable, has no core limit, mlock()s the private key where it can, opens
 * no file after start, and exits when every socket is closed (the daemon and its workers are
 * gone). A malformed request gets a MINT_ERR_REQUEST response and is counted; a worker that
 * does not read its responses loses them (sends never block).
 */
#ifndef TLSGATE_CA_PROC_H
#define TLSGATE_CA_PROC_H

#include <stddef.h>
#include <sys/types.h>

#define CA_PROC_ARG	  "--ca-process"
#define CA_PROC_SOCKS_ARG "--ca-socks"
#define CA_PROC_FD_CRT	  3
#define CA_PROC_FD_KEY	  4
#define CA_PROC_FD_SOCK0  5

/*
 * ca_proc_main() - the CA process's body: harden, load the CA from @crt_fd and @key_fd (closed
 * here, loaded or not), then answer requests on @socks (@nsocks of them, at most
 * CA_PROC_MAX_SOCKS; each closed here when its peer goes) until none is left. Returns the exit
 * status: 0 after the last socket closed, 1 when the CA cannot be loaded or set up.
 */
int ca_proc_main(int crt_fd, int key_fd, const int *socks, unsigned nsocks);

/*
 * ca_proc_exec_main() - main() of `tlsgated --ca-process --ca-socks N`: checks the descriptors
 * above are there and runs ca_proc_main() on them. Returns the exit status (2 on bad usage).
 */
int ca_proc_exec_main(int argc, char **argv);

/*
 * ca_proc_spawn() - start the CA process from the daemon (as root, before dropping privileges;
 * from the main thread). Opens @ca_dir's files, makes @nsocks (1..CA_PROC_MAX_SOCKS) socket
 * pairs, forks, and in the child moves the descriptors to 3, 4, 5.., drops to @run_as_user
 * (supplementary groups cleared, then its gid and uid; fails closed, and a resulting uid 0 is
 * refused), sets no_new_privs and executes @self_exe (e.g. "/proc/self/exe") with
 * CA_PROC_ARG. @run_as_user NULL keeps the caller's user, which is refused for root.
 * On success, worker_ends[0..nsocks) are the workers' ends (O_CLOEXEC, the caller's: hand one to
 * each worker, close them all to stop the process) and *@pid the child; returns 0 once the
 * exec succeeded. A CA that then fails to load makes the process log why and exit 1, and its
 * sockets close. Returns -1 with a message in @err when anything before the exec failed.
 */
int ca_proc_spawn(const char *self_exe, const char *ca_dir, unsigned nsocks, int *worker_ends,
		  pid_t *pid, const char *run_as_user, char *err, size_t errlen);

#endif
