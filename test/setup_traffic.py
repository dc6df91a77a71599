#!/usr/bin/env python3
"""setup_traffic.py - the clients and servers test/test_setup.sh runs in its namespaces.

  serve                    in the server namespace: TCP echo on 80, 443, 8443 and 7443 (the
                           last two also send "srv" on their own 0.3 s after accept, the late
                           server packet an adopted or blocked flow must never deliver),
                           "server" banner on 9443, UDP echo on 53; IPv4 and IPv6
  local                    in the router namespace: TCP echo on 443 (traffic to the router
                           itself), and a transparent listener bound to the server's own
                           addresses on 9443 that answers "router" (the socket match's path)
  client [--from SRC] HOST PORT MSG...
                           connect (from address SRC), send each MSG and print what comes back
                           (TIMEOUT if nothing within 1.5 s); REFUSED/UNREACHABLE when the
                           connect fails
  udp HOST PORT MSG...     send datagrams from one socket, print each answer, TIMEOUT or REFUSED
  banner HOST PORT         connect and print the first line received
A READY file argument (serve/local) is created once every socket listens.
"""
import socket
import sys
import threading
import time

IP_TRANSPARENT = 19
IPV6_TRANSPARENT = 75


def tcp_listener(addr, port, family=socket.AF_INET6, transparent=False):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6 and addr == "::":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    if transparent:
        if family == socket.AF_INET:
            s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
    s.bind((addr, port))
    s.listen(16)
    return s


def echo(conn, late):
    def late_send():
        time.sleep(0.3)
        try:
            conn.sendall(b"srv")
        except OSError:
            pass

    if late:
        threading.Thread(target=late_send, daemon=True).start()
    try:
        while True:
            data = conn.recv(4096)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    conn.close()


def banner(conn, text):
    try:
        conn.sendall(text)
    except OSError:
        pass
    conn.close()


def accept_loop(lsock, handler):
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def udp_echo(addr, port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(4096)
        s.sendto(data, peer)


def run_forever(listeners, ready):
    for lsock, handler in listeners:
        threading.Thread(target=accept_loop, args=(lsock, handler), daemon=True).start()
    open(ready, "w").close()
    while True:
        time.sleep(3600)


def serve(ready):
    listeners = [(tcp_listener("::", p), lambda c: echo(c, False)) for p in (80, 443)]
    listeners += [(tcp_listener("::", p), lambda c: echo(c, True)) for p in (8443, 7443)]
    listeners.append((tcp_listener("::", 9443), lambda c: banner(c, b"server\n")))
    threading.Thread(target=udp_echo, args=("::", 53), daemon=True).start()
    run_forever(listeners, ready)


def local(server4, server6, ready):
    listeners = [(tcp_listener("::", 443), lambda c: echo(c, False))]
    for addr, fam in ((server4, socket.AF_INET), (server6, socket.AF_INET6)):
        lsock = tcp_listener(addr, 9443, fam, transparent=True)
        listeners.append((lsock, lambda c: banner(c, b"router\n")))
    run_forever(listeners, ready)


def connect(host, port, source=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(3)
    if source:
        s.bind((source, 0))
    try:
        s.connect((host, port))
    except ConnectionRefusedError:
        print("REFUSED")
        sys.exit(0)
    except OSError:
        print("UNREACHABLE")
        sys.exit(0)
    return s


def client(host, port, msgs, source=None):
    s = connect(host, port, source)
    s.settimeout(1.5)
    out = []
    for m in msgs:
        s.sendall(m.encode())
        try:
            data = s.recv(4096)
            out.append(data.decode(errors="replace") if data else "EOF")
        except socket.timeout:
            out.append("TIMEOUT")
    print(" ".join(out))


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2])
    elif cmd == "local":
        local(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "client" and sys.argv[2] == "--from":
        client(sys.argv[4], int(sys.argv[5]), sys.argv[6:], sys.argv[3])
    elif cmd == "client":
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif cmd == "banner":
        s = connect(sys.argv[2], int(sys.argv[3]))
        try:
            print(s.makefile().readline().strip() or "EOF")
        except socket.timeout:
            print("TIMEOUT")
    elif cmd == "udp":
        fam = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(1.5)
        # Connected, so that an ICMP port unreachable comes back as ECONNREFUSED.
        s.connect((sys.argv[2], int(sys.argv[3])))
        out = []
        for m in sys.argv[4:]:
            s.send(m.encode())
            try:
                out.append(s.recv(4096).decode(errors="replace"))
            except socket.timeout:
                out.append("TIMEOUT")
            except ConnectionRefusedError:
                out.append("REFUSED")
        print(" ".join(out))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
