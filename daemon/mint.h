/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mint.h - forged leaves: what one is made of (a mint request), the request and response wire
 * formats between a proxy worker and the CA process, and the signing.
 *
 * A worker builds a request from the upstream certificate it verified and the client's SNI
 * (mint_req_from_crt), so the CA process never parses a certificate from the network: it parses
 * only the flat, bounded request below (mint_req_decode, fuzzed by test/fuzz/fuzz_mint_req.c)
 * and signs (mint_sign). One request or response is one SOCK_SEQPACKET message; integers are
 * big-endian, every length is checked against the caps of daemon/caps.h.
 *
 * Request (version 1), at most MINT_REQ_MAX bytes:
 *   u8   version              1
 *   u64  id                   the worker's; echoed in the response
 *   i64  not_before           seconds since the epoch (two's complement)
 *   i64  not_after            > not_before
 *   u8   spki_len, spki       SubjectPublicKeyInfo DER of an EC P-256 key, 1..MINT_SPKI_MAX,
 *                             encoded as mbedTLS writes it (uncompressed point)
 *   u8   cn_len, cn           0..MINT_CN_MAX, a DNS name (mint_name_check) or empty
 *   u8   n_dns                0..MINT_MAX_SANS, then each: u8 len (1..253), DNS name
 *   u8   n_ip                 0..MINT_MAX_IP_SANS, then each: u8 len (4 or 16), address
 *   n_dns + n_ip >= 1; nothing follows.
 *
 * Response (version 1), at most MINT_RESP_MAX bytes:
 *   u8   version              1
 *   u64  id                   the request's (0 when the request was too short to carry one)
 *   u8   status               enum mint_status
 *   u16  der_len, der         the leaf certificate; 1..MINT_LEAF_MAX bytes when status is
 *                             MINT_OK, else 0
 */
#ifndef TLSGATE_MINT_H
#define TLSGATE_MINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "caps.h"

#define MINT_VERSION 1

struct ca;

struct mint_ip {
	uint8_t len; /* 4 or 16 */
	uint8_t addr[16];
};

/* A leaf to sign. Names are lowercase, NUL-terminated at their length. */
struct mint_req {
	uint64_t id;
	int64_t not_before, not_after;
	uint8_t spki[MINT_SPKI_MAX];
	size_t spki_len;
	char cn[MINT_CN_MAX + 1]; /* may be empty: the signer uses the first short DNS name */
	size_t cn_len;
	char dns[MINT_MAX_SANS][MINT_NAME_MAX + 1];
	uint8_t dns_len[MINT_MAX_SANS];
	size_t n_dns;
	struct mint_ip ip[MINT_MAX_IP_SANS];
	size_t n_ip;
};

#define MINT_STATUS_TABLE(X)                                                 \
	X(MINT_OK, "ok")                                                     \
	X(MINT_ERR_REQUEST, "malformed request")                             \
	X(MINT_ERR_VALIDITY, "the requested validity lies outside the CA's") \
	X(MINT_ERR_SIGN, "signing failed")

enum mint_status {
#define MINT_STATUS_ENUM(name, text) name,
	MINT_STATUS_TABLE(MINT_STATUS_ENUM)
#undef MINT_STATUS_ENUM
		MINT_STATUS__COUNT
};

/* A static text for @st; never NULL. */
const char *mint_status_text(enum mint_status st);

/* A decoded response: @der points into the decoded buffer. */
struct mint_resp {
	uint64_t id;
	enum mint_status status;
	const uint8_t *der;
	size_t der_len;
};

/*
 * mint_name_check() - is @name (@len bytes) a DNS name a leaf may carry: 1..253 bytes of
 * dot-separated labels of 1..63 characters from [a-z0-9_-], no hyphen at a label's either end,
 * no trailing dot; with @wildcard_ok, the first label may be "*" alone when at least two labels
 * follow. Returns NULL, or a static text saying what is wrong.
 */
const char *mint_name_check(const char *name, size_t len, bool wildcard_ok);

/*
 * mint_req_from_crt() - the worker's side: the request for a leaf that mirrors @upstream (a
 * certificate the worker verified for @sni) with the worker's @leaf_key (an EC P-256 key;
 * only its public half is used):
 *  - CN: the upstream's subject CN when it is a DNS name of at most MINT_CN_MAX bytes, else "";
 *  - DNS names: the upstream's, lowercased, those failing mint_name_check dropped, duplicates
 *    once; first the one that covers @sni (exactly or by wildcard), or @sni itself when none
 *    does (an upstream verified by its CN alone); then the others in order while they fit
 *    MINT_MAX_SANS;
 *  - IP addresses: the upstream's, the first MINT_MAX_IP_SANS;
 *  - validity: the upstream's (the signer clips it).
 * @sni may be NULL or "" (no SNI: the upstream's names alone; with none, its CN). Returns 0, or
 * -1 with errno EINVAL (@sni not a DNS name, @leaf_key not EC P-256) or ENOENT (no name at all).
 */
int mint_req_from_crt(const mbedtls_x509_crt *upstream, const char *sni,
		      const mbedtls_pk_context *leaf_key, uint64_t id, struct mint_req *out);

/* mint_req_encode() - @req in the wire format into @buf. Returns the length, or -1 when @req
 * breaks a cap or does not fit @cap. */
ssize_t mint_req_encode(const struct mint_req *req, uint8_t *buf, size_t cap);

/*
 * mint_req_decode() - parse and check a request: every length, count and cap, the name syntax,
 * the key (a valid EC P-256 point, encoded canonically), not_before < not_after, at least one
 * name, nothing after the last field. Returns 0, or -1 with a static text in *@why.
 */
int mint_req_decode(const uint8_t *buf, size_t len, struct mint_req *out, const char **why);

/*
 * mint_req_digest() - SHA-256 of an encoded request without its id: equal for two requests
 * that ask for the same leaf. @len must be at least 9. Returns 0, or -1.
 */
int mint_req_digest(const uint8_t *buf, size_t len, uint8_t out[static 32]);

/*
 * mint_sign() - the CA's side: an X.509 v3 leaf for @req (decoded, so valid), DER into @der
 * (@cap bytes; MINT_LEAF_MAX always suffices), its length in *@len:
 *   subject   CN = req->cn, or the first DNS name of at most MINT_CN_MAX bytes; O = tlsgate
 *   issuer    the CA certificate's subject, as encoded there
 *   serial    16 random bytes, positive
 *   validity  the request's, clipped to the CA's own and to MINT_VALIDITY_MAX_S (cut at the
 *             end, unless that ends the leaf within a day: then from a day ago)
 *   extensions basicConstraints CA:false, keyUsage digitalSignature (critical),
 *             extendedKeyUsage serverAuth, subjectAltName (the DNS names, then the addresses),
 *             subjectKeyIdentifier, authorityKeyIdentifier (the CA's subjectKeyIdentifier)
 *   signature ECDSA with SHA-256 by the CA key, randomness from @drbg
 * Returns MINT_OK, or another status with a message in @err.
 */
enum mint_status mint_sign(struct ca *ca, const struct mint_req *req,
			   mbedtls_ctr_drbg_context *drbg, uint8_t *der, size_t cap, size_t *len,
			   char *err, size_t errlen);

/* mint_resp_encode() - a response into @buf. Returns its length, or -1 when it does not fit. */
ssize_t mint_resp_encode(uint64_t id, enum mint_status status, const uint8_t *der, size_t der_len,
			 uint8_t *buf, size_t cap);

/* mint_resp_decode() - parse a response; @out's der points into @buf. 0, or -1 with *@why. */
int mint_resp_decode(const uint8_t *buf, size_t len, struct mint_resp *out, const char **why);

#endif
