/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_control_req.c - the control socket's request framing (daemon/control.c): what any local
 * process admitted to the socket sends. control_req_parse is fed every prefix of the input, as
 * the bytes would arrive. Invariants (abort() on violation):
 * - OK, MORE or INVALID, and INVALID always says why;
 * - before a prefix is OK or INVALID, every shorter one is MORE; after it, every longer one
 *   is INVALID (a request ends exactly, and bytes that came cannot be unsent);
 * - OK: the line lies inside the input, is printable ASCII without its newline, at most
 *   CONTROL_LINE_MAX bytes; a body lies inside the input, ends it exactly, is at most
 *   CONTROL_BODY_MAX bytes; without a body the line's newline ends the input;
 * - control_words on an OK line gives at most CONTROL_WORDS_MAX non-empty words without spaces.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "control.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_ok(const uint8_t *data, size_t size, const struct control_req *r)
{
	char words[CONTROL_LINE_MAX], *argv[CONTROL_WORDS_MAX];
	const uint8_t *line = (const uint8_t *)r->line;
	size_t i;
	int n;

	if (line != data || r->line_len == 0 || r->line_len >= CONTROL_LINE_MAX)
		abort();
	for (i = 0; i < r->line_len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			abort();
	if (r->body == NULL) {
		if (r->line_len + 1 != size || data[r->line_len] != '\n')
			abort();
	} else if (r->body < data || r->body_len > CONTROL_BODY_MAX ||
		   r->body + r->body_len != data + size) {
		abort();
	}
	n = control_words(r->line, r->line_len, words, argv);
	if (n > CONTROL_WORDS_MAX)
		abort();
	for (i = 0; n > 0 && i < (size_t)n; i++)
		if (argv[i][0] == '\0' || strchr(argv[i], ' ') != NULL)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_req r;
	bool done = false; /* OK or INVALID seen: every longer prefix is INVALID */
	size_t len;

	for (len = 0; len <= size; len++) {
		const char *why = NULL;

		switch (control_req_parse(data, len, &r, &why)) {
		case CONTROL_REQ_OK:
			if (done)
				abort();
			check_ok(data, len, &r);
			done = true;
			break;
		case CONTROL_REQ_INVALID:
			if (why == NULL)
				abort();
			done = true;
			break;
		case CONTROL_REQ_MORE:
			if (done)
				abort();
			break;
		default:
			abort();
		}
	}
	return 0;
}
