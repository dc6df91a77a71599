/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * classify.h - the decision for one flow: pass, decrypt or block, with the reason.
 *
 * tg_classify() is a pure function of the immutable policy and content package, the bypass
 * tables (read-only, lock-free reads) and the facts the daemon gathered about the flow. The
 * order is fixed (DESIGN.md section 3, policy/README.md "The decision"):
 *   1. filtering (block wins over everything), then the global blocks (ECH, QUIC, unparsable);
 *   2. the implicit pinned list (and Microsoft 365 Optimize/Allow in "microsoft" mode);
 *   3. a live dynamic bypass entry for (user or client, SNI);
 *   4. decryption rules, first match (and Microsoft 365 endpoints in "inspect" mode);
 *   5. the policy's default action;
 * then a decrypt outcome is downgraded for ECH (mode allow), unsupported upstreams and clients
 * in the ca_missing state. No allocation, no locks: safe on many threads at once.
 */
#ifndef TLSGATE_CLASSIFY_H
#define TLSGATE_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/catdb.h"
#include "tlsgate/content.h"
#include "tlsgate/cursor.h"
#include "tlsgate/err.h"
#include "tlsgate/policy.h"

struct tg_bypass;
struct tg_os_hint;

enum tg_flow_kind {
	TG_FLOW_TLS, /* TCP with a ClientHello (or a failure to get one, see fail) */
	TG_FLOW_HTTP, /* TCP with a plain HTTP/1 request */
	TG_FLOW_DNS, /* a DNS query */
	TG_FLOW_QUIC, /* UDP to an inspected port */
	TG_FLOW_OTHER, /* anything else: IP filtering only */
};

/*
 * What kept the flow from being classified on its content. A failure is an input of the
 * decision like any other fact: filtering on the destination address, on the name learned for
 * it and on any name that was seen applies first; then the failure's settings.fail class
 * decides (policy/README.md "Failures"). Each failure has its own class and reason.
 */
enum tg_flow_fail {
	TG_FLOW_FAIL_NONE,
	TG_FLOW_FAIL_UNPARSABLE_CH, /* a TLS record on an inspected port that is no ClientHello */
	TG_FLOW_FAIL_INCOMPLETE_CH, /* the first bytes did not complete in time */
	TG_FLOW_FAIL_NON_TLS, /* neither TLS nor HTTP on an inspected port */
	TG_FLOW_FAIL_REASM_CONFLICT, /* a retransmission that differs from bytes seen */
	TG_FLOW_FAIL_REASM_WINDOW, /* first bytes beyond the reassembly window */
	TG_FLOW_FAIL_MALFORMED, /* a queued packet the dissector cannot parse */
	TG_FLOW_FAIL_TFO, /* data in a SYN */
	TG_FLOW_FAIL_MIDSTREAM, /* data of a flow whose handshake was not seen */
	TG_FLOW_FAIL_OVERLOAD, /* flow table, per-client quota or queue full */
	TG_FLOW_FAIL_ADOPTION, /* a decrypt decision whose connection could not be adopted */
	TG_FLOW_FAIL_INVALID_NAME, /* set by tg_classify: the name is not a valid domain name */
	TG_FLOW_FAIL_UNPARSABLE_DNS, /* a DNS query that does not parse */
	TG_FLOW_FAIL_CERT_MINT, /* a decrypt decision with no forged certificate to be had */
	TG_FLOW_FAIL__COUNT,
};

/* Endpoint operating systems; posture carries a set of them (1u << TG_OS_x). */
enum tg_os {
	TG_OS_ANDROID,
	TG_OS_IOS,
	TG_OS_WINDOWS,
	TG_OS_MACOS,
	TG_OS_LINUX,
	TG_OS_CHROMEOS,
	TG_OS_OTHER,
	TG_OS__COUNT,
};

/* OS sets of the passive hint's families (oshint.h): what a hint can and cannot tell. */
#define TG_OS_MASK_WINDOWS (1u << TG_OS_WINDOWS)
#define TG_OS_MASK_APPLE   (1u << TG_OS_MACOS | 1u << TG_OS_IOS)
#define TG_OS_MASK_LINUX   (1u << TG_OS_LINUX | 1u << TG_OS_ANDROID | 1u << TG_OS_CHROMEOS)

/* Everything the daemon knows about a new flow. Spans point into the caller's buffers. */
struct tg_flow_facts {
	enum tg_flow_kind kind;
	enum tg_flow_fail fail; /* TG_FLOW_FAIL_NONE: classified on its content */
	uint8_t family; /* 4 or 6 */
	uint8_t src[16]; /* IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport, dport;
	bool has_mac;
	uint8_t mac[6];
	struct tg_span sni; /* ClientHello server_name (the outer name with ECH) */
	struct tg_span alpn; /* first ALPN protocol offered */
	struct tg_span ja4; /* JA4 fingerprint text */
	bool ech; /* the ClientHello carries an outer encrypted_client_hello */
	struct tg_span dns_name; /* DNS: the question; other kinds: name learned for dst */
	struct tg_span http_host; /* plain HTTP Host */
	struct tg_span http_path;
	struct tg_span user; /* user the daemon authenticated (empty: unknown) */
	uint8_t hint_os_mask; /* passive OS hint as an OS set (TG_OS_MASK_*), 0: none */
	uint8_t hint_confidence; /* 0..100 */
	bool upstream_excluded; /* the daemon found the server with tg_upstream_excl_lookup() */
};

enum tg_reason {
	TG_REASON_FILTER_BLOCK,
	TG_REASON_ECH_BLOCK,
	TG_REASON_QUIC_BLOCK,
	TG_REASON_FAIL_UNPARSABLE,
	TG_REASON_FAIL_INCOMPLETE,
	TG_REASON_NOT_TLS,
	TG_REASON_NOT_INSPECTED,
	TG_REASON_IMPLICIT_PINNED,
	TG_REASON_M365_BYPASS,
	TG_REASON_DYNAMIC_BYPASS,
	TG_REASON_RULE,
	TG_REASON_M365_INSPECT,
	TG_REASON_DEFAULT,
	TG_REASON_ECH_PASS,
	TG_REASON_UPSTREAM_EXCLUDED,
	TG_REASON_CA_MISSING,
	TG_REASON_FAIL_NON_TLS,
	TG_REASON_FAIL_CONFLICT,
	TG_REASON_FAIL_WINDOW,
	TG_REASON_FAIL_MALFORMED,
	TG_REASON_FAIL_TFO,
	TG_REASON_FAIL_MIDSTREAM,
	TG_REASON_FAIL_OVERLOAD,
	TG_REASON_FAIL_ADOPTION,
	TG_REASON_FAIL_INVALID_NAME,
	TG_REASON_FAIL_UNPARSABLE_DNS,
	TG_REASON_FAIL_CERT_MINT,
	TG_REASON__COUNT,
};

enum tg_posture_source {
	TG_POSTURE_NONE,
	TG_POSTURE_PUSHED,
	TG_POSTURE_HINT,
};

struct tg_decision {
	enum tg_action action;
	enum tg_reason reason;
	enum tg_rule_list rule_list; /* the list of the deciding rule, TG_RULES_NONE if none */
	int32_t rule; /* its index, -1 if none */
	const char *rule_name; /* its name (lives as long as the policy), NULL if none */
	enum tg_flow_fail fail; /* the failure decided on (the facts', or invalid-name) */
	int32_t alert_rule; /* filtering rule with action alert that matched, or -1 */
	bool bypass_allowed; /* pinning rejections on this flow may create dynamic bypass entries */
	char name[TG_CAP_NAME_LEN + 1]; /* the normalized name matched on, "" if none */
	size_t name_len;
	int32_t user; /* tg_policy_user_name() index, -1 unknown */
	const char *user_name;
	uint64_t groups[TG_CAP_GROUPS / 64]; /* tg_policy_group_name() indexes */
	int32_t app; /* tg_policy_app_name() index, -1 unknown */
	const char *app_name;
	struct tg_catset categories;
	uint8_t reputation; /* 1..5, 0 unknown */
	int32_t pinned; /* tg_content_pin_get() index when the pinned list matched, else -1 */
	enum tg_m365_cat m365;
	struct {
		uint8_t os_mask; /* set of enum tg_os; 0 unknown */
		bool managed;
		enum tg_posture_source source;
		const char *endpoint; /* endpoint name when pushed and named */
	} posture;
};

/*
 * tg_classify() - decide for @facts under @policy (compiled against @content, which must be
 * the same package) with the bypass table @bypass (may be NULL: no dynamic bypass, no
 * ca_missing) at time @now_ms. Fills all of *@out. Returns TG_OK, or TG_ERR_ARG when @content
 * is not the policy's package or @facts->family is not 4 or 6 (then *@out is a pass decision
 * with reason "default"). Never allocates.
 */
enum tg_err tg_classify(const struct tg_policy *policy, const struct tg_content *content,
			const struct tg_bypass *bypass, const struct tg_flow_facts *facts,
			uint64_t now_ms, struct tg_decision *out) TG_WUR;

/*
 * tg_flow_facts_set_hint() - fill @f's hint_os_mask and hint_confidence from the passive OS
 * hint of the flow's SYN (oshint.h): windows, apple (macOS or iOS), linux (Linux, Android or
 * ChromeOS); an unknown family clears them.
 */
void tg_flow_facts_set_hint(struct tg_flow_facts *f, const struct tg_os_hint *h);

struct tg_ch;
/*
 * tg_flow_facts_set_ch() - the ClientHello's part of @f: SNI, first ALPN, ECH (outer only) and
 * the JA4, written into the caller's @ja4 buffer which @f then points at (keep it alive as long
 * as @f). Sets kind TG_FLOW_TLS.
 */
void tg_flow_facts_set_ch(struct tg_flow_facts *f, const struct tg_ch *ch,
			  char ja4[static TG_CAP_JA4_LEN + 1]);

/* The settings.fail class of a failure (TG_FAIL__COUNT for TG_FLOW_FAIL_NONE). */
enum tg_fail_class tg_flow_fail_class(enum tg_flow_fail why);
/* Stable names of the failures ("reassembly-conflict", ...) for logs and tlsgatectl explain. */
const char *tg_flow_fail_text(enum tg_flow_fail why);
/* The failure named @name (@len bytes), or -1. */
int tg_flow_fail_parse(const char *name, size_t len);

/* Stable texts: "pass" "decrypt" "block"; the reason texts listed in policy/README.md. */
const char *tg_action_text(enum tg_action a);
const char *tg_reason_text(enum tg_reason r);

/* OS names ("android", ...) and parsing; tg_os_parse returns -1 for an unknown name. */
const char *tg_os_text(enum tg_os os);
int tg_os_parse(const char *name, size_t len);

#endif
