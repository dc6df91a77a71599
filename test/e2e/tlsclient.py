#!/usr/bin/env python3
"""TLS clients of the decrypting proxy's test that curl cannot play.

  tlsclient.py silent SERVER SNI CA [SRC]   complete a TLS handshake (verifying the server against
                                            CA, for SNI), then close the socket at once without
                                            sending a byte, as OkHttp's CertificatePinner does
                                            after rejecting the certificate it was shown;
                                            prints "handshake" (or the error) and the issuer's
                                            common name of what it was shown
SRC binds the client's source address (one of the client namespace's addresses).
"""
import os
import socket
import ssl
import sys


def connect(server, src):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    if src:
        s.bind((src, 0))
    s.connect((server, 443))
    return s


def silent(server, sni, ca, src=None):
    ctx = ssl.create_default_context(cafile=ca)
    raw = connect(server, src)
    try:
        tls = ctx.wrap_socket(raw, server_hostname=sni)
    except (ssl.SSLError, OSError) as e:
        print(f"error {e}")
        return
    issuer = dict(x[0] for x in tls.getpeercert()["issuer"]).get("commonName", "?")
    # Closing the plain socket under the TLS one: no close_notify, no byte, just the FIN.
    os.close(tls.detach())
    print(f"handshake issuer={issuer}")


cmd = sys.argv[1] if len(sys.argv) > 1 else ""
if cmd == "silent" and len(sys.argv) in (5, 6):
    silent(*sys.argv[2:])
else:
    sys.exit(__doc__)
