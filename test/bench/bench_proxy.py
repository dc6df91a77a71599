#!/usr/bin/env python3
"""bench_proxy.py - the server, the client load and the /proc readings of bench_proxy.sh.

The server and the clients are the same for every proxy measured (and for the run without one),
so the proxies are compared under the same load. Every client result is one JSON line.

  bench_proxy.py serve CERT KEY STATE_DIR ADDR [--procs K] [--tls13]
      HTTPS on ADDR:443, K processes (SO_REUSEPORT), a thread per connection, HTTP/1.1 with
      keep-alive. GET / answers "r=<1 if this handshake resumed> v=<version> c=<cipher>", so
      the client learns what happened on the upstream leg; GET /bytes/N answers N bytes.
      While STATE_DIR/resume exists, the server resumes sessions (tickets and a session
      cache); otherwise every connection gets a fresh context (nothing can be resumed).
  bench_proxy.py seq ADDR SNI CAFILE N new|resumed [--src IP] [--issuer CN] [--cpu-pid PID]
      N connections one after another, each a tiny GET (Connection: close). resumed: one
      priming connection first (not counted), then each connection offers the last session.
      With --cpu-pid: PID's process tree's CPU ms per connection over the N.
  bench_proxy.py rate ADDR SNI CAFILE SECONDS new|resumed --src IP[,IP...] [--issuer CN]
                  [--cpu-pid PID]
      one client process per source address, connections as in seq, for SECONDS; with
      --cpu-pid, also the CPUs that PID's process tree kept busy over the same SECONDS.
  bench_proxy.py hold ADDR SNI CAFILE COUNT --src IP[,IP...] [--issuer CN]
      COUNT connections (source addresses in turn), each one GET with keep-alive, then held
      idle: prints one line when they are all up, and holds them until killed.
  bench_proxy.py get ADDR SNI CAFILE BYTES [--issuer CN] [--cpu-pid PID]
      one download of BYTES bytes: MB/s from the request to the last byte (and PID's process
      tree's CPU seconds per GB).
  bench_proxy.py table DIR "PEER..." TITLE AES_MBPS
      the table of the results bench_proxy.sh left in DIR (PEER.PHASE.json).
  bench_proxy.py procs PID
      "CPU_SECONDS RSS_KB NPROCS" of PID and all its descendants: utime+stime (and
      cutime+cstime: the children they reaped) from /proc/*/stat, VmRSS from /proc/*/status.

Common options: --tls13 lets client and server speak TLS 1.3; without it both stop at TLS 1.2
(tlsgate, on mbedTLS 2.28, speaks only TLS 1.2). --kernel-ports: the kernel chooses the source
ports (by default a client cycles through its own, see PORT_LO).
"""
import errno
import json
import multiprocessing
import os
import signal
import socket
import ssl
import sys
import threading
import time

# TLS 1.2: AES-128-GCM first on both sides (what bench_tls measures), for every peer.
CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384"
CHUNK = 1 << 20
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
# Source ports. A client's ports go round a cycle, PORTS_PER_S ports further each second, so no
# 4-tuple comes back within (PORT_HI - PORT_LO) / PORTS_PER_S = 50 s while a client makes fewer
# connections than that per second and source address. The kernel's own choice (--kernel-ports)
# does reuse a 4-tuple within seconds at the rates measured here, and a tlsgate that keeps a
# finished interception's connmark for it drops the new SYNs until conntrack forgets it.
PORT_LO, PORT_HI, PORTS_PER_S = 10000, 60000, 1000
KERNEL_PORTS = False
SLOW_MS = 1000  # a connection slower than this is a stall worth reporting


def opts(args, name, default=None, flag=False):
    if name not in args:
        return default
    i = args.index(name)
    if flag:
        del args[i]
        return True
    v = args[i + 1]
    del args[i:i + 2]
    return v


def limit(ctx, tls13):
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not tls13:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(CIPHERS)


# --- server ---


def serve(cert, key, state, addr, procs, tls13):
    def new_ctx(resume):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        limit(ctx, tls13)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["http/1.1"])
        if not resume:
            ctx.options |= ssl.OP_NO_TICKET
        return ctx

    resume_ctx = new_ctx(True)
    zeros = memoryview(bytes(CHUNK))
    resume_flag = os.path.join(state, "resume")

    def conn(raw):
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # A fresh context per connection has an empty session cache and its own ticket
            # keys: nothing a client or a proxy offers can be resumed.
            ctx = resume_ctx if os.path.exists(resume_flag) else new_ctx(False)
            s = ctx.wrap_socket(raw, server_side=True)
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 2 else "/"
                close = any(l.lower().replace(" ", "") == "connection:close" for l in lines[1:])
                if path.startswith("/bytes/"):
                    n = int(path[7:])
                    body = None
                else:
                    body = ("r=%d v=%s c=%s\n" % (s.session_reused, s.version(), s.cipher()[0])).encode()
                    n = len(body)
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                          b"Content-Length: %d\r\n%s\r\n" % (n, b"Connection: close\r\n" if close else b""))
                if body is not None:
                    s.sendall(body)
                else:
                    while n > 0:
                        k = min(n, CHUNK)
                        s.sendall(zeros[:k])
                        n -= k
                if close:
                    return
        except (OSError, ValueError, IndexError):
            pass
        finally:
            raw.close()

    def listener():
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        ls.bind((addr, 443))
        ls.listen(4096)
        return ls

    socks = [listener() for _ in range(procs)]  # all bound before anyone reports ready
    for i in range(1, procs):
        if os.fork() == 0:
            socks = [socks[i]]
            break
    else:
        socks = socks[:1]
        open(os.path.join(state, "server.ready"), "w").close()
    ls = socks[0]
    while True:
        raw, _ = ls.accept()
        threading.Thread(target=conn, args=(raw,), daemon=True).start()


# --- clients ---


def leg(version, cipher):
    """"TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256" -> "1.2 AES128-GCM", "TLSv1.3",
    "TLS_AES_256_GCM_SHA384" -> "1.3 AES_256_GCM" (short, for the table)."""
    cipher = (cipher or "?").replace("ECDHE-ECDSA-", "").replace("ECDHE-RSA-", "")
    for suffix in ("-SHA256", "-SHA384", "_SHA256", "_SHA384"):
        cipher = cipher[:-len(suffix)] if cipher.endswith(suffix) else cipher
    return "%s %s" % ((version or "?").replace("TLSv", ""), cipher.replace("TLS_", ""))


class Client:
    def __init__(self, addr, sni, cafile, tls13, issuer):
        self.addr, self.sni, self.issuer = addr, sni, issuer
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        limit(self.ctx, tls13)
        self.ctx.load_verify_locations(cafile)
        self.ctx.set_alpn_protocols(["http/1.1"])
        self.session = None
        self.ports = {}  # source address -> its next port (bind)
        self.lock = threading.Lock()
        self.ok = 0
        self.errors = {}
        self.resumed = 0  # client leg
        self.up_resumed = 0  # upstream leg (what the server saw)
        self.wrong_issuer = 0
        self.client_leg = self.upstream_leg = "-"
        self.max_ms = 0.0  # the slowest connection (a stall shows here)
        self.slow = []  # the first connections over SLOW_MS: where their time went

    def error(self, e):
        k = type(e).__name__ + ": " + str(e)[:80]
        self.errors[k] = self.errors.get(k, 0) + 1

    def bind(self, raw, src):
        """Bind to the next port of @src's cycle (ports_cycle), or let the kernel choose."""
        if KERNEL_PORTS:
            # chosen at connect(), as for a client that binds no address
            raw.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            raw.bind((src, 0))
            return
        for _ in range(100):
            with self.lock:
                port = self.ports.get(src)
                if port is None:
                    # where the cycle is now: a later run starts PORTS_PER_S ports further on
                    port = int(time.time() * PORTS_PER_S)
                self.ports[src] = port + 1
            try:
                raw.bind((src, PORT_LO + port % (PORT_HI - PORT_LO)))
                return
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
        raise OSError(errno.EADDRINUSE, "no free port for %s" % src)

    def connect(self, src, resume):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            raw.settimeout(30)
            if src:
                self.bind(raw, src)
            raw.connect((self.addr, 443))
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s = self.ctx.wrap_socket(raw, server_hostname=self.sni,
                                     session=self.session if resume else None)
        except BaseException:
            raw.close()
            raise
        return s

    def request(self, s, path, close):
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" %
                   (path, self.sni, "Connection: close\r\n" if close else "")).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise ConnectionError("EOF in the response head")
            buf += d
        head, body = buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 200"):
            raise ConnectionError("answer " + head[:40].decode("latin-1"))
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        return head, body, n

    def tiny(self, src, resume, close=True):
        """One connection with one tiny GET; the socket (still open) or None."""
        s = None
        t0 = time.monotonic()
        try:
            s = self.connect(src, resume)
            t1 = time.monotonic()
            _, body, n = self.request(s, "/", close)
            while len(body) < n:
                d = s.recv(65536)
                if not d:
                    raise ConnectionError("EOF in the body")
                body += d
            self.note(s, body.decode())
            t2 = time.monotonic()
            self.max_ms = max(self.max_ms, (t2 - t0) * 1000)
            if (t2 - t0) * 1000 > SLOW_MS and len(self.slow) < 5:
                self.slow.append("%s:%d at %.3f: connect+handshake %.0f ms, GET %.0f ms" % (
                    src or "-", s.getsockname()[1], time.time(), (t1 - t0) * 1000, (t2 - t1) * 1000))
            self.session = s.session
            if close:
                s.close()
                return None
            return s
        except (OSError, ValueError, ssl.SSLError) as e:
            self.error(e)
            if s is not None:
                s.close()
            return None

    def note(self, s, body):
        f = dict(kv.split("=", 1) for kv in body.split())
        self.ok += 1
        self.resumed += s.session_reused
        self.up_resumed += f.get("r") == "1"
        self.client_leg = leg(s.version(), s.cipher()[0])
        self.upstream_leg = leg(f.get("v"), f.get("c"))
        if self.issuer:
            cert = s.getpeercert() or {}
            cn = [v for rdn in cert.get("issuer", ()) for k, v in rdn if k == "commonName"]
            if self.issuer not in cn:
                self.wrong_issuer += 1

    def result(self, **extra):
        r = {"ok": self.ok, "resumed": self.resumed, "up_resumed": self.up_resumed,
             "wrong_issuer": self.wrong_issuer, "client_leg": self.client_leg,
             "upstream_leg": self.upstream_leg, "max_ms": self.max_ms, "slow": self.slow,
             "errors": self.errors}
        r.update(extra)
        return r


def proxy_cpu(cpu_pid):
    """The CPU seconds of the proxy's process tree, or 0 without one. After a measured window,
    CPU_SETTLE lets the proxy finish with the last connection first."""
    return procs_cpu(int(cpu_pid)) if cpu_pid else 0.0


CPU_SETTLE = 0.3


def seq(c, n, mode, src, cpu_pid):
    if mode == "resumed":
        c.tiny(src, False)
        c.ok = c.resumed = c.up_resumed = 0
    c0 = proxy_cpu(cpu_pid)
    t0 = time.monotonic()
    for _ in range(n):
        c.tiny(src, mode == "resumed")
    dt = time.monotonic() - t0
    time.sleep(CPU_SETTLE if cpu_pid else 0)
    cpu = proxy_cpu(cpu_pid) - c0
    return c.result(n=n, seconds=dt, ms_per_conn=dt * 1000 / max(n, 1),
                    proxy_cpu_ms=cpu * 1000 / max(c.ok, 1) if cpu_pid else None)


def rate_one(args, start, secs, mode, src, q):
    c = Client(*args)
    if mode == "resumed":
        c.tiny(src, False)
        c.ok = c.resumed = c.up_resumed = 0
    time.sleep(max(0.0, start - time.time()))
    end = time.monotonic() + secs
    while time.monotonic() < end:
        c.tiny(src, mode == "resumed")
    q.put(c.result())


def rate(args, secs, mode, srcs, cpu_pid):
    q = multiprocessing.Queue()
    start = time.time() + 2.0  # every client is up (and primed) by then
    ps = [multiprocessing.Process(target=rate_one, args=(args, start, secs, mode, s, q))
          for s in srcs]
    for p in ps:
        p.start()
    busy = None
    if cpu_pid:
        # The proxy's CPU over the clients' common window, priming and start-up left out.
        time.sleep(max(0.0, start - time.time()))
        c0 = procs_cpu(int(cpu_pid))
        time.sleep(secs)
        busy = (procs_cpu(int(cpu_pid)) - c0) / secs
    rs = [q.get() for _ in ps]
    for p in ps:
        p.join()
    total = Client(*args).result()
    for r in rs:
        for k in ("ok", "resumed", "up_resumed", "wrong_issuer"):
            total[k] += r[k]
        total["max_ms"] = max(total["max_ms"], r["max_ms"])
        total["slow"] += r["slow"]
        for k, v in r["errors"].items():
            total["errors"][k] = total["errors"].get(k, 0) + v
        total["client_leg"], total["upstream_leg"] = r["client_leg"], r["upstream_leg"]
    total["clients"] = len(srcs)
    total["seconds"] = secs
    total["per_second"] = total["ok"] / secs
    total["proxy_cpus"] = busy
    return total


def hold(c, count, srcs):
    held = []
    lock = threading.Lock()
    todo = list(range(count))

    def opener():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            s = c.tiny(srcs[i % len(srcs)], False, close=False)
            if s is not None:
                with lock:
                    held.append(s)

    t0 = time.monotonic()
    ts = [threading.Thread(target=opener) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(c.result(held=len(held), count=count, seconds=time.monotonic() - t0)),
          flush=True)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    while True:
        signal.pause()


def get(c, nbytes, cpu_pid):
    s = c.connect(None, False)
    c0 = proxy_cpu(cpu_pid)
    t0 = time.monotonic()
    _, body, n = c.request(s, "/bytes/%d" % nbytes, True)
    got = len(body)
    buf = bytearray(CHUNK)
    while got < n:
        k = s.recv_into(buf)
        if not k:
            raise ConnectionError("EOF after %d of %d bytes" % (got, n))
        got += k
    dt = time.monotonic() - t0
    c.ok = 1
    c.client_leg = leg(s.version(), s.cipher()[0])
    s.close()
    time.sleep(CPU_SETTLE if cpu_pid else 0)
    cpu = proxy_cpu(cpu_pid) - c0
    return c.result(bytes=got, seconds=dt, mb_per_s=got / dt / 1e6,
                    proxy_cpu_s_per_gb=cpu / (got / 1e9) if cpu_pid else None)


# --- /proc ---


def procs_cpu(root):
    return float(procs(root).split()[0])


def procs(root):
    tick = os.sysconf("SC_CLK_TCK")
    stat, kids = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                f = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(d), int(f[1])
        # fields after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
        stat[pid] = sum(int(x) for x in f[11:15])
        kids.setdefault(ppid, []).append(pid)
    todo, tree = [root], []
    while todo:
        p = todo.pop()
        if p in stat:
            tree.append(p)
            todo.extend(kids.get(p, []))
    cpu = sum(stat[p] for p in tree) / tick
    rss = 0
    for p in tree:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        except OSError:
            pass
    return "%.3f %d %d" % (cpu, rss, len(tree))


# --- the table ---

ROWS = [
    ("setting", "setting"),
    ("nprocs", "processes measured"),
    ("client_leg", "client leg (TLS, cipher)"),
    ("upstream_leg", "upstream leg"),
    ("cpu_new", "CPU ms / new handshake"),
    ("cpu_res", "CPU ms / resumed handshake"),
    ("res_new", "resumed client+upstream, new"),
    ("res_res", "resumed client+upstream, resumed"),
    ("ms_new", "wall ms / connection, new"),
    ("ms_res", "wall ms / connection, resumed"),
    ("hs_new", "handshakes/s, new"),
    ("load_new", "proxy CPUs busy, new"),
    ("hs_res", "handshakes/s, resumed"),
    ("load_res", "proxy CPUs busy, resumed"),
    ("rss", "RSS MB before holding"),
    ("held", "idle connections held"),
    ("kb_idle", "KB / idle connection"),
    ("mbps", "download MB/s"),
    ("cpu_gb", "proxy CPU s / GB downloaded"),
    ("failed", "failed connections (all phases)"),
]


def peer_rows(d, p, notes):
    def load(phase):
        try:
            with open(os.path.join(d, "%s.%s.json" % (p, phase))) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def fmt(v, f):
        return "-" if v is None else f % v

    info, new, res, rnew, rres = (load(x) for x in ("info", "new", "resumed", "rate-new", "rate-resumed"))
    hold, dl = load("hold"), load("download")
    r = {"setting": info.get("setting", "-"), "nprocs": fmt(info.get("nprocs"), "%d"),
         "client_leg": new.get("client_leg", "-"), "upstream_leg": new.get("upstream_leg", "-"),
         "cpu_new": fmt(new.get("proxy_cpu_ms"), "%.2f"), "cpu_res": fmt(res.get("proxy_cpu_ms"), "%.2f"),
         "ms_new": fmt(new.get("ms_per_conn"), "%.2f"), "ms_res": fmt(res.get("ms_per_conn"), "%.2f"),
         "hs_new": fmt(rnew.get("per_second"), "%.0f"), "load_new": fmt(rnew.get("proxy_cpus"), "%.2f"),
         "hs_res": fmt(rres.get("per_second"), "%.0f"), "load_res": fmt(rres.get("proxy_cpus"), "%.2f"),
         "mbps": fmt(dl.get("mb_per_s"), "%.0f"), "cpu_gb": fmt(dl.get("proxy_cpu_s_per_gb"), "%.2f")}
    for k, x in (("res_new", new), ("res_res", res)):
        r[k] = "%d+%d/%d" % (x["resumed"], x["up_resumed"], x["ok"]) if x else "-"
    r["both_resumed"] = bool(res) and res["ok"] > 0 and res["resumed"] == res["up_resumed"] == res["ok"]
    r["held"] = "%d/%d" % (hold["held"], hold["count"]) if hold else "-"
    r["rss"] = fmt(hold.get("rss0_kb", 0) / 1024 if info.get("nprocs") else None, "%.1f")
    r["kb_idle"] = "-"
    if hold and info.get("nprocs") and hold["held"]:
        r["kb_idle"] = "%.1f" % ((hold["rss1_kb"] - hold["rss0_kb"]) / hold["held"])
    failed = 0
    for phase in ("warm-up", "new", "rate-new", "warm-up-resumed", "resumed", "rate-resumed", "hold",
                  "download"):
        x = load(phase)
        if x.get("errors"):
            failed += sum(x["errors"].values())
            notes.append("%s %s: failed: %s" % (p, phase, json.dumps(x["errors"])))
        if x.get("slow"):
            notes.append("%s %s: connections over %d ms (slowest %.0f ms): %s" % (
                p, phase, SLOW_MS, x["max_ms"], "; ".join(x["slow"][:3])))
        if x.get("wrong_issuer"):
            notes.append("%s %s: %d certificates not from the expected CA" % (p, phase, x["wrong_issuer"]))
    r["failed"] = str(failed)
    return r


def table(d, peers, title, aes):
    notes = []
    cols = {p: peer_rows(d, p, notes) for p in peers}
    print("== bench_proxy: " + title)
    print("%-34s" % "metric" + "".join(" %-16s" % p for p in peers))
    for key, label in ROWS:
        print("%-34s" % label + "".join(" %-16s" % cols[p][key] for p in peers))

    def num(p, k):
        try:
            return float(cols[p][k]) if p in cols else None
        except ValueError:
            return None

    def ratio(a, b):
        return "-" if a is None or not b else "%.3f" % (a / b)

    try:
        aes_mbps = float(aes)
    except ValueError:
        aes_mbps = None
    both = cols.get("tlsgate", {}).get("both_resumed")
    print()
    print("tlsgate CPU per new handshake / squid's:              %-7s (target <= 0.5)" %
          ratio(num("tlsgate", "cpu_new"), num("squid", "cpu_new")))
    print("tlsgate CPU per resumed handshake / squid's new:      %-7s (target <= 0.15)%s" %
          (ratio(num("tlsgate", "cpu_res"), num("squid", "cpu_new")),
           "" if both else "  NOT both legs resumed every time: " + cols.get("tlsgate", {}).get("res_res", "-")))
    print("tlsgate KB per idle connection:                       %-7s (target <= 80)" %
          cols.get("tlsgate", {}).get("kb_idle", "-"))
    print("tlsgate download MB/s / bench_tls AES-128-GCM MB/s:   %-7s (bench_tls: %s MB/s record "
          "encryption on one core; a proxy decrypts and encrypts each byte)" %
          (ratio(num("tlsgate", "mbps"), aes_mbps), aes))
    try:
        with open(os.path.join(d, "notes.txt")) as f:
            notes += [line.rstrip("\n") for line in f]
    except OSError:
        pass
    if notes:
        print("\nnotes:")
        for line in notes:
            print("  " + line)


def main():
    a = sys.argv[1:]
    global KERNEL_PORTS
    tls13 = opts(a, "--tls13", flag=True) or False
    KERNEL_PORTS = opts(a, "--kernel-ports", flag=True) or False
    src = opts(a, "--src")
    issuer = opts(a, "--issuer")
    nprocs = int(opts(a, "--procs", "2"))
    cpu_pid = opts(a, "--cpu-pid")
    cmd = a[0] if a else ""
    if cmd == "serve":
        serve(a[1], a[2], a[3], a[4], nprocs, tls13)
        return
    if cmd == "table":
        table(a[1], a[2].split(), a[3], a[4])
        return
    if cmd == "procs":
        print(procs(int(a[1])))
        return
    if cmd not in ("seq", "rate", "hold", "get"):
        sys.exit(__doc__)
    args = (a[1], a[2], a[3], tls13, issuer)
    if cmd == "rate":
        r = rate(args, float(a[4]), a[5], src.split(","), cpu_pid)
    else:
        c = Client(*args)
        if cmd == "seq":
            r = seq(c, int(a[4]), a[5], src, cpu_pid)
        elif cmd == "hold":
            hold(c, int(a[4]), src.split(","))
            return
        else:
            try:
                r = get(c, int(a[4]), cpu_pid)
            except (OSError, ValueError, ssl.SSLError) as e:
                c.error(e)
                r = c.result(bytes=0, seconds=0, mb_per_s=0)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
