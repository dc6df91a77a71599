/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mint.c - see mint.h for the wire formats. The decoder reads through the library's cursor
 * (tlsgate/cursor.h); the signer builds what mbedTLS 2.28's certificate writer has no setter
 * for (subjectAltName, extendedKeyUsage, an authorityKeyIdentifier that repeats the CA's key
 * id, an issuer copied name by name) with mbedTLS's ASN.1 writer (RFC 5280 section 4.2.1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform.h>
#include <mbedtls/x509_crt.h>

#include "tlsgate/cursor.h"
#include "tlsgate/mbedtls_compat.h"

#include "ca.h"
#include "mint.h"

#define MINT_LABEL_MAX 63
/* subjectAltName's DER with every cap reached: a tag, 2 length bytes and the value each. */
#define MINT_SAN_MAX (8 + MINT_MAX_SANS * (3 + MINT_NAME_MAX) + MINT_MAX_IP_SANS * (2 + 16))

static const char *const mint_status_texts[] = {
#define MINT_STATUS_TEXT(name, text) [name] = text,
	MINT_STATUS_TABLE(MINT_STATUS_TEXT)
#undef MINT_STATUS_TEXT
};

const char *mint_status_text(enum mint_status st)
{
	if ((unsigned)st >= MINT_STATUS__COUNT)
		return "unknown status";
	return mint_status_texts[st];
}

/* --- names ----------------------------------------------------------------------------------- */

#define MINT_NAME_ERRS(X)                                                             \
	X(MINT_NAME_OK, "ok")                                                         \
	X(MINT_NAME_EMPTY, "empty")                                                   \
	X(MINT_NAME_LONG, "longer than 253 bytes")                                    \
	X(MINT_NAME_LABEL_EMPTY, "empty label")                                       \
	X(MINT_NAME_LABEL_LONG, "label longer than 63 bytes")                         \
	X(MINT_NAME_CHAR, "character other than a-z, 0-9, - and _")                   \
	X(MINT_NAME_HYPHEN, "hyphen at the start or end of a label")                  \
	X(MINT_NAME_WILDCARD, "wildcard not allowed there (only \"*.\" then a name)") \
	X(MINT_NAME_WILDCARD_SHORT, "wildcard with fewer than two labels after it")

enum mint_name_err {
#define MINT_NAME_ENUM(name, text) name,
	MINT_NAME_ERRS(MINT_NAME_ENUM)
#undef MINT_NAME_ENUM
};

static const char *const mint_name_texts[] = {
#define MINT_NAME_TEXT(name, text) [name] = text,
	MINT_NAME_ERRS(MINT_NAME_TEXT)
#undef MINT_NAME_TEXT
};
static const char *const mint_dns_whys[] = {
#define MINT_DNS_WHY(name, text) [name] = "DNS name: " text,
	MINT_NAME_ERRS(MINT_DNS_WHY)
#undef MINT_DNS_WHY
};
static const char *const mint_cn_whys[] = {
#define MINT_CN_WHY(name, text) [name] = "CN: " text,
	MINT_NAME_ERRS(MINT_CN_WHY)
#undef MINT_CN_WHY
};

static bool mint_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static enum mint_name_err mint_name_err(const char *name, size_t len, bool wildcard_ok)
{
	size_t i, start = 0, labels = 0;

	if (len == 0)
		return MINT_NAME_EMPTY;
	if (len > MINT_NAME_MAX)
		return MINT_NAME_LONG;
	if (len >= 2 && name[0] == '*' && name[1] == '.') {
		if (!wildcard_ok)
			return MINT_NAME_WILDCARD;
		start = 2;
	}
	for (i = start; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (name[i] == '*')
				return MINT_NAME_WILDCARD;
			if (!mint_label_char(name[i]))
				return MINT_NAME_CHAR;
			continue;
		}
		if (i == start)
			return MINT_NAME_LABEL_EMPTY;
		if (i - start > MINT_LABEL_MAX)
			return MINT_NAME_LABEL_LONG;
		if (name[start] == '-' || name[i - 1] == '-')
			return MINT_NAME_HYPHEN;
		labels++;
		start = i + 1;
	}
	if (name[0] == '*' && labels < 2)
		return MINT_NAME_WILDCARD_SHORT;
	return MINT_NAME_OK;
}

const char *mint_name_check(const char *name, size_t len, bool wildcard_ok)
{
	enum mint_name_err e = mint_name_err(name, len, wildcard_ok);

	return e == MINT_NAME_OK ? NULL : mint_name_texts[e];
}

/* Does the certificate name @pat (exact, or "*." + suffix) cover the host name @name? */
static bool mint_covers(const char *pat, size_t plen, const char *name, size_t nlen)
{
	const char *dot;

	if (plen == nlen && memcmp(pat, name, nlen) == 0)
		return true;
	if (plen < 3 || pat[0] != '*' || pat[1] != '.')
		return false;
	dot = memchr(name, '.', nlen);
	if (dot == NULL || dot == name)
		return false;
	return (size_t)(name + nlen - (dot + 1)) == plen - 2 &&
	       memcmp(dot + 1, pat + 2, plen - 2) == 0;
}

/* Copy @len bytes of @p lowercased into @out (room for len + 1); false if not a valid name. */
static bool mint_name_copy(const unsigned char *p, size_t len, bool wildcard_ok, char *out)
{
	size_t i;

	if (len == 0 || len > MINT_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + ('a' - 'A') : p[i]);
	out[len] = '\0';
	return mint_name_err(out, len, wildcard_ok) == MINT_NAME_OK;
}

/* --- the worker's side: a request from a verified certificate -------------------------------- */

static bool mint_has_dns(const struct mint_req *r, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < r->n_dns; i++)
		if (r->dns_len[i] == len && memcmp(r->dns[i], name, len) == 0)
			return true;
	return false;
}

static void mint_add_dns(struct mint_req *r, const char *name, size_t len)
{
	if (r->n_dns >= MINT_MAX_SANS || mint_has_dns(r, name, len))
		return;
	memcpy(r->dns[r->n_dns], name, len + 1);
	r->dns_len[r->n_dns] = (uint8_t)len;
	r->n_dns++;
}

static void mint_add_ip(struct mint_req *r, const unsigned char *p, size_t len)
{
	size_t i;

	if (r->n_ip >= MINT_MAX_IP_SANS || (len != 4 && len != 16))
		return;
	for (i = 0; i < r->n_ip; i++)
		if (r->ip[i].len == len && memcmp(r->ip[i].addr, p, len) == 0)
			return;
	r->ip[r->n_ip].len = (uint8_t)len;
	memcpy(r->ip[r->n_ip].addr, p, len);
	r->n_ip++;
}

static void mint_cn_from(const mbedtls_x509_crt *crt, struct mint_req *r)
{
	const mbedtls_x509_name *n;
	char name[MINT_NAME_MAX + 1];

	for (n = &crt->subject; n != NULL; n = n->next) {
		if (n->oid.p == NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0)
			continue;
		if (n->val.len <= MINT_CN_MAX && mint_name_copy(n->val.p, n->val.len, true, name)) {
			memcpy(r->cn, name, n->val.len + 1);
			r->cn_len = n->val.len;
		}
		return;
	}
}

/* An EC key on P-256, the only kind leaves carry. */
static bool is_p256(const mbedtls_pk_context *key)
{
	const mbedtls_ecp_keypair *ec;

	if (mbedtls_pk_get_type(key) != MBEDTLS_PK_ECKEY)
		return false;
	ec = mbedtls_pk_ec(*key);
	return ec != NULL && ec->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

static int mint_spki(const mbedtls_pk_context *key, struct mint_req *r)
{
	unsigned char buf[MINT_SPKI_MAX + 64];
	int n;

	if (!is_p256(key))
		return -1;
	/* mbedTLS 2.28 takes a non-const context to write the public half. */
	n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)(uintptr_t)key, buf, sizeof(buf));
	if (n <= 0 || n > MINT_SPKI_MAX)
		return -1;
	memcpy(r->spki, buf + sizeof(buf) - (size_t)n, (size_t)n);
	r->spki_len = (size_t)n;
	return 0;
}

int mint_req_from_crt(const mbedtls_x509_crt *upstream, const char *sni,
		      const mbedtls_pk_context *leaf_key, uint64_t id, struct mint_req *out)
{
	const mbedtls_x509_sequence *s;
	char host[MINT_NAME_MAX + 1], name[MINT_NAME_MAX + 1];
	size_t host_len = sni ? strlen(sni) : 0;
	bool covered = false;

	memset(out, 0, sizeof(*out));
	out->id = id;
	if (host_len > 0 && !mint_name_copy((const unsigned char *)sni, host_len, false, host)) {
		errno = EINVAL;
		return -1;
	}
	if (mint_spki(leaf_key, out) == -1) {
		errno = EINVAL;
		return -1;
	}
	mint_cn_from(upstream, out);
	/* First the name that covers the SNI, so that it is never the one cut. */
	for (s = &upstream->subject_alt_names; host_len > 0 && s != NULL && !covered; s = s->next)
		if (s->buf.p != NULL && s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2) &&
		    mint_name_copy(s->buf.p, s->buf.len, true, name) &&
		    mint_covers(name, s->buf.len, host, host_len)) {
			mint_add_dns(out, name, s->buf.len);
			covered = true;
		}
	if (host_len > 0 && !covered)
		mint_add_dns(out, host, host_len);
	for (s = &upstream->subject_alt_names; s != NULL; s = s->next) {
		if (s->buf.p == NULL)
			continue;
		if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2) &&
		    mint_name_copy(s->buf.p, s->buf.len, true, name))
			mint_add_dns(out, name, s->buf.len);
		else if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7))
			mint_add_ip(out, s->buf.p, s->buf.len);
	}
	if (out->n_dns == 0 && out->n_ip == 0 && out->cn_len > 0)
		mint_add_dns(out, out->cn, out->cn_len);
	if (out->n_dns == 0 && out->n_ip == 0) {
		errno = ENOENT;
		return -1;
	}
	out->not_before = ca_time_epoch(&upstream->valid_from);
	out->not_after = ca_time_epoch(&upstream->valid_to);
	return 0;
}

/* --- the wire format ------------------------------------------------------------------------- */

/* A big-endian writer over @buf; @ok turns false for good once something does not fit. */
struct mint_w {
	uint8_t *p;
	size_t cap, len;
	bool ok;
};

/* A function, not an initializer list: clang-tidy 14 sees writes through @buf only so. */
static void mint_w_init(struct mint_w *w, uint8_t *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->ok = true;
}

static void mint_put(struct mint_w *w, const void *p, size_t n)
{
	if (!w->ok || n > w->cap - w->len) {
		w->ok = false;
		return;
	}
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void mint_put_u8(struct mint_w *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	mint_put(w, &b, 1);
}

static void mint_put_u64(struct mint_w *w, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	mint_put(w, b, 8);
}

static uint64_t mint_cur_u64(struct tg_cur *c)
{
	uint64_t hi = tg_cur_u32(c);

	return hi << 32 | tg_cur_u32(c);
}

ssize_t mint_req_encode(const struct mint_req *req, uint8_t *buf, size_t cap)
{
	struct mint_w w;
	size_t i;

	mint_w_init(&w, buf, cap);
	if (req->spki_len == 0 || req->spki_len > MINT_SPKI_MAX || req->cn_len > MINT_CN_MAX ||
	    req->n_dns > MINT_MAX_SANS || req->n_ip > MINT_MAX_IP_SANS)
		return -1;
	mint_put_u8(&w, MINT_VERSION);
	mint_put_u64(&w, req->id);
	mint_put_u64(&w, (uint64_t)req->not_before);
	mint_put_u64(&w, (uint64_t)req->not_after);
	mint_put_u8(&w, (unsigned)req->spki_len);
	mint_put(&w, req->spki, req->spki_len);
	mint_put_u8(&w, (unsigned)req->cn_len);
	mint_put(&w, req->cn, req->cn_len);
	mint_put_u8(&w, (unsigned)req->n_dns);
	for (i = 0; i < req->n_dns; i++) {
		if (req->dns_len[i] == 0)
			return -1;
		mint_put_u8(&w, req->dns_len[i]);
		mint_put(&w, req->dns[i], req->dns_len[i]);
	}
	mint_put_u8(&w, (unsigned)req->n_ip);
	for (i = 0; i < req->n_ip; i++) {
		if (req->ip[i].len != 4 && req->ip[i].len != 16)
			return -1;
		mint_put_u8(&w, req->ip[i].len);
		mint_put(&w, req->ip[i].addr, req->ip[i].len);
	}
	return w.ok ? (ssize_t)w.len : -1;
}

/* The key must be an EC P-256 point that mbedTLS writes back byte for byte. */
static const char *mint_check_spki(const uint8_t *p, size_t len)
{
	mbedtls_pk_context pk;
	unsigned char back[MINT_SPKI_MAX + 64];
	const char *why = NULL;
	int n;

	mbedtls_pk_init(&pk);
	if (mbedtls_pk_parse_public_key(&pk, p, len) != 0) {
		why = "key: not a valid public key";
		goto out;
	}
	if (!is_p256(&pk)) {
		why = "key: not an EC P-256 key";
		goto out;
	}
	n = mbedtls_pk_write_pubkey_der(&pk, back, sizeof(back));
	if (n <= 0 || (size_t)n != len || memcmp(back + sizeof(back) - len, p, len) != 0)
		why = "key: not encoded canonically";
out:
	mbedtls_pk_free(&pk);
	return why;
}

/* Read a u8-length-prefixed name of at most @max bytes into @out (NUL-terminated). */
static const char *mint_get_name(struct tg_cur *c, size_t max, bool allow_empty, char *out,
				 size_t *outlen, const char *const *whys)
{
	size_t n = tg_cur_u8(c);
	struct tg_span s = tg_cur_span(c, n);
	enum mint_name_err e;

	if (!tg_cur_ok(c))
		return "truncated";
	if (n > max)
		return whys == mint_cn_whys ? "CN: longer than 64 bytes" : whys[MINT_NAME_LONG];
	*outlen = n;
	/* s.len == n here (the cursor is fine); testing it shows the analyzer s.p is not NULL. */
	if (s.len)
		memcpy(out, s.p, s.len);
	out[n] = '\0';
	if (n == 0 && allow_empty)
		return NULL;
	/* A NUL inside would end the C string early: mint_name_err sees every byte. */
	e = mint_name_err(out, n, true);
	return e == MINT_NAME_OK ? NULL : whys[e];
}

static const char *mint_req_parse(struct tg_cur *c, struct mint_req *r)
{
	const char *why;
	struct tg_span key;
	size_t i, n;

	if (tg_cur_u8(c) != MINT_VERSION)
		return tg_cur_ok(c) ? "unsupported version" : "truncated";
	r->id = mint_cur_u64(c);
	r->not_before = (int64_t)mint_cur_u64(c);
	r->not_after = (int64_t)mint_cur_u64(c);
	n = tg_cur_u8(c);
	key = tg_cur_span(c, n);
	if (!tg_cur_ok(c))
		return "truncated";
	if (r->not_before >= r->not_after)
		return "validity: not_before is not before not_after";
	if (n == 0 || n > MINT_SPKI_MAX)
		return "key: length not 1..128";
	memcpy(r->spki, key.p, n);
	r->spki_len = n;
	why = mint_get_name(c, MINT_CN_MAX, true, r->cn, &r->cn_len, mint_cn_whys);
	if (why)
		return why;
	r->n_dns = tg_cur_u8(c);
	if (r->n_dns > MINT_MAX_SANS)
		return "more DNS names than MINT_MAX_SANS";
	for (i = 0; i < r->n_dns; i++) {
		why = mint_get_name(c, MINT_NAME_MAX, false, r->dns[i], &n, mint_dns_whys);
		if (why)
			return why;
		r->dns_len[i] = (uint8_t)n;
	}
	r->n_ip = tg_cur_u8(c);
	if (!tg_cur_ok(c))
		return "truncated";
	if (r->n_ip > MINT_MAX_IP_SANS)
		return "more IP addresses than MINT_MAX_IP_SANS";
	for (i = 0; i < r->n_ip; i++) {
		struct tg_span a;

		n = tg_cur_u8(c);
		a = tg_cur_span(c, n);
		if (!tg_cur_ok(c))
			return "truncated";
		if (n != 4 && n != 16)
			return "IP address: length not 4 or 16";
		r->ip[i].len = (uint8_t)n;
		memcpy(r->ip[i].addr, a.p, n);
	}
	if (!tg_cur_end(c))
		return "trailing bytes after the last field";
	if (r->n_dns + r->n_ip == 0)
		return "no name: no DNS name and no IP address";
	/* Last: the costliest check, only for an otherwise valid request. */
	return mint_check_spki(r->spki, r->spki_len);
}

int mint_req_decode(const uint8_t *buf, size_t len, struct mint_req *out, const char **why)
{
	struct tg_cur c;

	memset(out, 0, sizeof(*out));
	if (len > MINT_REQ_MAX) {
		*why = "longer than MINT_REQ_MAX";
		return -1;
	}
	tg_cur_init(&c, buf, len);
	*why = mint_req_parse(&c, out);
	return *why ? -1 : 0;
}

int mint_req_digest(const uint8_t *buf, size_t len, uint8_t out[static 32])
{
	uint8_t tmp[MINT_REQ_MAX];

	if (len < 9 || len > sizeof(tmp))
		return -1;
	/* The version byte and everything after the id. */
	tmp[0] = buf[0];
	memcpy(tmp + 1, buf + 9, len - 9);
	return tg_sha256(tmp, len - 8, out) == 0 ? 0 : -1;
}

ssize_t mint_resp_encode(uint64_t id, enum mint_status status, const uint8_t *der, size_t der_len,
			 uint8_t *buf, size_t cap)
{
	struct mint_w w;

	mint_w_init(&w, buf, cap);
	if (der_len > MINT_LEAF_MAX || (status == MINT_OK) != (der_len > 0))
		return -1;
	mint_put_u8(&w, MINT_VERSION);
	mint_put_u64(&w, id);
	mint_put_u8(&w, status);
	mint_put_u8(&w, (unsigned)(der_len >> 8));
	mint_put_u8(&w, (unsigned)(der_len & 0xff));
	mint_put(&w, der, der_len);
	return w.ok ? (ssize_t)w.len : -1;
}

int mint_resp_decode(const uint8_t *buf, size_t len, struct mint_resp *out, const char **why)
{
	struct tg_cur c;
	struct tg_span der;
	unsigned st;
	size_t n;

	memset(out, 0, sizeof(*out));
	tg_cur_init(&c, buf, len);
	if (tg_cur_u8(&c) != MINT_VERSION) {
		*why = tg_cur_ok(&c) ? "unsupported version" : "truncated";
		return -1;
	}
	out->id = mint_cur_u64(&c);
	st = tg_cur_u8(&c);
	n = tg_cur_u16(&c);
	der = tg_cur_span(&c, n);
	*why = NULL;
	if (!tg_cur_ok(&c))
		*why = "truncated";
	else if (!tg_cur_end(&c))
		*why = "trailing bytes after the certificate";
	else if (st >= MINT_STATUS__COUNT)
		*why = "unknown status";
	else if ((st == MINT_OK) != (n > 0) || n > MINT_LEAF_MAX)
		*why = "certificate length disagrees with the status";
	if (*why)
		return -1;
	out->status = (enum mint_status)st;
	out->der = der.p;
	out->der_len = n;
	return 0;
}

/* --- the CA's side: signing ------------------------------------------------------------------ */

/* The issuer: the CA's subject attribute by attribute, with their string types. */
static int mint_issuer(mbedtls_asn1_named_data **head, const mbedtls_x509_name *subject)
{
	const mbedtls_x509_name *n;

	/* mbedTLS writes a list backwards, so it is built in reverse: each one goes first. */
	for (n = subject; n != NULL; n = n->next) {
		mbedtls_asn1_named_data *d;

		if (n->oid.p == NULL)
			continue;
		d = mbedtls_calloc(1, sizeof(*d));
		if (d == NULL)
			return MBEDTLS_ERR_X509_ALLOC_FAILED;
		d->next = *head;
		*head = d;
		d->oid.tag = MBEDTLS_ASN1_OID;
		d->oid.len = n->oid.len;
		d->oid.p = mbedtls_calloc(1, n->oid.len ? n->oid.len : 1);
		d->val.tag = n->val.tag;
		d->val.len = n->val.len;
		d->val.p = mbedtls_calloc(1, n->val.len ? n->val.len : 1);
		if (d->oid.p == NULL || d->val.p == NULL)
			return MBEDTLS_ERR_X509_ALLOC_FAILED;
		memcpy(d->oid.p, n->oid.p, n->oid.len);
		if (n->val.len)
			memcpy(d->val.p, n->val.p, n->val.len);
	}
	return 0;
}

/* Write @len bytes of @v as a DER TLV with @tag backwards before *@p. */
static int mint_asn1_tlv(unsigned char **p, unsigned char *start, unsigned char tag,
			 const unsigned char *v, size_t len)
{
	int ret;
	size_t n = 0;

	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_raw_buffer(p, start, v, len));
	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_len(p, start, len));
	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_tag(p, start, tag));
	return (int)n;
}

/* SubjectAltName ::= GeneralNames: dNSName [2] IA5String, iPAddress [7] OCTET STRING. */
static int mint_san(mbedtls_x509write_cert *w, const struct mint_req *r, unsigned char *buf,
		    size_t cap)
{
	unsigned char *p = buf + cap;
	size_t n = 0, i;
	int ret;

	for (i = r->n_ip; i-- > 0;)
		MBEDTLS_ASN1_CHK_ADD(n, mint_asn1_tlv(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7,
						      r->ip[i].addr, r->ip[i].len));
	for (i = r->n_dns; i-- > 0;)
		MBEDTLS_ASN1_CHK_ADD(n, mint_asn1_tlv(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2,
						      (const unsigned char *)r->dns[i],
						      r->dns_len[i]));
	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_len(&p, buf, n));
	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_tag(
					&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_SUBJECT_ALT_NAME,
						   MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
						   0, p, n);
}

/* ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId: serverAuth alone. */
static int mint_eku(mbedtls_x509write_cert *w)
{
	unsigned char buf[32], *p = buf + sizeof(buf);
	size_t n = 0;
	int ret;

	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
						       MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_len(&p, buf, n));
	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_tag(
					&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
						   MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
						   0, p, n);
}

/*
 * AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }: the CA's own
 * subjectKeyIdentifier, so that a client matches the two; mbedTLS's setter would hash the key
 * instead, which differs for a CA made elsewhere. Without one, mbedTLS's hash it is.
 */
static int mint_aki(mbedtls_x509write_cert *w, const struct ca *ca)
{
	unsigned char buf[96], *p = buf + sizeof(buf);
	const uint8_t *id;
	size_t idlen, n = 0;
	int ret;

	id = ca_key_id(ca, &idlen);
	if (id == NULL)
		return mbedtls_x509write_crt_set_authority_key_identifier(w);
	MBEDTLS_ASN1_CHK_ADD(n,
			     mint_asn1_tlv(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0, id, idlen));
	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_len(&p, buf, n));
	MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_tag(
					&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return mbedtls_x509write_crt_set_extension(
		w, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
		MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER), 0, p, n);
}

/* The leaf's subject: "CN=name,O=tlsgate", or "O=tlsgate" without a name short enough. */
static void mint_subject(const struct mint_req *r, char *out, size_t outlen)
{
	const char *cn = r->cn_len ? r->cn : NULL;
	size_t i;

	for (i = 0; cn == NULL && i < r->n_dns; i++)
		if (r->dns_len[i] <= MINT_CN_MAX)
			cn = r->dns[i];
	if (cn)
		snprintf(out, outlen, "CN=%s,O=tlsgate", cn);
	else
		snprintf(out, outlen, "O=tlsgate");
}

static enum mint_status mint_validity(const struct ca *ca, const struct mint_req *r,
				      char nb[static 15], char na[static 15], char *err,
				      size_t errlen)
{
	int64_t ca_nb, ca_na, from, to;

	ca_validity(ca, &ca_nb, &ca_na);
	from = r->not_before > ca_nb ? r->not_before : ca_nb;
	to = r->not_after < ca_na ? r->not_after : ca_na;
	/* Both within the CA's validity once from < to: the difference cannot overflow. */
	if (from < to && to - from > MINT_VALIDITY_MAX_S) {
		/*
		 * Cut at the end, unless the leaf would end within a day (an upstream valid longer
		 * than the cap that started long ago, under a CA older than the cap): then it starts
		 * a day ago, or MINT_VALIDITY_MAX_S before the end when that is earlier.
		 */
		int64_t now = (int64_t)time(NULL);

		if (from + MINT_VALIDITY_MAX_S < now + 86400)
			from = now - 86400 < to - MINT_VALIDITY_MAX_S ? now - 86400
								      : to - MINT_VALIDITY_MAX_S;
		to = from + MINT_VALIDITY_MAX_S;
	}
	if (from >= to || ca_time_x509(from, nb) == -1 || ca_time_x509(to, na) == -1) {
		snprintf(err, errlen,
			 "validity %lld..%lld does not meet the CA's %lld..%lld (is the CA "
			 "expired?)",
			 (long long)r->not_before, (long long)r->not_after, (long long)ca_nb,
			 (long long)ca_na);
		return MINT_ERR_VALIDITY;
	}
	return MINT_OK;
}

enum mint_status mint_sign(struct ca *ca, const struct mint_req *req,
			   mbedtls_ctr_drbg_context *drbg, uint8_t *der, size_t cap, size_t *len,
			   char *err, size_t errlen)
{
	mbedtls_x509write_cert w;
	mbedtls_pk_context leaf;
	mbedtls_mpi serial;
	unsigned char *san = NULL;
	char subject[MINT_CN_MAX + 16], nb[15], na[15], what[64];
	enum mint_status st;
	int ret;

	*len = 0;
	mbedtls_x509write_crt_init(&w);
	mbedtls_pk_init(&leaf);
	mbedtls_mpi_init(&serial);
	st = mint_validity(ca, req, nb, na, err, errlen);
	if (st != MINT_OK)
		goto out;
	st = MINT_ERR_SIGN;
	san = malloc(MINT_SAN_MAX);
	if (san == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	mint_subject(req, subject, sizeof(subject));
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_issuer_key(&w, ca_key(ca));
	snprintf(what, sizeof(what), "request %llu", (unsigned long long)req->id);
	if ((ret = mbedtls_pk_parse_public_key(&leaf, req->spki, req->spki_len)) != 0)
		goto mbed_err;
	mbedtls_x509write_crt_set_subject_key(&w, &leaf);
	if ((ret = ca_serial_random(drbg, &serial)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_serial(&w, &serial)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_name(&w, subject)) != 0 ||
	    (ret = mint_issuer(&w.issuer, &ca_crt(ca)->subject)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_validity(&w, nb, na)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) !=
		    0 ||
	    (ret = mint_eku(&w)) != 0 || (ret = mint_san(&w, req, san, MINT_SAN_MAX)) < 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
	    (ret = mint_aki(&w, ca)) != 0)
		goto mbed_err;
	ret = mbedtls_x509write_crt_der(&w, der, cap, mbedtls_ctr_drbg_random, drbg);
	if (ret <= 0)
		goto mbed_err;
	/* The writer fills the end of the buffer. */
	memmove(der, der + cap - (size_t)ret, (size_t)ret);
	*len = (size_t)ret;
	st = MINT_OK;
	goto out;
mbed_err:
	ca_mbed_err(err, errlen, what, ret);
out:
	free(san);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	mbedtls_pk_free(&leaf);
	return st;
}
