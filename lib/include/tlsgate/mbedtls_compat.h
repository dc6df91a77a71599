/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mbedtls_compat.h - the one place that knows mbedTLS 2.28 (Debian 12) from 3.x (OpenWrt).
 * Everything else calls these wrappers.
 */
#ifndef TLSGATE_MBEDTLS_COMPAT_H
#define TLSGATE_MBEDTLS_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/version.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

/* SHA-256 of @len bytes at @p into @out. Returns 0 on success. */
static inline int tg_sha256(const uint8_t *p, size_t len, uint8_t out[static 32])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_sha256(p, len, out, 0);
#else
	return mbedtls_sha256_ret(p, len, out, 0);
#endif
}

/* SHA-1 of @len bytes at @p into @out (the Community ID; daemon only). Returns 0 on success. */
static inline int tg_sha1(const uint8_t *p, size_t len, uint8_t out[static 20])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_sha1(p, len, out);
#else
	return mbedtls_sha1_ret(p, len, out);
#endif
}

#endif
