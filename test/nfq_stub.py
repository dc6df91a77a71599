#!/usr/bin/env python3
"""nfq_stub.py - a stand-in for tlsgated's verdict side, for test/test_setup.sh.

It binds NFQUEUE queues over raw netfilter netlink (no library needed), logs every queued packet
as one line, and answers with the verdicts tlsgated will give, using the marks from
scripts/tlsgate-marks.env - so the test checks the rules tlsgate-setup installs against the
same contract the daemon relies on:

  NF_ACCEPT               undecided: the flow's next packets come to the queue again
  NF_REPEAT + PASS        the rules record PASS in the connmark; the rest never queues
  NF_REPEAT + BLOCK|DROP  recorded and this packet dropped; the rest dropped in the kernel
  NF_REPEAT + ADOPT       recorded; the rest goes to a local socket or is dropped

Rules: --rule tcp:443:pass@data means: for a TCP flow whose server port is 443, answer the
first client packet with payload with NF_REPEAT and the PASS mark (other triggers: syn = the
flow's first packet). The verdict mark keeps the packet's other mark bits, as tlsgated must.

Log line: q=Q hook=H proto src:sport>dst:dport flags=F len=N mark=0x.. verdict=V
"""
import argparse
import ipaddress
import os
import signal
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_PACKET = 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR, NFQA_MARK, NFQA_PAYLOAD = 1, 2, 3, 10
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NF_DROP, NF_ACCEPT, NF_REPEAT = 0, 1, 4
TCP_FLAGS = "FSRPAUEC"


def read_marks(path):
    marks = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            marks[key] = int(value, 0)
    return marks


def nla(atype, data):
    length = 4 + len(data)
    return struct.pack("=HH", length, atype) + data + b"\0" * (-length % 4)


def nfmsg(mtype, queue, attrs, flags=NLM_F_REQUEST, seq=0):
    body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack(">H", queue) + attrs
    hdr = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | mtype, flags, seq, 0)
    return hdr + body


def parse_attrs(data):
    attrs = {}
    off = 0
    while off + 4 <= len(data):
        length, atype = struct.unpack_from("=HH", data, off)
        if length < 4:
            break
        attrs[atype & 0x7FFF] = data[off + 4:off + length]
        off += (length + 3) & ~3
    return attrs


def bind_queue(sock, queue, seq):
    cmd = nla(NFQA_CFG_CMD, struct.pack(">BxH", NFQNL_CFG_CMD_BIND, 0))
    params = nla(NFQA_CFG_PARAMS, struct.pack(">IB", 0xFFFF, NFQNL_COPY_PACKET))
    for attrs in (cmd, params):
        sock.send(nfmsg(NFQNL_MSG_CONFIG, queue, attrs, NLM_F_REQUEST | NLM_F_ACK, seq))
        reply = sock.recv(65536)
        _, mtype, _, _, _ = struct.unpack_from("=IHHII", reply, 0)
        if mtype == NLMSG_ERROR:
            (err,) = struct.unpack_from("=i", reply, 16)
            if err != 0:
                raise OSError(-err, "binding queue %d: %s" % (queue, os.strerror(-err)))


def dissect(pkt):
    """(proto, src, sport, dst, dport, flags, payload_len) of an IPv4/IPv6 TCP/UDP packet."""
    version = pkt[0] >> 4
    if version == 4:
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack_from(">H", pkt, 2)[0]
        proto = pkt[9]
        src = str(ipaddress.IPv4Address(pkt[12:16]))
        dst = str(ipaddress.IPv4Address(pkt[16:20]))
        l4 = ihl
    else:
        total = 40 + struct.unpack_from(">H", pkt, 4)[0]
        proto = pkt[6]
        src = "[%s]" % ipaddress.IPv6Address(pkt[8:24])
        dst = "[%s]" % ipaddress.IPv6Address(pkt[24:40])
        l4 = 40
    if proto == 6:
        sport, dport = struct.unpack_from(">HH", pkt, l4)
        doff = (pkt[l4 + 12] >> 4) * 4
        fl = pkt[l4 + 13]
        flags = "".join(c for i, c in enumerate(TCP_FLAGS) if fl & (1 << i)) or "-"
        return "tcp", src, sport, dst, dport, flags, total - l4 - doff
    if proto == 17:
        sport, dport = struct.unpack_from(">HH", pkt, l4)
        return "udp", src, sport, dst, dport, "-", total - l4 - 8
    return "proto%d" % proto, src, 0, dst, 0, "-", 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--marks", required=True)
    ap.add_argument("--queues", default="0", help="comma list of queue numbers")
    ap.add_argument("--log", required=True)
    ap.add_argument("--rule", action="append", default=[])
    ap.add_argument("--ready", help="file created once the queues are bound")
    args = ap.parse_args()

    m = read_marks(args.marks)
    verdict_mask = m["TG_MARK_DECISION_MASK"] | m["TG_MARK_DROP"]
    actions = {
        "pass": m["TG_MARK_PASS"],
        "block": m["TG_MARK_BLOCK"] | m["TG_MARK_DROP"],
        "adopt": m["TG_MARK_ADOPT"],
    }
    rules = {}
    for r in args.rule:
        proto, port, act = r.split(":")
        action, _, trigger = act.partition("@")
        rules[(proto, int(port))] = (actions[action], action, trigger or "data")

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.bind((0, 0))
    for i, q in enumerate(int(x) for x in args.queues.split(",")):
        bind_queue(sock, q, i + 1)
    log = open(args.log, "a", buffering=1)
    if args.ready:
        open(args.ready, "w").close()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    while True:
        data = sock.recv(1 << 17)
        off = 0
        while off + 16 <= len(data):
            length, mtype, _, _, _ = struct.unpack_from("=IHHII", data, off)
            if length < 16:
                break
            msg = data[off:off + length]
            off += (length + 3) & ~3
            if mtype != (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                continue
            (queue,) = struct.unpack_from(">H", msg, 18)
            attrs = parse_attrs(msg[20:])
            pkt_id, _, hook = struct.unpack(">IHB", attrs[NFQA_PACKET_HDR][:7])
            mark = struct.unpack(">I", attrs[NFQA_MARK])[0] if NFQA_MARK in attrs else 0
            proto, src, sport, dst, dport, flags, plen = dissect(attrs[NFQA_PAYLOAD])

            verdict, vmark, vname = NF_ACCEPT, None, "accept"
            # The client side is the original direction: queued in PREROUTING (hook 0).
            rule = rules.get((proto, dport)) if hook == 0 else None
            if rule:
                bits, action, trigger = rule
                first = proto == "udp" or flags == "S"
                if (trigger == "syn" and first) or (trigger == "data" and plen > 0):
                    verdict, vmark, vname = NF_REPEAT, (mark & ~verdict_mask) | bits, action
            vattrs = nla(NFQA_VERDICT_HDR, struct.pack(">II", verdict, pkt_id))
            if vmark is not None:
                vattrs += nla(NFQA_MARK, struct.pack(">I", vmark))
            sock.send(nfmsg(NFQNL_MSG_VERDICT, queue, vattrs))
            log.write("q=%d hook=%d %s %s:%d>%s:%d flags=%s len=%d mark=0x%x verdict=%s\n" %
                      (queue, hook, proto, src, sport, dst, dport, flags, plen, mark, vname))


if __name__ == "__main__":
    main()
