#!/bin/bash
# The control socket and the metrics, end to end: tlsgated on NFQUEUE in the namespace lab of
# test/e2e/netns.sh, driven with tlsgatectl. Policy pushes under live traffic (none may fail),
# bad pushes that change nothing, a pushed policy that outlives a restart, rollback, the
# synchronous reload, who may use the socket (SO_PEERCRED), a silent client that must not hold
# up another, bypass add/del/list/flush, live explain, flows, and the Prometheus output read by
# a strict parser (Debian's python3-prometheus-client) from tlsgatectl and from the HTTP
# listener. Root only (namespaces, netfilter); exits 77 otherwise. Prints "N passed, N failed".
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${TG_BIN:-$src/build/bin}
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	exit 77
fi
py=
for p in python3 /usr/bin/python3; do
	if "$p" -c "import prometheus_client.parser" 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "python3-prometheus-client is missing (scripts/deps.sh installs it)"
	exit 1
fi
export TG_NS_PREFIX=tgk$$
# shellcheck source=e2e/netns.sh
. "$src/test/e2e/netns.sh"
work=$(mktemp -d)
chmod 755 "$work" # nobody must reach the control socket for the peer checks below
ctl=$work/run/sub/control # run/sub does not exist: tlsgated creates it
state=$work/state
mport=9309
pass=0 fail=0
daemon_pid=
traffic_pid=

cleanup()
{
	[ -n "$traffic_pid" ] && kill "$traffic_pid" 2>/dev/null
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	in_r "$src/scripts/tlsgate-setup" down >/dev/null 2>&1
	lab_down
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=e2e/check.sh
. "$src/test/e2e/check.sh"
loglines() { grep -c "$1" "$work/daemon.log"; }

tgc() { "$bin/tlsgatectl" "$@" --control "$ctl"; } # tlsgatectl against the lab's daemon
# run EXPECTED_RC CMD...: run CMD, keep its stdout in $out and stderr in $err, and succeed
# when it exited EXPECTED_RC.
run()
{
	local want=$1 rc
	shift
	out=$("$@" 2>"$work/err") && rc=0 || rc=$?
	err=$(cat "$work/err")
	[ "$rc" -eq "$want" ] || { echo "  ($* exited $rc, expected $want; stderr: $err)"; return 1; }
}
field() { # field JSON PYTHON-EXPR: a value of a JSON document
	"$py" -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"
}
status_sha() { field "$(tgc status --json)" 'd["policy"]["sha256"]'; }

start_daemon()
{
	local runs
	runs=$(grep -c "running" "$work/daemon.log" 2>/dev/null)
	ip netns exec "$NS_R" "$bin/tlsgated" --policy "$work/policy.json" \
		--content "$src/policy/content" --log "$work/decisions.log" --control "$ctl" \
		--control-group nogroup --state-dir "$state" --metrics-listen "127.0.0.1:$mport" \
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
	daemon_rc=$?
	daemon_pid=
}

curl_c() { in_c curl -sS --max-time 5 --cacert "$work/trust.pem" "$@"; }
R4="--resolve pass.test:443:$S4 --resolve www.decrypt.test:443:$S4 --resolve www.blocked.test:443:$S4"
blocked() { # blocked NAME: the client's TLS connection to NAME is reset
	local o
	o=$(curl_c $R4 -o /dev/null "https://$1/" 2>&1)
	[[ $o == *"reset by peer"* ]]
}
passes() { [ "$(curl_c $R4 -o /dev/null -w '%{http_code}' "https://$1/")" = 200 ]; }

lab_up || { echo "cannot create namespaces"; exit 1; }
cp "$src/test/e2e/policy.json" "$work/policy.json"
# Policy B: the same without the block of *.blocked.test (what a push visibly changes).
"$py" - "$work/policy.json" "$work/policy-b.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["filtering"] = [r for r in p["filtering"] if r["name"] != "block-test"]
json.dump(p, open(sys.argv[2], "w"), indent=1)
PY
# A2: policy A with another description: the same decisions, another SHA-256.
sed 's/End-to-end test policy/End-to-end test policy (2)/' "$work/policy.json" >"$work/policy-a2.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=tlsgate-ctl \
	-addext "subjectAltName=DNS:pass.test,DNS:www.decrypt.test,DNS:www.blocked.test" \
	-keyout "$work/srv.key" -out "$work/srv.pem" 2>/dev/null
"$bin/tlsgatectl" ca init --dir "$work/ca" >/dev/null || { echo "ca init failed"; exit 1; }
cat "$work/srv.pem" "$work/ca/ca.crt" >"$work/trust.pem"
ip netns exec "$NS_S" python3 "$src/test/e2e/servers.py" "$work/srv.pem" "$work/srv.key" "$work" "$S4" "$S6" \
	>"$work/servers.log" 2>&1 &
for _ in $(seq 300); do [ -f "$work/servers.ready" ] && break; sleep 0.1; done
[ -f "$work/servers.ready" ] || { echo "lab servers did not start" >&2; exit 1; }
in_r "$src/scripts/tlsgate-setup" up --lan lan0 >/dev/null || { echo "setup failed"; exit 1; }

# Before the daemon: an unreachable socket is exit 3; a non-loopback metrics address is refused.
run 3 "$bin/tlsgatectl" status --control "$ctl"
check "no daemon: tlsgatectl status exits 3 and says so ($err)" \
	bash -c '[[ $1 == *"is tlsgated running?"* ]]' _ "$err"
run 1 ip netns exec "$NS_R" "$bin/tlsgated" --metrics-listen 0.0.0.0:$mport --policy "$work/policy.json"
check "metrics: a non-loopback listen address is refused ($err)" \
	bash -c '[[ $1 == *"not a loopback address"* ]]' _ "$err"

start_daemon || exit 1
check "control socket: its missing directory was created" test -S "$ctl"
sha_a=$(sha256sum "$work/policy.json" | cut -d' ' -f1)
sha_a2=$(sha256sum "$work/policy-a2.json" | cut -d' ' -f1)
sha_b=$(sha256sum "$work/policy-b.json" | cut -d' ' -f1)
version=$(sed -n 's/^project(tlsgate VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
run 0 tgc status --json
check "status: version $version from CMake, the --policy file and its SHA-256 ($out)" \
	test "$(field "$out" 'd["version"]')" = "$version" \
	-a "$(field "$out" 'd["policy"]["sha256"]')" = "$sha_a" \
	-a "$(field "$out" 'd["policy"]["path"]')" = "$work/policy.json" \
	-a "$(field "$out" 'd["policy"]["pushed"]')" = False
run 0 tgc status
check "status: as text names the policy file" grep -q "^policy: *$work/policy.json" <<<"$out"
check "traffic: policy A blocks www.blocked.test" blocked www.blocked.test
check "traffic: ... and passes pass.test" passes pass.test

# --- who may use the socket ---
# The socket is root:nogroup 0660 (--control-group nogroup). Opened to everyone here, so that
# only the daemon's own check (SO_PEERCRED, SO_PEERGROUPS) stands between nobody and it.
check "control socket: mode 0660, group nogroup ($(stat -c '%a %G' "$ctl"))" \
	test "$(stat -c '%a %G' "$ctl")" = "660 nogroup"
chmod 755 "$work/run" "$work/run/sub"
chmod 666 "$ctl"
run 1 setpriv --reuid=65534 --regid=65533 --clear-groups "$bin/tlsgatectl" status --control "$ctl"
check "peer check: uid 65534 outside the group is refused with exit 1 ($err)" \
	bash -c '[[ $1 == *"permission denied: uid 65534 is neither root nor in group nogroup"* ]]' _ "$err"
run 1 setpriv --reuid=65534 --regid=65533 --clear-groups "$bin/tlsgatectl" bypass flush --control "$ctl"
check "peer check: ... for every command (bypass flush refused)" \
	bash -c '[[ $1 == *"permission denied"* ]]' _ "$err"
run 0 setpriv --reuid=65534 --regid=65533 --groups=65534 "$bin/tlsgatectl" status --control "$ctl"
check "peer check: uid 65534 with nogroup as a supplementary group is admitted" \
	grep -q "^tlsgated $version" <<<"$out"
run 0 setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/tlsgatectl" status --control "$ctl"
check "peer check: ... and with nogroup as its group" grep -q "^tlsgated $version" <<<"$out"
run 0 tgc status --json
check "peer check: the refusals are counted ($(field "$out" 'd["control"]["refused_peer"]'))" \
	test "$(field "$out" 'd["control"]["refused_peer"]')" -eq 2

# --- a silent client does not hold up another ---
"$py" - "$ctl" >"$work/slow.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
open(sys.argv[1] + ".slow", "w").close()
t0 = time.monotonic()
s.settimeout(10)
data = s.recv(100)  # the daemon closes it after its timeout, unanswered
print("closed after %.1f s, %d bytes" % (time.monotonic() - t0, len(data)))
PY
slow_pid=$!
wait_until test -f "$ctl.slow"
t0=$(date +%s%N)
run 0 tgc status
ms=$((($(date +%s%N) - t0) / 1000000))
check "slow client: another client's status is answered at once ($ms ms)" [ "$ms" -lt 1000 ]
check "slow client: ... while the silent one is still connected" kill -0 $slow_pid
wait $slow_pid
check "slow client: the silent one is closed after the request timeout ($(cat "$work/slow.out"))" \
	grep -q "^closed after [2-4]\.[0-9] s, 0 bytes" "$work/slow.out"
run 0 tgc status --json
check "slow client: counted as a timeout ($(field "$out" 'd["control"]["timeouts"]'))" \
	test "$(field "$out" 'd["control"]["timeouts"]')" -eq 1
# Bounded requests: a body over the policy size cap is refused before it is read.
out=$("$py" - "$ctl" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"policy push #99999999\n")
print(s.recv(300).decode())
PY
)
check "request cap: a body over the policy size cap is refused ($out)" \
	bash -c '[[ $1 == *"larger than the policy size cap"* ]]' _ "$out"
out=$("$py" - "$ctl" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"x" * 2000)
print(s.recv(300).decode())
PY
)
check "request cap: a line over CONTROL_LINE_MAX is refused ($out)" \
	bash -c '[[ $1 == *"request line too long"* ]]' _ "$out"

# --- 100 pushes under live traffic ---
# The client loops over a passed, a decrypted and a blocked connection until told to stop;
# every one that does not end as the policy says is a failure.
cat >"$work/traffic.sh" <<EOF
ok=0 bad=0
while [ ! -f "$work/traffic.stop" ]; do
	for name in pass.test www.decrypt.test; do
		code=\$(curl -sS --max-time 5 --cacert "$work/trust.pem" $R4 -o /dev/null -w '%{http_code}' "https://\$name/" 2>>"$work/traffic.err")
		if [ "\$code" = 200 ]; then ok=\$((ok + 1)); else bad=\$((bad + 1)); echo "\$name: \$code" >>"$work/traffic.err"; fi
	done
	if curl -sS --max-time 5 --cacert "$work/trust.pem" $R4 -o /dev/null "https://www.blocked.test/" 2>&1 | grep -q "reset by peer"; then
		ok=\$((ok + 1))
	else
		bad=\$((bad + 1)); echo "www.blocked.test: not reset" >>"$work/traffic.err"
	fi
done
echo "\$ok \$bad" >"$work/traffic.result"
EOF
ip netns exec "$NS_C" bash "$work/traffic.sh" &
traffic_pid=$!
pushed=0 t0=$(date +%s%N)
for i in $(seq 100); do
	f=$work/policy-a2.json
	[ $((i % 2)) -eq 0 ] && f=$work/policy.json
	tgc policy push "$f" >/dev/null 2>>"$work/push.err" && pushed=$((pushed + 1))
done
push_ms=$((($(date +%s%N) - t0) / 1000000))
sleep 1
touch "$work/traffic.stop"
wait "$traffic_pid"
traffic_pid=
read -r t_ok t_bad <"$work/traffic.result"
check "push: 100 of 100 pushes taken ($pushed, in $push_ms ms: $(head -c 300 "$work/push.err"))" [ "$pushed" -eq 100 ]
check "push: no connection failed meanwhile ($t_ok ended as the policy says, $t_bad failed: $(head -c 300 "$work/traffic.err" 2>/dev/null))" \
	[ "$t_bad" -eq 0 ]
check "push: ... and traffic did run ($t_ok connections)" [ "$t_ok" -ge 30 ]
check "push: status names the pushed policy in the state directory" \
	test "$(status_sha)" = "$sha_a" -a "$(field "$(tgc status --json)" 'd["policy"]["path"]')" = "$state/policy.json"
check "push: kept as a file of the state directory" cmp -s "$state/policy.json" "$work/policy.json"

# --- bad pushes change nothing ---
printf '{"version": 1, "filtering": [' >"$work/bad-json.json"
"$py" - "$work/policy-b.json" "$work/bad-field.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["decryption"][0]["match"]["sni"] = 42  # would also have unblocked *.blocked.test
json.dump(p, open(sys.argv[2], "w"))
PY
: >"$work/empty.json"
for f in bad-json bad-field empty; do
	run 1 tgc policy push "$work/$f.json"
	check "bad push ($f): refused with exit 1 and the reason ($err)" \
		bash -c '[[ $1 == *"policy not taken, nothing changed: pushed policy"* ]]' _ "$err"
done
check "bad push: the error says where ($(tgc policy push "$work/bad-field.json" 2>&1))" \
	bash -c "'$bin/tlsgatectl' policy push '$work/bad-field.json' --control '$ctl' 2>&1 | grep -q 'decryption\[0\].match.sni'"
check "bad push: the status hash is unchanged" test "$(status_sha)" = "$sha_a"
check "bad push: the state directory is unchanged" cmp -s "$state/policy.json" "$work/policy.json"
check "bad push: traffic is decided by the old policy (still blocked)" blocked www.blocked.test

# --- a visible push, restart, rollback ---
run 0 tgc policy push "$work/policy-b.json"
check "push B: answered with its SHA-256 ($out)" grep -q "$sha_b" <<<"$out"
check "push B: www.blocked.test now passes" passes www.blocked.test
run 0 tgc policy show
check "policy show: prints the policy in force" cmp -s <(printf '%s\n' "$out") <(cat "$work/policy-b.json"; echo)
stop_daemon
start_daemon || exit 1
check "restart: the log says the pushed policy was loaded" \
	grep -q "the pushed policy $state/policy.json (it wins over --policy $work/policy.json)" "$work/daemon.log"
check "restart: status shows the pushed policy B" test "$(status_sha)" = "$sha_b"
check "restart: ... and traffic follows it (www.blocked.test passes)" passes www.blocked.test
run 0 tgc policy rollback
check "rollback: answered ($out)" grep -q "rolled back: sha256 $sha_a" <<<"$out"
check "rollback: status shows policy A again" test "$(status_sha)" = "$sha_a"
check "rollback: www.blocked.test is blocked again" blocked www.blocked.test
run 0 tgc policy rollback
check "rollback twice: back to B (the previous one is kept each time)" test "$(status_sha)" = "$sha_b"
tgc policy push "$work/policy.json" >/dev/null

# --- the synchronous reload ---
run 0 tgc reload
check "reload: a good policy reloads, exit 0 ($out)" grep -q "^reloaded $state/policy.json" <<<"$out"
cp "$state/policy.json" "$work/good.json"
cp "$work/bad-field.json" "$state/policy.json"
run 1 tgc reload
check "reload: a bad policy fails with exit 1 and the error ($err)" \
	bash -c '[[ $1 == *"reload failed, the running policy stays: "*"decryption[0].match.sni"* ]]' _ "$err"
run 0 tgc status --json
check "reload: status tells the failed reload and keeps the hash" \
	test "$(field "$out" 'd["last_reload"]["ok"]')" = False -a "$(field "$out" 'd["policy"]["sha256"]')" = "$sha_a"
check "reload: traffic still decided by the running policy" blocked www.blocked.test
cp "$work/good.json" "$state/policy.json"
check "reload: the unit reloads through it (ExecReload)" \
	grep -qx 'ExecReload=/usr/sbin/tlsgatectl reload' "$src/scripts/tlsgated.service"
more_reloads() { [ "$(loglines "policy reloaded from .*(sighup")" -gt "$1" ]; }
n=$(loglines "policy reloaded from .*(sighup")
kill -HUP "$daemon_pid"
check "reload: SIGHUP takes the same path" wait_until more_reloads "$n"

# --- bypass add / del / list / flush, explain against the running daemon ---
reason() { field "$(tgc explain --src "$C4" --dst "$S4" --sni www.decrypt.test)" 'd["action"] + " " + d["reason"]'; }
check "explain (live): www.decrypt.test is decrypted for $C4 ($(reason))" test "$(reason)" = "decrypt rule"
run 0 tgc bypass add www.decrypt.test --client "$C4" --ttl 600
check "bypass add: done ($out)" grep -q "^add: 1 entry" <<<"$out"
run 0 tgc bypass list --client "$C4" --json
check "bypass list --client: the entry, live for 600 s ($out)" \
	test "$(field "$out" '[(e["sni"], e["state"], e["expires_in_s"] > 590) for e in d["bypass"]]')" = "[('www.decrypt.test', 'live', True)]"
run 0 tgc bypass list --user alice --json
check "bypass list --user: another principal's entries are not listed" test "$(field "$out" 'len(d["bypass"])')" = 0
check "explain (live): now passed by the dynamic bypass ($(reason))" test "$(reason)" = "pass dynamic-bypass"
out=$(curl_c $R4 -o /dev/null -w '%{http_code}' https://www.decrypt.test/)
check "bypass add: the client's connection passes undecrypted ($out)" \
	bash -c "[ '$out' = 200 ] && grep '\"sni\":\"www.decrypt.test\"' '$work/decisions.log' | tail -n 1 | grep -q '\"reason\":\"dynamic-bypass\"'"
run 0 tgc bypass del www.decrypt.test --client "$C4"
check "bypass del: done, and decrypted again ($(reason))" test "$(reason)" = "decrypt rule"
run 1 tgc bypass del www.decrypt.test --client "$C4"
check "bypass del: a missing entry is an error ($err)" bash -c '[[ $1 == *"no bypass entry"* ]]' _ "$err"
run 2 tgc bypass add www.decrypt.test
check "bypass add: without --user or --client is a usage error" grep -q "usage: tlsgatectl bypass" <<<"$err"
tgc bypass add a.example --user alice >/dev/null
tgc bypass add b.example --user alice >/dev/null
tgc bypass add c.example --client "$C4" >/dev/null
run 0 tgc bypass flush --user alice
check "bypass flush --user: alice's two entries go ($out)" grep -q "^flush: 2 entries" <<<"$out"
run 0 tgc bypass list
check "bypass list: the client's entry stays" grep -q "^live .*$C4 .*c.example" <<<"$out"
tgc bypass flush >/dev/null
check "bypass flush: empties the table" test "$(field "$(tgc bypass list --json)" 'len(d["bypass"])')" = 0

# --- flows ---
curl_c $R4 --limit-rate 100k -o /dev/null https://www.decrypt.test/big 2>/dev/null &
curl_pid=$!
flows_has() {
	tgc flows --json | "$py" -c "import json,sys; d=json.load(sys.stdin); sys.exit(not any(f['sni'] == 'www.decrypt.test' and f['client'].startswith('$C4:') and f['server'] == '$S4:443' and f['bytes_down'] > 0 for f in d['flows']))"
}
check "flows: the intercepted download is listed with its bytes so far" wait_until flows_has
run 0 tgc flows
check "flows: ... and as a table" grep -q "^$C4:[0-9]* *$S4:443 *www.decrypt.test *intercepted" <<<"$out"
kill $curl_pid 2>/dev/null
wait $curl_pid 2>/dev/null

# --- metrics ---
prom_check() { # prom_check < TEXT: parse strictly; print a few numbers
	"$py" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
text = sys.stdin.read()
fams = {f.name: f for f in text_string_to_metric_families(text)}
def total(name, **labels):
    return sum(s.value for s in fams[name].samples
               if s.name == name + "_total" and all(s.labels.get(k) == v for k, v in labels.items()))
need = ["tlsgate_queue_packets", "tlsgate_decisions", "tlsgate_failures", "tlsgate_kernel_queue_dropped",
        "tlsgate_adoptions", "tlsgate_proxy_handshakes", "tlsgate_pinning_detections", "tlsgate_bypass_entries",
        "tlsgate_certificate_cache_entries", "tlsgate_policy_reloads", "tlsgate_flows"]
missing = [n for n in need if n not in fams]
if missing:
    sys.exit("missing families: %s" % missing)
for f in fams.values():
    if f.type == "counter" and not all(s.name.endswith("_total") or s.name.endswith("_created") for s in f.samples):
        sys.exit("counter %s without _total" % f.name)
print(int(total("tlsgate_queue_packets")), int(total("tlsgate_decisions", action="block", reason="filter-block")),
      int(total("tlsgate_policy_reloads", result="ok")), len(fams))
'
}
run 0 tgc stats --format prometheus
p0=$(prom_check <<<"$out")
check "metrics: tlsgatectl stats --format prometheus parses strictly ($p0)" test -n "$p0"
in_r curl -sS --max-time 5 -o "$work/metrics0.txt" -D "$work/metrics0.head" "http://127.0.0.1:$mport/metrics"
h0=$(prom_check <"$work/metrics0.txt")
check "metrics: GET /metrics on the loopback listener parses strictly ($h0)" test -n "$h0"
check "metrics: ... served as text/plain version 0.0.4" grep -qi "^Content-Type: text/plain; version=0.0.4" "$work/metrics0.head"
check "metrics: other paths are 404" \
	test "$(in_r curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/other")" = 404
for _ in 1 2 3; do blocked www.blocked.test; done
in_r curl -sS --max-time 5 -o "$work/metrics1.txt" "http://127.0.0.1:$mport/metrics"
h1=$(prom_check <"$work/metrics1.txt")
read -r pk0 bl0 _ <<<"$h0"
read -r pk1 bl1 _ <<<"$h1"
check "metrics: queue packets counted after traffic ($pk0 -> $pk1)" [ "${pk1:-0}" -gt "${pk0:-0}" ]
check "metrics: block decisions by rule counted ($bl0 -> $bl1)" [ "${bl1:-0}" -ge $((${bl0:-0} + 3)) ]
check "stats: the JSON counters still work (engine.block $(field "$(tgc stats)" 'd["engine"]["block"]'))" \
	test "$(field "$(tgc stats)" 'd["engine"]["block"]')" -ge 3

stop_daemon
check "daemon: no sanitizer report in its log" bash -c "! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' '$work/daemon.log'"
check "daemon: a clean stop (exit $daemon_rc)" test "$daemon_rc" -eq 0
check "daemon: the control socket is removed at stop" test ! -e "$ctl"

if [ "$fail" -ne 0 ]; then
	echo "--- daemon log"; tail -n 60 "$work/daemon.log"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
