#!/bin/bash
# The core library is pure (STYLE.md rule 1): its undefined symbols must all be on this
# allow-list - memory and string helpers, SHA-256 from mbedTLS's crypto library, and cJSON
# (only the loaders call it: lib/policy_load.c, lib/load_*.c, lib/content_load.c).
# Anything else (a syscall wrapper, a clock, stdio, malloc'd globals) fails the test.
set -euo pipefail
lib=${TG_LIB:?TG_LIB must name libtlsgate.a}
allow='^(memcpy|memmove|memset|memcmp|memchr|strlen|strnlen|strcmp|strncmp|strchr|malloc|calloc|realloc|free|qsort|bsearch|abort|__assert_fail|__stack_chk_fail|__memcpy_chk|__memset_chk|__memmove_chk|__snprintf_chk|__vsnprintf_chk|snprintf|vsnprintf|__ctype_b_loc|__ctype_tolower_loc|__ctype_toupper_loc|mbedtls_sha256|mbedtls_sha256_ret|mbedtls_sha256_init|mbedtls_sha256_free|mbedtls_sha256_starts|mbedtls_sha256_starts_ret|mbedtls_sha256_update|mbedtls_sha256_update_ret|mbedtls_sha256_finish|mbedtls_sha256_finish_ret|__atomic_.*|cJSON_.*)$'
# Sanitizer and compiler runtime symbols are not the library's own calls.
runtime='^(__asan_|__ubsan_|__sanitizer_|__sancov|__lsan_|__tsan_|__msan_|__cxa_|_GLOBAL_OFFSET_TABLE_)'
# A call from one lib module into another is not an outside dependency.
defined=$(nm --defined-only "$lib" | awk 'NF==3 {print $3}' | sort -u)
bad=$(nm -u "$lib" | awk 'NF==2 && $1=="U" {print $2}' | sort -u | grep -Ev "$runtime" | grep -Ev "$allow" |
	comm -23 - <(printf '%s\n' "$defined") || true)
nsyms=$(nm -u "$lib" | awk 'NF==2 && $1=="U"' | wc -l)
if [ -n "$bad" ]; then
	echo "lib uses symbols outside the purity allow-list:"
	echo "$bad"
	echo "0 passed, 1 failed"
	exit 1
fi
# Globals: no writable data in lib, only const tables. An object symbol in .data or .bss is
# state; .data.rel.ro is const data that needs relocation (pointer tables) and is fine.
# clang's sanitizers add their own descriptors as local __unnamed_N objects in .data.
globals=$(objdump -t "$lib" | awk '$3 == "O" && ($4 ~ /^\.(data|bss)/) && $4 !~ /^\.data\.rel\.ro/ {print $NF}' |
	grep -Ev '^(___asan_gen_|__asan_|__ubsan_|__sancov_|\.L|__odr_asan|__unnamed_[0-9]+$)' || true)
if [ -n "$globals" ]; then
	echo "lib keeps writable globals:"
	echo "$globals"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "lib is pure: $nsyms undefined symbol references, all allowed"
# The README's module map names every source file of lib/ and daemon/, and none that is gone:
# the map a newcomer reads stays the tree.
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
map=$(sed -n '/^\*\*Module map\.\*\*/,/^## /p' "$src/README.md" | grep -o '`\(lib\|daemon\)/[a-z0-9_]*\.c`' | tr -d '`' | sort -u)
tree=$(cd "$src" && ls lib/*.c daemon/*.c | sort -u)
missing=$(comm -13 <(printf '%s\n' "$map") <(printf '%s\n' "$tree"))
gone=$(comm -23 <(printf '%s\n' "$map") <(printf '%s\n' "$tree"))
if [ -z "$map" ] || [ -n "$missing" ] || [ -n "$gone" ]; then
	echo "README's module map and the tree differ:"
	[ -n "$missing" ] && echo "not in the map: $missing"
	[ -n "$gone" ] && echo "in the map, not in the tree: $gone"
	echo "1 passed, 1 failed"
	exit 1
fi
echo "README's module map names all $(printf '%s\n' "$map" | wc -l) source files"
echo "2 passed, 0 failed"
