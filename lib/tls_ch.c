/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tls_ch.c - TLS ClientHello parser across records and segments.
 *
 *   record     type(1)=22 | version(2)=0x03xx | length(2)=1..2^14+2048 | fragment   RFC 8446 5.1
 *   handshake  msg_type(1)=1 | length(3) | body              RFC 8446 4, one message per flight
 *   body       legacy_version(2) | random(32) | session_id<0..32> | cipher_suites<2..2^16-2>
 *              | compression_methods<1..2^8-1> | [extensions<0..2^16-1>]   RFC 8446 4.1.2
 *
 * A message inside one record is parsed where it lies; a message fragmented over several
 * records is first joined in the caller's scratch buffer. Every answer is a pure function of
 * the prefix given; see tls_ch.h for how NEED_MORE is bounded.
 */
#include <string.h>

#include "tlsgate/tls_ch.h"

bool tg_tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Only the fields a reader may look at are reset: the arrays are sized by their counters. */
static void ch_reset(struct tg_ch *ch)
{
	static const struct tg_span empty = { NULL, 0 };

	ch->record_version = 0;
	ch->legacy_version = 0;
	ch->random = empty;
	ch->session_id = empty;
	ch->compression = empty;
	ch->n_ciphers = 0;
	ch->has_exts_block = false;
	ch->n_exts = 0;
	ch->has_sni = false;
	ch->sni = empty;
	ch->has_alpn = false;
	ch->n_alpn = 0;
	ch->has_versions = false;
	ch->n_versions = 0;
	ch->has_sigalgs = false;
	ch->n_sigalgs = 0;
	ch->has_groups = false;
	ch->n_groups = 0;
	ch->has_psk = false;
	ch->has_early_data = false;
	ch->has_ech = false;
	ch->ech_type = 0;
	ch->ech_kdf_id = 0;
	ch->ech_aead_id = 0;
	ch->ech_config_id = 0;
	ch->ech_enc = empty;
	ch->ech_payload = empty;
	ch->msg = empty;
	ch->n_records = 0;
	ch->consumed = 0;
	ch->need = 0;
}

/* --- extensions --- */

/*
 * A vector of u16 (8- or 16-bit length, 2..max bytes, even) that is the whole extension body:
 * supported_versions, signature_algorithms, supported_groups.
 */
static enum tg_err ext_u16_list(struct tg_cur *body, bool len8, uint16_t *list, size_t cap,
				size_t *n)
{
	struct tg_cur v;

	if (len8)
		(void)tg_cur_vec8(body, &v);
	else
		(void)tg_cur_vec16(body, &v);
	if (!tg_cur_ok(body) || tg_cur_left(&v) == 0 || tg_cur_left(&v) % 2 != 0)
		return TG_ERR_TLS_EXTENSION;
	if (tg_cur_left(&v) / 2 > cap)
		return TG_ERR_CAP;
	while (tg_cur_left(&v) > 0)
		list[(*n)++] = tg_cur_u16(&v);
	if (!tg_cur_close(body, &v) || !tg_cur_end(body))
		return TG_ERR_TLS_EXTENSION;
	return TG_OK;
}

/* RFC 6066 3: ServerNameList<1..2^16-1> of { name_type(1), HostName<1..2^16-1> }. */
static enum tg_err ext_sni(struct tg_ch *ch, struct tg_cur *body)
{
	struct tg_cur list, name;
	struct tg_span host;
	uint8_t type;

	(void)tg_cur_vec16(body, &list);
	type = tg_cur_u8(&list);
	(void)tg_cur_vec16(&list, &name);
	host = tg_cur_rest(&name);
	/*
	 * Like OpenSSL, accept exactly one host_name entry: no other name type was ever defined,
	 * and two names would let a middlebox and a server each pick a different one.
	 */
	if (!tg_cur_close(&list, &name) || !tg_cur_end(&list) || !tg_cur_close(body, &list) ||
	    !tg_cur_end(body))
		return TG_ERR_TLS_SNI;
	if (type != 0 || host.len == 0 || host.len > TG_TLS_SNI_MAX)
		return TG_ERR_TLS_SNI;
	if (memchr(host.p, 0, host.len) != NULL)
		return TG_ERR_TLS_SNI;
	ch->has_sni = true;
	ch->sni = host;
	return TG_OK;
}

/* RFC 7301 3.1: ProtocolNameList<2..2^16-1> of ProtocolName<1..2^8-1>. */
static enum tg_err ext_alpn(struct tg_ch *ch, struct tg_cur *body)
{
	struct tg_cur list, name;

	(void)tg_cur_vec16(body, &list);
	if (!tg_cur_ok(body) || tg_cur_left(&list) == 0)
		return TG_ERR_TLS_EXTENSION;
	while (tg_cur_left(&list) > 0) {
		struct tg_span proto;

		(void)tg_cur_vec8(&list, &name);
		proto = tg_cur_rest(&name);
		if (!tg_cur_close(&list, &name) || proto.len == 0)
			return TG_ERR_TLS_EXTENSION;
		if (ch->n_alpn == TG_CAP_CH_ALPN)
			return TG_ERR_CAP;
		ch->alpn[ch->n_alpn++] = proto;
	}
	if (!tg_cur_close(body, &list) || !tg_cur_end(body))
		return TG_ERR_TLS_EXTENSION;
	ch->has_alpn = true;
	return TG_OK;
}

/* RFC 8446 4.2.1: ProtocolVersion versions<2..254>. */
static enum tg_err ext_versions(struct tg_ch *ch, struct tg_cur *body)
{
	ch->has_versions = true;
	return ext_u16_list(body, true, ch->versions, TG_CAP_CH_VERSIONS, &ch->n_versions);
}

/* RFC 8446 4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>. */
static enum tg_err ext_sigalgs(struct tg_ch *ch, struct tg_cur *body)
{
	ch->has_sigalgs = true;
	return ext_u16_list(body, false, ch->sigalgs, TG_CAP_CH_SIGALGS, &ch->n_sigalgs);
}

/* RFC 8446 4.2.7: NamedGroup named_group_list<2..2^16-1>. */
static enum tg_err ext_groups(struct tg_ch *ch, struct tg_cur *body)
{
	ch->has_groups = true;
	return ext_u16_list(body, false, ch->groups, TG_CAP_CH_GROUPS, &ch->n_groups);
}

/* RFC 8446 4.2.11: the body (identities, binders) is the server's business; only note it. */
static enum tg_err ext_psk(struct tg_ch *ch, struct tg_cur *body)
{
	(void)tg_cur_rest(body);
	ch->has_psk = true;
	return TG_OK;
}

/* RFC 8446 4.2.10: empty in a ClientHello. */
static enum tg_err ext_early_data(struct tg_ch *ch, struct tg_cur *body)
{
	if (tg_cur_left(body) != 0)
		return TG_ERR_TLS_EXTENSION;
	ch->has_early_data = true;
	return TG_OK;
}

/*
 * draft-ietf-tls-esni 5: ECHClientHello { type(1); outer: kdf_id(2) aead_id(2) config_id(1)
 * enc<0..2^16-1> payload<1..2^16-1>; inner: nothing }.
 */
static enum tg_err ext_ech(struct tg_ch *ch, struct tg_cur *body)
{
	struct tg_cur v;

	ch->ech_type = tg_cur_u8(body);
	if (!tg_cur_ok(body))
		return TG_ERR_TLS_EXTENSION;
	switch (ch->ech_type) {
	case TG_TLS_ECH_INNER:
		break;
	case TG_TLS_ECH_OUTER:
		ch->ech_kdf_id = tg_cur_u16(body);
		ch->ech_aead_id = tg_cur_u16(body);
		ch->ech_config_id = tg_cur_u8(body);
		(void)tg_cur_vec16(body, &v);
		ch->ech_enc = tg_cur_rest(&v);
		(void)tg_cur_close(body, &v);
		(void)tg_cur_vec16(body, &v);
		ch->ech_payload = tg_cur_rest(&v);
		(void)tg_cur_close(body, &v);
		if (!tg_cur_ok(body) || ch->ech_payload.len == 0)
			return TG_ERR_TLS_EXTENSION;
		break;
	default:
		return TG_ERR_TLS_EXTENSION;
	}
	if (!tg_cur_end(body))
		return TG_ERR_TLS_EXTENSION;
	ch->has_ech = true;
	return TG_OK;
}

/* Other extensions are recorded by type; their bodies are not looked at. */
static const struct ext_parser {
	uint16_t type;
	enum tg_err (*parse)(struct tg_ch *ch, struct tg_cur *body);
} ext_parsers[] = {
	{ TG_TLS_EXT_SERVER_NAME, ext_sni },
	{ TG_TLS_EXT_SUPPORTED_GROUPS, ext_groups },
	{ TG_TLS_EXT_SIGNATURE_ALGORITHMS, ext_sigalgs },
	{ TG_TLS_EXT_ALPN, ext_alpn },
	{ TG_TLS_EXT_PRE_SHARED_KEY, ext_psk },
	{ TG_TLS_EXT_EARLY_DATA, ext_early_data },
	{ TG_TLS_EXT_SUPPORTED_VERSIONS, ext_versions },
	{ TG_TLS_EXT_ECH, ext_ech },
};

static enum tg_err ext_parse(struct tg_ch *ch, uint16_t type, struct tg_cur *body)
{
	size_t i;

	for (i = 0; i < sizeof(ext_parsers) / sizeof(ext_parsers[0]); i++)
		if (ext_parsers[i].type == type)
			return ext_parsers[i].parse(ch, body);
	return TG_OK;
}

/* True if @type is among the extensions seen; @seen is a 256-bit filter of their types. */
static bool ext_seen(const struct tg_ch *ch, uint64_t seen[static 4], uint16_t type)
{
	unsigned bit = (uint16_t)(type * 0x9e37u) >> 8;
	size_t i;

	if (!(seen[bit / 64] & (uint64_t)1 << (bit % 64))) {
		seen[bit / 64] |= (uint64_t)1 << (bit % 64);
		return false;
	}
	for (i = 0; i < ch->n_exts; i++)
		if (ch->exts[i] == type)
			return true;
	return false;
}

/* The extensions block: type(2) | data<0..2^16-1>, each type at most once (RFC 8446 4.2). */
static enum tg_err ch_exts(struct tg_ch *ch, struct tg_cur *blk)
{
	uint64_t seen[4] = { 0, 0, 0, 0 };

	while (tg_cur_left(blk) > 0) {
		struct tg_cur body;
		uint16_t type;
		enum tg_err err;

		type = tg_cur_u16(blk);
		(void)tg_cur_vec16(blk, &body);
		if (!tg_cur_ok(blk))
			return TG_ERR_TLS_EXTENSION;
		/* RFC 8446 4.2.11: pre_shared_key MUST be the last extension. */
		if (ch->has_psk)
			return TG_ERR_TLS_EXTENSION;
		if (ext_seen(ch, seen, type))
			return TG_ERR_TLS_DUP_EXTENSION;
		if (ch->n_exts == TG_CAP_CH_EXTENSIONS)
			return TG_ERR_CAP;
		ch->exts[ch->n_exts++] = type;
		err = ext_parse(ch, type, &body);
		if (err != TG_OK)
			return err;
	}
	return TG_OK;
}

/* The handshake message @msg (header already checked by the caller), exactly. */
static enum tg_err ch_body(struct tg_ch *ch, struct tg_span msg)
{
	struct tg_cur c, v;
	enum tg_err err;

	ch->msg = msg;
	tg_cur_init(&c, msg.p, msg.len);
	(void)tg_cur_skip(&c, TG_TLS_HS_HEADER);
	ch->legacy_version = tg_cur_u16(&c);
	ch->random = tg_cur_span(&c, 32);
	(void)tg_cur_vec8(&c, &v);
	ch->session_id = tg_cur_rest(&v);
	if (!tg_cur_ok(&c) || ch->session_id.len > 32)
		return TG_ERR_LENGTH;

	(void)tg_cur_vec16(&c, &v);
	if (!tg_cur_ok(&c) || tg_cur_left(&v) == 0 || tg_cur_left(&v) % 2 != 0)
		return TG_ERR_LENGTH;
	if (tg_cur_left(&v) / 2 > TG_CAP_CH_CIPHERS)
		return TG_ERR_CAP;
	while (tg_cur_left(&v) > 0)
		ch->ciphers[ch->n_ciphers++] = tg_cur_u16(&v);

	(void)tg_cur_vec8(&c, &v);
	ch->compression = tg_cur_rest(&v);
	if (!tg_cur_ok(&c) || ch->compression.len == 0)
		return TG_ERR_LENGTH;
	/* RFC 5246 7.4.1.2: a hello may end here; extensions follow only if bytes do. */
	if (tg_cur_left(&c) == 0)
		return TG_OK;

	ch->has_exts_block = true;
	(void)tg_cur_vec16(&c, &v);
	if (!tg_cur_ok(&c))
		return TG_ERR_LENGTH;
	err = ch_exts(ch, &v);
	if (err != TG_OK)
		return err;
	if (!tg_cur_end(&c))
		return TG_ERR_TRAILING;
	return TG_OK;
}

/*
 * The handshake header at the start of @h (up to 4 bytes known): the message type is checked
 * as soon as it is there; *total is set once the length is. Returns TG_OK while consistent.
 */
static enum tg_err hs_header(struct tg_cur *h, size_t *total)
{
	size_t known = tg_cur_left(h);
	uint8_t type = tg_cur_u8(h);
	size_t body = tg_cur_u24(h);

	if (known >= 1 && type != TG_TLS_HS_CLIENT_HELLO)
		return TG_ERR_TLS_NOT_CLIENT_HELLO;
	if (!tg_cur_ok(h))
		return TG_OK;
	*total = TG_TLS_HS_HEADER + body;
	if (*total > TG_CAP_CH_BYTES)
		return TG_ERR_CAP;
	return TG_OK;
}

enum tg_err tg_tls_ch_parse_msg(struct tg_ch *out, const uint8_t *msg, size_t len)
{
	struct tg_cur c;
	struct tg_span m;
	size_t total = 0;
	enum tg_err err;

	ch_reset(out);
	tg_cur_init(&c, msg, len);
	err = hs_header(&c, &total);
	if (err != TG_OK)
		return err;
	if (total == 0 || len < total) {
		out->need = total ? total : TG_TLS_HS_HEADER;
		return TG_NEED_MORE;
	}
	tg_cur_init(&c, msg, len);
	m = tg_cur_span(&c, total);
	if (!tg_cur_end(&c))
		return TG_ERR_TRAILING;
	out->consumed = total;
	return ch_body(out, m);
}

/* --- records --- */

/*
 * Check the record header bytes in @h (all five, or the prefix a short stream holds) and return
 * the version and length when complete. A record other than the first that is not a handshake
 * record interrupts the message: TG_ERR_TLS_RECORD.
 */
static enum tg_err rec_header(struct tg_cur *h, bool first, uint16_t *version, size_t *rlen)
{
	size_t known = tg_cur_left(h);
	uint8_t type = tg_cur_u8(h);
	uint8_t major = tg_cur_u8(h);
	uint8_t minor = tg_cur_u8(h);

	*version = (uint16_t)(major << 8 | minor);
	*rlen = tg_cur_u16(h);
	if (known >= 1 && type != TG_TLS_CT_HANDSHAKE)
		return first ? TG_ERR_TLS_NOT_HANDSHAKE : TG_ERR_TLS_RECORD;
	if (known >= 2 && major != 3)
		return TG_ERR_TLS_RECORD;
	if (known >= TG_TLS_RECORD_HEADER && (*rlen == 0 || *rlen > TG_TLS_RECORD_MAX))
		return TG_ERR_TLS_RECORD;
	return TG_OK;
}

/* Message bytes being joined from record fragments into the scratch buffer. */
struct ch_join {
	uint8_t *buf;
	size_t have; /* message bytes joined so far */
	size_t total; /* message size (header included) once known, else 0 */
};

/*
 * Append @frag, the first bytes of a record declaring @rlen bytes, to the message. The record
 * may not carry more than the message still needs.
 */
static enum tg_err join_frag(struct ch_join *j, struct tg_span frag, size_t rlen)
{
	struct tg_cur f, h;
	struct tg_span part;
	enum tg_err err;

	tg_cur_init(&f, frag.p, frag.len);
	if (j->have < TG_TLS_HS_HEADER) {
		size_t n = TG_TLS_HS_HEADER - j->have;

		part = tg_cur_span(&f, n < frag.len ? n : frag.len);
		if (part.len > 0)
			memcpy(j->buf + j->have, part.p, part.len);
		j->have += part.len;
		rlen -= part.len;
		tg_cur_init(&h, j->buf, j->have);
		err = hs_header(&h, &j->total);
		if (err != TG_OK)
			return err;
	}
	if (j->total == 0)
		return TG_OK;
	if (rlen > j->total - j->have)
		return TG_ERR_TRAILING;
	part = tg_cur_rest(&f);
	if (part.len > 0)
		memcpy(j->buf + j->have, part.p, part.len);
	j->have += part.len;
	return TG_OK;
}

/*
 * On NEED_MORE: the shortest stream that could complete the message. @next is where the next
 * record header starts (the current record's end when inside one), @have the message bytes
 * that arrive by then. Each further record costs a header and at least one byte.
 */
static size_t join_need(const struct ch_join *j, size_t next, size_t have)
{
	size_t total = j->total;

	if (total == 0)
		total = have > TG_TLS_HS_HEADER ? have : TG_TLS_HS_HEADER;
	if (total <= have)
		return next;
	return next + TG_TLS_RECORD_HEADER + (total - have);
}

/*
 * The message fits in the first record: parse it where it lies. The caller made sure the
 * record is complete and holds the 4 header bytes.
 */
static bool rec_whole(struct tg_span frag)
{
	struct tg_cur h;

	tg_cur_init(&h, frag.p, frag.len);
	if (tg_cur_u8(&h) != TG_TLS_HS_CLIENT_HELLO)
		return false;
	return TG_TLS_HS_HEADER + tg_cur_u24(&h) == frag.len;
}

enum tg_err tg_tls_ch_parse(struct tg_ch *out, const uint8_t *stream, size_t len,
			    uint8_t scratch[static TG_CAP_CH_BYTES])
{
	struct ch_join j = { NULL, 0, 0 };
	struct tg_cur c;
	enum tg_err err;

	/* Assigned, not initialized: clang-tidy 14 misses writes through an initializer list. */
	j.buf = scratch;
	ch_reset(out);
	tg_cur_init(&c, stream, len);
	while (j.total == 0 || j.have < j.total) {
		struct tg_cur h;
		struct tg_span frag;
		uint16_t version;
		size_t rlen, rec_end, at = tg_cur_pos(&c), left = tg_cur_left(&c);

		/* No completion fits the stream cap: stop reading here (see tls_ch.h). */
		out->need = join_need(&j, at, j.have);
		if (out->need > TG_CAP_CH_STREAM)
			return TG_ERR_CAP;
		if (left == 0)
			return TG_NEED_MORE;
		(void)tg_cur_sub(&c, left < TG_TLS_RECORD_HEADER ? left : TG_TLS_RECORD_HEADER, &h);
		err = rec_header(&h, out->n_records == 0, &version, &rlen);
		if (err != TG_OK)
			return err;
		if (left < TG_TLS_RECORD_HEADER)
			return TG_NEED_MORE;
		/* Every completion contains this whole record. */
		rec_end = at + TG_TLS_RECORD_HEADER + rlen;
		if (rec_end > TG_CAP_CH_STREAM)
			return TG_ERR_CAP;
		if (out->n_records++ == 0)
			out->record_version = version;
		left = tg_cur_left(&c);
		frag = tg_cur_span(&c, rlen < left ? rlen : left);
		if (out->n_records == 1 && frag.len == rlen && rlen >= TG_TLS_HS_HEADER &&
		    rec_whole(frag)) {
			out->consumed = rec_end;
			out->need = 0;
			return ch_body(out, frag);
		}
		err = join_frag(&j, frag, rlen);
		if (err != TG_OK)
			return err;
		if (frag.len < rlen) {
			out->need = join_need(&j, rec_end, j.have + (rlen - frag.len));
			return out->need > TG_CAP_CH_STREAM ? TG_ERR_CAP : TG_NEED_MORE;
		}
	}
	out->consumed = tg_cur_pos(&c);
	out->need = 0;
	return ch_body(out, (struct tg_span){ j.buf, j.total });
}
