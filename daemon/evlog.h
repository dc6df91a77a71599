/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evlog.h - tlsgated's event log: where the lines event.c writes go (a file that can be
 * reopened after rotation, stdout, or syslog), and what may go there: a budget per client
 * address (caps.h EVLOG_*: lines past it are counted and summed up in one "suppressed" line)
 * and one line per QUIC attempt. Every line is written whole with one write(), so lines from
 * several threads never interleave.
 *
 * Threads: evlog_admit(), evlog_put() and evlog_stats() from any thread; evlog_reopen() and
 * evlog_tick() from the main thread.
 */
#ifndef TLSGATE_EVLOG_H
#define TLSGATE_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evlog;

/* What a line is, for its budget. */
enum evlog_class {
	EVLOG_DECISION, /* a flow's decision */
	EVLOG_SECURITY, /* a block, an alert rule, a learned bypass: the larger budget */
};

/*
 * The counters (tlsgatectl stats "log"): lines written; over a source's budget, of which
 * security events; "suppressed" lines written; QUIC retransmissions not logged again; lines
 * lost to a failed or short write(), or to no memory; reopens; sources forgotten for a new one
 * (their count summed up first).
 */
#define EVLOG_COUNTERS(X)      \
	X(lines)               \
	X(suppressed)          \
	X(suppressed_security) \
	X(summaries)           \
	X(repeats)             \
	X(write_errors)        \
	X(nomem)               \
	X(reopened)            \
	X(evicted)

struct evlog_stats {
#define EVLOG_CTR_FIELD(n) uint64_t n;
	EVLOG_COUNTERS(EVLOG_CTR_FIELD)
#undef EVLOG_CTR_FIELD
};

/*
 * evlog_open() - @spec "-" (stdout), "syslog" (the daemon facility, priority info) or a file
 * path, opened for appending (created 0640 under the umask). NULL with a reason in @err.
 */
struct evlog *evlog_open(const char *spec, char *err, size_t errlen);
/* evlog_new_fd() - a log writing to @fd (not closed by evlog_free); NULL: out of memory. */
struct evlog *evlog_new_fd(int fd);
void evlog_free(struct evlog *l);

/*
 * evlog_reopen() - open the file's path again and put the new file in place of the old one
 * atomically (dup2: a thread writing at that moment writes whole to one of them). 0; 1 when
 * the log is no file (stdout, syslog: nothing to do); -1 with the reason in @err, and the old
 * file is kept.
 */
int evlog_reopen(struct evlog *l, char *err, size_t errlen);

/* The key flow ids are made with (event.h ev_flow_id). */
const uint8_t *evlog_key(const struct evlog *l);

/*
 * evlog_admit() - may a line of class @c about client @addr (@family 4 or 6) be written at
 * @now_ms (monotonic)? Takes it from the source's budget; false when over it (counted for the
 * source's summary). With @repeat_id not 0 (a QUIC attempt's flow id), a line with the same id
 * within EVLOG_REPEAT_MS is a repeat: false, counted, and no budget is taken.
 */
bool evlog_admit(struct evlog *l, uint8_t family, const uint8_t *addr, enum evlog_class c,
		 uint64_t repeat_id, uint64_t now_ms);
/* evlog_put() - write one whole line (with its newline). */
void evlog_put(struct evlog *l, const char *line, size_t len);
/* A line could not be formatted (no memory): counted. */
void evlog_lost(struct evlog *l);

/* Main thread, about once a second: the summaries of sources whose suppression ended. */
void evlog_tick(struct evlog *l, uint64_t now_ms);
void evlog_stats(struct evlog *l, struct evlog_stats *out);

#endif
