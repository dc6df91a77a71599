#!/bin/bash
# bench_proxy.sh - tlsgate's decrypting proxy beside mitmproxy and Squid ssl-bump, in one run,
# in the namespace lab (test/e2e/netns.sh), with the same server and the same client load
# (test/bench/bench_proxy.py) for every peer, and once without a proxy (direct) for the
# throughput baseline. Prints one table and the ratios the proxy work targets; asserts nothing.
# Root only. Traffic stays inside the namespaces this script creates; everything it started is
# removed on exit, Ctrl-C included.
#
# The peers (each logs one line per request; the client trusts all three CAs and checks that
# every certificate it gets comes from the CA of the peer being measured):
#   tlsgate    tlsgate-setup + tlsgated (--proxy-workers: tlsgated's default, one per CPU), a
#              policy that decrypts www.bench.test, its own CA (tlsgatectl ca init), --trust
#              the bench root;
#   mitmproxy  mitmdump --mode transparent (one process), iptables REDIRECT in the router, an
#              ECDSA P-256 CA, upstream verified against the bench root, bodies streamed;
#   squid      squid-openssl (workers 1): https_port intercept ssl-bump, peek step1 then bump
#              all, security_file_certgen with its own database, REDIRECT in the router, the
#              same ECDSA P-256 CA, tls_outgoing_options cafile=the bench root.
#   A peer whose program is missing is skipped with a note (mitmproxy: apt-get install
#   mitmproxy; squid: apt-get install squid-openssl).
# Measured for each, after a warm-up (certificates minted, caches filled):
#   CPU per handshake: utime+stime (and that of reaped children) of all the proxy's processes,
#     from /proc, sampled by the client around N sequential connections, each a tiny GET:
#     new (full handshakes on both legs: the server resumes nothing), then resumed (the client
#     offers its last session; the server resumes whatever the proxy offers). The table shows
#     how many client and upstream legs were resumed;
#   handshakes per second: CONC client processes (one source address each) for RATE_S s, new
#     and resumed, with the CPUs the proxy kept busy meanwhile;
#   memory per idle intercepted connection: the RSS of all the proxy's processes before and
#     while HOLD connections (one GET each, kept alive, idle) are open, delta / HOLD;
#   decrypted throughput: one download of MIB MiB, and the proxy's CPU seconds per GB.
# Client and server stop at TLS 1.2 with AES-128-GCM first (tlsgate on mbedTLS 2.28 speaks
# nothing newer); TG_BENCH_TLS13=1 lets them speak TLS 1.3, which mitmproxy and squid then do.
# The AES-128-GCM rate the download is set against comes from bench_tls (BIN_DIR/bench_tls).
#
# usage: bench_proxy.sh [BIN_DIR] [N]      (defaults: build-rel/bin, 500)
# environment: TG_BENCH_PEERS ("direct tlsgate mitmproxy squid"), TG_BENCH_HOLD (300),
#   TG_BENCH_MIB (256), TG_BENCH_RATE_S (5), TG_BENCH_CONC (4), TG_BENCH_TG_WORKERS (tlsgated's
#   default: online CPUs), TG_BENCH_SQUID_WORKERS (1), TG_BENCH_TLS13 (unset),
#   TG_BENCH_KERNEL_PORTS (unset: each client cycles through its own source ports, so that no
#   4-tuple comes back within 50 s; set: the kernel chooses, and reuses 4-tuples within seconds),
#   TG_BENCH_KEEP (set: keep the work directory: results, the proxies' logs and configurations)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$src/build-rel/bin}
n=${2:-500}
peers=${TG_BENCH_PEERS:-direct tlsgate mitmproxy squid}
hold_n=${TG_BENCH_HOLD:-300}
mib=${TG_BENCH_MIB:-256}
rate_s=${TG_BENCH_RATE_S:-5}
conc=${TG_BENCH_CONC:-4}
tg_workers=${TG_BENCH_TG_WORKERS:-}
squid_workers=${TG_BENCH_SQUID_WORKERS:-1}
tls13=${TG_BENCH_TLS13:+--tls13}
kports=${TG_BENCH_KERNEL_PORTS:+--kernel-ports}
py=$src/test/bench/bench_proxy.py
py3=$(python3 -c 'import sys; print(sys.executable)') # the interpreter itself, not a wrapper
name=www.bench.test
[ "$(id -u)" -eq 0 ] || { echo "bench_proxy: needs root" >&2; exit 1; }
[ -x "$bin/tlsgated" ] || { echo "bench_proxy: no $bin/tlsgated (build first)" >&2; exit 1; }
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=65536
fds=$((hard < 65536 ? hard : 65536))
ulimit -n "$fds" # every process here inherits it

export TG_NS_PREFIX=tgpb$$
# shellcheck source=../e2e/netns.sh
. "$src/test/e2e/netns.sh"
w=$(mktemp -d)
chmod 755 "$w" # squid runs as its own user (proxy) and reads its files here
proxy_pid= server_pid= hold_pid=
cleanup()
{
	set +e
	local p
	for p in $hold_pid $proxy_pid $server_pid; do kill "$p" 2>/dev/null; done
	ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" down >/dev/null 2>&1
	lab_down # every process left in the namespaces; the namespaces take their rules along
	if [ -n "${TG_BENCH_KEEP:-}" ]; then
		echo "bench_proxy: results and logs kept in $w" >&2
	else
		rm -rf "$w"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the lab, the certificates, the server ---
lab_up
srcs=() # the clients' extra source addresses (tlsgate: 256 connections per client address)
for i in $(seq 10 17); do
	ip -n "$NS_C" addr add "192.0.2.$i/24" dev c0
	srcs+=("192.0.2.$i")
done
rate_srcs=$(IFS=,; echo "${srcs[*]:0:$conc}")
hold_srcs=$(IFS=,; echo "${srcs[*]}")

ossl() { openssl "$@" 2>/dev/null; }
mkca() { # mkca BASE CN: a self-signed ECDSA P-256 CA in BASE.pem, its key in BASE.key
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$1.key" -out "$1.pem"
}
mkca "$w/root" bench-root
mkca "$w/proxyca" bench-proxy-ca # mitmproxy's and squid's CA
ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
	-keyout "$w/srv.key" -out "$w/srv.csr"
printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$name" \
	>"$w/srv.ext"
ossl x509 -req -in "$w/srv.csr" -CA "$w/root.pem" -CAkey "$w/root.key" -CAcreateserial -days 2 \
	-extfile "$w/srv.ext" -out "$w/srv.pem"
"$bin/tlsgatectl" ca init --dir "$w/tgca" --cn bench-tlsgate-ca >/dev/null
"$bin/tlsgatectl" ca export --dir "$w/tgca" --format pem --out "$w/tgca.pem" >/dev/null
cat "$w/root.pem" "$w/proxyca.pem" "$w/tgca.pem" >"$w/bundle.pem" # what the clients trust
chmod 644 "$w"/*.pem

ip netns exec "$NS_S" "$py3" "$py" serve "$w/srv.pem" "$w/srv.key" "$w" "$S4" $tls13 \
	>"$w/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -f "$w/server.ready" ] && break; sleep 0.1; done
[ -f "$w/server.ready" ] || { echo "bench_proxy: the server did not start" >&2; cat "$w/server.log"; exit 1; }

# --- the peers: start PEER / stop PEER; $proxy_pid is the proxy's first process ---
redirect() { ip netns exec "$NS_R" iptables -t nat "$1" PREROUTING -i lan0 -p tcp --dport 443 \
	-j REDIRECT --to-ports "$2"; }
listening() { ip netns exec "$NS_R" ss -Htln "sport = :$1" | grep -q .; }
wait_for() { # wait_for SECONDS COMMAND...
	local i
	for i in $(seq $(($1 * 10))); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}
issuer=
start_tlsgate()
{
	cat >"$w/policy.json" <<-EOF
		{
		 "version": 1,
		 "description": "bench_proxy.sh: decrypt the bench name, pass the rest.",
		 "settings": {"default_action": "no-decrypt", "inspected_ports": [443, 853]},
		 "decryption": [{"name": "bench", "match": {"sni": [".bench.test"]}, "action": "decrypt"}]
		}
	EOF
	ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" up --lan lan0 --ports 443 >/dev/null
	ip netns exec "$NS_R" "$bin/tlsgated" --policy "$w/policy.json" --content "$src/policy/content" \
		--ca-dir "$w/tgca" --trust "$w/root.pem" ${tg_workers:+--proxy-workers "$tg_workers"} \
		--log "$w/tlsgate.decisions" --control "$w/tlsgate.control" >"$w/tlsgate.log" 2>&1 &
	proxy_pid=$!
	issuer=bench-tlsgate-ca
	wait_for 10 grep -q running "$w/tlsgate.log"
}
stop_tlsgate()
{
	kill "$proxy_pid"
	wait "$proxy_pid" 2>/dev/null || true
	ip netns exec "$NS_R" "$src/scripts/tlsgate-setup" down >/dev/null
}
start_mitmproxy()
{
	mkdir -p "$w/mitm"
	cat "$w/proxyca.key" "$w/proxyca.pem" >"$w/mitm/mitmproxy-ca.pem"
	redirect -A 8080
	# One line per request, as the other peers log (the flow lines; termlog_verbosity=warn drops
	# the connect and disconnect lines); stream_large_bodies: bodies are relayed as they come,
	# not buffered whole first.
	ip netns exec "$NS_R" mitmdump --mode transparent --listen-port 8080 --set confdir="$w/mitm" \
		--set ssl_verify_upstream_trusted_ca="$w/root.pem" --set block_global=false \
		--set stream_large_bodies=1m --set connection_strategy=eager \
		--set termlog_verbosity=warn >"$w/mitmproxy.log" 2>&1 &
	proxy_pid=$!
	issuer=bench-proxy-ca
	wait_for 30 listening 8080
}
stop_mitmproxy()
{
	kill "$proxy_pid"
	wait "$proxy_pid" 2>/dev/null || true
	redirect -D 8080
}
start_squid()
{
	local d=$w/squid
	mkdir -p "$d"
	echo "$S4 $name" >"$d/hosts"
	"$certgen" -c -s "$d/ssl_db" -M 16MB >/dev/null
	cat >"$d/squid.conf" <<-EOF
		workers $squid_workers
		http_port 127.0.0.1:3128
		https_port 3129 intercept ssl-bump tls-cert=$w/proxyca.pem tls-key=$w/proxyca.key generate-host-certificates=on dynamic_cert_mem_cache_size=16MB
		sslcrtd_program $certgen -s $d/ssl_db -M 16MB
		sslcrtd_children 5 startup=1 idle=1
		acl step1 at_step SslBump1
		ssl_bump peek step1
		ssl_bump bump all
		tls_outgoing_options cafile=$w/root.pem
		http_access allow all
		cache deny all
		cache_mem 8 MB
		access_log stdio:$d/access.log
		cache_log $d/cache.log
		pid_filename $d/squid.pid
		coredump_dir $d
		hosts_file $d/hosts
		dns_nameservers 127.0.0.1
		visible_hostname bench-squid
		max_filedescriptors $fds
		shutdown_lifetime 1 seconds
	EOF
	chown -R proxy: "$d"
	chmod 644 "$w/proxyca.key"
	redirect -A 3129
	ip netns exec "$NS_R" squid --foreground -f "$d/squid.conf" >"$d/stderr.log" 2>&1 &
	proxy_pid=$!
	issuer=bench-proxy-ca
	wait_for 30 listening 3129
}
stop_squid()
{
	kill "$proxy_pid"
	wait "$proxy_pid" 2>/dev/null || true
	chmod 600 "$w/proxyca.key"
	redirect -D 3129
}
start_direct() { proxy_pid= issuer=bench-root; }
stop_direct() { :; }
certgen=
for d in /usr/lib/squid /usr/libexec/squid /usr/lib64/squid /usr/lib/squid3; do
	[ -x "$d/security_file_certgen" ] && certgen=$d/security_file_certgen && break
done
have_peer()
{
	case $1 in
	mitmproxy) command -v mitmdump >/dev/null ;;
	squid) command -v squid >/dev/null && [ -n "$certgen" ] &&
		squid -v | grep -q -- --with-openssl ;;
	*) true ;;
	esac
}

# --- measuring: every result is a JSON file in $res, PEER.PHASE.json; the table is made of them ---
res=$w/res
mkdir "$res"
procs() { "$py3" "$py" procs "$proxy_pid"; } # CPU_SECONDS RSS_KB NPROCS of the proxy
client() { ip netns exec "$NS_C" "$py3" "$py" "$@" --issuer "$issuer" $tls13 $kports; }
note() { echo "$*" >>"$res/notes.txt"; }
settle() { sleep 0.5; }
t_last=$SECONDS phase_last=
phase() { # phase PEER NAME: progress on stderr: the phase that ended and its seconds
	[ -z "$phase_last" ] || echo "bench_proxy: $phase_last: $((SECONDS - t_last)) s" >&2
	t_last=$SECONDS phase_last="$1 $2"
}

run_peer()
{
	local p=$1 r0=0 r1=0 f cpu_opt= setting
	phase "$p" start
	"start_$p" || { note "$p: did not start, skipped"; "stop_$p" 2>/dev/null || true; return 1; }
	phase "$p" warm-up
	[ -z "$proxy_pid" ] || cpu_opt="--cpu-pid $proxy_pid"
	rm -f "$w/resume"
	client seq "$S4" "$name" "$w/bundle.pem" 20 new --src "$C4" >"$res/$p.warm-up.json"

	phase "$p" new # N new handshakes, one after another
	settle
	client seq "$S4" "$name" "$w/bundle.pem" "$n" new --src "$C4" $cpu_opt >"$res/$p.new.json"

	phase "$p" rate-new
	client rate "$S4" "$name" "$w/bundle.pem" "$rate_s" new --src "$rate_srcs" $cpu_opt \
		>"$res/$p.rate-new.json"

	phase "$p" resumed
	touch "$w/resume" # from here the server resumes what it is offered
	client seq "$S4" "$name" "$w/bundle.pem" 10 new --src "$C4" >"$res/$p.warm-up-resumed.json"
	settle
	client seq "$S4" "$name" "$w/bundle.pem" "$n" resumed --src "$C4" $cpu_opt \
		>"$res/$p.resumed.json"

	phase "$p" rate-resumed
	client rate "$S4" "$name" "$w/bundle.pem" "$rate_s" resumed --src "$rate_srcs" $cpu_opt \
		>"$res/$p.rate-resumed.json"
	rm -f "$w/resume"

	phase "$p" hold # idle connections
	f=$w/$p.hold
	sleep 1
	[ -z "$proxy_pid" ] || r0=$(procs | cut -d' ' -f2)
	ip netns exec "$NS_C" "$py3" "$py" hold "$S4" "$name" "$w/bundle.pem" "$hold_n" \
		--src "$hold_srcs" --issuer "$issuer" $tls13 $kports >"$f" 2>&1 &
	hold_pid=$!
	if wait_for 120 grep -q held "$f"; then
		sleep 1
		[ -z "$proxy_pid" ] || r1=$(procs | cut -d' ' -f2)
		sed "s/}\$/, \"rss0_kb\": $r0, \"rss1_kb\": $r1}/" "$f" >"$res/$p.hold.json"
	else
		note "$p hold: the connections were not up within 120 s: $(tail -c 300 "$f")"
	fi
	kill "$hold_pid" 2>/dev/null || true
	wait "$hold_pid" 2>/dev/null || true
	hold_pid=
	sleep 1

	phase "$p" download
	ip netns exec "$NS_C" timeout 300 "$py3" "$py" get "$S4" "$name" "$w/bundle.pem" \
		$((mib << 20)) --issuer "$issuer" $tls13 $cpu_opt >"$res/$p.download.json" ||
		note "$p download: no result (failed, or timed out after 300 s)"

	case $p in
	tlsgate)
		setting="${tg_workers:-$(nproc)} workers"
		[ -s "$w/tlsgate.decisions" ] && note "tlsgate decisions: $(grep -o '"outcome":"[a-z-]*"' \
			"$w/tlsgate.decisions" | sort | uniq -c | tr -s ' \n' ' ')"
		! grep -iq "warn\|error\|fail" "$w/tlsgate.log" ||
			note "tlsgate log: $(grep -i "warn\|error\|fail" "$w/tlsgate.log" | sort | uniq -c |
				sort -rn | head -5 | tr -s ' \n' ' ')"
		;;
	mitmproxy) setting="1 process" ;;
	squid)
		setting="$squid_workers worker"
		! grep -q "ERROR\|FATAL" "$w/squid/cache.log" ||
			note "squid cache.log: $(grep "ERROR\|FATAL" "$w/squid/cache.log" |
				sed 's/^[^|]*| //' | sort | uniq -c | sort -rn | head -5 | tr -s ' \n' ' ')"
		;;
	direct) setting="no proxy" ;;
	esac
	local nprocs=null
	[ -z "$proxy_pid" ] || nprocs=$(procs | cut -d' ' -f3)
	echo "{\"setting\": \"$setting\", \"nprocs\": $nprocs}" >"$res/$p.info.json"
	phase "$p" stop
	"stop_$p"
	proxy_pid=
}

aes=-
if [ -x "$bin/bench_tls" ]; then
	aes=$("$bin/bench_tls" aead | sed -n "s/^aes-128-gcm .*record encrypt *\([0-9.]*\) MB.*/\1/p")
fi
ran=()
for p in $peers; do
	if have_peer "$p"; then
		run_peer "$p" && ran+=("$p")
	else
		case $p in
		mitmproxy) note "mitmproxy: mitmdump not found (Debian: apt-get install mitmproxy), skipped" ;;
		squid) note "squid: no squid with OpenSSL and security_file_certgen (Debian: apt-get install squid-openssl), skipped" ;;
		*) note "$p: unknown peer, skipped" ;;
		esac
	fi
done
phase all done # the last phase's line
echo
"$py3" "$py" table "$res" "${ran[*]}" "N=$n, $hold_n idle connections, $mib MiB download, rates \
over ${rate_s}s with $conc clients; $(nproc) CPUs" "$aes"
