/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.h - the compiled, immutable policy (format v1, policy/README.md) and its loader.
 *
 * A policy is built once from the administrator's JSON (tg_policy_load, lib/policy_load.c and
 * the lib/load_*.c files: with content_load.c, the only ones that touch cJSON), against a loaded
 * content package (content.h), validated and compiled into indexes: domain sets for names, CIDR
 * sets for networks, sorted tables for MACs and identities. It is never modified afterwards:
 * the daemon swaps a new one in whole and frees the old one whole (STYLE.md rule 12). Any number
 * of threads may read one policy at once.
 *
 * Errors and warnings are written to a caller-provided struct tg_diag (diag.h) as
 * "PATH: MESSAGE" lines, PATH being the JSON path from the top ("decryption[3].match.apps[1]").
 * The library prints nothing; the caller shows them.
 */
#ifndef TLSGATE_POLICY_H
#define TLSGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/diag.h"
#include "tlsgate/err.h"

struct tg_content;
struct tg_policy;

/* --- settings ------------------------------------------------------------------------------- */

enum tg_action {
	TG_ACTION_PASS,
	TG_ACTION_DECRYPT,
	TG_ACTION_BLOCK,
};

enum tg_ech_mode {
	TG_ECH_STRIP,
	TG_ECH_BLOCK,
	TG_ECH_ALLOW,
};

enum tg_quic_mode {
	TG_QUIC_BLOCK,
	TG_QUIC_ALLOW,
};

enum tg_m365_mode {
	TG_M365_MICROSOFT,
	TG_M365_INSPECT,
	TG_M365_OFF,
};

enum tg_dns_answer {
	TG_DNS_NXDOMAIN,
	TG_DNS_SINKHOLE,
};

/* Failure classes of settings.fail (policy/README.md); each is TG_ACTION_PASS or _BLOCK. */
enum tg_fail_class {
	TG_FAIL_QUEUE_FULL,
	TG_FAIL_UNPARSABLE_CH,
	TG_FAIL_INCOMPLETE_CH,
	TG_FAIL_ADOPTION,
	TG_FAIL_UPSTREAM_UNTRUSTED,
	TG_FAIL_UPSTREAM_UNSUPPORTED,
	TG_FAIL_CERT_MINT,
	TG_FAIL_REASM_CONFLICT, /* a retransmission that differs from bytes already seen */
	TG_FAIL_REASM_WINDOW, /* first bytes beyond the reassembly window */
	TG_FAIL_MALFORMED, /* a queued packet the dissector cannot parse */
	TG_FAIL_TFO, /* data in a SYN (TCP Fast Open) to an inspected port */
	TG_FAIL_MIDSTREAM, /* data of a flow whose handshake the daemon did not see */
	TG_FAIL_NON_TLS, /* neither TLS nor HTTP on an inspected port */
	TG_FAIL_INVALID_NAME, /* a SNI, Host or DNS name that is not a valid domain name */
	TG_FAIL_UNPARSABLE_DNS, /* a DNS query that does not parse */
	TG_FAIL__COUNT,
};

/* Every setting with its default filled in; see policy/README.md for meanings and ranges. */
struct tg_policy_settings {
	bool default_decrypt;
	bool implicit_bypass;
	struct {
		bool enabled;
		uint32_t failures;
		uint32_t window_s;
		uint32_t ttl_s;
		uint32_t per_user_max;
		uint32_t total_max;
		uint32_t ca_missing_hosts;
		uint32_t ca_missing_window_s;
		uint32_t ca_missing_ttl_s;
		enum tg_action ca_missing_action;
	} dynamic_bypass;
	uint32_t upstream_excl_ttl_s; /* 0: exclusions disabled */
	enum tg_ech_mode ech;
	enum tg_quic_mode quic;
	enum tg_m365_mode m365;
	enum tg_action fail[TG_FAIL__COUNT];
	uint16_t inspected_ports[TG_CAP_PORTS];
	size_t n_inspected_ports;
	uint16_t http_ports[TG_CAP_PORTS];
	size_t n_http_ports;
	uint16_t dns_ports[TG_CAP_PORTS]; /* UDP and TCP */
	size_t n_dns_ports;
	uint16_t quic_ports[TG_CAP_PORTS]; /* UDP */
	size_t n_quic_ports;
	enum tg_dns_answer dns_answer;
	uint8_t sinkhole_ipv4[4];
	uint8_t sinkhole_ipv6[16];
	bool os_hint;
	uint8_t os_hint_min_confidence;
};

/* --- loading -------------------------------------------------------------------------------- */

/*
 * tg_policy_load() - parse, validate and compile the policy JSON @json (@len bytes, need not be
 * NUL-terminated) against @content (which must outlive the policy; NULL loads against an empty
 * content package). @key is 16 random bytes for the keyed hashes of the policy's indexes.
 * Errors and lint warnings go to @diag (tg_diag_init'ed by the caller).
 * Returns TG_OK and the new policy in *@out (the caller owns it: tg_policy_free), or:
 * TG_ERR_CAP (larger than TG_CAP_POLICY_BYTES or nested deeper than TG_CAP_JSON_DEPTH),
 * TG_ERR_JSON (not JSON), TG_ERR_POLICY (JSON but not a valid policy), TG_ERR_NOMEM; then *@out
 * is NULL and @diag says why with the exact path.
 */
enum tg_err tg_policy_load(const uint8_t *json, size_t len, const struct tg_content *content,
			   const uint8_t key[static 16], struct tg_diag *diag,
			   struct tg_policy **out) TG_WUR;

/* tg_policy_free() - free @p and everything it owns; NULL is a no-op. */
void tg_policy_free(struct tg_policy *p);

/* --- reading -------------------------------------------------------------------------------- */

enum tg_rule_list {
	TG_RULES_NONE,
	TG_RULES_FILTERING,
	TG_RULES_DECRYPTION,
	TG_RULES_CASB,
	TG_RULES_DLP,
};

const struct tg_policy_settings *tg_policy_settings(const struct tg_policy *p);

/* The content package @p was compiled against. */
const struct tg_content *tg_policy_content(const struct tg_policy *p);

size_t tg_policy_rule_count(const struct tg_policy *p, enum tg_rule_list list);

/* Name of rule @idx of @list, NULL if out of range. Valid as long as @p. */
const char *tg_policy_rule_name(const struct tg_policy *p, enum tg_rule_list list, size_t idx);

/* Users and groups by index (decisions carry indexes); NULL if out of range. */
size_t tg_policy_user_count(const struct tg_policy *p);
const char *tg_policy_user_name(const struct tg_policy *p, size_t idx);
size_t tg_policy_group_count(const struct tg_policy *p);
const char *tg_policy_group_name(const struct tg_policy *p, size_t idx);

/* Applications: content applications first, then the policy's own. NULL if out of range. */
size_t tg_policy_app_count(const struct tg_policy *p);
const char *tg_policy_app_name(const struct tg_policy *p, size_t idx);

/*
 * tg_policy_casb_eval() - the first enabled CASB rule matching application @app (an index as in
 * tg_policy_app_name), @activity (one of "login" "upload" "download" "share" "post" "delete"),
 * user @user (-1 unknown) and group set @groups (TG_CAP_GROUPS bits). Returns the rule index
 * and stores its action (TG_ACTION_PASS for allow and alert, TG_ACTION_BLOCK) and whether it
 * alerts; -1 when no rule matches (allow).
 */
int tg_policy_casb_eval(const struct tg_policy *p, uint32_t app, const char *activity, int32_t user,
			const uint64_t groups[static TG_CAP_GROUPS / 64], enum tg_action *action,
			bool *alert);

/* Bytes held by @p's indexes and tables (for logs and benchmarks). */
size_t tg_policy_bytes(const struct tg_policy *p);

#endif
