/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_clienthello.c - ClientHellos parsed and JA4-fingerprinted per second on one core.
 *
 * usage: bench_clienthello [DIR] [SECONDS]
 * Loads every *.bin of DIR (default: test/data/clienthello under $TG_SRC or the cwd), then
 * reports, for each file and for the real captures taken round-robin (files not named
 * derived_*), the rate of tg_tls_ch_parse() alone, with tg_ja4(), and with tg_ja4_memo_get()
 * (which after the first round finds every part in its memo, as on a network where a few client
 * stacks send most hellos). Prints numbers only; asserts nothing beyond each input parsing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsgate/ja4.h"
#include "tlsgate/tls_ch.h"

#define MAX_FILES 64

struct input {
	char name[256];
	uint8_t *p;
	size_t len;
	bool derived;
};

static struct input inputs[MAX_FILES];
static size_t n_inputs;
static uint8_t scratch[TG_CAP_CH_BYTES];
static struct tg_ch ch;
static volatile unsigned sink;

/*
 * CPU time of this thread, not wall time: the rate per core-second stays meaningful when other
 * work shares the machine.
 */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int load(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL && n_inputs < MAX_FILES) {
		struct input *in = &inputs[n_inputs];
		size_t nl = strlen(de->d_name);
		char path[4096];
		FILE *f;
		long n;

		if (nl < 5 || strcmp(de->d_name + nl - 4, ".bin") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) <= 0 ||
		    fseek(f, 0, SEEK_SET) == -1 || (in->p = malloc((size_t)n)) == NULL ||
		    fread(in->p, 1, (size_t)n, f) != (size_t)n) {
			fclose(f);
			continue;
		}
		fclose(f);
		in->len = (size_t)n;
		snprintf(in->name, sizeof(in->name), "%s", de->d_name);
		in->derived = strncmp(de->d_name, "derived_", 8) == 0;
		n_inputs++;
	}
	closedir(d);
	return 0;
}

enum mode { PARSE, PARSE_JA4, PARSE_JA4_MEMO };

static struct tg_ja4_memo *memo;

/* One parse (+ JA4) of @in; exits on failure so a broken input cannot flatter the numbers. */
static void one(const struct input *in, enum mode mode)
{
	char out[TG_JA4_LEN + 1] = "";
	enum tg_err err = TG_OK;

	if (tg_tls_ch_parse(&ch, in->p, in->len, scratch) != TG_OK) {
		fprintf(stderr, "%s: does not parse\n", in->name);
		exit(1);
	}
	if (mode == PARSE_JA4)
		err = tg_ja4(&ch, 't', out);
	else if (mode == PARSE_JA4_MEMO)
		err = tg_ja4_memo_get(memo, &ch, 't', out);
	if (err != TG_OK) {
		fprintf(stderr, "%s: no JA4\n", in->name);
		exit(1);
	}
	sink += (unsigned)out[20] + (unsigned)ch.n_exts;
}

/* Rate over the inputs selected by @sel (round-robin) for about @secs seconds. */
static double rate(int sel, enum mode mode, double secs)
{
	double t0 = now(), t;
	unsigned long n = 0;
	size_t i, k;

	do {
		for (k = 0; k < 1000; k++) {
			for (i = 0; i < n_inputs; i++) {
				if (sel >= 0 ? (size_t)sel != i : inputs[i].derived)
					continue;
				one(&inputs[i], mode);
				n++;
			}
		}
		t = now() - t0;
	} while (t < secs);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	const char *src = getenv("TG_SRC");
	char dir[4096];
	double secs = argc > 2 ? strtod(argv[2], NULL) : 1.0, full, parse, memod;
	size_t i;

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/test/data/clienthello", src ? src : ".");
	if (load(dir) == -1 || n_inputs == 0) {
		fprintf(stderr, "no *.bin ClientHello in %s\n", dir);
		return 1;
	}
	memo = tg_ja4_memo_new();
	if (memo == NULL)
		return 1;
	printf("%-28s %6s %13s %13s %13s\n", "input", "bytes", "parse only/s", "+JA4/s",
	       "+JA4 memo/s");
	for (i = 0; i < n_inputs; i++) {
		parse = rate((int)i, PARSE, secs / 6);
		full = rate((int)i, PARSE_JA4, secs / 6);
		memod = rate((int)i, PARSE_JA4_MEMO, secs / 6);
		printf("%-28s %6zu %13.0f %13.0f %13.0f\n", inputs[i].name, inputs[i].len, parse,
		       full, memod);
	}
	parse = rate(-1, PARSE, secs);
	full = rate(-1, PARSE_JA4, secs);
	memod = rate(-1, PARSE_JA4_MEMO, secs);
	printf("captured set, round-robin, derived_* excluded, one core:\n"
	       "  parsed:                              %10.0f ClientHellos/s\n"
	       "  parsed + JA4 (SHA-256 every time):   %10.0f ClientHellos/s\n"
	       "  parsed + JA4 through tg_ja4_memo:    %10.0f ClientHellos/s (repeat client "
	       "stacks)\n",
	       parse, full, memod);
	tg_ja4_memo_free(memo);
	for (i = 0; i < n_inputs; i++)
		free(inputs[i].p);
	return sink == 0xdeadbeef;
}
