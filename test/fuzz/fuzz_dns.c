/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_dns.c - tg_dns_parse() and tg_dns_tcp_frame() on arbitrary bytes. Invariants, each an
 * abort() when broken:
 *  - the parse is deterministic (a second parse gives the same result, field by field);
 *  - on TG_OK: counts add up; every name is lowercase printable ASCII without '.' at either end
 *    or twice in a row, at most 253 characters, NUL-terminated at its length; every span and
 *    offset lies inside the message, rdata where rr_off/rdata_off say, the ech param where
 *    ech_param_off says; dropping the last byte gives TG_ERR_TRUNCATED and adding one gives
 *    TG_ERR_TRAILING;
 *  - a TCP frame is inside the input and its size is the message plus the 2-octet prefix;
 *  - the addresses for the question name are at most the answers, A or AAAA, each one owned
 *    by an answer record with that address, with a TTL no larger than that record's.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsgate/dns.h"

static struct tg_dns_msg m1, m2;

#define FUZZ_ASSERT(c)           \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static void check_name(const struct tg_dns_name *n)
{
	size_t i;

	FUZZ_ASSERT(n->len <= TG_CAP_NAME_LEN);
	FUZZ_ASSERT(n->text[n->len] == '\0');
	for (i = 0; i < n->len; i++) {
		char c = n->text[i];

		FUZZ_ASSERT(c >= 0x21 && c <= 0x7e);
		FUZZ_ASSERT(!(c >= 'A' && c <= 'Z'));
		if (c == '.')
			FUZZ_ASSERT(i > 0 && i + 1 < n->len && n->text[i + 1] != '.');
	}
}

/* @s lies inside [lo, lo + len); an empty span may sit anywhere or be NULL. */
static void check_span(struct tg_span s, const uint8_t *lo, size_t len)
{
	if (s.len == 0)
		return;
	FUZZ_ASSERT(s.p >= lo && s.p + s.len <= lo + len);
}

static void check_svcb(const struct tg_dns_svcb *s, struct tg_span rd, const uint8_t *msg)
{
	size_t i;

	check_name(&s->target);
	FUZZ_ASSERT(s->n_alpn <= TG_CAP_DNS_ALPN);
	FUZZ_ASSERT(s->n_params <= TG_CAP_DNS_SVC_PARAMS);
	for (i = 0; i < s->n_alpn; i++) {
		FUZZ_ASSERT(s->alpn[i].len > 0);
		check_span(s->alpn[i], rd.p, rd.len);
	}
	check_span(s->mandatory, rd.p, rd.len);
	check_span(s->ipv4hint, rd.p, rd.len);
	check_span(s->ipv6hint, rd.p, rd.len);
	FUZZ_ASSERT(s->mandatory.len % 2 == 0 && s->ipv4hint.len % 4 == 0 &&
		    s->ipv6hint.len % 16 == 0);
	if (s->priority == 0)
		FUZZ_ASSERT(s->n_params == 0 && !s->has_ech && s->n_alpn == 0);
	if (!s->has_ech)
		return;
	FUZZ_ASSERT(s->ech.len >= 6);
	FUZZ_ASSERT(msg + s->ech_param_off >= rd.p &&
		    msg + s->ech_param_off + 4 + s->ech.len <= rd.p + rd.len);
	FUZZ_ASSERT(s->ech.p == msg + s->ech_param_off + 4);
	FUZZ_ASSERT(msg[s->ech_param_off] == 0 && msg[s->ech_param_off + 1] == 5);
	FUZZ_ASSERT(((size_t)msg[s->ech_param_off + 2] << 8 | msg[s->ech_param_off + 3]) ==
		    s->ech.len);
}

static void check_rr(const struct tg_dns_rr *rr, const uint8_t *msg, size_t len)
{
	check_name(&rr->name);
	FUZZ_ASSERT(rr->rr_off >= 12 && rr->rr_off < rr->rdata_off);
	FUZZ_ASSERT(rr->rdata_off + rr->rdata.len <= len);
	FUZZ_ASSERT(rr->rdata.p == msg + rr->rdata_off);
	FUZZ_ASSERT(!(rr->ttl & 0x80000000u));
	if (rr->class != TG_DNS_CLASS_IN)
		return;
	switch (rr->type) {
	case TG_DNS_TYPE_A:
		FUZZ_ASSERT(rr->rdata.len == 4 && memcmp(rr->u.a, rr->rdata.p, 4) == 0);
		break;
	case TG_DNS_TYPE_AAAA:
		FUZZ_ASSERT(rr->rdata.len == 16 && memcmp(rr->u.aaaa, rr->rdata.p, 16) == 0);
		break;
	case TG_DNS_TYPE_CNAME:
		check_name(&rr->u.cname);
		break;
	case TG_DNS_TYPE_SVCB:
	case TG_DNS_TYPE_HTTPS:
		check_svcb(&rr->u.svcb, rr->rdata, msg);
		break;
	default:
		break;
	}
}

static bool name_eq(const struct tg_dns_name *a, const struct tg_dns_name *b)
{
	return a->len == b->len && memcmp(a->text, b->text, a->len + 1u) == 0;
}

static bool span_eq(struct tg_span a, struct tg_span b)
{
	return a.p == b.p && a.len == b.len;
}

static bool svcb_eq(const struct tg_dns_svcb *a, const struct tg_dns_svcb *b)
{
	size_t i;

	if (a->priority != b->priority || !name_eq(&a->target, &b->target) ||
	    a->target_compressed != b->target_compressed || a->n_params != b->n_params ||
	    !span_eq(a->mandatory, b->mandatory) || a->n_alpn != b->n_alpn ||
	    a->alpn_skipped != b->alpn_skipped || a->no_default_alpn != b->no_default_alpn ||
	    a->has_port != b->has_port || a->port != b->port ||
	    !span_eq(a->ipv4hint, b->ipv4hint) || !span_eq(a->ipv6hint, b->ipv6hint) ||
	    a->has_ech != b->has_ech || !span_eq(a->ech, b->ech) ||
	    a->ech_param_off != b->ech_param_off)
		return false;
	for (i = 0; i < a->n_alpn; i++)
		if (!span_eq(a->alpn[i], b->alpn[i]))
			return false;
	return true;
}

static bool rr_eq(const struct tg_dns_rr *a, const struct tg_dns_rr *b)
{
	if (!name_eq(&a->name, &b->name) || a->type != b->type || a->class != b->class ||
	    a->ttl != b->ttl || !span_eq(a->rdata, b->rdata) || a->rr_off != b->rr_off ||
	    a->rdata_off != b->rdata_off)
		return false;
	if (a->class != TG_DNS_CLASS_IN)
		return true;
	switch (a->type) {
	case TG_DNS_TYPE_A:
		return memcmp(a->u.a, b->u.a, 4) == 0;
	case TG_DNS_TYPE_AAAA:
		return memcmp(a->u.aaaa, b->u.aaaa, 16) == 0;
	case TG_DNS_TYPE_CNAME:
		return name_eq(&a->u.cname, &b->u.cname);
	case TG_DNS_TYPE_SVCB:
	case TG_DNS_TYPE_HTTPS:
		return svcb_eq(&a->u.svcb, &b->u.svcb);
	default:
		return true;
	}
}

static bool msg_eq(const struct tg_dns_msg *a, const struct tg_dns_msg *b)
{
	size_t i;

	if (a->id != b->id || a->flags != b->flags || a->qr != b->qr || a->opcode != b->opcode ||
	    a->rcode != b->rcode || a->qdcount != b->qdcount || a->ancount != b->ancount ||
	    a->nscount != b->nscount || a->arcount != b->arcount || a->n_q != b->n_q ||
	    a->q_skipped != b->q_skipped || a->n_an != b->n_an || a->an_skipped != b->an_skipped ||
	    a->has_edns != b->has_edns || a->edns_udp_size != b->edns_udp_size ||
	    a->edns_rcode_hi != b->edns_rcode_hi || a->edns_version != b->edns_version ||
	    a->edns_do != b->edns_do || !span_eq(a->edns_options, b->edns_options) ||
	    a->edns_off != b->edns_off)
		return false;
	for (i = 0; i < a->n_q; i++)
		if (!name_eq(&a->q[i].name, &b->q[i].name) || a->q[i].qtype != b->q[i].qtype ||
		    a->q[i].qclass != b->q[i].qclass)
			return false;
	for (i = 0; i < a->n_an; i++)
		if (!rr_eq(&a->an[i], &b->an[i]))
			return false;
	return true;
}

static void check_addrs(const struct tg_dns_msg *m)
{
	static struct tg_dns_addr a[TG_CAP_DNS_ANSWERS];
	size_t n = tg_dns_answer_addrs(m, a, TG_CAP_DNS_ANSWERS), i, k;

	FUZZ_ASSERT(n <= m->n_an);
	FUZZ_ASSERT(tg_dns_answer_addrs(m, a, 1) == (n > 0));
	n = tg_dns_answer_addrs(m, a, TG_CAP_DNS_ANSWERS);
	for (i = 0; i < n; i++) {
		bool found = false;

		FUZZ_ASSERT(a[i].family == 4 || a[i].family == 6);
		for (k = 0; k < m->n_an && !found; k++) {
			const struct tg_dns_rr *rr = &m->an[k];

			if (rr->class != TG_DNS_CLASS_IN)
				continue;
			if (a[i].family == 4)
				found = rr->type == TG_DNS_TYPE_A &&
					!memcmp(rr->u.a, a[i].addr, 4) && a[i].ttl <= rr->ttl;
			else
				found = rr->type == TG_DNS_TYPE_AAAA &&
					!memcmp(rr->u.aaaa, a[i].addr, 16) && a[i].ttl <= rr->ttl;
		}
		FUZZ_ASSERT(found);
	}
}

static void check_msg(const uint8_t *msg, size_t len)
{
	enum tg_err e1 = tg_dns_parse(&m1, msg, len);
	enum tg_err e2 = tg_dns_parse(&m2, msg, len);
	uint8_t *more;
	size_t i;

	FUZZ_ASSERT(e1 == e2);
	FUZZ_ASSERT(e1 != TG_NEED_MORE);
	if (e1 != TG_OK)
		return;
	FUZZ_ASSERT(msg_eq(&m1, &m2));
	FUZZ_ASSERT(len >= 12 && len <= TG_CAP_DNS_MSG);
	FUZZ_ASSERT(m1.n_q <= TG_CAP_DNS_QUESTIONS && m1.n_q + m1.q_skipped == m1.qdcount);
	FUZZ_ASSERT(m1.n_an <= TG_CAP_DNS_ANSWERS && m1.n_an + m1.an_skipped == m1.ancount);
	for (i = 0; i < m1.n_q; i++)
		check_name(&m1.q[i].name);
	for (i = 0; i < m1.n_an; i++)
		check_rr(&m1.an[i], msg, len);
	if (m1.has_edns) {
		FUZZ_ASSERT(m1.edns_off >= 12 && m1.edns_off < len);
		check_span(m1.edns_options, msg, len);
	}
	check_addrs(&m1);
	/* A datagram is all or nothing. */
	FUZZ_ASSERT(tg_dns_parse(&m2, msg, len - 1) == TG_ERR_TRUNCATED);
	more = malloc(len + 1);
	FUZZ_ASSERT(more != NULL);
	memcpy(more, msg, len);
	more[len] = 0;
	FUZZ_ASSERT(tg_dns_parse(&m2, more, len + 1) ==
		    (len + 1 > TG_CAP_DNS_MSG ? TG_ERR_CAP : TG_ERR_TRAILING));
	free(more);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_span msg;
	size_t used;
	enum tg_err e;

	check_msg(data, size);
	e = tg_dns_tcp_frame(data, size, &msg, &used);
	if (e == TG_OK) {
		FUZZ_ASSERT(used == msg.len + 2 && used <= size && msg.p == data + 2);
		FUZZ_ASSERT(msg.len >= 12);
		check_msg(msg.p, msg.len);
	} else {
		FUZZ_ASSERT(e == TG_NEED_MORE || e == TG_ERR_ZERO_LENGTH || e == TG_ERR_DNS_HEADER);
		FUZZ_ASSERT(msg.p == NULL && msg.len == 0 && used == 0);
	}
	return 0;
}
