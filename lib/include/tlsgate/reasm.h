/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reasm.h - reassembly of the first bytes of one direction of a TCP stream.
 *
 * The router holds a client's first data segments until the ClientHello is complete; this
 * object collects their payloads by sequence number and answers which bytes are in order from
 * the first data byte (sequence number isn + 1, RFC 9293 3.4). Offsets are taken modulo 2^32,
 * so an ISN near 2^32 wraps like TCP does.
 *
 * Policy, one for every kind of overlap, chosen for a device that decides on these bytes
 * while the server will see whatever the client sends:
 *   - Bytes already held are never replaced (first write wins).
 *   - A segment whose bytes overlap held bytes must carry the same bytes there; otherwise it
 *     is an evasion attempt (two different streams for two readers): TG_ERR_REASM_CONFLICT,
 *     nothing of that segment is stored, and the caller treats the flow as invalid.
 *   - A segment that brings nothing new (an identical retransmission) is counted in dups and
 *     ignored: TG_OK.
 *   - A segment that overlaps identically and brings new bytes is stored and counted in
 *     overlaps.
 *   - Bytes before isn + 1 are old: a segment that ends there is counted in old and ignored;
 *     a segment that straddles isn + 1 is counted in old and its tail is processed as above.
 *     "Before" means up to 2^31 behind, as TCP compares sequence numbers (RFC 9293 3.4).
 *   - A segment that starts TG_CAP_REASM_BYTES or more after isn + 1 (up to 2^31 ahead) is
 *     outside the window: TG_ERR_REASM_WINDOW, nothing stored.
 *   - A segment that starts inside the window but ends beyond it: the bytes that fit are
 *     stored (after the overlap check) and the answer is TG_ERR_CAP, so the caller knows the
 *     segment was not wholly taken; a held prefix long enough for its parser stays usable.
 *   - A segment that would open a TG_CAP_REASM_RANGES + 1st disjoint range of held bytes (a
 *     new hole; in-order segments extend a range): TG_ERR_CAP, nothing stored.
 *   - Zero-length segments (pure ACKs) are TG_OK and change nothing.
 * After any error the object is unchanged except for the counters and stays usable; whether
 * the flow goes on is the caller's decision.
 *
 * Memory grows with the data: the object itself is small; the byte buffer is allocated at the
 * first data and grown to the highest offset held (at most TG_CAP_REASM_BYTES); the list of
 * held ranges lives inside the object until out-of-order segments need more than a few.
 */
#ifndef TLSGATE_REASM_H
#define TLSGATE_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/cursor.h"
#include "tlsgate/err.h"

struct tg_reasm;

struct tg_reasm_stats {
	uint32_t segs; /* segments that added bytes: the ones the caller is holding */
	uint32_t bytes; /* distinct bytes held */
	uint32_t dups; /* segments that brought nothing new (identical retransmissions) */
	uint32_t overlaps; /* segments that overlapped held bytes identically and added bytes */
	uint32_t old; /* segments with bytes before isn + 1 (those bytes are ignored) */
	uint32_t conflicts; /* TG_ERR_REASM_CONFLICT answers */
};

/*
 * tg_reasm_new() - an empty reassembly for a stream whose SYN carried sequence number @isn;
 * the first data byte has sequence number isn + 1. Returns NULL when out of memory. The caller
 * owns the result and releases it with tg_reasm_free().
 */
struct tg_reasm *tg_reasm_new(uint32_t isn);

/* tg_reasm_free() - release @r and its buffers; NULL is accepted. */
void tg_reasm_free(struct tg_reasm *r);

/*
 * tg_reasm_add() - add the payload @p of @len bytes of a segment with sequence number @seq.
 * The bytes are copied; @p may be released afterwards. Returns TG_OK, TG_ERR_REASM_CONFLICT,
 * TG_ERR_REASM_WINDOW, TG_ERR_CAP or TG_ERR_NOMEM under the policy above, TG_ERR_ARG when @p
 * is NULL and @len is not 0.
 */
enum tg_err tg_reasm_add(struct tg_reasm *r, uint32_t seq, const uint8_t *p, size_t len) TG_WUR;

/*
 * tg_reasm_contig() - the bytes held in order from isn + 1, without a gap. Empty (len 0) while
 * the first byte is missing. The view is owned by @r and valid until the next tg_reasm_add()
 * or tg_reasm_free(); its length never exceeds TG_CAP_REASM_BYTES.
 */
struct tg_span tg_reasm_contig(const struct tg_reasm *r);

/* tg_reasm_stats() - @r's counters; the pointer lives as long as @r. */
const struct tg_reasm_stats *tg_reasm_stats(const struct tg_reasm *r);

/* tg_reasm_isn() - the ISN @r was created with. */
uint32_t tg_reasm_isn(const struct tg_reasm *r);

/* tg_reasm_next_seq() - the sequence number of the first missing byte: isn + 1 + contig len. */
uint32_t tg_reasm_next_seq(const struct tg_reasm *r);

/*
 * tg_reasm_end() - one past the highest offset (from isn + 1) held; greater than the contig
 * length when out-of-order bytes wait behind a gap.
 */
size_t tg_reasm_end(const struct tg_reasm *r);

/*
 * tg_reasm_advance() - the stream's next message begins @off bytes after isn + 1 (it may lie
 * beyond what is held: a body still to come). *@r is replaced by a reassembly whose first byte
 * is there, holding the in-order bytes already seen beyond it (pipelined messages); the old
 * one is freed. Returns TG_OK, or TG_ERR_NOMEM with *@r unchanged.
 */
enum tg_err tg_reasm_advance(struct tg_reasm **r, uint32_t off) TG_WUR;

/* tg_reasm_mem() - heap bytes owned by @r, the object included, for memory accounting. */
size_t tg_reasm_mem(const struct tg_reasm *r);

#endif
