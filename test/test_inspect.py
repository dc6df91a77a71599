#!/usr/bin/env python3
"""tlsgatectl inspect: errors for unreadable input, and --policy adds the decision the policy
gives every flow (the same classifier `explain` and the daemon use).

Reads captures from ../shared/testdata/ja4/ in place (skipped when absent outside CI).
"""
import json
import os
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
    tls = [l for l in lines if l["type"] == "tls"]
    queries = [l for l in lines if l["type"] == "dns" and not l["response"]]
    check("with policy: every ClientHello has a decision", tls and all("decision" in l for l in tls))
    check("with policy: every DNS query has a decision", queries and all("decision" in l for l in queries))
    check("with policy: DNS responses have none",
          all("decision" not in l for l in lines if l["type"] == "dns" and l["response"]))
    slack = [l for l in tls if l["sni"] == "app.slack.com"]
    check("app.slack.com blocked by rule no-slack",
          slack and slack[0]["decision"]["action"] == "block"
          and slack[0]["decision"]["rule"] == "no-slack")
    other = [l for l in tls if l["sni"] and not l["sni"].endswith("slack.com")]
    check("other names decrypted by default",
          other and all(l["decision"]["action"] == "decrypt" and l["decision"]["reason"] == "default"
                        for l in other))
    r2 = run(cap)
    check("without policy: no decision field", r2.returncode == 0 and '"decision"' not in r2.stdout)
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"version": 2}')
    r = run(cap, "--policy", bad, "--content", content)
    check("bad policy: exit 1 with the policy error", r.returncode == 1 and "version" in r.stderr
          and r.stdout == "")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
