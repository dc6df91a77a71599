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
 * tg_dns_strip_ech() - copy the DNS message @in (@len bytes) to @out without the ech parameters
 * of its class IN HTTPS and SVCB records, in the answer, authority and additional sections
 * alike, however many records the message has. The message is walked here, record by record,
 * independently of tg_dns_parse() and its caps (a message the parser refuses may still be
 * rewritten: a client's parser may be more lenient than ours).
 *
 * *@out_len gets the new length (@len minus the bytes removed); *@stripped the number of
 * parameters removed (0: @out is an exact copy). @out must hold @len bytes. Errors: TG_ERR_CAP
 * for a message longer than TG_CAP_DNS_MSG or with more than TG_CAP_DNS_ECH_CUTS ech
 * parameters; TG_ERR_DNS_RR for a layout the walk does not understand (cut short, a reserved
 * label type, an SvcParam running past its rdata, a pointer into a removed parameter). On
 * error *@out_len is 0 and nothing useful is in @out: the caller must not forward @in when it
 * promised to strip (the daemon drops it).
 */
enum tg_err tg_dns_strip_ech(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len,
			     unsigned *stripped) TG_WUR;

#endif
