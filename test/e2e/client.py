#!/usr/bin/env python3
"""Lab clients the standard tools cannot play.

  client.py dns SERVER NAME TYPE         print the rcode, answer count and whether any record (any
                                         section) carries ech, for one UDP query
  client.py dnstcp SERVER NAME TYPE      the same over TCP ("reset" when the gateway resets it)
  client.py dnsjunk SERVER NAME TYPE      the same query with a trailing byte ("timeout": no answer)
  client.py dnsforge SERVER NAME ADDR    send, from port 53, an unasked response: NAME A ADDR
  client.py quic SERVER COUNT [PORT]     send COUNT UDP datagrams to SERVER:PORT (443)
  client.py rate SERVER SNI SECONDS      new TLS connections per second for SECONDS: connect, send a
                                         ClientHello for SNI, wait for the server's first bytes,
                                         close; prints "N connections/s"
  client.py splitch SERVER SNI MODE      send a TLS 1.2 ClientHello for SNI ("-": none) split per MODE
  client.py hold SERVER SNI N            N connections with a ClientHello each, kept open: prints how many were answered
  client.py smallch SERVER SNI SEG CA   a real TLS client whose ClientHello leaves in SEG-byte segments, then GET /big: prints the body size
                                         (records: two TLS records; segments: two TCP segments;
                                         reorder: two segments, the first 100 bytes)
                                         and print "reset", "closed" or "answer" for what came back
"""
import os
import socket
import struct
import sys
import time


def dns(server, name, qtype, tcp=False, junk=False):
    types = {"A": 1, "AAAA": 28, "HTTPS": 65}
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack("!HH", types[qtype], 1)
    if junk:
        q += b"\x00"  # one byte past the question: the message does not parse
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    if tcp:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect((server, 53))
            s.sendall(struct.pack("!H", len(q)) + q)
            ln = s.recv(2)
            if len(ln) < 2:
                print("closed")
                return
            r = s.recv(struct.unpack("!H", ln)[0])
        except ConnectionResetError:
            print("reset")
            return
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(q, (server, 53))
        try:
            r, _ = s.recvfrom(4096)
        except socket.timeout:
            print("timeout")
            return
    rcode = r[3] & 15
    an, ns, ar = struct.unpack("!HHH", r[6:12])
    off, ech = len(q), False
    for _ in range(an + ns + ar):  # ech in any section counts
        off += 2  # the answers' names are compression pointers
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", r[off:off + 10])
        rdata = r[off + 10:off + 10 + rdlen]
        off += 10 + rdlen
        if rtype == 65:
            p = 3  # priority, root target
            while p + 4 <= len(rdata):
                key, ln = struct.unpack("!HH", rdata[p:p + 4])
                ech |= key == 5
                p += 4 + ln
    print(f"rcode={rcode} answers={an} ech={'yes' if ech else 'no'}")


def dnsforge(server, name, addr):
    """A response nobody asked for, as a LAN host would forge one: from port 53, QR set."""
    q = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\x00"
    m = struct.pack("!HHHHHH", 0x4444, 0x8180, 1, 1, 0, 0) + q + struct.pack("!HH", 1, 1)
    m += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 3600, 4) + socket.inet_aton(addr)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", 53))
    s.sendto(m, (server, 53))
    print("sent")


def client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    if sni == "-":
        sni_ext = b""  # no server_name at all
    exts = sni_ext + struct.pack("!HHH", 0x000d, 4, 2) + b"\x04\x03"  # signature_algorithms
    exts += struct.pack("!HHH", 0x000a, 4, 2) + b"\x00\x17"  # supported_groups: secp256r1
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack("!H", 4) + b"\xc0\x2b\xc0\x2f"
    body += b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    return b"\x01" + struct.pack("!I", len(body))[1:] + body


def splitch(server, sni, mode):
    hs = client_hello(sni)
    # split right inside the SNI, as evasion tools do (in the middle without one)
    cut = hs.index(sni.encode()) + 3 if sni != "-" else len(hs) // 2
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(4)
    s.connect((server, 443))
    if mode == "partial":
        # Only the first 50 bytes, then silence: the gateway's incomplete timeout (5 s) decides.
        wire = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
        s.sendall(wire[:50])
        time.sleep(5.5)
        print("sent")
        return
    if mode == "reorder":
        # Two segments back to back, the first exactly 100 bytes: the lab drops that one once
        # (iptables, by length), so the router sees the second first, then the retransmission.
        wire = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
        s.sendall(wire[:100])
        s.sendall(wire[100:])
    elif mode == "records":
        rec = lambda b: b"\x16\x03\x01" + struct.pack("!H", len(b)) + b
        s.sendall(rec(hs[:cut]) + rec(hs[cut:]))
    else:
        wire = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
        s.sendall(wire[:cut + 5])
        time.sleep(0.2)
        s.sendall(wire[cut + 5:])
    try:
        data = s.recv(4096)
        print("answer" if data else "closed")
    except ConnectionResetError:
        print("reset")
    except socket.timeout:
        print("timeout")


def quic(server, count, port="443"):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for _ in range(int(count)):
        s.sendto(b"\xc0\x00\x00\x00\x01" + os.urandom(1200), (server, int(port)))
        time.sleep(0.01)


def rate(server, sni, seconds):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    hello = client_hello(sni)
    wire = b"\x16\x03\x01" + struct.pack("!H", len(hello)) + hello
    end = time.monotonic() + float(seconds)
    n = 0
    start = time.monotonic()
    while time.monotonic() < end:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.settimeout(3)
        s.connect((server, 443))
        s.sendall(wire)
        s.recv(1)
        s.close()
        n += 1
    print(f"{n / (time.monotonic() - start):.0f} connections/s")


def smallch(server, sni, seg, cafile):
    """A real TLS client (python's ssl over a memory BIO) whose ClientHello leaves in segments of
    SEG bytes, each written after the previous one left (TCP_NODELAY and a pause, so the kernel
    sends them apart); then the handshake and GET /big as usual. Prints the bytes of the body."""
    import ssl
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(5)
    s.connect((server, 443))
    ctx = ssl.create_default_context(cafile=cafile)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=sni)

    def flush(step=None):
        data = out.read()
        if step is None:
            s.sendall(data)
            return
        for i in range(0, len(data), step):
            s.sendall(data[i:i + step])
            time.sleep(0.002)

    first = True
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush(int(seg) if first else None)
            first = False
            data = s.recv(65536)
            if not data:
                print("closed")
                return
            inc.write(data)
    flush()
    tls.write(b"GET /big HTTP/1.1\r\nHost: " + sni.encode() + b"\r\nConnection: close\r\n\r\n")
    flush()
    body = b""
    while True:
        try:
            chunk = tls.read(65536)
            if not chunk:  # the server's close_notify: read() returns b"" from now on
                break
            body += chunk
        except ssl.SSLWantReadError:
            data = s.recv(65536)
            if not data:
                break
            inc.write(data)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    head, _, rest = body.partition(b"\r\n\r\n")
    print(len(rest))


def hold(server, sni, count):
    """COUNT connections, each sending a ClientHello for SNI and waiting for the first bytes of
    an answer, all kept open until the end: prints how many were answered."""
    hello = client_hello(sni)
    wire = b"\x16\x03\x01" + struct.pack("!H", len(hello)) + hello
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    socks, ok = [], 0
    for _ in range(int(count)):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect((server, 443))
            s.sendall(wire)
            ok += bool(s.recv(1))
        except OSError:
            pass
        socks.append(s)
    print(ok)


cmd = sys.argv[1]
if cmd == "dns":
    dns(*sys.argv[2:5])
elif cmd == "dnstcp":
    dns(*sys.argv[2:5], tcp=True)
elif cmd == "dnsjunk":
    dns(*sys.argv[2:5], junk=True)
elif cmd == "dnsforge":
    dnsforge(*sys.argv[2:5])
elif cmd == "quic":
    quic(*sys.argv[2:5])
elif cmd == "rate":
    rate(*sys.argv[2:5])
elif cmd == "splitch":
    splitch(*sys.argv[2:5])
elif cmd == "hold":
    hold(*sys.argv[2:5])
elif cmd == "smallch":
    smallch(*sys.argv[2:6])
else:
    sys.exit(__doc__)
