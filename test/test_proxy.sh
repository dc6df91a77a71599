#!/bin/bash
# End-to-end test of the decrypting proxy: tlsgated on NFQUEUE in the client / router / server
# namespace lab (test/e2e/netns.sh), with its own CA (tlsgatectl ca init), upstreams verified
# against a test "public" PKI (test/e2e/pki.sh), real servers (test/e2e/tlsservers.py: python
# ssl, certificate by SNI) and real clients (curl, python ssl): interception, large bodies,
# pinned clients learned and bypassed, the ca_missing state, upstream failures and exclusions,
# the implicit pinned list, a split ClientHello, privilege separation and worker restart,
# keylog, and a clean stop. Root only (network namespaces, netfilter); exits 77 otherwise.
# Traffic stays inside the namespaces this test creates. Prints "N passed, N failed".
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${TG_BIN:-$src/build/bin}
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	exit 77
fi
export TG_NS_PREFIX=tgp$$
# shellcheck source=e2e/netns.sh
. "$src/test/e2e/netns.sh"
# shellcheck source=e2e/pki.sh
. "$src/test/e2e/pki.sh"
work=$(mktemp -d)
pki=$work/pki
pass=0 fail=0
daemon_pid=
daemon_rc=
t_start=$(date +%s)

# More client addresses in the client namespace (the dynamic bypass and the ca_missing state
# are per client address when no user is known), and more server addresses for the servers
# whose TLS set-up is their own (the exclusion table is keyed by SNI and port, but a server's
# protocol versions and client-certificate request are per listener).
CP=192.0.2.3 # the pinned client
CO=192.0.2.4 # another client of the same hosts
CS=192.0.2.5 # the client that closes silently after the handshake
CM=192.0.2.6 # the client without the gateway's CA
ST=198.51.100.3 # a TLS 1.3-only server
SC=198.51.100.4 # a server that requests a client certificate
SW=198.51.100.5 # a server that changes its certificate and ticket keys on SIGUSR1

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
	ip netns exec "$NS_R" "$bin/tlsgated" --policy "$work/policy.json" --state-dir "$work/state" \
		--content "$src/policy/content" --log "$work/decisions.log" --control "$work/control" \
		--ca-dir "$work/ca" --trust "$pki/root.pem" --proxy-workers 2 \
		--keylog "$work/tlsgate.keylog" >>"$work/daemon.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do
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

# get SRC NAME[/PATH] ADDR CA [CURL ARGS...]: curl https://NAME/PATH (NAME resolved to ADDR)
# from the client address SRC, trusting only the PEM bundle CA. The body goes to $work/body,
# the certificates curl was shown to $work/certs (curl's %{certs}), its complaints to
# $work/curl.err; the status is curl's.
get()
{
	local from=$1 url=$2 addr=$3 ca=$4
	shift 4
	rm -f "$work/body" "$work/certs"
	in_c curl -sS --max-time 10 --interface "$from" --resolve "${url%%/*}:443:$addr" \
		--cacert "$ca" -o "$work/body" -w '%{certs}' "$@" "https://$url" \
		>"$work/certs" 2>"$work/curl.err"
}
body() { cat "$work/body" 2>/dev/null; } # the body of the last get
# leaf: the first certificate of the last get (the server's leaf), PEM.
leaf() { sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p;/-----END CERTIFICATE-----/q' "$work/certs"; }
# fp [PEM FILE]: the SHA-256 fingerprint of the last get's leaf, or of the file's first certificate.
fp()
{
	if [ $# -eq 0 ]; then leaf | openssl x509 -noout -fingerprint -sha256 2>/dev/null
	else openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null; fi
}
# minted NAME: the last get's leaf is signed by tlsgate's CA (and not by the public root) and
# carries NAME in its subjectAltName.
minted()
{
	leaf >"$work/leaf.pem"
	openssl verify -CAfile "$work/tgca.pem" "$work/leaf.pem" >/dev/null 2>&1 &&
		! openssl verify -CAfile "$pki/root.pem" -untrusted "$pki/int.pem" "$work/leaf.pem" >/dev/null 2>&1 &&
		openssl x509 -in "$work/leaf.pem" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$1\(,\|$\)"
}
# real PEM: the last get's leaf is the server's own certificate PEM (byte for byte: fingerprint).
real() { [ -n "$(fp)" ] && [ "$(fp)" = "$(fp "$1")" ]; }

mark() { wc -l <"$work/decisions.log"; } # the decision log's length now: "after" this point
# field OBJ KEY: the value of KEY in the flat JSON object OBJ (a decision line, a bypass entry):
# a string's text, or a number, true or false as written; nothing when absent. Plain bash: the
# daemon's values here hold no quote or escape (domain names, addresses, fixed words).
field()
{
	local re="\"$2\":(\"([^\"]*)\"|([^,}]*))"
	[[ $1 =~ $re ]] && printf '%s\n' "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
}
# is OBJ KEY=VALUE...: OBJ has these field values (VALUE empty: the field is absent or empty).
is()
{
	local obj=$1 kv
	shift
	for kv in "$@"; do
		[ "$(field "$obj" "${kv%%=*}")" = "${kv#*=}" ] || return 1
	done
}
# decision LINE: LINE is a decision (not a "bypass" or "suppressed" event about one).
decision() { [[ $1 == *'"action":'* ]]; }
# dline FROM KEY=VALUE...: print the first decision line after line FROM with these field values;
# fail when there is none.
dline()
{
	local from=$1 ln
	shift
	while IFS= read -r ln; do
		decision "$ln" && is "$ln" "$@" && { printf '%s\n' "$ln"; return 0; }
	done < <(tail -n +$((from + 1)) "$work/decisions.log")
	return 1
}
# count FROM KEY=VALUE...: how many decision lines after line FROM have these field values.
count()
{
	local from=$1 ln n=0
	shift
	while IFS= read -r ln; do
		decision "$ln" && is "$ln" "$@" && n=$((n + 1))
	done < <(tail -n +$((from + 1)) "$work/decisions.log")
	echo "$n"
}
# flow FROM SRC SNI: the decision line of the first flow from SRC to SNI after line FROM, waiting
# for it (a decrypted flow's line is written when the proxy reports its outcome, a little after
# the client is done); prints nothing when it never comes.
flow()
{
	wait_until dline "$1" src_ip="$2" sni="$3" >/dev/null
	dline "$1" src_ip="$2" sni="$3"
}
# bypass_event FROM CLIENT STATE: a "bypass" event for CLIENT with STATE after line FROM.
bypass_event()
{
	tail -n +$(($1 + 1)) "$work/decisions.log" | grep '"event_type":"bypass"' |
		grep "\"src_ip\":\"$2\"" | grep -q "\"state\":\"$3\""
}
# say LINE: the fields of a decision line that tell what happened, for a check's description.
say()
{
	local k v out=""
	for k in action reason outcome pin alert bypass upstream_error excluded replayed upstream_resumed; do
		v=$(field "$1" "$k") && out+="$k=$v "
	done
	echo "${out:-no decision line}"
}
ctr() { # ctr KEY: a counter of tlsgatectl stats (KEY unique in its answer)
	"$bin/tlsgatectl" stats --control "$work/control" | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2
}
# bypass_entries: tlsgatectl bypass list --json, one entry (a flat JSON object) a line.
bypass_entries() { "$bin/tlsgatectl" bypass list --json --control "$work/control" | grep -o '{"state"[^{}]*}'; }
# bypass_has STATE CLIENT [SNI]: the bypass table has such an entry.
bypass_has()
{
	local e
	while IFS= read -r e; do
		is "$e" state="$1" client="$2" && { [ $# -lt 3 ] || is "$e" sni="$3"; } && return 0
	done < <(bypass_entries)
	return 1
}
# bypass_count CLIENT: live entries of CLIENT in the bypass table.
bypass_count()
{
	local e n=0
	while IFS= read -r e; do
		is "$e" state=live client="$1" && n=$((n + 1))
	done < <(bypass_entries)
	echo "$n"
}
# descendants PID: every process below PID, one pid a line.
descendants()
{
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		echo "$c"
		descendants "$c"
	done
}
# procs ROLE: the pids of this daemon's processes of a role: worker (tlsgated --proxy-worker),
# ca (tlsgated --ca-process), spawner (named tlsgate-spawn; a fork of tlsgated, its arguments).
procs()
{
	local p
	for p in $(descendants "$daemon_pid"); do
		# ROLE:first argument:process name
		case "$1:$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | sed -n 2p):$(cat "/proc/$p/comm" 2>/dev/null)" in
		worker:--proxy-worker:* | ca:--ca-process:* | spawner:*:tlsgate-spawn)
			echo "$p"
			;;
		esac
	done
}
status() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$2/status" 2>/dev/null; } # status KEY PID
# unprivileged PID: PID runs as the proxy user (nobody: real, effective, saved, filesystem), with
# no effective capability and no_new_privs.
unprivileged()
{
	local u
	u=$(id -u nobody)
	[ -n "$(status CapEff "$1")" ] &&
		awk -v u="$u" '$1 == "Uid:" {exit !($2 == u && $3 == u && $4 == u && $5 == u)}' "/proc/$1/status" &&
		[ "$((16#$(status CapEff "$1")))" -eq 0 ] && [ "$(status NoNewPrivs "$1")" = 1 ]
}

# The checks below that combine several conditions run them in `bash -c`: it needs these.
export work pki bin
export -f field is real fp leaf bypass_has bypass_entries

# --- the lab: PKI, servers, gateway
lab_up || { echo "cannot create namespaces"; exit 1; }
for a in $CP $CO $CS $CM; do ip -n "$NS_C" addr add "$a/24" dev c0; done
for a in $ST $SC $SW; do ip -n "$NS_S" addr add "$a/24" dev s0; done
pki_init "$pki" || { echo "cannot create the test PKI"; exit 1; }
{
	pki_leaf "$pki" www good www.decrypt.test &&
		pki_leaf "$pki" pinned good pinned.decrypt.test &&
		pki_leaf "$pki" silent good silent.decrypt.test &&
		pki_leaf "$pki" ca good '*.ca.decrypt.test' &&
		pki_leaf "$pki" apple good gs.apple.com &&
		pki_leaf "$pki" tls13 good tls13.decrypt.test &&
		pki_leaf "$pki" ccert good clientcert.decrypt.test &&
		pki_leaf "$pki" expired expired expired.decrypt.test &&
		pki_leaf "$pki" wrongname good www.other.test &&
		pki_leaf "$pki" selfsigned selfsigned selfsigned.decrypt.test &&
		pki_leaf "$pki" unknownroot unknown unknownroot.decrypt.test &&
		pki_leaf "$pki" swap good swap.decrypt.test &&
		pki_leaf "$pki" swapped unknown swap.decrypt.test
} || { echo "cannot create the test leaves"; exit 1; }
head -c $((6 << 20)) /dev/urandom >"$work/blob"
python3 - "$work" "$pki" "$S4" "$ST" "$SC" "$SW" >"$work/servers.json" <<'PY'
import json, sys
work, pki, s4, st, sc, sw = sys.argv[1:7]
pair = lambda n: [f"{pki}/{n}.pem", f"{pki}/{n}.key"]
names = {"www.decrypt.test": "www", "pinned.decrypt.test": "pinned", "silent.decrypt.test": "silent",
         "gs.apple.com": "apple", "expired.decrypt.test": "expired",
         "wrongname.decrypt.test": "wrongname", "selfsigned.decrypt.test": "selfsigned",
         "unknownroot.decrypt.test": "unknownroot"}
names.update({f"h{i}.ca.decrypt.test": "ca" for i in range(1, 6)})
one = lambda addr, mode, n, **kw: dict(addr=addr, port=443, mode=mode, cert=pair(n)[0], key=pair(n)[1], **kw)
print(json.dumps({"state": work, "keylog": f"{work}/server.keylog", "blob": f"{work}/blob", "listeners": [
    one(s4, "any", "www", sni={k: pair(v) for k, v in names.items()}),
    one(st, "tls13", "tls13"),
    one(sc, "clientcert", "ccert", client_ca=f"{pki}/root.pem"),
    one(sw, "any", "swap", swap=pair("swapped"))]}))
PY
# ip netns exec execs python in place: $! is the servers' process (it takes SIGUSR1).
ip netns exec "$NS_S" python3 "$src/test/e2e/tlsservers.py" "$work/servers.json" >"$work/servers.log" 2>&1 &
servers_pid=$!
for _ in $(seq 300); do [ -f "$work/servers.ready" ] && break; sleep 0.1; done
[ -f "$work/servers.ready" ] || { echo "lab servers did not start" >&2; cat "$work/servers.log"; exit 1; }

"$bin/tlsgatectl" ca init --dir "$work/ca" >/dev/null || { echo "tlsgatectl ca init failed"; exit 1; }
"$bin/tlsgatectl" ca export --dir "$work/ca" --format pem >"$work/tgca.pem" ||
	{ echo "tlsgatectl ca export failed"; exit 1; }
cat "$pki/root.pem" "$work/tgca.pem" >"$work/both.pem" # a client that has both CAs
cp "$src/test/e2e/policy-proxy.json" "$work/policy.json"
: >"$work/decisions.log"
in_r "$src/scripts/tlsgate-setup" up --lan lan0 >/dev/null || { echo "setup failed"; exit 1; }
start_daemon || exit 1
check "daemon: the proxy started (2 workers, the test CA, the test trust store)" \
	grep -q "proxy: 2 workers as nobody, CA $work/ca, upstreams verified against $pki/root.pem" "$work/daemon.log"

# --- 1. Interception: curl trusting only tlsgate's CA is served over a minted leaf that names
# the server; the body is the real server's; the decision line says decrypt, intercepted.
m=$(mark)
get "$C4" www.decrypt.test/ "$S4" "$work/tgca.pem" 2>/dev/null
rc=$?
ln=$(flow "$m" "$C4" www.decrypt.test)
check "intercept: curl trusting only tlsgate's CA gets the real server's page (curl $rc: $(body))" \
	[ "$rc" -eq 0 -a "$(body)" = "server www.decrypt.test /" ]
check "intercept: ... over a leaf signed by tlsgate's CA naming www.decrypt.test" minted www.decrypt.test
check "intercept: logged decrypt, proxy intercepted ($(say "$ln"))" \
	is "$ln" action=decrypt reason=rule rule=decrypt-test outcome=intercepted

# --- 11. Keylog: the flow's two legs are both in --keylog; the client leg is curl's own key
# (SSLKEYLOGFILE), the upstream leg the server's (python's keylog_filename).
m=$(mark)
SSLKEYLOGFILE=$work/curl.keylog get "$C4" www.decrypt.test/ "$S4" "$work/tgca.pem"
flow "$m" "$C4" www.decrypt.test >/dev/null
client_leg=$(grep -c -F -x -f <(grep '^CLIENT_RANDOM ' "$work/curl.keylog" 2>/dev/null) "$work/tlsgate.keylog" 2>/dev/null)
upstream_leg=$(grep -c -F -x -f <(grep '^CLIENT_RANDOM ' "$work/server.keylog" 2>/dev/null) "$work/tlsgate.keylog" 2>/dev/null)
check "keylog: the client leg's CLIENT_RANDOM line is curl's own (${client_leg:-0} matching)" \
	[ "${client_leg:-0}" -ge 1 ]
check "keylog: the upstream leg's CLIENT_RANDOM lines are the server's own (${upstream_leg:-0} matching)" \
	[ "${upstream_leg:-0}" -ge 1 ]

# --- 2. Large bodies both ways through the proxy: an 8 MiB upload the server hashes, a 6 MiB
# random download compared byte for byte.
head -c $((8 << 20)) /dev/urandom >"$work/upload"
m=$(mark)
get "$C4" www.decrypt.test/upload "$S4" "$work/tgca.pem" --max-time 60 --data-binary "@$work/upload" \
	-H "Content-Type: application/octet-stream"
want="$((8 << 20)) $(sha256sum <"$work/upload" | cut -d' ' -f1)"
check "large: an 8 MiB upload arrives intact (server: $(body)$(head -c 100 "$work/curl.err"))" [ "$(body)" = "$want" ]
get "$C4" www.decrypt.test/blob "$S4" "$work/tgca.pem" --max-time 60
check "large: a 6 MiB download arrives intact ($(stat -c %s "$work/body" 2>/dev/null) bytes$(head -c 100 "$work/curl.err"))" \
	cmp -s "$work/body" "$work/blob"
two_intercepted() { [ "$(count "$m" src_ip="$C4" outcome=intercepted)" -eq 2 ]; }
check "large: both were intercepted (decision lines)" wait_until two_intercepted

# --- Reuse of an address and port pair: a client that opens a new connection from the port of
# an intercepted connection that just ended is intercepted again at once. (The daemon gave the
# new SYN the ended flow's ADOPT decision, kept for its late packets: the SYNs were dropped
# until the old flow expired, an 11 s stall.)
m=$(mark)
get "$C4" www.decrypt.test/ "$S4" "$work/tgca.pem" --local-port 45111
first=$?
wait_until dline "$m" src_ip="$C4" src_port=45111 outcome=intercepted >/dev/null
t0=$(date +%s%N)
get "$C4" www.decrypt.test/ "$S4" "$work/tgca.pem" --local-port 45111
rc=$? ms=$((($(date +%s%N) - t0) / 1000000))
check "reuse: the same client port again right after (curl $first then $rc, ${ms} ms: $(body))" \
	[ "$first" -eq 0 -a "$rc" -eq 0 -a "$ms" -lt 3000 -a "$(body)" = "server www.decrypt.test /" ]
# The decision line is written when the proxy knows the outcome, which can be just after curl
# has its page: wait for it rather than read the log at once.
reuse_twice() { [ "$(count "$m" src_ip="$C4" src_port=45111 outcome=intercepted)" -eq 2 ]; }
check "reuse: ... intercepted both times (decision lines)" wait_until reuse_twice

# --- 3. Pinning -> dynamic bypass. The pinned client (curl --pinnedpubkey with the real
# server's key, trusting both the public root and tlsgate's CA) rejects the minted leaf once;
# with failures = 1 the (client, host) entry goes live and its next flow passes in the kernel
# with the real certificate; another client is still intercepted.
pin=$(openssl pkey -in "$pki/pinned.key" -pubout -outform DER | openssl dgst -sha256 -binary | base64)
m=$(mark)
get "$CP" pinned.decrypt.test/ "$S4" "$work/both.pem" --pinnedpubkey "sha256//$pin"
rc=$?
ln=$(flow "$m" "$CP" pinned.decrypt.test)
check "pinned: the pinned client refuses the minted leaf (curl $rc: 90 is a pin mismatch)" [ "$rc" -eq 90 ]
check "pinned: logged client-rejected with a pin reason, the entry live ($(say "$ln"))" \
	bash -c 'is "$1" action=decrypt outcome=client-rejected bypass=live && ! is "$1" pin=' _ "$ln"
check "pinned: ... and a bypass event says the entry went live" \
	wait_until bypass_event "$m" "$CP" live
m=$(mark)
get "$CP" pinned.decrypt.test/ "$S4" "$work/both.pem" --pinnedpubkey "sha256//$pin"
rc=$?
ln=$(flow "$m" "$CP" pinned.decrypt.test)
check "pinned: the next flow succeeds (curl $rc: $(body))" \
	[ "$rc" -eq 0 -a "$(body)" = "server pinned.decrypt.test /" ]
check "pinned: ... with the real certificate" real "$pki/pinned.pem"
check "pinned: ... passed in the kernel by the dynamic bypass ($(say "$ln"))" \
	is "$ln" action=pass reason=dynamic-bypass outcome=
m=$(mark)
get "$CO" pinned.decrypt.test/ "$S4" "$work/tgca.pem"
rc=$?
ln=$(flow "$m" "$CO" pinned.decrypt.test)
check "pinned: another client of the same host is still intercepted (curl $rc: $(body))" \
	[ "$rc" -eq 0 -a "$(body)" = "server pinned.decrypt.test /" ]
check "pinned: ... over a minted leaf" minted pinned.decrypt.test
check "pinned: ... logged decrypt, intercepted ($(say "$ln"))" is "$ln" action=decrypt outcome=intercepted
check "pinned: tlsgatectl bypass list --json shows the live entry ($CP, pinned.decrypt.test)" \
	bypass_has live "$CP" pinned.decrypt.test
check "pinned: ... and the table as text names it" \
	bash -c "'$bin/tlsgatectl' bypass list --control '$work/control' | grep -q '^live .*$CP .*pinned.decrypt.test'"
# The entry's TTL (settings.dynamic_bypass.ttl_s) is at least 60 s: a flush stands in for its
# expiry, which sends the host back to inspection the same way.
"$bin/tlsgatectl" bypass flush --control "$work/control" >"$work/flush.out"
check "pinned: tlsgatectl bypass flush empties the table ($(cat "$work/flush.out"))" \
	bash -c "! bypass_has live '$CP'"
m=$(mark)
get "$CP" pinned.decrypt.test/ "$S4" "$work/both.pem" --pinnedpubkey "sha256//$pin"
rc=$?
ln=$(flow "$m" "$CP" pinned.decrypt.test)
check "pinned: after the flush the pinned client is intercepted again (curl $rc; $(say "$ln"))" \
	bash -c '[ "$2" -eq 90 ] && is "$1" action=decrypt outcome=client-rejected' _ "$ln" "$rc"

# --- 4. A rejection after the handshake: a client that completes it (trusting tlsgate's CA)
# and closes without a byte within 2 s (OkHttp's CertificatePinner) is learned too.
m=$(mark)
out=$(in_c python3 "$src/test/e2e/tlsclient.py" silent "$S4" silent.decrypt.test "$work/tgca.pem" "$CS")
ln=$(flow "$m" "$CS" silent.decrypt.test)
check "silent close: the client completed the handshake over the minted leaf ($out)" \
	[ "$out" = "handshake issuer=$(openssl x509 -in "$work/tgca.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p')" ]
check "silent close: logged client-rejected, silent-close-after-handshake, entry live ($(say "$ln"))" \
	is "$ln" action=decrypt outcome=client-rejected pin=silent-close-after-handshake bypass=live
m=$(mark)
get "$CS" silent.decrypt.test/ "$S4" "$pki/root.pem"
rc=$?
ln=$(flow "$m" "$CS" silent.decrypt.test)
check "silent close: its next flow is bypassed ($(say "$ln"))" is "$ln" action=pass reason=dynamic-bypass
check "silent close: ... and gets the real certificate (curl $rc: $(body))" \
	bash -c '[ "$1" -eq 0 ] && real "$2"' _ "$rc" "$pki/silent.pem"

# --- 5. A client without tlsgate's CA rejects every host: after ca_missing.hosts (4) distinct
# hosts it is in the ca_missing state, what it had learned in the burst is withdrawn (no entry
# per host), and its next decrypt decisions pass (ca_missing.action, default pass).
for i in 1 2 3 4; do
	m=$(mark)
	get "$CM" "h$i.ca.decrypt.test/" "$S4" "$pki/root.pem"
	rc=$?
	ln=$(flow "$m" "$CM" "h$i.ca.decrypt.test")
	want=live
	[ "$i" -eq 4 ] && want="ca-missing-entered"
	check "ca missing: host $i refused by the client (curl $rc: 60 is an untrusted certificate; $(say "$ln"))" \
		bash -c '[ "$2" -eq 60 ] && is "$1" action=decrypt outcome=client-rejected pin=trust-alert alert=unknown_ca bypass="$3"' \
		_ "$ln" "$rc" "$want"
done
check "ca missing: ... and a bypass event says the client entered the state" \
	wait_until bypass_event "$m" "$CM" ca-missing
check "ca missing: tlsgatectl bypass list shows the client in the ca_missing state" bypass_has ca-missing "$CM"
check "ca missing: ... and no per-host entry for it ($(bypass_count "$CM") live)" [ "$(bypass_count "$CM")" -eq 0 ]
m=$(mark)
get "$CM" h5.ca.decrypt.test/ "$S4" "$pki/root.pem"
rc=$?
ln=$(flow "$m" "$CM" h5.ca.decrypt.test)
check "ca missing: its next flow passes as ca-missing ($(say "$ln"))" is "$ln" action=pass reason=ca-missing
check "ca missing: ... with the real certificate (curl $rc: $(body))" \
	bash -c '[ "$1" -eq 0 ] && real "$2"' _ "$rc" "$pki/ca.pem"

# --- 6. Upstream failures. With settings.fail.upstream_untrusted at its default (block) the
# client's handshake fails: it never sees a certificate it would trust for a server that is not.
for c in expired:expired wrongname:name-mismatch selfsigned:untrusted unknownroot:untrusted; do
	name=${c%%:*}.decrypt.test
	m=$(mark)
	get "$C4" "$name/" "$S4" "$work/tgca.pem"
	rc=$?
	ln=$(flow "$m" "$C4" "$name")
	check "upstream ${c%%:*}: the client's handshake fails (curl $rc: $(head -c 80 "$work/curl.err"))" \
		bash -c '[ "$1" -ne 0 ] && [ ! -s "$2" ]' _ "$rc" "$work/body"
	check "upstream ${c%%:*}: logged block, upstream-failed, ${c#*:} ($(say "$ln"))" \
		is "$ln" action=block reason=upstream-untrusted outcome=upstream-failed upstream_error="${c#*:}"
done
# Upstream sessions are resumed, and trusted from the full verification that made them; a server
# that no longer resumes the session offered (here its certificate, from a root nobody trusts,
# and its ticket keys replaced; on a network, another server on the path) is verified afresh.
for i in 1 2; do
	m=$(mark)
	get "$C4" swap.decrypt.test/ "$SW" "$work/tgca.pem"
	rc=$?
	ln=$(flow "$m" "$C4" swap.decrypt.test)
done
check "upstream resumed: a second flow is intercepted over a resumed upstream session (curl $rc; $(say "$ln"))" \
	bash -c '[ "$2" -eq 0 ] && is "$1" action=decrypt outcome=intercepted upstream_resumed=true' _ "$ln" "$rc"
kill -USR1 "$servers_pid"
swapped() { # the server now shows the other certificate (asked from the router, not queued)
	in_r curl -sk --max-time 5 --resolve "swap.decrypt.test:443:$SW" -o /dev/null -w '%{certs}' \
		https://swap.decrypt.test/ | sed -n '/-----BEGIN/,/-----END/p;/-----END/q' |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | grep -qxF "$(fp "$pki/swapped.pem")"
}
check "upstream swapped: the server now shows a certificate from an unknown root" wait_until swapped
m=$(mark)
get "$C4" swap.decrypt.test/ "$SW" "$work/tgca.pem"
rc=$?
ln=$(flow "$m" "$C4" swap.decrypt.test)
check "upstream swapped: the next flow fails (curl $rc: $(head -c 80 "$work/curl.err"))" \
	bash -c '[ "$1" -ne 0 ] && [ ! -s "$2" ]' _ "$rc" "$work/body"
check "upstream swapped: logged upstream-failed, untrusted, not resumed ($(say "$ln"))" \
	is "$ln" action=block outcome=upstream-failed upstream_error=untrusted upstream_resumed=
# With upstream_untrusted "pass" (a reload) the ClientHello is replayed: the client is shown
# the real certificate and judges it itself.
python3 - "$work/policy.json" >"$work/policy-pass.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["settings"]["fail"] = {"upstream_untrusted": "pass"}
print(json.dumps(p, indent=1))
PY
cp "$work/policy.json" "$work/policy.block.json"
cp "$work/policy-pass.json" "$work/policy.json"
n=$(loglines "policy reloaded")
kill -HUP "$daemon_pid"
check "upstream: a policy with upstream_untrusted pass is loaded" wait_until more_than "$n" loglines "policy reloaded"
m=$(mark)
get "$C4" expired.decrypt.test/ "$S4" "$work/tgca.pem" -k
rc=$?
ln=$(flow "$m" "$C4" expired.decrypt.test)
check "upstream expired, pass: the client is shown the real (expired) certificate (curl -k $rc: $(body))" \
	bash -c '[ "$1" -eq 0 ] && real "$2"' _ "$rc" "$pki/expired.pem"
check "upstream expired, pass: logged pass, upstream-failed, replayed ($(say "$ln"))" \
	is "$ln" action=pass reason=upstream-untrusted outcome=upstream-failed upstream_error=expired replayed=true
cp "$work/policy.block.json" "$work/policy.json"
n=$(loglines "policy reloaded")
kill -HUP "$daemon_pid"
wait_until more_than "$n" loglines "policy reloaded"

# --- 7. Upstreams the proxy cannot intercept (no TLS 1.2; a client certificate requested): the
# client's connection works untouched (the ClientHello replayed), and the server is excluded, so
# its next flow passes in the kernel.
for c in tls13:"$ST":"no-tls12|protocol-version" ccert:"$SC":client-cert; do
	IFS=: read -r leafname addr excl <<<"$c"
	name=tls13.decrypt.test
	[ "$leafname" = ccert ] && name=clientcert.decrypt.test
	m=$(mark)
	get "$C4" "$name/" "$addr" "$pki/root.pem"
	rc=$?
	ln=$(flow "$m" "$C4" "$name")
	check "unsupported $name: the client is served by the real server (curl $rc: $(body))" \
		bash -c '[ "$1" -eq 0 ] && [ "$(cat "$3")" = "server $4 /" ] && real "$2"' _ "$rc" "$pki/$leafname.pem" "$work/body" "$name"
	check "unsupported $name: logged unsupported, excluded $excl, replayed ($(say "$ln"))" \
		bash -c 'is "$1" action=pass reason=upstream-unsupported outcome=unsupported replayed=true &&
			[[ $(field "$1" excluded) =~ ^($2)$ ]]' _ "$ln" "$excl"
	m=$(mark)
	get "$C4" "$name/" "$addr" "$pki/root.pem"
	rc=$?
	ln=$(flow "$m" "$C4" "$name")
	check "unsupported $name: the next flow passes in the kernel ($(say "$ln"))" \
		is "$ln" action=pass reason=upstream-excluded outcome=
	check "unsupported $name: ... served with the real certificate (curl $rc)" \
		bash -c '[ "$1" -eq 0 ] && real "$2"' _ "$rc" "$pki/$leafname.pem"
done

# --- 8. A host on the implicit pinned list that a decrypt rule matches is never intercepted.
m=$(mark)
get "$C4" gs.apple.com/ "$S4" "$pki/root.pem"
rc=$?
ln=$(flow "$m" "$C4" gs.apple.com)
check "implicit: gs.apple.com gets the real certificate (curl $rc: $(body))" \
	bash -c '[ "$1" -eq 0 ] && real "$2"' _ "$rc" "$pki/apple.pem"
check "implicit: logged pass, implicit-pinned ($(say "$ln"))" is "$ln" action=pass reason=implicit-pinned outcome=

# --- 9. A ClientHello in 7-byte TCP segments, for a decrypted name: intercepted all the same;
# the client (trusting only tlsgate's CA) completes and reads 4 MiB.
m=$(mark)
out=$(in_c python3 "$src/test/e2e/client.py" smallch "$S4" www.decrypt.test 7 "$work/tgca.pem" 2>&1)
ln=$(flow "$m" "$C4" www.decrypt.test)
check "split ClientHello: the client completes through the proxy and reads the page ($out)" [ "$out" = 4194304 ]
check "split ClientHello: logged decrypt, intercepted ($(say "$ln"))" is "$ln" action=decrypt outcome=intercepted

# --- 10. Privilege separation: the workers and the CA process run as nobody without
# capabilities and with no_new_privs; tlsgated keeps 0x3400; the spawner only setuid/setgid.
workers=$(procs worker)
ca=$(procs ca)
spawner=$(procs spawner)
check "privileges: two proxy workers ($(echo $workers))" [ "$(echo "$workers" | grep -c .)" -eq 2 ]
for p in $workers; do
	check "privileges: worker $p runs as nobody, CapEff $(status CapEff "$p"), NoNewPrivs $(status NoNewPrivs "$p")" unprivileged "$p"
done
check "privileges: one CA process ($ca)" [ "$(echo "$ca" | grep -c .)" -eq 1 ]
check "privileges: the CA process runs as nobody, CapEff $(status CapEff "$ca"), NoNewPrivs $(status NoNewPrivs "$ca")" \
	unprivileged "$ca"
check "privileges: tlsgated's CapEff $(status CapEff "$daemon_pid") is 0x3400" \
	[ "$((16#$(status CapEff "$daemon_pid")))" -eq $((0x3400)) ]
check "privileges: one spawner ($spawner), CapEff $(status CapEff "$spawner") is 0xc0 (CAP_SETGID, CAP_SETUID)" \
	bash -c '[ -n "$1" ] && [ "$((16#$2))" -eq $((0xc0)) ]' _ "$spawner" "$(status CapEff "$spawner")"
# A worker killed is started again, and decryption works afterwards.
r0=$(ctr worker_restarts)
victim=$(echo "$workers" | head -n 1)
kill -9 "$victim"
check "worker restart: a worker killed with SIGKILL is started again (worker_restarts $r0 -> $(wait_until more_than "$r0" ctr worker_restarts; ctr worker_restarts))" \
	[ "$(ctr worker_restarts)" -gt "$r0" ]
alive_2() { [ "$(ctr workers_alive)" -eq 2 ]; } # two workers are alive
check "worker restart: two workers alive again" wait_until alive_2
for p in $(procs worker); do
	[ "$p" = "$victim" ] && continue
	echo "$workers" | grep -qx "$p" && continue
	check "worker restart: the new worker $p is unprivileged too" unprivileged "$p"
done
okc=0
for s in $C4 $CO $CS; do # three client addresses: whichever worker each is homed on
	m=$(mark)
	get "$s" www.decrypt.test/ "$S4" "$work/tgca.pem" && [ "$(body)" = "server www.decrypt.test /" ] &&
		is "$(flow "$m" "$s" www.decrypt.test)" outcome=intercepted && okc=$((okc + 1))
done
check "worker restart: decryption works afterwards ($okc of 3 clients intercepted)" [ "$okc" -eq 3 ]

# --- 12. The daemon ran under the sanitizers in CI's build: it must stop cleanly, without a
# report from it or from its proxy processes.
stop_daemon
check "daemon: no sanitizer report in its log" bash -c "! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' '$work/daemon.log'"
check "daemon: a clean stop (exit $daemon_rc)" [ "$daemon_rc" -eq 0 ]

if [ "$fail" -ne 0 ]; then
	echo "--- daemon log"; cat "$work/daemon.log"
	echo "--- decisions"; tail -n 40 "$work/decisions.log"
fi
echo "$pass passed, $fail failed ($(($(date +%s) - t_start)) s)"
[ "$fail" -eq 0 ]
