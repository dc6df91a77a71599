/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evlog.c - the event log's sink and budgets; see evlog.h.
 *
 * Budgets: a table of EVLOG_SOURCES client addresses (SipHash under a random key, a window of
 * EVLOG_PROBE slots; when the window is full its least recently used source is forgotten,
 * its suppressed count summed up first). Each source has two token buckets in thousandths of
 * a line. Repeats: a direct-mapped table of QUIC attempt ids and when they were logged. Both
 * tables are under one mutex, held for a lookup (and for the summary a forgotten source
 * gets); the lines themselves are written outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sys/random.h>

#include "tlsgate/cidr.h"
#include "tlsgate/siphash.h"

#include "caps.h"
#include "event.h"
#include "evlog.h"
#include "jsonw.h"

#define EVLOG_PATH_MAX 4096

struct evlog_src {
	uint8_t family; /* 0: free */
	uint8_t addr[16];
	uint32_t mtok[2]; /* tokens in thousandths, per enum evlog_class */
	uint64_t fill_ms[2]; /* when the bucket was last filled */
	uint64_t used_ms;
	uint64_t suppressed, suppressed_security; /* since the last summary */
	uint64_t first_ms, last_ms; /* of those */
};

struct evlog_repeat {
	uint64_t id;
	uint64_t until_ms;
};

struct evlog {
	int fd; /* -1: syslog */
	bool own_fd, file;
	char path[EVLOG_PATH_MAX];
	uint8_t key[16];
	pthread_mutex_t lock;
	struct evlog_src *src; /* EVLOG_SOURCES */
	struct evlog_repeat *rep; /* EVLOG_REPEAT_SLOTS */
	struct evlog_stats st; /* counters: atomic */
};

static const uint32_t evlog_rate[2] = { EVLOG_RATE, EVLOG_ALERT_RATE };
static const uint32_t evlog_burst[2] = { EVLOG_BURST, EVLOG_ALERT_BURST };

#define EVLOG_INC(l, name) __atomic_fetch_add(&(l)->st.name, 1, __ATOMIC_RELAXED)

static struct evlog *evlog_alloc(void)
{
	struct evlog *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->fd = -1;
	l->src = calloc(EVLOG_SOURCES, sizeof(*l->src));
	l->rep = calloc(EVLOG_REPEAT_SLOTS, sizeof(*l->rep));
	if (l->src == NULL || l->rep == NULL ||
	    getrandom(l->key, sizeof(l->key), 0) != (ssize_t)sizeof(l->key)) {
		free(l->src);
		free(l->rep);
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

struct evlog *evlog_new_fd(int fd)
{
	struct evlog *l = evlog_alloc();

	if (l != NULL)
		l->fd = fd;
	return l;
}

static int evlog_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

struct evlog *evlog_open(const char *spec, char *err, size_t errlen)
{
	struct evlog *l = NULL;
	int fd = -1;

	if (strlen(spec) >= EVLOG_PATH_MAX) {
		snprintf(err, errlen, "log %s: path too long", spec);
		return NULL;
	}
	if (strcmp(spec, "-") == 0) {
		fd = STDOUT_FILENO;
	} else if (strcmp(spec, "syslog") != 0) {
		fd = evlog_open_file(spec);
		if (fd == -1) {
			snprintf(err, errlen, "log %s: %s", spec, strerror(errno));
			return NULL;
		}
	}
	l = evlog_alloc();
	if (l == NULL) {
		snprintf(err, errlen, "log: out of memory");
		if (fd > STDERR_FILENO)
			close(fd);
		return NULL;
	}
	l->fd = fd;
	l->file = fd > STDERR_FILENO;
	l->own_fd = l->file;
	memcpy(l->path, spec, strlen(spec) + 1);
	if (fd == -1)
		openlog("tlsgated", LOG_PID, LOG_DAEMON);
	return l;
}

void evlog_free(struct evlog *l)
{
	if (l == NULL)
		return;
	if (l->own_fd)
		close(l->fd);
	if (l->fd == -1)
		closelog();
	pthread_mutex_destroy(&l->lock);
	free(l->src);
	free(l->rep);
	free(l);
}

int evlog_reopen(struct evlog *l, char *err, size_t errlen)
{
	int fd;

	if (!l->file)
		return 1;
	fd = evlog_open_file(l->path);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", l->path, strerror(errno));
		return -1;
	}
	/* In place: a queue thread holding the number writes to the old file or the new one. */
	if (dup3(fd, l->fd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "%s: %s", l->path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	EVLOG_INC(l, reopened);
	return 0;
}

const uint8_t *evlog_key(const struct evlog *l)
{
	return l->key;
}

void evlog_put(struct evlog *l, const char *line, size_t len)
{
	ssize_t n;

	if (len == 0)
		return;
	if (l->fd == -1) {
		/* syslog(3) adds its own line end. */
		syslog(LOG_INFO, "%.*s", (int)(line[len - 1] == '\n' ? len - 1 : len), line);
		EVLOG_INC(l, lines);
		return;
	}
	/* One write() per line: lines from several threads never interleave. */
	n = write(l->fd, line, len);
	if (n != (ssize_t)len) {
		EVLOG_INC(l, write_errors);
		return;
	}
	EVLOG_INC(l, lines);
}

void evlog_lost(struct evlog *l)
{
	EVLOG_INC(l, nomem);
}

/* Lock held. The "suppressed" line of @s, written and reset. */
static void evlog_summary(struct evlog *l, struct evlog_src *s, uint64_t now_ms)
{
	uint64_t wall = ev_now_ms();
	char *buf = NULL, a[64], t[EV_TIME_LEN];
	size_t len = 0;
	struct jw w;
	FILE *m;

	if (s->suppressed == 0)
		return;
	m = open_memstream(&buf, &len);
	if (m == NULL) {
		evlog_lost(l);
		return;
	}
	jw_init(&w, m);
	ev_write_head(&w, wall, "suppressed");
	tg_addr_format(s->family, s->addr, a, sizeof(a));
	jw_kv_str(&w, "src_ip", a);
	jw_kv_uint(&w, "count", s->suppressed);
	jw_kv_uint(&w, "security", s->suppressed_security);
	ev_time(wall - (now_ms - s->first_ms), t);
	jw_kv_str(&w, "first", t);
	ev_time(wall - (now_ms - s->last_ms), t);
	jw_kv_str(&w, "last", t);
	jw_obj_end(&w);
	jw_line_end(&w);
	if (fclose(m) != 0 || buf == NULL) {
		evlog_lost(l);
	} else {
		evlog_put(l, buf, len);
		EVLOG_INC(l, summaries);
	}
	free(buf);
	s->suppressed = 0;
	s->suppressed_security = 0;
}

/* Lock held. The budget of @addr, made (a full one) when new; NULL: no address. */
static struct evlog_src *evlog_source(struct evlog *l, uint8_t family, const uint8_t *addr,
				      uint64_t now_ms)
{
	size_t alen = family == 4 ? 4 : 16, i, victim = 0;
	uint8_t kbuf[17];
	uint64_t h;
	struct evlog_src *s;

	kbuf[0] = family;
	memcpy(kbuf + 1, addr, alen);
	h = tg_siphash24(l->key, kbuf, 1 + alen);
	for (i = 0; i < EVLOG_PROBE; i++) {
		size_t j = (h + i) & (EVLOG_SOURCES - 1);

		s = &l->src[j];
		if (s->family == family && memcmp(s->addr, addr, alen) == 0)
			return s;
		if (s->family == 0)
			break;
		if (i == 0 || s->used_ms < l->src[victim].used_ms)
			victim = j;
	}
	if (i == EVLOG_PROBE) {
		s = &l->src[victim];
		evlog_summary(l, s, now_ms);
		EVLOG_INC(l, evicted);
	}
	memset(s, 0, sizeof(*s));
	s->family = family;
	memcpy(s->addr, addr, alen);
	for (i = 0; i < 2; i++) {
		s->mtok[i] = evlog_burst[i] * 1000;
		s->fill_ms[i] = now_ms;
	}
	return s;
}

/* Lock held. One line from bucket @c of @s, refilled for the time since it last was. */
static bool evlog_take(struct evlog_src *s, enum evlog_class c, uint64_t now_ms)
{
	uint64_t t = s->mtok[c];

	if (now_ms > s->fill_ms[c]) {
		t += (now_ms - s->fill_ms[c]) * evlog_rate[c];
		s->fill_ms[c] = now_ms;
	}
	if (t > (uint64_t)evlog_burst[c] * 1000)
		t = (uint64_t)evlog_burst[c] * 1000;
	if (t < 1000) {
		s->mtok[c] = (uint32_t)t;
		return false;
	}
	s->mtok[c] = (uint32_t)(t - 1000);
	return true;
}

/* Lock held. True when @id was logged within EVLOG_REPEAT_MS; else remembers it now. */
static bool evlog_repeat(struct evlog *l, uint64_t id, uint64_t now_ms)
{
	struct evlog_repeat *r = &l->rep[id & (EVLOG_REPEAT_SLOTS - 1)];

	if (r->id == id && now_ms < r->until_ms)
		return true;
	r->id = id;
	r->until_ms = now_ms + EVLOG_REPEAT_MS;
	return false;
}

bool evlog_admit(struct evlog *l, uint8_t family, const uint8_t *addr, enum evlog_class c,
		 uint64_t repeat_id, uint64_t now_ms)
{
	struct evlog_src *s;
	bool ok;

	if (family != 4 && family != 6)
		return true;
	pthread_mutex_lock(&l->lock);
	if (repeat_id != 0 && evlog_repeat(l, repeat_id, now_ms)) {
		pthread_mutex_unlock(&l->lock);
		EVLOG_INC(l, repeats);
		return false;
	}
	s = evlog_source(l, family, addr, now_ms);
	s->used_ms = now_ms;
	ok = evlog_take(s, c, now_ms);
	if (!ok) {
		if (s->suppressed == 0)
			s->first_ms = now_ms;
		s->last_ms = now_ms;
		s->suppressed++;
		if (c == EVLOG_SECURITY)
			s->suppressed_security++;
	}
	pthread_mutex_unlock(&l->lock);
	if (!ok) {
		EVLOG_INC(l, suppressed);
		if (c == EVLOG_SECURITY)
			EVLOG_INC(l, suppressed_security);
	}
	return ok;
}

void evlog_tick(struct evlog *l, uint64_t now_ms)
{
	size_t i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < EVLOG_SOURCES; i++) {
		struct evlog_src *s = &l->src[i];

		if (s->family == 0 || s->suppressed == 0)
			continue;
		if (now_ms - s->last_ms >= EVLOG_QUIET_MS ||
		    now_ms - s->first_ms >= EVLOG_SUMMARY_MS)
			evlog_summary(l, s, now_ms);
	}
	pthread_mutex_unlock(&l->lock);
}

void evlog_stats(struct evlog *l, struct evlog_stats *out)
{
#define EVLOG_CTR_LOAD(n) out->n = __atomic_load_n(&l->st.n, __ATOMIC_RELAXED);
	EVLOG_COUNTERS(EVLOG_CTR_LOAD)
#undef EVLOG_CTR_LOAD
}
