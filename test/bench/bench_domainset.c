/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_domainset.c - domain-set and CIDR-set numbers: build time, bytes per entry (as the set
 * counts them and as the process RSS sees them), lookups per second and ns per lookup for
 * names in the set, names below a pattern, and misses; LPM lookups with 1M prefixes.
 *
 * Usage: bench_domainset [N...]   (default: 1000000 5000000 domain entries)
 * Synthetic names: 2-4 labels (sld.tld, sub.sld.tld, sub.sub.sld.tld), 40 TLDs with a skew
 * towards com/net/org, second-level labels of 4-14 random characters; kinds 60% ".x", 25% "x",
 * 15% "*.x". Queries are drawn at random so nearly every probe misses the CPU caches.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tlsgate/cidr.h"
#include "tlsgate/domainset.h"

#define NQ 2000000

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

/*
 * Time in seconds: wall clock and this thread's CPU time. The build machine may be shared; the
 * CPU time (which still includes cache-miss stalls) is the number to compare across runs.
 */
struct stamp {
	double wall, cpu;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct stamp now(void)
{
	struct stamp t = { clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_THREAD_CPUTIME_ID) };

	return t;
}

static struct stamp since(struct stamp t0)
{
	struct stamp t = now();

	t.wall -= t0.wall;
	t.cpu -= t0.cpu;
	return t;
}

/* Resident set size in bytes (from /proc/self/statm), and the peak (VmHWM). */
static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static size_t peak_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtoull(line + 6, NULL, 10);
	fclose(f);
	return kb * 1024;
}

/* A flat store of names: offsets into one buffer. */
struct names {
	char *buf;
	size_t *off;
	size_t n, used, cap;
};

static void names_init(struct names *s, size_t n)
{
	s->cap = n * 40 + 1024;
	s->buf = malloc(s->cap);
	s->off = malloc((n + 1) * sizeof(*s->off));
	s->n = 0;
	s->used = 0;
	if (s->buf == NULL || s->off == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
}

static void names_push(struct names *s, const char *p, size_t len)
{
	if (s->used + len + 1 > s->cap) {
		s->cap *= 2;
		s->buf = realloc(s->buf, s->cap);
		if (s->buf == NULL)
			exit(1);
	}
	memcpy(s->buf + s->used, p, len);
	s->buf[s->used + len] = '\0';
	s->off[s->n++] = s->used;
	s->used += len + 1;
}

static void names_free(struct names *s)
{
	free(s->buf);
	free(s->off);
}

static size_t label(char *p, size_t minl, size_t maxl)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = minl + rnd() % (maxl - minl + 1), i;

	for (i = 0; i < n; i++)
		p[i] = alpha[rnd() % (i == 0 ? 26 : 36)];
	return n;
}

static size_t gen_name(char *out)
{
	static const char *const tlds[] = {
		"com", "com",	 "com", "com",	  "com",   "com", "com",  "com", "net", "net",
		"org", "org",	 "de",	"uk",	  "co.uk", "ru",  "jp",	  "fr",	 "it",	"nl",
		"br",  "com.br", "au",	"com.au", "in",	   "io",  "info", "xyz", "top", "pl",
		"es",  "cn",	 "ca",	"ch",	  "se",	   "eu",  "us",	  "tv",	 "me",	"online",
	};
	static const char *const subs[] = { "www",    "api", "cdn",   "m",   "mail",
					    "static", "img", "login", "app", "edge" };
	size_t n = 0;
	unsigned depth = (unsigned)(rnd() % 10), i, extra;
	const char *t;

	extra = depth < 5 ? 0 : depth < 8 ? 1 : 2; /* 50% 2 labels, 30% 3, 20% 4 */
	for (i = 0; i < extra; i++) {
		if (rnd() % 3) {
			const char *s = subs[rnd() % 10];

			memcpy(out + n, s, strlen(s));
			n += strlen(s);
		} else {
			n += label(out + n, 1, 10);
		}
		out[n++] = '.';
	}
	n += label(out + n, 4, 14);
	out[n++] = '.';
	t = tlds[rnd() % (sizeof(tlds) / sizeof(tlds[0]))];
	memcpy(out + n, t, strlen(t));
	n += strlen(t);
	out[n] = '\0';
	return n;
}

static struct stamp run_queries(const struct tg_dset *s, const struct names *q, size_t *hits)
{
	struct stamp t0 = now();
	size_t i, h = 0;

	for (i = 0; i < q->n; i++) {
		const char *p = q->buf + q->off[i];
		uint32_t v;

		h += tg_dset_lookup(s, p, strlen(p), &v, NULL, NULL);
	}
	*hits = h;
	return since(t0);
}

static void report(const char *what, struct stamp t, size_t n, size_t hits)
{
	printf("  %-30s cpu %6.1f ns/lookup = %6.2f M/s | wall %6.1f ns/lookup  (%.1f%% hit)\n",
	       what, t.cpu / n * 1e9, n / t.cpu / 1e6, t.wall / n * 1e9, 100.0 * hits / n);
}

static void bench_dset(size_t n)
{
	static const uint8_t key[16] = { 0x5e, 0xc2, 0xe7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct names ent, qhit, qsub, qmiss;
	struct tg_dset_builder *b;
	struct tg_dset *s;
	size_t i, rss0, rss1, hits;
	struct stamp t0, t_add, t_build, t;
	char buf[300];

	if (n == 0)
		return;
	names_init(&ent, n);
	for (i = 0; i < n; i++)
		names_push(&ent, buf, gen_name(buf));
	names_init(&qhit, NQ);
	names_init(&qsub, NQ);
	names_init(&qmiss, NQ);
	for (i = 0; i < NQ; i++) {
		const char *e = ent.buf + ent.off[rnd() % n];
		size_t l;

		names_push(&qhit, e, strlen(e));
		l = label(buf, 1, 8);
		buf[l++] = '.';
		memcpy(buf + l, e, strlen(e) + 1);
		names_push(&qsub, buf, strlen(buf));
		names_push(&qmiss, buf, gen_name(buf));
	}

	rss0 = rss_bytes();
	t0 = now();
	b = tg_dset_builder_new();
	for (i = 0; i < n; i++) {
		const char *p = ent.buf + ent.off[i];
		unsigned k = (unsigned)(rnd() % 20);
		enum tg_dset_kind kind = k < 12	  ? TG_DSET_DOMAIN_AND_SUBS
					 : k < 17 ? TG_DSET_EXACT
						  : TG_DSET_SUBDOMAINS;

		if (tg_dset_builder_add(b, p, strlen(p), kind, (uint32_t)i) != TG_OK) {
			fprintf(stderr, "add failed: %s\n", p);
			exit(1);
		}
	}
	t_add = since(t0);
	t0 = now();
	s = tg_dset_build(b, key);
	t_build = since(t0);
	rss1 = rss_bytes();
	if (s == NULL) {
		fprintf(stderr, "build failed\n");
		exit(1);
	}
	printf("domain set, %zu entries added (%zu distinct, %zu duplicates)\n", n,
	       tg_dset_count(s), tg_dset_duplicates(s));
	printf("  builder add %.2f s, build %.2f s, total %.2f s cpu (wall %.2f s)\n", t_add.cpu,
	       t_build.cpu, t_add.cpu + t_build.cpu, t_add.wall + t_build.wall);
	printf("  tg_dset_bytes %.1f MB = %.2f bytes/entry; RSS delta %.1f MB = %.2f bytes/entry;"
	       " peak RSS so far %.1f MB\n",
	       tg_dset_bytes(s) / 1e6, (double)tg_dset_bytes(s) / tg_dset_count(s),
	       ((double)rss1 - (double)rss0) / 1e6,
	       ((double)rss1 - (double)rss0) / tg_dset_count(s), peak_rss_bytes() / 1e6);

	t = run_queries(s, &qhit, &hits);
	report("names in the set", t, qhit.n, hits);
	t = run_queries(s, &qsub, &hits);
	report("one label below an entry", t, qsub.n, hits);
	t = run_queries(s, &qmiss, &hits);
	report("random names (misses)", t, qmiss.n, hits);
	tg_dset_free(s);
	names_free(&ent);
	names_free(&qhit);
	names_free(&qsub);
	names_free(&qmiss);
}

/* BGP-like lengths: mostly /24, then /22-/23, /16-/21, a few shorter. */
static uint8_t bgp_len4(void)
{
	unsigned r = (unsigned)(rnd() % 100);

	if (r < 58)
		return 24;
	if (r < 75)
		return (uint8_t)(22 + rnd() % 2);
	if (r < 99 || rnd() % 10)
		return (uint8_t)(16 + rnd() % 6);
	return (uint8_t)(8 + rnd() % 8); /* 0.1% */
}

static void bench_cidr(size_t n4, size_t n6)
{
	struct tg_cidrset_builder *b = tg_cidrset_builder_new();
	struct tg_cidrset *s;
	uint8_t(*q)[16] = malloc((size_t)NQ * 16);
	size_t i, hits = 0, rss0, rss1;
	struct stamp t0, t_add, t_build;

	rss0 = rss_bytes();
	t0 = now();
	for (i = 0; i < n4 + n6; i++) {
		struct tg_cidr c;
		unsigned k;

		memset(&c, 0, sizeof(c));
		if (i < n4) {
			uint32_t a = (uint32_t)rnd();

			c.family = 4;
			c.plen = bgp_len4();
			a &= c.plen ? ~0u << (32 - c.plen) : 0;
			c.addr[0] = (uint8_t)(a >> 24);
			c.addr[1] = (uint8_t)(a >> 16);
			c.addr[2] = (uint8_t)(a >> 8);
			c.addr[3] = (uint8_t)a;
		} else {
			c.family = 6;
			c.addr[0] = 0x20;
			c.addr[1] = (uint8_t)(rnd() % 16);
			for (k = 2; k < 8; k++)
				c.addr[k] = (uint8_t)rnd();
			c.plen = (uint8_t)(rnd() % 2 ? 48 : 29 + rnd() % 36);
			for (k = c.plen; k < 128; k++)
				c.addr[k / 8] &= (uint8_t) ~(0x80u >> (k % 8));
		}
		if (tg_cidrset_builder_add(b, &c, (uint32_t)i) != TG_OK) {
			fprintf(stderr, "cidr add failed\n");
			exit(1);
		}
	}
	t_add = since(t0);
	t0 = now();
	s = tg_cidrset_build(b);
	t_build = since(t0);
	rss1 = rss_bytes();
	if (s == NULL || q == NULL)
		exit(1);
	printf("cidr set, %zu IPv4 + %zu IPv6 prefixes (%zu distinct)\n", n4, n6,
	       tg_cidrset_count(s));
	printf("  builder add %.2f s, build %.2f s cpu (wall %.2f s); tg_cidrset_bytes %.1f MB ="
	       " %.2f bytes/prefix; RSS delta %.1f MB\n",
	       t_add.cpu, t_build.cpu, t_add.wall + t_build.wall, tg_cidrset_bytes(s) / 1e6,
	       (double)tg_cidrset_bytes(s) / tg_cidrset_count(s),
	       ((double)rss1 - (double)rss0) / 1e6);
	for (i = 0; i < NQ; i++) {
		uint64_t r = rnd();

		memset(q[i], 0, 16);
		memcpy(q[i], &r, 8);
	}
	t0 = now();
	for (i = 0; i < NQ; i++)
		hits += tg_cidrset_lookup(s, 4, q[i], NULL, NULL);
	report("IPv4 random addresses", since(t0), NQ, hits);
	for (i = 0; i < NQ; i++) {
		uint64_t r = rnd();

		q[i][0] = 0x20;
		q[i][1] = (uint8_t)(r % 16);
		memcpy(q[i] + 2, &r, 8);
	}
	hits = 0;
	t0 = now();
	for (i = 0; i < NQ; i++)
		hits += tg_cidrset_lookup(s, 6, q[i], NULL, NULL);
	report("IPv6 random in 2000::/12", since(t0), NQ, hits);
	tg_cidrset_free(s);
	free(q);
}

int main(int argc, char **argv)
{
	int i;

	/*
	 * A fixed mmap threshold: big blocks (the tables, the builder's 1 MiB chunks) go back to
	 * the system when freed, so RSS deltas show what a set keeps, not heap left by a builder.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			bench_dset(strtoull(argv[i], NULL, 10));
	} else {
		bench_dset(1000); /* cache-resident: the cost of hashing and probing alone */
		bench_dset(1000000);
		bench_dset(5000000);
	}
	bench_cidr(1000000, 0);
	bench_cidr(1000000, 200000);
	return 0;
}
