/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_jsonw.c - daemon/jsonw.c, the JSON writer every decision log, inspect line and stats
 * answer goes through: strings are escaped byte by byte (quotes, backslash, control bytes, bytes
 * that are not ASCII, a NUL inside a span) so a line is valid ASCII JSON whatever the wire carried;
 * separators are right at every nesting level; numbers at their limits.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "tg_test.h"

static char *buf;
static size_t buf_len;
static FILE *mem;
static struct jw w;

static void start(void)
{
	mem = open_memstream(&buf, &buf_len);
	if (mem == NULL)
		abort();
	jw_init(&w, mem);
}

/* What was written since start(), compared with @want. */
#define CHECK_OUT(want)                          \
	do {                                     \
		fclose(mem);                     \
		mem = NULL;                      \
		CHECK_MEM(buf, buf_len, (want)); \
		free(buf);                       \
		buf = NULL;                      \
	} while (0)

static void test_escape(void)
{
	static const uint8_t ctl[] = { 0x00, 0x01, '\b', '\t', '\n', 0x0c, '\r', 0x1f, ' ', 0x7e };
	static const uint8_t high[] = { 0x7f, 0x80, 0xc3, 0xa9, 0xff, 'x' };

	start();
	jw_str(&w, "plain text, 100% ok: {[]}");
	CHECK_OUT("\"plain text, 100% ok: {[]}\"");

	start();
	jw_str(&w, "say \"hi\" \\ bye /");
	CHECK_OUT("\"say \\\"hi\\\" \\\\ bye /\"");

	/* Control bytes, a NUL among them: always \u00XX, never a raw byte. */
	start();
	jw_bytes(&w, ctl, sizeof(ctl));
	CHECK_OUT("\"\\u0000\\u0001\\u0008\\u0009\\u000a\\u000c\\u000d\\u001f ~\"");

	/* DEL and every byte above: escaped one by one, valid UTF-8 or not. */
	start();
	jw_bytes(&w, high, sizeof(high));
	CHECK_OUT("\"\\u007f\\u0080\\u00c3\\u00a9\\u00ffx\"");

	/* Keys are escaped the same way. */
	start();
	jw_obj_begin(&w);
	jw_kv_str(&w, "k\"\n", "v");
	jw_obj_end(&w);
	CHECK_OUT("{\"k\\\"\\u000a\":\"v\"}");

	/* Empty strings and spans. */
	start();
	jw_arr_begin(&w);
	jw_str(&w, "");
	jw_bytes(&w, NULL, 0);
	jw_arr_end(&w);
	CHECK_OUT("[\"\",\"\"]");
}

static void test_numbers(void)
{
	start();
	jw_arr_begin(&w);
	jw_uint(&w, 0);
	jw_uint(&w, UINT64_MAX);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_int(&w, -1);
	jw_bool(&w, true);
	jw_bool(&w, false);
	jw_null(&w);
	jw_raw(&w, "1.5");
	jw_arr_end(&w);
	CHECK_OUT("[0,18446744073709551615,-9223372036854775808,9223372036854775807,-1,true,false,"
		  "null,1.5]");
}

/* Separators: one comma between values at each level, none after a key or an opening. */
static void test_nesting(void)
{
	int i;

	start();
	jw_obj_begin(&w);
	jw_kv_uint(&w, "a", 1);
	jw_key(&w, "b");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_obj_begin(&w);
	jw_kv_bool(&w, "c", true);
	jw_kv_bytes(&w, "d", (const uint8_t *)"e\"", 2);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_kv_str(&w, "f", "g");
	jw_obj_end(&w);
	jw_line_end(&w);
	CHECK_OUT("{\"a\":1,\"b\":[{},[],{\"c\":true,\"d\":\"e\\\"\"}],\"f\":\"g\"}\n");

	/* Two lines: the second starts afresh, without a leading comma. */
	start();
	jw_obj_begin(&w);
	jw_kv_uint(&w, "n", 1);
	jw_obj_end(&w);
	jw_line_end(&w);
	jw_obj_begin(&w);
	jw_kv_uint(&w, "n", 2);
	jw_obj_end(&w);
	jw_line_end(&w);
	CHECK_OUT("{\"n\":1}\n{\"n\":2}\n");

	/* JW_MAX_DEPTH levels, two values in the innermost. */
	start();
	for (i = 0; i < JW_MAX_DEPTH; i++)
		jw_arr_begin(&w);
	jw_uint(&w, 1);
	jw_uint(&w, 2);
	for (i = 0; i < JW_MAX_DEPTH; i++)
		jw_arr_end(&w);
	CHECK_OUT("[[[[[[[[1,2]]]]]]]]");

	/*
	 * Deeper than JW_MAX_DEPTH: still valid JSON, commas right after empty and full containers
	 * on the way out (this read past the flags array once).
	 */
	start();
	for (i = 0; i < JW_MAX_DEPTH + 3; i++)
		jw_arr_begin(&w);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_uint(&w, 1);
	for (i = 0; i < JW_MAX_DEPTH + 3; i++) {
		jw_arr_end(&w);
		if (i + 1 < JW_MAX_DEPTH + 3)
			jw_uint(&w, (uint64_t)i);
	}
	CHECK_OUT("[[[[[[[[[[[[],1],0],1],2],3],4],5],6],7],8],9]");
}

int main(void)
{
	test_escape();
	test_numbers();
	test_nesting();
	return tg_test_done();
}
