/* SPDX-License-Identifier: GPL-2.0-or-later */
/* datapath.c - tlsgate-setup's state file, and the policy's ports against it; see datapath.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "datapath.h"

enum dp_key_kind { DK_U32, DK_QUEUE_NUM, DK_QUEUES, DK_PORTS, DK_LAN };

/* The state file's keys, each required once. */
static const struct dp_key {
	const char *key;
	enum dp_key_kind kind;
	size_t off; /* of the uint32_t mark (DK_U32) or the dp_ports (DK_PORTS) */
} dp_keys[] = {
	{ "TLSGATE_LAN", DK_LAN, 0 },
	{ "TLSGATE_QUEUE_NUM", DK_QUEUE_NUM, 0 },
	{ "TLSGATE_QUEUES", DK_QUEUES, 0 },
	{ "TLSGATE_PORTS", DK_PORTS, offsetof(struct datapath, ports[DP_TLS]) },
	{ "TLSGATE_DOT_PORTS", DK_PORTS, offsetof(struct datapath, ports[DP_TLS]) },
	{ "TLSGATE_HTTP_PORTS", DK_PORTS, offsetof(struct datapath, ports[DP_HTTP]) },
	{ "TLSGATE_DNS_PORTS", DK_PORTS, offsetof(struct datapath, ports[DP_DNS]) },
	{ "TLSGATE_QUIC_PORTS", DK_PORTS, offsetof(struct datapath, ports[DP_QUIC]) },
#define DP_MARK(k, m)                                         \
	{                                                     \
		k, DK_U32, offsetof(struct datapath, marks.m) \
	}
	DP_MARK("TG_MARK_DECISION_MASK", decision_mask),
	DP_MARK("TG_MARK_PASS", pass),
	DP_MARK("TG_MARK_BLOCK", block),
	DP_MARK("TG_MARK_ADOPT", adopt),
	DP_MARK("TG_MARK_DROP", drop),
	DP_MARK("TG_MARK_INSPECT", inspect),
	DP_MARK("TG_MARK_LOCAL", local),
	DP_MARK("TG_MARK_RST", rst),
	DP_MARK("TG_MARK_STREAM", stream),
	DP_MARK("TG_ROUTE_TABLE", route_table),
	DP_MARK("TG_RULE_PREF", rule_pref),
#undef DP_MARK
};
#define DP_NKEYS (sizeof(dp_keys) / sizeof(dp_keys[0]))

static const struct {
	const char *key, *proto, *name, *env;
} dp_classes[DP__COUNT] = {
	[DP_TLS] = { "inspected_ports", "TCP", "TLS", "TLSGATE_PORTS and TLSGATE_DOT_PORTS" },
	[DP_HTTP] = { "http_ports", "TCP", "HTTP", "TLSGATE_HTTP_PORTS" },
	[DP_DNS] = { "dns_ports", "UDP and TCP", "DNS", "TLSGATE_DNS_PORTS" },
	[DP_QUIC] = { "quic_ports", "UDP", "QUIC", "TLSGATE_QUIC_PORTS" },
};

const char *dp_class_key(enum dp_class c)
{
	return c < DP__COUNT ? dp_classes[c].key : "?";
}

int datapath_default_path(char *buf, size_t len)
{
	struct stat st;
	int n;

	if (stat("/proc/self/ns/net", &st) == -1)
		return -1;
	n = snprintf(buf, len, "/run/tlsgate-setup/netns-%llu.env", (unsigned long long)st.st_ino);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

bool dp_ports_has(const uint16_t *ports, size_t n, uint16_t port)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

/* A decimal or 0x-hex number of at most @max, the whole of [@s, @s + @len). */
static bool dp_number(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len || len - i > 10)
		return false;
	for (; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v * base + d;
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* A port list ("443,8443" or "none") added to @ps (duplicates merged). */
static bool dp_ports_add(const char *s, size_t len, struct dp_ports *ps)
{
	size_t i = 0;

	if (len == 4 && memcmp(s, "none", 4) == 0)
		return true;
	if (len == 0)
		return false;
	while (i < len) {
		const char *comma = memchr(s + i, ',', len - i);
		size_t end = comma != NULL ? (size_t)(comma - s) : len;
		uint32_t port;

		if (!dp_number(s + i, end - i, 65535, &port) || port == 0)
			return false;
		if (!dp_ports_has(ps->p, ps->n, (uint16_t)port)) {
			if (ps->n == TG_CAP_PORTS)
				return false;
			ps->p[ps->n++] = (uint16_t)port;
		}
		if (comma == NULL)
			break;
		i = end + 1;
		if (i == len)
			return false; /* a trailing comma */
	}
	return true;
}

/* The checks tlsgate-setup makes on the marks, made again: the file is read, not trusted. */
static const char *dp_marks_check(const struct tg_marks *m)
{
	const uint32_t bits[] = { m->drop, m->inspect, m->local, m->rst, m->stream };
	uint32_t used = m->decision_mask;
	size_t i;

	if (m->decision_mask == 0)
		return "the decision mask is 0 (TG_MARK_DECISION_MASK)";
	if (m->pass == 0 || m->block == 0 || m->adopt == 0 || (m->pass & ~m->decision_mask) ||
	    (m->block & ~m->decision_mask) || (m->adopt & ~m->decision_mask))
		return "PASS, BLOCK and ADOPT must be non-zero and inside the decision mask";
	if (m->pass == m->block || m->pass == m->adopt || m->block == m->adopt)
		return "PASS, BLOCK and ADOPT must be different";
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (bits[i] == 0 || (bits[i] & used))
			return "a mark bit is 0 or overlaps the decision mask or another tlsgate "
			       "bit";
		used |= bits[i];
	}
	return NULL;
}

/* One KEY=VALUE line (no newline) into @dp; NULL, or why it is refused. */
static const char *dp_line(const char *l, size_t len, struct datapath *dp, bool seen[])
{
	const char *eq = memchr(l, '=', len);
	const char *v;
	size_t klen, vlen, k;
	uint32_t n;

	if (eq == NULL)
		return "expected KEY=VALUE";
	klen = (size_t)(eq - l);
	v = eq + 1;
	vlen = len - klen - 1;
	for (k = 0; k < DP_NKEYS; k++)
		if (strlen(dp_keys[k].key) == klen && memcmp(dp_keys[k].key, l, klen) == 0)
			break;
	if (k == DP_NKEYS)
		return "unknown key";
	if (seen[k])
		return "key given twice";
	seen[k] = true;
	switch (dp_keys[k].kind) {
	case DK_LAN:
		return NULL; /* informational: the daemon does not need it */
	case DK_QUEUE_NUM:
		if (!dp_number(v, vlen, 65535, &n))
			return "expected a queue number 0..65535";
		dp->queue_num = n;
		return NULL;
	case DK_QUEUES:
		if (!dp_number(v, vlen, 65536, &n) || n == 0)
			return "expected a queue count 1..65536";
		dp->queues = n;
		return NULL;
	case DK_PORTS:
		if (!dp_ports_add(v, vlen, (struct dp_ports *)((char *)dp + dp_keys[k].off)))
			return "expected ports 1..65535 separated by commas, or none";
		return NULL;
	case DK_U32:
	default:
		if (!dp_number(v, vlen, UINT32_MAX, &n))
			return "expected a 32-bit number";
		memcpy((char *)dp + dp_keys[k].off, &n, sizeof(n));
		return NULL;
	}
}

int datapath_parse(const char *buf, size_t len, struct datapath *dp, char *err, size_t errlen)
{
	bool seen[DP_NKEYS] = { false };
	struct datapath tmp;
	const char *why;
	size_t i = 0, k;
	unsigned lineno = 0;

	memset(&tmp, 0, sizeof(tmp));
	memcpy(tmp.source, dp->source, sizeof(tmp.source));
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;

		lineno++;
		if (end > i && buf[i] != '#') {
			why = dp_line(buf + i, end - i, &tmp, seen);
			if (why != NULL) {
				snprintf(err, errlen, "line %u: %s", lineno, why);
				return -1;
			}
		}
		i = end + 1;
	}
	for (k = 0; k < DP_NKEYS; k++) {
		if (!seen[k]) {
			snprintf(err, errlen, "%s is missing", dp_keys[k].key);
			return -1;
		}
	}
	if (tmp.queue_num + tmp.queues > 65536) {
		snprintf(err, errlen, "the queues go past queue 65535");
		return -1;
	}
	why = dp_marks_check(&tmp.marks);
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	*dp = tmp;
	return 0;
}

int datapath_read(const char *path, struct datapath *dp, char *err, size_t errlen)
{
	char buf[DATAPATH_FILE_MAX + 1], why[160];
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got > DATAPATH_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, DATAPATH_FILE_MAX);
		return -1;
	}
	snprintf(dp->source, sizeof(dp->source), "%s", path);
	if (datapath_parse(buf, got, dp, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

/* @ps as "443,8443" (or "none") into @buf. */
static const char *dp_ports_str(const uint16_t *p, size_t n, char *buf, size_t len)
{
	size_t i, at = 0;

	if (n == 0)
		snprintf(buf, len, "none");
	for (i = 0; i < n && at < len; i++) {
		int w = snprintf(buf + at, len - at, "%s%u", i ? "," : "", p[i]);

		if (w < 0)
			break;
		at += (size_t)w;
	}
	return buf;
}

/* The same set, in any order (both lists hold no duplicate). */
static bool dp_same_set(const uint16_t *a, size_t na, const uint16_t *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!dp_ports_has(b, nb, a[i]))
			return false;
	return true;
}

int datapath_check_policy(const struct datapath *dp, const struct tg_policy_settings *s, char *err,
			  size_t errlen)
{
	const uint16_t *sp[DP__COUNT] = { s->inspected_ports, s->http_ports, s->dns_ports,
					  s->quic_ports };
	const size_t sn[DP__COUNT] = { s->n_inspected_ports, s->n_http_ports, s->n_dns_ports,
				       s->n_quic_ports };
	char a[TG_CAP_PORTS * 6 + 8], b[TG_CAP_PORTS * 6 + 8];
	unsigned c;

	for (c = 0; c < DP__COUNT; c++) {
		const struct dp_ports *q = &dp->ports[c];

		if (dp_same_set(sp[c], sn[c], q->p, q->n))
			continue;
		snprintf(err, errlen,
			 "settings.%s is %s but tlsgate-setup queues %s %s as %s (%s, %s): make "
			 "them the same, in the policy or in the setup's settings, and run "
			 "tlsgate-setup up again",
			 dp_classes[c].key, dp_ports_str(sp[c], sn[c], a, sizeof(a)),
			 dp_classes[c].proto, dp_ports_str(q->p, q->n, b, sizeof(b)),
			 dp_classes[c].name, dp_classes[c].env,
			 dp->source[0] ? dp->source : "built-in defaults");
		return -1;
	}
	return 0;
}
