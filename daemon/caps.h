/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * caps.h - every cap and timeout of the daemon side, in one place (the library's are in
 * lib/include/tlsgate/caps.h). Hitting a cap is counted; each comment says what happens then.
 */
#ifndef TLSGATE_DAEMON_CAPS_H
#define TLSGATE_DAEMON_CAPS_H

#include "tlsgate/caps.h"

/* tlsgated: queues and the kernel queue (tlsgated.c). */
#define TLSGATED_MAX_QUEUES   64
#define TLSGATED_QUEUE_MAXLEN 4096 /* kernel queue length per queue; beyond it: queue_full */
#define TLSGATED_TICK_MS      100
/* A queue with no packet this long after the start is reported once (the rules are not up?). */
#define TLSGATED_SILENT_QUEUE_MS 60000
/* Bytes of each queued packet copied to us: a first data segment's payload must fit. */
#define TLSGATED_COPY_LEN 0xffff
/*
 * Receive-buffer bytes one queued packet takes. No NFQA_CFG_F_GSO: the kernel segments GSO
 * packets before queueing them, so a packet is at most an MTU (1500 on Ethernet), not
 * TLSGATED_COPY_LEN; with the netlink and nfqueue attributes its skb falls in a 4 KiB
 * allocation, plus the sk_buff. The buffer holds a full queue of them.
 */
#define TLSGATED_QUEUE_PKT_BYTES 4608
#define TLSGATED_QUEUE_RCVBUF	 ((size_t)TLSGATED_QUEUE_MAXLEN * TLSGATED_QUEUE_PKT_BYTES)

/* The per-queue engine: flow table, holds, timeouts, the decision log (engine.c, flowtab.c). */
#define ENG_MAX_FLOWS 65536 /* flows tracked per queue */
#define ENG_MAX_FLOWS_PER_SOURCE \
	256 /* undecided flows of one client address: its SYNs beyond drop */
#define ENG_EVICT_SCAN	      64 /* oldest flows looked at for a handshake-only one to evict */
#define ENG_MAX_HELD	      2 /* packets held per flow: the segment completing the first bytes */
#define ENG_INCOMPLETE_MS     5000 /* first bytes not complete by then: incomplete_client_hello */
#define ENG_SYN_TIMEOUT_MS    5000 /* SYN seen, no SYN-ACK: forget the flow */
#define ENG_SYNACK_TIMEOUT_MS 30000 /* handshake seen, no data: forget the flow */
#define ENG_DECIDED_LINGER_MS 10000 /* decided flows kept to re-verdict late queued packets */
#define ENG_STREAM_IDLE_MS    60000 /* a kept HTTP/DNS flow with no request this long: reset */

/*
 * The event log (event.c, evlog.c). A line is never cut to fit: names are (EV_NAME_MAX). Lines
 * are budgeted per client address with two token buckets, one for decisions and a larger one
 * for security events (blocks, alert rules, learned bypasses), so that one client cannot
 * flood the log and its own blocks still get through a flood of its other lines. Lines past a
 * budget are counted (stats "log".suppressed) and summed up in one "suppressed" line per
 * source once it has been quiet for EVLOG_QUIET_MS, or every EVLOG_SUMMARY_MS while it is not.
 */
#define EV_NAME_MAX	   512 /* bytes of a name kept in a line, then "truncated": true */
#define EVLOG_SOURCES	   4096 /* client addresses with a budget; the least recent goes */
#define EVLOG_PROBE	   8 /* slots looked at per address */
#define EVLOG_RATE	   50 /* decision lines per second per client address... */
#define EVLOG_BURST	   1000 /* ...after a burst of this many */
#define EVLOG_ALERT_RATE   200 /* security lines per second per client address... */
#define EVLOG_ALERT_BURST  2000 /* ...after a burst of this many */
#define EVLOG_QUIET_MS	   2000 /* no line suppressed this long: the summary is written */
#define EVLOG_SUMMARY_MS   60000 /* a flood that goes on gets a summary this often */
#define EVLOG_REPEAT_SLOTS 4096 /* QUIC attempts remembered, so one attempt is one line */
#define EVLOG_REPEAT_MS	   30000 /* an Initial retransmitted within this is the same attempt */

/* Pending UDP DNS queries per engine, what answers are learned against (dnsq.c). */
/* 400 queries a second per queue for DNSQ_TTL_MS; about 1.3 MB per engine. */
#define DNSQ_ENTRIES 4096
#define DNSQ_PROBE   8
/* Stub resolvers time out after a few seconds (glibc: 5); later answers teach nothing. */
#define DNSQ_TTL_MS 10000

/* Learned address -> name pairs, shared by the queues (names.c). */
#define NAMES_ENTRIES 16384 /* pairs kept; a full probe window replaces its soonest to expire */
#define NAMES_PROBE   8 /* slots looked at per key */
/*
 * A record's TTL is honoured up to an hour. Addresses move between names (cloud and CDN
 * addresses are reassigned; a shared address serves many names), and a pair that outlives the
 * answer names flows wrongly for as long as it lives, while the client asks again anyway once
 * its own cache drops the record. A day-long TTL would also pin the first name for a day, since
 * a live pair is not overwritten.
 */
#define NAMES_TTL_MAX_S 3600

/*
 * The decrypting proxy (proxy.c in tlsgated, proxy_worker.c in each worker). Admission is
 * counted in tlsgated from the hand-over to the worker's CLOSED report: past a cap the flow is
 * an adoption failure (settings.fail.adoption_failure) before anything is adopted.
 */
#define PROXY_MAX_WORKERS	   16
#define PROXY_MAX_CONNS		   4096 /* intercepted connections, all clients */
#define PROXY_MAX_PER_CLIENT	   256 /* intercepted connections of one client address */
#define PROXY_WORKER_MAX_CONNS	   PROXY_MAX_CONNS /* a worker refuses more (PROXY_INTERNAL) */
#define PROXY_RESTART_MS	   1000 /* a worker that died is started again after this... */
#define PROXY_RESTART_MAX_MS	   60000 /* ...doubled, up to this, while it dies young */
#define PROXY_YOUNG_MS		   10000 /* a worker that dies sooner after its start died young */
#define PROXY_TRUST_MAX		   (16 << 20) /* bytes of the --trust bundle */
#define PROXY_EXIT_WAIT_MS	   2000 /* at stop, for each child to exit; then a warning */
#define PROXY_CH_MAX		   32768 /* client bytes read before its ClientHello completes */
#define PROXY_DIR_BUF		   16384 /* relay buffer per direction, held only while full */
#define PROXY_HANDSHAKE_TIMEOUT_MS 15000 /* ClientHello, upstream connect + TLS, client TLS */
#define PROXY_IDLE_TIMEOUT_MS	   300000 /* no byte either way: both sides reset */
#define PROXY_HALFCLOSE_TIMEOUT_MS 30000 /* one side ended, nothing from the other */
#define PROXY_SWEEP_MS		   250 /* timeouts and the pinning detector's window */
#define PROXY_MINT_TIMEOUT_MS	   2000 /* the CA process's answer; then mint-failed */
#define PROXY_LEAF_CACHE	   10000 /* forged leaves per worker (LRU) */
#define PROXY_VERIFY_CACHE	   1024 /* verified upstream chains per worker (direct-mapped) */
#define PROXY_UPSTREAM_SESSIONS	   256 /* upstream TLS sessions kept for resumption */
#define PROXY_SESSION_CACHE	   10000 /* client-leg sessions (session ids) per worker */
#define PROXY_TICKET_LIFETIME_S	   3600 /* session ticket key rotation */

/*
 * The control socket (control.c, ctlsrv.c) and the metrics listener (metrics.c), both served
 * by connset.c from the main loop. Past each cap the client is refused and counted (tlsgatectl
 * status shows the control counters; the metrics have their own).
 */
#define CONNSET_SWEEP_MS    100 /* timeouts are looked at this often while clients wait */
#define CONTROL_MAX_CLIENTS 16 /* connected at once; one more is told "busy" and closed */
#define CONTROL_TIMEOUT_MS  3000 /* from connect to the reply's last byte; then closed */
#define CONTROL_LINE_MAX    1024 /* the command line, its newline included */
#define CONTROL_WORDS_MAX   16 /* words in a command line */
#define CONTROL_BODY_MAX    TG_CAP_POLICY_BYTES /* a pushed policy; nothing else is longer */
#define CONTROL_EXPLAIN_MAX 4096 /* an explain request's arguments */
#define CONTROL_REPLY_MAX   (64u << 20) /* the largest reply tlsgatectl reads */
#define METRICS_MAX_CLIENTS 8
#define METRICS_TIMEOUT_MS  3000
#define METRICS_REQUEST_MAX 4096 /* an HTTP request head */
#define PROXY_PROGRESS_MS   1000 /* a worker's byte counts and cache sizes, this often */

/*
 * The CA and forged leaves (ca.c, mint.c, ca_proc.c, leafcache.c). A mint request is bounded by
 * these caps on both sides: the worker never builds a larger one and the CA process refuses
 * one that exceeds any of them (an error response, counted as a bad request).
 */
#define CA_DAYS_DEFAULT	 3650 /* `ca init` validity: a CA is installed on clients once */
#define CA_DAYS_MAX	 36500
#define CA_CN_MAX	 64 /* X.520 ub-common-name; `ca init --cn` longer is refused */
#define CA_FILE_MAX	 16384 /* bytes read of ca.crt or ca.key; a larger file is refused */
#define MINT_MAX_SANS	 64 /* DNS names per leaf; past it: the SNI's, then the first */
#define MINT_MAX_IP_SANS 16 /* IP addresses per leaf; more upstream addresses are dropped */
#define MINT_NAME_MAX	 253 /* one DNS name; a longer upstream name is dropped */
#define MINT_CN_MAX	 64 /* subject CN; a longer or non-host upstream CN is left empty */
#define MINT_SPKI_MAX	 128 /* the leaf key's SubjectPublicKeyInfo (P-256: 91 bytes) */
/* A request: header, key, CN, names, each with a length byte. */
#define MINT_REQ_MAX                                               \
	(1 + 8 + 8 + 8 + 1 + MINT_SPKI_MAX + 1 + MINT_CN_MAX + 1 + \
	 MINT_MAX_SANS * (1 + MINT_NAME_MAX) + 1 + MINT_MAX_IP_SANS * (1 + 16))
#define MINT_LEAF_MAX 20480 /* a signed leaf's DER: with every cap reached it is about 17.5 KiB */
#define MINT_RESP_MAX (1 + 8 + 1 + 2 + MINT_LEAF_MAX)
/*
 * A leaf lives at most this long, whatever the upstream's validity: 825 days is what Apple
 * platforms accept from a user-installed root. The signer clips to it, then to the CA's own.
 */
#define MINT_VALIDITY_MAX_S (825 * 86400LL)

/* The CA process (ca_proc.c): signed leaves by request digest, so a repeat is signed once. */
#define CA_PROC_MAX_SOCKS     64 /* one socket per proxy worker */
#define CA_PROC_CACHE_ENTRIES 16384 /* leaves kept; the least recently used goes first */
#define CA_PROC_CACHE_BYTES   (32u << 20) /* DER bytes kept; beyond, the least recent go */

/*
 * A worker's forged leaves (leafcache.c), by upstream certificate and SNI. Only entries no
 * connection holds are evicted; when the LEAFCACHE_EVICT_SCAN oldest are all held, the new leaf
 * is handed out uncached (counted) and freed with its last holder.
 */
#define LEAFCACHE_ENTRIES    16384 /* the default max_entries */
#define LEAFCACHE_BYTES	     (32u << 20) /* DER bytes kept per worker */
#define LEAFCACHE_EVICT_SCAN 64
#define LEAFCACHE_TIMEOUT_MS 2000 /* a mint answer later than this: the connection fails */

/* tlsgatectl inspect: flows tracked in one capture (ctl_inspect.c). */
#define CTL_INSPECT_MAX_FLOWS (1u << 20)

#endif
