/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * event.h - the one writer of event lines, shared by tlsgated's decision log (declog.c,
 * proxy.c, evlog.c), `tlsgatectl explain` and `tlsgatectl inspect`: the same flow gives the same
 * field names whichever of them writes it. The schema is close to Suricata's EVE JSON and is
 * documented in the top-level README, section "The event log"; its names live here and nowhere else.
 *
 * A line is one JSON object, written member by member with jsonw.h:
 *   ev_write_head()     timestamp, event_type
 *   ev_write_flow()     flow_id, addresses, proto, community_id, app_proto, the tls / http /
 *                       dns object, dest_name, fail, truncated
 *   ev_write_ctx()      rule, rule_path, alert_rule, user, groups, app, category
 *   ev_write_verdict()  action, reason
 * then what only one producer knows (the proxy's outcome, explain's details), then the end.
 * Names from the wire are cut at EV_NAME_MAX bytes ("truncated": true follows); every other
 * member is bounded, and lines are never dropped for their size.
 */
#ifndef TLSGATE_EVENT_H
#define TLSGATE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/classify.h"
#include "tlsgate/policy.h"

struct jw;
struct tg_content;

#define EV_CID_LEN  31 /* "1:" + base64 of a SHA-1 (28) + NUL */
#define EV_TIME_LEN 32 /* "2026-12-05T10:00:00.123+0000" + NUL */
/* flow_id keeps 52 bits: a JSON number a double (jq, JavaScript) holds exactly. */
#define EV_FLOW_ID_MASK 0x000fffffffffffffull

/* What the flow is and showed: every view may be empty (p NULL), numbers 0 when unknown. */
struct ev_flow {
	uint8_t family; /* 4 or 6 */
	uint8_t ipproto; /* 6 TCP, 17 UDP */
	const uint8_t *src, *dst; /* client, server: 16 bytes each (IPv4 in the first 4) */
	uint16_t sport, dport;
	uint64_t flow_id;
	const char *app_proto; /* "tls", "http", "dns", "quic"; NULL: nothing parsed */
	/* tls: written when app_proto is "tls" */
	struct tg_span sni;
	uint16_t tls_version; /* the highest version offered */
	const struct tg_span *alpn;
	size_t n_alpn;
	struct tg_span ja4; /* the JA4 text */
	/* http: written when app_proto is "http" */
	struct tg_span http_host, http_url, http_method;
	/* dns: written when app_proto is "dns" */
	bool dns_answer; /* a response ("answer"), else a query */
	struct tg_span rrname;
	uint16_t rrtype; /* 0: no question */
	struct tg_span dest_name; /* the name learned from DNS for dst */
	const char *fail; /* the failure decided on (tg_flow_fail_text), NULL: none */
	/* More members of the app-layer object @obj ("tls", "http", "dns"), before it closes. */
	void (*more)(void *arg, struct jw *w, const char *obj);
	void *more_arg;
};

/* What the policy said about the flow besides the action: views into the policy. */
struct ev_ctx {
	const char *rule; /* the deciding rule's name, "" none */
	enum tg_rule_list rule_list;
	int32_t rule_index; /* -1: none */
	const char *alert_rule; /* a matching filtering rule with action alert, "" none */
	const char *user; /* "" unknown */
	const struct tg_policy *policy; /* group names; NULL: no groups */
	uint64_t groups[TG_CAP_GROUPS / 64];
	const char *app, *category; /* "" unknown */
};

/* ev_ctx_of() - the one translation of a classifier decision into the log's terms. */
void ev_ctx_of(struct ev_ctx *c, const struct tg_policy *p, const struct tg_content *content,
	       const struct tg_decision *dc);
/* An empty context: no rule, no user (a line without a policy decision). */
void ev_ctx_none(struct ev_ctx *c);

/*
 * ev_flow_init() - @fl with only the flow's addresses, ports and its id under @key (ev_flow_id;
 * @isn 0 for UDP): what every producer starts from. The addresses are views.
 */
void ev_flow_init(struct ev_flow *fl, const uint8_t key[static 16], uint8_t family, uint8_t ipproto,
		  const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
		  uint32_t isn);
/* ev_flow_of_facts() - @fl from the classifier's facts (explain); views into @f. */
void ev_flow_of_facts(struct ev_flow *fl, const uint8_t key[static 16],
		      const struct tg_flow_facts *f);

/*
 * ev_type() - the event_type of a decision: "alert" when it blocks or an alert rule matched,
 * else the app_proto, else "flow".
 */
const char *ev_type(const struct ev_flow *fl, const char *action, const struct ev_ctx *c);

/* ev_time() - @realtime_ms as "2026-12-05T10:00:00.123+0000" (UTC) into @out. */
void ev_time(uint64_t realtime_ms, char out[static EV_TIME_LEN]);
/* ev_now_ms() - the wall clock in ms (CLOCK_REALTIME). */
uint64_t ev_now_ms(void);

/*
 * ev_community_id() - Community ID v1 (seed 0) of the flow into @out: "1:" and the base64 of
 * SHA-1 over seed, the ordered addresses, protocol, a zero byte and the ports. "" when the
 * hash fails (mbedTLS). See https://github.com/corelight/community-id-spec.
 */
void ev_community_id(uint8_t family, uint8_t ipproto, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport, char out[static EV_CID_LEN]);

/*
 * ev_flow_id() - the flow's 52-bit id under @key: SipHash of the tuple (either direction) and
 * @isn (the client's initial sequence number, 0 for UDP), so a reused port pair is another flow.
 */
uint64_t ev_flow_id(const uint8_t key[static 16], uint8_t family, uint8_t ipproto,
		    const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
		    uint32_t isn);

/* The TLS version's text ("TLS 1.3", "SSLv3", else "0x%04x") into @buf. */
const char *ev_tls_version(uint16_t v, char buf[static 8]);

/* Members, in the order above. ev_write_head() opens the object. */
void ev_write_head(struct jw *w, uint64_t realtime_ms, const char *event_type);
/* Returns true when a name was cut at EV_NAME_MAX (the line then says "truncated": true). */
bool ev_write_flow(struct jw *w, const struct ev_flow *fl);
void ev_write_ctx(struct jw *w, const struct ev_ctx *c);
void ev_write_verdict(struct jw *w, const char *action, const char *reason);
/* A name cut at EV_NAME_MAX: true when it was (the caller says "truncated"). */
bool ev_write_name(struct jw *w, const char *key, struct tg_span s);

#endif
