/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns.c - DNS message parser (RFC 1035 4.1, RFC 9460 2.2 and 7, RFC 6891 6.1).
 *
 * Message (all integers big-endian):
 *
 *   header    id:16 | QR:1 opcode:4 AA:1 TC:1 RD:1 RA:1 Z:1 AD:1 CD:1 rcode:4
 *             | qdcount:16 | ancount:16 | nscount:16 | arcount:16          (12 octets)
 *   question  qname | qtype:16 | qclass:16                                 (qdcount times)
 *   RR        name | type:16 | class:16 | ttl:32 | rdlength:16 | rdata      (an+ns+ar times)
 *
 *   name      a sequence of labels: a length octet 1..63 (top bits 00) then that many
 *             octets, ended by the root (octet 0) or by a compression pointer: two octets
 *             11pppppp pppppppp giving the message offset where the rest of the name is.
 *             Top bits 01 and 10 are reserved label types (RFC 6891 5).
 *
 *   SVCB/HTTPS rdata  priority:16 | TargetName (uncompressed) |
 *                     { key:16 | length:16 | value }*   keys strictly increasing
 *   OPT rdata         { option-code:16 | option-length:16 | data }*
 *
 * The policy decisions (name characters, pointer rule, caps) are listed in dns.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tlsgate/dns.h"

enum dns_section { DNS_ANSWER, DNS_AUTHORITY, DNS_ADDITIONAL };

/* What the record readers need besides their cursor: the whole message, for pointers. */
struct dns_ctx {
	const uint8_t *msg;
	size_t len;
	bool seen_opt;
};

/* Largest name on the wire, length octets and the root octet included (RFC 1035 3.1). */
#define DNS_NAME_WIRE_MAX 255
#define DNS_HEADER_LEN	  12

static inline bool dns_label_byte_ok(uint8_t b)
{
	return b >= 0x21 && b <= 0x7e && b != '.';
}

/* Append the @n-octet label at @r to @out, lowercased; the caller has bounded the length. */
static enum tg_err dns_label_copy(struct tg_dns_name *out, struct tg_cur *r, size_t n)
{
	size_t len = out->len;

	if (!tg_cur_need(r, n))
		return r->err;
	if (len)
		out->text[len++] = '.';
	while (n-- > 0) {
		uint8_t b = tg_cur_u8(r);

		if (!dns_label_byte_ok(b))
			return TG_ERR_DNS_NAME;
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + ('a' - 'A'));
		out->text[len++] = (char)b;
	}
	out->len = (uint8_t)len;
	out->text[len] = '\0';
	return TG_OK;
}

/*
 * Read the name at cursor @c, whose first octet is at message offset @base + tg_cur_pos(@c).
 * @c advances past the name's in-place part (up to its root octet or first pointer). Running
 * out of @c is @c's TG_ERR_TRUNCATED; running off the message while following a pointer is
 * TG_ERR_TRUNCATED too (only a cut message can do that). Sets *@compressed if a pointer was
 * followed.
 */
static enum tg_err dns_name_read(const struct dns_ctx *x, struct tg_cur *c, size_t base,
				 struct tg_dns_name *out, bool *compressed)
{
	struct tg_cur jump;
	struct tg_cur *r = c;
	size_t seg = base + tg_cur_pos(c); /* start of the current run of labels */
	size_t wire = 0;
	unsigned hops = 0;

	out->len = 0;
	out->text[0] = '\0';
	*compressed = false;
	for (;;) {
		enum tg_err e;
		uint8_t b = tg_cur_u8(r);
		size_t target;

		if (!tg_cur_ok(r))
			return r->err;
		if ((b & 0xc0) == 0xc0) {
			target = (size_t)(b & 0x3f) << 8 | tg_cur_u8(r);
			if (!tg_cur_ok(r))
				return r->err;
			/* Strictly before the current run: targets decrease, no loop can form. */
			if (target < DNS_HEADER_LEN || target >= seg ||
			    ++hops > TG_CAP_DNS_PTR_HOPS)
				return TG_ERR_DNS_POINTER;
			*compressed = true;
			seg = target;
			tg_cur_init(&jump, x->msg, x->len);
			(void)tg_cur_skip(&jump, target);
			r = &jump;
			continue;
		}
		if (b & 0xc0)
			return TG_ERR_DNS_NAME;
		wire += 1 + (size_t)b;
		if (b == 0)
			break;
		/* Leave room for the root octet. */
		if (wire + 1 > DNS_NAME_WIRE_MAX)
			return TG_ERR_DNS_NAME;
		e = dns_label_copy(out, r, b);
		if (e != TG_OK)
			return e;
	}
	return TG_OK;
}

/* A name inside rdata: a name running past rdlength means rdlength lies. */
static enum tg_err dns_rdata_name_read(const struct dns_ctx *x, struct tg_cur *rd, size_t base,
				       struct tg_dns_name *out, bool *compressed)
{
	enum tg_err e = dns_name_read(x, rd, base, out, compressed);

	if (e == TG_ERR_TRUNCATED && rd->err == TG_ERR_TRUNCATED)
		return TG_ERR_DNS_RR;
	return e;
}

/* alpn (RFC 9460 7.1.1): a non-empty list of non-empty length-prefixed protocol ids. */
static enum tg_err dns_svc_alpn(struct tg_dns_svcb *s, struct tg_cur *v)
{
	if (tg_cur_left(v) == 0)
		return TG_ERR_DNS_SVCB;
	while (tg_cur_left(v) > 0) {
		struct tg_span id;
		uint8_t n = tg_cur_u8(v);

		id = tg_cur_span(v, n);
		if (!tg_cur_ok(v) || n == 0)
			return TG_ERR_DNS_SVCB;
		if (s->n_alpn < TG_CAP_DNS_ALPN)
			s->alpn[s->n_alpn++] = id;
		else
			s->alpn_skipped++;
	}
	return TG_OK;
}

/* mandatory (RFC 9460 8): a non-empty list of strictly increasing keys, without 0. */
static enum tg_err dns_svc_mandatory(struct tg_dns_svcb *s, struct tg_cur *v)
{
	struct tg_cur c;
	unsigned prev = 0;

	s->mandatory = tg_cur_rest(v);
	if (s->mandatory.len == 0 || s->mandatory.len % 2)
		return TG_ERR_DNS_SVCB;
	tg_cur_init(&c, s->mandatory.p, s->mandatory.len);
	while (tg_cur_left(&c) > 0) {
		unsigned k = tg_cur_u16(&c);

		if (k <= prev)
			return TG_ERR_DNS_SVCB;
		prev = k;
	}
	return TG_OK;
}

/* One SvcParam whose key sits at message offset @key_off; @v is its value, read exactly. */
static enum tg_err dns_svc_param(struct tg_dns_svcb *s, uint16_t key, struct tg_cur *v,
				 size_t key_off)
{
	size_t n = tg_cur_left(v);
	struct tg_cur ech, list;

	switch (key) {
	case TG_DNS_SVC_MANDATORY:
		return dns_svc_mandatory(s, v);
	case TG_DNS_SVC_ALPN:
		return dns_svc_alpn(s, v);
	case TG_DNS_SVC_NO_DEFAULT_ALPN:
		if (n != 0)
			return TG_ERR_DNS_SVCB;
		s->no_default_alpn = true;
		return TG_OK;
	case TG_DNS_SVC_PORT:
		if (n != 2)
			return TG_ERR_DNS_SVCB;
		s->has_port = true;
		s->port = tg_cur_u16(v);
		return TG_OK;
	case TG_DNS_SVC_IPV4HINT:
		if (n == 0 || n % 4)
			return TG_ERR_DNS_SVCB;
		s->ipv4hint = tg_cur_rest(v);
		return TG_OK;
	case TG_DNS_SVC_IPV6HINT:
		if (n == 0 || n % 16)
			return TG_ERR_DNS_SVCB;
		s->ipv6hint = tg_cur_rest(v);
		return TG_OK;
	case TG_DNS_SVC_ECH:
		/* ECHConfigList: ECHConfig configs<4..2^16-1>, which is the whole value. */
		s->ech = tg_cur_rest(v);
		tg_cur_init(&ech, s->ech.p, s->ech.len);
		if (!tg_cur_vec16(&ech, &list) || list.len < 4 || !tg_cur_end(&ech))
			return TG_ERR_DNS_SVCB;
		s->has_ech = true;
		s->ech_param_off = key_off;
		return TG_OK;
	default:
		(void)tg_cur_rest(v); /* unknown keys are opaque */
		return TG_OK;
	}
}

/* Every key the mandatory list names must be one of the record's @keys (RFC 9460 8). */
static enum tg_err dns_svc_mandatory_present(const struct tg_dns_svcb *s, const uint16_t *keys,
					     size_t nkeys)
{
	struct tg_cur c;

	tg_cur_init(&c, s->mandatory.p, s->mandatory.len);
	while (tg_cur_left(&c) > 0) {
		uint16_t k = tg_cur_u16(&c);
		size_t i;

		for (i = 0; i < nkeys && keys[i] != k; i++)
			;
		if (i == nkeys)
			return TG_ERR_DNS_SVCB;
	}
	return TG_OK;
}

/* SVCB/HTTPS rdata (RFC 9460 2.2) from @rd, which starts at message offset @base. */
static enum tg_err dns_svcb_read(const struct dns_ctx *x, struct tg_cur *rd, size_t base,
				 struct tg_dns_svcb *s)
{
	uint16_t keys[TG_CAP_DNS_SVC_PARAMS];
	size_t nkeys = 0;
	enum tg_err e;

	s->priority = tg_cur_u16(rd);
	if (!tg_cur_ok(rd))
		return TG_ERR_DNS_RR;
	e = dns_rdata_name_read(x, rd, base, &s->target, &s->target_compressed);
	if (e != TG_OK)
		return e;
	if (s->priority == 0) {
		/* AliasMode: "recipients MUST ignore any SvcParams that are present". */
		(void)tg_cur_rest(rd);
		return TG_OK;
	}
	while (tg_cur_left(rd) > 0) {
		size_t key_off = base + tg_cur_pos(rd);
		uint16_t key = tg_cur_u16(rd);
		struct tg_cur v;

		/* "the end of the RDATA occurs within a SvcParam" */
		if (!tg_cur_vec16(rd, &v))
			return TG_ERR_DNS_SVCB;
		if ((nkeys > 0 && key <= keys[nkeys - 1]) || key == 0xffff)
			return TG_ERR_DNS_SVCB;
		if (nkeys == TG_CAP_DNS_SVC_PARAMS)
			return TG_ERR_CAP;
		keys[nkeys++] = key;
		s->n_params = nkeys;
		e = dns_svc_param(s, key, &v, key_off);
		if (e != TG_OK)
			return e;
		if (!tg_cur_end(&v))
			return TG_ERR_DNS_SVCB;
	}
	return dns_svc_mandatory_present(s, keys, nkeys);
}

/* OPT pseudo-RR (RFC 6891 6.1.2): once, in the additional section, owned by the root. */
static enum tg_err dns_opt_read(struct dns_ctx *x, struct tg_dns_msg *out, struct tg_cur *rd,
				const struct tg_dns_rr *rr, uint32_t raw_ttl, enum dns_section sec)
{
	if (sec != DNS_ADDITIONAL || x->seen_opt || rr->name.len != 0)
		return TG_ERR_DNS_RR;
	x->seen_opt = true;
	while (tg_cur_left(rd) > 0) {
		struct tg_cur opt;

		(void)tg_cur_u16(rd);
		if (!tg_cur_vec16(rd, &opt))
			return TG_ERR_DNS_RR;
	}
	out->has_edns = true;
	out->edns_udp_size = rr->class;
	out->edns_rcode_hi = (uint8_t)(raw_ttl >> 24);
	out->edns_version = (uint8_t)(raw_ttl >> 16);
	out->edns_do = (raw_ttl & 0x8000) != 0;
	out->edns_options = rr->rdata;
	out->edns_off = rr->rr_off;
	return TG_OK;
}

/* The typed part of an IN-class record's rdata; @rd must be consumed exactly. */
static enum tg_err dns_rdata_read(const struct dns_ctx *x, struct tg_cur *rd, struct tg_dns_rr *rr)
{
	enum tg_err e;
	bool compressed;

	switch (rr->type) {
	case TG_DNS_TYPE_A:
		if (tg_cur_left(rd) != sizeof(rr->u.a))
			return TG_ERR_DNS_RR;
		memcpy(rr->u.a, tg_cur_span(rd, sizeof(rr->u.a)).p, sizeof(rr->u.a));
		return TG_OK;
	case TG_DNS_TYPE_AAAA:
		if (tg_cur_left(rd) != sizeof(rr->u.aaaa))
			return TG_ERR_DNS_RR;
		memcpy(rr->u.aaaa, tg_cur_span(rd, sizeof(rr->u.aaaa)).p, sizeof(rr->u.aaaa));
		return TG_OK;
	case TG_DNS_TYPE_CNAME:
		e = dns_rdata_name_read(x, rd, rr->rdata_off, &rr->u.cname, &compressed);
		break;
	case TG_DNS_TYPE_SVCB:
	case TG_DNS_TYPE_HTTPS:
		e = dns_svcb_read(x, rd, rr->rdata_off, &rr->u.svcb);
		break;
	default:
		(void)tg_cur_rest(rd);
		return TG_OK;
	}
	if (e != TG_OK)
		return e;
	return tg_cur_end(rd) ? TG_OK : TG_ERR_DNS_RR;
}

/* One resource record of section @sec at the message cursor @m, into *@rr. */
static enum tg_err dns_rr_read(struct dns_ctx *x, struct tg_dns_msg *out, struct tg_cur *m,
			       enum dns_section sec, struct tg_dns_rr *rr)
{
	struct tg_cur rd;
	uint32_t raw_ttl;
	uint16_t rdlength;
	enum tg_err e;
	bool compressed;

	memset(rr, 0, sizeof(*rr));
	rr->rr_off = tg_cur_pos(m);
	e = dns_name_read(x, m, 0, &rr->name, &compressed);
	if (e != TG_OK)
		return e;
	rr->type = tg_cur_u16(m);
	rr->class = tg_cur_u16(m);
	raw_ttl = tg_cur_u32(m);
	rr->ttl = raw_ttl & 0x80000000u ? 0 : raw_ttl;
	rdlength = tg_cur_u16(m);
	rr->rdata_off = tg_cur_pos(m);
	if (!tg_cur_sub(m, rdlength, &rd))
		return m->err;
	rr->rdata.p = rd.p;
	rr->rdata.len = rd.len;
	if (rr->type == TG_DNS_TYPE_OPT)
		return dns_opt_read(x, out, &rd, rr, raw_ttl, sec);
	if (rr->class != TG_DNS_CLASS_IN)
		return TG_OK;
	return dns_rdata_read(x, &rd, rr);
}

static enum tg_err dns_question_read(const struct dns_ctx *x, struct tg_cur *m,
				     struct tg_dns_question *q)
{
	enum tg_err e;
	bool compressed;

	e = dns_name_read(x, m, 0, &q->name, &compressed);
	if (e != TG_OK)
		return e;
	q->qtype = tg_cur_u16(m);
	q->qclass = tg_cur_u16(m);
	return m->err;
}

static void dns_header_read(struct tg_dns_msg *out, struct tg_cur *m)
{
	out->id = tg_cur_u16(m);
	out->flags = tg_cur_u16(m);
	out->qdcount = tg_cur_u16(m);
	out->ancount = tg_cur_u16(m);
	out->nscount = tg_cur_u16(m);
	out->arcount = tg_cur_u16(m);
	out->qr = (out->flags & 0x8000) != 0;
	out->opcode = (uint8_t)((out->flags >> 11) & 0xf);
	out->rcode = (uint8_t)(out->flags & 0xf);
}

enum tg_err tg_dns_parse(struct tg_dns_msg *out, const uint8_t *msg, size_t len)
{
	struct dns_ctx x = { msg, len, false };
	struct tg_dns_question qscratch;
	struct tg_dns_rr scratch;
	struct tg_cur m;
	enum tg_err e = TG_OK;
	size_t i;

	memset(out, 0, offsetof(struct tg_dns_msg, q));
	if (len > TG_CAP_DNS_MSG)
		return TG_ERR_CAP;
	tg_cur_init(&m, msg, len);
	dns_header_read(out, &m);
	if (!tg_cur_ok(&m))
		return m.err;
	for (i = 0; i < out->qdcount; i++) {
		struct tg_dns_question *q = &qscratch;

		if (out->n_q < TG_CAP_DNS_QUESTIONS)
			q = &out->q[out->n_q++];
		else
			out->q_skipped++;
		e = dns_question_read(&x, &m, q);
		if (e != TG_OK)
			goto out;
	}
	for (i = 0; i < out->ancount; i++) {
		struct tg_dns_rr *rr = &scratch;

		if (out->n_an < TG_CAP_DNS_ANSWERS)
			rr = &out->an[out->n_an++];
		else
			out->an_skipped++;
		e = dns_rr_read(&x, out, &m, DNS_ANSWER, rr);
		if (e != TG_OK)
			goto out;
	}
	for (i = 0; i < (size_t)out->nscount + out->arcount; i++) {
		e = dns_rr_read(&x, out, &m, i < out->nscount ? DNS_AUTHORITY : DNS_ADDITIONAL,
				&scratch);
		if (e != TG_OK)
			goto out;
	}
	if (!tg_cur_end(&m))
		e = m.err;
out:
	return e;
}

enum tg_err tg_dns_tcp_frame(const uint8_t *p, size_t len, struct tg_span *msg, size_t *used)
{
	struct tg_cur c;
	size_t n;

	msg->p = NULL;
	msg->len = 0;
	*used = 0;
	tg_cur_init(&c, p, len);
	n = tg_cur_u16(&c);
	if (!tg_cur_ok(&c))
		return TG_NEED_MORE;
	if (n == 0)
		return TG_ERR_ZERO_LENGTH;
	if (n < DNS_HEADER_LEN)
		return TG_ERR_DNS_HEADER;
	*msg = tg_cur_span(&c, n);
	if (!tg_cur_ok(&c))
		return TG_NEED_MORE;
	*used = 2 + n;
	return TG_OK;
}

/* The names on the CNAME chain from the question name, each with the smallest TTL to it. */
struct dns_chain {
	const struct tg_dns_name *name[TG_CAP_DNS_CNAME_CHAIN + 1];
	uint32_t ttl[TG_CAP_DNS_CNAME_CHAIN + 1];
	size_t n;
};

static bool dns_name_eq(const struct tg_dns_name *a, const struct tg_dns_name *b)
{
	return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

/* The first class IN CNAME of the answer section owned by @owner, or NULL. */
static const struct tg_dns_rr *dns_cname_of(const struct tg_dns_msg *m,
					    const struct tg_dns_name *owner)
{
	size_t i;

	for (i = 0; i < m->n_an; i++) {
		const struct tg_dns_rr *rr = &m->an[i];

		if (rr->class == TG_DNS_CLASS_IN && rr->type == TG_DNS_TYPE_CNAME &&
		    dns_name_eq(&rr->name, owner))
			return rr;
	}
	return NULL;
}

/* Where @name is on the chain; c->n when it is not. */
static size_t dns_chain_find(const struct dns_chain *c, const struct tg_dns_name *name)
{
	size_t k;

	for (k = 0; k < c->n && !dns_name_eq(c->name[k], name); k++)
		;
	return k;
}

static void dns_chain_build(const struct tg_dns_msg *m, struct dns_chain *c)
{
	c->name[0] = &m->q[0].name;
	c->ttl[0] = UINT32_MAX;
	c->n = 1;
	/* c->n - 1 CNAMEs followed so far. */
	while (c->n <= TG_CAP_DNS_CNAME_CHAIN) {
		const struct tg_dns_rr *rr = dns_cname_of(m, c->name[c->n - 1]);

		if (rr == NULL || dns_chain_find(c, &rr->u.cname) < c->n)
			break;
		c->name[c->n] = &rr->u.cname;
		c->ttl[c->n] = rr->ttl < c->ttl[c->n - 1] ? rr->ttl : c->ttl[c->n - 1];
		c->n++;
	}
}

size_t tg_dns_answer_addrs(const struct tg_dns_msg *m, struct tg_dns_addr *out, size_t cap)
{
	struct dns_chain c;
	size_t i, n = 0;

	if (m->qdcount != 1 || m->n_q != 1)
		return 0;
	dns_chain_build(m, &c);
	for (i = 0; i < m->n_an && n < cap; i++) {
		const struct tg_dns_rr *rr = &m->an[i];
		struct tg_dns_addr *a = &out[n];
		size_t k;

		if (rr->class != TG_DNS_CLASS_IN ||
		    (rr->type != TG_DNS_TYPE_A && rr->type != TG_DNS_TYPE_AAAA))
			continue;
		k = dns_chain_find(&c, &rr->name);
		if (k == c.n)
			continue;
		memset(a, 0, sizeof(*a));
		if (rr->type == TG_DNS_TYPE_A) {
			a->family = 4;
			memcpy(a->addr, rr->u.a, sizeof(rr->u.a));
		} else {
			a->family = 6;
			memcpy(a->addr, rr->u.aaaa, sizeof(rr->u.aaaa));
		}
		a->ttl = rr->ttl < c.ttl[k] ? rr->ttl : c.ttl[k];
		n++;
	}
	return n;
}

struct dns_type_name {
	uint16_t type;
	const char *name;
};

/* IANA "Resource Record (RR) TYPEs", the ones worth a mnemonic in logs; sorted by number. */
static const struct dns_type_name dns_type_names[] = {
	{ 1, "A" },	 { 2, "NS" },	       { 5, "CNAME" },	  { 6, "SOA" },
	{ 12, "PTR" },	 { 13, "HINFO" },      { 15, "MX" },	  { 16, "TXT" },
	{ 17, "RP" },	 { 18, "AFSDB" },      { 24, "SIG" },	  { 25, "KEY" },
	{ 28, "AAAA" },	 { 29, "LOC" },	       { 33, "SRV" },	  { 35, "NAPTR" },
	{ 36, "KX" },	 { 37, "CERT" },       { 39, "DNAME" },	  { 41, "OPT" },
	{ 42, "APL" },	 { 43, "DS" },	       { 44, "SSHFP" },	  { 45, "IPSECKEY" },
	{ 46, "RRSIG" }, { 47, "NSEC" },       { 48, "DNSKEY" },  { 49, "DHCID" },
	{ 50, "NSEC3" }, { 51, "NSEC3PARAM" }, { 52, "TLSA" },	  { 53, "SMIMEA" },
	{ 55, "HIP" },	 { 59, "CDS" },	       { 60, "CDNSKEY" }, { 61, "OPENPGPKEY" },
	{ 62, "CSYNC" }, { 63, "ZONEMD" },     { 64, "SVCB" },	  { 65, "HTTPS" },
	{ 99, "SPF" },	 { 108, "EUI48" },     { 109, "EUI64" },  { 249, "TKEY" },
	{ 250, "TSIG" }, { 251, "IXFR" },      { 252, "AXFR" },	  { 255, "ANY" },
	{ 256, "URI" },	 { 257, "CAA" },
};

static int dns_type_cmp(const void *key, const void *elem)
{
	unsigned a = *(const uint16_t *)key;
	unsigned b = ((const struct dns_type_name *)elem)->type;

	return (a > b) - (a < b);
}

const char *tg_dns_type_name(uint16_t type)
{
	const struct dns_type_name *t;

	t = bsearch(&type, dns_type_names, sizeof(dns_type_names) / sizeof(dns_type_names[0]),
		    sizeof(dns_type_names[0]), dns_type_cmp);
	return t ? t->name : NULL;
}
