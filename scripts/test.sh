#!/bin/bash
# scripts/test.sh - install what is missing, build with ASan+UBSan, run every test through ctest.
# This is the command the README gives and what .ci/run calls. Run it as root on Debian 12 so it
# can install packages and run the network-namespace tests; as a normal user, the root-only tests
# are skipped. The style is one of the tests: test/test_style.sh (clang-format, clang-tidy) fails
# the run on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

# Build, test, lab and end-to-end dependencies, all from Debian 12's archive.
# shellcheck source=deps.sh
. "$src/scripts/deps.sh"
tg_install_deps

build=${TG_BUILD_DIR:-$src/build}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_SANITIZE=ON -DTG_WERROR=ON
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 900
