/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns_ech.h - remove the `ech` SvcParam (RFC 9460 7, key 5) from the HTTPS and SVCB records of
 * a DNS response, so clients behind a gateway that must read the SNI do not use Encrypted
 * Client Hello (DESIGN.md: "strip the ech parameter from DNS HTTPS records").
 *
 * The record stays, with its other parameters (alpn, port, hints); its RDLENGTH shrinks, and
 * every compression pointer that points past a removed parameter is moved back by the bytes
 * removed before its target, so the rewritten message decodes to the same names.
 */
#ifndef TLSGATE_DNS_ECH_H
#define TLSGATE_DNS_ECH_H

#include <stddef.h>
#include <stdint.h>

#include "tlsgate/dns.h"
#include "tlsgate/err.h"

/*
 * tg_dns_strip_ech() - copy the DNS message @in (@len bytes, already parsed into @m by
 * tg_dns_parse) to @out without its ech parameters. *@out_len gets the new length (@len minus
 * the bytes removed); *@stripped the number of parameters removed (0: @out is an exact copy).
 * @out must hold @len bytes. Errors: TG_ERR_CAP when records beyond the parser's answer cap
 * (m->an_skipped) could carry ech we cannot see, TG_ERR_DNS_RR for a record layout the pointer
 * walk does not understand; in both cases nothing useful is in @out and the caller decides
 * (the daemon counts it and lets the answer through unmodified, or drops it, per policy).
 */
enum tg_err tg_dns_strip_ech(const struct tg_dns_msg *m, const uint8_t *in, size_t len,
			     uint8_t *out, size_t *out_len, unsigned *stripped) TG_WUR;

#endif
