/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * queue.h - one NFQUEUE queue through libmnl and libnetfilter_queue's mnl API: bind, receive
 * packets (copied up to what the classifier needs), and send verdicts. One struct queue per
 * queue thread; nothing here is shared between threads.
 */
#ifndef TLSGATE_QUEUE_H
#define TLSGATE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue;

/* A queued packet as delivered; @data points into the receive buffer (valid in the callback). */
struct queue_pkt {
	uint32_t id;
	uint16_t hw_proto; /* ethertype, host order */
	uint8_t hook;
	uint32_t mark;
	uint32_t indev, outdev;
	bool has_hwaddr;
	uint8_t hwaddr[8];
	uint16_t hwaddr_len;
	const uint8_t *data; /* from the IP header */
	size_t len;
};

typedef void (*queue_cb)(void *arg, const struct queue_pkt *p);

/*
 * Open and bind queue @num. @copy_len: bytes of each packet to copy (the payload of a first
 * data segment must fit: 0xffff). @maxlen: kernel queue length; beyond it the kernel accepts
 * packets unqueued (NFQA_CFG_F_FAIL_OPEN) and counts them. Returns NULL with errno.
 */
struct queue *queue_open(uint16_t num, uint32_t copy_len, uint32_t maxlen);
void queue_close(struct queue *q);
int queue_fd(const struct queue *q);
/* Receive what is ready (non-blocking) and call @cb per packet. Returns packets, or -1. */
int queue_receive(struct queue *q, queue_cb cb, void *arg);

/* NF_ACCEPT, NF_DROP or NF_REPEAT, with an nfmark when @set_mark. */
int queue_verdict(struct queue *q, uint32_t id, int verdict, bool set_mark, uint32_t mark);

/* The same with the packet replaced by @pkt (@len bytes, a complete IP packet). */
int queue_verdict_pkt(struct queue *q, uint32_t id, int verdict, bool set_mark, uint32_t mark,
		      const uint8_t *pkt, size_t len);

struct queue_stats {
	uint64_t received, verdicts, verdict_errors, recv_errors, enobufs;
};
void queue_stats_get(const struct queue *q, struct queue_stats *out);

#endif
