/* SPDX-License-Identifier: GPL-2.0-or-later */
/* queue.c - NFQUEUE through libmnl + libnetfilter_queue (mnl API); see queue.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "queue.h"

/* Receive buffer: a batch of packets, each up to copy_len plus netlink overhead. */
#define QUEUE_BUF_SIZE (0xffff + 8192)
/* Config and verdict messages are a header and a few attributes. */
#define QUEUE_MSG_SIZE 1024
/* The kernel's per-queue statistics: one line per bound queue. */
#define QUEUE_PROC_PATH "/proc/net/netfilter/nfnetlink_queue"
#define QUEUE_PROC_LINE 256

struct queue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
	struct queue_stats st;
	queue_cb cb;
	void *cb_arg;
	char *buf;
	char *vbuf; /* verdicts: attributes and room for a rewritten packet (a DNS answer) */
};

static int queue_send_config(struct queue *q, struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	return 0;
}

/*
 * A socket buffer that holds the whole kernel queue, so a burst the queue accepts is not lost
 * on its way to us. Without CAP_NET_ADMIN, SO_RCVBUF is capped by net.core.rmem_max.
 */
static void queue_set_rcvbuf(struct queue *q, size_t bytes)
{
	int fd = mnl_socket_get_fd(q->nl);
	int v = bytes > INT32_MAX ? INT32_MAX : (int)bytes;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0)
		return;
	log_warn("queue %u: SO_RCVBUFFORCE %d, trying SO_RCVBUF", q->num, v);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == -1)
		log_warn("queue %u: SO_RCVBUF %d", q->num, v);
}

struct queue *queue_open(uint16_t num, uint32_t copy_len, uint32_t maxlen, size_t rcvbuf,
			 bool fail_open)
{
	char cbuf[QUEUE_MSG_SIZE];
	struct nlmsghdr *nlh;
	struct queue *q;
	int one = 1, saved;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->num = num;
	q->buf = malloc(QUEUE_BUF_SIZE);
	q->vbuf = malloc(QUEUE_MSG_SIZE + 0xffff);
	if (q->buf == NULL || q->vbuf == NULL)
		goto fail;
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (q->nl == NULL)
		goto fail;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	q->portid = mnl_socket_get_portid(q->nl);

	nlh = nfq_nlmsg_put(cbuf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (queue_send_config(q, nlh) == -1)
		goto fail;
	/* No GSO flag: the kernel segments GSO packets into MSS-sized entries (HANDOFF.md). */
	nlh = nfq_nlmsg_put(cbuf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy_len);
	if (queue_send_config(q, nlh) == -1)
		goto fail;
	if (queue_set_fail_open(q, fail_open) == -1)
		goto fail;
	nlh = nfq_nlmsg_put(cbuf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	if (queue_send_config(q, nlh) == -1)
		goto fail;
	/* A full socket buffer must not turn into ENOBUFS errors on every later receive. */
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one,
		       sizeof(one)) == -1)
		goto fail;
	queue_set_rcvbuf(q, rcvbuf);
	return q;
fail:
	saved = errno;
	queue_close(q);
	errno = saved;
	return NULL;
}

int queue_set_fail_open(struct queue *q, bool on)
{
	char cbuf[QUEUE_MSG_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(cbuf, NFQNL_MSG_CONFIG, q->num);

	/* The mask says which flags this message sets; the flags say to what. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(on ? NFQA_CFG_F_FAIL_OPEN : 0));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	if (queue_send_config(q, nlh) == -1) {
		__atomic_fetch_add(&q->st.config_errors, 1, __ATOMIC_RELAXED);
		return -1;
	}
	return 0;
}

void queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	free(q->buf);
	free(q->vbuf);
	free(q);
}

int queue_fd(const struct queue *q)
{
	return mnl_socket_get_fd(q->nl);
}

static int queue_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct queue *q = data;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	struct queue_pkt p;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return MNL_CB_OK;
	memset(&p, 0, sizeof(p));
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p.id = ntohl(ph->packet_id);
	p.hw_proto = ntohs(ph->hw_protocol);
	p.hook = ph->hook;
	if (attr[NFQA_MARK])
		p.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_IFINDEX_INDEV])
		p.indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_IFINDEX_OUTDEV])
		p.outdev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
	if (attr[NFQA_HWADDR]) {
		const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);
		uint16_t hl = ntohs(hw->hw_addrlen);

		if (hl <= sizeof(p.hwaddr)) {
			p.has_hwaddr = true;
			p.hwaddr_len = hl;
			memcpy(p.hwaddr, hw->hw_addr, hl);
		}
	}
	if (attr[NFQA_PAYLOAD]) {
		p.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	__atomic_fetch_add(&q->st.received, 1, __ATOMIC_RELAXED);
	q->cb(q->cb_arg, &p);
	return MNL_CB_OK;
}

int queue_receive(struct queue *q, queue_cb cb, void *arg)
{
	uint64_t before = __atomic_load_n(&q->st.received, __ATOMIC_RELAXED);

	q->cb = cb;
	q->cb_arg = arg;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, q->buf, QUEUE_BUF_SIZE);

		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				__atomic_fetch_add(&q->st.enobufs, 1, __ATOMIC_RELAXED);
				continue;
			}
			__atomic_fetch_add(&q->st.recv_errors, 1, __ATOMIC_RELAXED);
			return -1;
		}
		if (mnl_cb_run(q->buf, (size_t)n, 0, q->portid, queue_msg_cb, q) < 0)
			__atomic_fetch_add(&q->st.recv_errors, 1, __ATOMIC_RELAXED);
	}
	return (int)(__atomic_load_n(&q->st.received, __ATOMIC_RELAXED) - before);
}

int queue_verdict(struct queue *q, uint32_t id, int verdict, bool set_mark, uint32_t mark)
{
	return queue_verdict_pkt(q, id, verdict, set_mark, mark, NULL, 0);
}

int queue_verdict_pkt(struct queue *q, uint32_t id, int verdict, bool set_mark, uint32_t mark,
		      const uint8_t *pkt, size_t len)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(q->vbuf, NFQNL_MSG_VERDICT, q->num);

	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (pkt != NULL)
		nfq_nlmsg_verdict_put_pkt(nlh, pkt, (uint32_t)len);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		__atomic_fetch_add(&q->st.verdict_errors, 1, __ATOMIC_RELAXED);
		return -1;
	}
	__atomic_fetch_add(&q->st.verdicts, 1, __ATOMIC_RELAXED);
	return 0;
}

void queue_stats_get(const struct queue *q, struct queue_stats *out)
{
	/* Written by the queue thread, read here by the control socket's thread. */
	out->received = __atomic_load_n(&q->st.received, __ATOMIC_RELAXED);
	out->verdicts = __atomic_load_n(&q->st.verdicts, __ATOMIC_RELAXED);
	out->verdict_errors = __atomic_load_n(&q->st.verdict_errors, __ATOMIC_RELAXED);
	out->recv_errors = __atomic_load_n(&q->st.recv_errors, __ATOMIC_RELAXED);
	out->enobufs = __atomic_load_n(&q->st.enobufs, __ATOMIC_RELAXED);
	out->config_errors = __atomic_load_n(&q->st.config_errors, __ATOMIC_RELAXED);
}

/* The next whitespace-separated decimal field of @*s; false when there is none. */
static bool queue_field(char **s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(*s, &end, 10);
	if (errno != 0 || end == *s)
		return false;
	*s = end;
	return true;
}

/*
 * Each line (net/netfilter/nfnetlink_queue.c, seq_show): queue number, peer portid, packets
 * waiting, copy mode, copy range, queue_dropped, user_dropped, last packet id, 1.
 */
int queue_kernel_stats(uint16_t num, struct queue_kstats *out)
{
	char line[QUEUE_PROC_LINE];
	FILE *f = fopen(QUEUE_PROC_PATH, "re");
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		uint64_t v[7];
		char *s = line;
		size_t i;

		for (i = 0; i < 7 && queue_field(&s, &v[i]); i++)
			;
		if (i < 7 || v[0] != num)
			continue;
		out->queue_total = v[2];
		out->queue_dropped = v[5];
		out->user_dropped = v[6];
		rc = 0;
		break;
	}
	fclose(f);
	if (rc == -1)
		errno = ENOENT;
	return rc;
}
