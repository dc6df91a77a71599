/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_tls.c - what the decrypting proxy's TLS costs in mbedTLS 2.28, in memory on one core:
 * ECDHE (x25519 and secp256r1, key generation + shared secret, one side), ECDSA P-256 sign and
 * verify, a full TLS 1.2 handshake between a client and a server over memory buffers
 * (ECDHE-ECDSA-AES128-GCM-SHA256, a leaf signed by a CA, the client verifying it) for x25519
 * and for secp256r1, a resumed handshake (session ticket, and session id from the server's
 * cache), and record encryption of 16 KiB records with AES-128-GCM and ChaCha20-Poly1305
 * (encrypt alone; encrypt and decrypt). Times are this thread's CPU time, so a busy machine
 * slows the numbers less than wall time would. Prints numbers; asserts nothing.
 *
 * usage: bench_tls [all|kex|sig|hs|aead] [SECONDS per measurement, default 1]
 * The aead line of AES-128-GCM ("aes-128-gcm ... record encrypt N MB/s") is what
 * bench_proxy.sh reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#error "bench_tls measures mbedTLS 2.28 (daemon/tlsx.c has the same limit)"
#endif

#define REC	    16384 /* a full TLS record of plaintext */
#define BUF_SIZE    65536 /* one direction of the memory transport */
#define RESUMED_MAX 400 /* bytes: a server flight without a Certificate is smaller */

static mbedtls_entropy_context ent;
static mbedtls_ctr_drbg_context drbg;
static double target_s = 1.0;

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int r)
{
	char e[128];

	mbedtls_strerror(r, e, sizeof(e));
	fprintf(stderr, "bench_tls: %s: -0x%04x %s\n", what, (unsigned)-r, e);
	exit(1);
}

static void check(const char *what, int r)
{
	if (r != 0)
		die(what, r);
}

/* ---- ECDHE and ECDSA ---- */

/* One exchange between two contexts, as in TLS 1.2: A's params, B's public, both secrets. */
static void ecdh_once(mbedtls_ecp_group_id gid)
{
	mbedtls_ecdh_context a, b;
	unsigned char buf[256], za[66], zb[66];
	size_t len, la, lb;
	const unsigned char *p = buf;

	mbedtls_ecdh_init(&a);
	mbedtls_ecdh_init(&b);
	check("ecdh setup", mbedtls_ecdh_setup(&a, gid));
	check("ecdh make params",
	      mbedtls_ecdh_make_params(&a, &len, buf, sizeof(buf), mbedtls_ctr_drbg_random, &drbg));
	check("ecdh read params", mbedtls_ecdh_read_params(&b, &p, buf + len));
	check("ecdh make public",
	      mbedtls_ecdh_make_public(&b, &len, buf, sizeof(buf), mbedtls_ctr_drbg_random, &drbg));
	check("ecdh read public", mbedtls_ecdh_read_public(&a, buf, len));
	check("ecdh calc a",
	      mbedtls_ecdh_calc_secret(&a, &la, za, sizeof(za), mbedtls_ctr_drbg_random, &drbg));
	check("ecdh calc b",
	      mbedtls_ecdh_calc_secret(&b, &lb, zb, sizeof(zb), mbedtls_ctr_drbg_random, &drbg));
	if (la != lb || memcmp(za, zb, la) != 0) {
		fprintf(stderr, "bench_tls: ECDH secrets differ\n");
		exit(1);
	}
	mbedtls_ecdh_free(&a);
	mbedtls_ecdh_free(&b);
}

static void bench_kex(void)
{
	static const struct {
		const char *name;
		mbedtls_ecp_group_id gid;
	} g[] = {
		{ "x25519", MBEDTLS_ECP_DP_CURVE25519 },
		{ "secp256r1", MBEDTLS_ECP_DP_SECP256R1 },
	};
	size_t i;

#if defined(MBEDTLS_ECP_NIST_OPTIM)
	printf("== ECDHE, one side (key generation + shared secret); MBEDTLS_ECP_NIST_OPTIM on\n");
#else
	printf("== ECDHE, one side (key generation + shared secret); MBEDTLS_ECP_NIST_OPTIM off\n");
#endif
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		double t0 = cpu_now(), t;
		unsigned long n = 0;

		do {
			ecdh_once(g[i].gid);
			n++;
		} while ((t = cpu_now() - t0) < target_s);
		/* each exchange is both sides: two key generations and two secrets */
		printf("%-10s %8.1f us per side   %8.0f sides/s\n", g[i].name, t * 1e6 / (2.0 * n),
		       2.0 * n / t);
	}
}

static void gen_key(mbedtls_pk_context *pk)
{
	mbedtls_pk_init(pk);
	check("pk setup", mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)));
	check("ec genkey", mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
					       mbedtls_ctr_drbg_random, &drbg));
}

static void bench_sig(void)
{
	mbedtls_pk_context pk;
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t sig_len = 0;
	unsigned long n = 0;
	double t0, t;

	gen_key(&pk);
	check("sha256", mbedtls_sha256_ret((const unsigned char *)"bench", 5, hash, 0));
	printf("== ECDSA P-256 (SHA-256)\n");
	t0 = cpu_now();
	do {
		check("sign", mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
					      &sig_len, mbedtls_ctr_drbg_random, &drbg));
		n++;
	} while ((t = cpu_now() - t0) < target_s);
	printf("sign       %8.1f us   %8.0f /s\n", t * 1e6 / (double)n, (double)n / t);
	n = 0;
	t0 = cpu_now();
	do {
		check("verify",
		      mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, sig_len));
		n++;
	} while ((t = cpu_now() - t0) < target_s);
	printf("verify     %8.1f us   %8.0f /s\n", t * 1e6 / (double)n, (double)n / t);
	mbedtls_pk_free(&pk);
}

/* ---- TLS 1.2 over memory ---- */

struct pipe {
	unsigned char b[BUF_SIZE];
	size_t len;
	size_t sent; /* bytes written since the handshake began */
	int sink; /* writes are counted and dropped */
};

struct end {
	mbedtls_ssl_context ssl;
	struct pipe *in, *out;
	double cpu; /* in this end's handshake steps */
};

static int mem_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct end *e = ctx;
	struct pipe *p = e->out;

	p->sent += len;
	if (p->sink)
		return (int)len;
	if (len > sizeof(p->b) - p->len)
		len = sizeof(p->b) - p->len;
	if (len == 0)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	memcpy(p->b + p->len, buf, len);
	p->len += len;
	return (int)len;
}

static int mem_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct end *e = ctx;
	struct pipe *p = e->in;

	if (p->len == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (len > p->len)
		len = p->len;
	memcpy(buf, p->b, len);
	memmove(p->b, p->b + len, p->len - len);
	p->len -= len;
	return (int)len;
}

struct pki {
	mbedtls_pk_context ca_key, leaf_key;
	mbedtls_x509_crt ca, leaf;
};

/* A certificate for @subject with @key, signed by @issuer_key as @issuer, parsed into @out. */
static void make_crt(mbedtls_x509_crt *out, mbedtls_pk_context *key, const char *subject,
		     mbedtls_pk_context *issuer_key, const char *issuer, int is_ca)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	unsigned char der[2048];
	int len;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	check("serial", mbedtls_mpi_lset(&serial, is_ca ? 1 : 2));
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, key);
	mbedtls_x509write_crt_set_issuer_key(&w, issuer_key);
	check("subject", mbedtls_x509write_crt_set_subject_name(&w, subject));
	check("issuer", mbedtls_x509write_crt_set_issuer_name(&w, issuer));
	check("serial", mbedtls_x509write_crt_set_serial(&w, &serial));
	check("validity",
	      mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20991231235959"));
	check("constraints", mbedtls_x509write_crt_set_basic_constraints(&w, is_ca, -1));
	len = mbedtls_x509write_crt_der(&w, der, sizeof(der), mbedtls_ctr_drbg_random, &drbg);
	if (len < 0)
		die("write crt", len);
	mbedtls_x509_crt_init(out);
	check("parse crt", mbedtls_x509_crt_parse_der(out, der + sizeof(der) - len, (size_t)len));
	mbedtls_x509write_crt_free(&w);
	mbedtls_mpi_free(&serial);
}

static void pki_init(struct pki *k)
{
	gen_key(&k->ca_key);
	gen_key(&k->leaf_key);
	make_crt(&k->ca, &k->ca_key, "CN=bench CA", &k->ca_key, "CN=bench CA", 1);
	make_crt(&k->leaf, &k->leaf_key, "CN=www.bench.test", &k->ca_key, "CN=bench CA", 0);
}

enum resume { R_NONE, R_TICKET, R_CACHE };

struct tls {
	mbedtls_ssl_config ccf, scf;
	mbedtls_ssl_ticket_context tickets;
	mbedtls_ssl_cache_context cache;
	struct pipe c2s, s2c;
	struct end c, s;
	int suites[2];
	mbedtls_ecp_group_id curves[3];
};

static void tls_init(struct tls *t, struct pki *k, int suite, mbedtls_ecp_group_id curve)
{
	memset(t, 0, sizeof(*t));
	t->suites[0] = suite;
	/*
	 * The server takes the first of its own curves that the client offers; secp256r1 stays
	 * on the list in every case because the leaf's key is a P-256 key (2.28 checks the
	 * certificate's curve against the client's list).
	 */
	t->curves[0] = curve;
	t->curves[1] = MBEDTLS_ECP_DP_SECP256R1;
	t->curves[2] = MBEDTLS_ECP_DP_NONE;
	mbedtls_ssl_config_init(&t->ccf);
	mbedtls_ssl_config_init(&t->scf);
	mbedtls_ssl_ticket_init(&t->tickets);
	mbedtls_ssl_cache_init(&t->cache);
	check("client defaults", mbedtls_ssl_config_defaults(&t->ccf, MBEDTLS_SSL_IS_CLIENT,
							     MBEDTLS_SSL_TRANSPORT_STREAM,
							     MBEDTLS_SSL_PRESET_DEFAULT));
	check("server defaults", mbedtls_ssl_config_defaults(&t->scf, MBEDTLS_SSL_IS_SERVER,
							     MBEDTLS_SSL_TRANSPORT_STREAM,
							     MBEDTLS_SSL_PRESET_DEFAULT));
	mbedtls_ssl_conf_rng(&t->ccf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_rng(&t->scf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_min_version(&t->ccf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_min_version(&t->scf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&t->ccf, t->suites);
	mbedtls_ssl_conf_ciphersuites(&t->scf, t->suites);
	mbedtls_ssl_conf_curves(&t->ccf, t->curves);
	mbedtls_ssl_conf_curves(&t->scf, t->curves);
	mbedtls_ssl_conf_authmode(&t->ccf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&t->ccf, &k->ca, NULL);
	check("own cert", mbedtls_ssl_conf_own_cert(&t->scf, &k->leaf, &k->leaf_key));
	check("ticket setup", mbedtls_ssl_ticket_setup(&t->tickets, mbedtls_ctr_drbg_random, &drbg,
						       MBEDTLS_CIPHER_AES_256_GCM, 3600));
	mbedtls_ssl_conf_session_tickets_cb(&t->scf, mbedtls_ssl_ticket_write,
					    mbedtls_ssl_ticket_parse, &t->tickets);
	mbedtls_ssl_conf_session_cache(&t->scf, &t->cache, mbedtls_ssl_cache_get,
				       mbedtls_ssl_cache_set);

	mbedtls_ssl_init(&t->c.ssl);
	mbedtls_ssl_init(&t->s.ssl);
	check("client setup", mbedtls_ssl_setup(&t->c.ssl, &t->ccf));
	check("server setup", mbedtls_ssl_setup(&t->s.ssl, &t->scf));
	t->c.in = &t->s2c;
	t->c.out = &t->c2s;
	t->s.in = &t->c2s;
	t->s.out = &t->s2c;
	mbedtls_ssl_set_bio(&t->c.ssl, &t->c, mem_send, mem_recv, NULL);
	mbedtls_ssl_set_bio(&t->s.ssl, &t->s, mem_send, mem_recv, NULL);
}

static void tls_free(struct tls *t)
{
	mbedtls_ssl_free(&t->c.ssl);
	mbedtls_ssl_free(&t->s.ssl);
	mbedtls_ssl_config_free(&t->ccf);
	mbedtls_ssl_config_free(&t->scf);
	mbedtls_ssl_ticket_free(&t->tickets);
	mbedtls_ssl_cache_free(&t->cache);
}

/* One step of one end; 1 when its handshake is over. Its CPU time goes to e->cpu. */
static int step(struct end *e, const char *who)
{
	double t0;
	int r;

	if (e->ssl.state == MBEDTLS_SSL_HANDSHAKE_OVER)
		return 1;
	t0 = cpu_now();
	r = mbedtls_ssl_handshake_step(&e->ssl);
	e->cpu += cpu_now() - t0;
	if (r != 0 && r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
		die(who, r);
	return e->ssl.state == MBEDTLS_SSL_HANDSHAKE_OVER;
}

/* One handshake from fresh contexts; with @sess, the client offers that session. */
static void handshake(struct tls *t, const mbedtls_ssl_session *sess)
{
	int cdone = 0, sdone = 0;

	check("client reset", mbedtls_ssl_session_reset(&t->c.ssl));
	check("server reset", mbedtls_ssl_session_reset(&t->s.ssl));
	t->c2s.len = t->s2c.len = t->c2s.sent = t->s2c.sent = 0;
	check("hostname", mbedtls_ssl_set_hostname(&t->c.ssl, "www.bench.test"));
	if (sess != NULL)
		check("set session", mbedtls_ssl_set_session(&t->c.ssl, sess));
	while (!cdone || !sdone) {
		cdone = step(&t->c, "client handshake");
		sdone = step(&t->s, "server handshake");
	}
}

static void bench_hs_one(struct pki *k, const char *name, mbedtls_ecp_group_id curve,
			 enum resume res)
{
	struct tls *t = malloc(sizeof(*t));
	mbedtls_ssl_session sess;
	unsigned long n = 0, resumed = 0;
	double t0, tt;

	if (t == NULL)
		exit(1);
	tls_init(t, k, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, curve);
	mbedtls_ssl_conf_session_tickets(&t->ccf, res == R_TICKET
							  ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
							  : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	mbedtls_ssl_session_init(&sess);
	handshake(t, NULL);
	check("get session", mbedtls_ssl_get_session(&t->c.ssl, &sess));
	t->c.cpu = t->s.cpu = 0;
	t0 = cpu_now();
	do {
		handshake(t, res == R_NONE ? NULL : &sess);
		/* a resumed server flight has no Certificate: far below a full one's size */
		resumed += t->s2c.sent < RESUMED_MAX;
		n++;
	} while ((tt = cpu_now() - t0) < target_s);
	printf("%-28s %8.1f us  (server %7.1f, client %7.1f)  %7.0f /s  resumed %lu/%lu\n", name,
	       tt * 1e6 / (double)n, t->s.cpu * 1e6 / (double)n, t->c.cpu * 1e6 / (double)n,
	       (double)n / tt, resumed, n);
	mbedtls_ssl_session_free(&sess);
	tls_free(t);
	free(t);
}

static void bench_hs(void)
{
	struct pki k;

	pki_init(&k);
	printf("== TLS 1.2 handshake in memory, ECDHE-ECDSA-AES128-GCM-SHA256, P-256 leaf signed "
	       "by "
	       "a CA\n   (client + server per handshake; the server is the proxy's client leg)\n");
	bench_hs_one(&k, "full, x25519", MBEDTLS_ECP_DP_CURVE25519, R_NONE);
	bench_hs_one(&k, "full, secp256r1", MBEDTLS_ECP_DP_SECP256R1, R_NONE);
	bench_hs_one(&k, "resumed, session ticket", MBEDTLS_ECP_DP_CURVE25519, R_TICKET);
	bench_hs_one(&k, "resumed, session id (cache)", MBEDTLS_ECP_DP_CURVE25519, R_CACHE);
	mbedtls_x509_crt_free(&k.ca);
	mbedtls_x509_crt_free(&k.leaf);
	mbedtls_pk_free(&k.ca_key);
	mbedtls_pk_free(&k.leaf_key);
}

/* ---- records ---- */

static void bench_aead_one(struct pki *k, const char *name, int suite)
{
	struct tls *t = malloc(sizeof(*t));
	static unsigned char data[REC], back[REC];
	unsigned long n = 0;
	double t0, tt, enc;
	int r;

	if (t == NULL)
		exit(1);
	memset(data, 'x', sizeof(data));
	tls_init(t, k, suite, MBEDTLS_ECP_DP_CURVE25519);
	handshake(t, NULL);
	/* encrypt alone: the records go nowhere */
	t->c2s.sink = 1;
	t0 = cpu_now();
	do {
		r = mbedtls_ssl_write(&t->c.ssl, data, sizeof(data));
		if (r != (int)sizeof(data))
			die("write", r);
		n++;
	} while ((tt = cpu_now() - t0) < target_s);
	enc = (double)n * REC / tt / 1e6;
	/* encrypt on one end, decrypt on the other: what a relay does to each byte */
	t->c2s.sink = 0;
	handshake(t, NULL); /* the server never saw the sunk records: start both ends again */
	n = 0;
	t0 = cpu_now();
	do {
		size_t got = 0;

		r = mbedtls_ssl_write(&t->c.ssl, data, sizeof(data));
		if (r != (int)sizeof(data))
			die("write", r);
		while (got < sizeof(back)) {
			r = mbedtls_ssl_read(&t->s.ssl, back + got, sizeof(back) - got);
			if (r <= 0)
				die("read", r);
			got += (size_t)r;
		}
		n++;
	} while ((tt = cpu_now() - t0) < target_s);
	printf("%-18s 16 KiB records: record encrypt %8.1f MB/s   encrypt+decrypt %8.1f MB/s\n",
	       name, enc, (double)n * REC / tt / 1e6);
	tls_free(t);
	free(t);
}

static void bench_aead(void)
{
	struct pki k;

	pki_init(&k);
	printf("== TLS 1.2 records, one core\n");
	bench_aead_one(&k, "aes-128-gcm", MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	bench_aead_one(&k, "chacha20-poly1305",
		       MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
	mbedtls_x509_crt_free(&k.ca);
	mbedtls_x509_crt_free(&k.leaf);
	mbedtls_pk_free(&k.ca_key);
	mbedtls_pk_free(&k.leaf_key);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	int all = strcmp(what, "all") == 0;

	if (argc > 2)
		target_s = atof(argv[2]);
	if (target_s <= 0)
		target_s = 1.0;
	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	check("drbg seed", mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
						 (const unsigned char *)"bench_tls", 9));
	printf("bench_tls: mbedTLS %s, %.1f s CPU per measurement\n", MBEDTLS_VERSION_STRING,
	       target_s);
	if (all || strcmp(what, "kex") == 0)
		bench_kex();
	if (all || strcmp(what, "sig") == 0)
		bench_sig();
	if (all || strcmp(what, "hs") == 0)
		bench_hs();
	if (all || strcmp(what, "aead") == 0)
		bench_aead();
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
	return 0;
}
