#!/bin/bash
# bench_datapath.sh - the datapath measured side by side in one run, in the namespace lab
# (test/e2e/netns.sh): the same client, router and server with tlsgate (tlsgate-setup rules and
# tlsgated) and without (no rules, no daemon). Prints numbers; asserts nothing. Root only.
#   TCP throughput through the router (iperf3 on port 443: a flow tlsgate classifies, then
#     passes in the kernel), ratio tlsgate / baseline;
#   new TLS connections per second (connect, ClientHello, first server bytes, close);
#   connection-setup latency (curl time_appconnect), median and p99, for PASS and for
#     DECRYPT (adopt + relay), against the baseline.
# usage: bench_datapath.sh [BUILD_BIN] [SECONDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$src/build/bin}
secs=${2:-5}
[ "$(id -u)" -eq 0 ] || { echo "bench_datapath: needs root" >&2; exit 1; }
command -v iperf3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null
export TG_NS_PREFIX=tgb$$
. "$src/test/e2e/netns.sh"
work=$(mktemp -d)
trap 'ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" down >/dev/null 2>&1; lab_down; rm -rf "$work"' EXIT

lab_up
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
	-addext "subjectAltName=DNS:pass.test,DNS:www.decrypt.test" \
	-keyout "$work/srv.key" -out "$work/srv.pem" 2>/dev/null
ip netns exec "$NS_S" python3 "$src/test/e2e/servers.py" "$work/srv.pem" "$work/srv.key" "$work" \
	"$S4" "$S6" >/dev/null 2>&1 &
for _ in $(seq 300); do [ -f "$work/servers.ready" ] && break; sleep 0.1; done
[ -f "$work/servers.ready" ] || { echo "lab servers did not start" >&2; exit 1; }
ip netns exec "$NS_S" iperf3 -s -B "$S4" -p 5443 -D >/dev/null
# iperf3 on 443 would collide with the HTTPS server: DNAT is not wanted either, so the bench
# policy inspects port 5443 too.
sed 's/"inspected_ports": \[443, 853\]/"inspected_ports": [443, 853, 5443]/' "$src/test/e2e/policy.json" \
	>"$work/policy.json"

throughput() { ip netns exec "$NS_C" iperf3 -c "$S4" -p 5443 -t "$secs" -J |
	python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
latency() { # latency NAME: median and p99 of time_appconnect over 100 connections, in ms
	for _ in $(seq 100); do
		ip netns exec "$NS_C" curl -sS -o /dev/null --cacert "$work/srv.pem" \
			--resolve "$1:443:$S4" -w '%{time_appconnect}\n' "https://$1/"
	done | sort -n | awk '{v[NR]=$1} END {printf "median %.2f ms, p99 %.2f ms\n", v[int(NR/2)]*1000, v[int(NR*0.99)]*1000}'
}
rate() { ip netns exec "$NS_C" python3 "$src/test/e2e/client.py" rate "$S4" "$1" "$secs"; }

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
rounds=${TG_BENCH_ROUNDS:-5}
tlsgate_on()
{
	ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" up --lan lan0 --ports 443,5443 >/dev/null
	ip netns exec "$NS_R" "$bin/tlsgated" --policy "$work/policy.json" \
		--content "$src/policy/content" --log /dev/null --control "$work/control" \
		>"$work/daemon.log" 2>&1 &
	daemon=$!
	for _ in $(seq 50); do grep -q running "$work/daemon.log" && break; sleep 0.1; done
}
tlsgate_off()
{
	kill "$daemon"
	wait "$daemon" 2>/dev/null || true
	ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" down >/dev/null
}
ct_rule() { ip netns exec "$NS_R" iptables "$1" FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT; }

# Throughput on this kind of VM varies a lot from run to run: the three setups alternate,
# $rounds rounds of $secs s each, and the medians are compared.
for r in $(seq "$rounds"); do
	throughput >>"$work/tp.base"
	# A router usually tracks connections anyway (NAT, a stateful filter); tlsgate's rules
	# need conntrack, so this baseline separates conntrack's own cost from tlsgate's.
	ct_rule -A
	throughput >>"$work/tp.ct"
	ct_rule -D
	tlsgate_on
	throughput >>"$work/tp.tg"
	tlsgate_off
done
b_tp=$(median <"$work/tp.base") c_tp=$(median <"$work/tp.ct") t_tp=$(median <"$work/tp.tg")
echo "== TCP throughput through the router, median of $rounds alternating rounds of ${secs}s (Gbit/s)"
echo "baseline (no rules)          $b_tp   [$(tr '\n' ' ' <"$work/tp.base")]"
echo "baseline + conntrack         $c_tp   [$(tr '\n' ' ' <"$work/tp.ct")]"
echo "tlsgate (rules + daemon)     $t_tp   [$(tr '\n' ' ' <"$work/tp.tg")]"
python3 -c "print('ratio tlsgate / baseline %.3f, tlsgate / baseline + conntrack %.3f' % ($t_tp / $b_tp, $t_tp / $c_tp))"

echo "== new TLS connections and setup latency"
echo "baseline: new connections       $(rate pass.test)"
echo "baseline: setup latency         $(latency pass.test)"
tlsgate_on
echo "tlsgate: new connections        $(rate pass.test) (each classified, then PASS)"
echo "tlsgate: setup latency PASS     $(latency pass.test)"
echo "tlsgate: setup latency DECRYPT  $(latency www.decrypt.test) (adopt + relay)"
"$bin/tlsgatectl" stats --control "$work/control" >"$work/stats.json" 2>/dev/null &&
	python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['engine']; print('tlsgate: %d flows, %d adopted, %d verdict failures' % (e['flows_new'], e['adopt_ok'], e['verdict_fail']))" "$work/stats.json"
tlsgate_off
