/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_engine.c - the per-queue engine (daemon/engine*.c, flowtab.c, enforce.c, declog.c)
 * through its seam: packets built with the library go in through engine_packet(), the
 * verdicts and the RSTs come out through the fakes of fake_daemon.c, the decisions through the
 * decision log (a tmpfile). The decider is the end-to-end policy test/e2e/policy.json with the
 * real content package. Every case checks an observable verdict, counter or log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>

#include "tlsgate/pkt.h"
#include "tlsgate/pkt_build.h"

#include "decide.h"
#include "engine.h"
#include "evlog.h"
#include "fake_daemon.h"
#include "marks.h"
#include "names.h"
#include "tg_test.h"
#include "tls_ch_util.h"

#define T0	     1000000u /* the packets' clock, ms */
#define CLIENT_ISN   0x11110000u
#define SERVER_ISN   0x22220000u
#define SERVER_PORT  443
#define CLIENT_PORT  40000
#define MARK_VERDICT (TG_MARK_INSPECT | TG_MARK_PASS)
#define MARK_BLOCKED (TG_MARK_INSPECT | TG_MARK_BLOCK | TG_MARK_DROP)
#define MARK_ADOPTED (TG_MARK_INSPECT | TG_MARK_ADOPT)

static const uint8_t client_addr[16] = { 192, 0, 2, 2 }, other_addr[16] = { 192, 0, 2, 3 };
static const uint8_t server_addr[16] = { 198, 51, 100, 2 };

/* One engine with its log, fresh per case so counters are exact. */
struct rig {
	struct engine *e;
	FILE *log;
	struct evlog *ev;
	uint32_t next_id;
	char logtext[16384];
};

static const struct decider *decider;
static struct names *names;
static int proxy_dummy;

/* @with_proxy false: the daemon has no proxy (no CA). */
static bool rig_open_cfg(struct rig *r, bool with_proxy)
{
	struct engine_cfg cfg;

	memset(r, 0, sizeof(*r));
	fake_reset();
	r->log = tmpfile();
	if (r->log == NULL)
		return false;
	memset(&cfg, 0, sizeof(cfg));
	cfg.queue = 0;
	cfg.decider = decider;
	cfg.proxy = with_proxy ? (struct proxy *)&proxy_dummy : NULL; /* only the fakes see it */
	cfg.names = names;
	cfg.raw4 = -1;
	cfg.raw6 = -1;
	tg_marks_default(&cfg.marks);
	r->ev = evlog_new_fd(fileno(r->log));
	if (r->ev == NULL)
		return false;
	cfg.log = r->ev;
	r->e = engine_new(&cfg, NULL);
	r->next_id = 1;
	return r->e != NULL;
}

static bool rig_open(struct rig *r)
{
	return rig_open_cfg(r, true);
}

static void rig_close(struct rig *r)
{
	engine_free(r->e);
	r->e = NULL;
	evlog_free(r->ev);
	r->ev = NULL;
	if (r->log != NULL)
		fclose(r->log);
	r->log = NULL;
}

static struct eng_counters rig_counters(const struct rig *r)
{
	struct eng_counters c;

	memset(&c, 0, sizeof(c));
	engine_counters_add(r->e, &c);
	return c;
}

/* The decision log so far, as one string. */
static const char *rig_log(struct rig *r)
{
	size_t n;

	fflush(r->log);
	rewind(r->log);
	n = fread(r->logtext, 1, sizeof(r->logtext) - 1, r->log);
	r->logtext[n] = '\0';
	fseek(r->log, 0, SEEK_END);
	return r->logtext;
}

/* A TCP segment from @src:@sport to @dst:@dport into the engine at @now; returns its id. */
static uint32_t send_tcp(struct rig *r, const uint8_t *src, const uint8_t *dst, uint16_t sport,
			 uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
			 const uint8_t *payload, size_t len, uint64_t now)
{
	static uint8_t buf[4096];
	struct queue_pkt qp;
	size_t n = tg_pkt_build_tcp(buf, sizeof(buf), 4, src, dst, sport, dport, seq, ack, flags,
				    64240, payload, len);

	CHECK(n > 0);
	memset(&qp, 0, sizeof(qp));
	qp.id = r->next_id++;
	qp.hw_proto = 0x0800;
	qp.mark = TG_MARK_INSPECT;
	qp.data = buf;
	qp.len = n;
	engine_packet(r->e, &qp, now);
	return qp.id;
}

static uint32_t syn_from(struct rig *r, const uint8_t *src, uint16_t sport, uint64_t now)
{
	return send_tcp(r, src, server_addr, sport, SERVER_PORT, CLIENT_ISN, 0, TG_TCP_SYN, NULL, 0,
			now);
}

static uint32_t synack(struct rig *r, uint16_t sport, uint64_t now)
{
	return send_tcp(r, server_addr, client_addr, SERVER_PORT, sport, SERVER_ISN, CLIENT_ISN + 1,
			TG_TCP_SYN | TG_TCP_ACK, NULL, 0, now);
}

/* Client stream bytes at offset @off (from ISN + 1). */
static uint32_t data(struct rig *r, uint16_t sport, uint32_t off, const uint8_t *p, size_t len,
		     uint64_t now)
{
	return send_tcp(r, client_addr, server_addr, sport, SERVER_PORT, CLIENT_ISN + 1 + off,
			SERVER_ISN + 1, TG_TCP_ACK | TG_TCP_PSH, p, len, now);
}

/* The handshake of a flow from client_addr:@sport, both packets accepted unmarked. */
static void handshake(struct rig *r, uint16_t sport, uint64_t now)
{
	const struct fake_verdict *v;

	v = fake_verdict_of(syn_from(r, client_addr, sport, now));
	CHECK(v != NULL && v->verdict == NF_ACCEPT && !v->set_mark);
	v = fake_verdict_of(synack(r, sport, now));
	CHECK(v != NULL && v->verdict == NF_ACCEPT && !v->set_mark);
}

/* A ClientHello record for @sni (the layout of test/e2e/client.py's client_hello()). */
static void hello_for(struct tb *out, const char *sni)
{
	static const uint16_t ciphers[] = { 0x0004, 0xc02b, 0xc02f };
	static const uint8_t sigalgs[] = { 0x00, 0x02, 0x04, 0x03 };
	static const uint8_t groups[] = { 0x00, 0x02, 0x00, 0x17 };
	static struct tb exts, msg;

	exts.n = 0;
	msg.n = 0;
	out->n = 0;
	tb_ext_sni(&exts, sni);
	tb_ext(&exts, 0x000d, sigalgs, sizeof(sigalgs));
	tb_ext(&exts, 0x000a, groups, sizeof(groups));
	tb_hello(&msg, ciphers, 3, &exts);
	tb_records(out, msg.b, msg.n, msg.n);
}

#define CHECK_VERDICT(id, v_, mark_)                                  \
	do {                                                          \
		const struct fake_verdict *fv_ = fake_verdict_of(id); \
		CHECK(fv_ != NULL);                                   \
		if (fv_ != NULL) {                                    \
			CHECK_INT(fv_->verdict, v_);                  \
			CHECK_INT(fv_->set_mark, (mark_) != 0);       \
			if ((mark_) != 0)                             \
				CHECK_INT(fv_->mark, mark_);          \
		}                                                     \
	} while (0)

/* 1. pass.test in three segments: two released, the third decided PASS; late packets alike. */
static void test_pass(void)
{
	static struct tb ch;
	struct rig r;
	struct eng_counters c;
	uint32_t id;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	hello_for(&ch, "pass.test");
	handshake(&r, CLIENT_PORT, T0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, ch.b, 10, T0 + 1), NF_ACCEPT, 0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 10, ch.b + 10, 30, T0 + 2), NF_ACCEPT, 0);
	c = rig_counters(&r);
	CHECK_INT(c.released, 2);
	CHECK_INT(c.pass, 0);
	id = data(&r, CLIENT_PORT, 40, ch.b + 40, ch.n - 40, T0 + 3);
	CHECK_VERDICT(id, NF_REPEAT, MARK_VERDICT);
	c = rig_counters(&r);
	CHECK_INT(c.pass, 1);
	CHECK_INT(c.held, 1);
	/* A packet queued before the kernel saw the connmark: the same mark again. */
	id = data(&r, CLIENT_PORT, (uint32_t)ch.n, (const uint8_t *)"x", 1, T0 + 4);
	CHECK_VERDICT(id, NF_REPEAT, MARK_VERDICT);
	CHECK_INT(rig_counters(&r).late_reverdict, 1);
	CHECK(strstr(rig_log(&r), "\"sni\":\"pass.test\"") != NULL);
	CHECK_INT(fake.reset_client + fake.reset_server, 0);
	rig_close(&r);
}

/* 2. A blocked name: the second segment decides BLOCK, both ends reset, the rule logged. */
static void test_block(void)
{
	static struct tb ch;
	struct rig r;
	const char *log;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	hello_for(&ch, "www.blocked.test");
	handshake(&r, CLIENT_PORT, T0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, ch.b, 20, T0 + 1), NF_ACCEPT, 0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 20, ch.b + 20, ch.n - 20, T0 + 2), NF_REPEAT,
		      MARK_BLOCKED);
	CHECK_INT(fake.reset_client, 1);
	CHECK_INT(fake.reset_server, 1);
	CHECK(fake.last_client_rst.len == 40);
	CHECK(fake.last_server_rst.len == 40);
	CHECK_INT(rig_counters(&r).block, 1);
	log = rig_log(&r);
	CHECK(strstr(log, "\"reason\":\"filter-block\"") != NULL);
	CHECK(strstr(log, "www.blocked.test") != NULL);
	rig_close(&r);
}

/* 3. A retransmission with other bytes at the same sequence: a conflict, decided as a failure. */
static void test_conflict(void)
{
	static struct tb ch;
	uint8_t other[10];
	struct rig r;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	hello_for(&ch, "pass.test");
	handshake(&r, CLIENT_PORT, T0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, ch.b, 10, T0 + 1), NF_ACCEPT, 0);
	memcpy(other, ch.b, sizeof(other));
	other[9] ^= 0xff;
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, other, sizeof(other), T0 + 2), NF_REPEAT,
		      MARK_BLOCKED);
	CHECK_INT(rig_counters(&r).reasm_conflict, 1);
	CHECK_INT(fake.reset_client, 1);
	CHECK(strstr(rig_log(&r), "\"reason\":\"fail-conflict\"") != NULL);
	rig_close(&r);
}

/* 4. Data in a SYN (TCP Fast Open): dropped, counted. */
static void test_tfo(void)
{
	static struct tb ch;
	struct rig r;
	uint32_t id;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	hello_for(&ch, "pass.test");
	id = send_tcp(&r, client_addr, server_addr, CLIENT_PORT, SERVER_PORT, CLIENT_ISN, 0,
		      TG_TCP_SYN, ch.b, ch.n, T0);
	CHECK_VERDICT(id, NF_DROP, 0);
	CHECK_INT(rig_counters(&r).tfo_data, 1);
	/* Its retransmission without data is an ordinary flow. */
	CHECK_VERDICT(syn_from(&r, client_addr, CLIENT_PORT, T0 + 1), NF_ACCEPT, 0);
	CHECK_INT(rig_counters(&r).flows_new, 1);
	rig_close(&r);
}

/* 5. First bytes that never complete: decided by the tick after ENG_INCOMPLETE_MS. */
static void test_incomplete(void)
{
	static struct tb ch;
	struct rig r;
	struct eng_counters c;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	hello_for(&ch, "pass.test");
	handshake(&r, CLIENT_PORT, T0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, ch.b, 30, T0), NF_ACCEPT, 0);
	engine_tick(r.e, T0 + 4000);
	CHECK_INT(rig_counters(&r).incomplete_timeouts, 0);
	engine_tick(r.e, T0 + 6000);
	c = rig_counters(&r);
	CHECK_INT(c.incomplete_timeouts, 1);
	CHECK_INT(c.block, 1);
	CHECK_INT(fake.reset_client, 1);
	CHECK_INT(fake.reset_server, 1);
	CHECK(strstr(rig_log(&r), "\"reason\":\"fail-incomplete\"") != NULL);
	/* The rest of the flow meets the decision. */
	CHECK_VERDICT(data(&r, CLIENT_PORT, 30, ch.b + 30, ch.n - 30, T0 + 6001), NF_REPEAT,
		      MARK_BLOCKED);
	rig_close(&r);
}

/* 6. One client's quota of undecided flows: its next SYN drops, another client goes on. */
static void test_source_quota(void)
{
	struct rig r;
	unsigned i, accepted = 0;
	uint32_t id;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	for (i = 0; i < 256; i++) {
		const struct fake_verdict *v =
			fake_verdict_of(syn_from(&r, client_addr, (uint16_t)(10000 + i), T0));

		accepted += v != NULL && v->verdict == NF_ACCEPT;
	}
	CHECK_INT(accepted, 256);
	id = syn_from(&r, client_addr, 10000 + 256, T0);
	CHECK_VERDICT(id, NF_DROP, 0);
	CHECK_INT(rig_counters(&r).source_full, 1);
	CHECK_VERDICT(syn_from(&r, other_addr, 10000, T0), NF_ACCEPT, 0);
	CHECK_INT(rig_counters(&r).source_full, 1);
	rig_close(&r);
}

/* 7. decrypt with a full proxy: not adopted, the failure passes (fail-adoption). */
static void test_proxy_full(void)
{
	static struct tb ch;
	struct rig r;
	struct eng_counters c;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	fake.proxy_room = false;
	hello_for(&ch, "www.decrypt.test");
	handshake(&r, CLIENT_PORT, T0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, ch.b, ch.n, T0 + 1), NF_REPEAT, MARK_VERDICT);
	c = rig_counters(&r);
	CHECK_INT(c.proxy_full, 1);
	CHECK_INT(c.adopt_fail, 1);
	CHECK_INT(c.pass, 1);
	CHECK_INT(c.decrypt, 0);
	CHECK_INT(fake.adopt_calls, 0);
	CHECK(strstr(rig_log(&r), "\"reason\":\"fail-adoption\"") != NULL);
	rig_close(&r);
}

/*
 * 7b. decrypt: adopted and handed to the proxy with the SNI as sent, the normalized name for
 * the bypass table, and the line so far; the decision line is not written yet (proxy.c
 * finishes it with the outcome).
 */
static void test_decrypt_handoff(void)
{
	static struct tb ch;
	struct rig r;
	struct eng_counters c;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	fake.adopt_result = dup(0);
	hello_for(&ch, "WWW.Decrypt.test");
	handshake(&r, CLIENT_PORT, T0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, ch.b, ch.n, T0 + 1), NF_REPEAT, MARK_ADOPTED);
	c = rig_counters(&r);
	CHECK_INT(c.adopt_ok, 1);
	CHECK_INT(c.decrypt, 1);
	CHECK_INT(fake.handoff_calls, 1);
	CHECK_INT(fake.reset_server, 1);
	CHECK(fake.last_job.sni_len == 16 &&
	      memcmp(fake.last_job.sni, "WWW.Decrypt.test", 16) == 0);
	CHECK(strcmp(fake.last_flow_name, "www.decrypt.test") == 0);
	CHECK_INT(fake.last_job.client_port, CLIENT_PORT);
	CHECK_INT(fake.last_job.fail_untrusted, PROXY_CLASS_BLOCK);
	CHECK(fake.last_flow_frag_len > 0);
	CHECK(strstr(rig_log(&r), "\"action\"") == NULL);
	rig_close(&r);
}

/* 7c. No proxy (no CA): a decrypt decision is the cert-mint failure, blocked by default. */
static void test_no_proxy(void)
{
	static struct tb ch;
	struct rig r;
	struct eng_counters c;

	if (!rig_open_cfg(&r, false)) {
		CHECK(false);
		return;
	}
	hello_for(&ch, "www.decrypt.test");
	handshake(&r, CLIENT_PORT, T0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, ch.b, ch.n, T0 + 1), NF_REPEAT, MARK_BLOCKED);
	c = rig_counters(&r);
	CHECK_INT(c.block, 1);
	CHECK_INT(fake.adopt_calls, 0);
	CHECK(strstr(rig_log(&r), "\"reason\":\"fail-cert-mint\"") != NULL);
	rig_close(&r);
}

/* 8. A tick stamped before the packets (another thread's clock) never ages a fresh flow. */
static void test_clock(void)
{
	static struct tb ch;
	struct rig r;
	struct eng_counters c;

	if (!rig_open(&r)) {
		CHECK(false);
		return;
	}
	hello_for(&ch, "pass.test");
	handshake(&r, CLIENT_PORT, T0);
	CHECK_VERDICT(data(&r, CLIENT_PORT, 0, ch.b, 30, T0), NF_ACCEPT, 0);
	engine_tick(r.e, T0 - 50);
	c = rig_counters(&r);
	CHECK_INT(c.incomplete_timeouts, 0);
	CHECK_INT(c.block + c.pass, 0);
	/* Still undecided: the rest completes it and it passes on its name. */
	CHECK_VERDICT(data(&r, CLIENT_PORT, 30, ch.b + 30, ch.n - 30, T0 + 1), NF_REPEAT,
		      MARK_VERDICT);
	CHECK_INT(rig_counters(&r).pass, 1);
	rig_close(&r);
}

int main(void)
{
	const char *src = getenv("TG_SRC");
	char policy[4096], content[4096], err[512];
	struct decider *d;

	if (src == NULL)
		src = ".";
	snprintf(policy, sizeof(policy), "%s/test/e2e/policy.json", src);
	snprintf(content, sizeof(content), "%s/policy/content", src);
	d = decider_load(policy, content, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "decider_load: %s\n", err);
		CHECK(false);
		return tg_test_done();
	}
	decider = d;
	names = names_new();
	CHECK(names != NULL);
	test_pass();
	test_block();
	test_conflict();
	test_tfo();
	test_incomplete();
	test_source_quota();
	test_proxy_full();
	test_decrypt_handoff();
	test_no_proxy();
	test_clock();
	names_free(names);
	decider_free(d);
	return tg_test_done();
}
