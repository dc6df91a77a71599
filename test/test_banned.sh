#!/bin/bash
# Banned functions (STYLE.md rule 15): none of these may appear in project C code.
set -euo pipefail
cd "${TG_SRC:-$(dirname "$0")/..}"
pat='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll|sscanf|alloca)[[:space:]]*\('
hits=$(grep -rnE "$pat" --include='*.c' --include='*.h' lib daemon test || true)
if [ -n "$hits" ]; then
	echo "banned functions used:"
	echo "$hits"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "1 passed, 0 failed"
