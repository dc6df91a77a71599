#!/bin/bash
# deps.sh - the Debian 12 packages tlsgate builds, tests and runs its lab with, installed when
# missing. Sourced by scripts/test.sh and scripts/lab.sh: `tg_install_deps`.
# shellcheck disable=SC2034
TG_PACKAGES=(build-essential cmake pkg-config clang libclang-rt-14-dev
	libmbedtls-dev libnetfilter-queue-dev libmnl-dev libcjson-dev libpcap-dev
	python3 python3-jsonschema python3-scapy python3-prometheus-client iproute2 iptables nftables
	curl openssl binutils tcpdump clang-format clang-tidy groff-base man-db)

tg_install_deps()
{
	local p missing=()

	for p in "${TG_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	echo "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
}
