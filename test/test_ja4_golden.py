#!/usr/bin/env python3
"""Golden test: `tlsgatectl inspect` over the third-party captures in ../shared/testdata/ja4/.

For every TLS stream listed with a fingerprint in the JSON file beside each capture, inspect must
report a "tls" line for the same client/server tuple with the same server name (`domain` -> sni),
the same JA4 (`JA4.1` -> ja4) and the same raw JA4 (`JA4_r.1` -> ja4_r). Captures without
fingerprints (HTTP, QUIC, tunnels, malformed traffic) must be inspected without a crash and with
exit status 0. The captures are read in place; they are not part of the repository.
"""
import glob
import ipaddress
import json
import os
import subprocess
import sys

src = os.environ.get("TG_SRC", os.path.join(os.path.dirname(__file__), ".."))
tool = os.path.join(os.environ.get("TG_BIN", os.path.join(src, "build", "bin")), "tlsgatectl")
data = os.path.join(src, "..", "shared", "testdata", "ja4")

if not os.path.isdir(data):
    if os.environ.get("CI"):
        print(f"shared test data missing: {data}")
        print("0 passed, 1 failed")
        sys.exit(1)
    print(f"skipped: {data} not present")
    sys.exit(77)


def norm(addr):
    return str(ipaddress.ip_address(addr))


passed = failed = 0
streams = 0
for cap in sorted(glob.glob(os.path.join(data, "*.pcap*"))):
    if cap.endswith(".json"):
        continue
    name = os.path.basename(cap)
    r = subprocess.run([tool, "inspect", cap], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {name}: exit {r.returncode}: {r.stderr.strip()}")
        failed += 1
        continue
    seen = {}
    for line in r.stdout.splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"FAIL {name}: output is not JSON: {e}: {line[:200]}")
            failed += 1
            continue
        if obj.get("event_type") == "tls":
            key = (norm(obj["src_ip"]), obj["src_port"], norm(obj["dest_ip"]), obj["dest_port"])
            seen.setdefault(key, obj["tls"])
    exp_path = cap + ".json"
    if not os.path.exists(exp_path):
        passed += 1
        continue
    with open(exp_path) as f:
        expected = json.load(f)
    for s in expected:
        if "JA4.1" not in s:
            continue
        streams += 1
        key = (norm(s["src"]), int(s["srcport"]), norm(s["dst"]), int(s["dstport"]))
        got = seen.get(key)
        where = f"{name} stream {s['stream']} {key}"
        if got is None:
            print(f"FAIL {where}: no ClientHello reported")
            failed += 1
            continue
        problems = []
        if got.get("sni") != s.get("domain"):
            problems.append(f"sni {got.get('sni')!r} != {s.get('domain')!r}")
        if got.get("ja4") != s["JA4.1"]:
            problems.append(f"ja4 {got.get('ja4')} != {s['JA4.1']}")
        if "JA4_r.1" in s and got.get("ja4_r") != s["JA4_r.1"]:
            problems.append(f"ja4_r {got.get('ja4_r')} != {s['JA4_r.1']}")
        if problems:
            print(f"FAIL {where}: " + "; ".join(problems))
            failed += 1
        else:
            passed += 1

print(f"{streams} TLS streams checked")
if streams < 140:
    print(f"FAIL: expected at least 140 fingerprinted streams, found {streams}")
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
