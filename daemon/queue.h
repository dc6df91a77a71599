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
 * packets unqueued when @fail_open (NFQA_CFG_F_FAIL_OPEN), uncounted, and otherwise drops them
 * and counts them (queue_kernel_stats()). @rcvbuf: the netlink socket's receive buffer in
 * bytes, set with SO_RCVBUFFORCE, or SO_RCVBUF (capped by net.core.rmem_max) with a warning
 * when that is not permitted. Returns NULL with errno.
 */
struct queue *queue_open(uint16_t num, uint32_t copy_len, uint32_t maxlen, size_t rcvbuf,
			 bool fail_open);
void queue_close(struct queue *q);
int queue_fd(const struct queue *q);
/*
 * Set or clear NFQA_CFG_F_FAIL_OPEN (the policy's settings.fail.queue_full). Only from the
 * thread that owns @q: the netlink socket is its. Returns 0, or -1 with errno (counted in
 * config_errors); the kernel's own refusal arrives later as a receive error.
 */
int queue_set_fail_open(struct queue *q, bool on);
/* Receive what is ready (non-blocking) and call @cb per packet. Returns packets, or -1. */
int queue_receive(struct queue *q, queue_cb cb, void *arg);

/* NF_ACCEPT, NF_DROP or NF_REPEAT, with an nfmark when @set_mark. */
int queue_verdict(struct queue *q, uint32_t id, int verdict, bool set_mark, uint32_t mark);

/* The same with the packet replaced by @pkt (@len bytes, a complete IP packet). */
int queue_verdict_pkt(struct queue *q, uint32_t id, int verdict, bool set_mark, uint32_t mark,
		      const uint8_t *pkt, size_t len);

struct queue_stats {
	uint64_t received, verdicts, verdict_errors, recv_errors, enobufs, config_errors;
};
void queue_stats_get(const struct queue *q, struct queue_stats *out);

/* The kernel's own counters for one queue (/proc/net/netfilter/nfnetlink_queue). */
struct queue_kstats {
	uint64_t queue_total; /* packets waiting for a verdict now (a gauge) */
	uint64_t queue_dropped; /* the queue was full and not failing open: dropped */
	uint64_t user_dropped; /* the netlink socket could not take the packet: dropped */
};
/*
 * Read @num's kernel counters into @out. Any thread; reads a file, so not per packet.
 * Returns 0, or -1 with errno (ENOENT: the queue is not bound).
 */
int queue_kernel_stats(uint16_t num, struct queue_kstats *out);

#endif
