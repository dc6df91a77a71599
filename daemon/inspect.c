/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inspect.c - offline inspection of a pcap or pcapng capture with the same library code the
 * daemon runs (inspect.h); `tlsgatectl inspect` (ctl_inspect.c) is its command.
 *
 * Output: one event line (event.h, README "The event log") per line, in capture order of the
 * packet that completed it (inspect_emit.c): a "tls" line for each TCP flow direction whose
 * first bytes are a TLS ClientHello, a "dns" line for each DNS message over UDP or TCP port 53,
 * an "http" line for each HTTP/1.x request head, a "flow" line for a client's TCP flow that
 * failed before it could be decided on its content ("fail"), an "anomaly" line for a direction
 * whose TLS handshake record or DNS message does not parse. With --policy, the lines tlsgated
 * decides (ClientHellos, request heads, DNS queries, failures) carry the decision as the
 * daemon's lines do (a block makes the line an "alert"). A summary of what could not be read
 * goes to stderr.
 *
 * The client's direction of a TCP flow is read as tlsgated reads it (engine.c): reassembled
 * (lib/reasm) from the SYN's ISN, examined (lib/flow: TLS, HTTP, DNS on server port 53, need
 * more, or a failure); a retransmission that differs from bytes seen is a reassembly-conflict
 * failure, bytes beyond the window a reassembly-window failure, data in a SYN a tcp-fast-open
 * failure. Plain HTTP and DNS over TCP go on after each request or query that is not blocked:
 * the next request head (past a Content-Length body; chunked bodies and CONNECT end it) or the
 * next framed query. The server's direction is examined for DNS messages and broken
 * ClientHellos only. Flows whose SYN is not in the capture are read from the first data
 * segment seen, in both directions (no failure is reported: tlsgated decides them midstream).
 * A direction is examined until it is decided; then its reassembly state is freed and only a
 * tombstone is kept. The flow table is capped (CTL_INSPECT_MAX_FLOWS); flows beyond it are
 * counted, not inspected.
 *
 * What a capture does not show is not decided on: names learned from DNS answers, the dynamic
 * bypass and upstream exclusion tables, timeouts (incomplete first bytes), the per-source quota,
 * the client's MAC address and OS hint, packets the kernel let past a full queue.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <sys/random.h>

#include "tlsgate/caps.h"
#include "tlsgate/classify.h"
#include "tlsgate/content.h"
#include "tlsgate/policy.h"
#include "tlsgate/cidr.h"
#include "tlsgate/dns.h"
#include "tlsgate/flow.h"
#include "tlsgate/http.h"
#include "tlsgate/ja4.h"
#include "tlsgate/pkt.h"
#include "tlsgate/reasm.h"
#include "tlsgate/tls_ch.h"

#include "caps.h"
#include "inspect_impl.h"
#include "tuple.h"

/* Direction-independent: the endpoints in a fixed order, then the keyed tuple hash. */
static uint64_t flow_hash(const struct inspect *in, uint8_t family, const uint8_t *x, uint16_t xp,
			  const uint8_t *y, uint16_t yp)
{
	int c = memcmp(x, y, family == 4 ? 4 : 16);

	if (c > 0 || (c == 0 && xp > yp))
		return tuple_hash(in->key, family, y, yp, x, xp);
	return tuple_hash(in->key, family, x, xp, y, yp);
}

static int flow_match(const struct flow *f, const struct tg_pkt *p)
{
	size_t n = p->ip_version == 4 ? 4 : 16;

	if (f->family != p->ip_version)
		return -1;
	if (f->ap == p->sport && f->bp == p->dport && !memcmp(f->a, p->src, n) &&
	    !memcmp(f->b, p->dst, n))
		return 0;
	if (f->ap == p->dport && f->bp == p->sport && !memcmp(f->a, p->dst, n) &&
	    !memcmp(f->b, p->src, n))
		return 1;
	return -1;
}

static int inspect_grow(struct inspect *in)
{
	size_t nsize = in->tab_size ? in->tab_size * 2 : 4096, i;
	struct flow **ntab = calloc(nsize, sizeof(*ntab));

	if (ntab == NULL)
		return -1;
	for (i = 0; i < in->tab_size; i++) {
		struct flow *f = in->tab[i], *next;

		for (; f != NULL; f = next) {
			size_t j = flow_hash(in, f->family, f->a, f->ap, f->b, f->bp) & (nsize - 1);

			next = f->next;
			f->next = ntab[j];
			ntab[j] = f;
		}
	}
	free(in->tab);
	in->tab = ntab;
	in->tab_size = nsize;
	return 0;
}

/* Find the flow of @p, or create it; *dir is the direction index of @p. NULL: over the cap. */
static struct flow *flow_get(struct inspect *in, const struct tg_pkt *p, int *dir)
{
	size_t i;
	struct flow *f;

	if (in->tab_size) {
		i = flow_hash(in, p->ip_version, p->src, p->sport, p->dst, p->dport) &
		    (in->tab_size - 1);
		for (f = in->tab[i]; f != NULL; f = f->next) {
			*dir = flow_match(f, p);
			if (*dir >= 0)
				return f;
		}
	}
	if (in->nflows >= CTL_INSPECT_MAX_FLOWS) {
		in->flows_over_cap++;
		return NULL;
	}
	if (in->nflows * 4 >= in->tab_size * 3 && inspect_grow(in) == -1)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->family = p->ip_version;
	memcpy(f->a, p->src, 16);
	memcpy(f->b, p->dst, 16);
	f->ap = p->sport;
	f->bp = p->dport;
	i = flow_hash(in, p->ip_version, p->src, p->sport, p->dst, p->dport) & (in->tab_size - 1);
	f->next = in->tab[i];
	in->tab[i] = f;
	in->nflows++;
	*dir = 0;
	return f;
}

static void dir_finish(struct dir *d)
{
	d->state = DIR_DONE;
	tg_reasm_free(d->reasm);
	d->reasm = NULL;
}

/* The flow is to the DNS port (tlsgated: the server's port is 53). */
static bool dir_is_dns(const struct dir *d, uint16_t sport, uint16_t dport)
{
	switch (d->role) {
	case ROLE_CLIENT:
		return dport == CTL_INSPECT_DNS_PORT;
	case ROLE_SERVER:
		return sport == CTL_INSPECT_DNS_PORT;
	case ROLE_UNKNOWN:
	default:
		return sport == CTL_INSPECT_DNS_PORT || dport == CTL_INSPECT_DNS_PORT;
	}
}

static enum dns_decide dir_dns_decide(const struct dir *d)
{
	switch (d->role) {
	case ROLE_CLIENT:
		return DNS_CLIENT;
	case ROLE_SERVER:
		return DNS_NO_DECISION;
	case ROLE_UNKNOWN:
	default:
		return DNS_QUERY;
	}
}

/*
 * A TCP direction got new bytes (@added: the reassembly's answer for them): examine what its
 * stream holds from the current message on, as tlsgated's tcp_client_data() does, until it
 * needs more or is decided.
 */
static void dir_examine(struct inspect *in, struct flow *f, int dir, enum tg_err added)
{
	struct dir *d = &f->d[dir];
	struct tg_exam *x = &in->exam;
	uint16_t sport = dir ? f->bp : f->ap, dport = dir ? f->ap : f->bp;
	bool client = d->role == ROLE_CLIENT;
	bool dns = dir_is_dns(d, sport, dport);
	struct inspect_flow fl;
	uint32_t next;
	int a;

	inspect_dir_flow(&fl, f, dir);
	for (;;) {
		struct tg_span s = tg_reasm_contig(d->reasm);

		if (s.len == 0)
			return;
		tg_flow_examine(s.p, s.len, dns, in->scratch, x);
		if (x->kind == TG_EXAM_NEED_MORE && added == TG_ERR_CAP) {
			x->kind = TG_EXAM_FAIL;
			x->fail = TG_FLOW_FAIL_REASM_WINDOW;
			x->err = TG_ERR_CAP;
		}
		added = TG_OK;
		switch (x->kind) {
		case TG_EXAM_NEED_MORE:
			return;
		case TG_EXAM_TLS:
			(void)inspect_emit_tls(in, f, dir, x, d->role != ROLE_SERVER);
			dir_finish(d);
			return;
		case TG_EXAM_HTTP:
			if (d->role == ROLE_SERVER) {
				dir_finish(d);
				return;
			}
			a = inspect_emit_http(in, f, dir, x);
			break;
		case TG_EXAM_DNS:
			a = inspect_emit_dns(in, &fl, inspect_flow_isn(f), 6, x->dns.p, x->dns.len,
					     dir_dns_decide(d));
			if (a == -2) {
				(void)inspect_emit_fail(in, f, dir, TG_FLOW_FAIL_UNPARSABLE_DNS,
							TG_OK);
				dir_finish(d);
				return;
			}
			break;
		case TG_EXAM_FAIL:
		default:
			inspect_emit_anomaly(in, f, dir, s.p, x);
			if (client)
				(void)inspect_emit_fail(in, f, dir, x->fail, x->err);
			dir_finish(d);
			return;
		}
		/* Passed (or nothing decides): the next request or query of the connection. */
		if (a == TG_ACTION_BLOCK || !tg_flow_exam_span(x, &next) ||
		    tg_reasm_advance(&d->reasm, next) != TG_OK) {
			dir_finish(d);
			return;
		}
		d->base += next;
	}
}

/* A SYN with a new ISN on a known tuple: a new connection, the old one's state is void. */
static void flow_restart(struct flow *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		tg_reasm_free(f->d[i].reasm);
		memset(&f->d[i], 0, sizeof(f->d[i]));
	}
}

/*
 * Data in a client's SYN (TCP Fast Open): tlsgated decides every such SYN as the tcp-fast-open
 * failure. Blocked, the SYN is dropped and nothing is remembered; passed, the flow passes whole.
 * Returns true when the SYN's data is still to be read as the stream's first bytes (no policy).
 */
static bool tcp_syn_data(struct inspect *in, struct flow *f, int dir)
{
	int a = inspect_emit_fail(in, f, dir, TG_FLOW_FAIL_TFO, TG_OK);

	if (a == -1)
		return true;
	if (a != TG_ACTION_BLOCK)
		dir_finish(&f->d[dir]);
	return false;
}

/* SYN and SYN-ACK: who is the client, and the ISN its stream is read from. */
static bool tcp_handshake(struct inspect *in, struct flow *f, int dir, const struct tg_pkt *p)
{
	struct dir *d = &f->d[dir];
	bool syn_only = !(p->tcp_flags & TG_TCP_ACK);

	if (syn_only && d->role == ROLE_CLIENT && d->have_isn && p->seq != d->isn)
		flow_restart(f);
	if (d->state == DIR_DONE)
		return false;
	if (d->state == DIR_NEW) {
		d->have_isn = true;
		d->isn = p->seq;
	}
	if (d->role == ROLE_UNKNOWN) {
		d->role = syn_only ? ROLE_CLIENT : ROLE_SERVER;
		f->d[!dir].role = syn_only ? ROLE_SERVER : ROLE_CLIENT;
	}
	if (p->payload.len == 0)
		return false;
	if (syn_only && d->role == ROLE_CLIENT)
		return tcp_syn_data(in, f, dir);
	return true;
}

static void tcp_packet(struct inspect *in, const struct tg_pkt *p)
{
	const struct tg_reasm_stats *st;
	struct flow *f;
	struct dir *d;
	uint32_t dups;
	int dir;
	enum tg_err e;

	f = flow_get(in, p, &dir);
	if (f == NULL)
		return;
	d = &f->d[dir];
	/* Data in a SYN is data at isn + 1. */
	if ((p->tcp_flags & TG_TCP_SYN) && !tcp_handshake(in, f, dir, p))
		return;
	if (d->state == DIR_DONE || p->payload.len == 0)
		return;
	if (d->state == DIR_NEW) {
		if (!d->have_isn)
			d->isn = p->seq - 1; /* mid-stream: start at the first data seen */
		d->reasm = tg_reasm_new(d->isn);
		if (d->reasm == NULL) {
			dir_finish(d);
			return;
		}
		d->state = DIR_ACTIVE;
	}
	st = tg_reasm_stats(d->reasm);
	dups = st->dups;
	e = tg_reasm_add(d->reasm, (p->tcp_flags & TG_TCP_SYN) ? p->seq + 1 : p->seq, p->payload.p,
			 p->payload.len);
	if (e == TG_OK && st->dups != dups)
		return; /* nothing new: a retransmission */
	if (e != TG_OK)
		in->reasm_errors++;
	if (d->role == ROLE_CLIENT && (e == TG_ERR_REASM_CONFLICT || e == TG_ERR_REASM_WINDOW)) {
		/* As tlsgated: the flow fails at once, whatever it holds. */
		(void)inspect_emit_fail(in, f, dir,
					e == TG_ERR_REASM_CONFLICT ? TG_FLOW_FAIL_REASM_CONFLICT
								   : TG_FLOW_FAIL_REASM_WINDOW,
					e);
		dir_finish(d);
		return;
	}
	dir_examine(in, f, dir, e);
	/* Other directions keep what they have: a cap may still leave a complete ClientHello. */
	if (e != TG_OK && e != TG_ERR_CAP && d->state != DIR_DONE)
		dir_finish(d);
}

static void udp_packet(struct inspect *in, const struct tg_pkt *p)
{
	struct inspect_flow fl;

	if (p->sport != CTL_INSPECT_DNS_PORT && p->dport != CTL_INSPECT_DNS_PORT)
		return;
	inspect_flow_of(&fl, p->ip_version, p->src, p->sport, p->dst, p->dport);
	(void)inspect_emit_dns(in, &fl, 0, 17, p->payload.p, p->payload.len, DNS_QUERY);
}

static int linktype_of(int dlt, enum tg_linktype *lt)
{
	switch (dlt) {
	case DLT_EN10MB:
		*lt = TG_LINK_ETHERNET;
		return 0;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*lt = TG_LINK_RAW;
		return 0;
	case DLT_NULL:
		*lt = TG_LINK_NULL;
		return 0;
	case DLT_LOOP:
		*lt = TG_LINK_LOOP;
		return 0;
	case DLT_LINUX_SLL:
		*lt = TG_LINK_SLL;
		return 0;
	case DLT_LINUX_SLL2:
		*lt = TG_LINK_SLL2;
		return 0;
	default:
		return -1;
	}
}

static void inspect_free(struct inspect *in)
{
	size_t i;

	for (i = 0; i < in->tab_size; i++) {
		struct flow *f = in->tab[i], *next;

		for (; f != NULL; f = next) {
			next = f->next;
			tg_reasm_free(f->d[0].reasm);
			tg_reasm_free(f->d[1].reasm);
			free(f);
		}
	}
	free(in->tab);
	in->tab = NULL;
}

static void inspect_summary(const struct inspect *in, const char *path)
{
	size_t i;

	fprintf(stderr,
		"inspect: %s: %" PRIu64 " packets, %zu flows, %" PRIu64 " ClientHellos, %" PRIu64
		" invalid, %" PRIu64 " DNS messages (%" PRIu64 " invalid), %" PRIu64
		" HTTP requests\n",
		path, in->npkts, in->nflows, in->tls, in->tls_invalid, in->dns, in->dns_invalid,
		in->http);
	for (i = 0; i < TG_ERR__COUNT; i++)
		if (in->pkt_errors[i])
			fprintf(stderr, "inspect: %s: %" PRIu64 " packets skipped: %s\n", path,
				in->pkt_errors[i], tg_strerror((enum tg_err)i));
	if (in->flows_over_cap)
		fprintf(stderr,
			"inspect: %s: %" PRIu64 " packets of flows beyond the %u-flow cap not "
			"inspected\n",
			path, in->flows_over_cap, CTL_INSPECT_MAX_FLOWS);
	if (in->reasm_errors)
		fprintf(stderr, "inspect: %s: %" PRIu64 " segments refused by reassembly\n", path,
			in->reasm_errors);
	if (in->fails)
		fprintf(stderr, "inspect: %s: %" PRIu64 " client flows failed (tcp_fail lines)\n",
			path, in->fails);
}

int inspect_file(const char *path, FILE *out, const struct inspect_hooks *hooks, void *arg)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct inspect *in = NULL;
	pcap_t *pc = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	enum tg_linktype lt;
	int rc = 1, r;

	pc = pcap_open_offline(path, errbuf);
	if (pc == NULL) {
		fprintf(stderr, "inspect: %s: %s\n", path, errbuf);
		goto out;
	}
	if (linktype_of(pcap_datalink(pc), &lt) == -1) {
		fprintf(stderr, "inspect: %s: unsupported link type %s\n", path,
			pcap_datalink_val_to_name(pcap_datalink(pc)) ?: "unknown");
		goto out;
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL || getrandom(in->key, sizeof(in->key), 0) != (ssize_t)sizeof(in->key) ||
	    inspect_grow(in) == -1) {
		fprintf(stderr, "inspect: out of memory\n");
		goto out;
	}
	jw_init(&in->w, out);
	in->hooks = hooks;
	in->hooks_arg = arg;
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		struct tg_pkt p;
		enum tg_err e;

		in->npkts++;
		in->ts_ms = (uint64_t)h->ts.tv_sec * 1000 + (uint64_t)h->ts.tv_usec / 1000;
		e = tg_pkt_parse_link(&p, lt, data, h->caplen);
		if (e != TG_OK) {
			in->pkt_errors[e]++;
			continue;
		}
		if (p.proto == 6)
			tcp_packet(in, &p);
		else if (p.proto == 17)
			udp_packet(in, &p);
	}
	if (r == -1) {
		fprintf(stderr, "inspect: %s: %s\n", path, pcap_geterr(pc));
		goto out;
	}
	rc = 0;
out:
	if (in != NULL) {
		fflush(out);
		inspect_summary(in, path);
		inspect_free(in);
	}
	free(in);
	if (pc != NULL)
		pcap_close(pc);
	return rc;
}

void inspect_flow_of(struct inspect_flow *fl, uint8_t family, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport)
{
	fl->family = family;
	memcpy(fl->src, src, 16);
	memcpy(fl->dst, dst, 16);
	fl->sport = sport;
	fl->dport = dport;
}
