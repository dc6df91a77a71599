/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ca.h - the gateway's CA: a directory with ca.crt (PEM, 0644) and ca.key (PEM, 0600, ECDSA
 * P-256). `tlsgatectl ca init` creates it; the CA process (ca_proc.c) is the only process of the
 * running gateway that loads the key, from file descriptors the daemon opened for it. The key
 * is never printed, logged or exported; buffers that held it are zeroized.
 */
#ifndef TLSGATE_CA_H
#define TLSGATE_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#define CA_DIR_DEFAULT "/var/lib/tlsgate/ca" /* tlsgated's --ca-dir default */
#define CA_CRT_FILE    "ca.crt"
#define CA_KEY_FILE    "ca.key"

struct ca;

/*
 * ca_init() - create a CA in @dir (made 0700 when missing, missing parents 0755): a new ECDSA
 * P-256 key and a self-signed certificate (CA:true pathlen 0 and keyCertSign|cRLSign, both
 * critical; subject and authority key identifiers; a random positive 128-bit serial) with
 * subject "CN=@cn, O=tlsgate" (@cn NULL: "tlsgate CA <hostname>"), valid from an hour ago for
 * @days days (0: CA_DAYS_DEFAULT, ten years: a CA is installed on every client once). Refuses
 * when ca.key or ca.crt exists, naming it. Both files appear whole or not at all (written to
 * temporary files created 0600, fsynced, then linked into place, which never replaces a file).
 * Returns 0, or -1 with a message in @err.
 */
int ca_init(const char *dir, const char *cn, unsigned days, char *err, size_t errlen);

/*
 * ca_load_fds() - read and check a CA from open files: the certificate must be a CA
 * (basicConstraints CA:true; keyCertSign when keyUsage is present), the key an unencrypted EC
 * P-256 key matching it, the key file not readable by group or others. The fds stay the
 * caller's. Returns the CA (free with ca_free), or NULL with a message in @err.
 */
struct ca *ca_load_fds(int crt_fd, int key_fd, char *err, size_t errlen);

/* ca_load_dir() - ca_open_files() then ca_load_fds(), the messages naming the files. */
struct ca *ca_load_dir(const char *dir, char *err, size_t errlen);

/*
 * ca_open_files() - open @dir/ca.crt and @dir/ca.key for reading (O_CLOEXEC; the key without
 * following a symlink). Returns 0 with both fds the caller's, or -1 with none open.
 */
int ca_open_files(const char *dir, int *crt_fd, int *key_fd, char *err, size_t errlen);

/* ca_free() - zeroize and free @ca (NULL is fine). */
void ca_free(struct ca *ca);

/* The CA's parsed certificate and its key (the signer's: never hand it anywhere else). */
const mbedtls_x509_crt *ca_crt(const struct ca *ca);
mbedtls_pk_context *ca_key(struct ca *ca);

/*
 * ca_mlock_key() - keep the pages of the private value out of swap (mlock). Returns 0, or -1
 * with errno (RLIMIT_MEMLOCK, no CAP_IPC_LOCK): the caller may go on without.
 */
int ca_mlock_key(struct ca *ca);

/* The CA certificate's validity in seconds since the epoch. */
void ca_validity(const struct ca *ca, int64_t *not_before, int64_t *not_after);

/*
 * ca_key_id() - the CA certificate's subjectKeyIdentifier (what a leaf's authorityKeyIdentifier
 * repeats); NULL with *len 0 when it has none.
 */
const uint8_t *ca_key_id(const struct ca *ca, size_t *len);

/* ca_time_epoch() - an X.509 time (UTC) as seconds since the epoch. */
int64_t ca_time_epoch(const mbedtls_x509_time *t);

/* The times a certificate written here may carry: 1950-01-01 .. 9999-12-31T23:59:59Z. */
#define CA_TIME_MIN (-631152000LL)
#define CA_TIME_MAX 253402300799LL

/*
 * ca_time_x509() - @t as mbedTLS's "YYYYMMDDhhmmss" (UTC) into @out (NUL-terminated). Returns 0,
 * or -1 when @t is outside CA_TIME_MIN..CA_TIME_MAX.
 */
int ca_time_x509(int64_t t, char out[static 15]);

/*
 * ca_mbed_err() - "@what: mbedTLS's text for @ret (-0xNNNN)" into @err (@ret a negative mbedTLS
 * error code), the form of every mbedTLS failure the CA's files and the mint report.
 */
void ca_mbed_err(char *err, size_t errlen, const char *what, int ret);

/*
 * ca_drbg_seed() - initialize and seed @drbg from getrandom(2), personalized with @pers.
 * Returns 0 or an mbedTLS error; free with mbedtls_ctr_drbg_free() either way.
 */
int ca_drbg_seed(mbedtls_ctr_drbg_context *drbg, const char *pers);

/*
 * ca_serial_random() - a random certificate serial into @serial (initialized by the caller):
 * 16 bytes, the top bit clear (positive) and the next set (always 16 bytes long). Returns 0 or
 * an mbedTLS error.
 */
int ca_serial_random(mbedtls_ctr_drbg_context *drbg, mbedtls_mpi *serial);

/*
 * ca_export() - write @dir/ca.crt to @out as PEM, or DER when @der, for installing on clients.
 * Reads only the certificate, never the key. Returns 0, or -1 with a message in @err.
 */
int ca_export(const char *dir, bool der, FILE *out, char *err, size_t errlen);

/*
 * ca_show() - load the CA of @dir (every check of ca_load_fds) and print its path, subject,
 * serial, validity, key type and SHA-256 fingerprint of the DER, as text or as one JSON line.
 * Returns 0, or -1 with a message in @err.
 */
int ca_show(const char *dir, FILE *out, bool json, char *err, size_t errlen);

#endif
