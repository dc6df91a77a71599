/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkt_build.h - packets the gateway writes itself: the RSTs that close a blocked or adopted
 * flow, and the DNS answer for a blocked name. Pure: the caller sends them.
 */
#ifndef TLSGATE_PKT_BUILD_H
#define TLSGATE_PKT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "tlsgate/err.h"
#include "tlsgate/pkt.h"

#define TG_PKT_RST_MAX	      60 /* IPv6 header + TCP header */
#define TG_PKT_DNS_ANSWER_MAX 1280 /* a DNS answer we build never exceeds the IPv6 minimum MTU */

/*
 * tg_pkt_build_tcp() - a TCP segment with @flags (TG_TCP_*), @window and @len bytes of
 * @payload from @src:@sport to @dst:@dport, IPv4 (DF set) or IPv6, TTL 64, checksums filled
 * in. Returns its length, or 0 for a bad family or when it would not fit in @cap.
 */
size_t tg_pkt_build_tcp(uint8_t *out, size_t cap, uint8_t family, const uint8_t src[static 16],
			const uint8_t dst[static 16], uint16_t sport, uint16_t dport, uint32_t seq,
			uint32_t ack, uint8_t flags, uint16_t window, const uint8_t *payload,
			size_t len);

/*
 * tg_pkt_build_rst() - an RST|ACK segment from @src:@sport to @dst:@dport with @seq and @ack,
 * IPv4 (family 4, DF set) or IPv6 (6), TTL/hop limit 64, both checksums filled in.
 * Returns its length (40 or 60), or 0 for a bad family. @out must hold TG_PKT_RST_MAX bytes.
 */
size_t tg_pkt_build_rst(uint8_t out[static TG_PKT_RST_MAX], uint8_t family,
			const uint8_t src[static 16], const uint8_t dst[static 16], uint16_t sport,
			uint16_t dport, uint32_t seq, uint32_t ack);

/*
 * tg_pkt_build_dns_block() - the answer to the UDP DNS query @q (a parsed packet whose payload
 * is the query) that a blocked name gets: same id, opcode, RD and question, QR and RA set, and
 * either rcode NXDOMAIN (@sinkhole_family 0) or NOERROR with one A (family 4, for a type A
 * query) or AAAA (family 6, type AAAA query) record pointing at @sinkhole with @ttl; a query of
 * another type gets NOERROR with no answer (NODATA). Addresses and ports are swapped, checksums
 * filled in. Returns the packet length, 0 when @q is not a query we can answer (not exactly one
 * question, a response, truncated) or @cap is too small.
 */
size_t tg_pkt_build_dns_block(uint8_t *out, size_t cap, const struct tg_pkt *q,
			      uint8_t sinkhole_family, const uint8_t sinkhole[16], uint32_t ttl);

/*
 * tg_pkt_build_udp_payload() - the UDP packet @p (a parsed IPv4 or IPv6 UDP packet, not a
 * fragment) with its payload replaced by @payload (@len bytes): same IP header and extension
 * headers, same ports, lengths and checksums recomputed. Returns the new packet's length, or 0
 * when @p is not such a packet or the result would not fit in @cap or in 65535 bytes.
 */
size_t tg_pkt_build_udp_payload(uint8_t *out, size_t cap, const struct tg_pkt *p,
				const uint8_t *payload, size_t len);

#endif
