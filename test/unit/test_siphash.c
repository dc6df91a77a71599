/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_siphash.c - SipHash-2-4 against the 64 reference vectors of the SipHash paper's
 * implementation (key 00..0f, message 00..len-1), and the streaming form against the one-call
 * form at every split point and with finals taken in the middle.
 */
#include <stdbool.h>

#include "tlsgate/siphash.h"
#include "tg_test.h"

static const uint64_t vectors[64] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
	0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
	0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
	0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
	0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
	0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull, 0x2f2e6163076bcfadull,
	0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull, 0xad87a3535c49ef28ull, 0x32d892fad841c342ull,
	0x7127512f72f27cceull, 0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
	0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull, 0x9abfd8766a33735cull,
	0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull, 0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull,
	0xf935451de4f21df2ull, 0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
	0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull, 0xa192d576b245165aull,
	0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full, 0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull,
	0xb78dbfaf3a8d83bdull, 0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
	0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull, 0x958a324ceb064572ull,
};

int main(void)
{
	uint8_t key[16], msg[64];
	unsigned i, len, cut, cut2;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (len = 0; len < 64; len++)
		CHECK(tg_siphash24(key, msg, len) == vectors[len]);
	/* Streaming in three pieces at every pair of cut points, finalizing along the way. */
	for (len = 0; len < 64; len++) {
		for (cut = 0; cut <= len; cut++) {
			for (cut2 = cut; cut2 <= len; cut2++) {
				struct tg_siphash h;
				bool ok = true;

				tg_siphash_init(&h, key);
				tg_siphash_update(&h, msg, cut);
				ok &= tg_siphash_final(&h) == vectors[cut];
				tg_siphash_update(&h, msg + cut, cut2 - cut);
				ok &= tg_siphash_final(&h) == vectors[cut2];
				tg_siphash_update(&h, msg + cut2, len - cut2);
				ok &= tg_siphash_final(&h) == vectors[len];
				if (!ok)
					fprintf(stderr, "len %u cuts %u %u\n", len, cut, cut2);
				CHECK(ok);
			}
		}
	}
	/* All prefixes at once: every cut set over 0..20, and repeated and clamped cuts. */
	{
		struct tg_siphash h;
		size_t cuts[22], nc, mask;
		uint64_t out[22];

		tg_siphash_init(&h, key);
		for (mask = 0; mask < (1u << 21); mask += 1 + mask / 64) {
			nc = 0;
			for (i = 0; i <= 20; i++)
				if (mask >> i & 1)
					cuts[nc++] = i;
			tg_siphash_prefixes(&h, msg, 20, cuts, nc, out);
			for (i = 0; i < nc; i++)
				CHECK(out[i] == vectors[cuts[i]]);
		}
		cuts[0] = 5;
		cuts[1] = 5;
		cuts[2] = 63;
		cuts[3] = 99; /* beyond the message: clamped to its length */
		tg_siphash_prefixes(&h, msg, 63, cuts, 4, out);
		CHECK(out[0] == vectors[5] && out[1] == vectors[5]);
		CHECK(out[2] == vectors[63] && out[3] == vectors[63]);
	}
	/* A different key gives a different hash. */
	key[0] ^= 1;
	CHECK(tg_siphash24(key, msg, 15) != vectors[15]);
	return tg_test_done();
}
