/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_event.c - daemon/event.c (the event line every producer writes) and daemon/evlog.c (the
 * daemon's sink): the Community ID against the spec's published vectors, the timestamp, the
 * flow id, a whole line with a name past the cap, the per-source budgets and their summary
 * line, one line per QUIC attempt, and reopening a renamed file.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsgate/cidr.h"

#include "caps.h"
#include "event.h"
#include "evlog.h"
#include "jsonw.h"
#include "tg_test.h"

static void addr(const char *s, uint8_t out[16])
{
	uint8_t fam;

	memset(out, 0, 16);
	if (tg_addr_parse(s, strlen(s), &fam, out) != TG_OK)
		abort();
}

static void check_cid(const char *a, uint16_t ap, const char *b, uint16_t bp, uint8_t proto,
		      const char *want)
{
	uint8_t x[16], y[16];
	char cid[EV_CID_LEN];

	addr(a, x);
	addr(b, y);
	ev_community_id(strchr(a, ':') ? 6 : 4, proto, x, ap, y, bp, cid);
	CHECK_MEM(cid, strlen(cid), want);
	/* Either direction: the same id. */
	ev_community_id(strchr(a, ':') ? 6 : 4, proto, y, bp, x, ap, cid);
	CHECK_MEM(cid, strlen(cid), want);
}

/* Vectors of the spec's baseline (community-id-spec baseline/baseline_deflt.json, seed 0). */
static void test_community_id(void)
{
	check_cid("128.232.110.120", 34855, "66.35.250.204", 80, 6,
		  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	check_cid("192.168.1.52", 54585, "8.8.8.8", 53, 17, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
	check_cid("2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25, 6,
		  "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
	/* Zeek's own test of its community_id_v1(). */
	check_cid("1.2.3.4", 1122, "5.6.7.8", 3344, 6, "1:wCb3OG7yAFWelaUydu0D+125CLM=");
	check_cid("1.2.3.4", 1122, "5.6.7.8", 3344, 17, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");
}

static void test_time_and_id(void)
{
	static const uint8_t key[16] = { 1, 2, 3 };
	uint8_t a[16], b[16];
	char t[EV_TIME_LEN];
	uint64_t id;

	ev_time(0, t);
	CHECK_MEM(t, strlen(t), "1970-01-01T00:00:00.000+0000");
	ev_time(1733392800123ull, t);
	CHECK_MEM(t, strlen(t), "2024-12-05T10:00:00.123+0000");
	ev_time(1733392800007ull, t);
	CHECK_MEM(t, strlen(t), "2024-12-05T10:00:00.007+0000");
	addr("192.0.2.2", a);
	addr("198.51.100.2", b);
	id = ev_flow_id(key, 4, 6, a, 40000, b, 443, 77);
	CHECK(id == ev_flow_id(key, 4, 6, b, 443, a, 40000, 77));
	CHECK(id != ev_flow_id(key, 4, 6, a, 40000, b, 443, 78));
	CHECK(id != ev_flow_id(key, 4, 17, a, 40000, b, 443, 77));
	CHECK((id & ~EV_FLOW_ID_MASK) == 0);
}

/* A whole line: every member in order, a name past EV_NAME_MAX cut and said so. */
static void test_line(void)
{
	uint8_t a[16], b[16];
	static char sni[EV_NAME_MAX + 100];
	struct tg_span alpn[2] = { { (const uint8_t *)"h2", 2 },
				   { (const uint8_t *)"http/1.1", 8 } };
	struct ev_flow fl;
	struct ev_ctx c;
	char *buf = NULL, want[2048];
	size_t len = 0;
	struct jw w;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		abort();
	memset(sni, 'a', sizeof(sni));
	addr("192.0.2.2", a);
	addr("198.51.100.2", b);
	memset(&fl, 0, sizeof(fl));
	fl.family = 4;
	fl.ipproto = 6;
	fl.src = a;
	fl.dst = b;
	fl.sport = 40000;
	fl.dport = 443;
	fl.flow_id = 42;
	fl.app_proto = "tls";
	fl.sni = (struct tg_span){ (const uint8_t *)sni, sizeof(sni) };
	fl.tls_version = 0x0304;
	fl.alpn = alpn;
	fl.n_alpn = 2;
	ev_ctx_none(&c);
	c.rule = "block-test";
	c.rule_list = TG_RULES_FILTERING;
	c.rule_index = 3;
	c.user = "alice";
	CHECK_MEM(ev_type(&fl, "block", &c), strlen(ev_type(&fl, "block", &c)), "alert");
	CHECK_MEM(ev_type(&fl, "pass", &c), 3, "tls");
	jw_init(&w, m);
	ev_write_head(&w, 1733392800123ull, ev_type(&fl, "block", &c));
	CHECK(ev_write_flow(&w, &fl));
	ev_write_ctx(&w, &c);
	ev_write_verdict(&w, "block", "filter-block");
	jw_obj_end(&w);
	jw_line_end(&w);
	fclose(m);
	snprintf(want, sizeof(want),
		 "{\"timestamp\":\"2024-12-05T10:00:00.123+0000\",\"event_type\":\"alert\","
		 "\"flow_id\":42,\"src_ip\":\"192.0.2.2\",\"src_port\":40000,"
		 "\"dest_ip\":\"198.51.100.2\",\"dest_port\":443,\"proto\":\"TCP\","
		 "\"community_id\":\"%s\",\"app_proto\":\"tls\",\"tls\":{\"sni\":\"%.*s\","
		 "\"version\":\"TLS 1.3\",\"alpn\":[\"h2\",\"http/1.1\"]},\"truncated\":true,"
		 "\"rule\":\"block-test\",\"rule_path\":\"filtering[3]\",\"user\":\"alice\","
		 "\"action\":\"block\",\"reason\":\"filter-block\"}\n",
		 "1:2tG5b+xXM9B0Q1Ti9nhGVxAfT5M=", EV_NAME_MAX, sni);
	/* The Community ID is checked against the vectors above; here its place in the line. */
	{
		char cid[EV_CID_LEN];
		char *at = strstr(want, "1:2tG5");

		ev_community_id(4, 6, a, 40000, b, 443, cid);
		memcpy(at, cid, strlen(cid));
	}
	CHECK_MEM(buf, len, want);
	free(buf);
}

/* Lines of a log over a pipe, read back. */
static size_t drain(int fd, char *out, size_t cap)
{
	ssize_t n = read(fd, out, cap - 1);

	out[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

static void test_budget(void)
{
	static char out[65536];
	uint8_t a[16], b[16];
	struct evlog_stats st;
	struct evlog *l;
	int p[2], ok = 0, i;

	if (pipe2(p, O_NONBLOCK) == -1)
		abort();
	l = evlog_new_fd(p[1]);
	addr("192.0.2.2", a);
	addr("192.0.2.3", b);
	for (i = 0; i < EVLOG_BURST + 10; i++)
		ok += evlog_admit(l, 4, a, EVLOG_DECISION, 0, 1000);
	CHECK_INT(ok, EVLOG_BURST);
	/* Another source has its own budget; the flooder's blocks their own larger one. */
	CHECK(evlog_admit(l, 4, b, EVLOG_DECISION, 0, 1000));
	CHECK(evlog_admit(l, 4, a, EVLOG_SECURITY, 0, 1000));
	/* A second refills EVLOG_RATE lines. */
	for (ok = 0, i = 0; i < EVLOG_RATE + 5; i++)
		ok += evlog_admit(l, 4, a, EVLOG_DECISION, 0, 2000);
	CHECK_INT(ok, EVLOG_RATE);
	evlog_stats(l, &st);
	CHECK_INT(st.suppressed, 15);
	/* Still suppressing: no summary yet; quiet for EVLOG_QUIET_MS: one, with the count. */
	evlog_tick(l, 2000 + EVLOG_QUIET_MS - 1);
	CHECK_INT(drain(p[0], out, sizeof(out)), 0);
	evlog_tick(l, 2000 + EVLOG_QUIET_MS);
	drain(p[0], out, sizeof(out));
	CHECK_INT(count(out, "\"event_type\":\"suppressed\""), 1);
	CHECK(strstr(out, "\"src_ip\":\"192.0.2.2\",\"count\":15,\"security\":0") != NULL);
	evlog_tick(l, 2000 + 2 * EVLOG_QUIET_MS);
	CHECK_INT(drain(p[0], out, sizeof(out)), 0);
	/* One line per QUIC attempt: its retransmissions are repeats, until the window ends. */
	CHECK(evlog_admit(l, 4, b, EVLOG_SECURITY, 99, 5000));
	CHECK(!evlog_admit(l, 4, b, EVLOG_SECURITY, 99, 5001));
	CHECK(!evlog_admit(l, 4, b, EVLOG_SECURITY, 99, 5000 + EVLOG_REPEAT_MS - 1));
	CHECK(evlog_admit(l, 4, b, EVLOG_SECURITY, 99, 5000 + EVLOG_REPEAT_MS));
	CHECK(evlog_admit(l, 4, b, EVLOG_SECURITY, 100, 5000 + EVLOG_REPEAT_MS));
	evlog_stats(l, &st);
	CHECK_INT(st.repeats, 2);
	CHECK_INT(st.summaries, 1);
	CHECK_INT(evlog_reopen(l, out, 64), 1);
	evlog_free(l);
	close(p[0]);
	close(p[1]);
}

/* A flood of more sources than the table holds: each forgotten one's count is summed up. */
static void test_evict(void)
{
	static char out[4 << 20];
	struct evlog_stats st;
	struct evlog *l;
	FILE *f = tmpfile();
	uint8_t a[16];
	size_t n;
	int i, j;

	if (f == NULL)
		abort();
	l = evlog_new_fd(fileno(f));
	memset(a, 0, sizeof(a));
	a[0] = 10;
	for (i = 0; i < EVLOG_SOURCES * 2; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		for (j = 0; j <= EVLOG_BURST; j++)
			(void)evlog_admit(l, 4, a, EVLOG_DECISION, 0, 1000);
	}
	evlog_stats(l, &st);
	CHECK_INT(st.suppressed, EVLOG_SOURCES * 2);
	CHECK(st.evicted > 0);
	evlog_tick(l, 1000 + EVLOG_QUIET_MS);
	evlog_stats(l, &st);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	/* Every suppressed line is in a summary: of an evicted source, or at the tick. */
	CHECK_INT(st.summaries, EVLOG_SOURCES * 2);
	CHECK_INT(st.write_errors, 0);
	CHECK_INT(count(out, "\"count\":1,"), EVLOG_SOURCES * 2);
	evlog_free(l);
	fclose(f);
}

static void test_reopen(void)
{
	char dir[] = "/tmp/tg_evlogXXXXXX", path[128], moved[128], gone[160], err[256];
	char buf[64];
	struct evlog *l, *bad;
	int fd;
	ssize_t n;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/decisions.json", dir);
	snprintf(moved, sizeof(moved), "%s/decisions.json.1", dir);
	l = evlog_open(path, err, sizeof(err));
	CHECK(l != NULL);
	if (l == NULL)
		return;
	evlog_put(l, "one\n", 4);
	CHECK(rename(path, moved) == 0);
	evlog_put(l, "two\n", 4); /* still the old file, as logrotate expects until the signal */
	CHECK_INT(evlog_reopen(l, err, sizeof(err)), 0);
	evlog_put(l, "three\n", 6);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	CHECK_MEM(buf, n > 0 ? (size_t)n : 0, "three\n");
	if (fd >= 0)
		close(fd);
	fd = open(moved, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	CHECK_MEM(buf, n > 0 ? (size_t)n : 0, "one\ntwo\n");
	if (fd >= 0)
		close(fd);
	/* The directory gone: refused with the reason, the open file kept. */
	CHECK(unlink(path) == 0 && unlink(moved) == 0 && rmdir(dir) == 0);
	CHECK_INT(evlog_reopen(l, err, sizeof(err)), -1);
	CHECK(strstr(err, "No such file") != NULL);
	evlog_free(l);
	snprintf(gone, sizeof(gone), "%s/x/y", dir);
	bad = evlog_open(gone, err, sizeof(err));
	CHECK(bad == NULL && strstr(err, gone) != NULL);
}

int main(void)
{
	test_community_id();
	test_time_and_id();
	test_line();
	test_budget();
	test_evict();
	test_reopen();
	return tg_test_done();
}
