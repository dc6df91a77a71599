#!/usr/bin/env python3
"""tlsgatectl inspect: errors for unreadable input, and --policy adds the decision the policy
gives every flow (the same classifier `explain` and the daemon use).

Flows read as tlsgated reads them, in a capture written here: a conflicting retransmission and
data in a SYN are tcp_fail lines with their failure's decision, a server name that is no host
name is decided as invalid-name, every request head of a keep-alive connection and every query
of a DNS-over-TCP connection is a line until one is blocked.

Reads captures from ../shared/testdata/ja4/ in place (skipped when absent outside CI).
"""
import base64
import hashlib
import ipaddress
import json
import os
import ssl
import struct
import subprocess
import sys
import tempfile

src = os.environ.get("TG_SRC", os.path.join(os.path.dirname(__file__), ".."))
tool = os.path.join(os.environ.get("TG_BIN", os.path.join(src, "build", "bin")), "tlsgatectl")
content = os.path.join(src, "policy", "content")
cap = os.path.join(src, "..", "shared", "testdata", "ja4", "latest.pcapng")
passed = failed = 0


def check(what, cond):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


def run(*args):
    return subprocess.run([tool, "inspect", *args], capture_output=True, text=True)


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
    return out.read()


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, l4):
    a, b = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, a, b)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4


class Capture:
    """A raw-IP (linktype 101) pcap of crafted TCP flows; checksums of TCP are left zero."""

    def __init__(self):
        self.pkts = []

    def tcp(self, src, sport, dst, dport, seq, ack, flags, data=b""):
        t = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack, 5 << 4, flags,
                        65535, 0, 0)
        self.pkts.append(ip4(src, dst, 6, t + data))

    def flow(self, sport, dport, segs, isn=1000, src="10.9.0.1", dst="10.9.0.2"):
        """Handshake, then the client's SEGS: (offset from isn + 1, bytes)."""
        self.tcp(src, sport, dst, dport, isn, 0, 0x02)
        self.tcp(dst, dport, src, sport, 5000, isn + 1, 0x12)
        self.tcp(src, sport, dst, dport, isn + 1, 5001, 0x10)
        for off, data in segs:
            self.tcp(src, sport, dst, dport, isn + 1 + off, 5001, 0x18, data)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
            for i, p in enumerate(self.pkts):
                f.write(struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)) + p)


def dns_query(qid, name):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    m = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)
    return struct.pack("!H", len(m)) + m


def crafted(tmp):
    """The capture of crafted flows and the lines inspect --policy gives for it."""
    rec = client_hello("www.blocked.test")
    alt = rec.replace(b"www.blocked.test", b"www.blocked-test")
    at = rec.find(b"blocked.test") + 8
    bad = client_hello("badxname.example").replace(b"badxname", b"bad name")
    c = Capture()
    # A retransmission of the first segment with other bytes inside the name.
    c.flow(41001, 443, [(0, rec[:at]), (0, alt[:at]), (at, rec[at:])])
    c.flow(41002, 443, [(0, bad[:7]), (7, bad[7:])])
    c.flow(41003, 443, [(0, rec[:10]), (10, rec[10:])])
    # Data in the SYN (TCP Fast Open), then the ordinary handshake without it.
    c.tcp("10.9.0.1", 41004, "10.9.0.2", 443, 7000, 0, 0x02, rec)
    c.flow(41004, 443, [(0, rec)], isn=7000)
    body = b"POST /form HTTP/1.1\r\nHost: pass.test\r\nContent-Length: 4\r\n\r\nbodyGE"
    c.flow(41005, 80, [(0, body),
                       (len(body), b"T /b HTTP/1.1\r\nHost: pass.test\r\n\r\n"
                        b"GET /c HTTP/1.1\r\nHost: www.blocked.test\r\n\r\n"
                        b"GET /d HTTP/1.1\r\nHost: pass.test\r\n\r\n")])
    q = dns_query(1, "pass.test") + dns_query(2, "www.blocked.test") + dns_query(3, "pass.test")
    c.flow(41006, 53, [(0, q[:5]), (5, q[5:])])
    path = os.path.join(tmp, "crafted.pcap")
    c.write(path)
    pol = os.path.join(tmp, "crafted.json")
    with open(pol, "w") as f:
        json.dump({"version": 1, "settings": {"default_action": "no-decrypt",
                                              "fail": {"reassembly_conflict": "block",
                                                       "invalid_name": "block",
                                                       "tcp_fast_open": "block"}},
                   "filtering": [{"name": "block-test", "match": {"domains": [".blocked.test"]},
                                  "action": "block"}]}, f)
    r = run(path, "--policy", pol, "--content", content)
    check("crafted capture: exit 0 (%s)" % r.stderr.strip(), r.returncode == 0)
    return [json.loads(l) for l in r.stdout.splitlines()], run(path), pol


def name(l):
    """The name a line is about: SNI, Host, DNS question, else its failure."""
    for obj, key in (("tls", "sni"), ("http", "hostname"), ("dns", "rrname")):
        if obj in l:
            return l[obj].get(key)
    return l.get("fail")


def decided(lines, sport):
    return [(l.get("app_proto", "flow"), name(l), l["action"], l["reason"]) for l in lines
            if l["src_port"] == sport and "action" in l]


def community_id(l):
    """Community ID v1 (seed 0) of a line's flow, computed here from its addresses and ports."""
    proto = {"TCP": 6, "UDP": 17}[l["proto"]]
    a = (ipaddress.ip_address(l["src_ip"]).packed, l["src_port"])
    b = (ipaddress.ip_address(l["dest_ip"]).packed, l["dest_port"])
    if a > b:
        a, b = b, a
    raw = struct.pack("!H", 0) + a[0] + b[0] + struct.pack("!BBHH", proto, 0, a[1], b[1])
    return "1:" + base64.b64encode(hashlib.sha1(raw).digest()).decode()


def explain(*args):
    r = subprocess.run([tool, "explain", "--content", content, *args], capture_output=True,
                       text=True)
    return json.loads(r.stdout) if r.returncode == 0 else {}


with tempfile.TemporaryDirectory() as tmp:
    r = run(os.path.join(tmp, "missing.pcap"))
    check("missing file: exit 1", r.returncode == 1)
    check("missing file: says which file", "missing.pcap" in r.stderr)
    junk = os.path.join(tmp, "junk.pcap")
    with open(junk, "wb") as f:
        f.write(b"not a capture at all")
    r = run(junk)
    check("not a capture: exit 1 and an error", r.returncode == 1 and "junk.pcap" in r.stderr)
    r = subprocess.run([tool, "inspect"], capture_output=True, text=True)
    check("no file: usage, exit 2", r.returncode == 2 and "usage" in r.stderr)

    lines, plain, pol_crafted = crafted(tmp)
    got = decided(lines, 41001)
    check("conflicting retransmission: one failed flow, blocked as fail-conflict (%s)" % got,
          got == [("flow", "reassembly-conflict", "block", "fail-conflict")])
    got = decided(lines, 41002)
    check("server name with a space: fail-invalid-name (%s)" % got,
          got == [("tls", "bad name.example", "block", "fail-invalid-name")])
    got = decided(lines, 41003)
    check("ClientHello in two segments: blocked by the filtering rule (%s)" % got,
          got == [("tls", "www.blocked.test", "block", "filter-block")])
    got = decided(lines, 41004)
    check("data in a SYN: tcp-fast-open, then the retransmission's ClientHello (%s)" % got,
          got == [("flow", "tcp-fast-open", "block", "fail-tfo"),
                  ("tls", "www.blocked.test", "block", "filter-block")])
    got = decided(lines, 41005)
    check("keep-alive: each request head past a body until the blocked one (%s)" % got,
          got == [("http", "pass.test", "pass", "not-tls"), ("http", "pass.test", "pass", "not-tls"),
                  ("http", "www.blocked.test", "block", "filter-block")])
    got = decided(lines, 41006)
    check("dns over tcp: each query until the blocked one (%s)" % got,
          got == [("dns", "pass.test", "pass", "not-tls"),
                  ("dns", "www.blocked.test", "block", "filter-block")])
    types = [json.loads(l)["event_type"] for l in plain.stdout.splitlines()]
    check("without policy: every request and query, no decision (%s)" % types,
          types.count("http") == 4 and types.count("dns") == 3 and '"action"' not in plain.stdout)
    bad = [l for l in lines if "action" in l and l["event_type"] !=
           ("alert" if l["action"] == "block" else l.get("app_proto", "flow"))]
    check("event_type: alert for each block, else the app_proto (%s)" % bad[:1], not bad)
    bad = [l for l in lines + [json.loads(x) for x in plain.stdout.splitlines()]
           if l["community_id"] != community_id(l)]
    check("community_id: as computed here from each line's tuple (%s)" % bad[:1], not bad)
    fl = [l for l in lines if l["src_port"] == 41004]
    check("flow_id: the failed SYN's line and its flow's ClientHello line share it",
          len(fl) == 2 and fl[0]["flow_id"] == fl[1]["flow_id"]
          and fl[0]["flow_id"] != [l for l in lines if l["src_port"] == 41003][0]["flow_id"])
    # explain and inspect write one schema: the same flow, the same members.
    ins = [l for l in lines if l["src_port"] == 41003][0]
    exp = explain("--policy", pol_crafted, "--src", "10.9.0.1", "--sport", "41003", "--dst",
                  "10.9.0.2", "--dport", "443", "--sni", "www.blocked.test")
    check("explain and inspect: the same members for one flow (%s vs %s)"
          % (sorted(set(exp) ^ set(ins)), ins.get("tls")),
          set(exp) == set(ins) and exp["community_id"] == ins["community_id"]
          and exp["rule"] == ins["rule"] == "block-test" and exp["rule_path"] == "filtering[0]"
          and exp["event_type"] == ins["event_type"] == "alert")

    if not os.path.exists(cap):
        if os.environ.get("CI"):
            print(f"shared capture missing: {cap}")
            print(f"{passed} passed, {failed + 1} failed")
            sys.exit(1)
        print(f"{passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)

    pol = os.path.join(tmp, "p.json")
    with open(pol, "w") as f:
        json.dump({"version": 1, "settings": {"default_action": "decrypt"},
                   "filtering": [{"name": "no-slack", "match": {"domains": [".slack.com"]},
                                  "action": "block"}]}, f)
    r = run(cap, "--policy", pol, "--content", content)
    check("with policy: exit 0", r.returncode == 0)
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    tls = [l for l in lines if l.get("app_proto") == "tls"]
    queries = [l for l in lines if "dns" in l and l["dns"]["type"] == "query"]
    check("with policy: every ClientHello has a decision", tls and all("action" in l for l in tls))
    check("with policy: every DNS query has a decision", queries and all("action" in l for l in queries))
    check("with policy: DNS responses have none",
          all("action" not in l for l in lines if "dns" in l and l["dns"]["type"] == "answer"))
    slack = [l for l in tls if l["tls"].get("sni") == "app.slack.com"]
    check("app.slack.com blocked by rule no-slack, an alert",
          slack and slack[0]["action"] == "block" and slack[0]["rule"] == "no-slack"
          and slack[0]["event_type"] == "alert")
    other = [l for l in tls if l["tls"].get("sni") and not l["tls"]["sni"].endswith("slack.com")]
    check("other names decrypted by default",
          other and all(l["action"] == "decrypt" and l["reason"] == "default"
                        and l["event_type"] == "tls" for l in other))
    r2 = run(cap)
    check("without policy: no decision field", r2.returncode == 0 and '"action"' not in r2.stdout)
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"version": 2}')
    r = run(cap, "--policy", bad, "--content", content)
    check("bad policy: exit 1 with the policy error", r.returncode == 1 and "version" in r.stderr
          and r.stdout == "")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
