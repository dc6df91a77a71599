/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ca.c - see ca.h: loading a CA and checking it, its accessors, export and show, and the time,
 * randomness and error helpers the CA's other files (ca_init.c, mint.c) use. The CA directory:
 *
 *   DIR/ca.crt  PEM certificate, 0644
 *   DIR/ca.key  PEM EC private key (RFC 5915), P-256, unencrypted, 0600
 *
 * mbedTLS 2.28 does the X.509 and key work. Where the code reads the certificate's own DER (the
 * subjectKeyIdentifier, which 2.28 does not expose), it uses mbedTLS's bounds-checked ASN.1
 * readers over the certificate mbedTLS already parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "tlsgate/mbedtls_compat.h"

#include "ca.h"
#include "caps.h"
#include "jsonw.h"

#define CA_KEY_ID_MAX 64

struct ca {
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	int64_t not_before, not_after;
	uint8_t key_id[CA_KEY_ID_MAX];
	size_t key_id_len;
};

void ca_mbed_err(char *err, size_t errlen, const char *what, int ret)
{
	char buf[128];

	mbedtls_strerror(ret, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s (-0x%04x)", what, buf, (unsigned)-ret);
}

/* --- time ------------------------------------------------------------------------------------ */

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12). */
static int64_t ca_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t ca_time_epoch(const mbedtls_x509_time *t)
{
	return ca_days_from_civil(t->year, (unsigned)t->mon, (unsigned)t->day) * 86400 +
	       (int64_t)t->hour * 3600 + (int64_t)t->min * 60 + t->sec;
}

int ca_time_x509(int64_t t, char out[static 15])
{
	time_t tt;
	struct tm tm;

	if (t < CA_TIME_MIN || t > CA_TIME_MAX)
		return -1;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 15, "%Y%m%d%H%M%S", &tm) != 14)
		return -1;
	return 0;
}

static void ca_time_iso(int64_t t, char out[static 21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		snprintf(out, 21, "?");
}

/* --- randomness ------------------------------------------------------------------------------ */

static int ca_getrandom(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	while (len > 0) {
		ssize_t n = getrandom(out, len, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

int ca_drbg_seed(mbedtls_ctr_drbg_context *drbg, const char *pers)
{
	mbedtls_ctr_drbg_init(drbg);
	return mbedtls_ctr_drbg_seed(drbg, ca_getrandom, NULL, (const unsigned char *)pers,
				     strlen(pers));
}

int ca_serial_random(mbedtls_ctr_drbg_context *drbg, mbedtls_mpi *serial)
{
	unsigned char b[16];
	int ret;

	ret = mbedtls_ctr_drbg_random(drbg, b, sizeof(b));
	if (ret != 0)
		return ret;
	b[0] &= 0x7f; /* positive in DER without a leading zero byte */
	b[0] |= 0x40; /* and never shorter than 16 bytes, never zero */
	return mbedtls_mpi_read_binary(serial, b, sizeof(b));
}

/* --- loading --------------------------------------------------------------------------------- */

/* Read a whole regular file of at most CA_FILE_MAX bytes; @buf gets a NUL after the bytes. */
static int ca_read_fd(int fd, const char *name, unsigned char *buf, size_t cap, size_t *len,
		      char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", name);
		return -1;
	}
	for (;;) {
		ssize_t n = pread(fd, buf + got, cap - got, (off_t)got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap) {
			snprintf(err, errlen, "%s: larger than %zu bytes", name, cap - 1);
			return -1;
		}
	}
	if (got == 0) {
		snprintf(err, errlen, "%s: empty", name);
		return -1;
	}
	buf[got] = '\0';
	*len = got;
	return 0;
}

/* Parse @buf (PEM or DER) as exactly one CA certificate. */
static int ca_parse_crt(mbedtls_x509_crt *crt, const unsigned char *buf, size_t len,
			const char *name, char *err, size_t errlen)
{
	const mbedtls_x509_name *n;
	char what[4200];
	int ret;

	snprintf(what, sizeof(what), "%s: not a certificate", name);
	/* PEM needs the terminating NUL counted; DER must not have it. */
	ret = mbedtls_x509_crt_parse(crt, buf, buf[0] == 0x30 ? len : len + 1);
	if (ret != 0) {
		ca_mbed_err(err, errlen, what, ret);
		return -1;
	}
	if (crt->next != NULL) {
		snprintf(err, errlen,
			 "%s: holds more than one certificate; only the CA's own is "
			 "supported",
			 name);
		return -1;
	}
	if (!crt->ca_istrue) {
		snprintf(err, errlen, "%s: not a CA certificate (basicConstraints CA:true missing)",
			 name);
		return -1;
	}
	if (mbedtls_x509_crt_check_key_usage(crt, MBEDTLS_X509_KU_KEY_CERT_SIGN) != 0) {
		snprintf(err, errlen, "%s: keyUsage does not allow signing certificates", name);
		return -1;
	}
	for (n = &crt->subject; n != NULL; n = n->next)
		if (n->next_merged) {
			snprintf(err, errlen,
				 "%s: the subject has a multi-valued RDN, which a leaf's issuer "
				 "cannot repeat",
				 name);
			return -1;
		}
	return 0;
}

/* The subjectKeyIdentifier's key id, if the certificate has one (v3_ext: the Extensions). */
static void ca_find_key_id(struct ca *ca)
{
	unsigned char *p = ca->crt.v3_ext.p, *end, *ext_end, *oid;
	size_t len, oid_len;
	int crit;

	if (p == NULL)
		return;
	end = p + ca->crt.v3_ext.len;
	if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return;
	end = p + len;
	while (p < end) {
		if (mbedtls_asn1_get_tag(&p, end, &len,
					 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
			return;
		ext_end = p + len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &oid_len, MBEDTLS_ASN1_OID))
			return;
		oid = p;
		p += oid_len;
		(void)mbedtls_asn1_get_bool(&p, ext_end, &crit); /* optional */
		if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING))
			return;
		if (oid_len == MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER) &&
		    memcmp(oid, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER, oid_len) == 0) {
			if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) ==
				    0 &&
			    len > 0 && len <= sizeof(ca->key_id) && p + len == ext_end) {
				memcpy(ca->key_id, p, len);
				ca->key_id_len = len;
			}
			return;
		}
		p = ext_end;
	}
}

static int ca_check_key(mbedtls_pk_context *key, const char *name, char *err, size_t errlen)
{
	const mbedtls_ecp_curve_info *ci;
	const mbedtls_ecp_keypair *ec;

	if (mbedtls_pk_get_type(key) != MBEDTLS_PK_ECKEY) {
		snprintf(err, errlen,
			 "%s: the key is %s (%zu bits): only ECDSA P-256 keys are "
			 "supported",
			 name, mbedtls_pk_get_name(key), mbedtls_pk_get_bitlen(key));
		return -1;
	}
	ec = mbedtls_pk_ec(*key);
	if (ec == NULL) {
		snprintf(err, errlen, "%s: the key holds no EC key", name);
		return -1;
	}
	if (ec->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
		ci = mbedtls_ecp_curve_info_from_grp_id(ec->grp.id);
		snprintf(err, errlen,
			 "%s: the key is on curve %s: only ECDSA P-256 (secp256r1) keys are "
			 "supported",
			 name, ci ? ci->name : "unknown");
		return -1;
	}
	return 0;
}

static struct ca *ca_load_named(int crt_fd, int key_fd, const char *crt_name, const char *key_name,
				char *err, size_t errlen)
{
	unsigned char kbuf[CA_FILE_MAX + 1], cbuf[CA_FILE_MAX + 1];
	struct ca *ca = NULL;
	struct stat st;
	size_t clen, klen = 0;
	char what[4200];
	int ret, rc = -1;

	ca = calloc(1, sizeof(*ca));
	if (ca == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mbedtls_x509_crt_init(&ca->crt);
	mbedtls_pk_init(&ca->key);
	if (fstat(key_fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", key_name, strerror(errno));
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s: readable by group or others (mode %04o): chmod 600 %s before using "
			 "it",
			 key_name, (unsigned)(st.st_mode & 07777), key_name);
		goto out;
	}
	if (ca_read_fd(crt_fd, crt_name, cbuf, sizeof(cbuf), &clen, err, errlen) == -1 ||
	    ca_parse_crt(&ca->crt, cbuf, clen, crt_name, err, errlen) == -1 ||
	    ca_read_fd(key_fd, key_name, kbuf, sizeof(kbuf), &klen, err, errlen) == -1)
		goto out;
	ret = mbedtls_pk_parse_key(&ca->key, kbuf, kbuf[0] == 0x30 ? klen : klen + 1, NULL, 0);
	if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
		snprintf(err, errlen,
			 "%s: the key is encrypted; only unencrypted keys are supported", key_name);
		goto out;
	}
	if (ret != 0) {
		snprintf(what, sizeof(what), "%s: not a private key", key_name);
		ca_mbed_err(err, errlen, what, ret);
		goto out;
	}
	if (ca_check_key(&ca->key, key_name, err, errlen) == -1)
		goto out;
	if (mbedtls_pk_check_pair(&ca->crt.pk, &ca->key) != 0) {
		snprintf(err, errlen, "%s does not match %s (a key of another certificate)",
			 key_name, crt_name);
		goto out;
	}
	ca->not_before = ca_time_epoch(&ca->crt.valid_from);
	ca->not_after = ca_time_epoch(&ca->crt.valid_to);
	ca_find_key_id(ca);
	rc = 0;
out:
	mbedtls_platform_zeroize(kbuf, sizeof(kbuf));
	if (rc == -1) {
		ca_free(ca);
		ca = NULL;
	}
	return ca;
}

struct ca *ca_load_fds(int crt_fd, int key_fd, char *err, size_t errlen)
{
	return ca_load_named(crt_fd, key_fd, CA_CRT_FILE, CA_KEY_FILE, err, errlen);
}

static int ca_open_one(const char *dir, const char *name, int flags, char *path, size_t pathlen,
		       char *err, size_t errlen)
{
	int fd;

	if ((size_t)snprintf(path, pathlen, "%s/%s", dir, name) >= pathlen) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd == -1)
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (create a CA with `tlsgatectl ca init`)" : "");
	return fd;
}

int ca_open_files(const char *dir, int *crt_fd, int *key_fd, char *err, size_t errlen)
{
	char path[4096];

	*crt_fd = ca_open_one(dir, CA_CRT_FILE, 0, path, sizeof(path), err, errlen);
	if (*crt_fd == -1)
		return -1;
	*key_fd = ca_open_one(dir, CA_KEY_FILE, O_NOFOLLOW, path, sizeof(path), err, errlen);
	if (*key_fd == -1) {
		close(*crt_fd);
		*crt_fd = -1;
		return -1;
	}
	return 0;
}

struct ca *ca_load_dir(const char *dir, char *err, size_t errlen)
{
	char cpath[4096], kpath[4096];
	struct ca *ca;
	int cfd, kfd;

	if (ca_open_files(dir, &cfd, &kfd, err, errlen) == -1)
		return NULL;
	snprintf(cpath, sizeof(cpath), "%s/%s", dir, CA_CRT_FILE);
	snprintf(kpath, sizeof(kpath), "%s/%s", dir, CA_KEY_FILE);
	ca = ca_load_named(cfd, kfd, cpath, kpath, err, errlen);
	close(cfd);
	close(kfd);
	return ca;
}

void ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	mbedtls_pk_free(&ca->key); /* zeroizes the private value */
	mbedtls_x509_crt_free(&ca->crt);
	mbedtls_platform_zeroize(ca, sizeof(*ca));
	free(ca);
}

const mbedtls_x509_crt *ca_crt(const struct ca *ca)
{
	return &ca->crt;
}

mbedtls_pk_context *ca_key(struct ca *ca)
{
	return &ca->key;
}

int ca_mlock_key(struct ca *ca)
{
	const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(ca->key);
	const mbedtls_mpi *d = ec != NULL ? &ec->d : NULL;
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t lo, hi;

	if (d == NULL || d->p == NULL || d->n == 0 || page <= 0) {
		errno = EINVAL;
		return -1;
	}
	lo = (uintptr_t)d->p & ~((uintptr_t)page - 1);
	hi = (uintptr_t)(d->p + d->n);
	return mlock((const void *)lo, hi - lo);
}

void ca_validity(const struct ca *ca, int64_t *not_before, int64_t *not_after)
{
	*not_before = ca->not_before;
	*not_after = ca->not_after;
}

const uint8_t *ca_key_id(const struct ca *ca, size_t *len)
{
	*len = ca->key_id_len;
	return ca->key_id_len ? ca->key_id : NULL;
}

/* --- export and show ------------------------------------------------------------------------- */

/* Parse @dir/ca.crt alone (never opening the key). */
static int ca_read_crt(const char *dir, mbedtls_x509_crt *crt, char *err, size_t errlen)
{
	unsigned char buf[CA_FILE_MAX + 1];
	char path[4096];
	size_t len;
	int fd, rc;

	fd = ca_open_one(dir, CA_CRT_FILE, 0, path, sizeof(path), err, errlen);
	if (fd == -1)
		return -1;
	rc = ca_read_fd(fd, path, buf, sizeof(buf), &len, err, errlen) == -1 ||
			     ca_parse_crt(crt, buf, len, path, err, errlen) == -1
		     ? -1
		     : 0;
	close(fd);
	return rc;
}

int ca_export(const char *dir, bool der, FILE *out, char *err, size_t errlen)
{
	mbedtls_x509_crt crt;
	unsigned char pem[CA_FILE_MAX * 2];
	size_t olen = 0;
	int ret, rc = -1;

	mbedtls_x509_crt_init(&crt);
	if (ca_read_crt(dir, &crt, err, errlen) == -1)
		goto out;
	if (der) {
		if (fwrite(crt.raw.p, 1, crt.raw.len, out) != crt.raw.len)
			goto werr;
	} else {
		ret = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
					       "-----END CERTIFICATE-----\n", crt.raw.p,
					       crt.raw.len, pem, sizeof(pem), &olen);
		if (ret != 0) {
			ca_mbed_err(err, errlen, "PEM encoding", ret);
			goto out;
		}
		/* olen counts the terminating NUL. */
		if (fwrite(pem, 1, olen - 1, out) != olen - 1)
			goto werr;
	}
	if (fflush(out) != 0)
		goto werr;
	rc = 0;
	goto out;
werr:
	snprintf(err, errlen, "writing the certificate: %s", strerror(errno));
out:
	mbedtls_x509_crt_free(&crt);
	return rc;
}

static void ca_hex(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < len && o + 3 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, i ? ":%02X" : "%02X", p[i]);
}

int ca_show(const char *dir, FILE *out, bool json, char *err, size_t errlen)
{
	const mbedtls_x509_crt *crt;
	struct ca *ca;
	uint8_t fp[32];
	char subject[1024], serial[256], fph[100], nb[21], na[21], path[4096];
	bool expired;
	struct jw w;

	ca = ca_load_dir(dir, err, errlen);
	if (ca == NULL)
		return -1;
	crt = ca_crt(ca);
	if (mbedtls_x509_dn_gets(subject, sizeof(subject), &crt->subject) < 0)
		snprintf(subject, sizeof(subject), "?");
	ca_hex(crt->serial.p, crt->serial.len, serial, sizeof(serial));
	if (tg_sha256(crt->raw.p, crt->raw.len, fp) != 0)
		memset(fp, 0, sizeof(fp));
	ca_hex(fp, sizeof(fp), fph, sizeof(fph));
	ca_time_iso(ca->not_before, nb);
	ca_time_iso(ca->not_after, na);
	expired = (int64_t)time(NULL) > ca->not_after;
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CRT_FILE);
	if (json) {
		jw_init(&w, out);
		jw_obj_begin(&w);
		jw_kv_str(&w, "path", path);
		jw_kv_str(&w, "subject", subject);
		jw_kv_str(&w, "serial", serial);
		jw_kv_str(&w, "not_before", nb);
		jw_kv_str(&w, "not_after", na);
		jw_kv_bool(&w, "expired", expired);
		jw_kv_str(&w, "key_type", "ECDSA P-256");
		jw_kv_str(&w, "sha256", fph);
		jw_obj_end(&w);
		jw_line_end(&w);
	} else {
		fprintf(out,
			"path:        %s\n"
			"subject:     %s\n"
			"serial:      %s\n"
			"not before:  %s\n"
			"not after:   %s%s\n"
			"key:         ECDSA P-256, matches the certificate\n"
			"sha256:      %s\n",
			path, subject, serial, nb, na, expired ? " (expired)" : "", fph);
	}
	ca_free(ca);
	if (fflush(out) != 0) {
		snprintf(err, errlen, "writing: %s", strerror(errno));
		return -1;
	}
	return 0;
}
