#!/bin/bash
# One source of truth for the datapath: tlsgated takes its queues and marks from what
# `tlsgate-setup up` installed (its state file), refuses options and policies that contradict
# it, and dispatches on the policy's port settings (no built-in 443 or 53). Each case is a
# defect an administrator met before: TLSGATE_QUEUE_NUM=5 made the setup queue to 5 while the
# daemon listened on 0 (no inspection, no warning); TG_MARK_* overrides were ignored by the
# daemon (a passed flow's packets looped between kernel and daemon); --quic-ports 443,8443
# queued UDP 8443, which the daemon never blocked.
# Root only (network namespaces, netfilter); exits 77 otherwise. Traffic stays inside the
# namespaces this test creates. Prints "N passed, N failed".
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${TG_BIN:-$src/build/bin}
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	exit 77
fi
export TG_NS_PREFIX=tgd$$
# shellcheck source=e2e/netns.sh
. "$src/test/e2e/netns.sh"
work=$(mktemp -d)
pass=0 fail=0
daemon_pid=

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

# Marks moved out of their default bits, as an administrator whose router uses 0x003f0000
# would: every one differs from the built-in value.
export TG_MARK_DECISION_MASK=0x03000000 TG_MARK_PASS=0x01000000 TG_MARK_BLOCK=0x02000000
export TG_MARK_ADOPT=0x03000000 TG_MARK_DROP=0x04000000 TG_MARK_INSPECT=0x08000000
export TG_MARK_LOCAL=0x10000000 TG_MARK_RST=0x20000000 TG_MARK_STREAM=0x40000000
export TG_ROUTE_TABLE=1444 TG_RULE_PREF=1444
export TLSGATE_QUEUE_NUM=5

# policy QUIC_PORTS FILE: the e2e policy with settings.quic_ports = QUIC_PORTS (JSON list).
policy() {
	python3 -c 'import json,sys
p = json.load(open(sys.argv[1])); p["settings"]["quic_ports"] = json.loads(sys.argv[2])
json.dump(p, open(sys.argv[3], "w"))' "$src/test/e2e/policy.json" "$1" "$2"
}
# daemon ARGS...: start tlsgated in the router; its pid in daemon_pid; 0 once it runs,
# 1 when it exits first (its output in daemon.log).
daemon() {
	: >"$work/daemon.log"
	ip netns exec "$NS_R" "$bin/tlsgated" --content "$src/policy/content" --state-dir "$work/state" \
		--log "$work/decisions.log" --control "$work/control" --ca-dir "$work/ca" \
		--trust "$work/srv.pem" "$@" >>"$work/daemon.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do
		grep -q "running" "$work/daemon.log" && return 0
		if ! kill -0 "$daemon_pid" 2>/dev/null; then
			wait "$daemon_pid" 2>/dev/null
			daemon_pid=
			return 1
		fi
		sleep 0.1
	done
	return 1
}
logged() { grep -qF -- "$1" "$work/daemon.log"; }
ctr() { # ctr SECTION NAME: a counter of tlsgatectl stats now
	"$bin/tlsgatectl" stats --control "$work/control" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['$1']['$2'])"
}
queued() { # packets the ruleset handed to the queue so far
	in_r iptables -t mangle -L TLSGATE-QUEUE -nvx | awk '$3 == "NFQUEUE" {print $1}'
}

lab_up || { echo "cannot create namespaces"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=tlsgate-dp \
	-addext "subjectAltName=DNS:pass.test,DNS:www.blocked.test" \
	-keyout "$work/srv.key" -out "$work/srv.pem" 2>/dev/null
"$bin/tlsgatectl" ca init --dir "$work/ca" >/dev/null || { echo "ca init failed"; exit 1; }
ip netns exec "$NS_S" python3 "$src/test/e2e/servers.py" "$work/srv.pem" "$work/srv.key" "$work" "$S4" "$S6" \
	>"$work/servers.log" 2>&1 &
# UDP sinks on 8443 (queued as QUIC) and 8444 (not queued): each counts into a file.
ip netns exec "$NS_S" python3 -c 'import socket,sys,os,threading
def sink(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], port)); n = 0
    while True:
        s.recvfrom(4096); n += 1
        open(f"{sys.argv[2]}/udp{port}.tmp", "w").write(str(n))
        os.replace(f"{sys.argv[2]}/udp{port}.tmp", f"{sys.argv[2]}/udp{port}.count")
for p in (8443, 8444): threading.Thread(target=sink, args=(p,), daemon=True).start()
open(f"{sys.argv[2]}/sinks.ready", "w").close()
threading.Event().wait()' "$S4" "$work" >/dev/null 2>&1 &
for _ in $(seq 300); do [ -f "$work/servers.ready" ] && [ -f "$work/sinks.ready" ] && break; sleep 0.1; done
[ -f "$work/servers.ready" ] || { echo "lab servers did not start" >&2; exit 1; }

# --- the state file ------------------------------------------------------------------------------
in_r "$src/scripts/tlsgate-setup" up --lan lan0 --quic-ports 443,8443 >/dev/null ||
	{ echo "setup failed"; exit 1; }
state=/run/tlsgate-setup/netns-$(in_r stat -L -c %i /proc/self/ns/net).env
check "state: tlsgate-setup up recorded what it installed in $state" test -f "$state"
check "state: ... the queue number from TLSGATE_QUEUE_NUM" grep -qx "TLSGATE_QUEUE_NUM=5" "$state"
check "state: ... the marks from the environment" grep -qx "TG_MARK_PASS=0x1000000" "$state"
check "state: ... the QUIC ports" grep -qx "TLSGATE_QUIC_PORTS=443,8443" "$state"
check "state: ... the rule installed queues to 5" \
	bash -c "ip netns exec '$NS_R' iptables -t mangle -S TLSGATE-QUEUE | grep -q -- '--queue-num 5 '"

# --- what the daemon refuses -----------------------------------------------------------------------
policy '[443]' "$work/policy-443.json"
policy '[443, 8443]' "$work/policy.json"
daemon --policy "$work/policy-443.json"
check "refused: a policy that does not know UDP 8443 is QUIC does not start" [ -z "$daemon_pid" ]
check "refused: ... and says what differs" \
	logged "settings.quic_ports is 443 but tlsgate-setup queues UDP 443,8443 as QUIC"
daemon --policy "$work/policy.json" --queue-num 0
check "refused: --queue-num 0 against a setup queueing to 5 does not start" [ -z "$daemon_pid" ]
check "refused: ... and says so" logged "would listen on queues 0..0 but tlsgate-setup queues to 5..5"
out=$(ip netns exec "$NS_R" "$bin/tlsgated" --check-config --policy "$work/policy-443.json" \
	--content "$src/policy/content" 2>&1)
rc=$?
check "refused: --check-config reports the mismatch too (exit $rc)" \
	[ $rc -ne 0 -a -n "$(grep -F 'settings.quic_ports is 443' <<<"$out")" ]

# --- what it takes from the setup -------------------------------------------------------------------
daemon --policy "$work/policy.json"
check "runs: started without queue options" [ -n "$daemon_pid" ]
check "runs: ... on the setup's queue 5, with its marks" \
	logged "queues 5..5, marks pass 0x1000000 block 0x2000000 adopt 0x3000000"

# Accounting: packets whose connmark holds the moved PASS decision.
in_r iptables -t mangle -A POSTROUTING -m connmark --mark 0x01000000/0x03000000
# A passed flow: decided once, then forwarded by the kernel. With the marks the daemon used to
# ignore, its packets came back to the queue forever and the connection hung.
before=$(queued)
out=$(in_c curl -sS --max-time 5 --cacert "$work/srv.pem" --resolve "pass.test:443:$S4" \
	-o /dev/null -w '%{http_code} %{size_download}' https://pass.test/big 2>&1)
after=$(queued)
check "marks: a 4 MiB download passes ($out)" [ "$out" = "200 4194304" ]
check "marks: ... with $((after - before)) packets queued (1 to 6)" \
	[ $((after - before)) -ge 1 -a $((after - before)) -le 6 ]
passed=$(in_r iptables -t mangle -L POSTROUTING -nvx | awk '/connmark match/ {print $1}')
check "marks: ... and $passed of its packets crossed the router with the moved PASS bit in the connmark" \
	[ "${passed:-0}" -ge 100 ]
out=$(in_c curl -sS --max-time 5 --cacert "$work/srv.pem" --resolve "www.blocked.test:443:$S4" \
	https://www.blocked.test/ 2>&1)
check "marks: a blocked name is reset (${out:0:60})" grep -q "reset\|(35)\|(56)" <<<"$out"

# QUIC on 8443: queued by the setup and now known to the daemon.
q0=$(ctr engine quic_blocked)
in_c python3 "$src/test/e2e/client.py" quic "$S4" 3 8443
wait_until more_than $((q0 + 2)) ctr engine quic_blocked
check "quic 8443: the gateway dropped the 3 datagrams (quic_blocked $q0 -> $(ctr engine quic_blocked))" \
	[ "$(ctr engine quic_blocked)" -eq $((q0 + 3)) ]
check "quic 8443: none reached the server" [ ! -f "$work/udp8443.count" ]
in_c python3 "$src/test/e2e/client.py" quic "$S4" 1 8444
check "quic 8443: ... whose sink counts what does reach it (UDP 8444, not queued)" \
	wait_until test -f "$work/udp8444.count"

# A reload to a policy that differs from the setup is refused; the running one stays.
cp "$work/policy-443.json" "$work/policy.json"
kill -HUP "$daemon_pid"
check "reload: a policy that forgets UDP 8443 is refused, saying why" \
	wait_until logged "settings.quic_ports is 443 but tlsgate-setup queues UDP 443,8443 as QUIC"
q0=$(ctr engine quic_blocked)
in_c python3 "$src/test/e2e/client.py" quic "$S4" 2 8443
check "reload: ... and UDP 8443 is still blocked (quic_blocked was $q0)" \
	wait_until more_than $((q0 + 1)) ctr engine quic_blocked
check "reload: ... nothing reached the server" [ ! -f "$work/udp8443.count" ]

kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
rc=$?
daemon_pid=
check "daemon: a clean stop (exit $rc)" [ $rc -eq 0 ]
check "daemon: no sanitizer report in its log" bash -c "! grep -q 'Sanitizer' '$work/daemon.log'"
cp "$state" "$work/state.saved"
in_r "$src/scripts/tlsgate-setup" down >/dev/null
check "state: tlsgate-setup down removed the state file" test ! -e "$state"

# A state file that outlived its rules (a namespace deleted without `down`, whose inode a new
# one got): its ip rule is not there, so tlsgated ignores it instead of refusing a policy, or
# taking queues and marks, on the word of rules that do not exist.
cp "$work/state.saved" "$state"
daemon --policy "$work/policy-443.json"
check "stale state: tlsgated starts with a policy the stale file contradicts" [ -n "$daemon_pid" ]
check "stale state: ... and says the file is stale" logged "is stale: its ip rule (fwmark 0x10000000"
kill "$daemon_pid" 2>/dev/null
wait "$daemon_pid" 2>/dev/null
daemon_pid=
rm -f "$state"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
