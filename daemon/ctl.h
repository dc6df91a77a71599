/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl.h - tlsgatectl subcommands; each takes argv starting at its own name. */
#ifndef TLSGATE_CTL_H
#define TLSGATE_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tlsgate/classify.h"

int ctl_inspect_main(int argc, char **argv);
int ctl_stats_main(int argc, char **argv);
int ctl_bypass_main(int argc, char **argv);
/* status, reload, flows (by argv[0]). */
int ctl_daemon_main(int argc, char **argv);
/* policy push|show|rollback (the daemon's), else policy check (ctl_policy_main). */
int ctl_policy_cmd_main(int argc, char **argv);
/* explain: without --policy, against the running daemon; with it, ctl_explain_main. */
int ctl_explain_cmd_main(int argc, char **argv);
int ctl_log_main(int argc, char **argv);
int ctl_policy_main(int argc, char **argv);
int ctl_explain_main(int argc, char **argv);
int ctl_ca_main(int argc, char **argv);

#include "tlsgate/classify.h"

#include "event.h"

struct jw;
struct tg_policy;
struct tg_content;
struct tg_decision;
struct tg_diag;
/* Loading for the subcommands: errors and diagnostics go to stderr. */
int ctl_key(uint8_t key[static 16]);
struct tg_content *ctl_load_content(const char *dir, const uint8_t key[static 16],
				    struct tg_diag *d);
struct tg_policy *ctl_load_policy(const char *file, const struct tg_content *content,
				  const uint8_t key[static 16]);
/* A decision as explain and inspect --policy write it. */
struct ctl_decision {
	const struct tg_policy *p;
	const struct tg_content *c;
	struct tg_decision dc;
	struct ev_ctx ctx;
};
/*
 * Classify @f into *@cd: the action, and for the line about @fl its event_type in *@type and
 * the failure decided on in @fl->fail. -1: the classifier refused the facts.
 */
int ctl_decision_of(struct ctl_decision *cd, const struct tg_policy *p, const struct tg_content *c,
		    const struct tg_flow_facts *f, struct ev_flow *fl, const char **type);
/* The same from a decision made elsewhere (the daemon's classifier, with its bypass table). */
void ctl_decision_from(struct ctl_decision *cd, const struct tg_policy *p,
		       const struct tg_content *c, const struct tg_decision *dc, struct ev_flow *fl,
		       const char **type);
/* One explain line about @fl to @out: the event head, the flow, the decision's members. */
void ctl_decision_line(FILE *out, const struct ctl_decision *cd, const struct ev_flow *fl,
		       const char *type);
/*
 * The decision's members as every event line has them (event.h: rule ... category, action,
 * reason), then "explain": what else the classifier found (name, categories, reputation,
 * pinned, m365, bypass_allowed, posture).
 */
void ctl_decision_members(struct jw *w, const struct ctl_decision *cd);

/*
 * explain's options (ctl_policy.c), also parsed by tlsgated for an explain against the running
 * policy (ctlsrv.c): the facts point into @argv. Returns 0 (with @a->help when --help was
 * asked), or 2 after a usage message on @err. The caller sets optind first.
 */
struct ctl_explain_args {
	const char *policy; /* NULL: ask the running daemon */
	const char *content_dir, *control;
	bool help;
	struct tg_flow_facts f;
};
int ctl_explain_parse(int argc, char **argv, struct ctl_explain_args *a, FILE *err);

/* --- the control socket's client (ctl_control.c) --- */

#define CTL_CONTROL_DEFAULT "/run/tlsgate/control"

/* Exit codes of the commands that ask the daemon; `tlsgatectl --help` and README list them. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_ERROR = 1, /* the daemon refused or failed the request (its error on stderr) */
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3, /* no daemon on the control socket */
};

struct cJSON;
/*
 * Send @line (and @body_len bytes of @body when not NULL) to the control socket @path and read
 * the reply: CTL_EXIT_OK with the parsed object in *@reply (cJSON_Delete it) and, when @raw is
 * not NULL, its text in *@raw (free it); otherwise the exit code, a message on stderr.
 */
int ctl_ask(const char *path, const char *line, const uint8_t *body, size_t body_len,
	    struct cJSON **reply, char **raw);
/* A member's string ("-" when absent) or number (0). */
const char *ctl_str(const struct cJSON *o, const char *key);
double ctl_num(const struct cJSON *o, const char *key);

#define CTL_OPT_USER   1u
#define CTL_OPT_CLIENT 2u
#define CTL_OPT_TTL    4u
#define CTL_OPT_FORMAT 8u

/* The options of a control command: --control and --json always, the @allowed others. */
struct ctl_opts {
	const char *control, *user, *client, *ttl, *format;
	bool json;
	int nargs; /* the words left */
	char **args;
};
/* 0, -1 when --help was printed (exit 0), or CTL_EXIT_USAGE after @usage on stderr. */
int ctl_opts_parse(int argc, char **argv, unsigned allowed, struct ctl_opts *o,
		   void (*usage)(FILE *f));
/* 0 when @v can travel as one key=value word; -1 after a message naming @what. */
int ctl_word_ok(const char *what, const char *v);

#endif
