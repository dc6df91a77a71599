#!/usr/bin/env python3
"""The lab's server side, run inside the server namespace: HTTPS on 443 and HTTP on 80 (IPv4 and
IPv6; HTTP keeps connections alive) answering "server <sni> <path>", a DNS server on UDP and TCP 53
(TCP: queries until the client closes) answering every A/AAAA with this
host's addresses and an HTTPS record with an `ech` parameter for names starting with "ech." (in the
additional section of the A answer for names starting with "ech-extra."), and a
UDP 443 sink (QUIC stand-in) that counts datagrams into STATE_DIR/quic.count.

usage: servers.py CERT KEY STATE_DIR IPV4 IPV6
"""
import http.server
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading

cert, key, state, ip4, ip6 = sys.argv[1:6]


class Handler(http.server.BaseHTTPRequestHandler):
    timeout = 10  # a connection that stops talking is dropped, not waited for forever

    def do_GET(self):
        sni = getattr(self.connection, "tg_sni", None) or "-"
        body = f"server {sni} {self.path}\n".encode()
        if self.path.startswith("/big"):
            body = b"x" * (4 << 20)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class KeepAlive(Handler):
    """Plain HTTP keeps the connection open (HTTP/1.1), so one connection can carry several
    requests."""

    protocol_version = "HTTP/1.1"


class Srv(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class Srv6(Srv):
    address_family = socket.AF_INET6


def tls_server(cls, addr):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def sni_cb(sock, name, _ctx):
        sock.tg_sni = name

    ctx.sni_callback = sni_cb
    s = cls((addr, 443), Handler)
    plain_accept = s.get_request

    def get_request():
        # The handshake runs in the connection's own thread (on its first read), not in the
        # accept loop: one client that stops halfway must not stall everyone else.
        sock, peer = plain_accept()
        return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), peer

    s.get_request = get_request
    return s


def dns_name(msg, off):
    labels = []
    while True:
        n = msg[off]
        if n == 0:
            return ".".join(labels), off + 1
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n


def dns_answer(q):
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    name, end = dns_name(q, 12)
    qtype, qclass = struct.unpack("!HH", q[end:end + 4])
    question = q[12:end + 4]
    answers = b""
    if qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(ip4)
    elif qtype == 28:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 300, 16) + socket.inet_pton(socket.AF_INET6, ip6)
    elif qtype == 65 and name.startswith("ech."):
        # An ECHConfigList: its length, then one ECHConfig (version fe0d, length, contents).
        ech = struct.pack("!H", 30) + b"\xfe\x0d" + struct.pack("!H", 26) + b"\x00" * 26
        params = struct.pack("!HH", 1, 3) + b"\x02h2"  # alpn=h2
        params += struct.pack("!HH", 4, 4) + socket.inet_aton(ip4)  # ipv4hint
        params += struct.pack("!HH", 5, len(ech)) + ech  # ech (keys in increasing order)
        rdata = struct.pack("!H", 1) + b"\x00" + params
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 65, 1, 300, len(rdata)) + rdata
    extra = b""
    if qtype == 1 and name.startswith("ech-extra."):
        # The HTTPS record (with ech) rides in the additional section of an A answer.
        ech = struct.pack("!H", 30) + b"\xfe\x0d" + struct.pack("!H", 26) + b"\x00" * 26
        rdata = struct.pack("!H", 1) + b"\x00" + struct.pack("!HH", 5, len(ech)) + ech
        extra = b"\xc0\x0c" + struct.pack("!HHIH", 65, 1, 300, len(rdata)) + rdata
    an = 1 if answers else 0
    ar = 1 if extra else 0
    return struct.pack("!HHHHHH", qid, 0x8180, 1, an, 0, ar) + question + answers + extra


def dns_loop(sock):
    while True:
        q, peer = sock.recvfrom(4096)
        try:
            sock.sendto(dns_answer(q), peer)
        except Exception:
            pass


def dns_tcp_conn(c):
    # Queries until the client closes: RFC 7766 6.2.1 lets a client pipeline several.
    with c:
        try:
            while True:
                ln = c.recv(2)
                if len(ln) < 2:
                    return
                q = c.recv(struct.unpack("!H", ln)[0])
                a = dns_answer(q)
                c.sendall(struct.pack("!H", len(a)) + a)
        except Exception:
            pass


def dns_tcp_loop(sock):
    while True:
        c, _ = sock.accept()
        threading.Thread(target=dns_tcp_conn, args=(c,), daemon=True).start()


def quic_loop(sock):
    n = 0
    while True:
        sock.recvfrom(4096)
        n += 1
        with open(os.path.join(state, "quic.count.tmp"), "w") as f:
            f.write(str(n))
        os.replace(os.path.join(state, "quic.count.tmp"), os.path.join(state, "quic.count"))


servers = [tls_server(Srv, ip4), tls_server(Srv6, ip6), Srv((ip4, 80), KeepAlive), Srv6((ip6, 80), KeepAlive)]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
for fam, addr in ((socket.AF_INET, ip4), (socket.AF_INET6, ip6)):
    d = socket.socket(fam, socket.SOCK_DGRAM)
    d.bind((addr, 53))
    threading.Thread(target=dns_loop, args=(d,), daemon=True).start()
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, 53))
    t.listen(16)
    threading.Thread(target=dns_tcp_loop, args=(t,), daemon=True).start()
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, 443))
    threading.Thread(target=quic_loop, args=(u,), daemon=True).start()
# Warm up: the first TLS handshake in a fresh namespace is slow (about 5 s, measured); take it
# here, before anyone measures or times out.
warm = ssl.create_default_context()
warm.check_hostname = False
warm.verify_mode = ssl.CERT_NONE
for addr in (ip4, ip6):
    try:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        with socket.create_connection((addr, 443), timeout=15) as raw:
            with warm.wrap_socket(raw, server_hostname="warm.test") as t:
                t.sendall(b"GET / HTTP/1.0\r\n\r\n")
                t.recv(100)
    except OSError:
        pass
with open(os.path.join(state, "servers.ready"), "w") as f:
    f.write("ok\n")
threading.Event().wait()
