#!/bin/bash
# scripts/lab.sh - see tlsgate work, on a fresh Debian 12 machine, as root.
#
#   scripts/lab.sh         install what is missing, build, create the lab, run sample traffic
#                          and print tlsgated's decisions as they happen; the lab stays up
#   scripts/lab.sh down    remove everything the lab made (namespaces, rules, processes, files)
#
# The lab is three network namespaces: a client (LAN), the router running tlsgate-setup and
# tlsgated with policy/default.json, and a server side (HTTPS, HTTP, DNS and a QUIC sink, all
# answering every name). Clients resolve names to the lab's own server, so no traffic leaves
# the machine. Addresses are from the documentation ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
export TG_NS_PREFIX=tglab
# shellcheck source=../test/e2e/netns.sh
. "$src/test/e2e/netns.sh"
state=$src/build/lab

lab_stop()
{
	if ip netns list 2>/dev/null | grep -q "^$NS_R"; then
		ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" down >/dev/null 2>&1 || true
	fi
	lab_down
	[ -f "$state/tail.pid" ] && kill "$(cat "$state/tail.pid")" 2>/dev/null || true
	rm -rf "$state"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "lab.sh: run as root (it creates network namespaces and netfilter rules)" >&2
	exit 1
fi
case "${1:-up}" in
down)
	lab_stop
	echo "lab removed"
	exit 0
	;;
up) ;;
*)
	echo "usage: scripts/lab.sh [up|down]" >&2
	exit 2
	;;
esac

# shellcheck source=deps.sh
. "$src/scripts/deps.sh"
tg_install_deps
if [ ! -x "$src/build/bin/tlsgated" ] || [ ! -x "$src/build/bin/tlsgatectl" ]; then
	cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$src/build" -j"$(nproc)" --target tlsgated tlsgatectl
fi
lab_stop
mkdir -p "$state"

lab_up
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj /CN=tlsgate-lab -keyout "$state/srv.key" -out "$state/srv.pem" 2>/dev/null \
	-addext "subjectAltName=DNS:www.wikipedia.org,DNS:gs.apple.com,DNS:www.bankofamerica.com,DNS:www.malware.tlsgate-test.example"
ip netns exec "$NS_S" python3 "$src/test/e2e/servers.py" "$state/srv.pem" "$state/srv.key" \
	"$state" "$S4" "$S6" >"$state/servers.log" 2>&1 &
for _ in $(seq 300); do [ -f "$state/servers.ready" ] && break; sleep 0.1; done
[ -f "$state/servers.ready" ] || { echo "lab servers did not start" >&2; exit 1; }
ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" up --lan lan0
: >"$state/decisions.log"
ip netns exec "$NS_R" "$src/build/bin/tlsgated" --policy "$src/policy/default.json" \
	--content "$src/policy/content" --log "$state/decisions.log" >"$state/daemon.log" 2>&1 &
for _ in $(seq 50); do grep -q running "$state/daemon.log" && break; sleep 0.1; done
grep -q running "$state/daemon.log" || { cat "$state/daemon.log"; exit 1; }

echo
echo "== tlsgated decisions (one JSON line each) =="
tail -n +1 -f "$state/decisions.log" &
echo $! >"$state/tail.pid"

say() { sleep 0.3; printf '\n-- %s\n' "$*"; }
get() { # get NAME: HTTPS from the client to NAME, resolved to the lab's server
	ip netns exec "$NS_C" curl -sS --max-time 5 --cacert "$state/srv.pem" \
		--resolve "$1:443:$S4" -o /dev/null -w "   client: HTTP %{http_code}, %{size_download} bytes\n" \
		"https://$1/" 2>&1 | sed 's/^curl/   client: curl/' || true
}

say "an ordinary site: decrypted by default (adopted and relayed to the real server)"
get www.wikipedia.org
say "a host on the implicit pinned list (Apple): never decrypted"
get gs.apple.com
say "a finance site: no-decrypt rule"
get www.bankofamerica.com
say "a malware category site: blocked with a reset"
get www.malware.tlsgate-test.example
say "a DNS query for a phishing name: answered NXDOMAIN by the gateway"
ip netns exec "$NS_C" python3 "$src/test/e2e/client.py" dns "$S4" login-verify.tlsgate-test.example A |
	sed 's/^/   client: /' || true
say "QUIC (UDP 443): dropped, browsers fall back to TCP"
ip netns exec "$NS_C" python3 "$src/test/e2e/client.py" quic "$S4" 3
sleep 0.5
printf '   server: %s QUIC datagrams received\n' "$(cat "$state/quic.count" 2>/dev/null || echo 0)"
sleep 0.5
kill "$(cat "$state/tail.pid")" 2>/dev/null || true
rm -f "$state/tail.pid"

cat <<EOF

The lab is up. Try it yourself, for example:
  ip netns exec $NS_C curl --cacert $state/srv.pem --resolve www.wikipedia.org:443:$S4 https://www.wikipedia.org/
  tail -f $state/decisions.log
  ip netns exec $NS_R $src/scripts/tlsgate-setup status
Remove everything with: scripts/lab.sh down
EOF
