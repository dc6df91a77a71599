/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ca_init.c - `tlsgatectl ca init`: a new CA directory (the contract is ca_init() in ca.h).
 *
 *   DIR/        made 0700 when missing (missing parents 0755)
 *   DIR/ca.key  PEM EC private key (RFC 5915), P-256, unencrypted, 0600
 *   DIR/ca.crt  PEM certificate, self-signed, CA:true pathlen 0, 0644
 *
 * Each file is written to a temporary file created 0600 in DIR, fsynced, then linked into
 * place: link() never replaces a file, so an existing CA is never overwritten and a crash
 * leaves the whole file or none. The key's PEM buffer is zeroized.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "ca.h"
#include "caps.h"

/* A CN goes into mbedTLS's "CN=...,O=..." string: no character that string treats specially. */
static bool ca_init_cn_char_ok(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && strchr(",+=\\\"<>;#", c) == NULL;
}

static int ca_init_cn_check(const char *cn, char *err, size_t errlen)
{
	size_t i, n = strlen(cn);

	if (n == 0 || n > CA_CN_MAX) {
		snprintf(err, errlen, "CA name: expected 1..%d characters, got %zu", CA_CN_MAX, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!ca_init_cn_char_ok((unsigned char)cn[i])) {
			snprintf(err, errlen,
				 "CA name: character 0x%02x at offset %zu not allowed (printable "
				 "ASCII without , + = \\ \" < > ; #)",
				 (unsigned char)cn[i], i);
			return -1;
		}
	return 0;
}

static void ca_init_default_cn(char *out, size_t outlen)
{
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (!ca_init_cn_char_ok((unsigned char)host[i]))
			host[i] = '-';
	snprintf(out, outlen, "tlsgate CA %.*s", CA_CN_MAX - 11, host[0] ? host : "gateway");
}

/*
 * Write @len bytes to a new temporary file in @dir (created 0600 by mkostemp, O_EXCL), set
 * @mode, fsync. The temporary path goes to @tmp. Returns 0 or -1.
 */
static int ca_init_write_tmp(const char *dir, const char *name, const void *p, size_t len,
			     mode_t mode, char *tmp, size_t tmplen, char *err, size_t errlen)
{
	const unsigned char *b = p;
	int fd;

	if ((size_t)snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dir, name) >= tmplen) {
		snprintf(err, errlen, "%s: path too long", dir);
		tmp[0] = '\0';
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		tmp[0] = '\0';
		return -1;
	}
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, b, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		b += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* Fail when @dir/@name exists (or cannot be checked), naming it. */
static int ca_init_refuse(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) == 0) {
		snprintf(err, errlen, "%s exists: refusing to overwrite it (move it away first)",
			 path);
		return -1;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Link @tmp to @dir/@name, which must not exist; the path goes to @path. */
static int ca_init_link(const char *tmp, const char *dir, const char *name, char *path,
			size_t pathlen, char *err, size_t errlen)
{
	snprintf(path, pathlen, "%s/%s", dir, name);
	if (link(tmp, path) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		 errno == EEXIST ? ": refusing to overwrite it" : "");
	path[0] = '\0';
	return -1;
}

/* Make @dir 0700, and its missing parents 0755 (as `mkdir -p`); an existing @dir is fine. */
static int ca_init_mkdir(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	size_t i, len = strlen(dir);

	if (len == 0 || len >= sizeof(path)) {
		snprintf(err, errlen, "%s: empty or too long a path", dir);
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (i = 1; i < len; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
			return -1;
		}
		path[i] = '/';
	}
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a directory", dir);
		return -1;
	}
	return 0;
}

/* The self-signed certificate of @key as PEM into @pem. Returns 0 or an mbedTLS error. */
static int ca_init_crt(mbedtls_pk_context *key, const char *cn, unsigned days,
		       mbedtls_ctr_drbg_context *drbg, unsigned char *pem, size_t cap)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	char subject[CA_CN_MAX + 16], nb[15], na[15];
	int64_t now = (int64_t)time(NULL);
	int ret;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	snprintf(subject, sizeof(subject), "CN=%s,O=tlsgate", cn);
	if (ca_time_x509(now - 3600, nb) == -1 ||
	    ca_time_x509(now + (int64_t)days * 86400, na) == -1) {
		ret = MBEDTLS_ERR_X509_BAD_INPUT_DATA;
		goto out;
	}
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, key);
	mbedtls_x509write_crt_set_issuer_key(&w, key);
	if ((ret = ca_serial_random(drbg, &serial)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_serial(&w, &serial)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_name(&w, subject)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_issuer_name(&w, subject)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_validity(&w, nb, na)) != 0 ||
	    /* CA:true with pathlen 0: it signs leaves only; mbedTLS marks a CA's critical. */
	    (ret = mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_key_usage(
		     &w, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0)
		goto out;
	ret = mbedtls_x509write_crt_pem(&w, pem, cap, mbedtls_ctr_drbg_random, drbg);
out:
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return ret;
}

int ca_init(const char *dir, const char *cn, unsigned days, char *err, size_t errlen)
{
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_context key;
	unsigned char keypem[1024], crtpem[4096];
	char name[CA_CN_MAX + 1], ktmp[4096] = "", ctmp[4096] = "", kpath[4096] = "";
	char cpath[4096];
	int ret, rc = -1;

	mbedtls_pk_init(&key);
	mbedtls_ctr_drbg_init(&drbg);
	if (days == 0)
		days = CA_DAYS_DEFAULT;
	if (days > CA_DAYS_MAX) {
		snprintf(err, errlen, "validity: expected 1..%d days, got %u", CA_DAYS_MAX, days);
		goto out;
	}
	if (cn == NULL) {
		ca_init_default_cn(name, sizeof(name));
		cn = name;
	}
	if (ca_init_cn_check(cn, err, errlen) == -1 || ca_init_mkdir(dir, err, errlen) == -1 ||
	    ca_init_refuse(dir, CA_KEY_FILE, err, errlen) == -1 ||
	    ca_init_refuse(dir, CA_CRT_FILE, err, errlen) == -1)
		goto out;
	if ((ret = ca_drbg_seed(&drbg, "tlsgate ca_init")) != 0) {
		ca_mbed_err(err, errlen, "seeding the random generator", ret);
		goto out;
	}
	if ((ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
	    (ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
				       mbedtls_ctr_drbg_random, &drbg)) != 0) {
		ca_mbed_err(err, errlen, "generating the CA key", ret);
		goto out;
	}
	if ((ret = mbedtls_pk_write_key_pem(&key, keypem, sizeof(keypem))) != 0) {
		ca_mbed_err(err, errlen, "encoding the CA key", ret);
		goto out;
	}
	if ((ret = ca_init_crt(&key, cn, days, &drbg, crtpem, sizeof(crtpem))) != 0) {
		ca_mbed_err(err, errlen, "making the CA certificate", ret);
		goto out;
	}
	if (ca_init_write_tmp(dir, CA_KEY_FILE, keypem, strlen((char *)keypem), 0600, ktmp,
			      sizeof(ktmp), err, errlen) == -1 ||
	    ca_init_write_tmp(dir, CA_CRT_FILE, crtpem, strlen((char *)crtpem), 0644, ctmp,
			      sizeof(ctmp), err, errlen) == -1)
		goto out;
	/* link() never replaces: a file that appeared since the check above wins. */
	if (ca_init_link(ktmp, dir, CA_KEY_FILE, kpath, sizeof(kpath), err, errlen) == -1)
		goto out;
	if (ca_init_link(ctmp, dir, CA_CRT_FILE, cpath, sizeof(cpath), err, errlen) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1 && kpath[0] != '\0')
		unlink(kpath);
	if (ktmp[0] != '\0')
		unlink(ktmp);
	if (ctmp[0] != '\0')
		unlink(ctmp);
	if (rc == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd != -1) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	mbedtls_platform_zeroize(keypem, sizeof(keypem));
	mbedtls_pk_free(&key);
	mbedtls_ctr_drbg_free(&drbg);
	return rc;
}
