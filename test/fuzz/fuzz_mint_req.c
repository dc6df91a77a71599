/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_mint_req.c - the two parsers of the mint wire format (daemon/mint.c), each over the whole
 * input: mint_req_decode, what the CA process reads from a proxy worker (a worker parses network
 * bytes: a compromised one sends anything), and mint_resp_decode, what a worker reads back.
 * A request that decodes is also signed, by a CA made once in a temporary directory, since
 * whatever the decoder accepts goes straight to mint_sign. Invariants (abort() on violation):
 * - a decoded request is within every cap of daemon/caps.h, its CN and DNS names pass
 *   mint_name_check, its addresses are 4 or 16 bytes, not_before < not_after, its key is an EC
 *   P-256 SubjectPublicKeyInfo, and it encodes back to exactly the input; its digest ignores the
 *   id, and the same bytes with another id decode too;
 * - signing it never fails for another reason than a validity the CA cannot meet, and exactly
 *   when the request's validity clipped to the CA's is empty; the leaf parses, carries the
 *   requested DNS names and addresses in order and the requested key, and its validity is the
 *   request's clipped to the CA's, or MINT_VALIDITY_MAX_S of it (cut at the end while that
 *   leaves a leaf valid now);
 * - a refusal always says why;
 * - a decoded response's certificate lies inside the input, its status is known, a certificate
 *   comes with MINT_OK and only with it, and it encodes back to exactly the input.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/x509_crt.h>

#include "ca.h"
#include "caps.h"
#include "fuzz.h"
#include "mint.h"

#define TAG_DNS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)
#define TAG_IP	(MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)

static struct ca *fuzz_ca;
static mbedtls_ctr_drbg_context fuzz_drbg;
static struct mint_req req, again;
static uint8_t enc[MINT_REQ_MAX], der[MINT_LEAF_MAX], resp_enc[MINT_RESP_MAX];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A CA for signing, made in a temporary directory that is removed once it is loaded. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512], err[4300];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/tg-fuzz-mint.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || ca_init(dir, "fuzz CA", 0, err, sizeof(err)) == -1 ||
	    (fuzz_ca = ca_load_dir(dir, err, sizeof(err))) == NULL ||
	    ca_drbg_seed(&fuzz_drbg, "fuzz_mint_req") != 0) {
		fprintf(stderr, "fuzz_mint_req: no CA: %s\n", err);
		abort();
	}
	(void)nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void check_req(const struct mint_req *r)
{
	mbedtls_pk_context pk;
	const mbedtls_ecp_keypair *ec;
	size_t i;

	if (r->not_before >= r->not_after || r->spki_len == 0 || r->spki_len > MINT_SPKI_MAX ||
	    r->cn_len > MINT_CN_MAX || r->n_dns > MINT_MAX_SANS || r->n_ip > MINT_MAX_IP_SANS ||
	    r->n_dns + r->n_ip == 0 || strlen(r->cn) != r->cn_len)
		abort();
	if (r->cn_len > 0 && mint_name_check(r->cn, r->cn_len, true) != NULL)
		abort();
	for (i = 0; i < r->n_dns; i++)
		if (r->dns_len[i] == 0 || strlen(r->dns[i]) != r->dns_len[i] ||
		    mint_name_check(r->dns[i], r->dns_len[i], true) != NULL)
			abort();
	for (i = 0; i < r->n_ip; i++)
		if (r->ip[i].len != 4 && r->ip[i].len != 16)
			abort();
	mbedtls_pk_init(&pk);
	if (mbedtls_pk_parse_public_key(&pk, r->spki, r->spki_len) != 0 ||
	    mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY || mbedtls_pk_ec(pk) == NULL)
		abort();
	ec = mbedtls_pk_ec(pk);
	if (ec == NULL || ec->grp.id != MBEDTLS_ECP_DP_SECP256R1)
		abort();
	mbedtls_pk_free(&pk);
}

/* The leaf carries the request's names, in order, and its key. */
static void check_leaf(const struct mint_req *r, mbedtls_x509_crt *leaf)
{
	const mbedtls_x509_sequence *s;
	unsigned char spki[256];
	size_t nd = 0, ni = 0;
	int n;

	for (s = &leaf->subject_alt_names; s != NULL && s->buf.p != NULL; s = s->next) {
		if (s->buf.tag == TAG_DNS) {
			if (nd >= r->n_dns || s->buf.len != r->dns_len[nd] ||
			    memcmp(s->buf.p, r->dns[nd], s->buf.len) != 0)
				abort();
			nd++;
		} else if (s->buf.tag == TAG_IP) {
			if (ni >= r->n_ip || s->buf.len != r->ip[ni].len ||
			    memcmp(s->buf.p, r->ip[ni].addr, s->buf.len) != 0)
				abort();
			ni++;
		} else {
			abort();
		}
	}
	if (nd != r->n_dns || ni != r->n_ip || leaf->ca_istrue)
		abort();
	n = mbedtls_pk_write_pubkey_der(&leaf->pk, spki, sizeof(spki));
	if (n <= 0 || (size_t)n != r->spki_len ||
	    memcmp(spki + sizeof(spki) - (size_t)n, r->spki, (size_t)n) != 0)
		abort();
}

static void sign(const struct mint_req *r)
{
	int64_t ca_nb, ca_na, from, to, lf, lt;
	mbedtls_x509_crt leaf;
	enum mint_status st;
	char err[512];
	size_t len = 1;

	ca_validity(fuzz_ca, &ca_nb, &ca_na);
	from = r->not_before > ca_nb ? r->not_before : ca_nb;
	to = r->not_after < ca_na ? r->not_after : ca_na;
	st = mint_sign(fuzz_ca, r, &fuzz_drbg, der, sizeof(der), &len, err, sizeof(err));
	if (from >= to) {
		if (st != MINT_ERR_VALIDITY || len != 0)
			abort();
		return;
	}
	if (st != MINT_OK || len == 0 || len > MINT_LEAF_MAX)
		abort();
	mbedtls_x509_crt_init(&leaf);
	if (mbedtls_x509_crt_parse_der(&leaf, der, len) != 0)
		abort();
	lf = ca_time_epoch(&leaf.valid_from);
	lt = ca_time_epoch(&leaf.valid_to);
	if (lf < from || lt > to || lf >= lt || lt - lf > MINT_VALIDITY_MAX_S)
		abort();
	/* Cut at the end, unless that would end it within a day (a CA older than the cap). */
	if (to - from <= MINT_VALIDITY_MAX_S
		    ? lf != from || lt != to
		    : lt - lf != MINT_VALIDITY_MAX_S || (lf != from && lt < (int64_t)time(NULL)))
		abort();
	check_leaf(r, &leaf);
	mbedtls_x509_crt_free(&leaf);
	/* The answer the CA process would send fits its cap. */
	if (mint_resp_encode(r->id, MINT_OK, der, len, resp_enc, sizeof(resp_enc)) <= 0)
		abort();
}

static void fuzz_req(const uint8_t *data, size_t size)
{
	uint8_t d1[32], d2[32];
	const char *why = NULL;
	ssize_t n;

	if (mint_req_decode(data, size, &req, &why) == -1) {
		if (why == NULL || *why == '\0')
			abort();
		return;
	}
	if (why != NULL)
		abort();
	check_req(&req);
	n = mint_req_encode(&req, enc, sizeof(enc));
	if (n < 0 || (size_t)n != size || memcmp(enc, data, size) != 0)
		abort();
	/* Another id: the same digest, still a request. */
	enc[1] ^= 0x80;
	enc[8] ^= 0x01;
	if (mint_req_digest(data, size, d1) != 0 || mint_req_digest(enc, size, d2) != 0 ||
	    memcmp(d1, d2, sizeof(d1)) != 0)
		abort();
	if (mint_req_decode(enc, size, &again, &why) != 0 ||
	    again.id != (req.id ^ 0x8000000000000001ULL))
		abort();
	sign(&req);
}

static void fuzz_resp(const uint8_t *data, size_t size)
{
	struct mint_resp r;
	const char *why = NULL;
	ssize_t n;

	if (mint_resp_decode(data, size, &r, &why) == -1) {
		if (why == NULL || *why == '\0')
			abort();
		return;
	}
	if ((unsigned)r.status >= MINT_STATUS__COUNT || (r.status == MINT_OK) != (r.der_len > 0) ||
	    r.der_len > MINT_LEAF_MAX)
		abort();
	if (r.der_len > 0 && (r.der < data || r.der + r.der_len != data + size))
		abort();
	n = mint_resp_encode(r.id, r.status, r.der, r.der_len, resp_enc, sizeof(resp_enc));
	if (n < 0 || (size_t)n != size || memcmp(resp_enc, data, size) != 0)
		abort();
	/* What the worker does with it next. */
	if (r.status == MINT_OK) {
		mbedtls_x509_crt leaf;

		mbedtls_x509_crt_init(&leaf);
		(void)mbedtls_x509_crt_parse_der(&leaf, r.der, r.der_len);
		mbedtls_x509_crt_free(&leaf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_req(data, size);
	fuzz_resp(data, size);
	return 0;
}
