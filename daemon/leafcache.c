/* SPDX-License-Identifier: GPL-2.0-or-later */
/* leafcache.c - see leafcache.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include "tlsgate/mbedtls_compat.h"

#include "caps.h"
#include "leafcache.h"
#include "lru.h"
#include "mint.h"

struct leaf {
	struct lru_node node;
	struct leafcache *lc; /* NULL once out of the cache: the last leaf_put() frees it */
	unsigned refs; /* holders outside the cache */
	size_t bytes;
	mbedtls_x509_crt crt;
};

struct leafcache {
	int sock;
	mbedtls_pk_context *leaf_key;
	unsigned max_entries;
	uint64_t next_id;
	struct lru idx;
	size_t bytes;
	struct leafcache_stats st;
	/* Scratch for one miss at a time. */
	struct mint_req req;
	uint8_t msg[MINT_RESP_MAX + 1];
};

static uint64_t leafcache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct leafcache *leafcache_new(int ca_sock, mbedtls_pk_context *leaf_key, unsigned max_entries)
{
	struct leafcache *lc = calloc(1, sizeof(*lc));

	if (lc == NULL)
		return NULL;
	lc->sock = ca_sock;
	lc->leaf_key = leaf_key;
	lc->max_entries = max_entries ? max_entries : LEAFCACHE_ENTRIES;
	if (lru_init(&lc->idx, lc->max_entries) == -1) {
		free(lc);
		return NULL;
	}
	return lc;
}

static void leaf_destroy(struct leaf *l)
{
	mbedtls_x509_crt_free(&l->crt);
	free(l);
}

/* Take @l out of the cache; freed now unless someone holds it. */
static void leafcache_drop(struct leafcache *lc, struct leaf *l)
{
	lru_remove(&lc->idx, &l->node);
	lc->bytes -= l->bytes;
	l->lc = NULL;
	if (l->refs == 0)
		leaf_destroy(l);
}

void leafcache_free(struct leafcache *lc)
{
	struct lru_node *n;

	if (lc == NULL)
		return;
	while ((n = lru_oldest(&lc->idx)) != NULL)
		leafcache_drop(lc, lru_entry(n, struct leaf, node));
	lru_fini(&lc->idx);
	free(lc);
}

mbedtls_x509_crt *leaf_crt(struct leaf *l)
{
	return &l->crt;
}

void leaf_put(struct leaf *l)
{
	if (l == NULL || l->refs == 0)
		return;
	if (--l->refs == 0 && l->lc == NULL)
		leaf_destroy(l);
}

void leafcache_stats(const struct leafcache *lc, struct leafcache_stats *out)
{
	*out = lc->st;
	out->entries = lc->idx.count;
	out->bytes = lc->bytes;
}

/* SHA-256(upstream DER || 0 || SNI). */
static int leafcache_key(const mbedtls_x509_crt *upstream, const char *sni, uint8_t key[static 32])
{
	size_t slen = sni ? strlen(sni) : 0, len = upstream->raw.len + 1 + slen;
	uint8_t *buf = malloc(len);
	int rc;

	if (buf == NULL)
		return -1;
	memcpy(buf, upstream->raw.p, upstream->raw.len);
	buf[upstream->raw.len] = 0;
	if (slen)
		memcpy(buf + upstream->raw.len + 1, sni, slen);
	rc = tg_sha256(buf, len, key) == 0 ? 0 : -1;
	free(buf);
	return rc;
}

/* Room for one more leaf of @bytes: evict unheld leaves, oldest first, looking at a few. */
static bool leafcache_room(struct leafcache *lc, size_t bytes)
{
	while (lc->idx.count >= lc->max_entries || lc->bytes + bytes > LEAFCACHE_BYTES) {
		struct lru_node *n = lru_oldest(&lc->idx);
		unsigned scanned = 0;

		while (n != NULL && lru_entry(n, struct leaf, node)->refs > 0 &&
		       scanned < LEAFCACHE_EVICT_SCAN) {
			n = lru_newer(n);
			scanned++;
		}
		if (n == NULL || scanned == LEAFCACHE_EVICT_SCAN)
			return false;
		leafcache_drop(lc, lru_entry(n, struct leaf, node));
		lc->st.evictions++;
	}
	return true;
}

/* Send @len bytes of lc->msg by @deadline. */
static int leafcache_send(struct leafcache *lc, size_t len, uint64_t deadline, char *err,
			  size_t errlen)
{
	struct pollfd p = { .fd = lc->sock, .events = POLLOUT };

	for (;;) {
		uint64_t now = leafcache_now_ms();
		int r;

		if (send(lc->sock, lc->msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
			return 0;
		if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS) {
			lc->st.mint_errors++;
			snprintf(err, errlen, "sending to the CA process: %s", strerror(errno));
			return -1;
		}
		if (now >= deadline)
			break;
		r = poll(&p, 1, (int)(deadline - now));
		if (r == -1 && errno != EINTR)
			break;
	}
	lc->st.timeouts++;
	snprintf(err, errlen, "sending to the CA process: timed out");
	return -1;
}

/* Wait for the answer to @id by @deadline; its DER parsed into @crt. */
static int leafcache_wait(struct leafcache *lc, uint64_t id, uint64_t deadline,
			  mbedtls_x509_crt *crt, char *err, size_t errlen)
{
	struct pollfd p = { .fd = lc->sock, .events = POLLIN };
	struct mint_resp resp;
	const char *why;

	for (;;) {
		uint64_t now = leafcache_now_ms();
		ssize_t n;
		int r;

		if (now >= deadline) {
			lc->st.timeouts++;
			snprintf(err, errlen, "no answer from the CA process in time");
			return -1;
		}
		r = poll(&p, 1, (int)(deadline - now));
		if (r == -1 && errno != EINTR) {
			snprintf(err, errlen, "waiting for the CA process: %s", strerror(errno));
			return -1;
		}
		if (r <= 0)
			continue;
		n = recv(lc->sock, lc->msg, sizeof(lc->msg), MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			lc->st.mint_errors++;
			snprintf(err, errlen, "the CA process is gone%s%s", n ? ": " : "",
				 n ? strerror(errno) : "");
			return -1;
		}
		if ((size_t)n > MINT_RESP_MAX ||
		    mint_resp_decode(lc->msg, (size_t)n, &resp, &why) == -1) {
			lc->st.mint_errors++;
			snprintf(err, errlen, "malformed answer from the CA process: %s",
				 (size_t)n > MINT_RESP_MAX ? "too long" : why);
			return -1;
		}
		if (resp.id != id) {
			lc->st.stale++;
			continue;
		}
		if (resp.status != MINT_OK) {
			lc->st.mint_errors++;
			snprintf(err, errlen, "the CA process refused: %s",
				 mint_status_text(resp.status));
			return -1;
		}
		if (mbedtls_x509_crt_parse_der(crt, resp.der, resp.der_len) != 0) {
			lc->st.mint_errors++;
			snprintf(err, errlen, "the CA process sent a leaf that does not parse");
			return -1;
		}
		return 0;
	}
}

/* A miss: mint, parse, and keep the leaf when there is room. */
static struct leaf *leafcache_mint(struct leafcache *lc, const mbedtls_x509_crt *upstream,
				   const char *sni, const uint8_t key[static 32],
				   unsigned timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = leafcache_now_ms() + (timeout_ms ? timeout_ms : LEAFCACHE_TIMEOUT_MS);
	struct leaf *l;
	ssize_t len;

	if (mint_req_from_crt(upstream, sni, lc->leaf_key, ++lc->next_id, &lc->req) == -1) {
		lc->st.mint_errors++;
		snprintf(err, errlen, "%s",
			 errno == ENOENT ? "the upstream certificate names no host"
					 : "the SNI is not a host name, or the leaf key not P-256");
		return NULL;
	}
	len = mint_req_encode(&lc->req, lc->msg, sizeof(lc->msg));
	if (len < 0) {
		snprintf(err, errlen, "the mint request does not encode");
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mbedtls_x509_crt_init(&l->crt);
	if (leafcache_send(lc, (size_t)len, deadline, err, errlen) == -1 ||
	    leafcache_wait(lc, lc->req.id, deadline, &l->crt, err, errlen) == -1) {
		leaf_destroy(l);
		return NULL;
	}
	l->refs = 1;
	l->bytes = l->crt.raw.len;
	memcpy(l->node.key, key, LRU_KEY_LEN);
	if (!leafcache_room(lc, l->bytes)) {
		lc->st.uncached++;
		return l; /* lc stays NULL: freed with its last holder */
	}
	l->lc = lc;
	lru_insert(&lc->idx, &l->node);
	lc->bytes += l->bytes;
	return l;
}

int leafcache_get(struct leafcache *lc, const mbedtls_x509_crt *upstream, const char *sni,
		  unsigned timeout_ms, struct leaf **out, char *err, size_t errlen)
{
	struct lru_node *n;
	uint8_t key[32];

	*out = NULL;
	if (leafcache_key(upstream, sni, key) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = lru_find(&lc->idx, key);
	if (n != NULL) {
		struct leaf *l = lru_entry(n, struct leaf, node);

		lc->st.hits++;
		l->refs++;
		*out = l;
		return 0;
	}
	lc->st.misses++;
	*out = leafcache_mint(lc, upstream, sni, key, timeout_ms, err, errlen);
	return *out ? 0 : -1;
}
