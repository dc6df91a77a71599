/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tlsx.c - the proxy worker's mbedTLS: configurations of the two legs, I/O callbacks, the
 * keylog, verified-chain and upstream-session caches; see tlsx.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/version.h>

#include "caps.h"
#include "tlsx.h"

/* ---- the mbedTLS 2.28 / 3.x differences ---- */
#if MBEDTLS_VERSION_NUMBER < 0x03000000
#include <mbedtls/ssl_internal.h>
#define TLSX_SSL_STATE(s)	((s)->state)
#define TLSX_SSL_IN_MSG(s)	((s)->in_msg)
#define TLSX_SSL_CLIENT_AUTH(s) ((s)->client_auth)
#define TLSX_SSL_RESUMED(s)	((s)->handshake != NULL && (s)->handshake->resume)
#define TLSX_PEER_CERT(s)	((s)->session != NULL ? (s)->session->peer_cert : NULL)
#else
#error "mbedTLS 3.x: add the accessors (MBEDTLS_PRIVATE fields) and TLS 1.3 here"
#endif

struct vslot {
	uint8_t h[32];
	int64_t until; /* 0: empty */
};

struct sslot {
	bool used;
	int64_t until; /* the chain verified when the session was made: its earliest expiry */
	char sni[TG_CAP_NAME_LEN + 1];
	mbedtls_ssl_session s;
};

struct tlsx {
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt trust;
	mbedtls_pk_context leaf_key;
	mbedtls_ssl_config srv, cli;
	mbedtls_ssl_ticket_context tickets;
	mbedtls_ssl_cache_context cache;
	int keylog_fd;
	struct vslot vc[PROXY_VERIFY_CACHE];
	struct sslot *sc; /* PROXY_UPSTREAM_SESSIONS */
	struct tlsx_stats st;
	int cli_suites[256]; /* upstream leg: the AEAD suites first, then mbedTLS's own list */
};

/*
 * ChaCha20-Poly1305 first: this mbedTLS encrypts it 1.3-1.6x faster than AES-128-GCM on one
 * core (test/bench/bench_tls.c: 327 vs 200-260 MB/s), and the proxy decrypts and encrypts every
 * byte: a 256 MiB download through the proxy went from 102-107 to 121-123 MB/s (three
 * alternating rounds of test/bench/bench_proxy.sh). The server's order decides on this leg.
 */
static const int srv_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	0,
};

/* x25519 first: measured faster than secp256r1 here (test/bench/bench_tls.c: ECDHE per side). */
static const mbedtls_ecp_group_id srv_curves[] = {
	MBEDTLS_ECP_DP_CURVE25519,
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_NONE,
};

static const char *alpn_h1[] = { "http/1.1", NULL };

static int io_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tlsx_io *io = ctx;
	ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	io->err = errno;
	return errno == ECONNRESET || errno == EPIPE ? MBEDTLS_ERR_NET_CONN_RESET
						     : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int io_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tlsx_io *io = ctx;
	ssize_t n;

	if (io->pre != NULL && io->pre_off < io->pre_len) {
		size_t k = io->pre_len - io->pre_off;

		if (k > len)
			k = len;
		memcpy(buf, io->pre + io->pre_off, k);
		io->pre_off += k;
		return (int)k;
	}
	n = recv(io->fd, buf, len, MSG_DONTWAIT);
	if (n > 0)
		return (int)n;
	if (n == 0) {
		io->eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	io->err = errno;
	return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

static void hex(char *out, const unsigned char *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SSLKEYLOGFILE: "CLIENT_RANDOM <client random> <master secret>", one write per line. */
static int keylog_cb(void *p, const unsigned char *ms, const unsigned char *kb, size_t maclen,
		     size_t keylen, size_t ivlen, const unsigned char client_random[32],
		     const unsigned char server_random[32], mbedtls_tls_prf_types prf)
{
	struct tlsx *t = p;
	char line[16 + 65 + 1 + 97 + 2], cr[65], m[97];

	(void)kb, (void)maclen, (void)keylen, (void)ivlen, (void)server_random, (void)prf;
	hex(cr, client_random, 32);
	hex(m, ms, 48);
	snprintf(line, sizeof(line), "CLIENT_RANDOM %s %s\n", cr, m);
	(void)!write(t->keylog_fd, line, strlen(line));
	return 0;
}

static int conf_common(struct tlsx *t, mbedtls_ssl_config *c, int endpoint)
{
	int r = mbedtls_ssl_config_defaults(c, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
					    MBEDTLS_SSL_PRESET_DEFAULT);

	if (r != 0)
		return r;
	mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, &t->drbg);
	mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	if (t->keylog_fd >= 0)
		mbedtls_ssl_conf_export_keys_ext_cb(c, keylog_cb, t);
	return mbedtls_ssl_conf_alpn_protocols(c, alpn_h1);
}

static void set_err(char *err, size_t errlen, const char *what, int r)
{
	char m[128];

	mbedtls_strerror(r, m, sizeof(m));
	snprintf(err, errlen, "%s: %s", what, m);
}

/*
 * Parse the PEM/DER bundle open on @fd (read with pread: the descriptor's offset is shared with
 * tlsgated's copy) into @crt. At most PROXY_TRUST_MAX bytes.
 */
static int trust_parse(mbedtls_x509_crt *crt, int fd, const char *name, char *err, size_t errlen)
{
	struct stat st;
	unsigned char *buf;
	size_t len = 0;
	int r;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PROXY_TRUST_MAX) {
		snprintf(err, errlen, "%s: not a regular file of 1 to %d bytes", name,
			 PROXY_TRUST_MAX);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", name,
				 n < 0 ? strerror(errno) : "shorter than it was");
			free(buf);
			return -1;
		}
		len += (size_t)n;
	}
	buf[len] = '\0'; /* PEM is parsed as a string, its NUL included in the length */
	r = mbedtls_x509_crt_parse(crt, buf, memchr(buf, '-', len) != NULL ? len + 1 : len);
	free(buf);
	if (r < 0) {
		set_err(err, errlen, name, r);
		return -1;
	}
	if (crt->version == 0) {
		snprintf(err, errlen, "%s: no certificate parsed", name);
		return -1;
	}
	return 0;
}

int tlsx_trust_check(int fd, const char *name, char *err, size_t errlen)
{
	mbedtls_x509_crt crt;
	int r;

	mbedtls_x509_crt_init(&crt);
	r = trust_parse(&crt, fd, name, err, errlen);
	mbedtls_x509_crt_free(&crt);
	return r;
}

/*
 * The upstream leg's offer (@n slots, 0-terminated): ECDHE AEAD suites in the client leg's
 * order of speed (a server that follows the client's preference picks the cheapest), then every
 * other suite mbedTLS offers by default, so no server is refused that it would have accepted.
 */
static void upstream_suites(int *out, size_t n)
{
	static const int first[] = {
		MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	};
	const int *all = mbedtls_ssl_list_ciphersuites();
	size_t k = 0, i, j;

	for (i = 0; i < sizeof(first) / sizeof(first[0]) && k + 1 < n; i++)
		if (mbedtls_ssl_ciphersuite_from_id(first[i]) != NULL)
			out[k++] = first[i];
	for (i = 0; all[i] != 0 && k + 1 < n; i++) {
		bool dup = false;

		for (j = 0; j < sizeof(first) / sizeof(first[0]); j++)
			dup |= all[i] == first[j];
		if (!dup)
			out[k++] = all[i];
	}
	out[k] = 0;
}

struct tlsx *tlsx_new(int trust_fd, const char *trust_name, int keylog_fd, char *err, size_t errlen)
{
	static const unsigned char pers[] = "tlsgate proxy worker";
	struct tlsx *t = calloc(1, sizeof(*t));
	int r;

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->keylog_fd = keylog_fd;
	mbedtls_entropy_init(&t->ent);
	mbedtls_ctr_drbg_init(&t->drbg);
	mbedtls_x509_crt_init(&t->trust);
	mbedtls_pk_init(&t->leaf_key);
	mbedtls_ssl_config_init(&t->srv);
	mbedtls_ssl_config_init(&t->cli);
	mbedtls_ssl_ticket_init(&t->tickets);
	mbedtls_ssl_cache_init(&t->cache);
	t->sc = calloc(PROXY_UPSTREAM_SESSIONS, sizeof(*t->sc));
	if (t->sc == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->ent, pers, sizeof(pers));
	if (r != 0) {
		set_err(err, errlen, "random generator", r);
		goto fail;
	}
	if (trust_parse(&t->trust, trust_fd, trust_name, err, errlen) != 0)
		goto fail;
	r = mbedtls_pk_setup(&t->leaf_key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (r == 0)
		r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(t->leaf_key),
					mbedtls_ctr_drbg_random, &t->drbg);
	if (r != 0) {
		set_err(err, errlen, "leaf key", r);
		goto fail;
	}
	r = mbedtls_ssl_ticket_setup(&t->tickets, mbedtls_ctr_drbg_random, &t->drbg,
				     MBEDTLS_CIPHER_AES_256_GCM, PROXY_TICKET_LIFETIME_S);
	if (r == 0)
		r = conf_common(t, &t->srv, MBEDTLS_SSL_IS_SERVER);
	if (r != 0) {
		set_err(err, errlen, "client leg configuration", r);
		goto fail;
	}
	mbedtls_ssl_conf_ciphersuites(&t->srv, srv_suites);
	mbedtls_ssl_conf_curves(&t->srv, srv_curves);
	mbedtls_ssl_conf_session_tickets_cb(&t->srv, mbedtls_ssl_ticket_write,
					    mbedtls_ssl_ticket_parse, &t->tickets);
	mbedtls_ssl_cache_set_max_entries(&t->cache, PROXY_SESSION_CACHE);
	mbedtls_ssl_conf_session_cache(&t->srv, &t->cache, mbedtls_ssl_cache_get,
				       mbedtls_ssl_cache_set);
	r = conf_common(t, &t->cli, MBEDTLS_SSL_IS_CLIENT);
	if (r != 0) {
		set_err(err, errlen, "upstream leg configuration", r);
		goto fail;
	}
	upstream_suites(t->cli_suites, sizeof(t->cli_suites) / sizeof(t->cli_suites[0]));
	mbedtls_ssl_conf_ciphersuites(&t->cli, t->cli_suites);
	/* Verified after the handshake by tlsx_verify(), against the cache first. */
	mbedtls_ssl_conf_authmode(&t->cli, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_session_tickets(&t->cli, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	return t;
fail:
	tlsx_free(t);
	return NULL;
}

void tlsx_free(struct tlsx *t)
{
	unsigned i;

	if (t == NULL)
		return;
	if (t->sc != NULL)
		for (i = 0; i < PROXY_UPSTREAM_SESSIONS; i++)
			if (t->sc[i].used)
				mbedtls_ssl_session_free(&t->sc[i].s);
	free(t->sc);
	mbedtls_ssl_cache_free(&t->cache);
	mbedtls_ssl_ticket_free(&t->tickets);
	mbedtls_ssl_config_free(&t->cli);
	mbedtls_ssl_config_free(&t->srv);
	mbedtls_pk_free(&t->leaf_key);
	mbedtls_x509_crt_free(&t->trust);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_entropy_free(&t->ent);
	free(t);
}

mbedtls_pk_context *tlsx_leaf_key(struct tlsx *t)
{
	return &t->leaf_key;
}

static mbedtls_ssl_context *leg_new(const mbedtls_ssl_config *conf, struct tlsx_io *io)
{
	mbedtls_ssl_context *ssl = malloc(sizeof(*ssl));

	if (ssl == NULL)
		return NULL;
	mbedtls_ssl_init(ssl);
	if (mbedtls_ssl_setup(ssl, conf) != 0) {
		tlsx_ssl_free(ssl);
		return NULL;
	}
	mbedtls_ssl_set_bio(ssl, io, io_send, io_recv, NULL);
	return ssl;
}

mbedtls_ssl_context *tlsx_client_leg(struct tlsx *t, struct tlsx_io *io)
{
	mbedtls_ssl_context *ssl = leg_new(&t->srv, io);

	/*
	 * The certificate of this connection, set before the handshake starts: mbedTLS picks the
	 * handshake's own certificate over the configuration's (with or without an SNI).
	 */
	if (ssl != NULL && mbedtls_ssl_set_hs_own_cert(ssl, io->own_crt, &t->leaf_key) != 0) {
		tlsx_ssl_free(ssl);
		return NULL;
	}
	return ssl;
}

static uint32_t sni_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

mbedtls_ssl_context *tlsx_upstream_leg(struct tlsx *t, struct tlsx_io *io, const char *sni)
{
	mbedtls_ssl_context *ssl = leg_new(&t->cli, io);
	struct sslot *s;

	if (ssl == NULL)
		return NULL;
	if (mbedtls_ssl_set_hostname(ssl, sni) != 0) {
		tlsx_ssl_free(ssl);
		return NULL;
	}
	s = &t->sc[sni_hash(sni) % PROXY_UPSTREAM_SESSIONS];
	if (s->used && strcmp(s->sni, sni) == 0)
		(void)mbedtls_ssl_set_session(ssl, &s->s);
	return ssl;
}

void tlsx_save_session(struct tlsx *t, mbedtls_ssl_context *up, const char *sni, bool resumed,
		       int64_t until)
{
	struct sslot *s = &t->sc[sni_hash(sni) % PROXY_UPSTREAM_SESSIONS];

	if (resumed) {
		t->st.sessions_resumed_up++;
		return;
	}
	if (s->used)
		mbedtls_ssl_session_free(&s->s);
	mbedtls_ssl_session_init(&s->s);
	s->used = mbedtls_ssl_get_session(up, &s->s) == 0;
	if (!s->used) {
		mbedtls_ssl_session_free(&s->s);
		return;
	}
	snprintf(s->sni, sizeof(s->sni), "%s", sni);
	s->until = until;
}

void tlsx_ssl_free(mbedtls_ssl_context *ssl)
{
	if (ssl == NULL)
		return;
	mbedtls_ssl_free(ssl);
	free(ssl);
}

bool tlsx_peer_alert(const mbedtls_ssl_context *ssl, int ret, uint8_t *level, uint8_t *code)
{
	if (ret != MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || TLSX_SSL_IN_MSG(ssl) == NULL)
		return false;
	*level = TLSX_SSL_IN_MSG(ssl)[0];
	*code = TLSX_SSL_IN_MSG(ssl)[1];
	return true;
}

bool tlsx_queued_alert(int fd, uint8_t *level, uint8_t *code)
{
	uint8_t b[7];

	if (recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT) != (ssize_t)sizeof(b))
		return false;
	/* A plaintext alert record: type 21, version 3.x, length 2. */
	if (b[0] != 21 || b[1] != 3 || b[3] != 0 || b[4] != 2)
		return false;
	*level = b[5];
	*code = b[6];
	return true;
}

bool tlsx_cert_requested(const mbedtls_ssl_context *ssl)
{
	return TLSX_SSL_CLIENT_AUTH(ssl) != 0;
}

bool tlsx_flight_sent(const mbedtls_ssl_context *ssl)
{
	/*
	 * What a client judges is the Certificate message: a full handshake reaches
	 * CERTIFICATE_REQUEST once it is out (each step flushes the previous step's output
	 * first), so a client that refuses it while the rest of the flight is being written (and
	 * resets the connection: the write fails) is still seen to refuse it. A resumed one never
	 * shows a certificate.
	 */
	return !tlsx_resumed(ssl) && TLSX_SSL_STATE(ssl) >= MBEDTLS_SSL_CERTIFICATE_REQUEST;
}

bool tlsx_resumed(const mbedtls_ssl_context *ssl)
{
	return TLSX_SSL_RESUMED(ssl);
}

int tlsx_upstream_handshake(mbedtls_ssl_context *ssl, bool *resumed)
{
	int r = 0;

	/* mbedtls_ssl_handshake()'s own loop, read between the steps. */
	while (TLSX_SSL_STATE(ssl) != MBEDTLS_SSL_HANDSHAKE_OVER) {
		r = mbedtls_ssl_handshake_step(ssl);
		if (TLSX_SSL_STATE(ssl) > MBEDTLS_SSL_SERVER_HELLO &&
		    TLSX_SSL_STATE(ssl) != MBEDTLS_SSL_HANDSHAKE_OVER)
			*resumed = TLSX_SSL_RESUMED(ssl);
		if (r != 0)
			break;
	}
	return r;
}

static int64_t x509_epoch(const mbedtls_x509_time *xt)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = xt->year - 1900;
	tm.tm_mon = xt->mon - 1;
	tm.tm_mday = xt->day;
	tm.tm_hour = xt->hour;
	tm.tm_min = xt->min;
	tm.tm_sec = xt->sec;
	return (int64_t)timegm(&tm);
}

bool tlsx_verify(struct tlsx *t, mbedtls_ssl_context *up, const char *sni, bool resumed,
		 int64_t now_s, enum proxy_up_err *why, int64_t *until_out)
{
	mbedtls_x509_crt *peer = TLSX_PEER_CERT(up);
	const mbedtls_x509_crt *c;
	mbedtls_sha256_context h;
	uint8_t d[32];
	struct vslot *slot;
	int64_t until = INT64_MAX;
	uint32_t flags = 0;
	unsigned idx;

	*why = PROXY_UP_UNTRUSTED;
	if (resumed) {
		/*
		 * An abbreviated handshake shows no chain: the server proved it holds the session
		 * this worker saved after verifying a full chain for this name (mbedTLS 2.28 keeps
		 * only the leaf in a session, so the chain cannot be verified again). Trusted until
		 * the earliest expiry in that chain.
		 */
		const struct sslot *s = &t->sc[sni_hash(sni) % PROXY_UPSTREAM_SESSIONS];
		const mbedtls_x509_crt *was = s->used ? s->s.peer_cert : NULL;

		/* And the certificate is the one verified then (defence in depth). */
		if (!s->used || strcmp(s->sni, sni) != 0 || peer == NULL || was == NULL ||
		    peer->raw.len != was->raw.len ||
		    memcmp(peer->raw.p, was->raw.p, peer->raw.len) != 0)
			return false;
		if (s->until <= now_s) {
			*why = PROXY_UP_EXPIRED;
			return false;
		}
		*until_out = s->until;
		return true;
	}
	if (peer == NULL)
		return false;
	mbedtls_sha256_init(&h);
	(void)mbedtls_sha256_starts_ret(&h, 0);
	for (c = peer; c != NULL && c->raw.len; c = c->next) {
		uint8_t n[4] = { (uint8_t)(c->raw.len >> 24), (uint8_t)(c->raw.len >> 16),
				 (uint8_t)(c->raw.len >> 8), (uint8_t)c->raw.len };

		(void)mbedtls_sha256_update_ret(&h, n, sizeof(n));
		(void)mbedtls_sha256_update_ret(&h, c->raw.p, c->raw.len);
		if (x509_epoch(&c->valid_to) < until)
			until = x509_epoch(&c->valid_to);
	}
	(void)mbedtls_sha256_update_ret(&h, (const uint8_t *)sni, strlen(sni) + 1);
	(void)mbedtls_sha256_finish_ret(&h, d);
	mbedtls_sha256_free(&h);
	idx = ((unsigned)d[0] | (unsigned)d[1] << 8) % PROXY_VERIFY_CACHE;
	slot = &t->vc[idx];
	*until_out = until;
	if (slot->until > now_s && memcmp(slot->h, d, sizeof(d)) == 0) {
		t->st.verify_cache_hits++;
		return true;
	}
	t->st.verify_runs++;
	if (mbedtls_x509_crt_verify(peer, &t->trust, NULL, sni, &flags, NULL, NULL) == 0) {
		memcpy(slot->h, d, sizeof(d));
		slot->until = until;
		return true;
	}
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		*why = PROXY_UP_UNTRUSTED;
	else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
		*why = PROXY_UP_EXPIRED;
	else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
		*why = PROXY_UP_NAME_MISMATCH;
	return false;
}

void tlsx_stats_get(const struct tlsx *t, struct tlsx_stats *out)
{
	*out = t->st;
}
