/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake_daemon.c - the symbols the engine's files (daemon/engine*.c, enforce.c) need from
 * daemon/queue.c, daemon/adopt.c and daemon/proxy.c, recorded instead of done (fake_daemon.h).
 * No socket is opened and nothing is sent.
 */
#include <errno.h>
#include <string.h>

#include <unistd.h>

#include "tlsgate/pkt_build.h"

#include "adopt.h"
#include "fake_daemon.h"
#include "queue.h"
#include "proxy.h"

struct fake_daemon fake;

void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.proxy_room = true;
	fake.handoff_ok = true;
	fake.adopt_result = -1;
}

const struct fake_verdict *fake_verdict_of(uint32_t id)
{
	unsigned i;

	for (i = fake.n_v; i > 0; i--)
		if (fake.v[i - 1].id == id)
			return &fake.v[i - 1];
	return NULL;
}

static struct fake_verdict *verdict_add(uint32_t id, int verdict, bool set_mark, uint32_t mark)
{
	struct fake_verdict *v;

	if (fake.n_v >= FAKE_MAX_VERDICTS)
		return NULL;
	v = &fake.v[fake.n_v++];
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->verdict = verdict;
	v->set_mark = set_mark;
	v->mark = mark;
	return v;
}

int queue_verdict(struct queue *q, uint32_t id, int verdict, bool set_mark, uint32_t mark)
{
	(void)q;
	return verdict_add(id, verdict, set_mark, mark) == NULL ? -1 : 0;
}

int queue_verdict_pkt(struct queue *q, uint32_t id, int verdict, bool set_mark, uint32_t mark,
		      const uint8_t *pkt, size_t len)
{
	struct fake_verdict *v;

	(void)q;
	if (len > FAKE_PKT_MAX)
		return -1;
	v = verdict_add(id, verdict, set_mark, mark);
	if (v == NULL)
		return -1;
	v->has_pkt = true;
	memcpy(v->pkt, pkt, len);
	v->pkt_len = len;
	return 0;
}

int adopt_socket(const struct adopt_facts *f, const uint8_t *prefix, size_t prefix_len,
		 uint32_t fwmark, uint64_t now_ms, const char **step)
{
	(void)f;
	(void)prefix;
	(void)prefix_len;
	(void)fwmark;
	(void)now_ms;
	fake.adopt_calls++;
	if (fake.adopt_result == -1) {
		*step = "fake";
		errno = EPERM;
	}
	return fake.adopt_result;
}

/* The RST adopt.c would build, kept as bytes. */
static void rst_record(struct fake_sent *s, const struct adopt_facts *f, bool to_client,
		       uint32_t client_bytes)
{
	if (to_client)
		s->len = tg_pkt_build_rst(s->pkt, f->family, f->server, f->client, f->server_port,
					  f->client_port, f->server_isn + 1 + f->server_sent,
					  f->client_isn + 1 + client_bytes);
	else
		s->len = tg_pkt_build_rst(s->pkt, f->family, f->client, f->server, f->client_port,
					  f->server_port, f->client_isn + 1 + f->server_has,
					  f->server_isn + 1);
}

int adopt_reset_server(int raw_fd, const struct adopt_facts *f)
{
	(void)raw_fd;
	fake.reset_server++;
	rst_record(&fake.last_server_rst, f, false, 0);
	return 0;
}

int adopt_reset_client(int raw_fd, const struct adopt_facts *f, uint32_t client_bytes)
{
	(void)raw_fd;
	fake.reset_client++;
	rst_record(&fake.last_client_rst, f, true, client_bytes);
	return 0;
}

int adopt_raw_send(int raw_fd, uint8_t family, const uint8_t *dst, const uint8_t *pkt, size_t len)
{
	(void)raw_fd;
	(void)family;
	(void)dst;
	fake.raw_send++;
	fake.last_raw.len = len < FAKE_PKT_MAX ? len : FAKE_PKT_MAX;
	memcpy(fake.last_raw.pkt, pkt, fake.last_raw.len);
	return 0;
}

bool proxy_has_room(struct proxy *p, uint8_t family, const uint8_t *client)
{
	(void)p;
	(void)family;
	(void)client;
	return fake.proxy_room;
}

bool proxy_handoff(struct proxy *p, int fd, struct proxy_job *job, const struct proxy_flow *fl)
{
	(void)p;
	fake.handoff_calls++;
	fake.last_job = *job;
	fake.last_flow_frag_len = fl->frag_len;
	snprintf(fake.last_flow_name, sizeof(fake.last_flow_name), "%s", fl->name);
	if (fd >= 0)
		close(fd);
	return fake.handoff_ok;
}
