#!/usr/bin/env python3
"""HTTPS servers for the decrypting proxy's test (test/test_proxy.sh) and the lab, run inside the
server namespace. One JSON configuration file describes every listener:

  {"state": DIR,                       servers.ready is written there once all listen
   "keylog": FILE,                     optional: SSLKEYLOGFILE lines of every handshake
   "blob": FILE,                       what GET /blob answers
   "listeners": [{"addr": A, "port": P,
                  "mode": "any" | "tls13" | "clientcert",
                  "cert": PEM, "key": KEY,          the certificate when no SNI below matches
                  "sni": {NAME: [PEM, KEY], ...},   the certificate per server name
                  "client_ca": PEM,                 clientcert: CAs named in the request
                  "swap": [PEM, KEY]}]}             on SIGUSR1, this listener (one at most) takes a
                                                    new context with this certificate: new ticket
                                                    keys and session cache, so it resumes no
                                                    session it made before

  any         TLS 1.2 and 1.3
  tls13       TLS 1.3 only (a TLS 1.2 ClientHello gets a protocol_version alert)
  clientcert  TLS 1.2 and 1.3, and it requests a client certificate (optional: a client
              without one is still served)

Every listener answers HTTP/1.1:
  GET /        "server SNI PATH\\n" (SNI "-" when none)
  GET /big     4 MiB of "x" (what test/e2e/client.py smallch reads)
  GET /blob    the blob file
  POST /upload the request body's "LENGTH SHA256\\n"

usage: tlsservers.py CONFIG
"""
import hashlib
import http.server
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading

cfg = json.load(open(sys.argv[1]))
blob = open(cfg["blob"], "rb").read() if cfg.get("blob") else b""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # so a large POST's "Expect: 100-continue" is answered
    timeout = 20  # a connection that stops talking is dropped, not waited for forever

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        sni = getattr(self.connection, "tg_sni", None) or "-"
        if self.path.startswith("/big"):
            self.answer(b"x" * (4 << 20))
        elif self.path == "/blob":
            self.answer(blob)
        else:
            self.answer(f"server {sni} {self.path}\n".encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        h, got = hashlib.sha256(), 0
        while got < n:
            chunk = self.rfile.read(min(65536, n - got))
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
        self.answer(f"{got} {h.hexdigest()}\n".encode())

    def log_message(self, *a):
        pass


class Srv(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class Srv6(Srv):
    address_family = socket.AF_INET6


def context(ls, pem, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem, key)
    if ls.get("mode") == "tls13":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if ls.get("mode") == "clientcert":
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(ls["client_ca"])
    if cfg.get("keylog"):
        ctx.keylog_filename = cfg["keylog"]
    return ctx


def listener(ls):
    default = context(ls, ls["cert"], ls["key"])
    by_name = {n: context(ls, *pk) for n, pk in ls.get("sni", {}).items()}

    def sni_cb(sock, name, _ctx):
        sock.tg_sni = name
        if name in by_name:
            sock.context = by_name[name]

    default.sni_callback = sni_cb
    cls = Srv6 if ":" in ls["addr"] else Srv
    s = cls((ls["addr"], ls["port"]), Handler)
    plain_accept = s.get_request

    def get_request():
        # The handshake runs in the connection's own thread (on its first read), not in the
        # accept loop: one client that stops halfway must not stall everyone else.
        sock, peer = plain_accept()
        return default.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), peer

    s.get_request = get_request
    if ls.get("swap"):
        def swap(*_):
            nonlocal default
            nxt = context(ls, *ls["swap"])
            nxt.sni_callback = sni_cb
            default = nxt

        signal.signal(signal.SIGUSR1, swap)
    return s


for ls in cfg["listeners"]:
    threading.Thread(target=listener(ls).serve_forever, daemon=True).start()
# Warm up: the first TLS handshake in a fresh namespace can be slow; take it here, before
# anyone measures or times out.
warm = ssl.create_default_context()
warm.check_hostname = False
warm.verify_mode = ssl.CERT_NONE
try:
    ls = cfg["listeners"][0]
    with socket.create_connection((ls["addr"], ls["port"]), timeout=15) as raw:
        with warm.wrap_socket(raw, server_hostname="warm.test") as t:
            t.sendall(b"GET / HTTP/1.0\r\n\r\n")
            t.recv(100)
except OSError:
    pass
with open(os.path.join(cfg["state"], "servers.ready"), "w") as f:
    f.write("ok\n")
while True:
    signal.pause()  # the main thread runs the SIGUSR1 handler
