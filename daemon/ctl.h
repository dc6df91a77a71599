/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl.h - tlsgatectl subcommands; each takes argv starting at its own name. */
#ifndef TLSGATE_CTL_H
#define TLSGATE_CTL_H

#include <stdbool.h>
#include <stdint.h>

int ctl_inspect_main(int argc, char **argv);
int ctl_stats_main(int argc, char **argv);
int ctl_bypass_main(int argc, char **argv);
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
				  const uint8_t key[static 16], bool print_ok);
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
/*
 * The decision's members as every event line has them (event.h: rule ... category, action,
 * reason), then "explain": what else the classifier found (name, categories, reputation,
 * pinned, m365, bypass_allowed, posture).
 */
void ctl_decision_members(struct jw *w, const struct ctl_decision *cd);

#endif
