/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns_ech.c - strip ech SvcParams from a DNS response; see dns_ech.h.
 *
 * DNS message (RFC 1035 4.1): header (12), questions (name, type, class), then answer,
 * authority and additional records (name, type, class, ttl, rdlength, rdata). SVCB/HTTPS rdata
 * (RFC 9460 2.2): priority (2), target name, then SvcParams (key 2, length 2, value).
 *
 * The message is walked twice with the cursor, record by record, whatever the parser's caps:
 * the first walk finds every ech parameter (the cuts, in message order) of every class IN
 * HTTPS and SVCB record in all three sections; after the copy without them, the second walk
 * lowers the RDLENGTH of each record that lost one and moves every compression pointer.
 *
 * Removed ranges hold no names, and a compression pointer always points at a name, so a
 * pointer's new target is its old target minus the bytes removed before it. A crafted message
 * whose pointer lands inside a removed parameter cannot be rewritten: TG_ERR_DNS_RR. Pointers
 * are found by walking every name the format has: question names, owner names, and the names
 * inside the rdata of the types that may carry compressed names (RFC 3597 4: only the RFC 1035
 * types; later types must not compress, so their rdata is copied as is, except the SVCB/HTTPS
 * target, fixed in case a server compressed it anyway).
 *
 * AliasMode records (priority 0) keep their SvcParams: RFC 9460 2.4.2 tells clients to ignore
 * them, and the parser does the same.
 */
#include <stdbool.h>
#include <string.h>

#include "tlsgate/caps.h"
#include "tlsgate/cursor.h"
#include "tlsgate/dns_ech.h"

#define DNS_HEADER_LEN 12

struct cut {
	size_t off; /* input offset of the ech SvcParamKey */
	size_t len; /* key, length and value: 4 + the value's length */
	size_t before; /* octets removed by the cuts before this one */
};

struct strip {
	const uint8_t *in;
	uint8_t *out;
	size_t len;
	bool fix; /* second walk: rewrite pointers and RDLENGTHs in @out */
	size_t ncuts;
	struct cut cuts[TG_CAP_DNS_ECH_CUTS];
};

/* How many cuts start before input offset @x (they are in message order). */
static size_t cuts_before(const struct strip *s, size_t x)
{
	size_t lo = 0, hi = s->ncuts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->cuts[mid].off < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* True when input offset @x lies inside a removed range. */
static bool in_cut(const struct strip *s, size_t x)
{
	size_t k = cuts_before(s, x + 1);

	return k > 0 && x < s->cuts[k - 1].off + s->cuts[k - 1].len;
}

/* Bytes removed before input offset @x, which lies in no cut. */
static size_t shift_at(const struct strip *s, size_t x)
{
	size_t k = cuts_before(s, x);

	return k ? s->cuts[k - 1].before + s->cuts[k - 1].len : 0;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Walk one name at @c, a cursor whose positions are message offsets. On the second walk, the
 * name's pointer (if any) is rewritten in the output.
 */
static void name_walk(struct strip *s, struct tg_cur *c)
{
	unsigned labels = 0;

	while (tg_cur_ok(c)) {
		size_t pos = tg_cur_pos(c), target;
		uint8_t l = tg_cur_u8(c);

		if (l == 0)
			return;
		if ((l & 0xc0) == 0xc0) {
			target = (size_t)(l & 0x3f) << 8 | tg_cur_u8(c);
			if (!tg_cur_ok(c) || !s->fix)
				return;
			/* A pointer into a removed parameter (only a crafted message has one). */
			if (in_cut(s, target)) {
				tg_cur_fail(c, TG_ERR_DNS_RR);
				return;
			}
			put16(s->out + pos - shift_at(s, pos),
			      0xc000 | (target - shift_at(s, target)));
			return;
		}
		/* 127 labels of one octet fill the 255 octets a name may have. */
		if ((l & 0xc0) != 0 || ++labels > 127) {
			tg_cur_fail(c, TG_ERR_DNS_RR);
			return;
		}
		(void)tg_cur_skip(c, l);
	}
}

/* SVCB/HTTPS rdata at @r: the target, then (first walk) each ech parameter becomes a cut. */
static void svcb_walk(struct strip *s, struct tg_cur *r)
{
	uint16_t priority = tg_cur_u16(r);

	name_walk(s, r);
	if (priority == 0 || s->fix)
		return;
	while (tg_cur_left(r) > 0) {
		size_t key_off = tg_cur_pos(r);
		uint16_t key = tg_cur_u16(r);
		struct cut *prev = s->ncuts ? &s->cuts[s->ncuts - 1] : NULL;
		struct tg_cur v;

		/* A parameter running past the rdata: the cursor carries the error. */
		if (!tg_cur_vec16(r, &v))
			return;
		if (key != TG_DNS_SVC_ECH)
			continue;
		if (s->ncuts == TG_CAP_DNS_ECH_CUTS) {
			tg_cur_fail(r, TG_ERR_CAP);
			return;
		}
		s->cuts[s->ncuts].off = key_off;
		s->cuts[s->ncuts].len = 4 + v.len;
		s->cuts[s->ncuts].before = prev ? prev->before + prev->len : 0;
		s->ncuts++;
	}
}

/* The names inside the rdata at @r of the types that may compress them (RFC 3597 4). */
static void rdata_walk(struct strip *s, struct tg_cur *r, uint16_t type, uint16_t class)
{
	switch (type) {
	case 2:
	case 3:
	case 4:
	case 5:
	case 7:
	case 8:
	case 9:
	case 12: /* NS MD MF CNAME MB MG MR PTR */
		name_walk(s, r);
		break;
	case 6: /* SOA: mname, rname */
	case 14: /* MINFO: rmailbx, emailbx */
		name_walk(s, r);
		name_walk(s, r);
		break;
	case 15: /* MX: preference, exchange */
		(void)tg_cur_skip(r, 2);
		name_walk(s, r);
		break;
	case TG_DNS_TYPE_SVCB:
	case TG_DNS_TYPE_HTTPS:
		/* Other classes do not define this rdata; clients only use class IN. */
		if (class == TG_DNS_CLASS_IN)
			svcb_walk(s, r);
		break;
	default:
		break;
	}
}

/* One resource record at the message cursor @c. */
static void rr_walk(struct strip *s, struct tg_cur *c)
{
	struct tg_cur r;
	size_t rdpos, rdlen, end, removed;
	uint16_t type, class;

	name_walk(s, c);
	type = tg_cur_u16(c);
	class = tg_cur_u16(c);
	(void)tg_cur_skip(c, 4);
	rdpos = tg_cur_pos(c);
	rdlen = tg_cur_u16(c);
	if (!tg_cur_skip(c, rdlen))
		return;
	/* A cursor over the message up to the rdata's end: positions stay message offsets. */
	end = rdpos + 2 + rdlen;
	tg_cur_init(&r, s->in, end);
	(void)tg_cur_skip(&r, rdpos + 2);
	rdata_walk(s, &r, type, class);
	if (!tg_cur_ok(&r)) {
		tg_cur_fail(c, r.err == TG_ERR_CAP ? TG_ERR_CAP : TG_ERR_DNS_RR);
		return;
	}
	if (!s->fix)
		return;
	removed = shift_at(s, end) - shift_at(s, rdpos);
	if (removed)
		put16(s->out + rdpos - shift_at(s, rdpos), rdlen - removed);
}

/* Every name and record of the message, in order. */
static enum tg_err msg_walk(struct strip *s)
{
	struct tg_cur c;
	size_t i, nq, nrr;

	tg_cur_init(&c, s->in, s->len);
	(void)tg_cur_skip(&c, 4);
	nq = tg_cur_u16(&c);
	nrr = tg_cur_u16(&c);
	nrr += tg_cur_u16(&c);
	nrr += tg_cur_u16(&c);
	for (i = 0; i < nq && tg_cur_ok(&c); i++) {
		name_walk(s, &c);
		(void)tg_cur_skip(&c, 4);
	}
	for (i = 0; i < nrr && tg_cur_ok(&c); i++)
		rr_walk(s, &c);
	if (!tg_cur_ok(&c))
		return c.err == TG_ERR_CAP ? TG_ERR_CAP : TG_ERR_DNS_RR;
	return TG_OK;
}

/* Copy the input to the output without the cuts; returns the output length. */
static size_t copy_without_cuts(const struct strip *s)
{
	size_t i, o = 0, at = 0;

	for (i = 0; i <= s->ncuts; i++) {
		size_t end = i < s->ncuts ? s->cuts[i].off : s->len;

		memcpy(s->out + o, s->in + at, end - at);
		o += end - at;
		if (i < s->ncuts)
			at = s->cuts[i].off + s->cuts[i].len;
	}
	return o;
}

enum tg_err tg_dns_strip_ech(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len,
			     unsigned *stripped)
{
	struct strip s;
	enum tg_err e;
	size_t olen;

	*out_len = 0;
	*stripped = 0;
	if (len > TG_CAP_DNS_MSG)
		return TG_ERR_CAP;
	if (len < DNS_HEADER_LEN)
		return TG_ERR_DNS_RR;
	memset(&s, 0, offsetof(struct strip, cuts));
	s.in = in;
	s.out = out;
	s.len = len;
	e = msg_walk(&s);
	if (e != TG_OK)
		goto out;
	olen = copy_without_cuts(&s);
	if (s.ncuts > 0) {
		s.fix = true;
		e = msg_walk(&s);
		if (e != TG_OK)
			goto out;
	}
	*out_len = olen;
	*stripped = (unsigned)s.ncuts;
out:
	return e;
}
