#!/bin/bash
# End-to-end: tlsgated on NFQUEUE in a client / router / server namespace lab (test/e2e/netns.sh)
# with real clients (curl, python) and real servers (python HTTPS/HTTP/DNS, a UDP sink).
# Root only (network namespaces, netfilter); exits 77 otherwise. Traffic stays inside the
# namespaces this test creates. Prints "N passed, N failed".
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${TG_BIN:-$src/build/bin}
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	exit 77
fi
export TG_NS_PREFIX=tge$$
# shellcheck source=e2e/netns.sh
. "$src/test/e2e/netns.sh"
work=$(mktemp -d)
pass=0 fail=0
daemon_pid=
daemon_rc=

cleanup()
{
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	in_r "$src/scripts/tlsgate-setup" down >/dev/null 2>&1
	lab_down
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=e2e/check.sh
. "$src/test/e2e/check.sh"
loglines() { grep -c "$1" "$work/daemon.log"; } # loglines TEXT: daemon log lines with TEXT

start_daemon()
{
	local runs
	runs=$(grep -c "running" "$work/daemon.log" 2>/dev/null)
	# Not through the in_r function: a backgrounded function is a subshell, and $! would be
	# its pid. ip netns exec execs the daemon in place, so $! is the daemon.
	# Upstreams are verified against the lab server's own (self-signed) certificate.
	ip netns exec "$NS_R" "$bin/tlsgated" --policy "$work/policy.json" --state-dir "$work/state" \
		--content "$src/policy/content" --log "$work/decisions.log" --control "$work/control" \
		--ca-dir "$work/ca" --trust "$work/srv.pem" >>"$work/daemon.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 50); do
		[ "$(grep -c "running" "$work/daemon.log")" -gt "${runs:-0}" ] && return 0
		sleep 0.1
	done
	echo "daemon did not start:"
	cat "$work/daemon.log"
	return 1
}

stop_daemon()
{
	kill "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_rc=$? # a sanitizer report on the way out (leaks) makes it non-zero
	daemon_pid=
}

# Clients trust the lab server's certificate (passed flows) and the gateway's CA (decrypted).
curl_c() { in_c curl -sS --max-time 5 --cacert "$work/trust.pem" "$@"; }
queued() { # packets the ruleset handed to the queue so far
	in_r iptables -t mangle -L TLSGATE-QUEUE -nvx | awk '$3 == "NFQUEUE" {print $1}'
}
decision() { # decision NAME: the last logged action for a name (sni, host or qname)
	grep "\"$1\"" "$work/decisions.log" | tail -n 1 | sed -n 's/.*"action":"\([a-z]*\)".*/\1/p'
}

lab_up || { echo "cannot create namespaces"; exit 1; }
cp "$src/test/e2e/policy.json" "$work/policy.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=tlsgate-e2e \
	-addext "subjectAltName=DNS:pass.test,DNS:www.decrypt.test,DNS:www.blocked.test,DNS:ech.test" \
	-keyout "$work/srv.key" -out "$work/srv.pem" 2>/dev/null
"$bin/tlsgatectl" ca init --dir "$work/ca" >/dev/null || { echo "ca init failed"; exit 1; }
cat "$work/srv.pem" "$work/ca/ca.crt" >"$work/trust.pem"
ip netns exec "$NS_S" python3 "$src/test/e2e/servers.py" "$work/srv.pem" "$work/srv.key" "$work" "$S4" "$S6" \
	>"$work/servers.log" 2>&1 &
for _ in $(seq 300); do [ -f "$work/servers.ready" ] && break; sleep 0.1; done
[ -f "$work/servers.ready" ] || { echo "lab servers did not start" >&2; exit 1; }
in_r "$src/scripts/tlsgate-setup" up --lan lan0 >/dev/null || { echo "setup failed"; exit 1; }
start_daemon || exit 1
R4="--resolve pass.test:443:$S4 --resolve www.decrypt.test:443:$S4 --resolve www.blocked.test:443:$S4"

# PASS: the real server's certificate (curl verifies it against the server's own), and only the
# handshake and ClientHello packets of the flow reach the queue.
before=$(queued)
out=$(curl_c $R4 -o /dev/null -w '%{http_code} %{size_download}' https://pass.test/big)
after=$(queued)
check "pass: 4 MiB over a verified connection to the real server ($out)" [ "$out" = "200 4194304" ]
check "pass: $((after - before)) packets of a 4 MiB flow were queued (at most 6)" \
	[ $((after - before)) -le 6 ]
check "pass: ... and the ClientHello was among them (the queue counter is read: $before -> $after)" \
	test -n "$before" -a $((after - before)) -ge 1
check "pass: logged as pass" [ "$(decision pass.test)" = pass ]

# ClientHello split into two TLS records and into two TCP segments, right inside the SNI.
for mode in records segments; do
	check "split $mode: blocked name gets a reset" \
		[ "$(in_c python3 "$src/test/e2e/client.py" splitch "$S4" www.blocked.test $mode)" = reset ]
	check "split $mode: passed name reaches the server" \
		[ "$(in_c python3 "$src/test/e2e/client.py" splitch "$S4" pass.test $mode)" = answer ]
done

# Reordered segments: the client's first ClientHello segment (100 bytes of TCP payload: IP
# length 152 with timestamps) is dropped once in the client's own namespace, so the router gets
# the second segment first and the first one as a retransmission.
long=a-label-long-enough-that-the-first-segment-ends-inside-the-name
for ipt_rule in "--rcheck -j ACCEPT" "--set -j DROP"; do
	# shellcheck disable=SC2086
	in_c iptables -A OUTPUT -p tcp --dport 443 -m length --length 152 -m recent --name tgro $ipt_rule
done
reorder() { # reorder SNI: what the client saw, and whether a segment really was held back
	in_c sh -c 'echo / >/proc/net/xt_recent/tgro'
	local before after
	before=$(in_c iptables -L OUTPUT -nvx | awk '$3 == "DROP" {print $1}')
	in_c python3 "$src/test/e2e/client.py" splitch "$S4" "$1" reorder
	after=$(in_c iptables -L OUTPUT -nvx | awk '$3 == "DROP" {print $1}')
	[ $((after - before)) -eq 1 ] || echo "not-reordered"
}
check "reordered segments: blocked name gets a reset" [ "$(reorder "$long.www.blocked.test")" = reset ]
check "reordered segments: passed name reaches the server" [ "$(reorder "$long.pass.test")" = answer ]
in_c iptables -F OUTPUT

# An incomplete ClientHello: its first bytes went on to the server at once (nothing is held
# while incomplete); after 5 s the policy's incomplete_client_hello class decides (block by
# default: an honest client completes its ClientHello in one round trip).
in_c python3 "$src/test/e2e/client.py" splitch "$S4" partial.pass.test partial >/dev/null
check "incomplete timeout: an incomplete ClientHello is decided by its fail class" \
	grep -q '"action":"block","reason":"fail-incomplete"' "$work/decisions.log"

# DECRYPT: a real TLS client (trusting the gateway's CA) completes through the adopted and
# intercepted flow, with zero retransmissions, and the server keeps no half-open connection from
# the client's address.
export NSTAT_HISTORY=$work/nstat.history # nstat's own history, not one shared by namespaces
in_c nstat -n >/dev/null
okc=0
for i in $(seq 10); do
	out=$(curl_c $R4 -o /dev/null -w '%{http_code} %{size_download}' https://www.decrypt.test/big)
	[ "$out" = "200 4194304" ] && okc=$((okc + 1))
done
nst=$(in_c nstat 2>/dev/null) # since nstat -n; counters that stayed 0 are not listed
retrans=$(awk '$1 == "TcpRetransSegs" {print $2}' <<<"$nst")
outsegs=$(awk '$1 == "TcpOutSegs" {print $2}' <<<"$nst")
check "decrypt: 10 of 10 intercepted 4 MiB transfers ($okc)" [ "$okc" -eq 10 ]
check "decrypt: client retransmissions ${retrans:-0}" [ "${retrans:-0}" -eq 0 ]
check "decrypt: ... counted over the client's ${outsegs:-0} segments (nstat sees them)" \
	[ "${outsegs:-0}" -ge 1000 ]
decrypted() { grep '"sni":"www.decrypt.test".*"rule":"decrypt-test".*"action":"decrypt".*"outcome":"intercepted"' "$work/decisions.log" | grep -c .; }
check "decrypt: logged as decrypt by rule decrypt-test, intercepted ($(decrypted) lines)" \
	wait_until more_than 9 decrypted

# DECRYPT after part of the ClientHello went to the server: a real TLS client writes its
# ClientHello in 7-byte segments; every one but the last is released to the server at once, the
# adopted socket gets them as its receive queue, the last is re-injected. Zero retransmissions.
in_c nstat -n >/dev/null
okc=0 n0=$(decrypted)
for i in $(seq 5); do
	out=$(in_c python3 "$src/test/e2e/client.py" smallch "$S4" www.decrypt.test 7 "$work/trust.pem" 2>&1)
	[ "$out" = 4194304 ] && okc=$((okc + 1))
done
nst=$(in_c nstat 2>/dev/null)
retrans=$(awk '$1 == "TcpRetransSegs" {print $2}' <<<"$nst")
outsegs=$(awk '$1 == "TcpOutSegs" {print $2}' <<<"$nst")
check "decrypt, ClientHello in 7-byte segments: 5 of 5 adopted with the released prefix ($okc, last: $out)" [ "$okc" -eq 5 ]
check "decrypt, ClientHello in 7-byte segments: ... and intercepted (logged $n0 -> $(decrypted))" \
	wait_until more_than $((n0 + 4)) decrypted
check "decrypt, ClientHello in 7-byte segments: client retransmissions ${retrans:-0}" [ "${retrans:-0}" -eq 0 ]
check "decrypt, ClientHello in 7-byte segments: ... over ${outsegs:-0} segments nstat saw" \
	[ "${outsegs:-0}" -ge 500 ]
check "decrypt, ClientHello in 7-byte segments: segments released before the decision" \
	bash -c "'$bin/tlsgatectl' stats --control '$work/control' | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"engine\"][\"released\"] < 5 * 40)'"
stale=$(in_s ss -Htn state established "( sport = :443 )" | grep -c "$C4" || true)
check "decrypt: server's old half was reset ($stale stale connections)" [ "$stale" -eq 0 ]
listening=$(in_s ss -Htln "( sport = :443 )" | grep -c . || true)
check "decrypt: ... as ss shows the server's sockets (its listeners on 443: $listening)" \
	[ "$listening" -ge 1 ]

# IP filtering at the SYN: the client gets an RST that acknowledges its SYN (a SYN-SENT client
# takes it and gives up at once) instead of retrying an unanswered SYN for a minute.
t0=$(date +%s%N)
out=$(in_c curl -sS --max-time 5 -k https://198.51.100.77/ 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
check "ip filtering: the SYN is refused at once (${ms} ms: $out)" \
	bash -c '[[ $1 == *"Failed to connect"* ]] && [ "$2" -lt 1000 ]' _ "$out" "$ms"
check "ip filtering: logged as block by rule block-net" \
	grep -q '"event_type":"alert".*"dest_ip":"198.51.100.77".*"rule":"block-net".*"action":"block"' "$work/decisions.log"

# BLOCK: the client sees a reset.
curl_c $R4 https://www.blocked.test/ >"$work/block.out" 2>&1
check "block: client gets a reset" grep -q "reset by peer" "$work/block.out"

# HTTP on port 80: a blocked Host gets a 403 page; an allowed one reaches the server.
out=$(in_c curl -sS --max-time 5 -o "$work/page.html" -w '%{http_code}' -H "Host: www.blocked.test" "http://$S4/x")
check "http: blocked Host gets the 403 page ($out)" [ "$out" = 403 ]
check "http: the page names the rule" grep -q "Rule: block-test" "$work/page.html"
out=$(in_c curl -sS --max-time 5 -H "Host: pass.test" "http://$S4/y")
check "http: allowed Host reaches the server ($out)" [ "$out" = "server - /y" ]
# A Host far longer than any name: the decision line is still written, the name cut.
long=$(printf 'x%.0s' $(seq 700)).www.blocked.test
out=$(in_c curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "Host: $long" "http://$S4/z")
check "http: a 717-byte Host is blocked ($out) and its decision logged, the name truncated" \
	bash -c "[ '$out' = 403 ] && grep '\"truncated\":true' '$work/decisions.log' | tail -n 1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); sys.exit(not (d[\"action\"] == \"block\" and len(d[\"http\"][\"hostname\"]) == 512))'"
# Every request on a keep-alive connection is decided, but the replies are not queued (STREAM
# connmark): 4 MiB then a second request on one connection; the reply queue rules see nothing.
# (iptables-nft lists the protocol by number: 6, not tcp.)
replies() { in_r iptables -t mangle -L TLSGATE-FWD -nvx | awk '$3 == "TLSGATE-QUEUE" && ($4 == "tcp" || $4 == "6") {print $1}'; }
before=$(replies) reqs=$(grep -c '"app_proto":"http"' "$work/decisions.log")
out=$(in_c curl -sS --max-time 10 -H "Host: pass.test" -o /dev/null -w '%{http_code} %{size_download} %{num_connects}\n' \
	"http://$S4/big" -o /dev/null "http://$S4/y" | tr '\n' ' ')
after=$(replies)
check "http keep-alive: two requests on one connection ($out)" [ "$out" = "200 4194304 1 200 12 0 " ]
check "http keep-alive: both requests decided ($(($(grep -c '"app_proto":"http"' "$work/decisions.log") - reqs)))" \
	[ "$(($(grep -c '"app_proto":"http"' "$work/decisions.log") - reqs))" -eq 2 ]
check "http keep-alive: $((after - before)) reply packets queued after the first request (at most 3)" \
	[ $((after - before)) -le 3 ]
check "http keep-alive: ... read from the reply queue rule's counter ($before -> $after)" \
	bash -c '[[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]]' _ "$before" "$after"

# DNS: a blocked name is answered NXDOMAIN by the gateway; others by the server.
check "dns: blocked name -> NXDOMAIN" \
	[ "$(in_c python3 "$src/test/e2e/client.py" dns "$S4" www.blocked.test A)" = "rcode=3 answers=0 ech=no" ]
check "dns: other name answered by the server" \
	[ "$(in_c python3 "$src/test/e2e/client.py" dns "$S4" pass.test A)" = "rcode=0 answers=1 ech=no" ]
# The answer taught the gateway S4 = pass.test: a ClientHello without SNI is logged by that name.
in_c python3 "$src/test/e2e/client.py" splitch "$S4" - records >/dev/null
check "dns: a flow without SNI is logged with the learned name" \
	grep -q '"dest_name":"pass.test"' "$work/decisions.log"

# Only answers to queries the gateway forwarded teach names, each to the client that asked.
ctr() { # ctr NAME: an engine counter now
	"$bin/tlsgatectl" stats --control "$work/control" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['engine']['$1'])"
}
logctr() { # logctr NAME: an event log counter now
	"$bin/tlsgatectl" stats --control "$work/control" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['log']['$1'])"
}
last_dns_name() { # the name logged for the last flow without SNI
	grep '"dest_name"' "$work/decisions.log" | tail -n 1 | sed -n 's/.*"dest_name":"\([^"]*\)".*/\1/p'
}
u0=$(ctr dns_unsolicited)
in_c python3 "$src/test/e2e/client.py" dnsforge "$S4" forged.test "$S4" >/dev/null
wait_until more_than "$u0" ctr dns_unsolicited
in_c python3 "$src/test/e2e/client.py" splitch "$S4" - records >/dev/null
u1=$(ctr dns_unsolicited)
check "dns: a forged answer from the client's port 53 is unsolicited ($u0 -> $u1)" [ "$u1" -gt "$u0" ]
check "dns: ... and teaches nothing (logged: $(last_dns_name))" [ "$(last_dns_name)" = pass.test ]
c0=$(ctr dns_names_conflict)
check "dns: a real answer naming the address otherwise is forwarded" \
	[ "$(in_c python3 "$src/test/e2e/client.py" dns "$S4" other.test A)" = "rcode=0 answers=1 ech=no" ]
in_c python3 "$src/test/e2e/client.py" splitch "$S4" - records >/dev/null
c1=$(ctr dns_names_conflict)
check "dns: ... counted as a conflict ($c0 -> $c1)" [ "$c1" -gt "$c0" ]
check "dns: ... and the live pair is not overwritten (logged: $(last_dns_name))" \
	[ "$(last_dns_name)" = pass.test ]

# A query that does not parse follows the unparsable_dns fail class (block by default).
i0=$(ctr dns_invalid_blocked)
check "dns: an unparsable query is dropped" \
	[ "$(in_c python3 "$src/test/e2e/client.py" dnsjunk "$S4" pass.test A)" = timeout ]
check "dns: ... counted ($i0 -> $(ctr dns_invalid_blocked)) and logged" \
	bash -c "[ $(ctr dns_invalid_blocked) -gt $i0 ] && grep -q '\"reason\":\"fail-unparsable-dns\"' '$work/decisions.log'"

check "dns over tcp: blocked name gets a reset" \
	[ "$(in_c python3 "$src/test/e2e/client.py" dnstcp "$S4" www.blocked.test A)" = reset ]
check "dns over tcp: other name answered by the server" \
	[ "$(in_c python3 "$src/test/e2e/client.py" dnstcp "$S4" pass.test A)" = "rcode=0 answers=1 ech=no" ]
# An HTTPS answer over TCP with ech cannot be rewritten in the stream: the connection is reset
# before the answer reaches the client (policy strips ECH).
"$bin/tlsgatectl" stats --control "$work/control" >"$work/stats0.json"
out=$(in_c python3 "$src/test/e2e/client.py" dnstcp "$S4" ech.test HTTPS)
"$bin/tlsgatectl" stats --control "$work/control" >"$work/stats1.json"
refused=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[2]))["engine"]["dns_ech_tcp_refused"] - json.load(open(sys.argv[1]))["engine"]["dns_ech_tcp_refused"])' "$work/stats0.json" "$work/stats1.json")
check "dns over tcp: an answer with ech is refused ($out, counted $refused)" \
	test "$out" = reset -a "$refused" = 1

# ECH: the policy strips the ech parameter from HTTPS answers; the rest of the record stays.
check "dns: ech stripped from the HTTPS answer" \
	[ "$(in_c python3 "$src/test/e2e/client.py" dns "$S4" ech.test HTTPS)" = "rcode=0 answers=1 ech=no" ]
check "dns: the server does send ech (checked behind the gateway's back)" \
	[ "$(in_r python3 "$src/test/e2e/client.py" dns "$S4" ech.test HTTPS)" = "rcode=0 answers=1 ech=yes" ]

s0=$(ctr dns_ech_stripped)
check "dns: ech stripped from an HTTPS record in the additional section" \
	[ "$(in_c python3 "$src/test/e2e/client.py" dns "$S4" ech-extra.test A)" = "rcode=0 answers=1 ech=no" ]
check "dns: ... which the server does send" \
	[ "$(in_r python3 "$src/test/e2e/client.py" dns "$S4" ech-extra.test A)" = "rcode=0 answers=1 ech=yes" ]
check "dns: ... counted as stripped ($s0 -> $(ctr dns_ech_stripped))" [ "$(ctr dns_ech_stripped)" -gt "$s0" ]

# QUIC: dropped per policy; the server's sink counts nothing. The absence means something
# because the gateway counted each datagram it dropped, and because the sink does count a
# datagram that reaches it (sent from the router, behind the gateway's back).
q0=$(ctr quic_blocked) ql0=$(grep -c '"app_proto":"quic"' "$work/decisions.log") rep0=$(logctr repeats)
in_c python3 "$src/test/e2e/client.py" quic "$S4" 5
wait_until more_than $((q0 + 4)) ctr quic_blocked
check "quic: the gateway dropped the 5 datagrams sent (quic_blocked $q0 -> $(ctr quic_blocked))" \
	[ "$(ctr quic_blocked)" -eq $((q0 + 5)) ]
ql=$(($(grep -c '"app_proto":"quic"' "$work/decisions.log") - ql0))
check "quic: one attempt (5 datagrams of one socket) is one line ($ql), 4 repeats counted ($rep0 -> $(logctr repeats))" \
	[ "$ql" -eq 1 -a "$(logctr repeats)" -eq $((rep0 + 4)) ]
check "quic: no datagram reached the server" [ ! -f "$work/quic.count" ]
in_r python3 "$src/test/e2e/client.py" quic "$S4" 1
check "quic: the server's sink counts a datagram that does reach it" \
	wait_until test -f "$work/quic.count"

# IPv6 path: pass and block.
out=$(curl_c --resolve "pass.test:443:[$S6]" -o /dev/null -w '%{http_code}' https://pass.test/)
check "ipv6: pass ($out)" [ "$out" = 200 ]
curl_c --resolve "www.blocked.test:443:[$S6]" https://www.blocked.test/ >"$work/block6.out" 2>&1
check "ipv6: block gives a reset" grep -q "reset by peer" "$work/block6.out"
out=$(curl_c --resolve "www.decrypt.test:443:[$S6]" -o /dev/null -w '%{http_code}' https://www.decrypt.test/)
check "ipv6: decrypt (intercepted) ($out)" [ "$out" = 200 ]

# Reload with a broken policy: the old one keeps running (still blocking).
cp "$work/policy.json" "$work/policy.good"
echo '{"version": 1, "filtering": [{"name": "x"}]' >"$work/policy.json"
n=$(loglines "reload failed")
kill -HUP "$daemon_pid"
check "reload: a bad policy is refused and said so" wait_until more_than "$n" loglines "reload failed"
curl_c $R4 https://www.blocked.test/ >"$work/block2.out" 2>&1
check "reload: the running policy still blocks" grep -q "reset by peer" "$work/block2.out"
cp "$work/policy.good" "$work/policy.json"
n=$(loglines "policy reloaded")
kill -HUP "$daemon_pid"
check "reload: a good policy is taken" wait_until more_than "$n" loglines "policy reloaded"
curl_c $R4 https://www.blocked.test/ >"$work/block4.out" 2>&1
check "reload: the reloaded policy blocks" grep -q "reset by peer" "$work/block4.out"
out=$(curl_c $R4 -o /dev/null -w '%{http_code}' https://pass.test/)
check "reload: ... and passes ($out)" [ "$out" = 200 ]

# The proxy's per-client cap (256): one client holding 260 decrypted connections; those past
# the cap are not adopted (the proxy has no room: fail-adoption, pass by default) and still work.
out=$(in_c python3 "$src/test/e2e/client.py" hold "$S4" www.decrypt.test 260)
"$bin/tlsgatectl" stats --control "$work/control" >"$work/stats-hold.json"
full=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engine"]["proxy_full"])' "$work/stats-hold.json")
check "proxy: 260 held connections of one client all answered ($out)" [ "$out" -eq 260 ]
check "proxy: those past the per-client cap fell back ($full, fail-adoption logged with the SNI)" \
	bash -c "[ '$full' -ge 4 ] && grep -q '\"sni\":\"www.decrypt.test\".*\"reason\":\"fail-adoption\"' '$work/decisions.log'"
# The held connections end with a reset after the gateway's certificate: to the pinning
# detector, clients refusing it. What that taught the dynamic bypass table goes, once the proxy
# has settled them all.
proxy_idle() {
	"$bin/tlsgatectl" stats --control "$work/control" |
		python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["proxy"]["active"] != 0)'
}
check "proxy: the held connections all settled" wait_until proxy_idle
"$bin/tlsgatectl" bypass flush --control "$work/control" >/dev/null

# A client that trusts only the server's own certificate refuses the gateway's: it was not
# the server's certificate it saw. The refusal is pinning evidence, logged; the dynamic bypass
# table it feeds is then emptied so that nothing below depends on it.
out=$(in_c curl -sS --max-time 5 --cacert "$work/srv.pem" $R4 https://www.decrypt.test/ 2>&1)
check "decrypt: the client saw the gateway's certificate, not the server's (${out:0:60})" \
	bash -c '[[ $1 == *"SSL certificate problem"* || $1 == *"unable to get local issuer"* ]]' _ "$out"
check "decrypt: ... logged as the client's rejection, with its unknown_ca alert" \
	wait_until grep -q '"sni":"www.decrypt.test".*"outcome":"client-rejected".*"alert":"unknown_ca"' "$work/decisions.log"
"$bin/tlsgatectl" bypass flush --control "$work/control" >/dev/null

# The event log rotated (logrotate: move, then postrotate): after SIGUSR1 the next line goes to a
# new file at the path, not to the moved one; the same with tlsgatectl log reopen.
rotated() { # rotated PORT MOVED: a line of the flow from PORT is in the new file, not in MOVED
	grep -q "\"src_port\":$1,.*\"sni\":\"pass.test\"" "$work/decisions.log" 2>/dev/null &&
		! grep -q "\"src_port\":$1," "$2"
}
n=$(loglines "event log reopened")
mv "$work/decisions.log" "$work/decisions.log.1"
kill -USR1 "$daemon_pid"
wait_until more_than "$n" loglines "event log reopened"
curl_c $R4 --local-port 45123 -o /dev/null https://pass.test/
check "log rotation: SIGUSR1 after mv: a new file gets the next line" \
	wait_until rotated 45123 "$work/decisions.log.1"
mv "$work/decisions.log" "$work/decisions.log.2"
out=$("$bin/tlsgatectl" log reopen --control "$work/control")
rc=$?
curl_c $R4 --local-port 45124 -o /dev/null https://pass.test/
reopened() { [ "$rc" -eq 0 ] && wait_until rotated 45124 "$work/decisions.log.2"; }
check "log rotation: tlsgatectl log reopen ($out, exit $rc): a new file gets the next line" reopened
check "log rotation: counted ($(logctr reopened))" [ "$(logctr reopened)" -eq 2 ]

# The log's budget per client address: a flood of blocked DNS queries from one address is
# suppressed past its budget and counted; another address's line is still written; the flood
# is summed up in one "suppressed" line; nothing is lost silently: every query blocked is a
# line or counted in the summary.
CF=192.0.2.3
in_c ip addr add "$CF/24" dev c0
m=$(wc -l <"$work/decisions.log") sup0=$(logctr suppressed) b0=$(ctr dns_blocked)
in_c python3 - "$S4" "$CF" 6000 <<'PY'
import socket, struct, sys, time
srv, src, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x03www\x07blocked\x04test\x00" \
    + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for i in range(n):
    s.sendto(q, (srv, 53))
    if i % 100 == 99:
        time.sleep(0.015)
PY
in_c python3 "$src/test/e2e/client.py" dns "$S4" www.blocked.test A >/dev/null
since() { tail -n +$((m + 1)) "$work/decisions.log"; }
summed() { since | grep '"event_type":"suppressed"' | grep -q "\"src_ip\":\"$CF\""; }
check "log budget: the flood is summed up in a suppressed line" wait_until summed
sup=$(($(logctr suppressed) - sup0)) blocked=$(($(ctr dns_blocked) - b0))
flines=$(since | grep -c "\"src_ip\":\"$CF\".*\"rrname\":\"www.blocked.test\"")
summary=$(since | grep '"event_type":"suppressed"' | grep "\"src_ip\":\"$CF\"" |
	python3 -c 'import json,sys; print(sum(json.loads(l)["count"] for l in sys.stdin))')
check "log budget: the flooder's lines past its budget suppressed ($flines written, $sup suppressed)" \
	[ "$sup" -gt 0 -a "$flines" -ge 2000 -a "$flines" -lt 6000 ]
check "log budget: another address's line is written meanwhile" \
	bash -c "tail -n +$((m + 1)) '$work/decisions.log' | grep -q '\"src_ip\":\"$C4\".*\"rrname\":\"www.blocked.test\"'"
check "log budget: the summary counts what was suppressed ($summary = $sup)" [ "$summary" -eq "$sup" ]
check "log budget: every blocked query is a line or counted ($blocked = $flines + 1 + $sup)" \
	[ "$blocked" -eq $((flines + 1 + sup)) ]

# Counters through the control socket (tlsgatectl stats).
"$bin/tlsgatectl" stats --control "$work/control" >"$work/stats.json"
stat() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$1)" "$work/stats.json"; }
check "stats: adopted flows counted ($(stat "['engine']['adopt_ok']"))" [ "$(stat "['engine']['adopt_ok']")" -ge 10 ]
check "stats: intercepted connections ($(stat "['proxy']['intercepted']"))" [ "$(stat "['proxy']['intercepted']")" -ge 10 ]
check "stats: ech stripped ($(stat "['engine']['dns_ech_stripped']"))" [ "$(stat "['engine']['dns_ech_stripped']")" -ge 1 ]
check "stats: QUIC datagrams blocked ($(stat "['engine']['quic_blocked']"))" [ "$(stat "['engine']['quic_blocked']")" -ge 5 ]
check "stats: no verdict failures" [ "$(stat "['engine']['verdict_fail']")" -eq 0 ]
check "stats: unknown command answered with an error" \
	bash -c "python3 - '$work/control' <<'PY' | grep -q 'unknown command'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'bogus\\n')
print(s.recv(200).decode())
PY"
check "stats: kernel queue counters read" [ "$(stat "['queue']['kernel_user_dropped']")" -ge 0 ]

# Least privilege after start-up: CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12) and CAP_NET_RAW
# (13) only, in every thread, with no_new_privs.
caps() { awk -v k="$1:" '$1 == k {print $2}' "${2:-/proc/$daemon_pid/status}"; }
check "privileges: CapEff $(caps CapEff) is 0x3400" [ "$((16#$(caps CapEff)))" -eq $((0x3400)) ]
check "privileges: CapBnd $(caps CapBnd) is 0x3400" [ "$((16#$(caps CapBnd)))" -eq $((0x3400)) ]
check "privileges: NoNewPrivs is 1" [ "$(caps NoNewPrivs)" = 1 ]
wide=0
for t in /proc/"$daemon_pid"/task/*/status; do
	[ "$((16#$(caps CapEff "$t")))" -eq $((0x3400)) ] || wide=$((wide + 1))
done
check "privileges: every thread has 0x3400 ($wide do not)" [ "$wide" -eq 0 ]

# Daemon gone: --queue-bypass lets traffic pass; after a restart flows are classified again.
stop_daemon
out=$(curl_c $R4 -o /dev/null -w '%{http_code}' https://www.blocked.test/)
check "daemon killed: traffic passes ($out)" [ "$out" = 200 ]
start_daemon
curl_c $R4 https://www.blocked.test/ >"$work/block3.out" 2>&1
check "daemon restarted: classified again (blocked)" grep -q "reset by peer" "$work/block3.out"

# The daemon ran under the sanitizers in CI's build: it must have stopped without a report.
stop_daemon
check "daemon: no sanitizer report in its log" bash -c "! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' '$work/daemon.log'"
check "daemon: ... a log of two runs ($(loglines running) started), and a clean stop (exit $daemon_rc)" \
	test "$(loglines running)" -ge 2 -a "$daemon_rc" -eq 0

if [ "$fail" -ne 0 ]; then
	echo "--- daemon log"; cat "$work/daemon.log"
	echo "--- decisions"; tail -n 20 "$work/decisions.log"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
