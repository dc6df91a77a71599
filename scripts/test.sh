#!/bin/bash
# scripts/test.sh - install what is missing, build with ASan+UBSan, run every test through ctest.
# This is the command the README gives and what .ci/run calls. Run it as root on Debian 12 so it
# can install packages and run the network-namespace tests; as a normal user, the root-only tests
# are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

# Build, test, lab and end-to-end dependencies, all from Debian 12's archive.
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
	libmbedtls-dev libnetfilter-queue-dev libmnl-dev libcjson-dev libpcap-dev
	python3 python3-jsonschema iproute2 iptables nftables curl openssl binutils)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "test.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
		exit 1
	fi
	echo "test.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

build=${TG_BUILD_DIR:-$src/build}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_SANITIZE=ON -DTG_WERROR=ON
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 900
