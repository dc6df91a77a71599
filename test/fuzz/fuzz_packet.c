/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_packet.c - the input is one captured frame, dissected under every link-layer type and
 * every flag combination. Invariants (abort() on violation):
 *   - the answer is a known error code; parsing twice gives the same answer and result;
 *   - on TG_OK: l3 lies inside the input, l4 inside l3, payload inside l4; l3 is exactly the
 *     IP length unless the capture was truncated (only allowed with TG_PKT_F_PARTIAL); the
 *     header lengths agree with where l4 and payload start; counts stay within their caps;
 *     only TCP can carry malformed options;
 *   - on TG_ERR_IP_FRAGMENT: l3 lies inside the input and the packet is marked a fragment;
 *   - TG_PKT_F_PARTIAL only widens what is accepted: an accepted frame parses the same with it;
 *   - cutting an accepted frame one byte before the end of its IP packet is TG_ERR_TRUNCATED;
 *   - tg_pkt_parse() is tg_pkt_parse_link() with TG_LINK_RAW;
 *   - the checksum equals a byte-by-byte reference sum.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/pkt.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static int span_in(struct tg_span s, const uint8_t *p, size_t len)
{
	if (s.len == 0)
		return s.p == NULL || (s.p >= p && s.p <= p + len);
	return s.p >= p && s.p + s.len <= p + len;
}

static void check_ok(const struct tg_pkt *k, const uint8_t *data, size_t size, unsigned flags)
{
	size_t i;

	check(k->ip_version == 4 || k->ip_version == 6);
	check(span_in(k->l3, data, size) && k->l3.len > 0);
	check(span_in(k->l4, k->l3.p, k->l3.len));
	check(span_in(k->payload, k->l4.p, k->l4.len));
	check(k->l3.len <= k->ip_len);
	check(k->truncated ? (flags & TG_PKT_F_PARTIAL) && k->l3.len < k->ip_len
			   : k->l3.len == k->ip_len);
	check(k->l4.p == k->l3.p + k->ip_hdr_len);
	check(k->n_vlan <= TG_CAP_VLAN_TAGS && k->n_ext <= TG_CAP_IP6_EXT_HDRS);
	check(k->opts.n_kinds <= TG_CAP_TCP_OPTS);
	check(k->ip_version == 6 || k->n_ext == 0);
	if (k->ip_version == 4)
		for (i = 4; i < 16; i++)
			check(k->src[i] == 0 && k->dst[i] == 0);
	check(!k->fragment || k->frag_off == 0);
	check(k->proto == TG_IPPROTO_TCP || !k->opts.malformed);
	switch (k->proto) {
	case TG_IPPROTO_TCP:
		check(k->tcp_hdr_len >= 20 && k->tcp_hdr_len <= 60 && k->tcp_hdr_len % 4 == 0);
		check(k->payload.p == k->l4.p + k->tcp_hdr_len);
		check(k->payload.len == k->l4.len - k->tcp_hdr_len);
		break;
	case TG_IPPROTO_UDP:
		check(k->udp_len >= 8 && k->l4.len <= k->udp_len);
		check(k->payload.p == k->l4.p + 8 && k->payload.len == k->l4.len - 8);
		break;
	default:
		check(k->payload.len == 0);
		break;
	}
	(void)tg_pkt_l4_csum_ok(k);
	(void)tg_pkt_ip4_csum_ok(k);
}

static uint16_t csum_ref(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < len; i++)
		s += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned flag_sets[] = { 0, TG_PKT_F_PARTIAL, TG_PKT_F_TSO,
					      TG_PKT_F_PARTIAL | TG_PKT_F_TSO };
	struct tg_pkt k, again;
	enum tg_err err, err2;
	unsigned lt, f;

	for (lt = TG_LINK_RAW; lt <= TG_LINK_SLL2; lt++) {
		for (f = 0; f < 4; f++) {
			unsigned flags = flag_sets[f];

			err = tg_pkt_parse_flags(&k, (enum tg_linktype)lt, data, size, flags);
			check((unsigned)err < TG_ERR__COUNT);
			err2 = tg_pkt_parse_flags(&again, (enum tg_linktype)lt, data, size, flags);
			check(err == err2 && memcmp(&k, &again, sizeof(k)) == 0);
			if (err == TG_ERR_IP_FRAGMENT)
				check(span_in(k.l3, data, size) && k.fragment);
			if (err != TG_OK)
				continue;
			check_ok(&k, data, size, flags);
			if (!(flags & TG_PKT_F_PARTIAL)) {
				err2 = tg_pkt_parse_flags(&again, (enum tg_linktype)lt, data, size,
							  flags | TG_PKT_F_PARTIAL);
				check(err2 == TG_OK && memcmp(&k, &again, sizeof(k)) == 0);
			}
			if (flags == 0) {
				size_t cut = (size_t)(k.l3.p - data) + k.l3.len - 1;

				err2 = tg_pkt_parse_link(&again, (enum tg_linktype)lt, data, cut);
				check(err2 == TG_ERR_TRUNCATED);
			}
		}
	}
	err = tg_pkt_parse(&k, data, size);
	err2 = tg_pkt_parse_link(&again, TG_LINK_RAW, data, size);
	check(err == err2 && memcmp(&k, &again, sizeof(k)) == 0);
	check(tg_pkt_csum(data, size) == csum_ref(data, size));
	if (size > 1)
		check(tg_pkt_csum_fold(tg_pkt_csum_add(tg_pkt_csum_add(0, data, size & ~(size_t)1),
						       data + (size & ~(size_t)1), size & 1)) ==
		      csum_ref(data, size));
	return 0;
}
