/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkt.h - packet dissector: link layer, IPv4/IPv6 (with extension headers), TCP and UDP headers,
 * plus the internet checksum.
 *
 * tg_pkt_parse() starts at the IP header (what NFQUEUE delivers); tg_pkt_parse_link() starts at
 * a capture's link-layer header (what a pcap file holds). Both fill a struct tg_pkt whose spans
 * point into the caller's buffer: the result is valid only as long as that buffer.
 *
 * Length policy. The IP header's own length (IPv4 total length, IPv6 40 + payload length) is
 * the truth:
 *   - bytes after it (Ethernet padding, a trailing FCS) are not part of the packet and are
 *     dropped from l3, l4 and payload;
 *   - a buffer shorter than it is a truncated capture: TG_ERR_TRUNCATED, unless the caller
 *     passes TG_PKT_F_PARTIAL (pcap files with a small snaplen), in which case the headers must
 *     still be complete, the spans cover what was captured and out->truncated is set;
 *   - a length of 0 is a lying length too, except under TG_PKT_F_TSO (captures of TCP
 *     segmentation offload), where it stands for the captured length;
 *   - headers that do not fit inside it are lying lengths: TG_ERR_IP_HEADER, TG_ERR_IP6_EXT,
 *     TG_ERR_TCP_HEADER or TG_ERR_UDP_HEADER, for the header that does not fit.
 *
 * Fragments (RFC 791 3.2, RFC 8200 4.5). A first fragment (offset 0, more-fragments set) is
 * parsed through the transport header with out->fragment set; its payload is only this
 * fragment's part. If the transport header (or an IPv6 extension header) does not fit in the
 * first fragment (RFC 1858 tiny fragments, RFC 7112), or the fragment is not the first one, the
 * answer is TG_ERR_IP_FRAGMENT. An IPv6 atomic fragment (offset 0, M clear, RFC 6946) is a whole
 * packet.
 *
 * What the caller may read after an error: on TG_ERR_IP_FRAGMENT, the IP layer (ip_version,
 * ttl, tos, src, dst, proto = the fragment's upper-layer protocol, ip_id, df, ip_len, frag_*,
 * l3, n_ext) is filled in, so a caller can account the fragment to its hosts. After any other
 * error, *out holds no promise beyond being initialized memory.
 */
#ifndef TLSGATE_PKT_H
#define TLSGATE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/cursor.h"
#include "tlsgate/err.h"

/* TCP header flags (RFC 9293 3.1, RFC 3168 for ECE/CWR). */
#define TG_TCP_FIN 0x01
#define TG_TCP_SYN 0x02
#define TG_TCP_RST 0x04
#define TG_TCP_PSH 0x08
#define TG_TCP_ACK 0x10
#define TG_TCP_URG 0x20
#define TG_TCP_ECE 0x40
#define TG_TCP_CWR 0x80

/* IP protocol numbers the dissector knows (IANA "Assigned Internet Protocol Numbers"). */
#define TG_IPPROTO_HOPOPTS  0
#define TG_IPPROTO_ICMP	    1
#define TG_IPPROTO_TCP	    6
#define TG_IPPROTO_UDP	    17
#define TG_IPPROTO_ROUTING  43
#define TG_IPPROTO_FRAGMENT 44
#define TG_IPPROTO_ESP	    50
#define TG_IPPROTO_AH	    51
#define TG_IPPROTO_ICMPV6   58
#define TG_IPPROTO_NONE	    59
#define TG_IPPROTO_DSTOPTS  60

enum tg_linktype {
	TG_LINK_RAW, /* starts at the IP header; the version nibble says which */
	TG_LINK_ETHERNET, /* DLT_EN10MB: 14-byte Ethernet II header, 802.1Q/802.1ad tags */
	TG_LINK_NULL, /* DLT_NULL: BSD loopback, 4-byte address family in the capturer's order */
	TG_LINK_LOOP, /* DLT_LOOP: the same in network byte order */
	TG_LINK_SLL, /* DLT_LINUX_SLL: 16-byte Linux cooked header */
	TG_LINK_SLL2, /* DLT_LINUX_SLL2: 20-byte Linux cooked header v2 */
};

/* Flags for tg_pkt_parse_flags(). */
#define TG_PKT_F_PARTIAL 0x1u /* accept a capture shorter than the IP length (pcap snaplen) */
/*
 * An IP length of 0 (IPv4 total length; IPv6 payload length with a next header other than
 * no-next-header) stands for "everything captured": captures taken on a sender that uses TCP
 * segmentation offload (or Linux BIG TCP) show the super-packet before the NIC fills it in.
 */
#define TG_PKT_F_TSO 0x2u

struct tg_tcp_opts {
	bool has_mss;
	uint16_t mss;
	bool has_wscale;
	uint8_t wscale; /* as sent; RFC 7323 2.3 says receivers clamp values above 14 */
	bool sack_perm;
	bool has_ts;
	uint32_t tsval, tsecr;
	/* Option kinds in wire order, NOPs and the EOL included, for passive OS fingerprinting. */
	uint8_t kinds[TG_CAP_TCP_OPTS];
	uint8_t n_kinds;
	uint8_t eol_pad; /* bytes after an EOL option (p0f's "eol+N") */
	bool eol_pad_nonzero; /* one of them is not zero */
	/*
	 * An option Linux would not honour as written: the walk stopped early (a kind without a
	 * length byte, a length below 2 or past the end of the options; what follows is not
	 * read), or a decoded option had the wrong length and was ignored. The segment is still
	 * accepted, as a Linux receiver accepts it.
	 */
	bool malformed;
};

struct tg_pkt {
	uint8_t ip_version; /* 4 or 6 */
	uint8_t ttl; /* TTL or hop limit */
	uint8_t proto; /* final transport protocol (6 TCP, 17 UDP, other) */
	uint8_t tos; /* IPv4 type of service / IPv6 traffic class: DSCP << 2 | ECN */
	uint8_t src[16], dst[16]; /* IPv4 addresses in the first 4 bytes, rest zero */
	bool df; /* IPv4 don't-fragment; always false for IPv6 */
	uint16_t ip_id; /* IPv4 identification; 0 for IPv6 */
	uint32_t ip_len; /* total length incl. header from the IP header (IPv6: 40 + payload) */
	uint32_t flow_label; /* IPv6 flow label; 0 for IPv4 */
	uint16_t ip_hdr_len; /* IP header and IPv6 extension headers: the offset of l4 in l3 */
	uint8_t n_ext; /* IPv6 extension headers walked */
	bool fragment; /* non-first fragment or MF set (first fragment) */
	bool more_frags; /* MF / M flag */
	uint16_t frag_off; /* fragment offset in bytes */
	uint32_t frag_id; /* IPv4 identification or IPv6 Fragment header identification */
	bool truncated; /* TG_PKT_F_PARTIAL only: the capture ends before ip_len */
	uint16_t vlan[TG_CAP_VLAN_TAGS]; /* 802.1Q TCIs, outermost first */
	uint8_t n_vlan;
	uint16_t sport, dport; /* TCP or UDP ports */
	uint32_t seq, ack; /* TCP */
	uint8_t tcp_flags; /* TG_TCP_* */
	uint8_t tcp_hdr_len; /* data offset in bytes, 20..60 */
	uint16_t window; /* unscaled */
	uint16_t urg_ptr;
	struct tg_tcp_opts opts;
	uint16_t udp_len; /* UDP length field */
	struct tg_span l3; /* the IP header onwards, trimmed to the IP total/payload length */
	struct tg_span l4; /* the transport header onwards (UDP: trimmed to the UDP length) */
	struct tg_span payload; /* TCP or UDP payload, trimmed to the IP length; empty otherwise */
};

/*
 * tg_pkt_parse() - dissect a packet starting at its IP header.
 * @out: filled in; spans point into @p.
 * @p, @len: the packet; p may be NULL when len is 0.
 *
 * Returns TG_OK, TG_ERR_TRUNCATED (buffer shorter than the IP length), TG_ERR_IP_VERSION,
 * TG_ERR_IP_HEADER, TG_ERR_IP6_EXT, TG_ERR_IP_FRAGMENT, TG_ERR_TCP_HEADER, TG_ERR_UDP_HEADER
 * or TG_ERR_UNSUPPORTED (an IPv6 jumbogram). Protocols other than TCP and UDP are TG_OK with
 * proto set, l4 covering their bytes and an empty payload; so are ESP and IPv6 no-next-header,
 * which end the extension-header walk. Malformed TCP options never fail the parse (a Linux
 * receiver accepts the segment's data): see struct tg_tcp_opts' malformed.
 */
enum tg_err tg_pkt_parse(struct tg_pkt *out, const uint8_t *p, size_t len) TG_WUR;

/*
 * tg_pkt_parse_link() - dissect a captured frame with link-layer header type @lt.
 *
 * Adds to tg_pkt_parse()'s answers: TG_ERR_TRUNCATED for a short link header, TG_ERR_CAP for
 * more than TG_CAP_VLAN_TAGS VLAN tags, TG_ERR_UNSUPPORTED for a non-IP frame (ARP, LLC, an
 * unknown address family), TG_ERR_IP_VERSION when the link layer announces one IP version and
 * the header carries another, TG_ERR_ARG for an unknown @lt.
 */
enum tg_err tg_pkt_parse_link(struct tg_pkt *out, enum tg_linktype lt, const uint8_t *p,
			      size_t len) TG_WUR;

/* tg_pkt_parse_flags() - tg_pkt_parse_link() with TG_PKT_F_* flags; unknown flags: TG_ERR_ARG. */
enum tg_err tg_pkt_parse_flags(struct tg_pkt *out, enum tg_linktype lt, const uint8_t *p,
			       size_t len, unsigned flags) TG_WUR;

/*
 * tg_pkt_linktype() - map a pcap link-layer type (the LINKTYPE_ value in a file header, or the
 * DLT_ value pcap_datalink() returns) to @out. TG_ERR_UNSUPPORTED for any other type.
 */
enum tg_err tg_pkt_linktype(uint32_t pcap_linktype, enum tg_linktype *out) TG_WUR;

/*
 * Internet checksum (RFC 1071, RFC 1624).
 *
 * tg_pkt_csum_add() adds @len bytes as big-endian 16-bit words to the running one's complement
 * sum @sum (start with 0) and returns the new sum (folded, so it never overflows). An odd length
 * is padded with a zero byte, so only the last piece of a checksummed range may be odd.
 * tg_pkt_csum_fold() turns a sum into the checksum field value (its one's complement).
 * tg_pkt_csum() = tg_pkt_csum_fold(tg_pkt_csum_add(0, p, len)): over a header whose checksum
 * field is zero it gives the value to store; over a header with a correct checksum it gives 0.
 */
uint32_t tg_pkt_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t tg_pkt_csum_fold(uint32_t sum);
uint16_t tg_pkt_csum(const uint8_t *p, size_t len);

/*
 * tg_pkt_l4_csum() - TCP/UDP checksum over the IPv4 (RFC 9293 3.1, RFC 768) or IPv6
 * (RFC 8200 8.1) pseudo-header and the segment @seg of @len bytes (header and payload).
 * @ip_version: 4 or 6; @src, @dst: addresses as in struct tg_pkt; @proto: 6 or 17.
 *
 * With the segment's checksum field zeroed the result is the value to store (for UDP, store
 * 0xffff in place of 0: RFC 768); with a correct checksum in place the result is 0.
 */
uint16_t tg_pkt_l4_csum(uint8_t ip_version, const uint8_t src[static 16],
			const uint8_t dst[static 16], uint8_t proto, const uint8_t *seg,
			size_t len);

/*
 * tg_pkt_l4_csum_ok() - true when a parsed TCP or UDP packet carries a correct checksum.
 * UDP over IPv4 with checksum 0 (not computed, RFC 768) counts as correct; over IPv6 it does
 * not (RFC 8200 8.1). False for other protocols, fragments and truncated captures, which do
 * not hold the whole segment. Uses out->dst: with an IPv6 routing header that still has
 * segments left, the pseudo-header's final destination differs and the check fails.
 */
bool tg_pkt_l4_csum_ok(const struct tg_pkt *pkt);

/* tg_pkt_ip4_csum_ok() - true when a parsed IPv4 packet's header checksum is correct. */
bool tg_pkt_ip4_csum_ok(const struct tg_pkt *pkt);

#endif
