#!/bin/bash
# test/test_setup.sh - scripts/tlsgate-setup in network namespaces of its own: client -- router
# -- server, the router masquerading like a home router, IPv4 and IPv6.
#
# Checks the ruleset (rule order as HANDOFF.md requires, --queue-bypass, idempotent up,
# down restoring the exact earlier ruleset, status, dry run, errors), then real traffic with
# test/nfq_stub.py answering the queue the way tlsgated will: which packets reach the queue,
# that PASS/BLOCK/ADOPT recorded by NF_REPEAT stick to the flow, that replies land on the same
# queue as their flow's client packets, that the socket match delivers to a local transparent
# socket, and that traffic to the router itself never reaches the queue.
# Root only (exit 77 otherwise); every packet stays inside the namespaces it creates.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root for network namespaces"
	exit 77
fi
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
setup=$src/scripts/tlsgate-setup
marks=$src/scripts/tlsgate-marks.env
stub=$src/test/nfq_stub.py
traffic=$src/test/setup_traffic.py
for tool in ip iptables ip6tables python3; do
	command -v "$tool" >/dev/null || {
		echo "$tool is missing"
		exit 1
	}
done

R=tg-setup-test-$$ # the router: where tlsgate-setup runs
C=tg-setup-cli-$$  # a LAN client
S=tg-setup-srv-$$  # a server behind the WAN side
P=tg-setup-bare-$$ # an untouched namespace: up + down must leave it empty
tmp=$(mktemp -d)
pids=()

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	for ns in "$R" "$C" "$S" "$P"; do
		# tlsgate-setup's state file for the namespace (the next namespace may get its inode).
		rm -f "/run/tlsgate-setup/netns-$(ip netns exec "$ns" stat -L -c %i /proc/self/ns/net 2>/dev/null).env"
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "ok: $*"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}
# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

inR() { ip netns exec "$R" "$@"; }
tg() { ip netns exec "$R" "$setup" "$@"; }

# wait_file FILE: a background helper signals readiness by creating FILE.
wait_file() {
	local i
	for i in $(seq 50); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# --- namespaces ----------------------------------------------------------------------------
for ns in "$R" "$C" "$S" "$P"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add tgc$$ netns "$C" type veth peer name lan0 netns "$R"
ip link add tgs$$ netns "$S" type veth peer name wan0 netns "$R"
ip -n "$C" link set tgc$$ name eth0
ip -n "$S" link set tgs$$ name eth0
ip -n "$C" addr add 10.77.0.2/24 dev eth0
# More client addresses: NFQUEUE balances on the address pair, so several pairs are needed to
# see that replies follow their flow's queue.
for i in 3 4 5 6 7 8 9; do ip -n "$C" addr add 10.77.0.$i/24 dev eth0; done
ip -n "$C" addr add fd77::2/64 dev eth0 nodad
ip -n "$R" addr add 10.77.0.1/24 dev lan0
ip -n "$R" addr add fd77::1/64 dev lan0 nodad
ip -n "$R" addr add 10.78.0.1/24 dev wan0
ip -n "$R" addr add fd78::1/64 dev wan0 nodad
ip -n "$S" addr add 10.78.0.2/24 dev eth0
ip -n "$S" addr add fd78::2/64 dev eth0 nodad
for ns in "$C" "$S"; do ip -n "$ns" link set eth0 up; done
for dev in lan0 wan0; do ip -n "$R" link set "$dev" up; done
ip -n "$C" route add default via 10.77.0.1
ip -n "$C" -6 route add default via fd77::1
ip -n "$S" route add default via 10.78.0.1
ip -n "$S" -6 route add default via fd78::1
inR sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# The administrator's own rules, which tlsgate must leave exactly as they are: masquerading, a
# QoS-style mark, raw and filter rules, and an accounting rule that counts packets whose connmark
# carries both INSPECT and PASS (proof that recording PASS kept the INSPECT bit).
eval "$(grep -E '^TG_[A-Z_]+=' "$marks")"
inR iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
inR iptables -t mangle -A PREROUTING -i lan0 -p udp --dport 5353 -j MARK --set-xmark 0x1/0xff
inR iptables -t mangle -A POSTROUTING -m connmark \
	--mark $((TG_MARK_INSPECT | TG_MARK_PASS))/$((TG_MARK_INSPECT | TG_MARK_DECISION_MASK))
inR iptables -t raw -A PREROUTING -p udp --dport 9 -j DROP
inR iptables -A INPUT -p tcp --dport 22 -j ACCEPT
inR ip6tables -t mangle -A FORWARD -p udp --dport 5353 -j ACCEPT

# snapshot: everything tlsgate-setup may touch, counters and timestamps stripped. IPv6
# link-local routes are left out: the kernel adds them on its own schedule after link up.
snapshot() {
	{
		inR iptables-save
		inR ip6tables-save
		ip -n "$R" -4 rule
		ip -n "$R" -6 rule
		ip -n "$R" -4 route show table all
		ip -n "$R" -6 route show table all
		if command -v nft >/dev/null; then inR nft list ruleset 2>/dev/null; fi
	} | grep -v -e '^#' -e 'fe80::' |
		sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/; s/packets [0-9]+ bytes [0-9]+/packets 0 bytes 0/'
}
# ruleset: what `up` twice must leave byte-identical.
ruleset() {
	{
		inR iptables-save
		inR ip6tables-save
		ip -n "$R" -4 rule
		ip -n "$R" -6 rule
		ip -n "$R" -4 route show table "$TG_ROUTE_TABLE"
		ip -n "$R" -6 route show table "$TG_ROUTE_TABLE"
	} 2>&1 | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/'
}
snapshot >"$tmp/before"

# --- errors: clear message, non-zero exit, nothing changed -------------------------------------
# expect_error RC PATTERN ARGS...: tlsgate-setup ARGS exits RC and says PATTERN on stderr.
expect_error() {
	local want=$1 pattern=$2 rc=0
	shift 2
	tg "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" = "$want" ] && grep -qE -- "$pattern" "$tmp/err"; then
		ok "error: $* -> exit $rc: $(head -1 "$tmp/err")"
	else
		bad "error: $* -> exit $rc (want $want), stderr: $(cat "$tmp/err")"
	fi
}
expect_error 2 'needs --lan' up
expect_error 2 'no command' --lan lan0
expect_error 2 'unknown command' frobnicate
expect_error 2 'more than one command' up down --lan lan0
expect_error 2 'unknown option: --bogus' up --lan lan0 --bogus
expect_error 2 'needs a value' up --lan
expect_error 3 "unknown interface 'nosuch0'" up --lan lan0,nosuch0
expect_error 2 "not an interface name" up --lan 'lan0;reboot'
expect_error 2 'lo carries' up --lan lo
expect_error 2 '--queues: 0 is not in' up --lan lan0 --queues 0
expect_error 2 "--queues: 'two' is not a number" up --lan lan0 --queues two
expect_error 2 'goes past queue 65535' up --lan lan0 --queue-num 65535 --queues 2
expect_error 2 "--ports: '70000' is not a port" up --lan lan0 --ports 443,70000
expect_error 2 "--http-ports: '0' is not a port" up --lan lan0 --http-ports 0
expect_error 2 "every port list is 'none'" up --lan lan0 --ports none --http-ports none \
	--dns-ports none --dot-ports none --quic-ports none
expect_error 2 'overlaps' up --lan lan0 --mark-drop 0x10000
expect_error 2 'inside the decision mask' up --lan lan0 --mark-pass 0x1
expect_error 2 'must be different' up --lan lan0 --mark-block 0x10000
expect_error 2 "TG_MARK_RST: '0x1000000000' is not a 32-bit number" up --lan lan0 \
	--mark-rst 0x1000000000
expect_error 2 'reserved' up --lan lan0 --table 254
expect_error 2 'must be in 1..32765' up --lan lan0 --rule-pref 32766
expect_error 3 'cannot read marks file' up --lan lan0 --marks "$tmp/nonexistent"
printf 'TG_MARK_PASS=0x10000\nTG_BOGUS=1\n' >"$tmp/bad.env"
expect_error 3 'unknown key TG_BOGUS' up --lan lan0 --marks "$tmp/bad.env"
if [ "$(command -v iptables)" != "$(PATH=/usr/bin:/bin command -v iptables || true)" ]; then
	rc=0
	inR env PATH=/usr/bin:/bin "$setup" status >/dev/null 2>"$tmp/err" || rc=$?
	if [ $rc = 3 ] && grep -q 'iptables not found' "$tmp/err"; then
		ok "error: iptables missing -> exit 3: $(cat "$tmp/err")"
	else
		bad "iptables missing -> exit $rc: $(cat "$tmp/err")"
	fi
fi
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups \
	test -r "$setup"; then
	rc=0
	inR setpriv --reuid=65534 --regid=65534 --clear-groups "$setup" status >/dev/null \
		2>"$tmp/err" || rc=$?
	if [ $rc = 3 ] && grep -q 'must be run as root' "$tmp/err"; then
		ok "error: not root -> exit 3: $(cat "$tmp/err")"
	else
		bad "not root -> exit $rc: $(cat "$tmp/err")"
	fi
fi
tg --help >"$tmp/out"
check "--help prints the usage and exit codes" grep -q 'Exit codes' "$tmp/out"
snapshot >"$tmp/after-errors"
check "failed commands changed nothing" cmp -s "$tmp/before" "$tmp/after-errors"

# --- dry run -------------------------------------------------------------------------------------
tg up --dry-run --lan lan0 --queues 4 >"$tmp/dry"
snapshot >"$tmp/after-dry"
check "up --dry-run changed nothing" cmp -s "$tmp/before" "$tmp/after-dry"
L=$(printf '0x%x' "$((TG_MARK_LOCAL))")
check "up --dry-run prints the ip rule" grep -qx \
	"ip -4 rule add fwmark $L/$L lookup $TG_ROUTE_TABLE pref $TG_RULE_PREF" "$tmp/dry"
check "up --dry-run prints the IPv4 and IPv6 restore input" \
	test "$(grep -cE '^ip6?tables-restore --noflush' "$tmp/dry")" = 2
check "up --dry-run prints the NFQUEUE rule" grep -q -- '-j NFQUEUE --queue-balance 0:3 --queue-bypass' "$tmp/dry"
tg down --dry-run >"$tmp/dry-down"
check "down --dry-run with nothing installed prints no command" \
	test -z "$(grep -v '^# IPv' "$tmp/dry-down")"

# --- up: the ruleset -----------------------------------------------------------------------------
tg up --lan lan0 --queues 4 --ports 443,8443,7443 >"$tmp/out"
check "up succeeds" grep -q 'tlsgate rules: up' "$tmp/out"
rc=0
tg status >"$tmp/status" || rc=$?
check "status after up says up, exit 0" test "$rc:$(tail -1 "$tmp/status")" = "0:tlsgate rules: up"

# expect_order FAMILY TABLE CHAIN REGEX...: the chain's rules, in order, each match one REGEX.
expect_order() {
	local ipt=$1 table=$2 chain=$3 i=0 line
	shift 3
	mapfile -t lines < <(inR "$ipt" -t "$table" -S "$chain" | grep '^-A')
	if [ ${#lines[@]} -ne $# ]; then
		bad "$ipt $table $chain has ${#lines[@]} rules, expected $#: ${lines[*]}"
		return
	fi
	for re in "$@"; do
		line=${lines[$i]}
		if ! [[ $line =~ $re ]]; then
			bad "$ipt $table $chain rule $((i + 1)) is '$line', expected /$re/"
			return
		fi
		i=$((i + 1))
	done
	ok "$ipt -t $table -S $chain: $# rule(s) in the required order"
}
hx() { printf '0x%x' "$(($1))"; }
D=$(hx "$TG_MARK_DECISION_MASK")
V=$(hx $((TG_MARK_DECISION_MASK | TG_MARK_DROP | TG_MARK_STREAM)))
ST=$(hx "$TG_MARK_STREAM")
I=$(hx "$TG_MARK_INSPECT")
for ipt in iptables ip6tables; do
	# 0. a SYN from the wire on a decided entry is decided afresh 1. verdict (save-mark /
	# drop) 2. passed flows leave 3. socket match 4. other decided flows 5./6. the queue.
	expect_order $ipt mangle TLSGATE-PRE \
		"^-A TLSGATE-PRE -p tcp .*--tcp-flags FIN,SYN,RST,ACK SYN -m mark --mark 0x0/$V -m connmark ! --mark 0x0/$D -j CONNMARK --set-xmark 0x0/$D$" \
		"^-A TLSGATE-PRE -m mark ! --mark 0x0/$V -j TLSGATE-VERDICT$" \
		"--mark $(hx "$TG_MARK_PASS")/$D -j RETURN$" \
		"^-A TLSGATE-PRE -m socket --transparent -j TLSGATE-LOCAL$" \
		"--mark $(hx "$TG_MARK_BLOCK")/$D -j DROP$" \
		"--mark $(hx "$TG_MARK_ADOPT")/$D -j DROP$" \
		"^-A TLSGATE-PRE -p tcp -m connmark --mark $I/$I -m conntrack --ctdir ORIGINAL -j TLSGATE-QUEUE$" \
		"^-A TLSGATE-PRE -p udp -m connmark --mark $I/$I -m conntrack --ctdir ORIGINAL -j TLSGATE-QUEUE$" \
		"^-A TLSGATE-PRE -i lan0 -m conntrack --ctstate NEW -m addrtype ! --dst-type LOCAL -j TLSGATE-LAN$"
	expect_order $ipt mangle TLSGATE-VERDICT \
		"^-A TLSGATE-VERDICT -m mark ! --mark 0x0/$D -j CONNMARK --save-mark --nfmask $D --ctmask $D$" \
		"--mark $(hx "$TG_MARK_DROP")/$(hx "$TG_MARK_DROP") -j DROP$" \
		"-j MARK --set-xmark 0x0/$D$" \
		"--mark $ST/$ST -j CONNMARK --set-xmark $ST/$ST$" "-j MARK --set-xmark 0x0/$ST$"
	expect_order $ipt mangle TLSGATE-LOCAL \
		"-j MARK --set-xmark $(hx "$TG_MARK_LOCAL")/$(hx "$TG_MARK_LOCAL")$" "-j ACCEPT$"
	expect_order $ipt mangle TLSGATE-FWD \
		"-j TLSGATE-VERDICT$" "-m connmark ! --mark 0x0/$D -j RETURN$" \
		"-m connmark --mark $ST/$ST -j RETURN$" \
		"-p tcp .*--ctdir REPLY -j TLSGATE-QUEUE$" "-p udp .*--ctdir REPLY -j TLSGATE-QUEUE$"
	expect_order $ipt mangle TLSGATE-LAN \
		"^-A TLSGATE-LAN -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m multiport --dports 443,8443,7443,80,53,853 -j TLSGATE-QUEUE$" \
		"^-A TLSGATE-LAN -p udp -m multiport --dports 443,53 -j TLSGATE-QUEUE$"
	expect_order $ipt mangle TLSGATE-QUEUE "-j CONNMARK --set-xmark $I/$I$" \
		"^-A TLSGATE-QUEUE -j NFQUEUE --queue-balance 0:3 --queue-bypass$"
	expect_order $ipt raw TLSGATE-OUT \
		"^-A TLSGATE-OUT -m mark --mark $(hx "$TG_MARK_RST")/$(hx "$TG_MARK_RST") -j CT --notrack$"
	# The jumps come first in their built-in chains, before the administrator's rules.
	check "$ipt: mangle PREROUTING starts with the jump" \
		test "$(inR $ipt -t mangle -S PREROUTING | grep -m1 '^-A')" = "-A PREROUTING -j TLSGATE-PRE"
	check "$ipt: mangle FORWARD starts with the jump" \
		test "$(inR $ipt -t mangle -S FORWARD | grep -m1 '^-A')" = "-A FORWARD -j TLSGATE-FWD"
	check "$ipt: raw OUTPUT starts with the jump" \
		test "$(inR $ipt -t raw -S OUTPUT | grep -m1 '^-A')" = "-A OUTPUT -j TLSGATE-OUT"
	check "$ipt: every NFQUEUE rule has --queue-bypass" \
		test "$(inR $ipt-save | grep -c -- '-j NFQUEUE')" = \
		"$(inR $ipt-save | grep -- '-j NFQUEUE' | grep -c -- '--queue-bypass')"
done
for f in -4 -6; do
	check "ip $f rule fwmark LOCAL lookup $TG_ROUTE_TABLE" test -n \
		"$(ip -n "$R" $f rule list fwmark "$TG_MARK_LOCAL/$TG_MARK_LOCAL" table "$TG_ROUTE_TABLE" pref "$TG_RULE_PREF")"
	check "ip $f route: local default dev lo in table $TG_ROUTE_TABLE" \
		grep -q '^local default dev lo' <(ip -n "$R" $f route show table "$TG_ROUTE_TABLE")
done

ruleset >"$tmp/up1"
tg up --lan lan0 --queues 4 --ports 443,8443,7443 >/dev/null
ruleset >"$tmp/up2"
check "up twice: byte-identical iptables-save, ip6tables-save, ip rule, routes" \
	cmp "$tmp/up1" "$tmp/up2"
check "up twice: one jump each" \
	test "$(inR iptables-save -t mangle | grep -c -- '-j TLSGATE-PRE$')" = 1
tg down --dry-run >"$tmp/dry-down"
ruleset >"$tmp/up-dry-down"
check "down --dry-run changed nothing" cmp -s "$tmp/up1" "$tmp/up-dry-down"
check "down --dry-run prints the removal of jumps, chains, ip rules and routes" \
	test "$(grep -cE '^(-D (PREROUTING|FORWARD|OUTPUT) -j TLSGATE-|-X TLSGATE-|ip -[46] (rule|route) del )' \
		"$tmp/dry-down")" = $((2 * (3 + 7 + 2)))

# --- traffic ---------------------------------------------------------------------------------------
# queued: packets that went through the NFQUEUE rule, IPv4 and IPv6.
queued() {
	local n4 n6
	n4=$(inR iptables -t mangle -L TLSGATE-QUEUE -v -x -n | awk '$3 == "NFQUEUE" {print $1}')
	n6=$(inR ip6tables -t mangle -L TLSGATE-QUEUE -v -x -n | awk '$3 == "NFQUEUE" {print $1}')
	echo $((n4 + n6))
}
# rule_pkts IPT CHAIN N: packet counter of rule N.
rule_pkts() {
	inR "$1" -t mangle -L "$2" -v -x -n --line-numbers | awk -v n="$3" '$1 == n {print $2}'
}

# Background helpers: ip netns exec execs them, so $! is their own pid; their output goes to
# files, so no pipe of the caller stays open after the test.
ip netns exec "$S" python3 "$traffic" serve "$tmp/srv.ready" >"$tmp/srv.out" 2>&1 &
pids+=($!)
ip netns exec "$R" python3 "$traffic" local 10.78.0.2 fd78::2 "$tmp/local.ready" \
	>"$tmp/local.out" 2>&1 &
pids+=($!)
wait_file "$tmp/srv.ready"
wait_file "$tmp/local.ready"

# Traffic to the router itself never reaches the queue: a TLS-port connection to the router's
# own LAN address (IPv4, IPv6) and DNS to it. Nobody listens on the queue yet, so the counter is
# the observable (with --queue-bypass a queued packet would pass just the same).
q0=$(queued)
check "TCP 443 to the router's IPv4 address works" \
	test "$(ip netns exec "$C" python3 "$traffic" client 10.77.0.1 443 hi)" = hi
check "TCP 443 to the router's IPv6 address works" \
	test "$(ip netns exec "$C" python3 "$traffic" client fd77::1 443 hi)" = hi
for addr in 10.77.0.1 fd77::1; do
	out=$(ip netns exec "$C" python3 "$traffic" udp "$addr" 53 q)
	check "UDP 53 to the router's $addr (no resolver there) is answered by the router: $out" \
		test "$out" = REFUSED
done
check "traffic to the router itself was not queued ($q0 -> $(queued))" test "$(queued)" = "$q0"

# Daemon absent: --queue-bypass lets an inspected flow through, and it was queued.
check "no daemon: TCP 443 through the router works (queue bypass)" \
	test "$(ip netns exec "$C" python3 "$traffic" client 10.78.0.2 443 a)" = a
check "no daemon: that flow went through the NFQUEUE rule" test "$(queued)" -gt "$q0"

# Now the stub daemon on all four queues: port 443 passes at the first client data, 8443 blocks
# there (and drops the packet), 7443 adopts there, UDP 443 (QUIC) blocks at the first packet, 80
# is never decided.
ip netns exec "$R" python3 "$stub" --marks "$marks" --queues 0,1,2,3 --log "$tmp/q.log" \
	--ready "$tmp/q.ready" --rule tcp:443:pass@data --rule tcp:8443:block@data \
	--rule tcp:7443:adopt@data --rule udp:443:block@syn >"$tmp/stub.out" 2>&1 &
pids+=($!)
wait_file "$tmp/q.ready"

# flow_log ADDR PORT: the stub's lines for the flows to ADDR:PORT, both directions.
flow_log() { grep -F -e ">$1:$2 " -e " $1:$2>" "$tmp/q.log" || true; }

# Undecided flows (TCP 80) from eight client addresses: every packet of each flow, both
# directions, must reach the daemon on one queue. Replies are queued in FORWARD, de-NATed; queued
# in PREROUTING they would still be addressed to the router's WAN address and hash elsewhere.
for i in 2 3 4 5 6 7 8 9; do
	out=$(ip netns exec "$C" python3 "$traffic" client --from 10.77.0.$i 10.78.0.2 80 hello world)
	[ "$out" = "hello world" ] || bad "undecided flow from 10.77.0.$i: $out"
done
flow_log 10.78.0.2 80 >"$tmp/f80"
check "undecided flows: the SYNs were queued in PREROUTING" \
	test "$(grep -c 'hook=0 tcp .* flags=S len=0' "$tmp/f80")" -ge 8
check "undecided flows: the SYN-ACKs were queued in FORWARD, de-NATed" \
	test "$(grep -cE 'hook=2 tcp 10\.78\.0\.2:80>10\.77\.0\.[2-9]:[0-9]+ flags=SA ' "$tmp/f80")" -ge 8
check "undecided flows: server data reached the queue while undecided" \
	grep -qE 'hook=2 tcp 10\.78\.0\.2:80>.* len=[1-9]' "$tmp/f80"
for i in 2 3 4 5 6 7 8 9; do
	grep -F "10.77.0.$i:" "$tmp/f80" | sed -E 's/ .*//' | sort -u
done >"$tmp/f80q"
check "undecided flows: each flow's packets, both directions, on one queue" \
	test "$(wc -l <"$tmp/f80q")" = 8
check "undecided flows: spread over more than one queue" test "$(sort -u "$tmp/f80q" | wc -l)" -gt 1

# check_pass ADDR LOGADDR: a flow to ADDR:443 that the stub passes at the client's first data;
# LOGADDR is ADDR as the stub writes it.
check_pass() {
	local addr=$1 out
	out=$(ip netns exec "$C" python3 "$traffic" client "$addr" 443 first second third)
	check "PASS flow to $addr works: $out" test "$out" = "first second third"
	flow_log "$2" 443 >"$tmp/f443"
	check "PASS flow to $addr: SYN-ACK seen by the daemon" grep -q 'hook=2 .* flags=SA ' "$tmp/f443"
	check "PASS flow to $addr: exactly one PASS verdict, on the first data" \
		test "$(grep -c 'verdict=pass' "$tmp/f443"):$(grep 'verdict=pass' "$tmp/f443" | grep -c 'len=5 ')" = 1:1
	check "PASS flow to $addr: nothing of the flow queued after the PASS" \
		test "$(tail -1 "$tmp/f443" | grep -c 'verdict=pass')" = 1
	check "PASS flow to $addr: no server data ever queued" \
		test "$(grep -cE 'hook=2 .* len=[1-9]' "$tmp/f443")" = 0
	check "PASS flow to $addr: all packets on one queue" \
		test "$(sed -E 's/ .*//' "$tmp/f443" | sort -u | wc -l)" = 1
}
check_pass 10.78.0.2 10.78.0.2
check_pass fd78::2 '[fd78::2]'
acct=$(inR iptables -t mangle -L POSTROUTING -v -x -n | awk 'NR == 3 {print $1}')
check "PASS recorded by save-mark kept the INSPECT connmark bit ($acct packets)" test "$acct" -gt 0

out=$(ip netns exec "$C" python3 "$traffic" client 10.78.0.2 8443 x)
check "BLOCK flow: the client gets nothing, not even the server's late data: $out" \
	test "$out" = TIMEOUT
flow_log 10.78.0.2 8443 >"$tmp/f8443"
check "BLOCK flow: one block verdict and nothing of the flow queued after it" \
	test "$(grep -c 'verdict=block' "$tmp/f8443"):$(tail -1 "$tmp/f8443" | grep -c 'verdict=block')" = 1:1
check "BLOCK flow: retransmissions and server data dropped by the connmark rule" \
	test "$(rule_pkts iptables TLSGATE-PRE 5)" -gt 0

out=$(ip netns exec "$C" python3 "$traffic" client 10.78.0.2 7443 x)
check "ADOPT flow without a local socket: late server data never reaches the client: $out" \
	test "$out" = TIMEOUT
flow_log 10.78.0.2 7443 >"$tmp/f7443"
check "ADOPT flow: one adopt verdict and nothing of the flow queued after it" \
	test "$(grep -c 'verdict=adopt' "$tmp/f7443"):$(tail -1 "$tmp/f7443" | grep -c 'verdict=adopt')" = 1:1
check "ADOPT flow: the server's late packets were dropped on arrival" \
	test "$(rule_pkts iptables TLSGATE-PRE 6)" -gt 0

# A drop of a flow's FIRST packet cannot be remembered by the kernel: its conntrack entry is not
# confirmed yet and dies with the packet, connmark and all. Every retransmission comes to the
# queue again, and the daemon must answer it from its own flow table.
out=$(ip netns exec "$C" python3 "$traffic" udp 10.78.0.2 443 i1 i2 i3)
check "QUIC blocked at the first packet: nothing comes back: $out" test "$out" = "TIMEOUT TIMEOUT TIMEOUT"
check "QUIC blocked at the first packet: each datagram reaches the daemon again" \
	test "$(flow_log 10.78.0.2 443 | grep -c 'udp .*verdict=block')" = 3

out=$(ip netns exec "$C" python3 "$traffic" udp 10.78.0.2 53 query)
check "DNS over UDP works: $out" test "$out" = query
flow_log 10.78.0.2 53 >"$tmp/f53"
check "DNS: query queued in PREROUTING and answer in FORWARD" \
	test "$(grep -c 'hook=0 udp' "$tmp/f53"):$(grep -c 'hook=2 udp' "$tmp/f53")" = 1:1

# The socket match: a transparent socket on the router bound to the server's address gets the
# client's connection (policy routing to lo), IPv4 and IPv6; the real server never sees it.
for addr in 10.78.0.2 fd78::2; do
	out=$(ip netns exec "$C" python3 "$traffic" banner "$addr" 9443)
	check "socket match delivers $addr:9443 to the router's transparent socket: $out" \
		test "$out" = router
done
check "socket match: counted in TLSGATE-PRE rule 4 (IPv4, IPv6)" \
	test "$(rule_pkts iptables TLSGATE-PRE 4)" -gt 0 -a "$(rule_pkts ip6tables TLSGATE-PRE 4)" -gt 0

q1=$(queued)
ip netns exec "$C" python3 "$traffic" client 10.77.0.1 443 hi >/dev/null
ip netns exec "$C" python3 "$traffic" client fd77::1 443 hi >/dev/null
ip netns exec "$C" python3 "$traffic" udp 10.77.0.1 53 q >/dev/null
check "with the daemon up, traffic to the router still not queued" test "$(queued)" = "$q1"
check "the daemon never saw a packet to or from the router's own addresses" \
	test "$(grep -cE '10\.77\.0\.1:|fd77::1\]:' "$tmp/q.log" || true)" = 0

kill "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null || true

# --- status, partial, repair ---------------------------------------------------------------------
ip -n "$R" -6 rule del fwmark "$TG_MARK_LOCAL/$TG_MARK_LOCAL" table "$TG_ROUTE_TABLE" pref "$TG_RULE_PREF"
rc=0
tg status >"$tmp/status" || rc=$?
check "status with the IPv6 ip rule gone: partial, exit 5" \
	test "$rc:$(tail -1 "$tmp/status")" = "5:tlsgate rules: partial (IPv4 up, IPv6 partial)"
check "status shows counters for each tlsgate chain" \
	test "$(grep -cE '^-- (mangle|raw) TLSGATE-[A-Z]+:$' "$tmp/status")" = 14
tg up --lan lan0 --queues 4 --ports 443,8443,7443 >/dev/null
ruleset >"$tmp/up3"
check "up repairs a partial ruleset to the same ruleset" cmp "$tmp/up1" "$tmp/up3"

# --- down ---------------------------------------------------------------------------------------
tg down >/dev/null
snapshot >"$tmp/after-down"
if cmp -s "$tmp/before" "$tmp/after-down"; then
	ok "down restores the exact ruleset of before up (iptables-save, ip6tables-save, rules, routes)"
else
	bad "down left differences:"
	diff "$tmp/before" "$tmp/after-down" || true
fi
rc=0
tg status >"$tmp/status" || rc=$?
check "status after down says down, exit 4" test "$rc:$(tail -1 "$tmp/status")" = "4:tlsgate rules: down"
tg down >/dev/null
snapshot >"$tmp/after-down2"
check "down twice changes nothing" cmp -s "$tmp/before" "$tmp/after-down2"

# --- IPv4 only ------------------------------------------------------------------------------------
tg up --lan lan0 --no-ipv6 >/dev/null
rc=0
tg status >"$tmp/status" || rc=$?
check "up --no-ipv6: status says up (IPv4 only)" \
	test "$rc:$(tail -1 "$tmp/status")" = "0:tlsgate rules: up (IPv4 only)"
check "up --no-ipv6: no IPv6 rules" test "$(inR ip6tables-save | grep -c TLSGATE || true)" = 0
tg down >/dev/null
snapshot >"$tmp/after-down3"
check "down after up --no-ipv6 restores the ruleset" cmp -s "$tmp/before" "$tmp/after-down3"

# --- a namespace with no firewall at all --------------------------------------------------------------
# up creates the nf_tables tables; down must remove them again (needs nft to see them).
ip link add tgp$$ netns "$P" type veth peer name lan1 netns "$P"
ip netns exec "$P" "$setup" up --lan lan1 >/dev/null
pstate=/run/tlsgate-setup/netns-$(ip netns exec "$P" stat -L -c %i /proc/self/ns/net).env
check "bare namespace: up records what it installed for tlsgated ($pstate)" \
	grep -qx "TLSGATE_QUEUE_NUM=0" "$pstate"
ip netns exec "$P" "$setup" down >/dev/null
check "bare namespace: down removes that record" test ! -e "$pstate"
check "bare namespace: iptables-save and ip6tables-save empty after up + down" \
	test -z "$(ip netns exec "$P" iptables-save)$(ip netns exec "$P" ip6tables-save)"
if command -v nft >/dev/null; then
	check "bare namespace: nft ruleset empty after up + down" \
		test -z "$(ip netns exec "$P" nft list ruleset)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
