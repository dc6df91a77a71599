#!/bin/bash
# pki.sh - a test "public" PKI for the decrypting proxy's tests and the lab, made with openssl:
# a root CA (the one tlsgated's --trust names), an intermediate under it, and leaf certificates
# for the lab's servers, good ones and the kinds an upstream must not be trusted with (expired,
# for another name, self-signed, from a root nobody trusts). ECDSA P-256 throughout. Source this
# file; it defines functions only.
#
#   pki_init DIR                  root.pem/.key, int.pem/.key; and unknown-root.pem/.key, a
#                                 second root that is never trusted
#   pki_leaf DIR NAME KIND SAN... a leaf NAME.pem (leaf then intermediate: the chain a server
#                                 sends) and NAME.key with the subjectAltName DNS names SAN...;
#                                 KIND: good (from the intermediate, valid now), expired (from
#                                 the intermediate, ended in 2021), selfsigned (its own issuer),
#                                 unknown (from unknown-root)
# Both return non-zero (and print openssl's complaint) when openssl fails.

# _pki_ext FILE SAN...: write the X.509v3 extensions of a server leaf with DNS names SAN... to FILE.
_pki_ext()
{
	local f=$1 san="" n
	shift
	for n in "$@"; do san+="${san:+,}DNS:$n"; done
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" "subjectAltName=$san" \
		"subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$f"
}

# _pki_key FILE: a new P-256 private key in FILE.
_pki_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# pki_init DIR: the roots and the intermediate (see the file's head).
pki_init()
{
	local d=$1 r
	mkdir -p "$d" || return 1
	for r in root unknown-root; do
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
			-subj "/O=tlsgate test/CN=tlsgate test $r" -keyout "$d/$r.key" -out "$d/$r.pem" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$d/openssl.err" ||
			{ cat "$d/openssl.err" >&2; return 1; }
	done
	_pki_key "$d/int.key" || return 1
	printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" \
		"keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid" >"$d/int.ext"
	openssl req -new -key "$d/int.key" -subj "/O=tlsgate test/CN=tlsgate test intermediate" 2>/dev/null |
		openssl x509 -req -CA "$d/root.pem" -CAkey "$d/root.key" -CAcreateserial -days 30 \
			-extfile "$d/int.ext" -out "$d/int.pem" 2>"$d/openssl.err" ||
		{ cat "$d/openssl.err" >&2; return 1; }
}

# pki_leaf DIR NAME KIND SAN...: one leaf (see the file's head).
pki_leaf()
{
	local d=$1 name=$2 kind=$3 db
	shift 3
	_pki_ext "$d/$name.ext" "$@"
	_pki_key "$d/$name.key" || return 1
	openssl req -new -key "$d/$name.key" -subj "/O=tlsgate test/CN=$1" -out "$d/$name.csr" 2>/dev/null ||
		return 1
	case $kind in
	good | unknown)
		local ca=int
		[ "$kind" = unknown ] && ca=unknown-root
		openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
			-CAcreateserial -days 20 -extfile "$d/$name.ext" -out "$d/$name.crt" \
			2>"$d/openssl.err" || { cat "$d/openssl.err" >&2; return 1; }
		if [ "$kind" = good ]; then
			cat "$d/$name.crt" "$d/int.pem" >"$d/$name.pem"
		else
			cp "$d/$name.crt" "$d/$name.pem"
		fi
		;;
	selfsigned)
		# Its own issuer: the leaf's extensions, signed by its own key.
		sed -i 's/^authorityKeyIdentifier=keyid$/authorityKeyIdentifier=keyid:always/' "$d/$name.ext"
		openssl x509 -req -in "$d/$name.csr" -signkey "$d/$name.key" -days 20 \
			-extfile "$d/$name.ext" -out "$d/$name.pem" 2>"$d/openssl.err" ||
			{ cat "$d/openssl.err" >&2; return 1; }
		;;
	expired)
		# `openssl x509 -req` signs from now on; `openssl ca` takes explicit dates.
		db=$d/ca-db
		mkdir -p "$db"
		: >"$db/index.txt"
		printf '%s\n' "[ca]" "default_ca=test" "[test]" "database=$db/index.txt" \
			"new_certs_dir=$db" "serial=$db/serial" "default_md=sha256" "policy=any" \
			"unique_subject=no" "copy_extensions=none" "[any]" "commonName=supplied" \
			"organizationName=optional" >"$db/ca.cnf"
		openssl rand -hex 8 >"$db/serial"
		openssl ca -batch -config "$db/ca.cnf" -cert "$d/int.pem" -keyfile "$d/int.key" \
			-startdate 20200101000000Z -enddate 20210101000000Z -extfile "$d/$name.ext" \
			-notext -in "$d/$name.csr" -out "$d/$name.crt" 2>"$d/openssl.err" ||
			{ cat "$d/openssl.err" >&2; return 1; }
		cat "$d/$name.crt" "$d/int.pem" >"$d/$name.pem"
		;;
	*)
		echo "pki_leaf: unknown kind $kind" >&2
		return 1
		;;
	esac
}
