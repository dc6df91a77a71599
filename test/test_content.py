#!/usr/bin/env python3
"""test_content.py - the content package (policy/content) and its scripts.

Checks that check-content accepts the shipped package and rejects broken copies with precise
messages, that the JSON Schemas accept the shipped files and reject bad ones, that import-ut1
converts a synthetic UT1 tree into the expected TSV (invalid lines skipped and counted), that
update-m365 reproduces the shipped m365.json from the stored Microsoft input and rejects broken
inputs with precise errors, and that the category sample parses. Prints 'N passed, N failed';
exit 0 when all pass, 1 otherwise, 77 (skip) only if python3-jsonschema is missing.
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("TG_SRC") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(SRC, "scripts")
CONTENT = os.path.join(SRC, "policy", "content")
M365_INPUT = os.path.join(SRC, "test", "data", "m365", "worldwide.json")
sys.path.insert(0, SCRIPTS)
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import tgcontent as tc  # noqa: E402

try:
    import jsonschema
    from referencing import Registry, Resource
except ImportError:
    print("test_content: python3-jsonschema is not installed")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(77)

PASSED = 0
FAILED = 0


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s%s" % (name, (": " + detail) if detail else ""))


def run(script, *args):
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, script)] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


def load(name):
    with open(os.path.join(CONTENT, name), encoding="utf-8") as f:
        return json.load(f)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---------------------------------------------------------------- shipped package
def test_shipped_package():
    rc, out, err = run("check-content", CONTENT)
    check("check-content accepts the shipped package", rc == 0, err)
    check("shipped package has no warnings", "warning" not in err, err)
    check("check-content reports counts", "pinned " in out and "categories " in out, out)

    pinned = load("pinned.json")["entries"]
    check("pinned.json has at least 100 entries", len(pinned) >= 100, str(len(pinned)))
    check("pinned.json has at most 250 entries", len(pinned) <= 250, str(len(pinned)))
    for e in pinned:
        ok = all(isinstance(e.get(k), str) and e[k].strip() for k in
                 ("pattern", "app", "reason", "source"))
        check("pinned entry %r has all four fields" % e.get("pattern"), ok)
    with_url = sum(1 for e in pinned if "https://" in e["source"] or "http://" in e["source"])
    check("most pinned sources carry a URL", with_url >= len(pinned) * 0.8,
          "%d of %d" % (with_url, len(pinned)))
    pats = [e["pattern"] for e in pinned]
    check("pinned patterns are unique", len(pats) == len(set(pats)))
    for must in ("*.push.apple.com", "*.update.microsoft.com", "*.whatsapp.net",
                 "chat.signal.org"):
        check("pinned list has %s" % must, must in pats)

    apps = {a["name"]: a for a in load("apps.json")["apps"]}
    o365 = sorted(n for n, a in apps.items() if a.get("group") == "Office365-Apps")
    for must in ("Exchange Online", "SharePoint Online and OneDrive for Business",
                 "Microsoft Teams"):
        check("Office365-Apps group has %s" % must, must in o365, str(o365))
    for must in ("Google Drive", "Gmail", "Salesforce", "Dropbox", "Box", "Slack", "Zoom",
                 "GitHub"):
        check("apps.json defines %s" % must, must in apps)
    check("Dropbox upload matcher", {"host": "content.dropboxapi.com", "method": "POST",
                                     "path": "/2/files/upload"}
          in apps["Dropbox"]["activities"]["upload"])
    check("Box upload matcher", {"host": "upload.box.com", "method": "POST",
                                 "path": "/api/2.0/files/content"}
          in apps["Box"]["activities"]["upload"])
    check("GitHub issue matcher", {"host": "api.github.com", "method": "POST",
                                   "path": "/repos/*/*/issues"}
          in apps["GitHub"]["activities"]["post"])

    entries = tc.parse_tsv(os.path.join(CONTENT, "categories.tsv"))
    check("category sample has a few hundred entries", len(entries) >= 300, str(len(entries)))
    check("google.com is a search engine, reputation 1",
          entries.get(".google.com") == (["search-engines"], 1), str(entries.get(".google.com")))
    used = {c for cats, _ in entries.values() for c in cats}
    check("sample uses only closed-list categories", used <= set(tc.CATEGORIES),
          str(used - set(tc.CATEGORIES)))
    high = [p for p, (cats, rep) in entries.items() if {"malware", "phishing"} & set(cats)]
    check("malware/phishing samples are reserved .example names",
          high and all(p.endswith(".example") for p in high), str(high))


# ---------------------------------------------------------------- JSON Schemas
def schemas():
    d = os.path.join(CONTENT, "schema")
    reg, out = Registry(), {}
    for f in sorted(os.listdir(d)):
        with open(os.path.join(d, f), encoding="utf-8") as fh:
            s = json.load(fh)
        jsonschema.Draft202012Validator.check_schema(s)
        out[f] = s
        reg = reg.with_resource(s["$id"], Resource.from_contents(s))
    return {k: jsonschema.Draft202012Validator(v, registry=reg) for k, v in out.items()}


def test_schemas():
    v = schemas()
    for doc, sch in (("manifest.json", "manifest"), ("pinned.json", "pinned"),
                     ("apps.json", "apps"), ("m365.json", "m365"), ("doh.json", "doh")):
        errs = [e.message for e in v[sch + ".schema.json"].iter_errors(load(doc))]
        check("schema accepts shipped %s" % doc, not errs, "; ".join(errs[:3]))
    pat = v["pattern.schema.json"]
    for good in ("example.com", "*.example.com", ".example.com", "a-b.c0.example",
                 "xn--bcher-kva.example", "*.icloud.com.cn", "8888.google"):
        check("pattern schema accepts %s" % good, pat.is_valid(good))
        check("reference parser accepts %s" % good, _parses(good))
    for bad in ("Example.com", "example.com.", "*.*.example.com", "ex*ample.com", "com",
                ".com", "1.2.3.4", "-a.example.com", "a-.example.com", "a..example.com",
                "a_b.example.com", "", "*example.com", "a" * 64 + ".com",
                ".".join(["abcdefghi"] * 26) + ".com"):
        check("pattern schema rejects %r" % bad, not pat.is_valid(bad))
        check("reference parser rejects %r" % bad, not _parses(bad))
    bad_pinned = {"format": 1, "entries": [{"pattern": "example.com", "app": "x",
                                            "reason": "y"}]}
    check("pinned schema rejects an entry without source",
          not v["pinned.schema.json"].is_valid(bad_pinned))
    bad_apps = load("apps.json")
    bad_apps["apps"][0]["activities"]["browse"] = [{"method": "GET", "path": "/"}]
    check("apps schema rejects an unknown activity", not v["apps.schema.json"].is_valid(bad_apps))


def _parses(p):
    try:
        tc.parse_pattern(p)
        return True
    except tc.ContentError:
        return False


def test_matchers():
    m = tc.pattern_matches
    check("exact matches itself", m("example.com", "example.com"))
    check("exact does not match subdomain", not m("example.com", "a.example.com"))
    check("*. matches subdomain", m("*.example.com", "a.example.com"))
    check("*. matches deep subdomain", m("*.example.com", "a.b.example.com"))
    check("*. does not match the name", not m("*.example.com", "example.com"))
    check(". matches the name", m(".example.com", "example.com"))
    check(". matches subdomains", m(".example.com", "a.b.example.com"))
    check("label alignment", not m(".example.com", "badexample.com"))
    g = tc.glob_matches
    check("glob * within a label", g("autodiscover.*.onmicrosoft.com",
                                     "autodiscover.contoso.onmicrosoft.com"))
    check("glob * does not cross a dot", not g("autodiscover.*.onmicrosoft.com",
                                               "autodiscover.a.b.onmicrosoft.com"))
    check("glob prefix", g("*cdn.onenote.net", "xcdn.onenote.net"))
    check("glob literal dot", not g("*cdn.onenote.net", "cdnXonenote.net"))
    cv = tc.pattern_covers
    check("tree covers exact below", cv(".zoom.us", "api.zoom.us"))
    check("tree covers itself", cv(".zoom.us", ".zoom.us"))
    check("sub covers deeper tree", cv("*.zoom.us", ".a.zoom.us"))
    check("sub does not cover the tree at its own name", not cv("*.zoom.us", ".zoom.us"))
    check("sub does not cover the name", not cv("*.zoom.us", "zoom.us"))
    check("exact does not cover sub", not cv("api.zoom.us", "*.api.zoom.us"))
    check("coverage is label-aligned", not cv(".oom.us", "api.zoom.us"))
    pm = tc.path_matches
    check("path prefix", pm("/2/files/upload", "/2/files/upload_session/start"))
    check("path prefix is anchored at the start", not pm("/2/files/upload", "/x/2/files/upload"))
    check("path * is one segment", pm("/repos/*/*/issues", "/repos/o/r/issues"))
    check("path * does not cross /", not pm("/repos/*/issues", "/repos/o/r/issues"))
    check("path * is not empty", not pm("/repos/*/*/issues", "/repos//r/issues"))
    check("path $ anchors the end", pm("/repos/*/*$", "/repos/o/r"))
    check("path $ rejects longer paths", not pm("/repos/*/*$", "/repos/o/r/issues"))
    check("path is case-sensitive", not pm("/api/files.upload", "/API/files.upload"))
    check("path characters are literal", not pm("/v1.0/me", "/v1x0/me"))
    qm = tc.query_matches
    check("query name=value", qm("alt=media", "fields=x&alt=media"))
    check("query value is exact", not qm("alt=media", "alt=mediax"))
    check("query name only", qm("alt", "alt=json"))
    check("query name is exact", not qm("alt", "alternative=1"))


# ---------------------------------------------------------------- check-content negatives
def broken_copy(tmp, mutate):
    d = os.path.join(tmp, "pkg%d" % len(os.listdir(tmp)))
    shutil.copytree(CONTENT, d)
    mutate(d)
    return d


def edit_json(d, name, fn):
    path = os.path.join(d, name)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    fn(data)
    write(path, json.dumps(data, indent=1))


def edit_text(d, name, fn):
    path = os.path.join(d, name)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    write(path, fn(text))


def test_check_content_rejects():
    cases = [
        ("duplicate pinned pattern",
         lambda d: edit_json(d, "pinned.json", lambda j: j["entries"].append(
             dict(j["entries"][0]))),
         "pinned.json.entries[133].pattern: duplicate of entries[0]"),
        ("pinned entry without source",
         lambda d: edit_json(d, "pinned.json", lambda j: j["entries"][5].pop("source")),
         "pinned.json.entries[5].source: missing"),
        ("pinned pattern with two wildcards",
         lambda d: edit_json(d, "pinned.json", lambda j: j["entries"][0].update(
             pattern="*.*.apple.com")),
         "pinned.json.entries[0].pattern: '*.*.apple.com': '*' is only allowed"),
        ("unknown category",
         lambda d: edit_text(d, "categories.tsv", lambda t: t + ".x.example\tcasino\t3\n"),
         "unknown category 'casino'"),
        ("reputation out of range",
         lambda d: edit_text(d, "categories.tsv", lambda t: t + ".x.example\tnews\t6\n"),
         "reputation '6' is not one of 1..5"),
        ("duplicate category pattern",
         lambda d: edit_text(d, "categories.tsv", lambda t: t + ".google.com\tnews\t1\n"),
         "duplicate pattern '.google.com'"),
        ("missing TSV header",
         lambda d: edit_text(d, "categories.tsv", lambda t: t.split("\n", 1)[1]),
         "categories.tsv:1: expected the header line"),
        ("space instead of tab",
         lambda d: edit_text(d, "categories.tsv", lambda t: t + ".x.example news 1\n"),
         "expected 3 tab-separated fields, got 1"),
        ("unknown activity",
         lambda d: edit_json(d, "apps.json", lambda j: j["apps"][0]["activities"].update(
             browse=[{"method": "GET", "path": "/"}])),
         "apps.json.apps[0].activities.browse: unknown activity"),
        ("bad method",
         lambda d: edit_json(d, "apps.json", lambda j: j["apps"][0]["activities"]["login"][0]
                             .update(method="post")),
         "apps.json.apps[0].activities.login[0].method: expected one of"),
        ("unsorted m365 ports",
         lambda d: edit_json(d, "m365.json", lambda j: j["endpoints"][0].update(
             tcpPorts=[[443, 443], [80, 80]])),
         "m365.json.endpoints[0].tcpPorts[1]: ranges must be sorted"),
        ("non-normalized m365 prefix",
         lambda d: edit_json(d, "m365.json", lambda j: j["endpoints"][0]["ips"].append(
             "2603:1006:0::/40")),
         "is not in normalized form"),
        ("doh host listed twice",
         lambda d: edit_json(d, "doh.json", lambda j: j["entries"][1]["hosts"].append(
             ".cloudflare-dns.com")),
         "'.cloudflare-dns.com' is already listed by entries[0]"),
        ("file edited without manifest update",
         lambda d: edit_text(d, "categories.tsv", lambda t: t + "# comment\n"),
         "manifest.json.files[4].sha256: categories.tsv has sha256"),
        ("bad manifest version",
         lambda d: edit_json(d, "manifest.json", lambda j: j.update(version="26.11")),
         "manifest.json.version: '26.11' does not match"),
        ("manifest file outside the package",
         lambda d: edit_json(d, "manifest.json", lambda j: j["files"][0].update(
             path="../pinned.json")),
         "manifest.json.files[0].path: expected a plain file name"),
        ("trailing garbage in JSON",
         lambda d: edit_text(d, "doh.json", lambda t: t + "x"),
         "doh.json: line"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, mutate, expect in cases:
            d = broken_copy(tmp, mutate)
            rc, out, err = run("check-content", d)
            check("check-content rejects: %s (exit 1)" % name, rc == 1, "rc=%d" % rc)
            check("check-content rejects: %s (message)" % name, expect in err,
                  "want %r in %r" % (expect, err[:600]))
        d = broken_copy(tmp, lambda d: edit_json(d, "pinned.json", lambda j: j["entries"].append(
            {"pattern": ".slack.com", "app": "Slack", "reason": "test", "source": "test"})))
        run("check-content", "--write-manifest", d)
        rc, out, err = run("check-content", d)
        check("activity shadowed by the pinned list is only a warning", rc == 0, err)
        check("shadowed activity warning names app, activity and pattern",
              "warning: apps.json: Slack: activities.upload[0]: host 'slack.com' is covered by "
              "pinned pattern '.slack.com' and can never be inspected" in err, err)
        d = broken_copy(tmp, lambda d: edit_text(d, "categories.tsv",
                                                 lambda t: t + "# added\n"))
        rc, out, err = run("check-content", "--write-manifest", d)
        check("--write-manifest repairs hashes", rc == 0, err)
        rc, out, err = run("check-content", d)
        check("package valid after --write-manifest", rc == 0, err)
        d = broken_copy(tmp, lambda d: edit_json(
            d, "pinned.json", lambda j: j["entries"][0].update(pattern="BAD")))
        before = open(os.path.join(d, "manifest.json"), "rb").read()
        rc, out, err = run("check-content", "--write-manifest", d)
        check("--write-manifest refuses an invalid package", rc == 1, err)
        check("--write-manifest leaves the manifest alone on error",
              open(os.path.join(d, "manifest.json"), "rb").read() == before)


# ---------------------------------------------------------------- import-ut1
UT1_EXPECTED = """#tlsgate-categories 1
# Generated by scripts/import-ut1 from the UT1 blacklists (Universite Toulouse 1
# Capitole, CC BY-SA 4.0). Each UT1 domain covers its subdomains: '.domain'.
# pattern<TAB>categories<TAB>reputation (1 low risk .. 5 high risk)
.bank.example\tfinance\t1
.casino.example\tgambling\t4
.evil.example\tmalware,phishing\t5
.news.example\tnews\t1
.shared.example\tfinance,news\t1
.xn--bcher-kva.example\tnews\t1
"""


def make_ut1(root):
    bl = os.path.join(root, "blacklists")
    for cat in ("bank", "phishing", "malware", "press", "liste_bu", "newcat", "gambling"):
        os.makedirs(os.path.join(bl, cat))
    write(os.path.join(bl, "global_usage"),
          "#\n# catalogue\nNAME:\tbank\nDEFAULT_TYPE: black\nDESC EN: Online bank\n\n"
          "NAME:\tliste_bu\nDEFAULT_TYPE: white\n")
    write(os.path.join(bl, "bank", "domains"),
          "bank.example\nBANK.example.\n\n# a comment\nshared.example\n"
          "bad_label.example\n192.0.2.1\nlocalhost\n")
    write(os.path.join(bl, "phishing", "domains"), "evil.example\n-dash.example\n")
    write(os.path.join(bl, "phishing", "urls"), "evil.example/login\nevil.example/pay\n")
    write(os.path.join(bl, "phishing", "usage"), "black\nphishing\n")
    write(os.path.join(bl, "malware", "domains"), "evil.example\na..b.example\n")
    write(os.path.join(bl, "press", "domains"), "news.example\nshared.example\nb\u00fccher.example\n")
    write(os.path.join(bl, "liste_bu", "domains"), "library.example\n")
    write(os.path.join(bl, "newcat", "domains"), "new.example\n")
    with gzip.open(os.path.join(bl, "gambling", "domains.gz"), "wt") as f:
        f.write("casino.example\n")
    os.symlink("press", os.path.join(bl, "presse"))
    return root


def test_import_ut1():
    with tempfile.TemporaryDirectory() as tmp:
        ut1 = make_ut1(os.path.join(tmp, "ut1"))
        out = os.path.join(tmp, "out.tsv")
        rc, so, se = run("import-ut1", ut1, out)
        check("import-ut1 succeeds", rc == 0, se)
        got = open(out, encoding="utf-8").read() if os.path.exists(out) else ""
        check("import-ut1 output is the expected TSV", got == UT1_EXPECTED, repr(got))
        check("import-ut1 output parses", len(tc.parse_tsv(out)) == 6)
        check("summary counts invalid lines", "invalid lines skipped: 5" in so, so)
        for frag in ("an IPv4 address, not a domain name", "a single label", "empty label",
                     "non-LDH label                                   2"):
            check("summary reason %r" % frag, frag in so, so)
        check("summary names the skipped allow-list", "skipped (allow-lists, filtering "
              "variants): liste_bu" in so, so)
        check("summary names the alias", "presse -> press" in so, so)
        check("summary counts ignored URLs", "2 URL entries ignored" in so, so)
        check("unknown category warned on stderr", "newcat" in se, se)
        check("global_usage allow-list note absent (liste_bu skipped)", "note:" not in so, so)

        rc, so, se = run("import-ut1", "--keep-unknown", ut1, out)
        entries = tc.parse_tsv(out)
        check("--keep-unknown keeps ut1-newcat", entries.get(".new.example") == (["ut1-newcat"], 3),
              str(entries.get(".new.example")))

        write(out, "previous\n")
        rc, so, se = run("import-ut1", "--strict", ut1, out)
        check("--strict fails on invalid lines", rc == 1 and "5 invalid lines" in se, se)
        check("--strict leaves OUT untouched", open(out).read() == "previous\n")

        rc, so, se = run("import-ut1", os.path.join(tmp, "missing"), out)
        check("missing UT1_DIR is an error", rc == 1 and "not a directory" in se, se)
        empty = os.path.join(tmp, "empty")
        os.makedirs(os.path.join(empty, "adult"))
        rc, so, se = run("import-ut1", empty, out)
        check("tree without domains files is an error",
              rc == 1 and "no category directory" in se, se)
        allbad = os.path.join(tmp, "allbad")
        os.makedirs(os.path.join(allbad, "adult"))
        write(os.path.join(allbad, "adult", "domains"), "1.2.3.4\n")
        rc, so, se = run("import-ut1", allbad, out)
        check("tree without valid domains is an error", rc == 1 and "no valid domain" in se, se)
        rc, so, se = run("import-ut1", ut1, os.path.join(tmp, "nodir", "out.tsv"))
        check("unwritable OUT is an error", rc == 1 and "nodir" in se, se)
        check("no temporary file left behind",
              not [f for f in os.listdir(tmp) if f.startswith(".tmp-")])


# ---------------------------------------------------------------- update-m365
def m365_case(tmp, data, *extra):
    src = os.path.join(tmp, "in.json")
    write(src, data if isinstance(data, str) else json.dumps(data))
    out = os.path.join(tmp, "out.json")
    write(out, "previous\n")
    rc, so, se = run("update-m365", *extra, src, out)
    return rc, se, open(out).read()


def good_entry(**kw):
    e = {"id": 1, "serviceArea": "Exchange", "serviceAreaDisplayName": "Exchange Online",
         "urls": ["outlook.office.com"], "ips": ["13.107.6.152/31"], "tcpPorts": "80,443",
         "expressRoute": True, "category": "Optimize", "required": True}
    e.update(kw)
    return e


def test_update_m365():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m365.json")
        rc, so, se = run("update-m365", M365_INPUT, out)
        check("update-m365 converts the stored Microsoft input", rc == 0, se)
        check("update-m365 summary", "107 endpoint sets (Optimize 3, Allow 12, Default 92)" in so,
              so)
        shipped = open(os.path.join(CONTENT, "m365.json"), "rb").read()
        check("shipped m365.json is reproducible from the input",
              open(out, "rb").read() == shipped)
        eps = {e["id"]: e for e in json.load(open(out))["endpoints"]}
        e1 = eps.get(1, {})
        check("set 1 is Exchange Optimize", e1.get("category") == "Optimize"
              and e1.get("serviceArea") == "Exchange")
        check("set 1 urls", e1.get("urls") == ["outlook.office.com", "outlook.office365.com"])
        check("set 1 tcp ports", e1.get("tcpPorts") == [[80, 80], [443, 443]])
        check("set 1 ips normalized", "2603:1006::/40" in e1.get("ips", []))
        check("set 11 UDP ports merged into one range",
              eps.get(11, {}).get("udpPorts") == [[3478, 3481]], str(eps.get(11)))
        check("set 11 has no urls", eps.get(11, {}).get("urls") == [])
        check("set 31 SharePoint Optimize", eps.get(31, {}).get("urls") == ["*.sharepoint.com"]
              and eps[31]["category"] == "Optimize")
        check("set 154 glob", eps.get(154, {}).get("globs") == ["autodiscover.*.onmicrosoft.com"])
        check("set 39 mixes patterns and globs", eps.get(39, {}).get("urls") == ["*.svc.ms"]
              and eps[39]["globs"] == ["*-files.sharepoint.com", "*-myfiles.sharepoint.com"])
        check("set 5 keeps notes", eps.get(5, {}).get("notes") == "Exchange Online IMAP4 migration")

        cases = [
            ("object instead of array", {"id": 1},
             "top level: expected an array of endpoint sets, got dict"),
            ("empty array", [], "top level: empty array"),
            ("not JSON", "[{", "in.json: line 1 column 3"),
            ("duplicate key", '[{"id": 1, "id": 2}]', "duplicate key 'id'"),
            ("bad category", [good_entry(category="Foo")],
             "[0].category: expected one of Optimize, Allow, Default, got 'Foo'"),
            ("missing category", [{k: v for k, v in good_entry().items() if k != "category"}],
             "[0].category: missing"),
            ("string id", [good_entry(id="1")], "[0].id: expected a non-negative integer"),
            ("boolean id", [good_entry(id=True)], "[0].id: expected a non-negative integer"),
            ("duplicate id", [good_entry(), good_entry()],
             "[1].id: duplicate id 1 (also at [0])"),
            ("bad service area", [good_entry(serviceArea="Teams")],
             "[0].serviceArea: expected one of Exchange, SharePoint, Skype, Common"),
            ("bad port", [good_entry(tcpPorts="80,x")], "[0].tcpPorts: 'x' is not a port"),
            ("port zero", [good_entry(tcpPorts="0")], "[0].tcpPorts: '0' is outside 1-65535"),
            ("reversed range", [good_entry(udpPorts="3481-3478")],
             "[0].udpPorts: '3481-3478' is outside 1-65535 or reversed"),
            ("numeric ports", [good_entry(tcpPorts=443)],
             "[0].tcpPorts: expected a string of comma-separated ports, got int"),
            ("bad prefix", [good_entry(ips=["1.2.3.4/33"])], "[0].ips[0]: '1.2.3.4/33'"),
            ("host bits set", [good_entry(ips=["1.2.3.4/24"])], "[0].ips[0]: '1.2.3.4/24'"),
            ("bad url", [good_entry(urls=["bad host.com"])], "[0].urls[0]: 'bad host.com'"),
            ("double wildcard", [good_entry(urls=["**.example.com"])],
             "[0].urls[0]: '**.example.com': '**' is not allowed"),
            ("no urls nor ips", [{k: v for k, v in good_entry().items()
                                  if k not in ("urls", "ips")}], "[0]: neither urls nor ips"),
            ("no ports", [{k: v for k, v in good_entry().items() if k != "tcpPorts"}],
             "[0]: neither tcpPorts nor udpPorts"),
            ("string boolean", [good_entry(required="true")],
             "[0].required: expected true or false"),
            ("unknown field", [good_entry(extra=1)], "[0].extra: unknown field"),
            ("entry not an object", [1], "[0]: expected an object, got int"),
        ]
        for name, data, expect in cases:
            rc, se, outtext = m365_case(tmp, data)
            check("update-m365 rejects %s (exit 1)" % name, rc == 1, "rc=%d" % rc)
            check("update-m365 rejects %s (message)" % name, expect in se,
                  "want %r in %r" % (expect, se))
            check("update-m365 rejects %s (OUT untouched)" % name, outtext == "previous\n")
        rc, se, outtext = m365_case(tmp, [good_entry(extra=1)], "--allow-unknown-fields")
        check("--allow-unknown-fields accepts extra fields", rc == 0, se)
        rc, so, se = run("update-m365", os.path.join(tmp, "missing.json"), out)
        check("missing input is an error", rc == 1 and "missing.json: No such file" in se, se)


def test_help():
    for script in ("check-content", "import-ut1", "update-m365"):
        rc, so, se = run(script, "--help")
        check("%s --help" % script, rc == 0 and "usage:" in so, se)
        rc, so, se = run(script, "--no-such-option")
        check("%s rejects unknown options with exit 2" % script, rc == 2, se)
        check("%s is executable" % script, os.access(os.path.join(SCRIPTS, script), os.X_OK))


def main():
    for t in (test_shipped_package, test_schemas, test_matchers, test_check_content_rejects,
              test_import_ut1, test_update_m365, test_help):
        try:
            t()
        except Exception as exc:  # a crash in one group is a failure, not an abort
            check(t.__name__ + " ran to completion", False, "%s: %s" % (type(exc).__name__, exc))
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
