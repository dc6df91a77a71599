/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seqtab.h - a fixed-capacity hash table with ONE writer thread and any number of reader threads,
 * readers taking no lock. The engine under the dynamic bypass table, its principal table and the
 * unsupported-upstream exclusions.
 *
 * Layout. Records are fixed-size, cache-line aligned arrays of 64-bit words: a sequence counter,
 * the key's hash, the readers' recency stamp, VAL words, KEY words. An open-addressing index (linear probing, a power of two at least twice the
 * record count, so at most half full) maps the hash to a record number. Every shared word is a
 * C11 atomic; the writer publishes with release stores and readers load with acquire, so the
 * code is free of data races (ThreadSanitizer-clean) without standalone fences.
 *
 * Readers. A record is read under its seqlock: an odd or changed sequence means the writer was
 * inside it and the read is retried. Deletion uses backward-shift (no tombstones), which moves
 * index slots; it runs inside epochs of the index stripes (16 slots each) it touches, odd while
 * moving. A reader's HIT is always valid (the record's key was verified under its seqlock); a
 * MISS is trusted only if the epochs of the stripes the probe crossed were even and unchanged
 * across it, otherwise the lookup is retried, at most
 * TG_SEQTAB_READ_RETRIES times, after which it answers "miss". Readers never block the writer
 * and never spin unboundedly: the price is that a lookup racing a burst of deletions may miss an
 * entry that was present, which every user of this table tolerates (see bypass.h).
 *
 * Recency. The writer keeps an LRU list ordered by tg_seqtab_touch(). A reader's successful
 * lookup refreshes a per-record "used" stamp with one relaxed atomic store, at most once per
 * TG_SEQTAB_USE_GRAIN_MS per record so a hot entry does not bounce its cache line on every
 * lookup. tg_seqtab_lru() gives used-since-touched records a second chance (moved to the MRU
 * end) before naming a victim: exact LRU for writer touches, approximate (CLOCK-like) for reader
 * use. Recency stamps are caller time in ms, like every time in lib.
 *
 * Keys are compared word by word; callers pack them with zero padding so equal keys have equal
 * words, and compute the hash themselves (tg_seqtab_hash(), keyed SipHash-2-4) over the
 * significant bytes only, so that hashing a 253-byte slot costs what the name costs.
 *
 * Memory: nrec * (8 * (3 + KEY + VAL rounded up to 8) + 20) bytes, plus 8 bytes per index slot
 * (2..4 per record after rounding) and 8 per 16 index slots. Nothing grows after
 * tg_seqtab_new().
 */
#ifndef TLSGATE_SEQTAB_H
#define TLSGATE_SEQTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsgate/caps.h"
#include "tlsgate/err.h"

struct tg_seqtab;

/* Lookup retries when a miss raced deletions; a lookup then answers "miss". */
#define TG_SEQTAB_READ_RETRIES 64
/* Waits (pause instructions) for a stripe a deletion is moving before probing again. */
#define TG_SEQTAB_SPIN 4096
/* Tries to read one record under its seqlock before treating it as busy. */
#define TG_SEQTAB_RECORD_TRIES 1024
/* A reader refreshes a record's "used" stamp at most this often. */
#define TG_SEQTAB_USE_GRAIN_MS 1000

/*
 * A key as the caller packed it: @w points to the table's KEY words (zero-padded), of which the
 * first @nw are significant (the rest are zero in every key of that length, so they need not be
 * compared); @hash is tg_seqtab_hash() of the significant bytes.
 */
struct tg_seqtab_key {
	const uint64_t *w;
	uint32_t nw;
	uint64_t hash;
};

/*
 * tg_seqtab_hash() - SipHash-2-4 (Aumasson & Bernstein, 2012) of @len bytes at @p under the
 * 128-bit @key. Keyed so that a client choosing names cannot aim them at one probe chain.
 */
uint64_t tg_seqtab_hash(const uint8_t key[static 16], const void *p, size_t len);

/*
 * tg_seqtab_new() - a table of @nrec records (1..TG_CAP_SEQTAB_RECORDS) of @key_words key and
 * @val_words value words (key_words >= 1, key + value <= TG_CAP_SEQTAB_WORDS). On success *@out
 * owns the table (free with tg_seqtab_free()). TG_ERR_ARG for bad sizes, TG_ERR_NOMEM.
 */
enum tg_err tg_seqtab_new(uint32_t nrec, uint32_t key_words, uint32_t val_words,
			  struct tg_seqtab **out) TG_WUR;

/* tg_seqtab_free() - free @t; no reader may use it any more. NULL is a no-op. */
void tg_seqtab_free(struct tg_seqtab *t);

/* ---- writer thread only ---- */

/* tg_seqtab_find() - the record holding @k: true and *@rec set, or false. */
bool tg_seqtab_find(const struct tg_seqtab *t, const struct tg_seqtab_key *k, uint32_t *rec);

/*
 * tg_seqtab_insert() - add @k with value @val (VAL words; NULL = zeros) as the most recently
 * used record, stamped @now_ms. TG_ERR_CAP when all records are in use (the caller evicts first:
 * the table never evicts by itself), TG_ERR_DUPLICATE when @k is present. *@rec (may be NULL)
 * receives the record number, valid until the record is deleted.
 */
enum tg_err tg_seqtab_insert(struct tg_seqtab *t, const struct tg_seqtab_key *k,
			     const uint64_t *val, uint64_t now_ms, uint32_t *rec) TG_WUR;

/* tg_seqtab_set() - replace the value of record @rec (in use) with @val; readers see all or none. */
void tg_seqtab_set(struct tg_seqtab *t, uint32_t rec, const uint64_t *val);

/* tg_seqtab_delete() - remove record @rec (in use) and free it. */
void tg_seqtab_delete(struct tg_seqtab *t, uint32_t rec);

/* tg_seqtab_touch() - make @rec the most recently used, at @now_ms. */
void tg_seqtab_touch(struct tg_seqtab *t, uint32_t rec, uint64_t now_ms);

/*
 * tg_seqtab_lru() - the least recently used record (after giving records that readers used since
 * their last touch a second chance), or false when the table is empty. Nothing is removed.
 */
bool tg_seqtab_lru(struct tg_seqtab *t, uint32_t *rec);

/* tg_seqtab_recency() - the later of @rec's last touch and its last reader use. */
uint64_t tg_seqtab_recency(const struct tg_seqtab *t, uint32_t rec);

/*
 * tg_seqtab_get() - copy record @rec's key (KEY words) and value (VAL words) into @key / @val
 * (either may be NULL). Returns false when @rec is not in use (outputs untouched).
 */
bool tg_seqtab_get(const struct tg_seqtab *t, uint32_t rec, uint64_t *key, uint64_t *val);

/* Records in use (also safe from any thread), and the capacity given to tg_seqtab_new(). */
uint32_t tg_seqtab_count(const struct tg_seqtab *t);
uint32_t tg_seqtab_capacity(const struct tg_seqtab *t);

/* ---- any thread, concurrently with the writer ---- */

/*
 * tg_seqtab_lookup() - copy @k's value into @val (VAL words, may be NULL) and return true, or
 * return false. A hit refreshes the record's "used" stamp to @now_ms (see Recency). Lock-free;
 * bounded work. *@unsure (may be NULL) is set when the answer is a miss only because every
 * retry raced a deletion in the same index stripes (see Readers); otherwise a miss is exact.
 */
bool tg_seqtab_lookup(const struct tg_seqtab *t, const struct tg_seqtab_key *k, uint64_t *val,
		      uint64_t now_ms, bool *unsure);

/*
 * tg_seqtab_walk() - call @cb with a consistent copy of each record in use (key, value; both
 * valid during the call only), in record order, until @cb returns false. Each record is
 * internally consistent; the walk as a whole is not a snapshot of one instant. Records the
 * writer keeps busy for TG_SEQTAB_RECORD_TRIES reads are skipped.
 */
void tg_seqtab_walk(const struct tg_seqtab *t,
		    bool (*cb)(const uint64_t *key, const uint64_t *val, void *arg), void *arg);

#endif
