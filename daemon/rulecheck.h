/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulecheck.h - is tlsgate-setup's policy-routing rule in place? (rulecheck.c) */
#ifndef TLSGATE_RULECHECK_H
#define TLSGATE_RULECHECK_H

#include <stdbool.h>

#include "marks.h"

/*
 * 1 when this network namespace has the IPv4 rule "fwmark @m->local/@m->local lookup
 * @m->route_table pref @m->rule_pref", 0 when it has not, -1 when the rules cannot be read.
 */
int rulecheck_local(const struct tg_marks *m);

#endif
