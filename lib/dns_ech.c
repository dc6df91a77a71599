/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns_ech.c - strip ech SvcParams from a DNS response; see dns_ech.h.
 *
 * DNS message (RFC 1035 4.1): header (12), questions (name, type, class), then answer,
 * authority and additional records (name, type, class, ttl, rdlength, rdata). SVCB/HTTPS rdata
 * (RFC 9460 2.2): priority (2), target name, then SvcParams (key 2, length 2, value).
 *
 * Removed ranges hold no names, and a compression pointer always points at a name, so a
 * pointer's new target is its old target minus the bytes removed before it. A crafted message
 * whose pointer lands inside a removed parameter cannot be rewritten: TG_ERR_DNS_RR. Pointers are found
 * by walking every name the format has: question names, owner names, and the names inside the
 * rdata of the types that may carry compressed names (RFC 3597 4: only the RFC 1035 types;
 * later types must not compress, so their rdata is copied as is).
 */
#include <stdbool.h>
#include <string.h>

#include "tlsgate/caps.h"
#include "tlsgate/cursor.h"
#include "tlsgate/dns_ech.h"

struct cut {
	size_t off, len;
};

struct strip {
	const uint8_t *in;
	uint8_t *out;
	size_t len;
	struct cut cuts[TG_CAP_DNS_ANSWERS];
	size_t ncuts;
};

/* True when input offset @x lies inside a removed range. */
static bool in_cut(const struct strip *s, size_t x)
{
	size_t i;

	for (i = 0; i < s->ncuts; i++)
		if (x >= s->cuts[i].off && x < s->cuts[i].off + s->cuts[i].len)
			return true;
	return false;
}

/* Bytes removed before input offset @x. */
static size_t shift_at(const struct strip *s, size_t x)
{
	size_t i, n = 0;

	for (i = 0; i < s->ncuts; i++)
		if (s->cuts[i].off < x)
			n += s->cuts[i].len;
	return n;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Walk one name at the cursor; rewrite its pointer (if any) in the output. */
static void fix_name(struct strip *s, struct tg_cur *c)
{
	unsigned labels = 0;

	while (tg_cur_ok(c)) {
		size_t pos = tg_cur_pos(c);
		uint8_t l = tg_cur_u8(c);

		if (l == 0)
			return;
		if ((l & 0xc0) == 0xc0) {
			size_t target = (size_t)(l & 0x3f) << 8 | tg_cur_u8(c);

			/* A pointer into a removed parameter (only a crafted message has one). */
			if (in_cut(s, target)) {
				tg_cur_fail(c, TG_ERR_DNS_RR);
				return;
			}
			put16(s->out + pos - shift_at(s, pos),
			      0xc000 | (target - shift_at(s, target)));
			return;
		}
		if ((l & 0xc0) != 0 || ++labels > 127) {
			tg_cur_fail(c, TG_ERR_DNS_RR);
			return;
		}
		(void)tg_cur_skip(c, l);
	}
}

/* Names inside the rdata of the types that may compress them (RFC 3597 4). */
static void fix_rdata(struct strip *s, struct tg_cur *c, uint16_t type, size_t rdlen)
{
	size_t start = tg_cur_pos(c);
	struct tg_cur r;

	if (!tg_cur_skip(c, rdlen))
		return;
	/*
	 * A cursor over the message up to the rdata's end, positioned at its start: positions
	 * stay message offsets, which the pointer fix-up needs.
	 */
	tg_cur_init(&r, s->in, start + rdlen);
	r.off = start;
	switch (type) {
	case 2:
	case 3:
	case 4:
	case 5:
	case 7:
	case 8:
	case 9:
	case 12: /* NS MD MF CNAME MB MG MR PTR */
		fix_name(s, &r);
		break;
	case 6: /* SOA: mname, rname */
	case 14: /* MINFO: rmailbx, emailbx */
		fix_name(s, &r);
		fix_name(s, &r);
		break;
	case 15: /* MX: preference, exchange */
		(void)tg_cur_skip(&r, 2);
		fix_name(s, &r);
		break;
	case 64:
	case 65: /* SVCB/HTTPS: priority, target (should not be compressed; fixed if it is) */
		(void)tg_cur_skip(&r, 2);
		fix_name(s, &r);
		break;
	default:
		break;
	}
	if (!tg_cur_ok(&r))
		tg_cur_fail(c, TG_ERR_DNS_RR);
}

enum tg_err tg_dns_strip_ech(const struct tg_dns_msg *m, const uint8_t *in, size_t len,
			     uint8_t *out, size_t *out_len, unsigned *stripped)
{
	struct strip s;
	struct tg_cur c;
	size_t i, o, at, n;
	unsigned rr, nrr;

	*out_len = 0;
	*stripped = 0;
	if (m->an_skipped > 0)
		return TG_ERR_CAP;
	memset(&s, 0, sizeof(s));
	s.in = in;
	s.out = out;
	s.len = len;
	for (i = 0; i < m->n_an; i++) {
		const struct tg_dns_rr *a = &m->an[i];

		if ((a->type != 64 && a->type != 65) || !a->u.svcb.has_ech)
			continue;
		/* key (2), length (2), value: the span covers the value. */
		s.cuts[s.ncuts].off = a->u.svcb.ech_param_off;
		s.cuts[s.ncuts].len = 4 + a->u.svcb.ech.len;
		s.ncuts++;
	}
	if (s.ncuts == 0) {
		memcpy(out, in, len);
		*out_len = len;
		return TG_OK;
	}
	/* Copy everything but the cuts (they are in message order: answers are). */
	for (i = 0, o = 0, at = 0; i <= s.ncuts; i++) {
		size_t end = i < s.ncuts ? s.cuts[i].off : len;

		memcpy(out + o, in + at, end - at);
		o += end - at;
		if (i < s.ncuts)
			at = s.cuts[i].off + s.cuts[i].len;
	}
	/* Walk every name and record; fix pointers and the shrunk RDLENGTHs. */
	tg_cur_init(&c, in, len);
	(void)tg_cur_skip(&c, 4);
	n = tg_cur_u16(&c);
	nrr = (unsigned)tg_cur_u16(&c) + tg_cur_u16(&c) + tg_cur_u16(&c);
	for (i = 0; i < n && tg_cur_ok(&c); i++) {
		fix_name(&s, &c);
		(void)tg_cur_skip(&c, 4);
	}
	for (rr = 0; rr < nrr && tg_cur_ok(&c); rr++) {
		uint16_t type;
		size_t rdlen, rdpos, cut = 0, k;

		fix_name(&s, &c);
		type = tg_cur_u16(&c);
		(void)tg_cur_skip(&c, 6);
		rdpos = tg_cur_pos(&c);
		rdlen = tg_cur_u16(&c);
		for (k = 0; k < s.ncuts; k++)
			if (s.cuts[k].off > rdpos && s.cuts[k].off < rdpos + 2 + rdlen)
				cut += s.cuts[k].len;
		if (cut)
			put16(out + rdpos - shift_at(&s, rdpos), rdlen - cut);
		fix_rdata(&s, &c, type, rdlen);
	}
	if (!tg_cur_ok(&c))
		return c.err == TG_ERR_TRUNCATED ? TG_ERR_DNS_RR : c.err;
	*out_len = o;
	*stripped = (unsigned)s.ncuts;
	return TG_OK;
}
