#!/usr/bin/env python3
"""Crafted clients for the evasion suite (test/test_evasion.sh): the TCP segments, options, IPv6
extension headers and DNS packets that a filtering gateway must not be fooled by. Packets are
built with scapy and sent on raw sockets; replies are read from an AF_PACKET socket on the
client's interface. Run inside the client namespace. The crafted TCP connections use source
ports 40000-40999: the caller drops the client kernel's own RSTs for those ports (the kernel
knows no socket for them).

  evasion.py tls SERVER NAME [OPTIONS]   a real ClientHello for NAME (python's ssl) sent as
                                         crafted TCP segments; prints "answer" (the server's
                                         TLS handshake record arrived), "reset", "silent" or
                                         "no-synack" (nothing was tested).
                                         stderr: the time until the answer.
      --seg N            segments of N bytes (default: the whole record in one)
      --segs N           exactly N segments (sizes as equal as possible)
      --reorder          swap neighbouring segments (2 1 4 3 ...)
      --opt1             every data segment carries NOP NOP and an option of length 1 (22 01)
      --ext6 N           IPv6 only: N destination-options headers before TCP on data segments
      --sni NAME2        rewrite the server_name extension to NAME2 (any bytes, lengths fixed)
      --conflict WHERE ALT
                         two segments, split inside the name; the segment WHERE (held: the
                         first, last: the second) is sent twice, first as NAME, then at the
                         same sequence with ALT (same length) in its bytes
      --tfo              the ClientHello rides in the SYN (with a TFO cookie request), and is
                         sent again after the handshake as a client does when the server did
                         not take the SYN data
      --src ADDR         source address (default: the interface's)
      --timeout S        how long to wait for the answer (default 4)
  evasion.py flood SERVER SRC CONNS SECONDS
                         CONNS connections from SRC, each sending the first 40 bytes of a
                         ClientHello in 1-byte segments, all sent again and again for SECONDS;
                         prints "flood conns=N packets=M"
  evasion.py forge SERVER NAME ADDR      a DNS answer "NAME A ADDR" from source port 53 to
                                         SERVER:53 that no query asked for, IP TTL 1 (the
                                         router sees it, the server never does); prints "sent"
  evasion.py dnspipe SERVER NAME1 NAME2  two A queries on one TCP connection (the kernel's);
                                         prints "first=WHAT second=WHAT", WHAT being
                                         rcode=R,answers=N / reset / closed / silent
  evasion.py httppipe SERVER HOST1 HOST2 GET /a (Host HOST1) then GET /b (Host HOST2) on one
                                         keep-alive connection; prints "first=WHAT second=WHAT",
                                         WHAT being the status code and body's first line
                                         (403:..., 200:server - /b), reset, closed or silent
"""
import argparse
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, PadN
from scapy.packet import Raw

IFACE = "c0"
SPORT_LO, SPORT_HI = 40000, 40999  # the crafted connections' ports (test_evasion.sh's rule)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- ClientHello bytes ----------------------------------------------------------------------


def client_hello(name):
    """One TLS record holding the ClientHello python's ssl (OpenSSL) sends for NAME."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    rec = out.read()
    if rec[0] != 0x16 or len(rec) != 5 + struct.unpack("!H", rec[3:5])[0]:
        sys.exit("ssl did not produce one handshake record")
    return rec


def sni_offset(rec, name):
    """Offset of the host name inside the server_name extension of REC."""
    i = rec.find(name.encode())
    if i < 0:
        sys.exit(f"no {name} in the ClientHello")
    return i


def with_sni(rec, name):
    """REC with its server_name extension rebuilt for NAME (bytes as given, no checks),
    the extension, extensions, handshake and record lengths fixed."""
    hs = rec[5:]
    p = 4 + 2 + 32
    p += 1 + hs[p]  # session id
    p += 2 + struct.unpack("!H", hs[p:p + 2])[0]  # cipher suites
    p += 1 + hs[p]  # compression methods
    ext_start = p + 2
    ext_end = ext_start + struct.unpack("!H", hs[p:p + 2])[0]
    exts, q = b"", ext_start
    n = name.encode()
    while q < ext_end:
        typ, ln = struct.unpack("!HH", hs[q:q + 4])
        body = hs[q + 4:q + 4 + ln]
        if typ == 0:
            body = struct.pack("!HBH", len(n) + 3, 0, len(n)) + n
        exts += struct.pack("!HH", typ, len(body)) + body
        q += 4 + ln
    msg = hs[4:p] + struct.pack("!H", len(exts)) + exts + hs[ext_end:]
    hs = b"\x01" + struct.pack("!I", len(msg))[1:] + msg
    return rec[:3] + struct.pack("!H", len(hs)) + hs


# --- the wire ---------------------------------------------------------------------------------


def parse_frame(f):
    """(family, src, dst, sport, dport, seq, ack, flags, payload) of an Ethernet frame holding
    TCP, else None. Only what the lab's server and router send: no IPv6 extension headers."""
    if len(f) < 14:
        return None
    et = struct.unpack("!H", f[12:14])[0]
    if et == 0x0800 and len(f) >= 34:
        ihl = (f[14] & 15) * 4
        if f[23] != 6:
            return None
        tot = struct.unpack("!H", f[16:18])[0]
        src, dst = socket.inet_ntop(socket.AF_INET, f[26:30]), socket.inet_ntop(socket.AF_INET, f[30:34])
        t = f[14 + ihl:14 + tot]
        fam = 4
    elif et == 0x86DD and len(f) >= 54:
        if f[20] != 6:
            return None
        plen = struct.unpack("!H", f[18:20])[0]
        src = socket.inet_ntop(socket.AF_INET6, f[22:38])
        dst = socket.inet_ntop(socket.AF_INET6, f[38:54])
        t = f[54:54 + plen]
        fam = 6
    else:
        return None
    if len(t) < 20:
        return None
    sport, dport, seq, ack = struct.unpack("!HHII", t[:12])
    off = (t[12] >> 4) * 4
    return fam, src, dst, sport, dport, seq, ack, t[13], t[off:]


class Net:
    """Raw sockets out, one AF_PACKET socket in; replies dispatched to connections by their
    (address, port)."""

    def __init__(self):
        self.s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.rx.bind((IFACE, 0))
        self.rx.settimeout(0.2)
        self.conns = {}
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def send(self, pkt):
        raw = bytes(pkt)
        if isinstance(pkt, IPv6):
            self.s6.sendto(raw, (pkt.dst, 0))
        else:
            self.s4.sendto(raw, (pkt.dst, 0))

    def loop(self):
        while not self.stop:
            try:
                f, addr = self.rx.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            t = parse_frame(f)
            if t is None:
                continue
            c = self.conns.get((t[2], t[4]))
            if c is not None:
                c.incoming(t)

    def close(self):
        self.stop = True
        self.thread.join(1)


def local_addr(server):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((server, 9))
    a = s.getsockname()[0]
    s.close()
    return a


def next_port():
    """A source port no earlier invocation of this run used (40000-40199 are the flood's):
    a reused 4-tuple would meet the earlier connection's conntrack entry, and its decision
    (a BLOCK connmark drops the new SYN: no SYN-ACK). EVASION_PORTS names a counter file the
    test keeps for the run; without it, a random port."""
    path = os.environ.get("EVASION_PORTS")
    span = SPORT_HI - (SPORT_LO + 200) + 1
    if not path:
        return SPORT_LO + 200 + random.randrange(span)
    try:
        with open(path) as f:
            n = int(f.read() or 0)
    except (OSError, ValueError):
        n = 0
    with open(path, "w") as f:
        f.write(str(n + 1))
    return SPORT_LO + 200 + n % span



class Conn:
    """One crafted TCP connection's client side: what it sent, what came back."""

    def __init__(self, net, server, dport, src=None, sport=None, opt1=False, ext6=0):
        self.net, self.server, self.dport = net, server, dport
        self.src = src or local_addr(server)
        self.sport = sport or next_port()
        self.v6 = ":" in server
        self.opt1, self.ext6 = opt1, ext6
        self.isn = random.getrandbits(32)
        self.cond = threading.Condition()
        self.synack = None  # the server's ISN
        self.ack = None  # highest acknowledgment from the server
        self.rst = False
        self.data = {}  # server data by relative sequence number
        self.rcv_nxt = 0  # relative to the server's ISN + 1
        self.t_data = None
        net.conns[(self.src, self.sport)] = self

    def ip(self):
        if self.v6:
            return IPv6(src=self.src, dst=self.server)
        return IP(src=self.src, dst=self.server)

    def segment(self, flags, rel_seq, payload=b"", options=None, data_opts=True):
        """A segment at client sequence ISN + 1 + REL_SEQ (SYN: ISN)."""
        seq = (self.isn + 1 + rel_seq) & 0xFFFFFFFF if "S" not in flags else self.isn
        ack = 0
        if self.synack is not None:
            ack = (self.synack + 1 + self.rcv_nxt) & 0xFFFFFFFF
        tcp = TCP(sport=self.sport, dport=self.dport, seq=seq, ack=ack, flags=flags,
                  window=64240, options=options or [])
        ip = self.ip()
        if payload and data_opts and self.opt1:
            # The options area ends in an option whose length byte says 1: shorter than
            # its own kind and length. Linux stops parsing there and takes the segment.
            tcp.dataofs = 6
            tcp.options = []
            payload = b"\x01\x01\x22\x01" + payload
        if payload and data_opts and self.ext6 and self.v6:
            for _ in range(self.ext6):
                ip = ip / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 4)])
        return ip / tcp / Raw(payload) if payload else ip / tcp

    def incoming(self, t):
        _fam, _src, _dst, _sp, _dp, seq, ack, flags, payload = t
        with self.cond:
            if flags & 0x04:
                self.rst = True
            elif flags & 0x12 == 0x12:
                self.synack = seq
                self.ack = ack
            else:
                if flags & 0x10:
                    self.ack = ack
                if payload and self.synack is not None:
                    rel = (seq - self.synack - 1) & 0xFFFFFFFF
                    self.data.setdefault(rel, payload)
                    while self.rcv_nxt in self.data:
                        self.rcv_nxt += len(self.data[self.rcv_nxt])
                    if self.t_data is None:
                        self.t_data = time.monotonic()
            self.cond.notify_all()
        if payload and not flags & 0x04 and self.synack is not None:
            self.net.send(self.segment("A", self.sent_end()))

    def sent_end(self):
        return getattr(self, "_sent_end", 0)

    def stream(self):
        with self.cond:
            return b"".join(self.data[k] for k in sorted(self.data) if k < self.rcv_nxt)

    def acked(self, rel):
        """Has the server acknowledged client bytes up to REL?"""
        if self.ack is None:
            return False
        return ((self.ack - self.isn - 1 - rel) & 0xFFFFFFFF) < 0x80000000

    def wait(self, pred, timeout):
        with self.cond:
            return self.cond.wait_for(pred, timeout)

    def connect(self, syn_payload=b"", timeout=2):
        opts = [("MSS", 1460), ("SAckOK", b"")]
        if syn_payload:
            opts.append((34, b""))  # TFO cookie request
        syn = self.segment("S", 0, options=opts)
        if syn_payload:
            syn = syn / Raw(syn_payload)
        for _ in range(3):
            self.net.send(syn)
            if self.wait(lambda: self.synack is not None or self.rst, timeout / 3):
                break
        if self.synack is None:
            return False
        self.net.send(self.segment("A", 0))
        return True

    def close(self):
        """A FIN after the data, so that the server stops waiting for the rest of the
        handshake (a RST would meet the caller's rule that drops them)."""
        if not self.rst:
            self.net.send(self.segment("FA", self.sent_end()))

    def outcome(self):
        s = self.stream()
        if s[:2] == b"\x16\x03":
            return "answer"
        if self.rst:
            return "reset"
        return "silent" if not s else "other"


def send_segments(c, wire, segs, order, ack_wait=0.05):
    """Send WIRE cut at SEGS ((offset, length) pairs) in ORDER. Like a stack with a small
    window: after each segment, wait briefly for the server's ACK of everything sent in
    order; once an ACK does not come, stop waiting (no stall on a gateway that holds)."""
    sent = set()
    contiguous = 0
    waiting = True
    for i in order:
        off, ln = segs[i]
        c._sent_end = max(c.sent_end(), off + ln)
        c.net.send(c.segment("PA", off, wire[off:off + ln]))
        sent.add(i)
        while contiguous < len(segs) and contiguous in sent:
            contiguous += 1
        end = segs[contiguous - 1][0] + segs[contiguous - 1][1] if contiguous else 0
        if waiting and end:
            if not c.wait(lambda: c.acked(end) or c.rst or c.data, ack_wait):
                waiting = False
        elif not waiting:
            time.sleep(0.0005)
        if c.rst or c.data:
            break
    return waiting


def cut(total, seg=None, count=None):
    if count:
        base, extra = divmod(total, count)
        out, off = [], 0
        for i in range(count):
            ln = base + (1 if i < extra else 0)
            out.append((off, ln))
            off += ln
        return out
    seg = seg or total
    return [(o, min(seg, total - o)) for o in range(0, total, seg)]


def retransmit_until(c, wire, timeout):
    """Wait for the outcome; retransmit the first unacknowledged byte's segment once a second,
    as a stack's retransmission timer would."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if c.wait(lambda: c.rst or c.stream()[:1], min(1.0, max(0.0, end - time.monotonic()))):
            return
        if c.ack is not None:
            rel = (c.ack - c.isn - 1) & 0xFFFFFFFF
            if rel < len(wire):
                c.net.send(c.segment("PA", rel, wire[rel:rel + 64]))


def cmd_tls(a):
    net = Net()
    rec = client_hello(a.name)
    if a.sni:
        rec = with_sni(rec, a.sni)
    c = Conn(net, a.server, 443, src=a.src, sport=a.sport, opt1=a.opt1, ext6=a.ext6)
    t0 = time.monotonic()
    if a.tfo:
        ok = c.connect(syn_payload=rec)
        if ok:
            c._sent_end = len(rec)
            # The SYN-ACK did not acknowledge the SYN's data: send it again, in sequence.
            c.net.send(c.segment("PA", 0, rec))
    else:
        ok = c.connect()
    if not ok:
        if a.tfo and not c.rst:
            # The SYN carried the ClientHello: a gateway that drops it refused the name.
            print("silent")
            log("the SYN with data got no SYN-ACK")
        else:
            print("reset" if c.rst else "no-synack")
            log("the server's SYN-ACK never came: nothing was tested")
        net.close()
        return
    t0 = time.monotonic()
    note = ""
    if a.conflict:
        where, alt = a.conflict
        if len(alt) != len(a.name):
            sys.exit("--conflict: ALT must be as long as NAME")
        alt_rec = rec.replace(a.name.encode(), alt.encode())
        diff = next((i for i in range(len(a.name)) if a.name[i] != alt[i]), len(alt) // 2)
        at = sni_offset(rec, a.name)
        split = at + diff + 1 if where == "held" else at + diff
        segs = [(0, split), (split, len(rec) - split)]
        first, again = (0, 0) if where == "held" else (1, 1)
        order = [0, 1] if where == "last" else [0]
        for i in order:
            off, ln = segs[i]
            c._sent_end = off + ln
            c.net.send(c.segment("PA", off, rec[off:off + ln]))
            time.sleep(0.1)
        off, ln = segs[again]
        c.net.send(c.segment("PA", off, alt_rec[off:off + ln]))
        time.sleep(0.1)
        if where == "held":
            off, ln = segs[1]
            c._sent_end = off + ln
            c.net.send(c.segment("PA", off, rec[off:off + ln]))
        note = f" conflict in segment {first + 1} of 2"
        t_last = time.monotonic()
        retransmit_until(c, rec, a.timeout)
    else:
        segs = cut(len(rec), a.seg, a.segs)
        order = list(range(len(segs)))
        if a.reorder:
            for i in range(0, len(order) - 1, 2):
                order[i], order[i + 1] = order[i + 1], order[i]
        acks = send_segments(c, rec, segs, order)
        t_last = time.monotonic()
        note = f" {len(segs)} segments, ACKs {'kept coming' if acks else 'stopped coming'}"
        retransmit_until(c, rec, a.timeout)
    out = c.outcome()
    print(out)
    if c.t_data is not None:
        log(f"{len(rec)}-byte ClientHello,{note}: server data after {(c.t_data - t0) * 1000:.0f} ms "
            f"({max(0.0, c.t_data - t_last) * 1000:.0f} ms after the last segment)")
    else:
        log(f"{len(rec)}-byte ClientHello,{note}: {out} after {(time.monotonic() - t0) * 1000:.0f} ms")
    if not a.abandon:
        c.close()
    net.close()


def cmd_flood(a):
    net = Net()
    rec = client_hello("flood.test")
    conns = []
    for i in range(int(a.conns)):
        c = Conn(net, a.server, 443, src=a.src, sport=SPORT_LO + i)
        conns.append(c)
        net.send(c.segment("S", 0, options=[("MSS", 1460)]))
        time.sleep(0.002)
    deadline = time.monotonic() + 3
    for c in conns:
        c.wait(lambda: c.synack is not None, max(0.0, deadline - time.monotonic()))
    up = [c for c in conns if c.synack is not None]
    pkts = []
    for c in up:
        net.send(c.segment("A", 0))
        pkts += [bytes(c.segment("PA", o, rec[o:o + 1])) for o in range(40)]
    n = 0
    end = time.monotonic() + float(a.seconds)
    while pkts and time.monotonic() < end:
        for raw in pkts:
            net.s4.sendto(raw, (a.server, 0))
            n += 1
            if n % 500 == 0 and time.monotonic() >= end:
                break
    net.close()
    print(f"flood conns={len(up)} packets={n}")


def dns_query(name, qid):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 1, 1)


def cmd_forge(a):
    """An answer nobody asked for: NAME A ADDR, TTL 300, IP TTL 1 so the router sees it (its
    mangle PREROUTING queue comes before forwarding) and the server never does."""
    qid = random.getrandbits(16)
    msg = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + dns_query(a.name, 0)[12:]
    msg += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(a.addr)
    pkt = IP(src=local_addr(a.server), dst=a.server, ttl=1) / UDP(sport=53, dport=53) / Raw(msg)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(bytes(pkt), (a.server, 0))
    print("sent")


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b


def cmd_dnspipe(a):
    s = socket.create_connection((a.server, 53), timeout=3)
    out = []
    for i, name in enumerate((a.name1, a.name2)):
        q = dns_query(name, 0x4000 + i)
        try:
            s.sendall(struct.pack("!H", len(q)) + q)
            r = read_exact(s, struct.unpack("!H", read_exact(s, 2))[0])
            an = struct.unpack("!H", r[6:8])[0]
            out.append(f"rcode={r[3] & 15},answers={an}")
        except (ConnectionResetError, BrokenPipeError):
            out.append("reset")
            break
        except EOFError:
            out.append("closed")
            break
        except socket.timeout:
            out.append("silent")
            break
    while len(out) < 2:
        out.append("-")
    print(f"first={out[0]} second={out[1]}")


def http_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise EOFError
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split()[1]
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    first = body.decode("latin-1").split("\n")[0].strip()
    return f"{status}:{first}"


def cmd_httppipe(a):
    s = socket.create_connection((a.server, 80), timeout=3)
    out = []
    for path, host in (("/a", a.host1), ("/b", a.host2)):
        try:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: evasion\r\n\r\n".encode())
            out.append(http_response(s))
        except (ConnectionResetError, BrokenPipeError):
            out.append("reset")
            break
        except EOFError:
            out.append("closed")
            break
        except socket.timeout:
            out.append("silent")
            break
    while len(out) < 2:
        out.append("-")
    print(f"first={out[0]!r} second={out[1]!r}".replace("'", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tls")
    t.add_argument("server")
    t.add_argument("name")
    t.add_argument("--seg", type=int)
    t.add_argument("--segs", type=int)
    t.add_argument("--reorder", action="store_true")
    t.add_argument("--opt1", action="store_true")
    t.add_argument("--ext6", type=int, default=0)
    t.add_argument("--sni")
    t.add_argument("--conflict", nargs=2, metavar=("WHERE", "ALT"))
    t.add_argument("--tfo", action="store_true")
    t.add_argument("--src")
    t.add_argument("--timeout", type=float, default=4)
    t.add_argument("--sport", type=int, help="this source port (default: the run's next)")
    t.add_argument("--abandon", action="store_true", help="no FIN at the end: the client goes")
    f = sub.add_parser("flood")
    for n in ("server", "src", "conns", "seconds"):
        f.add_argument(n)
    g = sub.add_parser("forge")
    for n in ("server", "name", "addr"):
        g.add_argument(n)
    d = sub.add_parser("dnspipe")
    for n in ("server", "name1", "name2"):
        d.add_argument(n)
    h = sub.add_parser("httppipe")
    for n in ("server", "host1", "host2"):
        h.add_argument(n)
    a = ap.parse_args()
    {"tls": cmd_tls, "flood": cmd_flood, "forge": cmd_forge, "dnspipe": cmd_dnspipe,
     "httppipe": cmd_httppipe}[a.cmd](a)


if __name__ == "__main__":
    main()
