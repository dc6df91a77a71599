/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rulecheck.c - is tlsgate-setup's policy-routing rule in this network namespace? A dump of the
 * IPv4 rules (rtnetlink RTM_GETRULE) looked through for "fwmark LOCAL/LOCAL lookup TABLE pref
 * PREF", the rule `tlsgate-setup up` adds and `down` removes. A state file whose rule is not
 * there is stale (a namespace deleted without `down`, whose inode a new one got): see
 * datapath.h.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "rulecheck.h"

struct rc_want {
	const struct tg_marks *m;
	bool found;
};

static int rc_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, FRA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case FRA_FWMARK:
	case FRA_FWMASK:
	case FRA_TABLE:
	case FRA_PRIORITY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		break;
	}
	tb[type] = a;
	return MNL_CB_OK;
}

static int rc_rule(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[FRA_MAX + 1] = { NULL };
	struct rc_want *w = data;
	const struct fib_rule_hdr *fr = mnl_nlmsg_get_payload(nlh);
	uint32_t table;

	if (mnl_attr_parse(nlh, sizeof(*fr), rc_attr, tb) != MNL_CB_OK)
		return MNL_CB_OK;
	if (tb[FRA_FWMARK] == NULL || tb[FRA_FWMASK] == NULL || tb[FRA_PRIORITY] == NULL)
		return MNL_CB_OK;
	table = tb[FRA_TABLE] != NULL ? mnl_attr_get_u32(tb[FRA_TABLE]) : fr->table;
	if (mnl_attr_get_u32(tb[FRA_FWMARK]) == w->m->local &&
	    mnl_attr_get_u32(tb[FRA_FWMASK]) == w->m->local && table == w->m->route_table &&
	    mnl_attr_get_u32(tb[FRA_PRIORITY]) == w->m->rule_pref)
		w->found = true;
	return MNL_CB_OK;
}

int rulecheck_local(const struct tg_marks *m)
{
	char buf[32768]; /* a dump part; the kernel sends at most 16 KiB at once */
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *fr;
	struct rc_want w = { m, false };
	unsigned seq = (unsigned)time(NULL), portid;
	int r = -1, n;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
	fr->family = AF_INET;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	for (;;) {
		n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n <= 0)
			goto out;
		n = mnl_cb_run(buf, (size_t)n, seq, portid, rc_rule, &w);
		if (n == MNL_CB_ERROR)
			goto out;
		if (n == MNL_CB_STOP)
			break;
	}
	r = w.found ? 1 : 0;
out:
	mnl_socket_close(nl);
	return r;
}
