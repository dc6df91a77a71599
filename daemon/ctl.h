/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl.h - tlsgatectl subcommands; each takes argv starting at its own name. */
#ifndef TLSGATE_CTL_H
#define TLSGATE_CTL_H

int ctl_inspect_main(int argc, char **argv);
int ctl_policy_main(int argc, char **argv);
int ctl_explain_main(int argc, char **argv);

#endif
