/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_bypass.c - the dynamic bypass table under load: inserts/s (rejections that go live, into
 * an empty table and into a full one where each insert evicts), lookups/s with 100k live
 * entries from 1 thread, from 2 threads, and from 2 threads while a writer thread keeps
 * inserting (each insert evicting). Prints numbers; asserts nothing. Per-operation costs are
 * measured in thread CPU time, so that they mean something on a shared machine; throughput with
 * threads is wall time.
 * Usage: bench_bypass [entries (100000)] [lookups per thread (4000000)]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsgate/bypass.h"

struct key {
	struct tg_principal p;
	uint8_t sni[40];
	size_t len;
};

static const struct tg_bypass_report OK_REP = { false, false, true };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread: the cost of the work even on a shared, loaded machine. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss * 4;
}

/* Key i: user "user<i/10>" (10 names each), SNI "host<i>.cdn<i%97>.example". */
static void key_make(struct key *k, unsigned i)
{
	char u[32];
	int n;

	n = snprintf(u, sizeof(u), "user%u", i / 10);
	if (tg_bypass_principal_user(&k->p, (const uint8_t *)u, (size_t)n) != TG_OK)
		abort();
	n = snprintf((char *)k->sni, sizeof(k->sni), "host%u.cdn%u.example", i, i % 97);
	k->len = (size_t)n;
}

struct reader {
	const struct tg_bypass *t;
	const struct key *keys;
	unsigned nkeys, n;
	uint64_t seed;
	unsigned hits;
	double secs, cpu;
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	uint64_t x = r->seed | 1;
	unsigned i, hits = 0;
	double t0 = now_s(), c0 = cpu_s();

	for (i = 0; i < r->n; i++) {
		const struct key *k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = &r->keys[x % r->nkeys];
		hits += tg_bypass_lookup(r->t, &k->p, k->sni, k->len, 1000, NULL);
	}
	r->secs = now_s() - t0;
	r->cpu = cpu_s() - c0;
	r->hits = hits;
	return NULL;
}

struct writer {
	struct tg_bypass *t;
	struct key *spare;
	unsigned nspare;
	atomic_int stop;
	unsigned done;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;
	unsigned i = 0;

	while (!atomic_load(&w->stop)) {
		struct key *k = &w->spare[i % w->nspare];

		/* Make the key new each round so every reject inserts (and evicts). */
		k->sni[0] = (uint8_t)('a' + (i / w->nspare) % 26);
		(void)tg_bypass_reject(w->t, &k->p, k->sni, k->len, &OK_REP, 1000);
		i++;
	}
	w->done = i;
	return NULL;
}

static void lookups(const struct tg_bypass *t, const struct key *keys, unsigned nkeys,
		    unsigned per_thread, int threads, struct writer *w)
{
	struct reader r[2];
	pthread_t th[2], wt;
	unsigned hits = 0, total = 0;
	double secs = 0, cpu = 0;
	int i;

	if (w != NULL) {
		atomic_store(&w->stop, 0);
		pthread_create(&wt, NULL, writer_run, w);
	}
	for (i = 0; i < threads; i++) {
		r[i] = (struct reader){ t, keys, nkeys, per_thread, 0x9e3779b97f4a7c15ull * (i + 1),
					0, 0,	 0 };
		pthread_create(&th[i], NULL, reader_run, &r[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		hits += r[i].hits;
		total += r[i].n;
		secs = r[i].secs > secs ? r[i].secs : secs;
		cpu += r[i].cpu;
	}
	if (w != NULL) {
		atomic_store(&w->stop, 1);
		pthread_join(wt, NULL);
	}
	printf("lookups, %d reader thread%s%s: %.2f M/s wall total, %.0f ns CPU each "
	       "(%.2f M/s per busy core), hit rate %.1f%%",
	       threads, threads > 1 ? "s" : "", w ? " + 1 writer" : "", total / secs / 1e6,
	       cpu / total * 1e9, total / cpu / 1e6, 100.0 * hits / total);
	if (w != NULL)
		printf(", writer %.2f M inserts/s meanwhile", w->done / secs / 1e6);
	printf("\n");
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	unsigned per = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 4000000;
	static const uint8_t hkey[16] = "bench-bypass-key";
	struct tg_bypass_cfg cfg;
	struct tg_bypass *t;
	struct key *keys, *spare;
	struct writer w;
	long rss0, rss1;
	double t0, secs;
	unsigned i, bad = 0;

	tg_bypass_cfg_default(&cfg);
	cfg.failures = 1;
	cfg.ttl_s = 86400;
	cfg.per_user_max = 16;
	cfg.total_max = n;
	cfg.ca_missing_hosts = 0;
	keys = calloc(n, sizeof(*keys));
	spare = calloc(n, sizeof(*spare));
	if (keys == NULL || spare == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		key_make(&keys[i], i);
		key_make(&spare[i], n + i);
	}
	rss0 = rss_kb();
	if (tg_bypass_new(&cfg, hkey, &t) != TG_OK)
		return 1;

	t0 = cpu_s();
	for (i = 0; i < n; i++)
		bad += tg_bypass_reject(t, &keys[i].p, keys[i].sni, keys[i].len, &OK_REP, 1000) !=
		       TG_BYPASS_LIVE;
	secs = cpu_s() - t0;
	rss1 = rss_kb();
	printf("bypass table, %u live entries (total_max %u, per_user_max %u): %ld KB resident "
	       "(%.0f B per entry)\n",
	       n, cfg.total_max, cfg.per_user_max, rss1 - rss0, (rss1 - rss0) * 1024.0 / n);
	printf("inserts into an empty table: %.2f M/s per core (CPU time; %u not live)\n",
	       n / secs / 1e6, bad);

	lookups(t, keys, n, per, 1, NULL);
	lookups(t, keys, n, per, 2, NULL);
	printf("(absent keys: the classifier's common case) ");
	lookups(t, spare, n, per, 1, NULL);
	w = (struct writer){ t, spare, n, 0, 0 };
	lookups(t, keys, n, per, 2, &w);

	/* Steady state: a full table, every insert evicts the least recent entry. */
	t0 = cpu_s();
	for (i = 0; i < n; i++) {
		spare[i].sni[0] = 'Z';
		(void)tg_bypass_reject(t, &spare[i].p, spare[i].sni, spare[i].len, &OK_REP, 2000);
	}
	secs = cpu_s() - t0;
	printf("inserts into a full table (each evicts): %.2f M/s per core\n", n / secs / 1e6);
	t0 = cpu_s();
	i = (unsigned)tg_bypass_expire(t, 1000ull + 86400000ull + 1000);
	secs = cpu_s() - t0;
	printf("expire of %u entries: %.1f ms CPU\n", i, secs * 1e3);
	tg_bypass_free(t);
	free(keys);
	free(spare);
	return 0;
}
