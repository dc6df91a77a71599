/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl_inspect.c - tlsgatectl inspect FILE.pcap (work in progress). */
#include <stdio.h>

#include "ctl.h"

int ctl_inspect_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tlsgatectl inspect: not built yet\n");
	return 1;
}
