#!/bin/bash
# netns.sh - the three-namespace lab shared by the end-to-end tests and scripts/lab.sh:
#   client (LAN) -- router (tlsgate) -- server (WAN: TLS, HTTP, DNS, QUIC sink)
# Addresses come from the documentation ranges (RFC 5737, RFC 3849) and exist only inside
# these namespaces. Source this file; it defines functions and the variables below.
# shellcheck disable=SC2034
TG_NS_PREFIX=${TG_NS_PREFIX:-tge$$}
NS_C=${TG_NS_PREFIX}-c
NS_R=${TG_NS_PREFIX}-r
NS_S=${TG_NS_PREFIX}-s
C4=192.0.2.2 R4L=192.0.2.1 R4W=198.51.100.1 S4=198.51.100.2
C6=2001:db8:1::2 R6L=2001:db8:1::1 R6W=2001:db8:2::1 S6=2001:db8:2::2

lab_up()
{
	ip netns add "$NS_C"
	ip netns add "$NS_R"
	ip netns add "$NS_S"
	ip link add c0 netns "$NS_C" type veth peer name lan0 netns "$NS_R"
	ip link add wan0 netns "$NS_R" type veth peer name s0 netns "$NS_S"
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	ip -n "$NS_C" addr add "$C4/24" dev c0
	ip -n "$NS_C" addr add "$C6/64" dev c0 nodad
	ip -n "$NS_C" link set c0 up
	ip -n "$NS_C" route add default via "$R4L"
	ip -n "$NS_C" -6 route add default via "$R6L"
	ip -n "$NS_R" addr add "$R4L/24" dev lan0
	ip -n "$NS_R" addr add "$R6L/64" dev lan0 nodad
	ip -n "$NS_R" addr add "$R4W/24" dev wan0
	ip -n "$NS_R" addr add "$R6W/64" dev wan0 nodad
	ip -n "$NS_R" link set lan0 up
	ip -n "$NS_R" link set wan0 up
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$NS_S" addr add "$S4/24" dev s0
	ip -n "$NS_S" addr add "$S6/64" dev s0 nodad
	ip -n "$NS_S" link set s0 up
	ip -n "$NS_S" route add default via "$R4W"
	ip -n "$NS_S" -6 route add default via "$R6W"
}

lab_down()
{
	local ns pid
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null || true
		done
	done
	sleep 0.2
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		# tlsgate-setup's state file for the namespace (the next namespace may get its inode).
		rm -f "/run/tlsgate-setup/netns-$(ip netns exec "$ns" stat -L -c %i /proc/self/ns/net 2>/dev/null).env"
		ip netns del "$ns" 2>/dev/null || true
	done
}

in_c() { ip netns exec "$NS_C" "$@"; }
in_r() { ip netns exec "$NS_R" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }
