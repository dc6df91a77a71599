#!/bin/bash
# scripts/lab.sh - see tlsgate work, on a fresh Debian 12 machine, as root.
#
#   scripts/lab.sh         install what is missing, build, create the lab, run sample traffic
#                          and print tlsgated's decisions as they happen; the lab stays up
#   scripts/lab.sh down    remove everything the lab made (namespaces, rules, processes, files)
#
# The lab is three network namespaces: a client (LAN), the router running tlsgate-setup and
# tlsgated with policy/default.json (one change: a pinned client is learned after one rejection
# instead of three), and a server side (HTTPS, HTTP, DNS and a QUIC sink, all answering every
# name). Two certificate authorities are made for it: tlsgate's own (`tlsgatectl ca init`: the
# one the client installs to be inspected) and a test "public" CA that signs the server's
# certificate (what tlsgated verifies upstreams against, as it would the system's bundle).
# Clients resolve names to the lab's own server, so no traffic leaves the machine. Addresses
# are from the documentation ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
export TG_NS_PREFIX=tglab
# shellcheck source=../test/e2e/netns.sh
. "$src/test/e2e/netns.sh"
# shellcheck source=../test/e2e/pki.sh
. "$src/test/e2e/pki.sh"
state=$src/build/lab

# lab_stop: remove the namespaces, netfilter rules, processes and files of a previous run.
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
bin=$src/build/bin

lab_up
# The test public CA and the server's certificate (the chain it sends: leaf, intermediate).
pki_init "$state/pki"
pki_leaf "$state/pki" server good www.wikipedia.org gs.apple.com www.bankofamerica.com \
	www.malware.tlsgate-test.example api.pinned-app.example
# tlsgate's CA, and its certificate as a client installs it.
"$bin/tlsgatectl" ca init --dir "$state/ca" >/dev/null
"$bin/tlsgatectl" ca export --dir "$state/ca" --format pem >"$state/tlsgate-ca.pem"
cat "$state/pki/root.pem" "$state/tlsgate-ca.pem" >"$state/both-cas.pem"
ip netns exec "$NS_S" python3 "$src/test/e2e/servers.py" "$state/pki/server.pem" \
	"$state/pki/server.key" "$state" "$S4" "$S6" >"$state/servers.log" 2>&1 &
for _ in $(seq 300); do [ -f "$state/servers.ready" ] && break; sleep 0.1; done
[ -f "$state/servers.ready" ] || { echo "lab servers did not start" >&2; exit 1; }
ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" up --lan lan0
python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
p["settings"]["dynamic_bypass"]["failures"] = 1
json.dump(p, open(sys.argv[2], "w"), indent=1)' "$src/policy/default.json" "$state/policy.json"
: >"$state/decisions.log"
ip netns exec "$NS_R" "$bin/tlsgated" --policy "$state/policy.json" \
	--content "$src/policy/content" --log "$state/decisions.log" --control "$state/control" \
	--ca-dir "$state/ca" --trust "$state/pki/root.pem" >"$state/daemon.log" 2>&1 &
for _ in $(seq 50); do grep -q running "$state/daemon.log" && break; sleep 0.1; done
grep -q running "$state/daemon.log" || { cat "$state/daemon.log"; exit 1; }
grep -q "proxy: .* workers" "$state/daemon.log" || { cat "$state/daemon.log"; exit 1; }

echo
echo "== tlsgated decisions (one JSON line each) =="
tail -n +1 -f "$state/decisions.log" &
echo $! >"$state/tail.pid"

say() { sleep 0.5; printf '\n-- %s\n' "$*"; }
# get NAME CA [CURL ARGS...]: HTTPS from the client to NAME (resolved to the lab's server),
# trusting only the PEM file CA; prints the status, the size and who issued the certificate the
# client was shown.
get()
{
	local name=$1 ca=$2 out code size
	shift 2
	if out=$(ip netns exec "$NS_C" curl -sS --max-time 5 --cacert "$ca" --resolve "$name:443:$S4" \
		-o /dev/null -w '%{http_code} %{size_download}\n%{certs}' "$@" "https://$name/" \
		2>"$state/curl.err"); then
		read -r code size <<<"$out"
		printf '   client: HTTP %s, %s bytes; certificate issued by %s\n' "$code" "$size" \
			"$(sed -n 's/^Issuer: *//p' <<<"$out" | head -n 1)"
	else
		printf '   client: %s\n' "$(head -n 1 "$state/curl.err")"
	fi
}

say "an ordinary site: decrypted by default; the client, which installed tlsgate's CA, is served over a certificate tlsgate minted for the name"
get www.wikipedia.org "$state/tlsgate-ca.pem"
say "a host on the implicit pinned list (Apple): never decrypted, the client sees the real certificate"
get gs.apple.com "$state/pki/root.pem"
say "a finance site: no-decrypt rule"
get www.bankofamerica.com "$state/pki/root.pem"
say "a malware category site: blocked with a reset"
get www.malware.tlsgate-test.example "$state/pki/root.pem"
say "a DNS query for a phishing name: answered NXDOMAIN by the gateway"
ip netns exec "$NS_C" python3 "$src/test/e2e/client.py" dns "$S4" login-verify.tlsgate-test.example A |
	sed 's/^/   client: /' || true
say "QUIC (UDP 443): dropped, browsers fall back to TCP"
ip netns exec "$NS_C" python3 "$src/test/e2e/client.py" quic "$S4" 3
sleep 0.5
printf '   server: %s QUIC datagrams received\n' "$(cat "$state/quic.count" 2>/dev/null || echo 0)"
pin=$(openssl pkey -in "$state/pki/server.key" -pubout -outform DER | openssl dgst -sha256 -binary | base64)
say "a pinned app (curl --pinnedpubkey with the real server's key; it trusts both CAs): tlsgate's certificate is refused, the proxy sees the rejection"
get api.pinned-app.example "$state/both-cas.pem" --pinnedpubkey "sha256//$pin"
say "... the same app again: the pair (client, host) was learned, the flow passes undecrypted and the pin holds"
get api.pinned-app.example "$state/both-cas.pem" --pinnedpubkey "sha256//$pin"
say "the learned bypass table (tlsgatectl bypass list)"
"$bin/tlsgatectl" bypass list --control "$state/control" | sed 's/^/   /'
sleep 0.5
kill "$(cat "$state/tail.pid")" 2>/dev/null || true
rm -f "$state/tail.pid"

cat <<EOF

The lab is up. Try it yourself, for example:
  ip netns exec $NS_C curl --cacert $state/tlsgate-ca.pem --resolve www.wikipedia.org:443:$S4 https://www.wikipedia.org/
  tail -f $state/decisions.log
  $bin/tlsgatectl bypass list --control $state/control
  ip netns exec $NS_R $src/scripts/tlsgate-setup status
Remove everything with: scripts/lab.sh down
EOF
