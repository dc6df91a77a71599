#!/bin/bash
# tlsgatectl ca init|export|show in a temporary directory (no root needed):
# - init --dir D makes D (0700, missing parents too) with ca.key (0600) and ca.crt (0644) and
#   nothing else; --cn and --days are honoured;
# - a second init refuses to overwrite (exit 1, naming ca.key) and leaves both files as they
#   were; so does an init where only ca.crt exists (naming it);
# - export --format pem and --format der give the certificate openssl reads: CA:TRUE (critical,
#   pathlen 0), keyCertSign, an EC P-256 key, self-signed; both are the same certificate, --out
#   writes the same bytes, the default format is PEM; a failed export leaves --out FILE alone;
# - show prints the path, subject, serial, validity, key type and the SHA-256 fingerprint openssl
#   computes; --json prints the same as one JSON line;
# - bad flags, a bad --format, bad --days or --cn, a missing directory, a broken key: a message
#   naming what is wrong on stderr and exit 2 (usage) or 1 (error), nothing on stdout;
# - the private key appears in no output of any command above.
set -uo pipefail
src=${TG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
ctl=${TG_BIN:-$src/build/bin}/tlsgatectl
if ! command -v openssl >/dev/null; then
	if [ -n "${CI:-}" ]; then
		echo "openssl is missing under CI"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "skipped: openssl is missing"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-ca-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
all=$tmp/all-output # every stdout and stderr of tlsgatectl, for the key check at the end
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}
check() { # check DESCRIPTION COMMAND...: the command succeeds
	local what=$1
	shift
	if "$@"; then ok; else ko "$what"; fi
}

# run EXPECTED_RC ARGS...: run tlsgatectl; its stdout in $out, stderr in $err.
run() {
	local want=$1
	shift
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(<"$tmp/out")
	err=$(<"$tmp/err")
	cat "$tmp/out" "$tmp/err" >>"$all"
	if [ "$rc" -ne "$want" ]; then
		ko "tlsgatectl $*: exit $rc, expected $want (stderr: $err)"
		return 1
	fi
	ok
}
# fails_with EXPECTED_RC MESSAGE ARGS...: exit EXPECTED_RC, MESSAGE in stderr, stdout empty.
fails_with() {
	local want=$1 msg=$2
	shift 2
	run "$want" "$@" || return
	if ! grep -qF -- "$msg" <<<"$err"; then
		ko "tlsgatectl $*: stderr lacks \"$msg\": $err"
	elif [ -n "$out" ]; then
		ko "tlsgatectl $*: printed on stdout: $out"
	else
		ok
	fi
}
mode() { stat -c %a "$1"; }

# --- init ---
d=$tmp/parent/ca
run 0 ca init --dir "$d" --cn "test CA" --days 30 &&
	check "init says what it made" grep -qF "created $d/ca.crt and $d/ca.key (valid 30 days)" <<<"$out"
check "ca.key mode 0600 (is $(mode "$d/ca.key"))" [ "$(mode "$d/ca.key")" = 600 ]
check "ca.crt mode 0644 (is $(mode "$d/ca.crt"))" [ "$(mode "$d/ca.crt")" = 644 ]
check "the directory is 0700 (is $(mode "$d"))" [ "$(mode "$d")" = 700 ]
check "the missing parent is 0755 (is $(mode "$tmp/parent"))" [ "$(mode "$tmp/parent")" = 755 ]
entries() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' '; }
check "only ca.crt and ca.key in the directory: $(entries "$d")" [ "$(entries "$d")" = "ca.crt ca.key " ]
check "ca.key is a PEM EC key" grep -q "^-----BEGIN EC PRIVATE KEY-----$" "$d/ca.key"
key_sum=$(sha256sum <"$d/ca.key")
crt_sum=$(sha256sum <"$d/ca.crt")

# A second init refuses and changes nothing; so does one where only ca.crt is there.
fails_with 1 "$d/ca.key exists: refusing to overwrite it" ca init --dir "$d"
fails_with 1 "$d/ca.key exists: refusing to overwrite it" ca init --dir "$d" --cn other
check "the second init left ca.key alone" [ "$(sha256sum <"$d/ca.key")" = "$key_sum" ]
check "the second init left ca.crt alone" [ "$(sha256sum <"$d/ca.crt")" = "$crt_sum" ]
check "the second init left nothing behind" [ "$(entries "$d")" = "ca.crt ca.key " ]
mkdir -m 700 "$tmp/only-crt" && cp "$d/ca.crt" "$tmp/only-crt/"
fails_with 1 "$tmp/only-crt/ca.crt exists: refusing to overwrite it" ca init --dir "$tmp/only-crt"
check "no key made next to a lone ca.crt" [ ! -e "$tmp/only-crt/ca.key" ]

# Bad arguments of init: usage errors exit 2, a refused name exits 1; nothing is made.
fails_with 2 "--days: expected 1..36500, got \"0\"" ca init --dir "$tmp/x" --days 0
fails_with 2 "--days: expected 1..36500, got \"36501\"" ca init --dir "$tmp/x" --days 36501
fails_with 2 "--days: expected 1..36500, got \"-5\"" ca init --dir "$tmp/x" --days -5
fails_with 2 "--days: expected 1..36500, got \"10x\"" ca init --dir "$tmp/x" --days 10x
fails_with 1 "CA name: character 0x2c at offset 1 not allowed" ca init --dir "$tmp/x" --cn "a,O=b"
fails_with 1 "CA name: expected 1..64 characters, got 65" ca init --dir "$tmp/x" \
	--cn "$(printf 'n%.0s' {1..65})"
fails_with 2 "unrecognized option '--bogus'" ca init --dir "$tmp/x" --bogus
fails_with 2 "option '--dir' requires an argument" ca init --dir
fails_with 2 "usage: tlsgatectl ca init" ca init --dir "$tmp/x" extra
check "refused inits made nothing" [ ! -e "$tmp/x" ]
fails_with 1 "cannot create: Not a directory" ca init --dir "$d/ca.crt/sub"

# --- export ---
run 0 ca export --dir "$d" --format pem && printf '%s\n' "$out" >"$tmp/ca.pem"
run 0 ca export --dir "$d" --format der --out "$tmp/ca.der"
run 0 ca export --dir "$d" --out "$tmp/default.pem"
"$ctl" ca export --dir "$d" --format der >"$tmp/stdout.der" 2>>"$all"
check "the PEM export is the file ca init wrote" cmp -s "$tmp/ca.pem" "$d/ca.crt"
check "the default format is PEM" cmp -s "$tmp/default.pem" "$d/ca.crt"
check "--out and stdout agree" cmp -s "$tmp/ca.der" "$tmp/stdout.der"
check "the PEM export is one certificate" \
	[ "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$tmp/ca.pem")" -eq 1 ]
text_pem=$(openssl x509 -noout -text -in "$tmp/ca.pem" 2>&1) || ko "openssl cannot read the PEM: $text_pem"
text_der=$(openssl x509 -noout -text -inform der -in "$tmp/ca.der" 2>&1) ||
	ko "openssl cannot read the DER: $text_der"
check "PEM and DER are the same certificate" [ "$text_pem" = "$text_der" ]
for want in "CA:TRUE, pathlen:0" "Public Key Algorithm: id-ecPublicKey" "Public-Key: (256 bit)" \
	"NIST CURVE: P-256" "Certificate Sign, CRL Sign" "Subject: CN = test CA, O = tlsgate" \
	"Issuer: CN = test CA, O = tlsgate" "X509v3 Subject Key Identifier" \
	"Signature Algorithm: ecdsa-with-SHA256" "Version: 3 (0x2)"; do
	check "the certificate has \"$want\"" grep -qF -- "$want" <<<"$text_pem"
done
check "basicConstraints is critical" grep -qF "X509v3 Basic Constraints: critical" <<<"$text_pem"
check "keyUsage is critical" grep -qF "X509v3 Key Usage: critical" <<<"$text_pem"
check "self-signed: it verifies under itself" \
	openssl verify -CAfile "$tmp/ca.pem" -check_ss_sig "$tmp/ca.pem" >/dev/null 2>&1
check "the public key is the private key's" \
	[ "$(openssl x509 -noout -pubkey -in "$tmp/ca.pem" | openssl pkey -pubin -outform der | sha256sum)" = \
	"$(openssl pkey -in "$d/ca.key" -pubout -outform der 2>/dev/null | sha256sum)" ]
# 30 days from an hour ago.
nb=$(date -d "$(openssl x509 -noout -startdate -in "$tmp/ca.pem" | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -noout -enddate -in "$tmp/ca.pem" | cut -d= -f2)" +%s)
check "valid 30 days and an hour ($nb..$na)" [ $((na - nb)) -eq $((30 * 86400 + 3600)) ]
now=$(date +%s)
check "valid from about an hour ago ($((now - nb)) s)" test $((now - nb)) -ge 3590 -a $((now - nb)) -le 3700

fails_with 2 "--format: expected pem or der, got \"PEM\"" ca export --dir "$d" --format PEM
fails_with 2 "--format: expected pem or der, got \"crt\"" ca export --dir "$d" --format crt
fails_with 2 "option '--format' requires an argument" ca export --dir "$d" --format
fails_with 1 "$tmp/none/ca.crt: No such file or directory (create a CA with \`tlsgatectl ca init\`)" \
	ca export --dir "$tmp/none"
fails_with 1 "$tmp/no-such-dir/x.pem: No such file or directory" \
	ca export --dir "$d" --out "$tmp/no-such-dir/x.pem"
# A failed export leaves --out as it was: no empty file, an earlier export not truncated.
fails_with 1 "$tmp/none/ca.crt: No such file or directory" \
	ca export --dir "$tmp/none" --out "$tmp/failed.pem"
check "a failed export makes no file" [ ! -e "$tmp/failed.pem" ]
cp "$tmp/ca.pem" "$tmp/kept.pem"
fails_with 1 "$tmp/none/ca.crt: No such file or directory" \
	ca export --dir "$tmp/none" --out "$tmp/kept.pem"
check "a failed export leaves an earlier one alone" cmp -s "$tmp/kept.pem" "$tmp/ca.pem"

# --- show ---
run 0 ca show --dir "$d" && {
	fp=$(openssl x509 -noout -fingerprint -sha256 -in "$tmp/ca.pem" | cut -d= -f2)
	serial=$(openssl x509 -noout -serial -in "$tmp/ca.pem" | cut -d= -f2 | sed 's/../&:/g; s/:$//')
	check "show names the path" grep -qxF "path:        $d/ca.crt" <<<"$out"
	check "show prints the subject" grep -qxF "subject:     CN=test CA, O=tlsgate" <<<"$out"
	check "show prints openssl's serial ($serial)" grep -qxF "serial:      $serial" <<<"$out"
	check "show prints the start" \
		grep -qxF "not before:  $(date -u -d "@$nb" +%Y-%m-%dT%H:%M:%SZ)" <<<"$out"
	check "show prints the end" \
		grep -qxF "not after:   $(date -u -d "@$na" +%Y-%m-%dT%H:%M:%SZ)" <<<"$out"
	check "show prints the key type" \
		grep -qxF "key:         ECDSA P-256, matches the certificate" <<<"$out"
	check "show prints openssl's SHA-256 fingerprint ($fp)" grep -qxF "sha256:      $fp" <<<"$out"
}
run 0 ca show --dir "$d" --json && {
	check "show --json is one line" [ "$(wc -l <"$tmp/out")" -eq 1 ]
	res=$(python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
want = {"subject": "CN=test CA, O=tlsgate", "key_type": "ECDSA P-256", "expired": False,
        "path": sys.argv[1], "sha256": sys.argv[2]}
bad = [k for k in want if j.get(k) != want[k]]
missing = [k for k in ("serial", "not_before", "not_after") if not j.get(k)]
print(" ".join(bad + missing) or "ok")' "$d/ca.crt" "$fp" <"$tmp/out" 2>&1)
	check "show --json fields: $res" [ "$res" = ok ]
}
fails_with 1 "$tmp/none/ca.crt: No such file or directory (create a CA with" ca show --dir "$tmp/none"
fails_with 2 "unrecognized option '--pem'" ca show --dir "$d" --pem
# show loads the key too: a key others may read is refused, naming the fix.
rm -rf "$tmp/open" && mkdir -m 700 "$tmp/open" && cp "$d/ca.crt" "$d/ca.key" "$tmp/open/"
chmod 644 "$tmp/open/ca.key"
fails_with 1 "$tmp/open/ca.key: readable by group or others (mode 0644): chmod 600 $tmp/open/ca.key" \
	ca show --dir "$tmp/open"
chmod 600 "$tmp/open/ca.key"
cp "$d/ca.crt" "$tmp/open/ca.key"
fails_with 1 "$tmp/open/ca.key: not a private key" ca show --dir "$tmp/open"
# export needs only the certificate: it works without the key.
rm -f "$tmp/open/ca.key"
run 0 ca export --dir "$tmp/open" --format der --out "$tmp/open.der" &&
	check "export without the key" cmp -s "$tmp/open.der" "$tmp/ca.der"

# --- the subcommand itself ---
fails_with 2 "tlsgatectl: ca: unknown subcommand \"frob\"" ca frob
fails_with 2 "usage: tlsgatectl ca init" ca
run 0 ca --help && check "ca --help prints the usage" grep -qF "usage: tlsgatectl ca init" <<<"$out"

# --- the key never appears in any output ---
check "no output says PRIVATE" bash -c "! grep -q PRIVATE '$all'"
leaks=0
while IFS= read -r line; do
	case $line in -----*) continue ;; esac
	[ "${#line}" -ge 16 ] || continue
	grep -qF -- "$line" "$all" && leaks=$((leaks + 1))
done <"$d/ca.key"
check "no line of ca.key in any output ($leaks found)" [ "$leaks" -eq 0 ]
# Nor the private value in hex (as a dump would print it).
priv=$(openssl pkey -in "$d/ca.key" -text -noout 2>/dev/null |
	sed -n '/^priv:/,/^pub:/{/^ /p}' | tr -d ' :\n' | cut -c 5-36)
check "openssl shows the private value (${#priv} hex digits)" [ "${#priv}" -eq 32 ]
check "no hex of the private value in any output" bash -c "! tr -d ':\n' <'$all' | grep -qi '$priv'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
