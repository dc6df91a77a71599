/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfq.h - one NFQUEUE queue through libmnl and libnetfilter_queue's mnl API: bind, receive
 * packets (copied up to what the classifier needs), and send verdicts. One struct nfq per
 * queue thread; nothing here is shared between threads.
 */
#ifndef TLSGATE_NFQ_H
#define TLSGATE_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfq;

/* A queued packet as delivered; @data points into the receive buffer (valid in the callback). */
struct nfq_pkt {
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

typedef void (*nfq_cb)(void *arg, const struct nfq_pkt *p);

/*
 * Open and bind queue @num. @copy_len: bytes of each packet to copy (the payload of a first
 * data segment must fit: 0xffff). @maxlen: kernel queue length; beyond it the kernel accepts
 * packets unqueued (NFQA_CFG_F_FAIL_OPEN) and counts them. Returns NULL with errno.
 */
struct nfq *nfq_open(uint16_t num, uint32_t copy_len, uint32_t maxlen);
void nfq_close(struct nfq *q);
int nfq_fd(const struct nfq *q);
/* Receive what is ready (non-blocking) and call @cb per packet. Returns packets, or -1. */
int nfq_receive(struct nfq *q, nfq_cb cb, void *arg);

/* NF_ACCEPT, NF_DROP or NF_REPEAT, with an nfmark when @set_mark. */
int nfq_verdict(struct nfq *q, uint32_t id, int verdict, bool set_mark, uint32_t mark);

struct nfq_stats {
	uint64_t received, verdicts, verdict_errors, recv_errors, enobufs;
};
void nfq_stats_get(const struct nfq *q, struct nfq_stats *out);

#endif
