/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * caps.h - every cap on something that grows, in one place (STYLE.md rule 5).
 *
 * Hitting a cap is a counted, tested outcome (TG_ERR_CAP or a documented truncation), never
 * undefined behaviour. Modules add their caps here, grouped by module, with the reason.
 */
#ifndef TLSGATE_CAPS_H
#define TLSGATE_CAPS_H

/* Domain names (RFC 1035 2.3.4: 255 octets on the wire = 253 characters in text form). */
#define TG_CAP_NAME_LEN	 253
#define TG_CAP_LABEL_LEN 63

/*
 * Domain sets and CIDR sets (category databases, content packages, policy lists). 16 Mi domain
 * patterns is ~230 MB built; 4 Mi prefixes is far beyond a full BGP table (~1.2 M routes).
 */
#define TG_CAP_DSET_ENTRIES (1u << 24)
#define TG_CAP_CIDR_ENTRIES (1u << 22)

/* Packets: IPv6 extension headers walked before giving up. */
#define TG_CAP_IP6_EXT_HDRS 8
/* Option kinds kept per TCP header: 40 option bytes (RFC 9293 3.1) hold at most 40 kinds. */
#define TG_CAP_TCP_OPTS 40
/* 802.1Q tags in one Ethernet frame: a customer tag plus one 802.1ad service tag (QinQ). */
#define TG_CAP_VLAN_TAGS 2

/*
 * Reassembly of the first bytes of a TCP stream. A post-quantum ClientHello is ~1.8 KB; the
 * biggest seen in the wild (many key shares, padding, pre-shared keys) stay under 8 KB.
 */
#define TG_CAP_REASM_BYTES 16384
/*
 * Disjoint byte ranges held at once (holes from reordering). Segments are not counted: a client
 * may send its ClientHello in 1-byte segments, and in-order segments merge into one range.
 */
#define TG_CAP_REASM_RANGES 64

/* TLS ClientHello: total handshake message size and per-list caps. */
#define TG_CAP_CH_BYTES	     16384
#define TG_CAP_CH_CIPHERS    256
#define TG_CAP_CH_EXTENSIONS 128
#define TG_CAP_CH_ALPN	     32
#define TG_CAP_CH_SIGALGS    128
#define TG_CAP_CH_VERSIONS   32
#define TG_CAP_CH_GROUPS     64
/*
 * Stream bytes (record headers included) the ClientHello parser waits for: as many as the
 * reassembly holds, so a consistent prefix can hold a flow for at most that many bytes. A
 * ClientHello cut into 1-byte records costs 6 stream bytes per message byte: up to ~2.7 KB of
 * message parse that way, more than a post-quantum ClientHello.
 */
#define TG_CAP_CH_STREAM TG_CAP_REASM_BYTES

/*
 * JA4 memo (ja4.h): recent fingerprint parts and their SHA-256, so a client stack seen again
 * costs no hashing. A part of more values (ciphers; extensions + signature algorithms) than
 * the cap is hashed every time; real clients send 15-60 ciphers, 10-20 extensions.
 */
#define TG_CAP_JA4_MEMO_SLOTS  64
#define TG_CAP_JA4_MEMO_VALUES 128

/* DNS: RFC 1035 message caps; a query carries one question in practice. */
#define TG_CAP_DNS_MSG	      65535
#define TG_CAP_DNS_QUESTIONS  4
#define TG_CAP_DNS_ANSWERS    64
#define TG_CAP_DNS_PTR_HOPS   64
#define TG_CAP_DNS_SVC_PARAMS 32
#define TG_CAP_DNS_ALPN	      8
/*
 * CNAME records followed from the question name to the owner of an address record
 * (tg_dns_answer_addrs): resolvers give up on longer chains too (BIND and Unbound stop at 16
 * and 11 restarts); a longer chain teaches nothing beyond the cap.
 */
#define TG_CAP_DNS_CNAME_CHAIN 16
/*
 * ech parameters removed from one message (tg_dns_strip_ech). A record with one is at least 25
 * octets, so a 64 KiB message could hold ~2600; real answers have one or two. More is
 * TG_ERR_CAP, and the daemon drops the answer rather than forward an ech it could not remove.
 */
#define TG_CAP_DNS_ECH_CUTS 256

/* HTTP/1.x request head. */
#define TG_CAP_HTTP_HEAD      8192
#define TG_CAP_HTTP_TARGET    4096
#define TG_CAP_HTTP_HEADERS   100
#define TG_CAP_HTTP_BODY_SKIP (1u << 30) /* body skipped to find a kept flow's next request */

/*
 * Identity: a user name as the identity sources give it (user, DOMAIN\user, user@realm). Longer
 * names are refused (TG_ERR_CAP) and the caller falls back to the client address.
 */
#define TG_CAP_USER_NAME 128

/* Single-writer tables (seqtab): records per table and key+value words per record. */
#define TG_CAP_SEQTAB_RECORDS (1u << 24)
#define TG_CAP_SEQTAB_WORDS   64

/*
 * Dynamic bypass (bypass.h): the largest total_max a policy may ask for. Memory is about
 * 1.6 KB per allowed entry (live entries and candidates are each bounded by total_max,
 * principals by twice that), so the cap keeps a mistyped policy from asking for gigabytes.
 */
#define TG_CAP_BYPASS_ENTRIES  262144
#define TG_CAP_BYPASS_FAILURES 16 /* rejections a candidate remembers */
#define TG_CAP_BYPASS_CA_HOSTS 64 /* distinct hosts tracked per principal for ca_missing */

/* Unsupported-upstream exclusions (upstream.h): servers remembered at most. */
#define TG_CAP_UPSTREAM_EXCL 65536

/* Passive OS hint: TCP option kinds kept from a SYN (40 option bytes hold at most 40 kinds). */
#define TG_CAP_TCP_OPT_KINDS 40

/*
 * Policy and content package (policy_load.c, content_load.c, policy.c, catdb.c). A policy is
 * an admin-written file: 16 MiB holds ~500k domain patterns. Depth: the format nests 6 levels
 * at most.
 */
#define TG_CAP_POLICY_BYTES   (16u << 20)
#define TG_CAP_CONTENT_BYTES  (32u << 20) /* one content JSON file */
#define TG_CAP_CATDB_BYTES    (1024u << 20) /* categories.tsv: 5M domains is ~150 MiB */
#define TG_CAP_JSON_DEPTH     16
#define TG_CAP_RULES	      1024 /* per rule list (filtering, decryption, casb, dlp) */
#define TG_CAP_POLICY_LIST    65536 /* items in one JSON list (patterns, addresses, ...) */
#define TG_CAP_POLICY_NAME    64 /* bytes in a user, group, app or rule name */
#define TG_CAP_USERS	      65536
#define TG_CAP_GROUPS	      256 /* a flow's groups are a 256-bit set */
#define TG_CAP_APPS	      4096 /* content and admin applications together */
#define TG_CAP_BINDINGS	      262144 /* addresses and MACs bound to users, groups, endpoints */
#define TG_CAP_CATEGORIES     128 /* a domain's categories are a 128-bit set */
#define TG_CAP_PORTS	      64
#define TG_CAP_DIAG_MSGS      32 /* diagnostics kept per load; more are counted */
#define TG_CAP_DIAG_TEXT      320
#define TG_CAP_DLP_DETECTORS  16
#define TG_CAP_DLP_KEYWORDS   256
#define TG_CAP_DLP_PATTERN    1024 /* bytes in a DLP regular expression or keyword */
#define TG_CAP_DLP_SCAN_BYTES (64u << 20)
#define TG_CAP_JA4_LEN	      36

#endif
