/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_inspect.c - tlsgatectl inspect FILE.pcap: offline inspection of a pcap or pcapng capture
 * with the same library code the daemon runs.
 *
 * Output: one JSON object per line, in capture order of the packet that completed it:
 *   {"type":"tls", ...}    each TCP flow direction whose first bytes are a TLS ClientHello
 *   {"type":"tls_invalid"} a direction that starts with a TLS handshake record that does not parse
 *   {"type":"dns", ...}    each DNS message over UDP or TCP port 53
 *   {"type":"http", ...}   the first HTTP/1.x request of each TCP flow direction
 * A summary of what could not be read goes to stderr.
 *
 * Each TCP direction reassembles its first bytes (lib/reasm) from the SYN's ISN, or, for flows
 * whose SYN is not in the capture, from the first data segment seen. A direction is examined
 * until it is classified; then its reassembly state is freed and only a tombstone is kept.
 * The flow table is capped (CTL_INSPECT_MAX_FLOWS); flows beyond it are counted, not inspected.
 */
#include <errno.h>
#include <getopt.h>
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
#include "tlsgate/http.h"
#include "tlsgate/ja4.h"
#include "tlsgate/pkt.h"
#include "tlsgate/reasm.h"
#include "tlsgate/tls_ch.h"

#include "ctl.h"
#include "inspect.h"
#include "jsonw.h"
#include "tuple.h"

#define CTL_INSPECT_MAX_FLOWS (1u << 20)
#define CTL_INSPECT_DNS_PORT  53

enum dir_state {
	DIR_NEW, /* nothing seen yet */
	DIR_ACTIVE, /* reassembling, not classified yet */
	DIR_DONE, /* classified (or given up): ignore further data */
};

struct dir {
	enum dir_state state;
	bool have_isn;
	uint32_t isn;
	struct tg_reasm *reasm;
	size_t dns_off; /* DNS over TCP: bytes of the stream already reported */
};

struct flow {
	struct flow *next;
	uint8_t family;
	uint8_t a[16], b[16]; /* a:ap is the endpoint that sent the first packet we saw */
	uint16_t ap, bp;
	struct dir d[2]; /* d[0]: a -> b, d[1]: b -> a */
};

struct inspect {
	struct jw w;
	const struct inspect_hooks *hooks;
	void *hooks_arg;
	struct flow **tab;
	size_t tab_size, nflows;
	uint8_t key[16]; /* flow table hash key, random: captures can be crafted too */
	uint64_t npkts, nbytes_pkt;
	uint64_t pkt_errors[TG_ERR__COUNT];
	uint64_t tls, tls_invalid, dns, dns_invalid, http, flows_over_cap, reasm_errors;
	uint8_t scratch[TG_CAP_CH_BYTES];
	struct tg_dns_msg dns_msg;
	double ts;
};

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

static void json_addr(struct jw *w, const char *key, uint8_t family, const uint8_t *addr)
{
	char buf[64];

	tg_addr_format(family, addr, buf, sizeof(buf));
	jw_kv_str(w, key, buf);
}

/* Common head of every output line. */
static void json_head(struct inspect *in, const char *type, uint8_t family, const uint8_t *src,
		      uint16_t sport, const uint8_t *dst, uint16_t dport)
{
	struct jw *w = &in->w;
	char ts[32];

	jw_obj_begin(w);
	jw_kv_str(w, "type", type);
	snprintf(ts, sizeof(ts), "%.6f", in->ts);
	jw_key(w, "ts");
	jw_raw(w, ts);
	json_addr(w, "src", family, src);
	json_addr(w, "dst", family, dst);
	jw_kv_uint(w, "sport", sport);
	jw_kv_uint(w, "dport", dport);
}

static const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "1.3";
	case 0x0303:
		return "1.2";
	case 0x0302:
		return "1.1";
	case 0x0301:
		return "1.0";
	case 0x0300:
		return "ssl3";
	default:
		return NULL;
	}
}

static void json_tls_version(struct jw *w, uint16_t v)
{
	const char *name = tls_version_name(v);
	char buf[8];

	if (name == NULL) {
		snprintf(buf, sizeof(buf), "0x%04x", v);
		name = buf;
	}
	jw_str(w, name);
}

static void emit_tls(struct inspect *in, const struct flow *f, int dir, const struct tg_ch *ch)
{
	struct jw *w = &in->w;
	char ja4[TG_JA4_LEN + 1];
	char ja4r[TG_JA4_RAW_MAX];
	struct inspect_flow fl;
	size_t i;

	inspect_flow_of(&fl, f->family, dir ? f->b : f->a, dir ? f->bp : f->ap, dir ? f->a : f->b,
			dir ? f->ap : f->bp);
	json_head(in, "tls", f->family, fl.src, fl.sport, fl.dst, fl.dport);
	jw_key(w, "sni");
	if (ch->has_sni)
		jw_bytes(w, ch->sni.p, ch->sni.len);
	else
		jw_null(w);
	jw_key(w, "alpn");
	jw_arr_begin(w);
	for (i = 0; i < ch->n_alpn; i++)
		jw_bytes(w, ch->alpn[i].p, ch->alpn[i].len);
	jw_arr_end(w);
	jw_key(w, "tls_versions");
	jw_arr_begin(w);
	for (i = 0; i < ch->n_versions; i++)
		if (!tg_tls_is_grease(ch->versions[i]))
			json_tls_version(w, ch->versions[i]);
	jw_arr_end(w);
	jw_key(w, "legacy_version");
	json_tls_version(w, ch->legacy_version);
	jw_kv_bool(w, "ech", ch->has_ech);
	if (tg_ja4(ch, 't', ja4) == TG_OK)
		jw_kv_str(w, "ja4", ja4);
	if (tg_ja4_raw(ch, 't', ja4r, sizeof(ja4r)) == TG_OK)
		jw_kv_str(w, "ja4_r", ja4r);
	if (in->hooks && in->hooks->tls)
		in->hooks->tls(in->hooks_arg, w, &fl, ch);
	jw_obj_end(w);
	jw_line_end(w);
	in->tls++;
}

static void emit_invalid(struct inspect *in, const struct flow *f, int dir, const char *type,
			 enum tg_err e)
{
	struct jw *w = &in->w;

	json_head(in, type, f->family, dir ? f->b : f->a, dir ? f->bp : f->ap, dir ? f->a : f->b,
		  dir ? f->ap : f->bp);
	jw_kv_str(w, "error", tg_strerror(e));
	jw_kv_str(w, "code", tg_err_name(e));
	jw_obj_end(w);
	jw_line_end(w);
}

static void emit_http(struct inspect *in, const struct flow *f, int dir,
		      const struct tg_http_req *req)
{
	struct jw *w = &in->w;
	struct inspect_flow fl;

	inspect_flow_of(&fl, f->family, dir ? f->b : f->a, dir ? f->bp : f->ap, dir ? f->a : f->b,
			dir ? f->ap : f->bp);
	json_head(in, "http", f->family, fl.src, fl.sport, fl.dst, fl.dport);
	jw_kv_bytes(w, "method", req->method.p, req->method.len);
	jw_kv_bytes(w, "target", req->target.p, req->target.len);
	jw_key(w, "host");
	if (req->host.len)
		jw_bytes(w, req->host.p, req->host.len);
	else
		jw_null(w);
	if (in->hooks && in->hooks->http)
		in->hooks->http(in->hooks_arg, w, &fl, req);
	jw_obj_end(w);
	jw_line_end(w);
	in->http++;
}

static void emit_dns(struct inspect *in, uint8_t family, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport, const char *transport, const uint8_t *msg,
		     size_t len)
{
	struct tg_dns_msg *m = &in->dns_msg;
	struct jw *w = &in->w;
	enum tg_err e = tg_dns_parse(m, msg, len);
	size_t i;

	json_head(in, e == TG_OK ? "dns" : "dns_invalid", family, src, sport, dst, dport);
	jw_kv_str(w, "transport", transport);
	if (e != TG_OK) {
		jw_kv_str(w, "error", tg_strerror(e));
		jw_kv_str(w, "code", tg_err_name(e));
		jw_obj_end(w);
		jw_line_end(w);
		in->dns_invalid++;
		return;
	}
	jw_kv_uint(w, "id", m->id);
	jw_kv_bool(w, "response", m->qr);
	jw_kv_uint(w, "rcode", m->rcode);
	if (m->n_q > 0) {
		const char *tn = tg_dns_type_name(m->q[0].qtype);

		jw_kv_bytes(w, "qname", (const uint8_t *)m->q[0].name.text, m->q[0].name.len);
		jw_key(w, "qtype");
		if (tn)
			jw_str(w, tn);
		else
			jw_uint(w, m->q[0].qtype);
	}
	jw_key(w, "answers");
	jw_arr_begin(w);
	for (i = 0; i < m->n_an; i++) {
		const struct tg_dns_rr *rr = &m->an[i];
		const char *tn = tg_dns_type_name(rr->type);
		char abuf[64];

		jw_obj_begin(w);
		jw_kv_bytes(w, "name", (const uint8_t *)rr->name.text, rr->name.len);
		jw_key(w, "type");
		if (tn)
			jw_str(w, tn);
		else
			jw_uint(w, rr->type);
		jw_kv_uint(w, "ttl", rr->ttl);
		switch (rr->type) {
		case 1:
			tg_addr_format(4, rr->u.a, abuf, sizeof(abuf));
			jw_kv_str(w, "data", abuf);
			break;
		case 28:
			tg_addr_format(6, rr->u.aaaa, abuf, sizeof(abuf));
			jw_kv_str(w, "data", abuf);
			break;
		case 5:
			jw_kv_bytes(w, "data", (const uint8_t *)rr->u.cname.text, rr->u.cname.len);
			break;
		case 64:
		case 65:
			jw_kv_uint(w, "priority", rr->u.svcb.priority);
			jw_kv_bytes(w, "target", (const uint8_t *)rr->u.svcb.target.text,
				    rr->u.svcb.target.len);
			jw_kv_bool(w, "ech", rr->u.svcb.has_ech);
			break;
		default:
			break;
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
	if (in->hooks && in->hooks->dns)
		in->hooks->dns(in->hooks_arg, w, family, src, dst, m);
	jw_obj_end(w);
	jw_line_end(w);
	in->dns++;
}

/* A TCP direction got new bytes: try to classify what its stream starts with. */
static void dir_examine(struct inspect *in, struct flow *f, int dir)
{
	struct dir *d = &f->d[dir];
	struct tg_span s = tg_reasm_contig(d->reasm);
	uint16_t sport = dir ? f->bp : f->ap, dport = dir ? f->ap : f->bp;
	struct tg_ch ch;
	struct tg_http_req req;
	enum tg_err e;

	if (s.len == 0)
		return;
	if (sport == CTL_INSPECT_DNS_PORT || dport == CTL_INSPECT_DNS_PORT) {
		/* DNS over TCP: report every complete framed message in the stream. */
		for (;;) {
			struct tg_span msg;
			size_t used;

			e = tg_dns_tcp_frame(s.p + d->dns_off, s.len - d->dns_off, &msg, &used);
			if (e == TG_NEED_MORE)
				return;
			if (e != TG_OK) {
				emit_invalid(in, f, dir, "dns_invalid", e);
				in->dns_invalid++;
				dir_finish(d);
				return;
			}
			emit_dns(in, f->family, dir ? f->b : f->a, sport, dir ? f->a : f->b, dport,
				 "tcp", msg.p, msg.len);
			d->dns_off += used;
		}
	}
	if (s.p[0] == 0x16) {
		e = tg_tls_ch_parse(&ch, s.p, s.len, in->scratch);
		if (e == TG_NEED_MORE)
			return;
		if (e == TG_OK) {
			emit_tls(in, f, dir, &ch);
		} else if (e != TG_ERR_TLS_NOT_CLIENT_HELLO) {
			/* A server's first flight is not a ClientHello: not worth a line. */
			emit_invalid(in, f, dir, "tls_invalid", e);
			in->tls_invalid++;
		}
		dir_finish(d);
		return;
	}
	e = tg_http_req_parse(&req, s.p, s.len);
	if (e == TG_NEED_MORE)
		return;
	if (e == TG_OK)
		emit_http(in, f, dir, &req);
	dir_finish(d);
}

static void tcp_packet(struct inspect *in, const struct tg_pkt *p)
{
	struct flow *f;
	struct dir *d;
	int dir;
	enum tg_err e;

	f = flow_get(in, p, &dir);
	if (f == NULL)
		return;
	d = &f->d[dir];
	if (d->state == DIR_DONE)
		return;
	if (p->tcp_flags & TG_TCP_SYN) {
		if (d->state == DIR_NEW) {
			d->have_isn = true;
			d->isn = p->seq;
		}
		/* Data in a SYN (TCP Fast Open) is data at isn + 1. */
		if (p->payload.len == 0)
			return;
	}
	if (p->payload.len == 0)
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
	e = tg_reasm_add(d->reasm, (p->tcp_flags & TG_TCP_SYN) ? p->seq + 1 : p->seq, p->payload.p,
			 p->payload.len);
	if (e != TG_OK) {
		in->reasm_errors++;
		/* Keep what we have: a cap may still leave a complete ClientHello. */
		dir_examine(in, f, dir);
		if (d->state != DIR_DONE)
			dir_finish(d);
		return;
	}
	dir_examine(in, f, dir);
}

static void udp_packet(struct inspect *in, const struct tg_pkt *p)
{
	if (p->sport != CTL_INSPECT_DNS_PORT && p->dport != CTL_INSPECT_DNS_PORT)
		return;
	emit_dns(in, p->ip_version, p->src, p->sport, p->dst, p->dport, "udp", p->payload.p,
		 p->payload.len);
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
		in->ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
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

static void inspect_usage(FILE *f)
{
	fprintf(f,
		"usage: tlsgatectl inspect FILE.pcap... [--policy FILE [--content DIR]]\n"
		"  one JSON object per line for each TLS ClientHello, DNS message and HTTP\n"
		"  request in each pcap or pcapng capture; with --policy, each line also carries\n"
		"  the decision the policy gives that flow (\"decision\", as tlsgatectl "
		"explain)\n");
}

/* --policy: classify each line's flow offline (no dynamic bypass table). */
struct inspect_policy {
	struct tg_policy *p;
	struct tg_content *c;
};

static void facts_init(struct tg_flow_facts *f, enum tg_flow_kind kind, uint8_t family,
		       const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->family = family;
	memcpy(f->src, src, 16);
	memcpy(f->dst, dst, 16);
	f->sport = sport;
	f->dport = dport;
}

static void decide_out(const struct inspect_policy *ip, struct jw *w, const struct tg_flow_facts *f)
{
	struct tg_decision dc;

	if (tg_classify(ip->p, ip->c, NULL, f, 0, &dc) != TG_OK)
		return;
	jw_key(w, "decision");
	ctl_decision_json(w, ip->p, ip->c, &dc);
}

static void hook_tls(void *arg, struct jw *w, const struct inspect_flow *fl, const struct tg_ch *ch)
{
	struct tg_flow_facts f;
	char ja4[TG_JA4_LEN + 1];

	facts_init(&f, TG_FLOW_TLS, fl->family, fl->src, fl->dst, fl->sport, fl->dport);
	tg_flow_facts_set_ch(&f, ch, ja4);
	decide_out(arg, w, &f);
}

static void hook_http(void *arg, struct jw *w, const struct inspect_flow *fl,
		      const struct tg_http_req *req)
{
	struct tg_flow_facts f;

	facts_init(&f, TG_FLOW_HTTP, fl->family, fl->src, fl->dst, fl->sport, fl->dport);
	f.http_host = req->host;
	f.http_path = tg_http_req_path(req);
	decide_out(arg, w, &f);
}

static void hook_dns(void *arg, struct jw *w, uint8_t family, const uint8_t *src,
		     const uint8_t *dst, const struct tg_dns_msg *m)
{
	struct tg_flow_facts f;

	/* Queries only: a response is not a flow the gateway decides. */
	if (m->qr || m->n_q == 0)
		return;
	facts_init(&f, TG_FLOW_DNS, family, src, dst, 0, 53);
	f.dns_name.p = (const uint8_t *)m->q[0].name.text;
	f.dns_name.len = m->q[0].name.len;
	decide_out(arg, w, &f);
}

int ctl_inspect_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "policy", required_argument, NULL, 'p' },
		{ "content", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct inspect_hooks hooks = { hook_tls, hook_http, hook_dns };
	const char *policy = NULL, *content = NULL;
	struct inspect_policy ip = { NULL, NULL };
	struct tg_diag *d = NULL;
	uint8_t key[16];
	int c, i, rc = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			inspect_usage(stdout);
			return 0;
		case 'p':
			policy = optarg;
			break;
		case 'c':
			content = optarg;
			break;
		default:
			inspect_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		inspect_usage(stderr);
		return 2;
	}
	if (policy != NULL) {
		d = calloc(1, sizeof(*d));
		if (d == NULL || ctl_key(key) == -1)
			goto fail;
		tg_diag_init(d);
		ip.c = ctl_load_content(content, key, d);
		if (ip.c == NULL)
			goto fail;
		ip.p = ctl_load_policy(policy, ip.c, key, false);
		if (ip.p == NULL)
			goto fail;
	}
	for (i = optind; i < argc; i++)
		if (inspect_file(argv[i], stdout, policy ? &hooks : NULL, &ip) != 0)
			rc = 1;
out:
	tg_policy_free(ip.p);
	tg_content_free(ip.c);
	free(d);
	return rc;
fail:
	rc = 1;
	goto out;
}
