/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * datapath.h - what tlsgate-setup installed, as tlsgated must know it: the queue range, the
 * ports queued per protocol and the marks. One source of truth: `tlsgate-setup up` records
 * the values it used (from the defaults file, the environment and its options) in a state
 * file for its network namespace, and tlsgated reads that file at start:
 *
 *   /run/tlsgate-setup/netns-INODE.env   (INODE of /proc/self/ns/net; TLSGATE_SETUP_STATE or
 *                                          tlsgated --setup-state override the path)
 *   # comment
 *   TLSGATE_QUEUE_NUM=0
 *   TLSGATE_QUEUES=1
 *   TLSGATE_PORTS=443            (TLS, TCP)       TLSGATE_DOT_PORTS=853 (TLS too, TCP)
 *   TLSGATE_HTTP_PORTS=80        (TCP)            TLSGATE_DNS_PORTS=53  (UDP and TCP)
 *   TLSGATE_QUIC_PORTS=443       (UDP)            a list is comma-separated, or "none"
 *   TG_MARK_PASS=0x10000 ...     every key of scripts/tlsgate-marks.env
 *
 * The daemon takes its marks and queues from it; it refuses a policy whose port settings
 * differ from what is queued (datapath_check_policy), at start and on reload, and refuses
 * options that contradict it (tlsgated.c).
 */
#ifndef TLSGATE_DATAPATH_H
#define TLSGATE_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/policy.h"

#include "marks.h"

/* Bytes of a state file read; a longer one is refused (it is ~700 bytes). */
#define DATAPATH_FILE_MAX 8192

enum dp_class { DP_TLS, DP_HTTP, DP_DNS, DP_QUIC, DP__COUNT };

struct dp_ports {
	uint16_t p[TG_CAP_PORTS];
	size_t n;
};

struct datapath {
	char source[256]; /* the state file read, "" when none was found */
	unsigned queue_num, queues;
	struct dp_ports ports[DP__COUNT]; /* DP_TLS holds TLSGATE_PORTS and TLSGATE_DOT_PORTS */
	struct tg_marks marks;
};

/* The policy settings key and the protocol words of a class ("inspected_ports", "TLS"). */
const char *dp_class_key(enum dp_class c);

/* The default state file path for the caller's network namespace, into @buf. -1 (errno). */
int datapath_default_path(char *buf, size_t len);

/*
 * Parse the state file bytes @buf (@len) into *@dp (source left as is). 0, or -1 with the
 * line and the reason in @err. Every key is required; unknown keys and bad values are
 * refused; the marks are checked as tlsgate-setup checks them.
 */
int datapath_parse(const char *buf, size_t len, struct datapath *dp, char *err, size_t errlen);

/*
 * Read the state file at @path into *@dp. 0; 1 when there is no such file (*@dp untouched);
 * -1 with the reason in @err.
 */
int datapath_read(const char *path, struct datapath *dp, char *err, size_t errlen);

/*
 * Compare the policy settings @s with what is queued: each class's ports must be the same set.
 * 0, or -1 with what differs in @err (e.g. "settings.quic_ports is 443 but tlsgate-setup
 * queues UDP 443,8443 as QUIC").
 */
int datapath_check_policy(const struct datapath *dp, const struct tg_policy_settings *s, char *err,
			  size_t errlen);

/* True when @port is in @ps. */
bool dp_ports_has(const uint16_t *ports, size_t n, uint16_t port);

#endif
