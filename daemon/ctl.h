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
/* One decision as a JSON object value (explain's output; inspect --policy's "decision"). */
void ctl_decision_json(struct jw *w, const struct tg_policy *p, const struct tg_content *c,
		       const struct tg_decision *dc);

#endif
