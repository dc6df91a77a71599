/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns.h - DNS message parser (RFC 1035 section 4, RFC 9460 for SVCB/HTTPS, RFC 6891 for OPT).
 *
 * tg_dns_parse() validates a whole message - header, every question and every resource record
 * of the answer, authority and additional sections - and copies out what the gateway acts on:
 * the questions, the answers (A, AAAA, CNAME, SVCB and HTTPS decoded, other types as an rdata
 * view) and the EDNS OPT record. Anything malformed rejects the whole message: a filter must
 * never act on a message it only half understood.
 *
 * Decisions (each one tested in test/unit/test_dns.c):
 *  - Names are copied out as text: lowercase ASCII, labels joined by '.', no trailing dot, ""
 *    for the root, NUL-terminated. A label may hold any printable ASCII byte except '.'
 *    (0x21..0x7e: letters, digits, '-', '_', '*', ...); a '.', a space, a NUL, a control byte
 *    or a byte >= 0x80 inside a label makes the name TG_ERR_DNS_NAME. Escaping instead would
 *    make two wire names share one text form, which a filter must never see. The cost: DNS-SD
 *    instance names with spaces or UTF-8 (mostly multicast DNS, rare on port 53) are refused.
 *  - Name limits: labels of 1..63 octets (a length byte 0x40..0xbf, the reserved label types,
 *    is TG_ERR_DNS_NAME), at most 255 octets on the wire counting length bytes and the root
 *    (so at most 253 text characters), else TG_ERR_DNS_NAME.
 *  - Compression pointers (RFC 1035 4.1.4) must point strictly before the start of the run of
 *    labels that contains them (the start of the name, or the target of the previous pointer)
 *    and at or after offset 12 (never into the header). Targets therefore strictly decrease,
 *    so neither a loop nor a forward pointer is possible; besides, at most TG_CAP_DNS_PTR_HOPS
 *    pointers are followed per name. Any violation is TG_ERR_DNS_POINTER. Every name any
 *    encoder produces satisfies this: it can only point at a name it already wrote.
 *  - The SVCB/HTTPS TargetName must not be compressed (RFC 9460 2.2); a compressed one that
 *    decodes is accepted and flagged (target_compressed): a client that follows it would use
 *    the record, so a gateway stripping ECH must see it too.
 *  - TTLs with the top bit set are read as 0 (RFC 2181 8). OPT's TTL field is not a TTL and is
 *    reported in the edns_* fields instead.
 *  - A, AAAA, CNAME, SVCB and HTTPS rdata are decoded when the class is IN (1); other types
 *    and classes keep only the rdata view. Every record in every section is decoded and
 *    validated the same way, whether it is kept or not.
 *  - OPT (type 41) is only allowed in the additional section, once, with the root as owner;
 *    its options must frame the rdata exactly. Else TG_ERR_DNS_RR.
 *  - Counts that claim more records than the message holds give TG_ERR_TRUNCATED (as any cut
 *    message does); bytes left after the last counted record are TG_ERR_TRAILING. Messages
 *    longer than TG_CAP_DNS_MSG are TG_ERR_CAP.
 *  - SvcParams (RFC 9460 2.2, 7, 8): keys strictly increasing, key 65535 rejected; mandatory:
 *    non-empty list of strictly increasing keys, not containing 0, each present in the record;
 *    alpn: non-empty list of non-empty ids; no-default-alpn: empty; port: 2 octets; ipv4hint,
 *    ipv6hint: non-empty multiples of 4 / 16 octets; ech: an ECHConfigList whose 2-octet length
 *    prefix frames the value exactly and is >= 4. Unknown keys are skipped. More than
 *    TG_CAP_DNS_SVC_PARAMS params is TG_ERR_CAP. Any other violation is TG_ERR_DNS_SVCB. In
 *    AliasMode (priority 0) SvcParams are ignored, unparsed, as RFC 9460 2.4.2 tells clients.
 *
 * struct tg_dns_msg is large (about 52 KB: 64 answers of 800 bytes each, dominated by the
 * decoded names); callers keep one per thread or per parse context, not on small stacks.
 * All spans point into the caller's message buffer, which must outlive the result.
 */
#ifndef TLSGATE_DNS_H
#define TLSGATE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/cursor.h"
#include "tlsgate/err.h"

/* RR types and classes the parser knows by number. */
#define TG_DNS_TYPE_A	  1
#define TG_DNS_TYPE_CNAME 5
#define TG_DNS_TYPE_AAAA  28
#define TG_DNS_TYPE_OPT	  41
#define TG_DNS_TYPE_SVCB  64
#define TG_DNS_TYPE_HTTPS 65
#define TG_DNS_CLASS_IN	  1

/* SvcParamKeys (RFC 9460 14.3.2). */
#define TG_DNS_SVC_MANDATORY	   0
#define TG_DNS_SVC_ALPN		   1
#define TG_DNS_SVC_NO_DEFAULT_ALPN 2
#define TG_DNS_SVC_PORT		   3
#define TG_DNS_SVC_IPV4HINT	   4
#define TG_DNS_SVC_ECH		   5
#define TG_DNS_SVC_IPV6HINT	   6

/* A decoded name: lowercase, no trailing dot, "" for the root; text is NUL-terminated. */
struct tg_dns_name {
	char text[TG_CAP_NAME_LEN + 1];
	uint8_t len;
};

/* SVCB / HTTPS rdata (RFC 9460 2.2). Absent parameters read as empty spans / false / 0. */
struct tg_dns_svcb {
	uint16_t priority; /* 0 = AliasMode: the params below are not parsed */
	struct tg_dns_name target;
	bool target_compressed; /* against RFC 9460 2.2, accepted (see above) */
	size_t n_params; /* SvcParams in the record, known or not */
	struct tg_span mandatory; /* n * 2 octets, validated */
	/* alpn ids in wire order, the first TG_CAP_DNS_ALPN; the rest validated and counted. */
	struct tg_span alpn[TG_CAP_DNS_ALPN];
	size_t n_alpn;
	size_t alpn_skipped;
	bool no_default_alpn;
	bool has_port;
	uint16_t port;
	struct tg_span ipv4hint; /* n * 4 octets, network order */
	struct tg_span ipv6hint; /* n * 16 octets */
	bool has_ech;
	/* The SvcParamValue: an ECHConfigList including its 2-octet length prefix. */
	struct tg_span ech;
	/*
	 * Offset in the message of the ech SvcParamKey; the param occupies 4 + ech.len octets
	 * from there. Removing it also means lowering rdlength by as much and moving every
	 * compression pointer in the message that targets an offset after it, including
	 * pointers inside rdata of types this parser does not decode (NS, SOA, MX, ...).
	 */
	size_t ech_param_off;
};

struct tg_dns_rr {
	struct tg_dns_name name;
	uint16_t type, class;
	uint32_t ttl; /* top bit set reads as 0 (RFC 2181 8) */
	struct tg_span rdata;
	size_t rr_off, rdata_off; /* offsets in the message of the owner name and of the rdata */
	union {
		uint8_t a[4];
		uint8_t aaaa[16];
		struct tg_dns_name cname;
		struct tg_dns_svcb svcb;
	} u; /* decoded for class IN and the types above; zeroed otherwise */
};

struct tg_dns_question {
	struct tg_dns_name name;
	uint16_t qtype, qclass;
};

/*
 * The parse result. Scalars come first so a parse resets them in one go; q[] and an[] are
 * filled up to n_q / n_an and hold stale data beyond.
 */
struct tg_dns_msg {
	uint16_t id, flags; /* flags: the whole second header word */
	bool qr;
	uint8_t opcode, rcode; /* rcode: the header's 4 bits (see edns_rcode_hi) */
	uint16_t qdcount, ancount, nscount, arcount;
	size_t n_q;
	size_t q_skipped; /* questions beyond the cap: counted, still validated */
	size_t n_an;
	size_t an_skipped; /* answers beyond the cap: counted, still validated */
	/* EDNS (RFC 6891 6.1.3), from the OPT record in the additional section. */
	bool has_edns;
	uint16_t edns_udp_size;
	uint8_t edns_rcode_hi; /* upper 8 bits of the 12-bit extended RCODE */
	uint8_t edns_version;
	bool edns_do; /* DNSSEC OK */
	struct tg_span edns_options;
	size_t edns_off; /* offset of the OPT record */
	struct tg_dns_question q[TG_CAP_DNS_QUESTIONS];
	struct tg_dns_rr an[TG_CAP_DNS_ANSWERS];
};

/*
 * tg_dns_parse() - parse and validate the DNS message @msg of @len bytes (a UDP payload, or one
 * message unframed by tg_dns_tcp_frame()).
 *
 * Returns TG_OK with *@out filled, or an error: TG_ERR_TRUNCATED (message cut short, or counts
 * larger than the message), TG_ERR_TRAILING, TG_ERR_CAP, TG_ERR_DNS_NAME, TG_ERR_DNS_POINTER,
 * TG_ERR_DNS_RR, TG_ERR_DNS_SVCB. A datagram is complete, so there is no TG_NEED_MORE. On error
 * *@out holds what was parsed before the error and must not be used. Spans in *@out point into
 * @msg, owned by the caller.
 */
enum tg_err tg_dns_parse(struct tg_dns_msg *out, const uint8_t *msg, size_t len) TG_WUR;

/*
 * tg_dns_tcp_frame() - DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): a 2-octet length,
 * then the message. Looks at the @len stream bytes at @p.
 *
 * Returns TG_OK with the first complete message in *@msg (a view into @p) and the bytes it
 * occupies with its prefix in *@used; TG_NEED_MORE when the prefix or the message is not all
 * there yet; TG_ERR_ZERO_LENGTH for a zero length, TG_ERR_DNS_HEADER for a length below the
 * 12-octet header. The message itself is not parsed.
 */
enum tg_err tg_dns_tcp_frame(const uint8_t *p, size_t len, struct tg_span *msg,
			     size_t *used) TG_WUR;

/* An address the answer section gives for the question name (tg_dns_answer_addrs()). */
struct tg_dns_addr {
	uint8_t family; /* 4 (A) or 6 (AAAA) */
	uint8_t addr[16]; /* the first 4 octets for family 4, the rest zero */
	uint32_t ttl; /* the smallest TTL on the way: every CNAME followed, then the record */
};

/*
 * tg_dns_answer_addrs() - what @m, a parsed response, says its question name resolves to: the
 * class IN A and AAAA records of the answer section whose owner is the question name or a name
 * reached from it through class IN CNAME records of the answer section. The chain follows at
 * most TG_CAP_DNS_CNAME_CHAIN CNAMEs; a CNAME back to a name already on it ends it (a loop
 * teaches nothing more); an owner with several CNAMEs (RFC 2181 10.1 allows one) counts its
 * first. Records of any other owner (a resolver's extras, glue, a spoofer's additions) are not
 * given. Names compare as the parser decoded them (lowercase), so case never matters.
 *
 * Only a message with exactly one question gives anything, and only its first n_an answers
 * (TG_CAP_DNS_ANSWERS) are looked at. Writes at most @cap entries to @out, in answer order, and
 * returns how many. Nothing in @out points into @m.
 */
size_t tg_dns_answer_addrs(const struct tg_dns_msg *m, struct tg_dns_addr *out, size_t cap);

/* tg_dns_type_name() - mnemonic of an RR type ("A", "AAAA", "HTTPS", ...) or NULL if unknown. */
const char *tg_dns_type_name(uint16_t type);

#endif
