/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkt.c - packet dissector: link layer, IPv4, IPv6 extension headers, TCP, UDP; checksums.
 *
 * Link layers (tcpdump.org link-layer header types):
 *   Ethernet II   dst(6) src(6) type(2), then per 802.1Q/802.1ad tag: TCI(2) type(2)
 *   DLT_NULL      address family(4), the capturing host's byte order
 *   DLT_LOOP      address family(4), network byte order
 *   Linux SLL     pkttype(2) hatype(2) halen(2) addr(8) protocol(2)               = 16 bytes
 *   Linux SLL2    protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8) = 20
 *
 * IPv4 (RFC 791 3.1):
 *   ver(4) ihl(4) tos(8) total_length(16) | id(16) flags(3) frag_off(13) | ttl proto csum(16)
 *   src(32) dst(32) options(ihl*4 - 20): EOL(0), NOP(1), or kind len(>= 2) data(len - 2)
 *
 * IPv6 (RFC 8200 3, 4):
 *   ver(4) traffic_class(8) flow_label(20) | payload_length(16) next_header(8) hop_limit(8)
 *   src(128) dst(128), then a chain of extension headers, each naming the next:
 *     hop-by-hop (0, only first), routing (43), destination options (60):
 *       next(8) hdr_ext_len(8) data((hdr_ext_len + 1) * 8 - 2); options are TLVs: Pad1 (0)
 *       or type(8) len(8) data(len) filling the header exactly (RFC 8200 4.2)
 *     fragment (44): next(8) reserved(8) offset(13) res(2) M(1) identification(32)
 *     AH (51, RFC 4302 2): next(8) payload_len(8) then (payload_len + 2) * 4 - 2 bytes
 *   ESP (50) and no-next-header (59) end the walk: what follows is opaque.
 *
 * TCP (RFC 9293 3.1): sport dport seq ack | data_offset(4) reserved(4) flags(8) window(16) |
 *   csum(16) urgent(16) | options(data_offset * 4 - 20): EOL(0), NOP(1), or kind len data
 *   (MSS kind 2 len 4, window scale kind 3 len 3 (RFC 7323 2.2), SACK-permitted kind 4 len 2
 *   (RFC 2018), timestamps kind 8 len 10 (RFC 7323 3.2)).
 *   Options are read the way Linux's tcp_parse_options() reads them, because the server's
 *   stack is what decides whether the segment's data counts: EOL ends the list, NOP is one
 *   byte, a kind without a length byte, a length below 2 or a length past the end of the
 *   options stops the walk, and a known option of the wrong length is skipped by its length
 *   and not recorded. None of these fail the packet (Linux accepts its data); they set
 *   opts.malformed. Linux honours MSS, window scale and SACK-permitted only on SYNs; they are
 *   recorded here on any segment.
 * UDP (RFC 768): sport dport length(>= 8) csum.
 *
 * The length policy and the fragment rules are in pkt.h.
 */
#include <string.h>

#include "tlsgate/pkt.h"

#define ETH_P_IPV4   0x0800
#define ETH_P_IPV6   0x86dd
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1  0x9100 /* pre-standard QinQ, still seen on switches */

#define IP4_HDR_MIN 20
#define IP6_HDR_LEN 40
#define TCP_HDR_MIN 20
#define UDP_HDR_LEN 8

/* TCP option kinds (IANA "TCP Parameters"). */
#define TCP_OPT_EOL	  0
#define TCP_OPT_NOP	  1
#define TCP_OPT_MSS	  2
#define TCP_OPT_WSCALE	  3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_TS	  8

/* A header ran out of bytes inside the packet: say whose fault that is (see pkt.h). */
static enum tg_err pkt_short(const struct tg_pkt *out, enum tg_err lying)
{
	if (out->truncated)
		return TG_ERR_TRUNCATED;
	if (out->fragment)
		return TG_ERR_IP_FRAGMENT;
	return lying;
}

static uint32_t pkt_len32(size_t len)
{
	return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

/* Copy an @n-byte address into @dst (16 bytes, zero-filled by the caller). */
static void pkt_addr(struct tg_cur *c, uint8_t dst[static 16], size_t n)
{
	struct tg_span s = tg_cur_span(c, n);

	if (s.p != NULL)
		memcpy(dst, s.p, s.len);
}

/*
 * Decide how much of the buffer is the packet: @ip_len bytes if they were all captured;
 * otherwise TRUNCATED, or what was captured under TG_PKT_F_PARTIAL. Sets l3.
 */
static enum tg_err pkt_l3_set(struct tg_pkt *out, struct tg_span all, unsigned flags)
{
	size_t n = out->ip_len;

	if (n > all.len) {
		if (!(flags & TG_PKT_F_PARTIAL))
			return TG_ERR_TRUNCATED;
		out->truncated = true;
		n = all.len;
	}
	out->l3.p = all.p;
	out->l3.len = n;
	return TG_OK;
}

static void pkt_tcp_opt_eol(struct tg_tcp_opts *o, struct tg_cur *c)
{
	o->eol_pad = (uint8_t)tg_cur_left(c);
	while (tg_cur_left(c))
		if (tg_cur_u8(c) != 0)
			o->eol_pad_nonzero = true;
}

/* The exact length of each option the dissector decodes; 0 for the ones it skips. */
static const uint8_t pkt_tcp_opt_len[] = {
	[TCP_OPT_MSS] = 4,
	[TCP_OPT_WSCALE] = 3,
	[TCP_OPT_SACK_PERM] = 2,
	[TCP_OPT_TS] = 10,
};

static uint8_t pkt_tcp_opt_want(uint8_t kind)
{
	return kind < sizeof(pkt_tcp_opt_len) ? pkt_tcp_opt_len[kind] : 0;
}

/*
 * One option with a length byte; @kind is already read. Returns false where Linux stops
 * parsing: no length byte, a length below 2, or a length past the end of the options.
 */
static bool pkt_tcp_opt(struct tg_tcp_opts *o, struct tg_cur *c, uint8_t kind)
{
	struct tg_cur v;
	uint8_t len, want;

	if (tg_cur_left(c) == 0)
		return false;
	len = tg_cur_u8(c);
	if (len < 2 || len - 2u > tg_cur_left(c))
		return false;
	(void)tg_cur_sub(c, len - 2u, &v);
	want = pkt_tcp_opt_want(kind);
	if (want != 0 && len != want) {
		/* Linux ignores it and reads on; so does the server this segment is going to. */
		o->malformed = true;
		return true;
	}
	switch (kind) {
	case TCP_OPT_MSS:
		o->has_mss = true;
		o->mss = tg_cur_u16(&v);
		break;
	case TCP_OPT_WSCALE:
		o->has_wscale = true;
		o->wscale = tg_cur_u8(&v);
		break;
	case TCP_OPT_SACK_PERM:
		o->sack_perm = true;
		break;
	case TCP_OPT_TS:
		o->has_ts = true;
		o->tsval = tg_cur_u32(&v);
		o->tsecr = tg_cur_u32(&v);
		break;
	default:
		/* Unknown or undecoded (SACK blocks, MD5, TCP-AO, MPTCP, fast open): skip by length. */
		break;
	}
	return true;
}

/* Never fails: what Linux would not parse ends the walk with o->malformed set. */
static void pkt_tcp_opts(struct tg_tcp_opts *o, struct tg_cur *c)
{
	while (tg_cur_left(c)) {
		uint8_t kind = tg_cur_u8(c);

		if (o->n_kinds < TG_CAP_TCP_OPTS)
			o->kinds[o->n_kinds++] = kind;
		if (kind == TCP_OPT_EOL) {
			pkt_tcp_opt_eol(o, c);
			break;
		}
		if (kind == TCP_OPT_NOP)
			continue;
		if (!pkt_tcp_opt(o, c, kind)) {
			o->malformed = true;
			break;
		}
	}
}

static enum tg_err pkt_tcp(struct tg_pkt *out, struct tg_span seg)
{
	struct tg_cur c, opts;
	uint8_t off;

	tg_cur_init(&c, seg.p, seg.len);
	out->sport = tg_cur_u16(&c);
	out->dport = tg_cur_u16(&c);
	out->seq = tg_cur_u32(&c);
	out->ack = tg_cur_u32(&c);
	off = tg_cur_u8(&c);
	out->tcp_flags = tg_cur_u8(&c);
	out->window = tg_cur_u16(&c);
	(void)tg_cur_skip(&c, 2); /* checksum: see tg_pkt_l4_csum_ok() */
	out->urg_ptr = tg_cur_u16(&c);
	if (!tg_cur_ok(&c))
		return pkt_short(out, TG_ERR_TCP_HEADER);
	out->tcp_hdr_len = (uint8_t)((off >> 4) * 4);
	if (out->tcp_hdr_len < TCP_HDR_MIN)
		return TG_ERR_TCP_HEADER;
	if (!tg_cur_sub(&c, out->tcp_hdr_len - TCP_HDR_MIN, &opts))
		return pkt_short(out, TG_ERR_TCP_HEADER);
	out->payload = tg_cur_rest(&c);
	pkt_tcp_opts(&out->opts, &opts);
	return TG_OK;
}

static enum tg_err pkt_udp(struct tg_pkt *out, struct tg_span seg)
{
	struct tg_cur c;
	size_t avail, declared;

	tg_cur_init(&c, seg.p, seg.len);
	out->sport = tg_cur_u16(&c);
	out->dport = tg_cur_u16(&c);
	out->udp_len = tg_cur_u16(&c);
	(void)tg_cur_skip(&c, 2);
	if (!tg_cur_ok(&c))
		return pkt_short(out, TG_ERR_UDP_HEADER);
	if (out->udp_len < UDP_HDR_LEN)
		return TG_ERR_UDP_HEADER;
	/* What the IP header says the datagram holds; more than the capture when truncated. */
	declared = out->truncated ? out->ip_len - out->ip_hdr_len : seg.len;
	if (out->udp_len > declared && !out->fragment)
		return TG_ERR_UDP_HEADER;
	/* Bytes after the UDP length are not part of the datagram (RFC 768). */
	avail = out->udp_len < seg.len ? out->udp_len : seg.len;
	tg_cur_init(&c, seg.p, avail);
	(void)tg_cur_skip(&c, UDP_HDR_LEN);
	out->payload = tg_cur_rest(&c);
	out->l4.len = avail;
	return TG_OK;
}

/* @c is positioned at the transport header; out->proto says which. */
static enum tg_err pkt_l4(struct tg_pkt *out, struct tg_cur *c)
{
	out->ip_hdr_len = (uint16_t)tg_cur_pos(c);
	out->l4 = tg_cur_rest(c);
	switch (out->proto) {
	case TG_IPPROTO_TCP:
		return pkt_tcp(out, out->l4);
	case TG_IPPROTO_UDP:
		return pkt_udp(out, out->l4);
	default:
		return TG_OK;
	}
}

/* IPv4 options: TLVs with EOL and NOP as single bytes (RFC 791 3.1). */
static bool pkt_ip4_opts_ok(struct tg_cur *c)
{
	while (tg_cur_left(c)) {
		uint8_t kind = tg_cur_u8(c), len;

		if (kind == 0)
			return tg_cur_skip(c, tg_cur_left(c));
		if (kind == 1)
			continue;
		len = tg_cur_u8(c);
		if (len < 2 || !tg_cur_skip(c, len - 2u))
			return false;
	}
	return tg_cur_ok(c);
}

static enum tg_err pkt_ip4(struct tg_pkt *out, struct tg_span all, unsigned flags)
{
	struct tg_cur c, opts;
	uint8_t vihl;
	uint16_t fo;
	size_t ihl;
	enum tg_err err;

	tg_cur_init(&c, all.p, all.len);
	vihl = tg_cur_u8(&c);
	out->tos = tg_cur_u8(&c);
	out->ip_len = tg_cur_u16(&c);
	out->ip_id = tg_cur_u16(&c);
	fo = tg_cur_u16(&c);
	out->ttl = tg_cur_u8(&c);
	out->proto = tg_cur_u8(&c);
	(void)tg_cur_skip(&c, 2); /* header checksum: see tg_pkt_ip4_csum_ok() */
	pkt_addr(&c, out->src, 4);
	pkt_addr(&c, out->dst, 4);
	if (!tg_cur_ok(&c))
		return c.err;
	out->ip_version = 4;
	out->df = (fo & 0x4000) != 0;
	out->more_frags = (fo & 0x2000) != 0;
	out->frag_off = (uint16_t)((fo & 0x1fff) * 8);
	out->frag_id = out->ip_id;
	out->fragment = out->more_frags || out->frag_off != 0;
	ihl = (size_t)(vihl & 0x0f) * 4;
	out->ip_hdr_len = (uint16_t)ihl;
	if (out->ip_len == 0 && (flags & TG_PKT_F_TSO))
		out->ip_len = pkt_len32(all.len);
	if (ihl < IP4_HDR_MIN || out->ip_len < ihl)
		return TG_ERR_IP_HEADER;
	err = pkt_l3_set(out, all, flags);
	if (err != TG_OK)
		return err;

	tg_cur_init(&c, out->l3.p, out->l3.len);
	(void)tg_cur_skip(&c, IP4_HDR_MIN);
	if (!tg_cur_sub(&c, ihl - IP4_HDR_MIN, &opts))
		return TG_ERR_TRUNCATED; /* only a partial capture can end inside the header */
	if (!pkt_ip4_opts_ok(&opts))
		return TG_ERR_IP_HEADER;
	if (out->frag_off != 0)
		return TG_ERR_IP_FRAGMENT;
	return pkt_l4(out, &c);
}

/* Hop-by-hop and destination options: TLVs that fill the header exactly (RFC 8200 4.2). */
static enum tg_err pkt_ip6_tlvs(struct tg_cur *c)
{
	while (tg_cur_left(c)) {
		uint8_t type = tg_cur_u8(c), len;

		if (type == 0) /* Pad1 */
			continue;
		len = tg_cur_u8(c);
		if (!tg_cur_skip(c, len))
			return TG_ERR_IP6_EXT;
		if (type == 0xc2) /* Jumbo Payload (RFC 2675) */
			return TG_ERR_UNSUPPORTED;
	}
	return tg_cur_ok(c) ? TG_OK : TG_ERR_IP6_EXT;
}

/* One extension header at @c whose type is out->proto; sets out->proto to the next one. */
static enum tg_err pkt_ip6_ext(struct tg_pkt *out, struct tg_cur *c)
{
	struct tg_cur body;
	uint8_t next, hlen;
	uint16_t offm;
	uint32_t id;

	next = tg_cur_u8(c);
	hlen = tg_cur_u8(c);
	switch (out->proto) {
	case TG_IPPROTO_FRAGMENT:
		offm = tg_cur_u16(c);
		id = tg_cur_u32(c);
		if (!tg_cur_ok(c))
			return pkt_short(out, TG_ERR_IP6_EXT);
		out->proto = next;
		out->frag_off = (uint16_t)(offm & 0xfff8);
		out->more_frags = (offm & 1) != 0;
		out->frag_id = id;
		/* An atomic fragment (offset 0, M clear) is a whole packet (RFC 6946). */
		if (out->frag_off == 0 && !out->more_frags)
			return TG_OK;
		out->fragment = true;
		return out->frag_off ? TG_ERR_IP_FRAGMENT : TG_OK;
	case TG_IPPROTO_AH:
		if (!tg_cur_skip(c, ((size_t)hlen + 2) * 4 - 2))
			return pkt_short(out, TG_ERR_IP6_EXT);
		out->proto = next;
		return TG_OK;
	case TG_IPPROTO_ROUTING:
		if (!tg_cur_skip(c, ((size_t)hlen + 1) * 8 - 2))
			return pkt_short(out, TG_ERR_IP6_EXT);
		out->proto = next;
		return TG_OK;
	default: /* hop-by-hop, destination options */
		if (!tg_cur_sub(c, ((size_t)hlen + 1) * 8 - 2, &body))
			return pkt_short(out, TG_ERR_IP6_EXT);
		out->proto = next;
		return pkt_ip6_tlvs(&body);
	}
}

static bool pkt_ip6_is_ext(uint8_t proto)
{
	switch (proto) {
	case TG_IPPROTO_HOPOPTS:
	case TG_IPPROTO_ROUTING:
	case TG_IPPROTO_FRAGMENT:
	case TG_IPPROTO_DSTOPTS:
	case TG_IPPROTO_AH:
		return true;
	default:
		return false;
	}
}

static enum tg_err pkt_ip6(struct tg_pkt *out, struct tg_span all, unsigned flags)
{
	struct tg_cur c;
	uint32_t vtf;
	enum tg_err err;

	tg_cur_init(&c, all.p, all.len);
	vtf = tg_cur_u32(&c);
	out->ip_len = IP6_HDR_LEN + (uint32_t)tg_cur_u16(&c);
	out->proto = tg_cur_u8(&c);
	out->ttl = tg_cur_u8(&c);
	pkt_addr(&c, out->src, 16);
	pkt_addr(&c, out->dst, 16);
	if (!tg_cur_ok(&c))
		return c.err;
	out->ip_version = 6;
	out->tos = (uint8_t)(vtf >> 20);
	out->flow_label = vtf & 0xfffff;
	if (out->ip_len == IP6_HDR_LEN && out->proto != TG_IPPROTO_NONE && (flags & TG_PKT_F_TSO))
		out->ip_len = pkt_len32(all.len);
	err = pkt_l3_set(out, all, flags);
	if (err != TG_OK)
		return err;

	tg_cur_init(&c, out->l3.p, out->l3.len);
	(void)tg_cur_skip(&c, IP6_HDR_LEN);
	while (pkt_ip6_is_ext(out->proto)) {
		/* Hop-by-hop options must come first (RFC 8200 4.1); a cap bounds the walk. */
		if (out->n_ext == TG_CAP_IP6_EXT_HDRS ||
		    (out->proto == TG_IPPROTO_HOPOPTS && out->n_ext != 0))
			return TG_ERR_IP6_EXT;
		out->n_ext++;
		err = pkt_ip6_ext(out, &c);
		if (err != TG_OK) {
			out->ip_hdr_len = (uint16_t)tg_cur_pos(&c);
			return err;
		}
	}
	return pkt_l4(out, &c);
}

/* @want: 4 or 6 when the link layer announced the version, 0 when it did not. */
static enum tg_err pkt_ip(struct tg_pkt *out, struct tg_span all, unsigned want, unsigned flags)
{
	struct tg_cur c;
	unsigned version;

	tg_cur_init(&c, all.p, all.len);
	if (tg_cur_left(&c) == 0)
		return TG_ERR_TRUNCATED;
	version = tg_cur_peek(&c, 0) >> 4;
	if ((version != 4 && version != 6) || (want != 0 && version != want))
		return TG_ERR_IP_VERSION;
	return version == 4 ? pkt_ip4(out, all, flags) : pkt_ip6(out, all, flags);
}

/* An EtherType, after any VLAN tags: which IP version follows. */
static enum tg_err pkt_ethertype(struct tg_pkt *out, struct tg_cur *c, uint16_t type,
				 unsigned *want)
{
	while (type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ1) {
		uint16_t tci = tg_cur_u16(c);

		type = tg_cur_u16(c);
		if (!tg_cur_ok(c))
			return c->err;
		if (out->n_vlan == TG_CAP_VLAN_TAGS)
			return TG_ERR_CAP;
		out->vlan[out->n_vlan++] = tci;
	}
	switch (type) {
	case ETH_P_IPV4:
		*want = 4;
		return TG_OK;
	case ETH_P_IPV6:
		*want = 6;
		return TG_OK;
	default:
		return TG_ERR_UNSUPPORTED;
	}
}

/* BSD address families: AF_INET is 2 everywhere, AF_INET6 differs by system. */
static enum tg_err pkt_af(uint32_t af, unsigned *want)
{
	switch (af) {
	case 2:
		*want = 4;
		return TG_OK;
	case 10: /* Linux */
	case 23: /* Windows */
	case 24: /* NetBSD, OpenBSD, BSD/OS */
	case 28: /* FreeBSD, DragonFly */
	case 30: /* macOS */
		*want = 6;
		return TG_OK;
	default:
		return TG_ERR_UNSUPPORTED;
	}
}

static uint32_t pkt_bswap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

/* Consume the link-layer header from @c; *want tells the IP version it announced. */
static enum tg_err pkt_link(struct tg_pkt *out, enum tg_linktype lt, struct tg_cur *c,
			    unsigned *want)
{
	uint32_t af;
	uint16_t type;

	switch (lt) {
	case TG_LINK_RAW:
		return TG_OK;
	case TG_LINK_ETHERNET:
		(void)tg_cur_skip(c, 12);
		type = tg_cur_u16(c);
		break;
	case TG_LINK_SLL:
		(void)tg_cur_skip(c, 14);
		type = tg_cur_u16(c);
		break;
	case TG_LINK_SLL2:
		type = tg_cur_u16(c);
		(void)tg_cur_skip(c, 18);
		break;
	case TG_LINK_NULL:
	case TG_LINK_LOOP:
		af = tg_cur_u32(c);
		if (!tg_cur_ok(c))
			return c->err;
		/* Families are small numbers: a value above 16 bits was written little-endian. */
		if (lt == TG_LINK_NULL && af > 0xffff)
			af = pkt_bswap32(af);
		return pkt_af(af, want);
	default:
		return TG_ERR_ARG;
	}
	if (!tg_cur_ok(c))
		return c->err;
	return pkt_ethertype(out, c, type, want);
}

enum tg_err tg_pkt_parse_flags(struct tg_pkt *out, enum tg_linktype lt, const uint8_t *p,
			       size_t len, unsigned flags)
{
	struct tg_cur c;
	unsigned want = 0;
	enum tg_err err;

	memset(out, 0, sizeof(*out));
	if (flags & ~(TG_PKT_F_PARTIAL | TG_PKT_F_TSO)) {
		err = TG_ERR_ARG;
		goto out;
	}
	tg_cur_init(&c, p, len);
	err = pkt_link(out, lt, &c, &want);
	if (err != TG_OK)
		goto out;
	err = pkt_ip(out, tg_cur_rest(&c), want, flags);
out:
	return err;
}

enum tg_err tg_pkt_parse_link(struct tg_pkt *out, enum tg_linktype lt, const uint8_t *p, size_t len)
{
	return tg_pkt_parse_flags(out, lt, p, len, 0);
}

enum tg_err tg_pkt_parse(struct tg_pkt *out, const uint8_t *p, size_t len)
{
	return tg_pkt_parse_flags(out, TG_LINK_RAW, p, len, 0);
}

enum tg_err tg_pkt_linktype(uint32_t pcap_linktype, enum tg_linktype *out)
{
	switch (pcap_linktype) {
	case 0: /* NULL */
		*out = TG_LINK_NULL;
		return TG_OK;
	case 1: /* EN10MB */
		*out = TG_LINK_ETHERNET;
		return TG_OK;
	case 12: /* DLT_RAW */
	case 101: /* LINKTYPE_RAW */
	case 228: /* IPV4 */
	case 229: /* IPV6 */
		*out = TG_LINK_RAW;
		return TG_OK;
	case 108: /* LOOP */
		*out = TG_LINK_LOOP;
		return TG_OK;
	case 113: /* LINUX_SLL */
		*out = TG_LINK_SLL;
		return TG_OK;
	case 276: /* LINUX_SLL2 */
		*out = TG_LINK_SLL2;
		return TG_OK;
	default:
		return TG_ERR_UNSUPPORTED;
	}
}

uint32_t tg_pkt_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	struct tg_cur c;
	uint64_t s = sum;

	tg_cur_init(&c, p, len);
	/* 2^16 = 1 modulo 2^16 - 1, so 32-bit words sum to the same one's complement total. */
	while (tg_cur_left(&c) >= 4)
		s += tg_cur_u32(&c);
	if (tg_cur_left(&c) >= 2)
		s += tg_cur_u16(&c);
	if (tg_cur_left(&c))
		s += (uint32_t)tg_cur_u8(&c) << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t tg_pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t tg_pkt_csum(const uint8_t *p, size_t len)
{
	return tg_pkt_csum_fold(tg_pkt_csum_add(0, p, len));
}

uint16_t tg_pkt_l4_csum(uint8_t ip_version, const uint8_t src[static 16],
			const uint8_t dst[static 16], uint8_t proto, const uint8_t *seg, size_t len)
{
	size_t alen = ip_version == 4 ? 4 : 16;
	uint32_t sum;

	/* IPv4: src dst 0 proto len16; IPv6: src dst len32 0 0 0 next. Same word sums. */
	sum = tg_pkt_csum_add(0, src, alen);
	sum = tg_pkt_csum_add(sum, dst, alen);
	sum += proto;
	sum += (uint32_t)(len & 0xffff) + (uint32_t)((len >> 16) & 0xffff);
	sum = tg_pkt_csum_add(sum, seg, len);
	return tg_pkt_csum_fold(sum);
}

bool tg_pkt_l4_csum_ok(const struct tg_pkt *pkt)
{
	struct tg_cur c;
	uint16_t field;

	if (pkt->fragment || pkt->truncated)
		return false;
	if (pkt->proto != TG_IPPROTO_TCP && pkt->proto != TG_IPPROTO_UDP)
		return false;
	tg_cur_init(&c, pkt->l4.p, pkt->l4.len);
	(void)tg_cur_skip(&c, pkt->proto == TG_IPPROTO_TCP ? 16 : 6);
	field = tg_cur_u16(&c);
	if (!tg_cur_ok(&c))
		return false;
	if (pkt->proto == TG_IPPROTO_UDP && field == 0)
		return pkt->ip_version == 4;
	return tg_pkt_l4_csum(pkt->ip_version, pkt->src, pkt->dst, pkt->proto, pkt->l4.p,
			      pkt->l4.len) == 0;
}

bool tg_pkt_ip4_csum_ok(const struct tg_pkt *pkt)
{
	if (pkt->ip_version != 4 || pkt->l3.len < pkt->ip_hdr_len || pkt->ip_hdr_len < IP4_HDR_MIN)
		return false;
	return tg_pkt_csum(pkt->l3.p, pkt->ip_hdr_len) == 0;
}
