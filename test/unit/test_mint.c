/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_mint.c - the CA (daemon/ca.c), forged leaves (daemon/mint.c), the LRU index (lru.c), a
 * worker's leaf cache (leafcache.c) and the CA process (ca_proc.c), through their seams:
 *
 * - ca_init makes a CA in a temporary directory (files, modes, extensions, refusal to
 *   overwrite); ca_load_dir/ca_load_fds load it and refuse a group-readable key, a key that is
 *   not P-256, a key of another certificate, a certificate that is not a CA, and broken files;
 * - test certificates are made here with mbedTLS's writer: an upstream leaf with DNS, IP, URI,
 *   duplicate and invalid names; the request built from it (mint_req_from_crt) names the SNI's
 *   name first, round-trips through the wire format, and is signed into a leaf that verifies
 *   against the CA for the SNI (mbedtls_x509_crt_verify), mirrors the names and CN, lies within
 *   the CA's validity, has a fresh serial and carries the worker's key;
 * - malformed, truncated and oversized requests are refused with a reason, by the decoder and
 *   by the CA process (an error answer, no leaf);
 * - the LRU index keeps least-recently-used order and the caller evicts at its cap;
 * - the leaf cache, against a CA served by a thread with the real signer, answers the same
 *   (certificate, SNI) from the cache without a second round trip, another SNI with another
 *   leaf, evicts in LRU order, hands out held leaves uncached, and survives timeouts, stale
 *   answers, refusals, garbage and a vanished CA;
 * - the real CA process (ca_proc_main in a fork, and ca_proc_spawn of tlsgated --ca-process)
 *   answers, signs a repeated request once (cached by digest), refuses junk with an error.
 *
 * With TG_MINT_CORPUS=DIR in the environment, the requests and responses made here are also
 * written to DIR as seeds for test/fuzz/fuzz_mint_req.c (test/fuzz/corpus/mint_req).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "tlsgate/mbedtls_compat.h"

#include "ca.h"
#include "ca_proc.h"
#include "caps.h"
#include "leafcache.h"
#include "lru.h"
#include "mint.h"
#include "tg_test.h"

#define TAG_DNS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)
#define TAG_URI (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6)
#define TAG_IP	(MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)
#define DAY	86400LL
#define WAIT_MS 10000 /* for an answer of a CA on a loaded machine; the default is 2 s */

#define CHECK_HAS(s, sub)                                                                    \
	do {                                                                                 \
		const char *h_ = (s), *n_ = (sub);                                           \
		if (strstr(h_, n_) != NULL) {                                                \
			tg_test_pass++;                                                      \
		} else {                                                                     \
			tg_test_fail++;                                                      \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, \
				__LINE__, h_, n_);                                           \
		}                                                                            \
	} while (0)

/* The curve of an EC key; MBEDTLS_ECP_DP_NONE when it is not one. */
static mbedtls_ecp_group_id pk_grp(const mbedtls_pk_context *k)
{
	const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*k);

	return ec != NULL ? ec->grp.id : MBEDTLS_ECP_DP_NONE;
}

static mbedtls_ctr_drbg_context drbg;
static char tmp_root[256];
static int64_t now_s;
static const char *corpus_dir; /* TG_MINT_CORPUS */

/* The test CA: made by ca_init, loaded, and its certificate parsed on its own for verifying. */
static char ca_dir[512];
static struct ca *ca;
static mbedtls_x509_crt ca_cert;
/* The worker's leaf key and the upstream certificate most checks use. */
static mbedtls_pk_context worker_key;
static mbedtls_x509_crt upstream;

/* --- files ----------------------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd == -1)
		return -1;
	if (len && write(fd, p, len) != (ssize_t)len)
		rc = -1;
	if (fchmod(fd, mode) == -1)
		rc = -1;
	close(fd);
	return rc;
}

/* The whole file, NUL-terminated; NULL when unreadable. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void corpus_write(const char *name, const void *p, size_t len)
{
	char path[1200];

	if (corpus_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
	if (write_file(path, p, len, 0644) == -1)
		fprintf(stderr, "%s: cannot write\n", path);
}

/* --- keys and certificates ------------------------------------------------------------------- */

static int gen_ec(mbedtls_pk_context *k, mbedtls_ecp_group_id grp)
{
	mbedtls_pk_init(k);
	if (mbedtls_pk_setup(k, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
		return -1;
	return mbedtls_ecp_gen_key(grp, mbedtls_pk_ec(*k), mbedtls_ctr_drbg_random, &drbg);
}

static int gen_rsa(mbedtls_pk_context *k, unsigned bits)
{
	mbedtls_pk_init(k);
	if (mbedtls_pk_setup(k, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0)
		return -1;
	return mbedtls_rsa_gen_key(mbedtls_pk_rsa(*k), mbedtls_ctr_drbg_random, &drbg, bits, 65537);
}

/* The SubjectPublicKeyInfo DER of @k into @out; its length, or -1. */
static int spki_of(mbedtls_pk_context *k, uint8_t *out, size_t cap)
{
	unsigned char buf[512];
	int n = mbedtls_pk_write_pubkey_der(k, buf, sizeof(buf));

	if (n <= 0 || (size_t)n > cap)
		return -1;
	memcpy(out, buf + sizeof(buf) - (size_t)n, (size_t)n);
	return n;
}

struct san {
	unsigned char tag;
	const void *p;
	size_t len;
};

/* Add what @f wrote to @g, or go to cleanup with its error. */
#define SAN_CHK(g, f)                 \
	do {                          \
		if ((ret = (f)) < 0)  \
			goto cleanup; \
		(g) += (size_t)ret;   \
	} while (0)

static int set_san(mbedtls_x509write_cert *w, const struct san *s, size_t n)
{
	const size_t cap = 65536;
	unsigned char *buf = malloc(cap), *p;
	size_t len = 0, i;
	int ret;

	if (buf == NULL)
		return -1;
	p = buf + cap;
	for (i = n; i-- > 0;) {
		SAN_CHK(len, mbedtls_asn1_write_raw_buffer(&p, buf, s[i].p, s[i].len));
		SAN_CHK(len, mbedtls_asn1_write_len(&p, buf, s[i].len));
		SAN_CHK(len, mbedtls_asn1_write_tag(&p, buf, s[i].tag));
	}
	SAN_CHK(len, mbedtls_asn1_write_len(&p, buf, len));
	SAN_CHK(len,
		mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	ret = mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_SUBJECT_ALT_NAME,
						  MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
						  p, len);
cleanup:
	free(buf);
	return ret;
}

struct crt_spec {
	mbedtls_pk_context *key, *issuer_key;
	const char *subject, *issuer;
	int64_t not_before, not_after;
	int ca; /* 1: CA:true and keyCertSign */
	const struct san *sans;
	size_t n_sans;
};

/* A certificate as @s says, appended to @out (initialized). Returns 0 or an mbedTLS error. */
static int make_crt(const struct crt_spec *s, mbedtls_x509_crt *out)
{
	const size_t cap = 65536;
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	unsigned char *der = malloc(cap);
	char nb[15], na[15];
	int ret = -1;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	if (der == NULL || ca_time_x509(s->not_before, nb) == -1 ||
	    ca_time_x509(s->not_after, na) == -1)
		goto out;
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, s->key);
	mbedtls_x509write_crt_set_issuer_key(&w, s->issuer_key);
	if ((ret = ca_serial_random(&drbg, &serial)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_serial(&w, &serial)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_name(&w, s->subject)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_issuer_name(&w, s->issuer)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_validity(&w, nb, na)) != 0)
		goto out;
	if (s->ca &&
	    ((ret = mbedtls_x509write_crt_set_basic_constraints(&w, 1, -1)) != 0 ||
	     (ret = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_KEY_CERT_SIGN)) != 0))
		goto out;
	if (s->n_sans && (ret = set_san(&w, s->sans, s->n_sans)) != 0)
		goto out;
	ret = mbedtls_x509write_crt_der(&w, der, cap, mbedtls_ctr_drbg_random, &drbg);
	if (ret > 0)
		ret = mbedtls_x509_crt_parse_der(out, der + cap - (size_t)ret, (size_t)ret);
out:
	free(der);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return ret;
}

/* The PEM of a certificate parsed here (for files of broken CAs). */
static int crt_pem(const mbedtls_x509_crt *c, char *out, size_t cap)
{
	size_t olen;

	return mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
					"-----END CERTIFICATE-----\n", c->raw.p, c->raw.len,
					(unsigned char *)out, cap, &olen);
}

/* The names of @leaf's subjectAltName with @tag, in order. */
static size_t san_list(const mbedtls_x509_crt *leaf, unsigned char tag,
		       const mbedtls_x509_buf **out, size_t max)
{
	const mbedtls_x509_sequence *s;
	size_t n = 0;

	for (s = &leaf->subject_alt_names; s != NULL && s->buf.p != NULL; s = s->next)
		if (s->buf.tag == tag && n < max)
			out[n++] = &s->buf;
	return n;
}

static bool buf_is(const mbedtls_x509_buf *b, const void *p, size_t len)
{
	return b->len == len && memcmp(b->p, p, len) == 0;
}

/* Does @leaf carry the public key of @k? */
static bool same_key(mbedtls_x509_crt *leaf, mbedtls_pk_context *k)
{
	uint8_t a[256], b[256];
	int na = spki_of(&leaf->pk, a, sizeof(a)), nb = spki_of(k, b, sizeof(b));

	return na > 0 && na == nb && memcmp(a, b, (size_t)na) == 0;
}

static int verify_for(mbedtls_x509_crt *leaf, mbedtls_x509_crt *trust, const char *name,
		      uint32_t *flags)
{
	*flags = 0;
	return mbedtls_x509_crt_verify(leaf, trust, NULL, name, flags, NULL, NULL);
}

/* --- the CA files ---------------------------------------------------------------------------- */

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* Entries of @dir that are not "." or "..", for "nothing left behind". */
static int dir_entries(const char *dir)
{
	char cmd[1024];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

static void test_ca_init(void)
{
	char path[1200], err[4300], sub[1024];
	const uint8_t *kid;
	size_t kid_len;
	int64_t nb, na;

	snprintf(ca_dir, sizeof(ca_dir), "%s/parent/ca", tmp_root);
	CHECK_INT(ca_init(ca_dir, "tlsgate test CA", 0, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/ca.key", ca_dir);
	CHECK_INT(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s/ca.crt", ca_dir);
	CHECK_INT(mode_of(path), 0644);
	CHECK_INT(mode_of(ca_dir), 0700);
	snprintf(path, sizeof(path), "%s/parent", tmp_root);
	CHECK_INT(mode_of(path), 0755);
	CHECK_INT(dir_entries(ca_dir), 2); /* no temporary file left */

	/* A second init refuses, naming the key, and changes nothing. */
	{
		size_t l1 = 0, l2 = 0;
		char *before, *after;

		snprintf(path, sizeof(path), "%s/ca.key", ca_dir);
		before = read_file(path, &l1);
		err[0] = '\0';
		CHECK_INT(ca_init(ca_dir, NULL, 0, err, sizeof(err)), -1);
		CHECK_HAS(err, "ca.key exists: refusing to overwrite");
		after = read_file(path, &l2);
		CHECK(before != NULL && after != NULL && l1 == l2 &&
		      memcmp(before, after, l1) == 0);
		free(before);
		free(after);
		CHECK_INT(dir_entries(ca_dir), 2);
	}
	/* Only a certificate there: refused too, naming it. */
	snprintf(sub, sizeof(sub), "%s/only-crt", tmp_root);
	CHECK_INT(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/ca.crt", sub);
	CHECK_INT(write_file(path, "x", 1, 0644), 0);
	CHECK_INT(ca_init(sub, NULL, 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "ca.crt exists: refusing to overwrite");
	CHECK_INT(dir_entries(sub), 1);
	/* Names mbedTLS's subject string would misread, too long, and bad validity. */
	snprintf(sub, sizeof(sub), "%s/bad-cn", tmp_root);
	CHECK_INT(ca_init(sub, "evil,O=other", 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "character 0x2c at offset 4 not allowed");
	CHECK_INT(ca_init(sub, "", 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "expected 1..64 characters, got 0");
	CHECK_INT(ca_init(sub, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			  0, err, sizeof(err)),
		  -1);
	CHECK_HAS(err, "got 65");
	CHECK_INT(ca_init(sub, "x", CA_DAYS_MAX + 1, err, sizeof(err)), -1);
	CHECK_HAS(err, "validity: expected 1..36500 days");
	CHECK(access(sub, F_OK) == -1); /* refused before anything was made */
	/* A path through a regular file. */
	snprintf(sub, sizeof(sub), "%s/parent/ca/ca.crt/x", tmp_root);
	CHECK_INT(ca_init(sub, NULL, 0, err, sizeof(err)), -1);
	CHECK_HAS(err, "cannot create");

	/* Load it, and look at what ca_init wrote. */
	ca = ca_load_dir(ca_dir, err, sizeof(err));
	CHECK(ca != NULL);
	if (ca == NULL) {
		fprintf(stderr, "cannot load the test CA: %s\n", err);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/ca.crt", ca_dir);
	mbedtls_x509_crt_init(&ca_cert);
	CHECK_INT(mbedtls_x509_crt_parse_file(&ca_cert, path), 0);
	CHECK(ca_cert.ca_istrue == 1);
	CHECK_INT(ca_cert.max_pathlen, 1); /* mbedTLS stores pathlen + 1: pathlen 0 */
	CHECK(ca_cert.ext_types & MBEDTLS_X509_EXT_KEY_USAGE);
	CHECK_INT(ca_cert.key_usage, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN);
	CHECK_INT(mbedtls_pk_get_type(&ca_cert.pk), MBEDTLS_PK_ECKEY);
	CHECK(pk_grp(&ca_cert.pk) == MBEDTLS_ECP_DP_SECP256R1);
	CHECK_INT(ca_cert.serial.len, 16);
	CHECK((ca_cert.serial.p[0] & 0xc0) == 0x40);
	CHECK(mbedtls_x509_dn_gets(sub, sizeof(sub), &ca_cert.subject) > 0);
	CHECK_MEM(sub, strlen(sub), "CN=tlsgate test CA, O=tlsgate");
	CHECK_INT(ca_cert.subject_raw.len, ca_cert.issuer_raw.len);
	CHECK(memcmp(ca_cert.subject_raw.p, ca_cert.issuer_raw.p, ca_cert.subject_raw.len) == 0);
	ca_validity(ca, &nb, &na);
	CHECK(nb >= now_s - 3600 - 60 && nb <= now_s - 3600 + 60);
	CHECK(na - nb == CA_DAYS_DEFAULT * DAY + 3600);
	CHECK_INT(ca_time_epoch(&ca_cert.valid_to), na);
	kid = ca_key_id(ca, &kid_len);
	CHECK(kid != NULL && kid_len == 20);
	/* The loaded CA is this certificate, and its key signs for it. */
	CHECK_INT(ca_crt(ca)->raw.len, ca_cert.raw.len);
	CHECK(memcmp(ca_crt(ca)->raw.p, ca_cert.raw.p, ca_cert.raw.len) == 0);
	CHECK_INT(mbedtls_pk_check_pair(&ca_cert.pk, ca_key(ca)), 0);
	/* The default name is "tlsgate CA <hostname>". */
	snprintf(sub, sizeof(sub), "%s/default-cn", tmp_root);
	CHECK_INT(ca_init(sub, NULL, 1, err, sizeof(err)), 0);
	{
		struct ca *d = ca_load_dir(sub, err, sizeof(err));
		char dn[512] = "";

		CHECK(d != NULL);
		if (d != NULL) {
			CHECK(mbedtls_x509_dn_gets(dn, sizeof(dn), &ca_crt(d)->subject) > 0);
			CHECK(strncmp(dn, "CN=tlsgate CA ", 14) == 0);
			CHECK_HAS(dn, ", O=tlsgate");
			ca_validity(d, &nb, &na);
			CHECK(na - nb == DAY + 3600);
		}
		ca_free(d);
	}
}

/* ca_time_x509 and ca_time_epoch agree; the serials are 16 bytes, positive, distinct. */

/* The number in the @n decimal digits at @s; -1 when one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (; n > 0; n--, s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}
static void test_ca_helpers(void)
{
	static const int64_t times[] = { 0,	      951782400 /* 2000-02-29 */,
					 1700000000,  CA_TIME_MIN,
					 CA_TIME_MAX, 4102444800 /* 2100 */ };
	mbedtls_mpi a, b;
	char s[15];
	size_t i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		mbedtls_x509_time t;

		CHECK_INT(ca_time_x509(times[i], s), 0);
		memset(&t, 0, sizeof(t));
		CHECK_INT(strlen(s), 14);
		t.year = digits(s, 4);
		t.mon = digits(s + 4, 2);
		t.day = digits(s + 6, 2);
		t.hour = digits(s + 8, 2);
		t.min = digits(s + 10, 2);
		t.sec = digits(s + 12, 2);
		CHECK_INT(ca_time_epoch(&t), times[i]);
	}
	CHECK_INT(ca_time_x509(CA_TIME_MIN - 1, s), -1);
	CHECK_INT(ca_time_x509(CA_TIME_MAX + 1, s), -1);
	CHECK_INT(ca_time_x509(0, s), 0);
	CHECK_MEM(s, strlen(s), "19700101000000");
	mbedtls_mpi_init(&a);
	mbedtls_mpi_init(&b);
	CHECK_INT(ca_serial_random(&drbg, &a), 0);
	CHECK_INT(ca_serial_random(&drbg, &b), 0);
	CHECK_INT(mbedtls_mpi_size(&a), 16);
	CHECK_INT(mbedtls_mpi_bitlen(&a), 127);
	CHECK(mbedtls_mpi_cmp_mpi(&a, &b) != 0);
	mbedtls_mpi_free(&a);
	mbedtls_mpi_free(&b);
}

/* A CA directory made of @crt and @key (NULL: no file), the key with @key_mode. */
static void make_dir(const char *dir, const char *crt, size_t crt_len, const char *key,
		     size_t key_len, mode_t key_mode)
{
	char path[1200];

	rm_rf(dir);
	(void)mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	if (crt != NULL)
		(void)write_file(path, crt, crt_len, 0644);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	if (key != NULL)
		(void)write_file(path, key, key_len, key_mode);
}

/* Both ways of loading @dir refuse, with @want in the message. */
static void check_refused(const char *dir, const char *want)
{
	char err[4300] = "";
	struct ca *c;
	int cfd, kfd;

	c = ca_load_dir(dir, err, sizeof(err));
	CHECK(c == NULL);
	CHECK_HAS(err, want);
	ca_free(c);
	if (ca_open_files(dir, &cfd, &kfd, err, sizeof(err)) == 0) {
		err[0] = '\0';
		c = ca_load_fds(cfd, kfd, err, sizeof(err));
		CHECK(c == NULL);
		CHECK_HAS(err, want);
		ca_free(c);
		/* The descriptors stay the caller's. */
		CHECK(fcntl(cfd, F_GETFD) != -1 && fcntl(kfd, F_GETFD) != -1);
		close(cfd);
		close(kfd);
	}
	/* Show loads the same way. */
	CHECK_INT(ca_show(dir, stdout, false, err, sizeof(err)), -1);
}

/* An EC key encrypted with a passphrase (openssl ec -aes128): only its format matters here. */
static const char encrypted_key[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"Proc-Type: 4,ENCRYPTED\n"
	"DEK-Info: AES-128-CBC,5CD236C6E1A2D698C58FC9D290B3C3B7\n"
	"\n"
	"GMiIBJRcsgg3dYglYmwpafN1GxIGEoDLC02GSUnhShEVmEfkOW/cqEU/TFAPkWJc\n"
	"o3nWWZjyvZ19cVfSVN9W/TTG3k+gv1hP45YawG9f2rCcQq7HyOzb69Oy3BVqCV8x\n"
	"pDzMMZlTIQ07TTAFlqKThGpXXiWAmQhDXyEVUjAnLbo=\n"
	"-----END EC PRIVATE KEY-----\n";

static void test_ca_load_refusals(void)
{
	char path[1200], dir[1024], err[4300], pem[8192], pem2[16384];
	char *crt, *key, *big;
	size_t crt_len = 0, key_len = 0;
	mbedtls_pk_context p384, rsa, other;
	mbedtls_x509_crt noca;
	unsigned char kpem[4096];
	struct ca *c;
	int cfd, kfd;

	snprintf(path, sizeof(path), "%s/ca.crt", ca_dir);
	crt = read_file(path, &crt_len);
	snprintf(path, sizeof(path), "%s/ca.key", ca_dir);
	key = read_file(path, &key_len);
	CHECK(crt != NULL && key != NULL);
	if (crt == NULL || key == NULL)
		return;
	snprintf(dir, sizeof(dir), "%s/bad", tmp_root);

	/* The files copied as they are load (the baseline of every refusal below). */
	make_dir(dir, crt, crt_len, key, key_len, 0600);
	c = ca_load_dir(dir, err, sizeof(err));
	CHECK(c != NULL);
	ca_free(c);
	/* 0400 is fine too: only group and other bits matter. */
	make_dir(dir, crt, crt_len, key, key_len, 0400);
	c = ca_load_dir(dir, err, sizeof(err));
	CHECK(c != NULL);
	ca_free(c);

	/* A key readable (or writable) by group or others. */
	make_dir(dir, crt, crt_len, key, key_len, 0640);
	check_refused(dir, "readable by group or others (mode 0640): chmod 600");
	make_dir(dir, crt, crt_len, key, key_len, 0604);
	check_refused(dir, "(mode 0604)");
	make_dir(dir, crt, crt_len, key, key_len, 0620);
	check_refused(dir, "(mode 0620)");

	/* Keys that are not P-256: P-384, RSA. */
	CHECK_INT(gen_ec(&p384, MBEDTLS_ECP_DP_SECP384R1), 0);
	CHECK_INT(mbedtls_pk_write_key_pem(&p384, kpem, sizeof(kpem)), 0);
	make_dir(dir, crt, crt_len, (char *)kpem, strlen((char *)kpem), 0600);
	check_refused(dir, "on curve secp384r1: only ECDSA P-256");
	/* ... also with a CA certificate of that very key. */
	mbedtls_x509_crt_init(&noca);
	{
		struct crt_spec s = {
			&p384, &p384, "CN=p384 CA", "CN=p384 CA", now_s - DAY, now_s + DAY, 1,
			NULL,  0
		};

		CHECK_INT(make_crt(&s, &noca), 0);
		CHECK_INT(crt_pem(&noca, pem, sizeof(pem)), 0);
		make_dir(dir, pem, strlen(pem), (char *)kpem, strlen((char *)kpem), 0600);
		check_refused(dir, "secp384r1");
		mbedtls_x509_crt_free(&noca);
	}
	CHECK_INT(gen_rsa(&rsa, 1024), 0);
	CHECK_INT(mbedtls_pk_write_key_pem(&rsa, kpem, sizeof(kpem)), 0);
	make_dir(dir, crt, crt_len, (char *)kpem, strlen((char *)kpem), 0600);
	check_refused(dir, "the key is RSA (1024 bits): only ECDSA P-256");
	/* A P-256 key of another certificate. */
	CHECK_INT(gen_ec(&other, MBEDTLS_ECP_DP_SECP256R1), 0);
	CHECK_INT(mbedtls_pk_write_key_pem(&other, kpem, sizeof(kpem)), 0);
	make_dir(dir, crt, crt_len, (char *)kpem, strlen((char *)kpem), 0600);
	check_refused(dir, "does not match");
	/* An encrypted key, a key that is no key, an empty key, no key. */
	make_dir(dir, crt, crt_len, encrypted_key, strlen(encrypted_key), 0600);
	check_refused(dir, "the key is encrypted");
	make_dir(dir, crt, crt_len, crt, crt_len, 0600);
	check_refused(dir, "not a private key");
	make_dir(dir, crt, crt_len, "", 0, 0600);
	check_refused(dir, "empty");
	make_dir(dir, crt, crt_len, NULL, 0, 0600);
	check_refused(dir, "No such file or directory (create a CA with `tlsgatectl ca init`)");
	/* The key through a symlink is not followed. */
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	{
		char target[1024];

		snprintf(target, sizeof(target), "%s/ca.key", ca_dir);
		CHECK_INT(symlink(target, path), 0);
		check_refused(dir, "ca.key: Too many levels of symbolic links");
	}

	/* Certificates: not a CA, two of them, not one at all, too large, a directory. */
	mbedtls_x509_crt_init(&noca);
	{
		struct crt_spec s = {
			&other, &other, "CN=leaf.test", "CN=leaf.test", now_s - DAY, now_s + DAY, 0,
			NULL,	0
		};

		CHECK_INT(make_crt(&s, &noca), 0);
		CHECK_INT(crt_pem(&noca, pem, sizeof(pem)), 0);
		make_dir(dir, pem, strlen(pem), (char *)kpem, strlen((char *)kpem), 0600);
		check_refused(dir, "not a CA certificate (basicConstraints CA:true missing)");
		mbedtls_x509_crt_free(&noca);
	}
	snprintf(pem2, sizeof(pem2), "%s%s", crt, crt);
	make_dir(dir, pem2, strlen(pem2), key, key_len, 0600);
	check_refused(dir, "holds more than one certificate");
	make_dir(dir, "hello\n", 6, key, key_len, 0600);
	check_refused(dir, "ca.crt: not a certificate");
	big = malloc(CA_FILE_MAX + 100);
	if (big != NULL) {
		memset(big, 'A', CA_FILE_MAX + 100);
		make_dir(dir, big, CA_FILE_MAX + 100, key, key_len, 0600);
		check_refused(dir, "larger than 16384 bytes");
		free(big);
	}
	make_dir(dir, NULL, 0, key, key_len, 0600);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	CHECK_INT(mkdir(path, 0700), 0);
	check_refused(dir, "ca.crt: not a regular file");
	/* The certificate in DER loads as well as PEM. */
	make_dir(dir, (const char *)ca_cert.raw.p, ca_cert.raw.len, key, key_len, 0600);
	c = ca_load_dir(dir, err, sizeof(err));
	CHECK(c != NULL);
	ca_free(c);
	/* A missing directory. */
	snprintf(path, sizeof(path), "%s/nonexistent", tmp_root);
	CHECK(ca_load_dir(path, err, sizeof(err)) == NULL);
	CHECK_HAS(err, "nonexistent/ca.crt: No such file or directory (create a CA with");
	CHECK_INT(ca_open_files(path, &cfd, &kfd, err, sizeof(err)), -1);

	rm_rf(dir);
	mbedtls_pk_free(&p384);
	mbedtls_pk_free(&rsa);
	mbedtls_pk_free(&other);
	free(crt);
	free(key);
}

/* ca_export writes the certificate (PEM or DER) and never the key; ca_show prints no key. */
static void test_ca_export_show(void)
{
	char err[4300], *buf = NULL, *key;
	size_t len = 0, key_len = 0;
	char path[1200];
	FILE *f;

	f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK_INT(ca_export(ca_dir, true, f, err, sizeof(err)), 0);
	fclose(f);
	CHECK(len == ca_cert.raw.len && memcmp(buf, ca_cert.raw.p, len) == 0);
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	CHECK_INT(ca_export(ca_dir, false, f, err, sizeof(err)), 0);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ca.crt", ca_dir);
	{
		size_t flen = 0;
		char *file = read_file(path, &flen);

		/* ca_init wrote the PEM that ca_export writes. */
		CHECK(file != NULL && flen == len && memcmp(file, buf, len) == 0);
		free(file);
	}
	CHECK(strstr(buf, "PRIVATE") == NULL);
	free(buf);
	buf = NULL;

	snprintf(path, sizeof(path), "%s/ca.key", ca_dir);
	key = read_file(path, &key_len);
	f = open_memstream(&buf, &len);
	CHECK_INT(ca_show(ca_dir, f, false, err, sizeof(err)), 0);
	fclose(f);
	CHECK_HAS(buf, "subject:     CN=tlsgate test CA, O=tlsgate\n");
	CHECK_HAS(buf, "key:         ECDSA P-256, matches the certificate\n");
	/* The fingerprint is SHA-256 of the DER, as openssl x509 -fingerprint -sha256 prints it. */
	{
		uint8_t fp[32];
		char want[120];
		size_t i, o;

		CHECK_INT(tg_sha256(ca_cert.raw.p, ca_cert.raw.len, fp), 0);
		o = (size_t)snprintf(want, sizeof(want), "sha256:      ");
		for (i = 0; i < 32; i++)
			o += (size_t)snprintf(want + o, sizeof(want) - o, i ? ":%02X" : "%02X",
					      fp[i]);
		CHECK_HAS(buf, want);
	}
	CHECK(strstr(buf, "PRIVATE") == NULL);
	if (key != NULL) {
		/* No line of the key's base64 appears. */
		char *line = strchr(key, '\n');

		CHECK(line != NULL && memmem(buf, len, line + 1, 40) == NULL);
	}
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	CHECK_INT(ca_show(ca_dir, f, true, err, sizeof(err)), 0);
	fclose(f);
	CHECK_HAS(buf, "\"key_type\":\"ECDSA P-256\"");
	CHECK_HAS(buf, "\"expired\":false");
	CHECK(len > 0 && buf[len - 1] == '\n' && strchr(buf, '\n') == buf + len - 1);
	free(buf);
	free(key);
}

/* --- names ----------------------------------------------------------------------------------- */

static void test_names(void)
{
	char n253[254], n254[255], l63[80];

	CHECK(mint_name_check("example.com", 11, false) == NULL);
	CHECK(mint_name_check("a", 1, false) == NULL);
	CHECK(mint_name_check("_dmarc.x-y.example", 18, false) == NULL);
	CHECK(mint_name_check("*.example.com", 13, true) == NULL);
	CHECK_HAS(mint_name_check("*.example.com", 13, false), "wildcard not allowed");
	CHECK_HAS(mint_name_check("*.com", 5, true), "fewer than two labels");
	CHECK_HAS(mint_name_check("*", 1, true), "wildcard not allowed");
	CHECK_HAS(mint_name_check("a.*.com", 7, true), "wildcard not allowed");
	CHECK_HAS(mint_name_check("x*.example.com", 14, true), "wildcard not allowed");
	CHECK_HAS(mint_name_check("", 0, false), "empty");
	CHECK_HAS(mint_name_check("a..b", 4, false), "empty label");
	CHECK_HAS(mint_name_check(".a", 2, false), "empty label");
	CHECK_HAS(mint_name_check("a.com.", 6, false), "empty label");
	CHECK_HAS(mint_name_check("-a.com", 6, false), "hyphen");
	CHECK_HAS(mint_name_check("a-.com", 6, false), "hyphen");
	CHECK_HAS(mint_name_check("A.com", 5, false), "character other than");
	CHECK_HAS(mint_name_check("a b.com", 7, false), "character other than");
	CHECK_HAS(mint_name_check("a\0b.com", 7, false), "character other than");
	memset(l63, 'a', 63);
	memcpy(l63 + 63, ".com", 5);
	CHECK(mint_name_check(l63, 67, false) == NULL);
	memset(l63, 'a', 64);
	memcpy(l63 + 64, ".com", 5);
	CHECK_HAS(mint_name_check(l63, 68, false), "label longer than 63");
	/* 253 bytes: 63.63.63.61 */
	memset(n253, 'b', sizeof(n253));
	n253[63] = n253[127] = n253[191] = '.';
	n253[253] = '\0';
	CHECK(mint_name_check(n253, 253, false) == NULL);
	memcpy(n254, n253, 253);
	n254[253] = 'b';
	n254[254] = '\0';
	CHECK_HAS(mint_name_check(n254, 254, false), "longer than 253");
	CHECK_MEM(mint_status_text(MINT_OK), 2, "ok");
	CHECK_HAS(mint_status_text((enum mint_status)99), "unknown");
}

/* --- requests from certificates -------------------------------------------------------------- */

static const uint8_t ip4[4] = { 192, 0, 2, 1 };
static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static int64_t up_nb, up_na;

static const struct san up_sans[] = {
	{ TAG_DNS, "www.Example.com", 15 },
	{ TAG_DNS, "*.example.com", 13 },
	{ TAG_DNS, "WWW.example.com", 15 }, /* a duplicate once lowercased */
	{ TAG_URI, "https://example.com/", 20 }, /* neither a DNS name nor an address */
	{ TAG_DNS, "example.com", 11 },
	{ TAG_DNS, "bad name.test", 13 }, /* not a host name: dropped */
	{ TAG_IP, ip4, 4 },
	{ TAG_DNS, "*.*.example.net", 15 }, /* a wildcard not alone in the first label */
	{ TAG_IP, ip6, 16 },
	{ TAG_IP, ip4, 4 }, /* a duplicate */
	{ TAG_IP, ip4, 3 }, /* no address */
};

static mbedtls_pk_context up_root_key, up_key;
static mbedtls_x509_crt up_root;

static void make_upstream(void)
{
	struct crt_spec root = { &up_root_key,
				 &up_root_key,
				 "CN=Upstream Root,O=Upstream",
				 "CN=Upstream Root,O=Upstream",
				 now_s - 400 * DAY,
				 now_s + 4000 * DAY,
				 1,
				 NULL,
				 0 };
	struct crt_spec leaf = { &up_key,
				 &up_root_key,
				 "CN=www.Example.com,O=Upstream Inc",
				 "CN=Upstream Root,O=Upstream",
				 now_s - 10 * DAY,
				 now_s + 90 * DAY,
				 0,
				 up_sans,
				 sizeof(up_sans) / sizeof(up_sans[0]) };

	CHECK_INT(gen_ec(&up_root_key, MBEDTLS_ECP_DP_SECP256R1), 0);
	CHECK_INT(gen_ec(&up_key, MBEDTLS_ECP_DP_SECP256R1), 0);
	mbedtls_x509_crt_init(&up_root);
	mbedtls_x509_crt_init(&upstream);
	CHECK_INT(make_crt(&root, &up_root), 0);
	CHECK_INT(make_crt(&leaf, &upstream), 0);
	up_nb = now_s - 10 * DAY;
	up_na = now_s + 90 * DAY;
	/* The upstream verifies for its names under its root (the worker's precondition). */
	{
		uint32_t flags;

		CHECK_INT(verify_for(&upstream, &up_root, "www.example.com", &flags), 0);
	}
}

#define CHECK_DNS(req, i, want) CHECK_MEM((req).dns[i], (req).dns_len[i], (want))

static void test_req_from_crt(void)
{
	struct mint_req *r = malloc(sizeof(*r));
	mbedtls_pk_context p384;
	mbedtls_x509_crt c;

	if (r == NULL)
		return;
	/* The SNI's exact name first, then the others in order, once each, lowercased. */
	CHECK_INT(mint_req_from_crt(&upstream, "www.example.com", &worker_key, 42, r), 0);
	CHECK_INT(r->id, 42);
	CHECK_MEM(r->cn, r->cn_len, "www.example.com");
	CHECK_INT(r->n_dns, 3);
	CHECK_DNS(*r, 0, "www.example.com");
	CHECK_DNS(*r, 1, "*.example.com");
	CHECK_DNS(*r, 2, "example.com");
	CHECK_INT(r->n_ip, 2);
	CHECK(r->ip[0].len == 4 && memcmp(r->ip[0].addr, ip4, 4) == 0);
	CHECK(r->ip[1].len == 16 && memcmp(r->ip[1].addr, ip6, 16) == 0);
	CHECK_INT(r->not_before, up_nb);
	CHECK_INT(r->not_after, up_na);
	CHECK_INT(r->spki_len, 91);
	{
		uint8_t spki[128];

		CHECK(spki_of(&worker_key, spki, sizeof(spki)) == 91 &&
		      memcmp(spki, r->spki, 91) == 0);
	}
	/* A name covered by the wildcard: the wildcard first. */
	CHECK_INT(mint_req_from_crt(&upstream, "IMG.example.com", &worker_key, 1, r), 0);
	CHECK_INT(r->n_dns, 3);
	CHECK_DNS(*r, 0, "*.example.com");
	CHECK_DNS(*r, 1, "www.example.com");
	CHECK_DNS(*r, 2, "example.com");
	/* The wildcard covers one label only: a.b.example.com is not covered, so it goes first. */
	CHECK_INT(mint_req_from_crt(&upstream, "a.b.example.com", &worker_key, 1, r), 0);
	CHECK_INT(r->n_dns, 4);
	CHECK_DNS(*r, 0, "a.b.example.com");
	CHECK_DNS(*r, 1, "www.example.com");
	/* No SNI: the upstream's names alone. */
	CHECK_INT(mint_req_from_crt(&upstream, NULL, &worker_key, 1, r), 0);
	CHECK_INT(r->n_dns, 3);
	CHECK_DNS(*r, 0, "www.example.com");
	CHECK_INT(mint_req_from_crt(&upstream, "", &worker_key, 1, r), 0);
	CHECK_INT(r->n_dns, 3);
	/* An SNI that is not a host name, a worker key that is not P-256. */
	errno = 0;
	CHECK_INT(mint_req_from_crt(&upstream, "bad..name", &worker_key, 1, r), -1);
	CHECK_INT(errno, EINVAL);
	CHECK_INT(mint_req_from_crt(&upstream, "*.example.com", &worker_key, 1, r), -1);
	CHECK_INT(errno, EINVAL);
	CHECK_INT(gen_ec(&p384, MBEDTLS_ECP_DP_SECP384R1), 0);
	errno = 0;
	CHECK_INT(mint_req_from_crt(&upstream, "www.example.com", &p384, 1, r), -1);
	CHECK_INT(errno, EINVAL);
	mbedtls_pk_free(&p384);

	/* No subjectAltName: the CN when it is a host name; else nothing but the SNI. */
	mbedtls_x509_crt_init(&c);
	{
		struct crt_spec s = { &up_key,
				      &up_root_key,
				      "CN=Only.Example.ORG,O=x",
				      "CN=Upstream Root,O=Upstream",
				      now_s - DAY,
				      now_s + DAY,
				      0,
				      NULL,
				      0 };

		CHECK_INT(make_crt(&s, &c), 0);
		CHECK_INT(mint_req_from_crt(&c, NULL, &worker_key, 1, r), 0);
		CHECK_MEM(r->cn, r->cn_len, "only.example.org");
		CHECK_INT(r->n_dns, 1);
		CHECK_DNS(*r, 0, "only.example.org");
		CHECK_INT(r->n_ip, 0);
		mbedtls_x509_crt_free(&c);
	}
	mbedtls_x509_crt_init(&c);
	{
		struct crt_spec s = { &up_key,
				      &up_root_key,
				      "CN=not a host,O=x",
				      "CN=Upstream Root,O=Upstream",
				      now_s - DAY,
				      now_s + DAY,
				      0,
				      NULL,
				      0 };

		CHECK_INT(make_crt(&s, &c), 0);
		errno = 0;
		CHECK_INT(mint_req_from_crt(&c, NULL, &worker_key, 1, r), -1);
		CHECK_INT(errno, ENOENT);
		CHECK_INT(mint_req_from_crt(&c, "x.test", &worker_key, 1, r), 0);
		CHECK_INT(r->cn_len, 0);
		CHECK_INT(r->n_dns, 1);
		CHECK_DNS(*r, 0, "x.test");
		mbedtls_x509_crt_free(&c);
	}
	free(r);
}

/* Every field of two requests. */
static bool req_equal(const struct mint_req *a, const struct mint_req *b)
{
	size_t i;

	if (a->id != b->id || a->not_before != b->not_before || a->not_after != b->not_after ||
	    a->spki_len != b->spki_len || memcmp(a->spki, b->spki, a->spki_len) != 0 ||
	    a->cn_len != b->cn_len || strcmp(a->cn, b->cn) != 0 || a->n_dns != b->n_dns ||
	    a->n_ip != b->n_ip)
		return false;
	for (i = 0; i < a->n_dns; i++)
		if (a->dns_len[i] != b->dns_len[i] || strcmp(a->dns[i], b->dns[i]) != 0 ||
		    strlen(a->dns[i]) != a->dns_len[i])
			return false;
	for (i = 0; i < a->n_ip; i++)
		if (a->ip[i].len != b->ip[i].len ||
		    memcmp(a->ip[i].addr, b->ip[i].addr, a->ip[i].len) != 0)
			return false;
	return true;
}

static void test_wire(void)
{
	struct mint_req *r = malloc(sizeof(*r)), *d = malloc(sizeof(*d));
	uint8_t *buf = malloc(MINT_REQ_MAX), *buf2 = malloc(MINT_REQ_MAX);
	uint8_t dig1[32], dig2[32], dig3[32];
	const char *why = NULL;
	ssize_t n, n2;

	if (r == NULL || d == NULL || buf == NULL || buf2 == NULL)
		goto out;
	CHECK_INT(mint_req_from_crt(&upstream, "www.example.com", &worker_key,
				    0x0102030405060708ULL, r),
		  0);
	n = mint_req_encode(r, buf, MINT_REQ_MAX);
	CHECK(n > 0);
	if (n <= 0)
		goto out;
	corpus_write("req-www", buf, (size_t)n);
	CHECK_INT(buf[0], MINT_VERSION);
	CHECK_INT(buf[1], 1);
	CHECK_INT(buf[8], 8);
	CHECK_INT(mint_req_decode(buf, (size_t)n, d, &why), 0);
	CHECK(req_equal(r, d));
	n2 = mint_req_encode(d, buf2, MINT_REQ_MAX);
	CHECK(n2 == n && memcmp(buf, buf2, (size_t)n) == 0);
	/* A buffer one byte short does not fit. */
	CHECK_INT(mint_req_encode(r, buf2, (size_t)n - 1), -1);
	/* Caps are checked before encoding. */
	r->n_dns = MINT_MAX_SANS + 1;
	CHECK_INT(mint_req_encode(r, buf2, MINT_REQ_MAX), -1);
	r->n_dns = 3;
	r->ip[0].len = 5;
	CHECK_INT(mint_req_encode(r, buf2, MINT_REQ_MAX), -1);
	r->ip[0].len = 4;
	r->dns_len[1] = 0;
	CHECK_INT(mint_req_encode(r, buf2, MINT_REQ_MAX), -1);
	r->dns_len[1] = 13;

	/* The digest leaves the id out: another id, the same leaf. */
	CHECK_INT(mint_req_digest(buf, (size_t)n, dig1), 0);
	r->id = 99;
	n2 = mint_req_encode(r, buf2, MINT_REQ_MAX);
	CHECK_INT(mint_req_digest(buf2, (size_t)n2, dig2), 0);
	CHECK(memcmp(dig1, dig2, 32) == 0);
	CHECK_INT(mint_req_from_crt(&upstream, "img.example.com", &worker_key, 99, r), 0);
	n2 = mint_req_encode(r, buf2, MINT_REQ_MAX);
	corpus_write("req-wildcard", buf2, (size_t)n2);
	CHECK_INT(mint_req_digest(buf2, (size_t)n2, dig3), 0);
	CHECK(memcmp(dig1, dig3, 32) != 0);
	CHECK_INT(mint_req_digest(buf, 8, dig3), -1);
	CHECK_INT(mint_req_digest(buf, MINT_REQ_MAX + 1, dig3), -1);

	/* A request with only an address, and one without a CN. */
	memset(r, 0, sizeof(*r));
	r->id = 5;
	r->not_before = now_s;
	r->not_after = now_s + DAY;
	r->spki_len = (size_t)spki_of(&worker_key, r->spki, sizeof(r->spki));
	r->n_ip = 1;
	r->ip[0].len = 4;
	memcpy(r->ip[0].addr, ip4, 4);
	n2 = mint_req_encode(r, buf2, MINT_REQ_MAX);
	CHECK(n2 > 0);
	corpus_write("req-ip-only", buf2, (size_t)n2);
	CHECK_INT(mint_req_decode(buf2, (size_t)n2, d, &why), 0);
	CHECK(req_equal(r, d));
out:
	free(r);
	free(d);
	free(buf);
	free(buf2);
}

/* --- malformed requests ---------------------------------------------------------------------- */

/* A request writer with every field explicit, for requests the encoder would refuse. */
struct rw {
	uint8_t *p;
	size_t len;
};

static void rw_u8(struct rw *w, unsigned v)
{
	w->p[w->len++] = (uint8_t)v;
}

static void rw_u64(struct rw *w, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		rw_u8(w, (unsigned)(v >> (56 - 8 * i)) & 0xff);
}

static void rw_bytes(struct rw *w, const void *p, size_t n)
{
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void rw_name(struct rw *w, const char *s)
{
	rw_u8(w, (unsigned)strlen(s));
	rw_bytes(w, s, strlen(s));
}

/* The header up to and with the key. */
static void rw_head(struct rw *w, int64_t nb, int64_t na, const uint8_t *spki, size_t spki_len)
{
	rw_u8(w, MINT_VERSION);
	rw_u64(w, 77);
	rw_u64(w, (uint64_t)nb);
	rw_u64(w, (uint64_t)na);
	rw_u8(w, (unsigned)spki_len);
	rw_bytes(w, spki, spki_len);
}

/* Decoding @w's bytes fails with @want (and writes the case as a corpus seed). */
static void check_bad(const struct rw *w, const char *want, const char *seed)
{
	struct mint_req *d = malloc(sizeof(*d));
	const char *why = NULL;

	if (d == NULL)
		return;
	CHECK_INT(mint_req_decode(w->p, w->len, d, &why), -1);
	CHECK(why != NULL);
	if (why != NULL)
		CHECK_HAS(why, want);
	if (seed != NULL)
		corpus_write(seed, w->p, w->len);
	free(d);
}

static void test_malformed(void)
{
	struct mint_req *d = malloc(sizeof(*d));
	uint8_t *b = malloc(MINT_REQ_MAX + 64), spki[128], p384spki[200], noncanon[128];
	struct rw w = { b, 0 };
	mbedtls_pk_context p384;
	const char *why;
	size_t good_len, i;
	int sl, pl, rc;
	char cn65[66];

	if (d == NULL || b == NULL)
		goto out;
	sl = spki_of(&worker_key, spki, sizeof(spki));
	CHECK_INT(sl, 91);
	CHECK_INT(gen_ec(&p384, MBEDTLS_ECP_DP_SECP384R1), 0);
	pl = spki_of(&p384, p384spki, sizeof(p384spki));
	mbedtls_pk_free(&p384);
	CHECK_INT(pl, 120);

	/* The baseline decodes. */
	rw_head(&w, now_s, now_s + DAY, spki, (size_t)sl);
	rw_name(&w, "a.test");
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	good_len = w.len;
	CHECK_INT(mint_req_decode(b, w.len, d, &why), 0);
	/* Every truncation of it fails, and so does one byte more. */
	for (i = 0; i < good_len; i++) {
		rc = mint_req_decode(b, i, d, &why);
		if (rc != -1 || why == NULL || (strcmp(why, "truncated") != 0 && i > 0)) {
			CHECK(!"a truncated request is refused as truncated");
			fprintf(stderr, "  length %zu: %d %s\n", i, rc, why ? why : "(null)");
			break;
		}
	}
	CHECK_INT(i, good_len);
	w.len = 40;
	check_bad(&w, "truncated", "bad-truncated");
	w.len = 0;
	check_bad(&w, "truncated", NULL);
	w.len = good_len;
	rw_u8(&w, 0);
	check_bad(&w, "trailing bytes", "bad-trailing");
	/* Version. */
	b[0] = 2;
	w.len = good_len;
	check_bad(&w, "unsupported version", "bad-version");
	b[0] = 0;
	check_bad(&w, "unsupported version", NULL);
	b[0] = MINT_VERSION;

	/* Validity: not_before must be before not_after (signed). */
	w.len = 0;
	rw_head(&w, now_s, now_s, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "validity: not_before is not before not_after", "bad-validity");
	w.len = 0;
	rw_head(&w, 1, -1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "validity", NULL);

	/* The key: empty, too long, garbage, not P-256, not canonical, not on the curve. */
	w.len = 0;
	rw_head(&w, 0, 1, spki, 0);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "key: length not 1..128", "bad-key-empty");
	{
		uint8_t big[129];

		memset(big, 0x30, sizeof(big));
		w.len = 0;
		rw_head(&w, 0, 1, big, sizeof(big));
		rw_u8(&w, 0);
		rw_u8(&w, 1);
		rw_name(&w, "a.test");
		rw_u8(&w, 0);
		check_bad(&w, "key: length not 1..128", NULL);
		w.len = 0;
		rw_head(&w, 0, 1, big, 91);
		rw_u8(&w, 0);
		rw_u8(&w, 1);
		rw_name(&w, "a.test");
		rw_u8(&w, 0);
		check_bad(&w, "key: not a valid public key", "bad-key-garbage");
	}
	w.len = 0;
	rw_head(&w, 0, 1, p384spki, (size_t)pl);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "key: not an EC P-256 key", "bad-key-p384");
	/* The same SubjectPublicKeyInfo with a long-form outer length (BER, not DER). */
	noncanon[0] = 0x30;
	noncanon[1] = 0x81;
	memcpy(noncanon + 2, spki + 1, (size_t)sl - 1);
	w.len = 0;
	rw_head(&w, 0, 1, noncanon, (size_t)sl + 1);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "key: not", "bad-key-noncanonical");
	/* A point off the curve. */
	memcpy(noncanon, spki, (size_t)sl);
	noncanon[sl - 1] ^= 1;
	w.len = 0;
	rw_head(&w, 0, 1, noncanon, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "key: not a valid public key", "bad-key-offcurve");
	/* A compressed point. */
	{
		mbedtls_pk_context k;
		unsigned char pt[40];
		size_t olen = 0;

		mbedtls_pk_init(&k);
		CHECK_INT(mbedtls_pk_parse_public_key(&k, spki, (size_t)sl), 0);
		CHECK_INT(mbedtls_ecp_point_write_binary(
				  &mbedtls_pk_ec(k)->grp, &mbedtls_pk_ec(k)->Q,
				  MBEDTLS_ECP_PF_COMPRESSED, &olen, pt, sizeof(pt)),
			  0);
		mbedtls_pk_free(&k);
		/* The SPKI header of P-256 with a 33-byte point: 0x30 0x39, ..., 0x03 0x22 0x00. */
		memcpy(noncanon, spki, 26);
		noncanon[1] = 0x39;
		noncanon[24] = 0x22;
		memcpy(noncanon + 26, pt, olen);
		w.len = 0;
		rw_head(&w, 0, 1, noncanon, 26 + olen);
		rw_u8(&w, 0);
		rw_u8(&w, 1);
		rw_name(&w, "a.test");
		rw_u8(&w, 0);
		check_bad(&w, "key: not", "bad-key-compressed");
	}

	/* CN: too long, uppercase, a NUL inside, a wildcard too short. */
	memset(cn65, 'c', 65);
	cn65[65] = '\0';
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_name(&w, cn65);
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "CN: longer than 64 bytes", "bad-cn-long");
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_name(&w, "A.test");
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "CN: character other than", NULL);
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 3);
	rw_bytes(&w, "a\0b", 3);
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "CN: character other than", "bad-cn-nul");
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_name(&w, "*.test");
	rw_u8(&w, 1);
	rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "CN: wildcard with fewer than two labels", NULL);

	/* DNS names: too many, empty, too long, bad bytes, a NUL, a length past the end. */
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, MINT_MAX_SANS + 1);
	for (i = 0; i < MINT_MAX_SANS + 1; i++)
		rw_name(&w, "a.test");
	rw_u8(&w, 0);
	check_bad(&w, "more DNS names than MINT_MAX_SANS", "bad-dns-count");
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_u8(&w, 0);
	rw_u8(&w, 0);
	check_bad(&w, "DNS name: empty", "bad-dns-empty");
	{
		char n254[255];

		memset(n254, 'd', 254);
		n254[63] = n254[127] = n254[191] = '.';
		n254[254] = '\0';
		w.len = 0;
		rw_head(&w, 0, 1, spki, (size_t)sl);
		rw_u8(&w, 0);
		rw_u8(&w, 1);
		rw_name(&w, n254);
		rw_u8(&w, 0);
		check_bad(&w, "DNS name: longer than 253 bytes", "bad-dns-long");
	}
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_name(&w, "a b.test");
	rw_u8(&w, 0);
	check_bad(&w, "DNS name: character other than", NULL);
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_u8(&w, 7);
	rw_bytes(&w, "a.t\0est", 7);
	rw_u8(&w, 0);
	check_bad(&w, "DNS name: character other than", "bad-dns-nul");
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 2);
	rw_name(&w, "a.test");
	rw_u8(&w, 200);
	rw_bytes(&w, "b.test", 6);
	check_bad(&w, "truncated", NULL);

	/* Addresses: too many, a bad length, none and no name either. */
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 0);
	rw_u8(&w, MINT_MAX_IP_SANS + 1);
	for (i = 0; i < MINT_MAX_IP_SANS + 1; i++) {
		rw_u8(&w, 4);
		rw_bytes(&w, ip4, 4);
	}
	check_bad(&w, "more IP addresses than MINT_MAX_IP_SANS", "bad-ip-count");
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 0);
	rw_u8(&w, 1);
	rw_u8(&w, 5);
	rw_bytes(&w, "12345", 5);
	check_bad(&w, "IP address: length not 4 or 16", "bad-ip-len");
	w.len = 0;
	rw_head(&w, 0, 1, spki, (size_t)sl);
	rw_u8(&w, 0);
	rw_u8(&w, 0);
	rw_u8(&w, 0);
	check_bad(&w, "no name", "bad-no-name");
	/* Longer than any request may be: refused before parsing. */
	memset(b, 0, MINT_REQ_MAX + 64);
	b[0] = MINT_VERSION;
	w.len = MINT_REQ_MAX + 1;
	check_bad(&w, "longer than MINT_REQ_MAX", "bad-oversized");
	w.len = MINT_REQ_MAX;
	check_bad(&w, "validity", NULL); /* within the cap, parsed, refused on its fields */
out:
	free(d);
	free(b);
}

/* --- signing --------------------------------------------------------------------------------- */

/*
 * The leaf's validity is the request's clipped to the CA's; a longer one than
 * MINT_VALIDITY_MAX_S is cut at its end, unless that leaves a leaf that ends within a day:
 * then it starts a day ago (or MINT_VALIDITY_MAX_S before the end, whichever is earlier).
 */
static void check_validity(const mbedtls_x509_crt *leaf, const struct ca *c, int64_t nb, int64_t na)
{
	int64_t ca_nb, ca_na, from, to, now = (int64_t)time(NULL);
	int64_t lf = ca_time_epoch(&leaf->valid_from), lt = ca_time_epoch(&leaf->valid_to);

	ca_validity(c, &ca_nb, &ca_na);
	from = nb > ca_nb ? nb : ca_nb;
	to = na < ca_na ? na : ca_na;
	CHECK(lf >= ca_nb && lt <= ca_na && lf >= from && lt <= to);
	if (to - from > MINT_VALIDITY_MAX_S && from + MINT_VALIDITY_MAX_S < now + DAY) {
		/* Moved: the leaf is valid now, for the longest time allowed (the clock may tick). */
		CHECK_INT(lt - lf, MINT_VALIDITY_MAX_S);
		CHECK(lf == to - MINT_VALIDITY_MAX_S || (lf >= now - DAY - 10 && lf <= now - DAY));
		CHECK(lf < now && lt > now);
		return;
	}
	if (to - from > MINT_VALIDITY_MAX_S)
		to = from + MINT_VALIDITY_MAX_S;
	CHECK_INT(lf, from);
	CHECK_INT(lt, to);
}

/* Sign @r with @c into a parsed leaf (@leaf initialized). Returns the status. */
static enum mint_status sign_parse(struct ca *c, const struct mint_req *r, mbedtls_x509_crt *leaf,
				   uint8_t *der, size_t *len)
{
	char err[256] = "";
	enum mint_status st;

	st = mint_sign(c, r, &drbg, der, MINT_LEAF_MAX, len, err, sizeof(err));
	if (st == MINT_OK)
		CHECK_INT(mbedtls_x509_crt_parse_der(leaf, der, *len), 0);
	else
		CHECK(err[0] != '\0');
	return st;
}

static void test_sign(void)
{
	struct mint_req *r = malloc(sizeof(*r)), *d = malloc(sizeof(*d));
	uint8_t *der = malloc(MINT_LEAF_MAX), *der2 = malloc(MINT_LEAF_MAX);
	uint8_t *enc = malloc(MINT_REQ_MAX), *resp = malloc(MINT_RESP_MAX);
	const mbedtls_x509_buf *names[8];
	mbedtls_x509_crt leaf, leaf2;
	size_t len = 0, len2 = 0, kid_len;
	const uint8_t *kid;
	const char *why;
	char dn[512];
	uint32_t flags;
	ssize_t n;

	mbedtls_x509_crt_init(&leaf);
	mbedtls_x509_crt_init(&leaf2);
	if (r == NULL || d == NULL || der == NULL || der2 == NULL || enc == NULL || resp == NULL)
		goto out;
	/* Through the wire format, as the CA process sees it. */
	CHECK_INT(mint_req_from_crt(&upstream, "www.example.com", &worker_key, 7, r), 0);
	n = mint_req_encode(r, enc, MINT_REQ_MAX);
	CHECK(n > 0);
	CHECK_INT(mint_req_decode(enc, (size_t)n, d, &why), 0);
	CHECK_INT(sign_parse(ca, d, &leaf, der, &len), MINT_OK);
	CHECK(len > 0 && len <= MINT_LEAF_MAX);
	if (leaf.raw.p == NULL)
		goto out;
	/* It verifies against the CA for every name it carries, and for no other. */
	CHECK_INT(verify_for(&leaf, &ca_cert, "www.example.com", &flags), 0);
	CHECK_INT(flags, 0);
	CHECK_INT(verify_for(&leaf, &ca_cert, "img.example.com", &flags), 0);
	CHECK_INT(verify_for(&leaf, &ca_cert, "example.com", &flags), 0);
	CHECK(verify_for(&leaf, &ca_cert, "evil.test", &flags) != 0);
	CHECK(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
	CHECK(verify_for(&leaf, &up_root, "www.example.com", &flags) != 0);
	CHECK(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
	/* The upstream's names, SNI first; its addresses; its CN. */
	CHECK_INT(san_list(&leaf, TAG_DNS, names, 8), 3);
	CHECK(buf_is(names[0], "www.example.com", 15));
	CHECK(buf_is(names[1], "*.example.com", 13));
	CHECK(buf_is(names[2], "example.com", 11));
	CHECK_INT(san_list(&leaf, TAG_IP, names, 8), 2);
	CHECK(buf_is(names[0], ip4, 4));
	CHECK(buf_is(names[1], ip6, 16));
	CHECK_INT(san_list(&leaf, TAG_URI, names, 8), 0);
	CHECK(mbedtls_x509_dn_gets(dn, sizeof(dn), &leaf.subject) > 0);
	CHECK_MEM(dn, strlen(dn), "CN=www.example.com, O=tlsgate");
	/* Issued by the CA, name for name; the CA's key id as authority key id. */
	CHECK(leaf.issuer_raw.len == ca_cert.subject_raw.len &&
	      memcmp(leaf.issuer_raw.p, ca_cert.subject_raw.p, leaf.issuer_raw.len) == 0);
	kid = ca_key_id(ca, &kid_len);
	if (kid != NULL) {
		uint8_t aki[2 + 64];

		aki[0] = 0x80;
		aki[1] = (uint8_t)kid_len;
		memcpy(aki + 2, kid, kid_len);
		CHECK(memmem(leaf.raw.p, leaf.raw.len, aki, kid_len + 2) != NULL);
	}
	/* A leaf: CA:false, digitalSignature only, serverAuth only, v3. */
	CHECK_INT(leaf.version, 3);
	CHECK(leaf.ext_types & MBEDTLS_X509_EXT_BASIC_CONSTRAINTS);
	CHECK_INT(leaf.ca_istrue, 0);
	CHECK_INT(leaf.key_usage, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
	CHECK_INT(
		mbedtls_x509_crt_check_extended_key_usage(
			&leaf, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
		0);
	CHECK(mbedtls_x509_crt_check_extended_key_usage(
		      &leaf, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) !=
	      0);
	CHECK_INT(leaf.sig_md, MBEDTLS_MD_SHA256);
	CHECK_INT(leaf.sig_pk, MBEDTLS_PK_ECDSA);
	/* The worker's key, not the upstream's. */
	CHECK(same_key(&leaf, &worker_key));
	CHECK(!same_key(&leaf, &up_key));
	/* Within the CA's validity (the upstream's started before the CA's). */
	check_validity(&leaf, ca, up_nb, up_na);
	CHECK_INT(ca_time_epoch(&leaf.valid_to), up_na);
	/* A positive 16-byte serial, another one for the same request. */
	CHECK_INT(leaf.serial.len, 16);
	CHECK((leaf.serial.p[0] & 0xc0) == 0x40);
	CHECK_INT(sign_parse(ca, d, &leaf2, der2, &len2), MINT_OK);
	CHECK(leaf2.serial.len == 16 && memcmp(leaf.serial.p, leaf2.serial.p, 16) != 0);
	CHECK(len != len2 || memcmp(der, der2, len) != 0);

	/* The answer round-trips. */
	{
		struct mint_resp rs;

		n = mint_resp_encode(7, MINT_OK, der, len, resp, MINT_RESP_MAX);
		CHECK(n == (ssize_t)(12 + len));
		corpus_write("resp-ok", resp, (size_t)n);
		CHECK_INT(mint_resp_decode(resp, (size_t)n, &rs, &why), 0);
		CHECK(rs.id == 7 && rs.status == MINT_OK && rs.der_len == len &&
		      memcmp(rs.der, der, len) == 0);
		/* Every truncation fails, one byte more fails. */
		CHECK_INT(mint_resp_decode(resp, (size_t)n - 1, &rs, &why), -1);
		CHECK_HAS(why, "truncated");
		CHECK_INT(mint_resp_decode(resp, 11, &rs, &why), -1);
		CHECK_INT(mint_resp_decode(resp, 0, &rs, &why), -1);
		resp[n] = 0;
		CHECK_INT(mint_resp_decode(resp, (size_t)n + 1, &rs, &why), -1);
		CHECK_HAS(why, "trailing bytes");
		/* An error carries no certificate; an OK carries one. */
		CHECK_INT(mint_resp_encode(7, MINT_OK, NULL, 0, resp, MINT_RESP_MAX), -1);
		CHECK_INT(mint_resp_encode(7, MINT_ERR_SIGN, der, len, resp, MINT_RESP_MAX), -1);
		CHECK_INT(mint_resp_encode(7, MINT_OK, der, MINT_LEAF_MAX + 1, resp, MINT_RESP_MAX),
			  -1);
		CHECK_INT(mint_resp_encode(7, MINT_OK, der, len, resp, len), -1);
		n = mint_resp_encode(9, MINT_ERR_VALIDITY, NULL, 0, resp, MINT_RESP_MAX);
		CHECK_INT(n, 12);
		corpus_write("resp-err-validity", resp, (size_t)n);
		CHECK_INT(mint_resp_decode(resp, (size_t)n, &rs, &why), 0);
		CHECK(rs.id == 9 && rs.status == MINT_ERR_VALIDITY && rs.der_len == 0);
		resp[9] = MINT_STATUS__COUNT;
		CHECK_INT(mint_resp_decode(resp, (size_t)n, &rs, &why), -1);
		CHECK_HAS(why, "unknown status");
		corpus_write("resp-bad-status", resp, (size_t)n);
		resp[9] = MINT_OK; /* OK without a certificate */
		CHECK_INT(mint_resp_decode(resp, (size_t)n, &rs, &why), -1);
		CHECK_HAS(why, "disagrees with the status");
		resp[0] = 2;
		CHECK_INT(mint_resp_decode(resp, (size_t)n, &rs, &why), -1);
		CHECK_HAS(why, "unsupported version");
	}

	/* Validity: a long upstream validity is clipped to MINT_VALIDITY_MAX_S... */
	mbedtls_x509_crt_free(&leaf2);
	mbedtls_x509_crt_init(&leaf2);
	d->not_before = now_s - DAY;
	d->not_after = now_s + 3000 * DAY;
	CHECK_INT(sign_parse(ca, d, &leaf2, der2, &len2), MINT_OK);
	check_validity(&leaf2, ca, d->not_before, d->not_after);
	CHECK_INT(ca_time_epoch(&leaf2.valid_to) - ca_time_epoch(&leaf2.valid_from),
		  MINT_VALIDITY_MAX_S);
	/* ... the widest request to the CA's start plus that ... */
	mbedtls_x509_crt_free(&leaf2);
	mbedtls_x509_crt_init(&leaf2);
	d->not_before = INT64_MIN;
	d->not_after = INT64_MAX;
	CHECK_INT(sign_parse(ca, d, &leaf2, der2, &len2), MINT_OK);
	check_validity(&leaf2, ca, d->not_before, d->not_after);
	/* ... one entirely before the CA's is refused, with no leaf. */
	d->not_before = 631152000; /* 1990 */
	d->not_after = 662688000;
	len2 = 12345;
	CHECK_INT(sign_parse(ca, d, &leaf2, der2, &len2), MINT_ERR_VALIDITY);
	CHECK_INT(len2, 0);
	n = mint_req_encode(d, enc, MINT_REQ_MAX);
	corpus_write("req-before-ca", enc, (size_t)n);
	/* The earliest times there are: refused, not wrapped around into the CA's validity. */
	d->not_before = INT64_MIN;
	d->not_after = INT64_MIN + 1;
	CHECK_INT(sign_parse(ca, d, &leaf2, der2, &len2), MINT_ERR_VALIDITY);
	CHECK_INT(len2, 0);
	n = mint_req_encode(d, enc, MINT_REQ_MAX);
	corpus_write("req-validity-min", enc, (size_t)n);
	/* And the latest. */
	d->not_before = INT64_MAX - 1;
	d->not_after = INT64_MAX;
	CHECK_INT(sign_parse(ca, d, &leaf2, der2, &len2), MINT_ERR_VALIDITY);
	CHECK_INT(len2, 0);
	/* A CA valid 30 days clips the leaf to its own end. */
	{
		char dir[1024], err[4300];
		struct ca *shortca;

		snprintf(dir, sizeof(dir), "%s/short-ca", tmp_root);
		CHECK_INT(ca_init(dir, "short CA", 30, err, sizeof(err)), 0);
		shortca = ca_load_dir(dir, err, sizeof(err));
		CHECK(shortca != NULL);
		if (shortca != NULL) {
			mbedtls_x509_crt_free(&leaf2);
			mbedtls_x509_crt_init(&leaf2);
			d->not_before = now_s - DAY;
			d->not_after = now_s + 400 * DAY;
			CHECK_INT(sign_parse(shortca, d, &leaf2, der2, &len2), MINT_OK);
			check_validity(&leaf2, shortca, d->not_before, d->not_after);
			CHECK(ca_time_epoch(&leaf2.valid_to) <= now_s + 31 * DAY);
			/* Another CA's leaf is not trusted by this one's certificate. */
			CHECK(verify_for(&leaf2, &ca_cert, "www.example.com", &flags) != 0);
			CHECK(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
		}
		ca_free(shortca);
	}
	/*
	 * A CA made 1000 days ago (ca init makes them for ten years) and an upstream valid from
	 * 900 days ago for 200 more days (a long-lived certificate of an internal server): cut at
	 * its end, the leaf would have expired 75 days ago. It is valid now instead.
	 */
	{
		struct crt_spec s = { NULL,
				      NULL,
				      "CN=old CA,O=tlsgate",
				      "CN=old CA,O=tlsgate",
				      now_s - 1000 * DAY,
				      now_s + 2650 * DAY,
				      1,
				      NULL,
				      0 };
		char dir[1024], path[1200], err[4300], pem[4096];
		unsigned char kpem[1024];
		mbedtls_pk_context k;
		mbedtls_x509_crt old;
		struct ca *oldca = NULL;

		mbedtls_x509_crt_init(&old);
		CHECK_INT(gen_ec(&k, MBEDTLS_ECP_DP_SECP256R1), 0);
		s.key = s.issuer_key = &k;
		CHECK_INT(make_crt(&s, &old), 0);
		snprintf(dir, sizeof(dir), "%s/old-ca", tmp_root);
		CHECK_INT(mkdir(dir, 0700), 0);
		snprintf(path, sizeof(path), "%s/ca.crt", dir);
		CHECK_INT(crt_pem(&old, pem, sizeof(pem)), 0);
		CHECK_INT(write_file(path, pem, strlen(pem), 0644), 0);
		snprintf(path, sizeof(path), "%s/ca.key", dir);
		CHECK_INT(mbedtls_pk_write_key_pem(&k, kpem, sizeof(kpem)), 0);
		CHECK_INT(write_file(path, kpem, strlen((char *)kpem), 0600), 0);
		oldca = ca_load_dir(dir, err, sizeof(err));
		CHECK(oldca != NULL);
		if (oldca != NULL) {
			mbedtls_x509_crt_free(&leaf2);
			mbedtls_x509_crt_init(&leaf2);
			d->not_before = now_s - 900 * DAY;
			d->not_after = now_s + 200 * DAY;
			CHECK_INT(sign_parse(oldca, d, &leaf2, der2, &len2), MINT_OK);
			check_validity(&leaf2, oldca, d->not_before, d->not_after);
			CHECK_INT(verify_for(&leaf2, &old, "www.example.com", &flags), 0);
			CHECK_INT(flags, 0);
			/* Its end near: the window ends with the upstream's. */
			mbedtls_x509_crt_free(&leaf2);
			mbedtls_x509_crt_init(&leaf2);
			d->not_before = now_s - 900 * DAY;
			d->not_after = now_s + 10;
			CHECK_INT(sign_parse(oldca, d, &leaf2, der2, &len2), MINT_OK);
			check_validity(&leaf2, oldca, d->not_before, d->not_after);
			CHECK_INT(ca_time_epoch(&leaf2.valid_to), d->not_after);
			/* A window that still ends in over a day keeps the upstream's start. */
			mbedtls_x509_crt_free(&leaf2);
			mbedtls_x509_crt_init(&leaf2);
			d->not_before = now_s - 800 * DAY;
			d->not_after = now_s + 200 * DAY;
			CHECK_INT(sign_parse(oldca, d, &leaf2, der2, &len2), MINT_OK);
			check_validity(&leaf2, oldca, d->not_before, d->not_after);
			CHECK_INT(ca_time_epoch(&leaf2.valid_from), d->not_before);
		}
		ca_free(oldca);
		mbedtls_x509_crt_free(&old);
		mbedtls_pk_free(&k);
	}
	/* Without a CN, the subject takes the first DNS name; an address-only leaf has none. */
	mbedtls_x509_crt_free(&leaf2);
	mbedtls_x509_crt_init(&leaf2);
	d->not_before = now_s - DAY;
	d->not_after = now_s + DAY;
	d->cn_len = 0;
	d->cn[0] = '\0';
	CHECK_INT(sign_parse(ca, d, &leaf2, der2, &len2), MINT_OK);
	CHECK(mbedtls_x509_dn_gets(dn, sizeof(dn), &leaf2.subject) > 0);
	CHECK_MEM(dn, strlen(dn), "CN=www.example.com, O=tlsgate");
	mbedtls_x509_crt_free(&leaf2);
	mbedtls_x509_crt_init(&leaf2);
	d->n_dns = 0;
	CHECK_INT(sign_parse(ca, d, &leaf2, der2, &len2), MINT_OK);
	CHECK(mbedtls_x509_dn_gets(dn, sizeof(dn), &leaf2.subject) > 0);
	CHECK_MEM(dn, strlen(dn), "O=tlsgate");
	CHECK_INT(san_list(&leaf2, TAG_DNS, names, 8), 0);
	CHECK_INT(san_list(&leaf2, TAG_IP, names, 8), 2);
out:
	mbedtls_x509_crt_free(&leaf);
	mbedtls_x509_crt_free(&leaf2);
	free(r);
	free(d);
	free(der);
	free(der2);
	free(enc);
	free(resp);
}

/* Every cap reached: 64 DNS names of 253 bytes, 16 IPv6 addresses; the SNI's name is kept. */
#define BIG_DNS 70
#define BIG_IP	20

static void big_name(unsigned i, char out[254])
{
	memset(out, 'n', 253);
	out[0] = (char)('a' + i / 26 % 26);
	out[1] = (char)('a' + i % 26);
	out[63] = out[127] = out[191] = '.';
	out[253] = '\0';
}

static void test_caps(void)
{
	static char names[BIG_DNS][254];
	static uint8_t ips[BIG_IP][16];
	struct san sans[BIG_DNS + BIG_IP];
	struct mint_req *r = malloc(sizeof(*r)), *d = malloc(sizeof(*d));
	uint8_t *enc = malloc(MINT_REQ_MAX + 1), *der = malloc(MINT_LEAF_MAX);
	uint8_t *resp = malloc(MINT_RESP_MAX);
	const mbedtls_x509_buf *got[BIG_DNS];
	mbedtls_x509_crt big, leaf;
	const char *why;
	size_t len = 0;
	uint32_t flags;
	unsigned i;
	ssize_t n;

	mbedtls_x509_crt_init(&big);
	mbedtls_x509_crt_init(&leaf);
	if (r == NULL || d == NULL || enc == NULL || der == NULL || resp == NULL)
		goto out;
	for (i = 0; i < BIG_DNS; i++) {
		big_name(i, names[i]);
		sans[i] = (struct san){ TAG_DNS, names[i], 253 };
	}
	for (i = 0; i < BIG_IP; i++) {
		memcpy(ips[i], ip6, 16);
		ips[i][15] = (uint8_t)i;
		sans[BIG_DNS + i] = (struct san){ TAG_IP, ips[i], 16 };
	}
	{
		struct crt_spec s = {
			&up_key,	 &up_root_key, "O=Big", "CN=Upstream Root,O=Upstream",
			now_s - DAY,	 now_s + DAY,  0,	sans,
			BIG_DNS + BIG_IP
		};

		CHECK_INT(make_crt(&s, &big), 0);
	}
	/* The SNI is the last name: it comes first, then the first 63 of the others. */
	CHECK_INT(mint_req_from_crt(&big, names[BIG_DNS - 1], &worker_key, 3, r), 0);
	CHECK_INT(r->n_dns, MINT_MAX_SANS);
	CHECK_DNS(*r, 0, names[BIG_DNS - 1]);
	CHECK_DNS(*r, 1, names[0]);
	CHECK_DNS(*r, MINT_MAX_SANS - 1, names[MINT_MAX_SANS - 2]);
	CHECK_INT(r->n_ip, MINT_MAX_IP_SANS);
	CHECK_INT(r->cn_len, 0);
	n = mint_req_encode(r, enc, MINT_REQ_MAX);
	CHECK(n > 0 && n <= MINT_REQ_MAX);
	if (n <= 0)
		goto out;
	corpus_write("req-caps", enc, (size_t)n);
	CHECK_INT(mint_req_decode(enc, (size_t)n, d, &why), 0);
	CHECK(req_equal(r, d));
	CHECK_INT(sign_parse(ca, d, &leaf, der, &len), MINT_OK);
	CHECK(len > 0 && len <= MINT_LEAF_MAX);
	CHECK(mint_resp_encode(3, MINT_OK, der, len, resp, MINT_RESP_MAX) > 0);
	if (leaf.raw.p != NULL) {
		char dn[256];

		CHECK_INT(verify_for(&leaf, &ca_cert, names[BIG_DNS - 1], &flags), 0);
		CHECK_INT(verify_for(&leaf, &ca_cert, names[5], &flags), 0);
		CHECK(verify_for(&leaf, &ca_cert, names[BIG_DNS - 2], &flags) != 0);
		CHECK_INT(san_list(&leaf, TAG_DNS, got, BIG_DNS), MINT_MAX_SANS);
		CHECK_INT(san_list(&leaf, TAG_IP, got, BIG_DNS), MINT_MAX_IP_SANS);
		/* No name fits a CN. */
		CHECK(mbedtls_x509_dn_gets(dn, sizeof(dn), &leaf.subject) > 0);
		CHECK_MEM(dn, strlen(dn), "O=tlsgate");
	}
	/* One byte more than the cap: refused whole. */
	memset(enc + n, 0, (size_t)(MINT_REQ_MAX + 1 - n));
	CHECK_INT(mint_req_decode(enc, MINT_REQ_MAX + 1, d, &why), -1);
	CHECK_HAS(why, "longer than MINT_REQ_MAX");
out:
	mbedtls_x509_crt_free(&big);
	mbedtls_x509_crt_free(&leaf);
	free(r);
	free(d);
	free(enc);
	free(der);
	free(resp);
}

/* --- the LRU index --------------------------------------------------------------------------- */

/* The index holds exactly @want (indexes into @nodes), oldest first, linked both ways. */
static bool lru_order(const struct lru *l, const struct lru_node *nodes, const int *want, size_t n)
{
	const struct lru_node *p = lru_oldest(l), *prev = NULL;
	size_t i;

	if (l->count != n)
		return false;
	for (i = 0; i < n; i++, prev = p, p = lru_newer(p))
		if (p != &nodes[want[i]] || p->older != prev)
			return false;
	return p == NULL && l->newest == prev;
}

/* Insert @n, evicting the least recent first at @cap (what leafcache.c and ca_proc.c do). */
static struct lru_node *lru_put(struct lru *l, struct lru_node *n, size_t cap)
{
	struct lru_node *out = NULL;

	if (l->count >= cap) {
		out = lru_oldest(l);
		lru_remove(l, out);
	}
	lru_insert(l, n);
	return out;
}

static void test_lru(void)
{
	struct lru_node nodes[8], *many;
	struct lru l;
	uint8_t key[LRU_KEY_LEN];
	size_t i;

	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < 8; i++) {
		nodes[i].key[0] = (uint8_t)i;
		nodes[i].key[31] = 0xa5;
	}
	CHECK_INT(lru_init(&l, 4), 0);
	CHECK(lru_oldest(&l) == NULL);
	for (i = 0; i < 4; i++)
		CHECK(lru_put(&l, &nodes[i], 4) == NULL);
	CHECK(lru_order(&l, nodes, (const int[]){ 0, 1, 2, 3 }, 4));
	/* A find makes the node the most recent; a miss changes nothing. */
	CHECK(lru_find(&l, nodes[1].key) == &nodes[1]);
	CHECK(lru_order(&l, nodes, (const int[]){ 0, 2, 3, 1 }, 4));
	memcpy(key, nodes[1].key, LRU_KEY_LEN);
	key[31] ^= 1;
	CHECK(lru_find(&l, key) == NULL);
	CHECK(lru_order(&l, nodes, (const int[]){ 0, 2, 3, 1 }, 4));
	/* At the cap the least recent goes: 0, not the older-inserted but recently used 1. */
	CHECK(lru_put(&l, &nodes[4], 4) == &nodes[0]);
	CHECK(lru_order(&l, nodes, (const int[]){ 2, 3, 1, 4 }, 4));
	CHECK(lru_find(&l, nodes[0].key) == NULL);
	lru_touch(&l, &nodes[2]);
	CHECK(lru_order(&l, nodes, (const int[]){ 3, 1, 4, 2 }, 4));
	lru_touch(&l, &nodes[2]); /* already the newest */
	CHECK(lru_order(&l, nodes, (const int[]){ 3, 1, 4, 2 }, 4));
	CHECK(lru_put(&l, &nodes[5], 4) == &nodes[3]);
	CHECK(lru_put(&l, &nodes[6], 4) == &nodes[1]);
	CHECK(lru_order(&l, nodes, (const int[]){ 4, 2, 5, 6 }, 4));
	/* Removing from the middle, the ends, and a node not indexed. */
	lru_remove(&l, &nodes[2]);
	CHECK(lru_order(&l, nodes, (const int[]){ 4, 5, 6 }, 3));
	lru_remove(&l, &nodes[2]);
	lru_remove(&l, &nodes[7]);
	CHECK(lru_order(&l, nodes, (const int[]){ 4, 5, 6 }, 3));
	lru_remove(&l, &nodes[4]);
	lru_remove(&l, &nodes[6]);
	CHECK(lru_order(&l, nodes, (const int[]){ 5 }, 1));
	lru_remove(&l, &nodes[5]);
	CHECK(lru_order(&l, nodes, NULL, 0));
	CHECK(lru_oldest(&l) == NULL);
	lru_fini(&l);

	/* One bucket: every key in one chain, each still found, removed, counted. */
	many = calloc(300, sizeof(*many));
	CHECK_INT(lru_init(&l, 1), 0);
	CHECK_INT(l.mask, 0);
	if (many != NULL) {
		size_t found = 0, gone = 0;

		for (i = 0; i < 300; i++) {
			many[i].key[0] = (uint8_t)i;
			many[i].key[1] = (uint8_t)(i >> 8);
			lru_insert(&l, &many[i]);
		}
		CHECK_INT(l.count, 300);
		for (i = 0; i < 300; i += 2)
			lru_remove(&l, &many[i]);
		CHECK_INT(l.count, 150);
		for (i = 0; i < 300; i++) {
			struct lru_node *f = lru_find(&l, many[i].key);

			found += i % 2 == 1 && f == &many[i];
			gone += i % 2 == 0 && f == NULL;
		}
		CHECK_INT(found, 150);
		CHECK_INT(gone, 150);
		/* The finds made the odd ones most recent in order. */
		CHECK(lru_oldest(&l) == &many[1] && l.newest == &many[299]);
	}
	lru_fini(&l);
	free(many);
	/* Sized by the next power of two. */
	CHECK_INT(lru_init(&l, 1000), 0);
	CHECK_INT(l.mask, 1023);
	lru_fini(&l);
}

/* --- a CA served by a thread with the real signer -------------------------------------------- */

enum fake_mode {
	FAKE_SIGN, /* answer every request */
	FAKE_HOLD_FIRST, /* answer the first request only after the second, just before it */
	FAKE_REFUSE, /* MINT_ERR_VALIDITY */
	FAKE_GARBAGE, /* two bytes */
	FAKE_HANGUP, /* close on the first request */
};

struct fake_ca {
	int fd, worker;
	enum fake_mode mode;
	atomic_uint requests;
	pthread_t th;
	mbedtls_ctr_drbg_context drbg;
};

static ssize_t fake_answer(struct fake_ca *f, const uint8_t *in, size_t n, uint8_t *out)
{
	struct mint_req *req = malloc(sizeof(*req));
	uint8_t *der = malloc(MINT_LEAF_MAX);
	enum mint_status st = MINT_ERR_REQUEST;
	const char *why;
	char err[256];
	size_t len = 0;
	uint64_t id = 0;
	ssize_t m;

	if (req != NULL && der != NULL && mint_req_decode(in, n, req, &why) == 0) {
		id = req->id;
		st = f->mode == FAKE_REFUSE ? MINT_ERR_VALIDITY
					    : mint_sign(ca, req, &f->drbg, der, MINT_LEAF_MAX, &len,
							err, sizeof(err));
	}
	m = mint_resp_encode(id, st, st == MINT_OK ? der : NULL, st == MINT_OK ? len : 0, out,
			     MINT_RESP_MAX);
	free(req);
	free(der);
	return m;
}

static void *fake_main(void *arg)
{
	struct fake_ca *f = arg;
	uint8_t *in = malloc(MINT_REQ_MAX + 1), *out = malloc(MINT_RESP_MAX);
	uint8_t *held = malloc(MINT_RESP_MAX);
	ssize_t held_len = -1;

	while (in != NULL && out != NULL && held != NULL) {
		ssize_t n = recv(f->fd, in, MINT_REQ_MAX + 1, MSG_TRUNC), m;

		if (n <= 0)
			break;
		atomic_fetch_add(&f->requests, 1);
		if (f->mode == FAKE_HANGUP)
			break;
		if (f->mode == FAKE_GARBAGE) {
			(void)send(f->fd, "\x01\x02", 2, MSG_NOSIGNAL);
			continue;
		}
		m = fake_answer(f, in, (size_t)n, out);
		if (m < 0)
			break;
		if (f->mode == FAKE_HOLD_FIRST && held_len == -1) {
			memcpy(held, out, (size_t)m);
			held_len = m;
			continue;
		}
		if (held_len > 0) {
			(void)send(f->fd, held, (size_t)held_len, MSG_NOSIGNAL);
			held_len = 0;
		}
		(void)send(f->fd, out, (size_t)m, MSG_NOSIGNAL);
	}
	close(f->fd);
	free(in);
	free(out);
	free(held);
	return NULL;
}

static int fake_start(struct fake_ca *f, enum fake_mode mode)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	atomic_init(&f->requests, 0);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	f->worker = sv[0];
	f->fd = sv[1];
	if (ca_drbg_seed(&f->drbg, "test_mint fake ca") != 0 ||
	    pthread_create(&f->th, NULL, fake_main, f) != 0) {
		close(sv[0]);
		close(sv[1]);
		mbedtls_ctr_drbg_free(&f->drbg);
		return -1;
	}
	return 0;
}

static void fake_stop(struct fake_ca *f)
{
	close(f->worker);
	pthread_join(f->th, NULL);
	mbedtls_ctr_drbg_free(&f->drbg);
}

/* The leaf for (@crt, @sni) from @lc, checked to verify for @sni against the CA; NULL on error. */
static struct leaf *get_leaf(struct leafcache *lc, const mbedtls_x509_crt *crt, const char *sni,
			     unsigned timeout_ms, char *err, size_t errlen)
{
	static char sentinel;
	struct leaf *l = (struct leaf *)(void *)&sentinel;
	uint32_t flags;

	err[0] = '\0';
	if (leafcache_get(lc, crt, sni, timeout_ms, &l, err, errlen) == -1) {
		CHECK(l == NULL);
		return NULL;
	}
	CHECK(l != NULL);
	if (l == NULL)
		return NULL;
	CHECK_INT(verify_for(leaf_crt(l), &ca_cert, sni && *sni ? sni : "www.example.com", &flags),
		  0);
	CHECK(same_key(leaf_crt(l), &worker_key));
	return l;
}

static void test_leafcache(void)
{
	struct leaf *a, *a2, *b, *c, *d, *x;
	struct leafcache_stats st;
	struct leafcache *lc;
	struct fake_ca f;
	char err[512];

	if (fake_start(&f, FAKE_SIGN) == -1) {
		CHECK(!"fake CA started");
		return;
	}
	lc = leafcache_new(f.worker, &worker_key, 2);
	CHECK(lc != NULL);
	if (lc == NULL) {
		fake_stop(&f);
		return;
	}
	/* A miss asks the CA; the same (certificate, SNI) again is answered from the cache. */
	a = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
	CHECK(a != NULL);
	CHECK_INT(atomic_load(&f.requests), 1);
	a2 = get_leaf(lc, &upstream, "www.example.com", 0, err, sizeof(err)); /* the default */
	CHECK(a2 == a);
	CHECK_INT(atomic_load(&f.requests), 1);
	/* Another SNI: another leaf, its name first. */
	b = get_leaf(lc, &upstream, "img.example.com", WAIT_MS, err, sizeof(err));
	CHECK(b != NULL && b != a);
	CHECK_INT(atomic_load(&f.requests), 2);
	if (a != NULL && b != NULL) {
		const mbedtls_x509_buf *n[4];

		CHECK(leaf_crt(a)->raw.len != leaf_crt(b)->raw.len ||
		      memcmp(leaf_crt(a)->raw.p, leaf_crt(b)->raw.p, leaf_crt(a)->raw.len) != 0);
		CHECK(san_list(leaf_crt(b), TAG_DNS, n, 4) == 3 &&
		      buf_is(n[0], "*.example.com", 13));
	}
	leafcache_stats(lc, &st);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.misses, 2);
	CHECK_INT(st.entries, 2);
	CHECK(st.bytes > 0);
	/* Both held, the cap (2) reached: a third leaf is handed out uncached. */
	c = get_leaf(lc, &upstream, "c.example.com", WAIT_MS, err, sizeof(err));
	CHECK(c != NULL);
	leafcache_stats(lc, &st);
	CHECK_INT(st.uncached, 1);
	CHECK_INT(st.entries, 2);
	CHECK_INT(st.evictions, 0);
	leaf_put(c); /* freed now: it was never cached */
	leaf_put(a);
	leaf_put(a2);
	leaf_put(b);
	/* Unheld, in LRU order: touch a (www), then d evicts b (img), not a. */
	x = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
	CHECK(x == a);
	leaf_put(x);
	d = get_leaf(lc, &upstream, "d.example.com", WAIT_MS, err, sizeof(err));
	CHECK(d != NULL);
	leaf_put(d);
	leafcache_stats(lc, &st);
	CHECK_INT(st.evictions, 1);
	CHECK_INT(atomic_load(&f.requests), 4);
	x = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
	CHECK_INT(atomic_load(&f.requests), 4); /* still cached */
	leaf_put(x);
	x = get_leaf(lc, &upstream, "img.example.com", WAIT_MS, err, sizeof(err));
	CHECK_INT(atomic_load(&f.requests), 5); /* evicted: asked again */
	leaf_put(x);
	/* NULL and "" are the same key: no SNI. */
	x = get_leaf(lc, &upstream, NULL, WAIT_MS, err, sizeof(err));
	CHECK(x != NULL);
	leaf_put(x);
	x = get_leaf(lc, &upstream, "", WAIT_MS, err, sizeof(err));
	CHECK(x != NULL);
	leaf_put(x);
	CHECK_INT(atomic_load(&f.requests), 6);
	/* An SNI that is no host name fails before asking anything. */
	x = get_leaf(lc, &upstream, "bad..sni", WAIT_MS, err, sizeof(err));
	CHECK(x == NULL);
	CHECK_HAS(err, "not a host name");
	CHECK_INT(atomic_load(&f.requests), 6);
	/* A leaf held across leafcache_free stays valid until its last leaf_put. */
	x = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
	CHECK(x != NULL);
	leafcache_free(lc);
	if (x != NULL)
		CHECK(leaf_crt(x)->raw.len > 0 && leaf_crt(x)->ca_istrue == 0);
	leaf_put(x);
	leaf_put(NULL);
	fake_stop(&f);
}

/* Timeouts, stale answers, refusals, garbage, a CA that went away. */
static void test_leafcache_failures(void)
{
	struct leafcache_stats st;
	struct leafcache *lc;
	struct fake_ca f;
	struct leaf *l;
	char err[512];

	/* The first answer comes late: a timeout; it arrives before the second and is dropped. */
	if (fake_start(&f, FAKE_HOLD_FIRST) == -1) {
		CHECK(!"fake CA started");
	} else {
		lc = leafcache_new(f.worker, &worker_key, 0);
		l = get_leaf(lc, &upstream, "www.example.com", 200, err, sizeof(err));
		CHECK(l == NULL);
		CHECK_HAS(err, "no answer from the CA process in time");
		l = get_leaf(lc, &upstream, "img.example.com", WAIT_MS, err, sizeof(err));
		CHECK(l != NULL);
		if (l != NULL) {
			const mbedtls_x509_buf *n[4];

			/* The answer of the second request, not the stale first one. */
			CHECK(san_list(leaf_crt(l), TAG_DNS, n, 4) == 3 &&
			      buf_is(n[0], "*.example.com", 13));
		}
		leaf_put(l);
		leafcache_stats(lc, &st);
		CHECK_INT(st.timeouts, 1);
		CHECK_INT(st.stale, 1);
		CHECK_INT(st.misses, 2);
		CHECK_INT(st.entries, 1);
		leafcache_free(lc);
		fake_stop(&f);
	}
	/* A refusal: an error with the status's text, nothing cached. */
	if (fake_start(&f, FAKE_REFUSE) == -1) {
		CHECK(!"fake CA started");
	} else {
		lc = leafcache_new(f.worker, &worker_key, 0);
		l = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
		CHECK(l == NULL);
		CHECK_HAS(err, "the CA process refused: the requested validity lies outside");
		l = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
		CHECK(l == NULL);
		CHECK_INT(atomic_load(&f.requests), 2);
		leafcache_stats(lc, &st);
		CHECK_INT(st.mint_errors, 2);
		CHECK_INT(st.entries, 0);
		leafcache_free(lc);
		fake_stop(&f);
	}
	if (fake_start(&f, FAKE_GARBAGE) == -1) {
		CHECK(!"fake CA started");
	} else {
		lc = leafcache_new(f.worker, &worker_key, 0);
		l = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
		CHECK(l == NULL);
		CHECK_HAS(err, "malformed answer from the CA process: truncated");
		leafcache_free(lc);
		fake_stop(&f);
	}
	if (fake_start(&f, FAKE_HANGUP) == -1) {
		CHECK(!"fake CA started");
	} else {
		lc = leafcache_new(f.worker, &worker_key, 0);
		l = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
		CHECK(l == NULL);
		CHECK_HAS(err, "the CA process is gone");
		/* And again, now that the socket is closed at the other end. */
		l = get_leaf(lc, &upstream, "www.example.com", 100, err, sizeof(err));
		CHECK(l == NULL);
		CHECK(err[0] != '\0');
		leafcache_free(lc);
		fake_stop(&f);
	}
}

/* --- the CA process -------------------------------------------------------------------------- */

/* ca_proc_main over @dir's CA in a child, on @n socket pairs; the workers' ends in @worker. */
static pid_t ca_proc_fork(const char *dir, unsigned n, int *worker)
{
	int cfd, kfd, ends[4], sv[2];
	char err[4300];
	unsigned i;
	pid_t pid;

	if (n > 4 || ca_open_files(dir, &cfd, &kfd, err, sizeof(err)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
			return -1;
		worker[i] = sv[0];
		ends[i] = sv[1];
	}
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < n; i++)
			close(worker[i]);
		_exit(ca_proc_main(cfd, kfd, ends, n));
	}
	close(cfd);
	close(kfd);
	for (i = 0; i < n; i++)
		close(ends[i]);
	return pid;
}

/* Send @len bytes, wait up to 10 s for the answer into @buf, decode it into @r. */
static int round_trip(int fd, const uint8_t *req, size_t len, uint8_t *buf, struct mint_resp *r)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	const char *why;
	ssize_t n;

	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len || poll(&p, 1, 10000) != 1)
		return -2;
	n = recv(fd, buf, MINT_RESP_MAX, 0);
	if (n <= 0)
		return -3;
	return mint_resp_decode(buf, (size_t)n, r, &why);
}

static int wait_exit(pid_t pid)
{
	int status = 0;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_ca_proc(void)
{
	uint8_t *req = malloc(MINT_REQ_MAX + 200), *resp = malloc(MINT_RESP_MAX);
	uint8_t *der1 = malloc(MINT_LEAF_MAX);
	struct mint_req *r = malloc(sizeof(*r));
	struct mint_resp rs;
	mbedtls_x509_crt leaf;
	size_t len1 = 0;
	uint32_t flags;
	int w[2];
	ssize_t n;
	pid_t pid;

	mbedtls_x509_crt_init(&leaf);
	if (req == NULL || resp == NULL || der1 == NULL || r == NULL)
		goto out;
	pid = ca_proc_fork(ca_dir, 2, w);
	CHECK(pid > 0);
	if (pid <= 0)
		goto out;
	CHECK_INT(mint_req_from_crt(&upstream, "www.example.com", &worker_key, 7, r), 0);
	n = mint_req_encode(r, req, MINT_REQ_MAX);
	/* A request: a leaf, verified, with the request's id. */
	CHECK_INT(round_trip(w[0], req, (size_t)n, resp, &rs), 0);
	CHECK(rs.id == 7 && rs.status == MINT_OK && rs.der_len > 0);
	if (rs.status == MINT_OK) {
		memcpy(der1, rs.der, rs.der_len);
		len1 = rs.der_len;
		CHECK_INT(mbedtls_x509_crt_parse_der(&leaf, rs.der, rs.der_len), 0);
		CHECK_INT(verify_for(&leaf, &ca_cert, "www.example.com", &flags), 0);
	}
	/* The same leaf asked again, on the other socket with another id: signed once. */
	r->id = 8;
	n = mint_req_encode(r, req, MINT_REQ_MAX);
	CHECK_INT(round_trip(w[1], req, (size_t)n, resp, &rs), 0);
	CHECK(rs.id == 8 && rs.status == MINT_OK);
	CHECK(rs.der_len == len1 && memcmp(rs.der, der1, len1) == 0);
	/* Two workers asking for one new leaf at once get the same one. */
	{
		uint8_t *resp2 = malloc(MINT_RESP_MAX);
		struct pollfd p[2] = { { .fd = w[0], .events = POLLIN },
				       { .fd = w[1], .events = POLLIN } };
		struct mint_resp r0, r1;
		const char *why;
		ssize_t m0 = -1, m1 = -1;

		CHECK_INT(mint_req_from_crt(&upstream, "both.example.com", &worker_key, 20, r), 0);
		n = mint_req_encode(r, req, MINT_REQ_MAX);
		CHECK(send(w[0], req, (size_t)n, 0) == n);
		r->id = 21;
		n = mint_req_encode(r, req, MINT_REQ_MAX);
		CHECK(send(w[1], req, (size_t)n, 0) == n);
		if (poll(&p[0], 1, 10000) == 1)
			m0 = recv(w[0], resp, MINT_RESP_MAX, 0);
		if (resp2 != NULL && poll(&p[1], 1, 10000) == 1)
			m1 = recv(w[1], resp2, MINT_RESP_MAX, 0);
		CHECK(m0 > 0 && m1 > 0);
		if (m0 > 0 && m1 > 0) {
			CHECK_INT(mint_resp_decode(resp, (size_t)m0, &r0, &why), 0);
			CHECK_INT(mint_resp_decode(resp2, (size_t)m1, &r1, &why), 0);
			CHECK(r0.id == 20 && r1.id == 21 && r0.status == MINT_OK &&
			      r1.status == MINT_OK);
			CHECK(r0.der_len == r1.der_len && r0.der_len > 0 &&
			      memcmp(r0.der, r1.der, r0.der_len) == 0);
		}
		free(resp2);
	}
	/* Junk gets an error answer and no leaf; the id when the junk carries one. */
	r->id = 0x1122334455667788ULL;
	n = mint_req_encode(r, req, MINT_REQ_MAX);
	CHECK_INT(round_trip(w[0], req, 40, resp, &rs), 0);
	CHECK(rs.id == 0x1122334455667788ULL && rs.status == MINT_ERR_REQUEST && rs.der_len == 0);
	CHECK_INT(round_trip(w[0], req, 3, resp, &rs), 0);
	CHECK(rs.id == 0 && rs.status == MINT_ERR_REQUEST && rs.der_len == 0);
	CHECK_INT(round_trip(w[0], req, 0, resp, &rs), 0);
	CHECK(rs.id == 0 && rs.status == MINT_ERR_REQUEST && rs.der_len == 0);
	memset(req + n, 0, (size_t)(MINT_REQ_MAX + 200 - n));
	CHECK_INT(round_trip(w[1], req, MINT_REQ_MAX + 200, resp, &rs), 0);
	CHECK(rs.id == 0x1122334455667788ULL && rs.status == MINT_ERR_REQUEST && rs.der_len == 0);
	req[n] = 0; /* a trailing byte */
	CHECK_INT(round_trip(w[1], req, (size_t)n + 1, resp, &rs), 0);
	CHECK(rs.status == MINT_ERR_REQUEST && rs.der_len == 0);
	/* A validity the CA cannot meet. */
	r->not_before = 631152000;
	r->not_after = 662688000;
	n = mint_req_encode(r, req, MINT_REQ_MAX);
	CHECK_INT(round_trip(w[0], req, (size_t)n, resp, &rs), 0);
	CHECK(rs.id == 0x1122334455667788ULL && rs.status == MINT_ERR_VALIDITY && rs.der_len == 0);
	/* It still serves after all that, through a leaf cache too. */
	{
		struct leafcache *lc = leafcache_new(w[1], &worker_key, 0);
		struct leaf *l;
		char err[512];

		l = get_leaf(lc, &upstream, "www.example.com", WAIT_MS, err, sizeof(err));
		CHECK(l != NULL);
		if (l != NULL)
			CHECK(leaf_crt(l)->raw.len == len1 &&
			      memcmp(leaf_crt(l)->raw.p, der1, len1) == 0);
		leaf_put(l);
		leafcache_free(lc);
	}
	/* It exits 0 once every worker's end is closed. */
	close(w[0]);
	close(w[1]);
	CHECK_INT(wait_exit(pid), 0);

	/* A CA it must not load: exit 1, the sockets closed. */
	{
		char dir[1024], src[1024], dst[1024];
		size_t kl = 0, cl = 0;
		char *k, *c;

		snprintf(dir, sizeof(dir), "%s/proc-bad", tmp_root);
		snprintf(src, sizeof(src), "%s/ca.key", ca_dir);
		k = read_file(src, &kl);
		snprintf(src, sizeof(src), "%s/ca.crt", ca_dir);
		c = read_file(src, &cl);
		make_dir(dir, c, cl, k, kl, 0644);
		free(k);
		free(c);
		pid = ca_proc_fork(dir, 1, w);
		CHECK(pid > 0);
		if (pid > 0) {
			struct pollfd p = { .fd = w[0], .events = POLLIN };

			CHECK_INT(wait_exit(pid), 1);
			CHECK(poll(&p, 1, 1000) == 1 && recv(w[0], resp, 16, 0) == 0);
			close(w[0]);
		}
		snprintf(dst, sizeof(dst), "%s", dir);
		rm_rf(dst);
	}
out:
	mbedtls_x509_crt_free(&leaf);
	free(req);
	free(resp);
	free(der1);
	free(r);
}

/* ca_proc_spawn: refusals before anything runs, then tlsgated --ca-process for real. */
static void test_ca_spawn(void)
{
	const char *bin = getenv("TG_BIN");
	const char *user = geteuid() == 0 ? "nobody" : NULL;
	char exe[1024], err[4300], missing[1024];
	int w[2] = { -1, -1 };
	pid_t pid = 0;

	snprintf(exe, sizeof(exe), "%s/tlsgated", bin ? bin : "build/bin");
	CHECK_INT(ca_proc_spawn(exe, ca_dir, 0, w, &pid, user, err, sizeof(err)), -1);
	CHECK_HAS(err, "expected 1..64 sockets, got 0");
	CHECK_INT(
		ca_proc_spawn(exe, ca_dir, CA_PROC_MAX_SOCKS + 1, w, &pid, user, err, sizeof(err)),
		-1);
	CHECK_INT(ca_proc_spawn(exe, ca_dir, 1, w, &pid, "root", err, sizeof(err)), -1);
	CHECK_HAS(err, "is root: the CA process must not run as root");
	CHECK_INT(ca_proc_spawn(exe, ca_dir, 1, w, &pid, "no-such-user-tg", err, sizeof(err)), -1);
	CHECK_HAS(err, "user \"no-such-user-tg\"");
	if (geteuid() == 0) {
		CHECK_INT(ca_proc_spawn(exe, ca_dir, 1, w, &pid, NULL, err, sizeof(err)), -1);
		CHECK_HAS(err, "must not run as root: name a user");
	}
	snprintf(missing, sizeof(missing), "%s/nonexistent", tmp_root);
	CHECK_INT(ca_proc_spawn(exe, missing, 1, w, &pid, user, err, sizeof(err)), -1);
	CHECK_HAS(err, "create a CA with `tlsgatectl ca init`");
	CHECK_INT(pid, -1);
	/* An executable that is not there: the child's exec error comes back. */
	snprintf(missing, sizeof(missing), "%s/no-such-exe", tmp_root);
	CHECK_INT(ca_proc_spawn(missing, ca_dir, 1, w, &pid, user, err, sizeof(err)), -1);
	CHECK_HAS(err, "CA process: exec: "); /* ENOENT, or EACCES below the 0700 directory */
	CHECK_INT(pid, -1);
	CHECK(w[0] == -1);

	if (access(exe, X_OK) != 0) {
		CHECK(!"tlsgated built next to tlsgatectl (TG_BIN)");
		return;
	}
	CHECK_INT(ca_proc_spawn(exe, ca_dir, 2, w, &pid, user, err, sizeof(err)), 0);
	if (pid <= 0) {
		fprintf(stderr, "spawn: %s\n", err);
		return;
	}
	{
		struct leafcache *lc = leafcache_new(w[1], &worker_key, 0);
		struct leaf *l;

		l = get_leaf(lc, &upstream, "spawn.example.com", WAIT_MS, err, sizeof(err));
		CHECK(l != NULL);
		if (l == NULL)
			fprintf(stderr, "spawned CA process: %s\n", err);
		leaf_put(l);
		leafcache_free(lc);
	}
	CHECK(fcntl(w[0], F_GETFD) & FD_CLOEXEC);
	close(w[0]);
	close(w[1]);
	CHECK_INT(wait_exit(pid), 0);
}

/* ca_proc_exec_main refuses a bad command line (it is started by tlsgated only). */
static void test_ca_exec_usage(void)
{
	char a0[] = "tlsgated", a1[] = CA_PROC_ARG, a2[] = CA_PROC_SOCKS_ARG, a3[16];
	char *argv[] = { a0, a1, a2, a3, NULL };

	snprintf(a3, sizeof(a3), "0");
	CHECK_INT(ca_proc_exec_main(4, argv), 2);
	snprintf(a3, sizeof(a3), "65");
	CHECK_INT(ca_proc_exec_main(4, argv), 2);
	snprintf(a3, sizeof(a3), "1x");
	CHECK_INT(ca_proc_exec_main(4, argv), 2);
	CHECK_INT(ca_proc_exec_main(3, argv), 2);
	argv[2] = a1;
	snprintf(a3, sizeof(a3), "1");
	CHECK_INT(ca_proc_exec_main(4, argv), 2);
	argv[2] = a2;
	/* Descriptor 5 is not a socket (made sure here): refused. */
	if (fcntl(5, F_GETFD) == -1) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd != -1 && dup2(fd, 5) == 5) {
			CHECK_INT(ca_proc_exec_main(4, argv), 2);
			close(5);
		}
		if (fd != -1)
			close(fd);
	}
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char err[256];

	now_s = (int64_t)time(NULL);
	corpus_dir = getenv("TG_MINT_CORPUS");
	snprintf(tmp_root, sizeof(tmp_root), "%s/tg-mint.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(tmp_root) == NULL) {
		perror(tmp_root);
		return 1;
	}
	if (ca_drbg_seed(&drbg, "test_mint") != 0) {
		fprintf(stderr, "cannot seed\n");
		return 1;
	}
	test_ca_exec_usage();
	test_ca_init();
	test_ca_helpers();
	test_ca_load_refusals();
	test_ca_export_show();
	test_names();
	if (gen_ec(&worker_key, MBEDTLS_ECP_DP_SECP256R1) != 0) {
		snprintf(err, sizeof(err), "cannot make the worker key");
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	make_upstream();
	test_req_from_crt();
	test_wire();
	test_malformed();
	test_sign();
	test_caps();
	test_lru();
	test_leafcache();
	test_leafcache_failures();
	test_ca_proc();
	test_ca_spawn();

	ca_free(ca);
	mbedtls_x509_crt_free(&ca_cert);
	mbedtls_x509_crt_free(&upstream);
	mbedtls_x509_crt_free(&up_root);
	mbedtls_pk_free(&up_root_key);
	mbedtls_pk_free(&up_key);
	mbedtls_pk_free(&worker_key);
	mbedtls_ctr_drbg_free(&drbg);
	rm_rf(tmp_root);
	return tg_test_done();
}
