/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tlsgated - the datapath daemon: NFQUEUE classifier threads (one per queue) and the main
 * thread, which owns signals (SIGHUP reload, SIGUSR1 event log reopen, SIGTERM/SIGINT stop,
 * SIGCHLD), sd_notify, the watchdog, the control socket and the proxy's reports. The proxy workers and the CA process
 * are this same binary, exec'd with --proxy-worker or --ca-process (proxy.h). No work happens
 * in signal handlers: signals arrive on a signalfd.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <fcntl.h>

#include "tlsgate/bypass.h"
#include "tlsgate/cidr.h"

#include "decide.h"
#include "engine.h"
#include "evlog.h"
#include "log.h"
#include "marks.h"
#include "datapath.h"
#include "rulecheck.h"
#include "queue.h"
#include "names.h"
#include "notify.h"
#include "adopt.h"
#include "control.h"
#include "ctlsrv.h"
#include "load.h"
#include "metrics_http.h"
#include "pstore.h"
#include "proxy.h"
#include "proxy_worker.h"
#include "ca_proc.h"
#include "load.h"

#include "caps.h"
#include "version.h"

struct opts {
	const char *policy, *content, *state_dir, *ca_dir, *control, *log_path;
	const char *trust, *keylog, *proxy_user, *setup_state;
	const char *control_group, *metrics_listen; /* NULL: none */
	unsigned queue_num, queues, proxy_workers;
	bool queue_num_set, queues_set; /* given as options: must match tlsgate-setup's */
	bool foreground, check_config;
	int verbose;
};

struct qthread {
	pthread_t thread;
	unsigned num;
	struct queue *q;
	struct engine *eng;
	const struct decider *d;
	bool fail_open; /* what the queue was last told; the thread's own */
	bool silent_said; /* main thread: the silent-queue check is done for it */
	int epfd, tfd;
	uint64_t heartbeat_ms; /* atomically written by the thread */
};

static volatile bool running = true; /* only main thread writes; threads read atomically */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int timer_arm(int fd, unsigned ms)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	it.it_interval.tv_sec = ms / 1000;
	it.it_interval.tv_nsec = (long)(ms % 1000) * 1000000;
	it.it_value = it.it_interval;
	return timerfd_settime(fd, 0, &it, NULL);
}

static void qthread_packet(void *arg, const struct queue_pkt *p)
{
	struct qthread *t = arg;

	engine_packet(t->eng, p, mono_ms());
}

/*
 * Follow the policy's settings.fail.queue_full after a reload. Here, not in the reload: the
 * netlink socket belongs to this thread. A failure is counted by the queue and logged once
 * per change; it is not retried.
 */
static void qthread_fail_open(struct qthread *t)
{
	bool want = decider_queue_fail_open(t->d);

	if (want == t->fail_open)
		return;
	t->fail_open = want;
	if (queue_set_fail_open(t->q, want) == -1) {
		log_warn("queue %u: setting queue_full to %s", t->num, want ? "pass" : "block");
		return;
	}
	log_info("queue %u: queue_full is now %s", t->num, want ? "pass" : "block");
}

static void *qthread_main(void *arg)
{
	struct qthread *t = arg;
	struct epoll_event evs[2];

	while (__atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(t->epfd, evs, 2, 500), i;

		if (n == -1 && errno != EINTR) {
			log_warn("queue %u: epoll_wait", t->num);
			continue;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == t->tfd) {
				uint64_t exp;

				(void)!read(t->tfd, &exp, sizeof(exp));
				/*
				 * The clock now, not at the wakeup: packets handled since were
				 * stamped later, and an older now would make their ages wrap.
				 */
				engine_tick(t->eng, mono_ms());
			} else if (queue_receive(t->q, qthread_packet, t) == -1) {
				log_warn("queue %u: receive", t->num);
			}
		}
		qthread_fail_open(t);
		/* Stamped after the work: from here on this thread holds no policy (reclaim()). */
		__atomic_store_n(&t->heartbeat_ms, mono_ms(), __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Open the queue and the thread's state; the thread itself starts in qthread_run(). */
static int qthread_open(struct qthread *t, const struct engine_cfg *base)
{
	struct engine_cfg cfg = *base;
	struct epoll_event ev = { .events = EPOLLIN };

	t->epfd = t->tfd = -1;
	t->d = base->decider;
	t->fail_open = decider_queue_fail_open(t->d);
	t->q = queue_open((uint16_t)t->num, TLSGATED_COPY_LEN, TLSGATED_QUEUE_MAXLEN,
			  TLSGATED_QUEUE_RCVBUF, t->fail_open);
	if (t->q == NULL) {
		log_warn("queue %u: open", t->num);
		return -1;
	}
	cfg.queue = (uint16_t)t->num;
	t->eng = engine_new(&cfg, t->q);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->eng == NULL || t->epfd == -1 || t->tfd == -1 ||
	    timer_arm(t->tfd, TLSGATED_TICK_MS) == -1) {
		log_warn("queue %u: setup", t->num);
		return -1;
	}
	ev.data.fd = queue_fd(t->q);
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) == -1)
		return -1;
	ev.data.fd = t->tfd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->tfd, &ev) == -1)
		return -1;
	return 0;
}

static int qthread_run(struct qthread *t)
{
	int e;

	t->heartbeat_ms = mono_ms();
	e = pthread_create(&t->thread, NULL, qthread_main, t);
	if (e != 0) {
		errno = e;
		log_warn("queue %u: thread", t->num);
		return -1;
	}
	return 0;
}

static void qthread_stop(struct qthread *t)
{
	if (t->epfd != -1)
		close(t->epfd);
	if (t->tfd != -1)
		close(t->tfd);
	engine_free(t->eng);
	queue_close(t->q);
	t->eng = NULL;
	t->q = NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tlsgated [options]\n"
		"  --policy FILE       policy JSON (default /etc/tlsgate/policy.json)\n"
		"  --content DIR       content package (default /usr/share/tlsgate/content)\n"
		"  --queue-num N       first NFQUEUE number (default: tlsgate-setup's, else 0)\n"
		"  --queues N          number of queues, one thread each (default: "
		"tlsgate-setup's,\n"
		"                      else 1); given, they must match what tlsgate-setup queues\n"
		"  --setup-state FILE  what tlsgate-setup up installed: queues, ports, marks\n"
		"                      (default $TLSGATE_SETUP_STATE, else\n"
		"                      /run/tlsgate-setup/netns-INODE.env for this namespace)\n"
		"  --state-dir DIR     state (default /var/lib/tlsgate)\n"
		"  --ca-dir DIR        CA certificate and key (default /var/lib/tlsgate/ca;\n"
		"                      tlsgatectl ca init makes them). Without a CA, decrypt\n"
		"                      decisions fail (settings.fail.cert_mint_failure)\n"
		"  --trust FILE        PEM bundle upstream servers are verified against\n"
		"                      (default /etc/ssl/certs/ca-certificates.crt)\n"
		"  --proxy-workers N   proxy worker processes (default: online CPUs, max 16)\n"
		"  --proxy-user USER   the proxy workers' and the CA process's user (default "
		"nobody)\n"
		"  --keylog FILE       SSLKEYLOGFILE lines of both legs (for Wireshark)\n"
		"  --control PATH      control socket (default /run/tlsgate/control)\n"
		"  --control-group GROUP  members of GROUP may use the control socket too\n"
		"                      (root always may)\n"
		"  --metrics-listen ADDR:PORT  serve Prometheus metrics over HTTP at /metrics\n"
		"                      (loopback only: 127.0.0.1:9309 or [::1]:9309)\n"
		"  --log FILE|-|syslog the event log, one JSON line per decision (default -:\n"
		"                      stdout; syslog: the daemon facility). SIGUSR1 or\n"
		"                      tlsgatectl log reopen reopens FILE (rotation)\n"
		"  --foreground        accepted and ignored: tlsgated never forks into the\n"
		"                      background (systemd's Type=notify supervises it)\n"
		"  --check-config      check policy and content as tlsgatectl policy check\n"
		"                      does (every error), and the policy's ports against\n"
		"                      tlsgate-setup's, then exit: 0 valid, 1 not\n"
		"  -v, --verbose       debug messages\n"
		"  --version           print the version and exit\n");
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "content", required_argument, NULL, 'c' },
		{ "queue-num", required_argument, NULL, 'n' },
		{ "queues", required_argument, NULL, 'q' },
		{ "setup-state", required_argument, NULL, 'S' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "ca-dir", required_argument, NULL, 'a' },
		{ "trust", required_argument, NULL, 't' },
		{ "proxy-workers", required_argument, NULL, 'w' },
		{ "proxy-user", required_argument, NULL, 'u' },
		{ "keylog", required_argument, NULL, 'K' },
		{ "control", required_argument, NULL, 'C' },
		{ "control-group", required_argument, NULL, 'G' },
		{ "metrics-listen", required_argument, NULL, 'M' },
		{ "log", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->policy = "/etc/tlsgate/policy.json";
	o->content = "/usr/share/tlsgate/content";
	o->state_dir = "/var/lib/tlsgate";
	o->ca_dir = "/var/lib/tlsgate/ca";
	o->trust = "/etc/ssl/certs/ca-certificates.crt";
	o->proxy_user = "nobody";
	{
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o->proxy_workers = n < 1		   ? 1
				   : n > PROXY_MAX_WORKERS ? PROXY_MAX_WORKERS
							   : (unsigned)n;
	}
	o->control = "/run/tlsgate/control";
	o->log_path = "-";
	o->queues = 1;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->policy = optarg;
			break;
		case 'c':
			o->content = optarg;
			break;
		case 'n':
			if (parse_uint(optarg, 65535, &o->queue_num) == -1)
				fatalx("--queue-num: expected 0..65535, got \"%s\"", optarg);
			o->queue_num_set = true;
			break;
		case 'S':
			o->setup_state = optarg;
			break;
		case 'q':
			if (parse_uint(optarg, TLSGATED_MAX_QUEUES, &o->queues) == -1 ||
			    o->queues == 0)
				fatalx("--queues: expected 1..%d, got \"%s\"", TLSGATED_MAX_QUEUES,
				       optarg);
			o->queues_set = true;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'a':
			o->ca_dir = optarg;
			break;
		case 't':
			o->trust = optarg;
			break;
		case 'w':
			if (parse_uint(optarg, PROXY_MAX_WORKERS, &o->proxy_workers) == -1 ||
			    o->proxy_workers == 0)
				fatalx("--proxy-workers: expected 1..%d, got \"%s\"",
				       PROXY_MAX_WORKERS, optarg);
			break;
		case 'u':
			o->proxy_user = optarg;
			break;
		case 'K':
			o->keylog = optarg;
			break;
		case 'C':
			o->control = optarg;
			break;
		case 'G':
			o->control_group = optarg;
			break;
		case 'M': {
			struct sockaddr_storage sa;
			socklen_t salen;
			const char *why;

			if (metrics_http_addr_parse(optarg, &sa, &salen, &why) == -1)
				fatalx("--metrics-listen %s: %s", optarg, why);
			o->metrics_listen = optarg;
			break;
		}
		case 'l':
			o->log_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'k':
			o->check_config = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("tlsgated %s\n", TG_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (o->queue_num + o->queues > 65536)
		fatalx("--queue-num + --queues exceeds the last queue number 65535");
}

/*
 * Free retired policies once every queue thread has finished an iteration after the swap
 * (their heartbeat, stamped when an iteration's work is done, passed @swap_ms): no thread can
 * still hold one. Threads wake at least
 * every TLSGATED_TICK_MS, so this waits about that long; after 2 s it gives up and tries again
 * at the next reload or stop.
 */
static void reclaim(struct decider *d, const struct qthread *qs, unsigned n, uint64_t swap_ms)
{
	uint64_t deadline = swap_ms + 2000;
	struct timespec ts = { 0, 10 * 1000000 };
	unsigned i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (__atomic_load_n(&qs[i].heartbeat_ms, __ATOMIC_ACQUIRE) <= swap_ms)
				break;
		if (i == n) {
			decider_reclaim(d);
			return;
		}
		if (mono_ms() > deadline) {
			log_warnx("queue %u: busy, old policy kept until the next reload",
				  qs[i].num);
			return;
		}
		nanosleep(&ts, NULL);
	}
}

/* ctlsrv's quiesce: retired policies are freed once every queue thread moved on. */
struct quiesce_ctx {
	struct decider *d;
	const struct qthread *qs;
	unsigned n;
};

static void quiesce(void *arg, uint64_t swap_ms)
{
	const struct quiesce_ctx *q = arg;

	reclaim(q->d, q->qs, q->n, swap_ms);
}

/*
 * The policy at start: a pushed one in the state directory wins over --policy (the log says
 * which); one that no longer loads (a content package that changed) gives way to --policy.
 */
static struct decider *policy_start(const struct opts *o, struct pstore *ps)
{
	struct decider *d = NULL;
	const char *path;
	uint8_t *buf = NULL;
	size_t len;
	bool pushed;
	char err[512];

	if (pstore_source(ps, &buf, &len, &path, &pushed, err, sizeof(err)) == 0)
		d = decider_load_buf(buf, len, path, o->content, err, sizeof(err));
	if (d == NULL && pushed) {
		log_warnx("pushed policy %s not loaded (%s): using --policy %s", path, err,
			  o->policy);
		free(buf);
		buf = NULL;
		pushed = false;
		path = o->policy;
		if (load_file(path, TG_CAP_POLICY_BYTES, &buf, &len, err, sizeof(err)) == 0)
			d = decider_load_buf(buf, len, path, o->content, err, sizeof(err));
	}
	if (d == NULL) {
		log_warnx("%s", err);
		free(buf);
		return NULL;
	}
	if (pushed)
		log_info("policy: the pushed policy %s (it wins over --policy %s)", path,
			 o->policy);
	else
		log_info("policy: %s", path);
	if (pstore_set_current(ps, buf, len, path, pushed) == -1)
		fatalx("out of memory");
	free(buf);
	return d;
}

/* Children that exited: the proxy's workers (started again) and its CA process. */
static void reap(struct proxy *proxy)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (proxy == NULL || !proxy_child_exited(proxy, pid, st))
			log_warnx("child %d exited (status %d)", (int)pid, st);
}

/* WATCHDOG=1 only while every queue thread has looped recently. */
static void watchdog(const struct qthread *qs, unsigned n, uint64_t usec)
{
	uint64_t now = mono_ms(), limit = usec / 1000;
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t hb = __atomic_load_n(&qs[i].heartbeat_ms, __ATOMIC_ACQUIRE);

		/* A thread may have stamped a later clock than ours: that is progress. */
		if (hb < now && now - hb > limit) {
			log_warnx("queue %u: no progress for %" PRIu64 " ms", qs[i].num, now - hb);
			return;
		}
	}
	notify_send("WATCHDOG=1");
}

/* The capabilities the threads use once started (scripts/tlsgated.service says why). */
static const struct {
	unsigned cap;
	const char *name;
} privs_keep[] = {
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" }, /* TCP_REPAIR, IP_TRANSPARENT, SO_MARK, queue config */
	{ CAP_NET_RAW, "CAP_NET_RAW" }, /* RSTs, DNS answers, block pages */
	{ CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE" }, /* adopted sockets bind 443 and 80 */
};

#define PRIVS_NKEEP	 (sizeof(privs_keep) / sizeof(privs_keep[0]))
#define PRIVS_CAP_MAX	 64 /* capability numbers fit two 32-bit words (version 3) */
#define PRIVS_NAMES_SIZE 128

/*
 * Drop every capability but privs_keep from the effective, permitted, inheritable, ambient
 * and bounding sets, and set no_new_privs. Capabilities are per thread: this runs before any
 * thread starts, and the threads inherit the result. A missing needed capability is fatal; a
 * failed drop is a warning (the daemon keeps more than it needs, as before). Core dumps stay
 * possible: lowering capabilities does not clear the dumpable flag.
 */
static void privs_drop(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	char names[PRIVS_NAMES_SIZE];
	uint64_t keep = 0, have;
	unsigned cap, bset_failed = 0;
	size_t i, off = 0;

	names[0] = '\0';
	for (i = 0; i < PRIVS_NKEEP; i++) {
		keep |= 1ull << privs_keep[i].cap;
		if (off < sizeof(names))
			off += (size_t)snprintf(names + off, sizeof(names) - off, " %s",
						privs_keep[i].name);
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1) {
		log_warn("capget: capabilities not dropped");
		return;
	}
	have = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	for (i = 0; i < PRIVS_NKEEP; i++)
		if (!(have & 1ull << privs_keep[i].cap))
			fatalx("%s missing: connections cannot be adopted", privs_keep[i].name);
	/* The bounding set first: dropping from it takes CAP_SETPCAP, which capset removes. */
	for (cap = 0; cap < PRIVS_CAP_MAX && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (!(keep & 1ull << cap) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			bset_failed++;
	if (bset_failed)
		log_warnx("%u capabilities left in the bounding set (no CAP_SETPCAP)", bset_failed);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		log_warn("ambient capabilities not cleared");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_warn("no_new_privs not set");
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].effective = data[i].permitted = (uint32_t)(keep >> (32 * i));
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) == -1) {
		log_warn("capset: capabilities not dropped");
		return;
	}
	log_info("capabilities: kept%s, dropped the rest", names);
}

/*
 * What tlsgate-setup installed (datapath.h): the marks and queues come from it, and the
 * policy's ports must match it (now and on every reload). Without a state file the compiled
 * defaults are used and nothing can be checked: say so.
 */
static void datapath_setup(struct opts *o, struct decider *d, struct datapath *dp)
{
	const char *path = o->setup_state;
	char buf[256], err[1024];
	int r;

	memset(dp, 0, sizeof(*dp));
	tg_marks_default(&dp->marks);
	if (path == NULL || path[0] == '\0')
		path = getenv("TLSGATE_SETUP_STATE");
	if (path == NULL || path[0] == '\0') {
		if (datapath_default_path(buf, sizeof(buf)) == -1)
			fatal("the network namespace's inode");
		path = buf;
	}
	r = datapath_read(path, dp, err, sizeof(err));
	if (r == -1)
		fatalx("tlsgate-setup's state: %s", err);
	if (r == 1 && o->check_config) {
		/* A check before any setup: the policy alone was checked, as policy check does. */
		log_debug("no tlsgate-setup state at %s: ports not checked", path);
		return;
	}
	if (r == 1) {
		log_warnx("no tlsgate-setup state at %s: were the rules installed with "
			  "tlsgate-setup up in this network namespace? Queues, ports and marks "
			  "are not checked against them (built-in marks, queues %u..%u)",
			  path, o->queue_num, o->queue_num + o->queues - 1);
		return;
	}
	if (rulecheck_local(&dp->marks) == 0) {
		/*
		 * The state file outlived its rules: a namespace deleted without `down`, whose
		 * inode this one got, or rules removed by hand. Nothing it says is in force.
		 */
		log_warnx(
			"tlsgate-setup's state %s is stale: its ip rule (fwmark 0x%x lookup %u "
			"pref %u) is not in this network namespace; run tlsgate-setup up. Queues, "
			"ports and marks are not checked (built-in marks, queues %u..%u)",
			path, dp->marks.local, dp->marks.route_table, dp->marks.rule_pref,
			o->queue_num, o->queue_num + o->queues - 1);
		memset(dp, 0, sizeof(*dp));
		tg_marks_default(&dp->marks);
		return;
	}
	if ((o->queue_num_set && o->queue_num != dp->queue_num) ||
	    (o->queues_set && o->queues != dp->queues))
		fatalx("tlsgated would listen on queues %u..%u but tlsgate-setup queues to %u..%u "
		       "(%s): give both the same TLSGATE_QUEUE_NUM and TLSGATE_QUEUES, or leave "
		       "--queue-num and --queues out (tlsgated then takes the setup's)",
		       o->queue_num, o->queue_num + o->queues - 1, dp->queue_num,
		       dp->queue_num + dp->queues - 1, path);
	if (dp->queues > TLSGATED_MAX_QUEUES)
		fatalx("tlsgate-setup queues to %u queues; tlsgated runs at most %d", dp->queues,
		       TLSGATED_MAX_QUEUES);
	o->queue_num = dp->queue_num;
	o->queues = dp->queues;
	if (decider_datapath(d, dp, err, sizeof(err)) == -1)
		fatalx("policy %s: %s", o->policy, err);
	log_info("datapath from %s: queues %u..%u, marks pass 0x%x block 0x%x adopt 0x%x", path,
		 o->queue_num, o->queue_num + o->queues - 1, dp->marks.pass, dp->marks.block,
		 dp->marks.adopt);
}

/*
 * A queue that has seen no packet TLSGATED_SILENT_QUEUE_MS after the start: the rules queue
 * elsewhere or are not up (tlsgate-setup status says). Said once per queue.
 */
static void silent_queues(struct qthread *qs, unsigned n, uint64_t start_ms, uint64_t now_ms)
{
	struct queue_stats st;
	unsigned i;

	if (now_ms - start_ms < TLSGATED_SILENT_QUEUE_MS)
		return;
	for (i = 0; i < n; i++) {
		if (qs[i].silent_said)
			continue;
		queue_stats_get(qs[i].q, &st);
		if (st.received != 0) {
			qs[i].silent_said = true;
			continue;
		}
		log_warnx("queue %u has received no packet in %u s: are tlsgate's rules up, and "
			  "queueing to it (tlsgate-setup status)?",
			  qs[i].num, TLSGATED_SILENT_QUEUE_MS / 1000);
		qs[i].silent_said = true;
	}
}

int main(int argc, char **argv)
{
	static struct datapath dp; /* read by the decider on every reload */
	struct opts o;
	struct decider *d = NULL;
	struct proxy *proxy = NULL;
	struct qthread qs[TLSGATED_MAX_QUEUES];
	struct engine_cfg ecfg;
	struct evlog *log = NULL;
	char err[512];
	sigset_t mask;
	int sfd = -1, wfd = -1, hfd = -1, epfd = -1, rc = 1;
	struct pstore *ps = NULL;
	struct ctlsrv *srv = NULL;
	struct control *ctl = NULL;
	struct metrics_http *met = NULL;
	struct quiesce_ctx qc;
	struct engine *engines[TLSGATED_MAX_QUEUES];
	struct queue *queues[TLSGATED_MAX_QUEUES];
	unsigned qnums[TLSGATED_MAX_QUEUES];
	uint64_t wd_usec = 0, start_ms = mono_ms();
	unsigned i, opened = 0, started = 0;

	/* The other roles of this binary (proxy.h): nothing of the daemon's runs in them. */
	if (argc > 1 && strcmp(argv[1], CA_PROC_ARG) == 0) {
		log_init("tlsgate-ca", 0);
		return ca_proc_exec_main(argc, argv);
	}
	if (argc == 4 && strcmp(argv[1], "--proxy-worker") == 0 &&
	    strcmp(argv[2], "--trust") == 0) {
		log_init("tlsgate-proxy", 0);
		return proxy_worker_main(
			argv[3], fcntl(PROXY_FD_KEYLOG, F_GETFD) != -1 ? PROXY_FD_KEYLOG : -1);
	}
	memset(&o, 0, sizeof(o));
	memset(qs, 0, sizeof(qs));
	log_init("tlsgated", 0);
	parse_opts(argc, argv, &o);
	log_init("tlsgated", o.verbose);

	/* Every error and warning, and the verdict on stdout, as tlsgatectl policy check; then
	 * the policy's ports against what tlsgate-setup queues (datapath_setup dies on a
	 * mismatch, saying what differs). */
	if (o.check_config) {
		int rc_check = load_check("tlsgated", o.policy, o.content, stdout);

		if (rc_check != 0)
			return rc_check;
		d = decider_load(o.policy, o.content, err, sizeof(err));
		if (d == NULL) {
			log_warnx("%s", err);
			return 1;
		}
		datapath_setup(&o, d, &dp);
		decider_free(d);
		return 0;
	}
	ps = pstore_new(o.state_dir, o.policy, err, sizeof(err));
	if (ps == NULL)
		fatalx("%s", err);
	if (pstore_mkdir(ps, err, sizeof(err)) == -1)
		log_warnx("%s: pushed policies cannot be kept", err);
	d = policy_start(&o, ps);
	if (d == NULL) {
		pstore_free(ps);
		return 1;
	}
	datapath_setup(&o, d, &dp);
	log = evlog_open(o.log_path, err, sizeof(err));
	if (log == NULL)
		fatalx("%s", err);

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	/* Blocked before any thread starts, so every thread inherits the mask. */
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
		fatal("sigmask");
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd == -1 || epfd == -1)
		fatal("signalfd/epoll");

	memset(&ecfg, 0, sizeof(ecfg));
	ecfg.decider = d;
	ecfg.log = log;
	ecfg.marks = dp.marks;
	ecfg.raw4 = adopt_raw_open(4, dp.marks.rst);
	ecfg.raw6 = adopt_raw_open(6, dp.marks.rst);
	if (ecfg.raw4 == -1 || ecfg.raw6 == -1)
		fatal("raw socket (needs CAP_NET_RAW)");
	{
		struct proxy_cfg pc = { o.ca_dir, o.trust, o.keylog, o.proxy_user,
					o.proxy_workers };

		/* Before any thread starts: it forks the CA process and the workers. */
		proxy = proxy_new(&pc, err, sizeof(err));
		if (proxy == NULL)
			log_warnx("no decryption: %s; decrypt decisions fail "
				  "(settings.fail.cert_mint_failure)",
				  err);
		else
			log_info("proxy: %u workers as %s, CA %s, upstreams verified against %s",
				 o.proxy_workers, o.proxy_user, o.ca_dir, o.trust);
	}
	ecfg.proxy = proxy;
	ecfg.names = names_new();
	if (ecfg.names == NULL)
		fatal("names");

	for (i = 0; i < o.queues; i++) {
		qs[i].num = o.queue_num + i;
		if (qthread_open(&qs[i], &ecfg) == -1) {
			qthread_stop(&qs[i]);
			goto out;
		}
		opened++;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = sfd };

		if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) == -1)
			fatal("epoll_ctl");
		/* Housekeeping: expire bypass and exclusion entries once a second. */
		hfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (hfd == -1 || timer_arm(hfd, 1000) == -1)
			fatal("housekeeping timer");
		ev.data.fd = hfd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, hfd, &ev) == -1)
			fatal("epoll_ctl");
		for (i = 0; i < opened; i++) {
			engines[i] = qs[i].eng;
			queues[i] = qs[i].q;
			qnums[i] = qs[i].num;
		}
		qc.d = d;
		qc.qs = qs;
		qc.n = opened;
		{
			const struct ctlsrv_cfg scfg = {
				.d = d,
				.proxy = proxy,
				.ps = ps,
				.content = o.content,
				.nq = opened,
				.queue_nums = qnums,
				.engines = engines,
				.queues = queues,
				.quiesce = quiesce,
				.quiesce_arg = &qc,
				.log = log,
			};

			srv = ctlsrv_new(&scfg);
			if (srv == NULL)
				fatal("control");
		}
		/* The control socket is a convenience: without it the datapath still runs. */
		ctl = control_new(o.control, o.control_group, ctlsrv_handle, srv, err, sizeof(err));
		if (ctl == NULL) {
			log_warnx("control socket: %s", err);
		} else {
			ev.data.fd = control_pollfd(ctl);
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) == -1)
				fatal("epoll_ctl");
		}
		if (o.metrics_listen != NULL) {
			met = metrics_http_new(o.metrics_listen, ctlsrv_metrics_write, srv, err,
					       sizeof(err));
			if (met == NULL)
				fatalx("%s", err);
			ev.data.fd = metrics_http_pollfd(met);
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) == -1)
				fatal("epoll_ctl");
			log_info("metrics: http://%s/metrics", o.metrics_listen);
		}
		ctlsrv_set_servers(srv, ctl, met);
		if (proxy != NULL) {
			ev.data.fd = proxy_pollfd(proxy);
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) == -1)
				fatal("epoll_ctl");
		}
		wd_usec = notify_watchdog_usec();
		if (wd_usec) {
			wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
			if (wfd == -1 || timer_arm(wfd, (unsigned)(wd_usec / 2000)) == -1)
				fatal("watchdog timer");
			ev.data.fd = wfd;
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, wfd, &ev) == -1)
				fatal("epoll_ctl");
		}
	}
	/* Everything that needs privileges is open; the threads start with what remains. */
	privs_drop();
	for (i = 0; i < opened; i++) {
		if (qthread_run(&qs[i]) == -1)
			goto out;
		started++;
	}
	log_info("running: queues %u..%u, policy %s", o.queue_num, o.queue_num + o.queues - 1,
		 pstore_path(ps));
	notify_send("READY=1");

	while (running) {
		struct epoll_event ev;
		int n = epoll_wait(epfd, &ev, 1, -1);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		if (n == 0)
			continue;
		if (ctl != NULL && ev.data.fd == control_pollfd(ctl)) {
			control_dispatch(ctl);
			continue;
		}
		if (met != NULL && ev.data.fd == metrics_http_pollfd(met)) {
			metrics_http_dispatch(met);
			continue;
		}
		if (ev.data.fd == hfd) {
			uint64_t exp;

			(void)!read(hfd, &exp, sizeof(exp));
			decider_expire(d, mono_ms());
			evlog_tick(log, mono_ms());
			silent_queues(qs, opened, start_ms, mono_ms());
			if (proxy != NULL)
				proxy_tick(proxy, mono_ms());
			continue;
		}
		if (proxy != NULL && ev.data.fd == proxy_pollfd(proxy)) {
			proxy_dispatch(proxy, d, log, mono_ms());
			continue;
		}
		if (ev.data.fd == wfd) {
			uint64_t exp;

			(void)!read(wfd, &exp, sizeof(exp));
			watchdog(qs, started, wd_usec);
			continue;
		}
		for (;;) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				break;
			if (si.ssi_signo == SIGHUP) {
				(void)ctlsrv_reload(srv, "sighup", err, sizeof(err));
			} else if (si.ssi_signo == SIGCHLD) {
				reap(proxy);
			} else if (si.ssi_signo == SIGUSR1) {
				(void)ctlsrv_log_reopen(srv, err, sizeof(err));
			} else {
				log_info("signal %u: stopping", si.ssi_signo);
				__atomic_store_n(&running, false, __ATOMIC_RELEASE);
			}
		}
	}
	notify_send("STOPPING=1");
	rc = 0;
out:
	__atomic_store_n(&running, false, __ATOMIC_RELEASE);
	for (i = 0; i < started; i++)
		pthread_join(qs[i].thread, NULL);
	for (i = 0; i < opened; i++)
		qthread_stop(&qs[i]);
	proxy_free(proxy);
	names_free(ecfg.names);
	decider_free(d);
	if (ecfg.raw4 > 0)
		close(ecfg.raw4);
	if (ecfg.raw6 > 0)
		close(ecfg.raw6);
	if (wfd != -1)
		close(wfd);
	if (hfd != -1)
		close(hfd);
	control_free(ctl);
	metrics_http_free(met);
	ctlsrv_free(srv);
	pstore_free(ps);
	if (sfd != -1)
		close(sfd);
	if (epfd != -1)
		close(epfd);
	evlog_free(log);
	return rc;
}
