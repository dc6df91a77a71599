/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cidr.c - address and prefix text: RFC 4291 2.2 and 2.3 in, RFC 5952 out. The set of prefixes
 * built from them is cidrset.c.
 *
 * Text grammar accepted (cidr.h gives the decisions):
 *   prefix    = address [ "/" length ]          length = "0" / %x31-39 0*2DIGIT
 *   address   = ipv4 / ipv6
 *   ipv4      = dec-octet 3( "." dec-octet )    dec-octet = "0" / %x31-39 0*2DIGIT (<= 255)
 *   ipv6      = RFC 4291 2.2 forms 1-3: h16 groups, one optional "::", optional ipv4 tail
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/cidr.h"
#include "tlsgate/cursor.h"

/* ---- text in ---- */

static inline bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A decimal number of 1..3 digits, no leading zero, at most @max. */
static bool cidr_read_dec(struct tg_cur *c, unsigned max, unsigned *out)
{
	unsigned v = 0, nd = 0;

	if (!is_digit(tg_cur_peek(c, 0)))
		return false;
	while (is_digit(tg_cur_peek(c, 0))) {
		if (nd == 3 || (nd == 1 && v == 0))
			return false;
		v = v * 10 + (unsigned)(tg_cur_u8(c) - '0');
		nd++;
	}
	*out = v;
	return v <= max;
}

static bool cidr_read_v4(struct tg_cur *c, uint8_t out[static 4])
{
	unsigned i, v;

	for (i = 0; i < 4; i++) {
		if (i > 0 && tg_cur_u8(c) != '.')
			return false;
		if (!cidr_read_dec(c, 255, &v))
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
}

/* RFC 4291 2.2 text; the cursor must hold exactly the address. */
static bool cidr_read_v6(struct tg_cur *c, uint8_t out[static 16])
{
	uint16_t w[8];
	int nw = 0, gap = -1, i;

	if (tg_cur_peek(c, 0) == ':') {
		if (tg_cur_peek(c, 1) != ':')
			return false;
		(void)tg_cur_skip(c, 2);
		gap = 0;
		if (tg_cur_left(c) == 0)
			goto done;
	}
	for (;;) {
		struct tg_cur save = *c;
		unsigned v = 0, nd = 0;
		int hv;

		while ((hv = hex_value(tg_cur_peek(c, 0))) >= 0) {
			if (nd == 4)
				return false;
			v = v << 4 | (unsigned)hv;
			nd++;
			(void)tg_cur_u8(c);
		}
		if (tg_cur_left(c) > 0 && tg_cur_peek(c, 0) == '.') {
			/* The group was the start of a dotted quad for the last 32 bits. */
			uint8_t q[4];

			*c = save;
			if (nw > 6 || !cidr_read_v4(c, q) || tg_cur_left(c) > 0)
				return false;
			w[nw++] = (uint16_t)(q[0] << 8 | q[1]);
			w[nw++] = (uint16_t)(q[2] << 8 | q[3]);
			break;
		}
		if (nd == 0 || nw == 8)
			return false;
		w[nw++] = (uint16_t)v;
		if (tg_cur_left(c) == 0)
			break;
		if (tg_cur_u8(c) != ':')
			return false;
		if (tg_cur_peek(c, 0) == ':') {
			if (gap >= 0)
				return false;
			(void)tg_cur_u8(c);
			gap = nw;
			if (tg_cur_left(c) == 0)
				break;
		}
	}
done:
	/* Without "::" all eight groups; with it, at least one group must be elided. */
	if (gap < 0 ? nw != 8 : nw > 7)
		return false;
	memset(out, 0, 16);
	for (i = 0; i < nw; i++) {
		size_t pos = (size_t)((gap >= 0 && i >= gap) ? 8 - (nw - i) : i);

		out[2 * pos] = (uint8_t)(w[i] >> 8);
		out[2 * pos + 1] = (uint8_t)w[i];
	}
	return true;
}

enum tg_err tg_addr_parse(const char *text, size_t len, uint8_t *family, uint8_t addr[static 16])
{
	struct tg_cur c;
	bool ok;

	memset(addr, 0, 16);
	*family = 0;
	if (text == NULL || len == 0)
		return TG_ERR_CIDR;
	tg_cur_init(&c, (const uint8_t *)text, len);
	if (memchr(text, ':', len) != NULL) {
		*family = 6;
		ok = cidr_read_v6(&c, addr);
	} else {
		*family = 4;
		ok = cidr_read_v4(&c, addr);
	}
	if (!ok || !tg_cur_end(&c))
		return TG_ERR_CIDR;
	return TG_OK;
}

/* Bits of @addr beyond @plen (of @bits in all) that are set? */
static bool cidr_host_bits(const uint8_t *addr, unsigned plen, unsigned bits)
{
	unsigned i;

	for (i = plen; i < bits; i++)
		if (addr[i / 8] & (0x80u >> (i % 8)))
			return true;
	return false;
}

enum tg_err tg_cidr_parse(const char *text, size_t len, struct tg_cidr *out)
{
	const char *slash;
	size_t alen = len;
	unsigned max, plen;
	enum tg_err err;

	memset(out, 0, sizeof(*out));
	if (text == NULL || len == 0)
		return TG_ERR_CIDR;
	slash = memchr(text, '/', len);
	if (slash != NULL)
		alen = (size_t)(slash - text);
	err = tg_addr_parse(text, alen, &out->family, out->addr);
	if (err != TG_OK)
		return err;
	max = out->family == 4 ? 32 : 128;
	plen = max;
	if (slash != NULL) {
		struct tg_cur c;

		tg_cur_init(&c, (const uint8_t *)slash + 1, len - alen - 1);
		if (!cidr_read_dec(&c, max, &plen) || !tg_cur_end(&c))
			return TG_ERR_CIDR;
	}
	out->plen = (uint8_t)plen;
	if (cidr_host_bits(out->addr, plen, max))
		return TG_ERR_CIDR_HOST_BITS;
	return TG_OK;
}

/* ---- text out ---- */

static size_t put_dec(char *p, unsigned v)
{
	char tmp[3];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

static size_t put_hex16(char *p, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	int shift;
	bool started = false;

	for (shift = 12; shift >= 0; shift -= 4) {
		unsigned d = (v >> shift) & 15;

		if (d == 0 && !started && shift > 0)
			continue;
		started = true;
		p[n++] = digits[d];
	}
	return n;
}

static size_t put_v4(char *p, const uint8_t a[static 4])
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (i > 0)
			p[n++] = '.';
		n += put_dec(p + n, a[i]);
	}
	return n;
}

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool tg_addr_is_mapped(const uint8_t addr[static 16])
{
	return memcmp(addr, mapped_prefix, sizeof(mapped_prefix)) == 0;
}

/* RFC 5952 4: longest run (>= 2) of zero groups becomes "::", the first one on a tie. */
static size_t put_v6(char *p, const uint8_t a[static 16])
{
	unsigned w[8];
	static const char mapped_text[] = "::ffff:";
	int i, bs = -1, bl = 0, rs = 0, rl = 0;
	size_t n = 0;

	if (tg_addr_is_mapped(a)) {
		n = sizeof(mapped_text) - 1;
		memcpy(p, mapped_text, n); /* text, not a string: the caller terminates */
		return n + put_v4(p + n, a + 12);
	}
	for (i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * (size_t)i] << 8 | a[2 * (size_t)i + 1];
		if (w[i] != 0) {
			rl = 0;
			continue;
		}
		if (rl++ == 0)
			rs = i;
		if (rl >= 2 && rl > bl) {
			bs = rs;
			bl = rl;
		}
	}
	for (i = 0; i < 8; i++) {
		if (i == bs) {
			p[n++] = ':';
			p[n++] = ':';
			i += bl - 1;
			continue;
		}
		if (i > 0 && i != bs + bl)
			p[n++] = ':';
		n += put_hex16(p + n, w[i]);
	}
	return n;
}

/* snprintf-style copy of @n bytes of @src into @out (@cap bytes). */
static size_t copy_out(const char *src, size_t n, char *out, size_t cap)
{
	size_t k;

	if (cap == 0)
		return n;
	k = n < cap - 1 ? n : cap - 1;
	memcpy(out, src, k);
	out[k] = '\0';
	return n;
}

size_t tg_addr_format(uint8_t family, const uint8_t addr[static 16], char *out, size_t cap)
{
	char buf[TG_ADDR_TEXT_MAX];
	size_t n = 0;

	if (family == 4)
		n = put_v4(buf, addr);
	else if (family == 6)
		n = put_v6(buf, addr);
	return copy_out(buf, n, out, cap);
}

size_t tg_cidr_format(const struct tg_cidr *c, char *out, size_t cap)
{
	char buf[TG_CIDR_TEXT_MAX];
	size_t n = 0;

	if (c->family == 4)
		n = put_v4(buf, c->addr);
	else if (c->family == 6)
		n = put_v6(buf, c->addr);
	if (n > 0) {
		buf[n++] = '/';
		n += put_dec(buf + n, c->plen);
	}
	return copy_out(buf, n, out, cap);
}

bool tg_cidr_contains(const struct tg_cidr *c, uint8_t family, const uint8_t addr[static 16])
{
	unsigned full, rem;

	if (c->family != family || (family != 4 && family != 6) ||
	    c->plen > (family == 4 ? 32 : 128))
		return false;
	full = c->plen / 8;
	rem = c->plen % 8;
	if (memcmp(c->addr, addr, full) != 0)
		return false;
	return rem == 0 || ((c->addr[full] ^ addr[full]) & (0xff00u >> rem) & 0xff) == 0;
}

enum tg_err tg_cidr_check(const struct tg_cidr *c)
{
	unsigned bits;

	if (c->family != 4 && c->family != 6)
		return TG_ERR_CIDR;
	bits = c->family == 4 ? 32 : 128;
	if (c->plen > bits)
		return TG_ERR_CIDR;
	if (cidr_host_bits(c->addr, c->plen, bits))
		return TG_ERR_CIDR_HOST_BITS;
	return TG_OK;
}
