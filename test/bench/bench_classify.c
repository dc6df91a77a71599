/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_classify.c - decisions per second on one core with the default policy, the shipped
 * content package plus a synthetic 1M-domain category database, and 100k live dynamic bypass
 * entries; then the compile time and memory of a 5M-domain category database.
 *
 * Usage: bench_classify [SRC_DIR]   (SRC_DIR holds policy/; default $TG_SRC or ".")
 * Prints numbers, asserts nothing. Build without sanitizers for real figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsgate/bypass.h"
#include "tlsgate/catdb.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/policy.h"

static const uint8_t key[16] = "bench-classify!!";
static const char *const tlds[] = { "com", "net", "org", "de", "io", "co.uk", "fr", "info" };
static const char *const cats[] = {
	"news",	   "finance",		"health",	  "technology", "shopping",
	"malware", "social-networking", "streaming-media"
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * 4;
}

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	uint8_t *b;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Synthetic domain @i: 2-4 labels, mixed TLDs. */
static int domain(char *out, size_t cap, unsigned i)
{
	unsigned h = i * 2654435761u;

	switch (h % 3) {
	case 0:
		return snprintf(out, cap, "site%u.%s", i, tlds[h % 8]);
	case 1:
		return snprintf(out, cap, "www.shop%u.%s", i, tlds[(h >> 8) % 8]);
	default:
		return snprintf(out, cap, "cdn.a%u.media%u.%s", i % 977, i, tlds[(h >> 16) % 8]);
	}
}

/* A categories.tsv with @n synthetic domains (header included), malloc'd. */
static char *make_tsv(unsigned n, size_t *len)
{
	size_t cap = (size_t)n * 64 + 64, off = 0;
	char *t = malloc(cap);
	unsigned i;

	if (t == NULL)
		return NULL;
	off += (size_t)snprintf(t, cap, "#tlsgate-categories 1\n");
	for (i = 0; i < n; i++) {
		char d[128];
		unsigned h = i * 2246822519u;

		domain(d, sizeof(d), i);
		off += (size_t)snprintf(t + off, cap - off, "%s%s\t%s\t%u\n", (h & 1) ? "." : "", d,
					cats[(h >> 4) % 8], 1 + (h >> 12) % 4);
	}
	*len = off;
	return t;
}

int main(int argc, char **argv)
{
	static const char *const files[] = TG_CONTENT_FILE_NAMES;
	const char *src = argc > 1 ? argv[1] : (getenv("TG_SRC") ? getenv("TG_SRC") : ".");
	char dir[4096];
	struct tg_content_files cf;
	struct tg_span *spans[6] = { &cf.manifest, &cf.pinned, &cf.apps,
				     &cf.m365,	   &cf.doh,    &cf.categories };
	struct tg_content *content = NULL;
	struct tg_policy *policy = NULL;
	struct tg_bypass *bypass = NULL;
	struct tg_bypass_cfg bcfg;
	struct tg_bypass_report rep = { false, false, true };
	struct tg_diag *diag = calloc(1, sizeof(*diag));
	uint8_t *pol;
	size_t plen, i, tsv_len;
	char *tsv;
	double t0, t1;
	long r0, r1;
	enum { NQ = 4096 };
	static char qnames[NQ][128];
	struct tg_flow_facts facts[NQ];
	unsigned long decisions = 0, counts[TG_REASON__COUNT] = { 0 };

	memset(&cf, 0, sizeof(cf));
	snprintf(dir, sizeof(dir), "%s/policy/content", src);
	for (i = 0; i < 5; i++) {
		size_t n = 0;
		uint8_t *b = slurp(dir, files[i], &n);

		spans[i]->p = b;
		spans[i]->len = b ? n : 0;
	}
	/* 1M synthetic domains plus the shipped sample. */
	tsv = make_tsv(1000000, &tsv_len);
	cf.categories.p = (const uint8_t *)tsv;
	cf.categories.len = tsv_len;
	r0 = rss_kb();
	t0 = now_s();
	tg_diag_init(diag);
	if (tg_content_load(&cf, key, diag, &content) != TG_OK) {
		fprintf(stderr, "content did not load: %s\n", diag->n ? diag->msg[0].text : "?");
		return 1;
	}
	t1 = now_s();
	r1 = rss_kb();
	printf("content with 1M-domain category database: %.2f s, RSS +%ld MiB\n", t1 - t0,
	       (r1 - r0) / 1024);
	free(tsv);
	snprintf(dir, sizeof(dir), "%s/policy", src);
	pol = slurp(dir, "default.json", &plen);
	if (pol == NULL || tg_policy_load(pol, plen, content, key, diag, &policy) != TG_OK) {
		fprintf(stderr, "default policy did not load\n");
		return 1;
	}
	/* 100k live bypass entries: 1000 clients x 100 hosts, two rejections each. */
	tg_bypass_cfg_default(&bcfg);
	bcfg.failures = 2;
	bcfg.total_max = 131072;
	bcfg.per_user_max = 128;
	bcfg.ca_missing_hosts = 0;
	if (tg_bypass_new(&bcfg, key, &bypass) != TG_OK) {
		fprintf(stderr, "bypass table did not build\n");
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < 100000; i++) {
		struct tg_principal who;
		uint8_t a[4] = { 10, 1, (uint8_t)(i / 100 >> 8), (uint8_t)(i / 100) };
		char host[64];
		int n = snprintf(host, sizeof(host), "pinned%zu.example.net", i % 100);

		tg_bypass_principal_addr4(&who, a);
		tg_bypass_reject(bypass, &who, (const uint8_t *)host, (size_t)n, &rep, 1000);
		tg_bypass_reject(bypass, &who, (const uint8_t *)host, (size_t)n, &rep, 1001);
	}
	printf("100k bypass entries inserted in %.2f s\n", now_s() - t0);

	/* Queries: category hits, misses, pinned hosts, M365, bypassed hosts. */
	for (i = 0; i < NQ; i++) {
		struct tg_flow_facts *f = &facts[i];
		int n;

		switch (i % 5) {
		case 0:
		case 1:
			n = domain(qnames[i], sizeof(qnames[i]), (unsigned)(i * 7919 % 1000000));
			break;
		case 2:
			n = snprintf(qnames[i], sizeof(qnames[i]), "nowhere%zu.example.org", i);
			break;
		case 3:
			n = snprintf(qnames[i], sizeof(qnames[i]), "%s",
				     (i & 8) ? "a.push.apple.com" : "outlook.office365.com");
			break;
		default:
			n = snprintf(qnames[i], sizeof(qnames[i]), "pinned%zu.example.net",
				     i % 100);
			break;
		}
		memset(f, 0, sizeof(*f));
		f->kind = TG_FLOW_TLS;
		f->family = 4;
		f->src[0] = 10, f->src[1] = 1, f->src[2] = 0, f->src[3] = (uint8_t)(i % 200);
		f->dst[0] = 93, f->dst[1] = 184, f->dst[2] = 216, f->dst[3] = 34;
		f->sport = (uint16_t)(40000 + i);
		f->dport = 443;
		f->sni.p = (const uint8_t *)qnames[i];
		f->sni.len = (size_t)n;
	}
	t0 = now_s();
	do {
		for (i = 0; i < NQ; i++) {
			struct tg_decision d;

			if (tg_classify(policy, content, bypass, &facts[i], 2000, &d) != TG_OK)
				return 1;
			counts[d.reason]++;
		}
		decisions += NQ;
		t1 = now_s();
	} while (t1 - t0 < (getenv("BENCH_SECONDS") ? strtod(getenv("BENCH_SECONDS"), NULL) : 3.0));
	printf("decisions: %lu in %.2f s = %.2f M decisions/s/core (%.0f ns each)\n", decisions,
	       t1 - t0, (double)decisions / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double)decisions);
	for (i = 0; i < TG_REASON__COUNT; i++)
		if (counts[i])
			printf("  %-18s %5.1f%%\n", tg_reason_text((enum tg_reason)i),
			       100.0 * (double)counts[i] / (double)decisions);
	tg_policy_free(policy);
	tg_content_free(content);
	tg_bypass_free(bypass);
	free(pol);
	for (i = 0; i < 5; i++)
		free((void *)(uintptr_t)spans[i]->p);

	/* 5M domains: compile time and memory of the category database alone. */
	if (getenv("BENCH_SKIP_5M"))
		return 0;
	tsv = make_tsv(5000000, &tsv_len);
	{
		struct tg_catdb *db = NULL;

		r0 = rss_kb();
		t0 = now_s();
		if (tg_catdb_parse((const uint8_t *)tsv, tsv_len, key, NULL, &db) != TG_OK)
			return 1;
		t1 = now_s();
		r1 = rss_kb();
		free(tsv);
		printf("5M-domain category database: parse+build %.2f s, %.1f MiB held "
		       "(%.1f bytes/domain), RSS after build +%ld MiB (includes the builder's "
		       "freed pages)\n",
		       t1 - t0, (double)tg_catdb_bytes(db) / 1048576.0,
		       (double)tg_catdb_bytes(db) / 5e6, (r1 - r0) / 1024);
		tg_catdb_free(db);
	}
	free(diag);
	return 0;
}
