"""Shared rules for tlsgate's content package (policy/content/).

Used by scripts/check-content, scripts/import-ut1 and scripts/update-m365. Python 3 standard
library only. Everything here is a pure function of its arguments except atomic_write().

The rules implemented here are the ones documented field by field in policy/content/README.md;
when the two disagree, the README is the specification and this file has a bug.
"""

import hashlib
import ipaddress
import json
import os
import re
import tempfile

# Limits a loader may rely on (policy/content/README.md, "Limits").
MAX_NAME = 253          # a domain name, without the pattern prefix
MAX_PATTERN = 255       # "*." + name
MAX_APP = 64
MAX_REASON = 256
MAX_SOURCE = 512
MAX_CATS_PER_LINE = 8
MAX_TSV_LINE = 1024

LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
GLOB_LABEL_RE = re.compile(r"^[a-z0-9*](?:[a-z0-9*-]{0,61}[a-z0-9*])?$")
CATEGORY_EXT_RE = re.compile(r"^ut1-[a-z0-9][a-z0-9_-]{0,47}$")

# The closed list of category names (policy/content/README.md, "categories.tsv").
CATEGORIES = {
    "adult": "sexually explicit material",
    "ads-tracking": "advertising, analytics and tracking",
    "blogs": "blog hosting and personal blogs",
    "business": "business software and services (CRM, ERP, SaaS consoles)",
    "chat-messaging": "chat and instant messaging",
    "cheating": "sites that explain how to cheat on exams",
    "collaboration": "collaboration suites, video conferencing, office suites",
    "cryptomining": "cryptocurrency mining, including in-browser mining (cryptojacking)",
    "dating": "dating and matchmaking",
    "doh": "DNS-over-HTTPS / DNS-over-TLS resolvers (DNS filtering side-steps)",
    "drugs": "illegal drugs",
    "education": "schools, universities, educational material",
    "entertainment": "entertainment, celebrities, comics, astrology",
    "file-sharing": "file hosting, cloud storage and file transfer",
    "finance": "banks, brokers, payment and financial information",
    "forums": "discussion forums",
    "gambling": "gambling, betting, casinos",
    "games": "online games and game distribution",
    "government": "government and public administration",
    "hacking": "hacking, DDoS-for-hire, stalkerware",
    "hate": "aggressive, racist or hateful material",
    "health": "health, medicine, sexual education",
    "job-search": "job search and recruiting",
    "lifestyle": "cooking, home, hobbies",
    "malware": "sites that deliver malware",
    "mixed-adult": "general sites with unstructured adult sections",
    "news": "news and press",
    "phishing": "phishing and credential theft",
    "piracy": "pirated software and media (warez)",
    "proxy-avoidance": "web proxies and redirectors used to circumvent filtering",
    "reference": "encyclopedias, dictionaries, reference works",
    "religion": "religious organisations and sects",
    "remote-access": "remote desktop and remote control services",
    "search-engines": "web search engines",
    "shopping": "online shopping and auctions",
    "social-networking": "social networks",
    "software-downloads": "software download sites",
    "software-updates": "operating system and software update services",
    "sports": "sports",
    "streaming-media": "audio and video streaming, internet radio",
    "technology": "technology vendors, developer platforms, computing",
    "translation": "translation services",
    "travel": "travel, transport, lodging",
    "url-shorteners": "URL shortening services",
    "vpn": "VPN services",
    "weapons": "weapons and dangerous material",
    "webmail": "web mail",
}

ACTIVITIES = ("login", "upload", "download", "share", "post", "delete")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*")
M365_CATEGORIES = ("Optimize", "Allow", "Default")
M365_SERVICE_AREAS = ("Exchange", "SharePoint", "Skype", "Common")


class ContentError(Exception):
    """A content file or converter input breaks a documented rule; str() is the message."""


def check_name(name):
    """Return None if name is a normalized DNS name usable in a pattern, else the reason.

    Normalized: lowercase ASCII LDH labels (IDNs as A-labels), no trailing dot, at least two
    labels, at most 253 characters, and the last label not all digits (that is an IPv4 literal).
    """
    if not isinstance(name, str):
        return "expected a string"
    if name == "":
        return "empty name"
    if len(name) > MAX_NAME:
        return "name longer than %d characters" % MAX_NAME
    if name.endswith("."):
        return "trailing dot"
    if name != name.lower():
        return "uppercase letters (names are stored lowercase)"
    labels = name.split(".")
    if len(labels) < 2:
        return "a single label (need at least two, e.g. example.com)"
    for label in labels:
        if label == "":
            return "empty label"
        if not LABEL_RE.match(label):
            return "label %r is not LDH (letters, digits, hyphen; no leading/trailing hyphen;" \
                   " 1-63 characters)" % label
    if labels[-1].isdigit():
        return "an IPv4 address, not a domain name"
    return None


def parse_pattern(pattern):
    """Split a domain pattern into (kind, name); raise ContentError with the reason.

    kind is "exact" (example.com), "sub" (*.example.com: strict subdomains, any depth) or
    "tree" (.example.com: the name itself and all its subdomains).
    """
    if not isinstance(pattern, str):
        raise ContentError("expected a string")
    if len(pattern) > MAX_PATTERN:
        raise ContentError("pattern longer than %d characters" % MAX_PATTERN)
    if pattern.startswith("*."):
        kind, name = "sub", pattern[2:]
    elif pattern.startswith("."):
        kind, name = "tree", pattern[1:]
    else:
        kind, name = "exact", pattern
    if "*" in name:
        raise ContentError("'*' is only allowed as the whole first label ('*.example.com')")
    why = check_name(name)
    if why:
        raise ContentError(why)
    return kind, name


def check_glob(glob):
    """Validate an M365 glob ('*' = zero or more characters other than '.'); raise on error."""
    if not isinstance(glob, str) or glob == "":
        raise ContentError("expected a non-empty string")
    if len(glob) > MAX_PATTERN:
        raise ContentError("glob longer than %d characters" % MAX_PATTERN)
    if "*" not in glob:
        raise ContentError("a glob without '*' belongs in urls")
    if "**" in glob:
        raise ContentError("'**' is not allowed")
    labels = glob.split(".")
    if len(labels) < 2:
        raise ContentError("a single label")
    for label in labels:
        if not GLOB_LABEL_RE.match(label):
            raise ContentError("label %r is not LDH or '*'" % label)
    if "*" not in labels[0] and labels[-1].isdigit():
        raise ContentError("an IPv4 address")


def glob_matches(glob, host):
    """Reference matcher for M365 globs: '*' matches zero or more characters other than '.'."""
    rx = "^" + "[^.]*".join(re.escape(part) for part in glob.split("*")) + "$"
    return re.match(rx, host) is not None


def pattern_matches(pattern, host):
    """Reference matcher for domain patterns, for tests and for documentation."""
    kind, name = parse_pattern(pattern)
    if kind == "exact":
        return host == name
    if kind == "sub":
        return host.endswith("." + name)
    return host == name or host.endswith("." + name)


def normalize_host(raw):
    """Normalize a host name read from a third-party list; return (name, None) or (None, why).

    Strips surrounding whitespace and one trailing dot, lowercases, converts Unicode names to
    A-labels (IDNA 2003, the only IDNA codec in the standard library), then applies check_name.
    """
    name = raw.strip()
    if name.endswith("."):
        name = name[:-1]
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None, "not a valid internationalized name"
    name = name.lower()
    why = check_name(name)
    if why:
        return None, why
    return name, None


def check_ip(text):
    """Return the normalized form of an IPv4/IPv6 address or prefix; raise ContentError."""
    if not isinstance(text, str):
        raise ContentError("expected a string")
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ContentError("not an IP address or prefix: %s" % exc) from None
    if "/" in text:
        return str(net)
    return str(net.network_address)


def _no_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ContentError("duplicate key %r" % key)
        obj[key] = value
    return obj


def _no_constants(name):
    raise ContentError("%s is not valid JSON" % name)


def load_json(path):
    """Parse a JSON file strictly (UTF-8, no duplicate keys, no NaN/Infinity)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ContentError("%s: cannot read: %s" % (path, exc.strerror)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError("%s: not UTF-8 (byte offset %d)" % (path, exc.start)) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise ContentError("%s: line %d column %d: %s" % (path, exc.lineno, exc.colno,
                                                          exc.msg)) from None
    except ContentError as exc:
        raise ContentError("%s: %s" % (path, exc)) from None


def dump_json(obj):
    """The canonical text of a content JSON file: 1-space indent, UTF-8, final newline."""
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path, data):
    """Write bytes or str to path via a temporary file in the same directory and rename.

    Either the whole new content is at path afterwards, or the old file (if any) is untouched.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


TSV_HEADER = "#tlsgate-categories 1"


def check_category(name):
    """Return None if name is in the closed list or the ut1- extension namespace."""
    if name in CATEGORIES or CATEGORY_EXT_RE.match(name):
        return None
    return "unknown category %r (not in the closed list, policy/content/README.md)" % name


def parse_tsv_line(line):
    """Parse one data line 'pattern<TAB>cat[,cat...]<TAB>reputation'; raise ContentError.

    Returns (pattern, [categories], reputation).
    """
    if len(line) > MAX_TSV_LINE:
        raise ContentError("line longer than %d characters" % MAX_TSV_LINE)
    if line != line.strip(" \t\r"):
        raise ContentError("leading or trailing whitespace (or CR)")
    fields = line.split("\t")
    if len(fields) != 3:
        raise ContentError("expected 3 tab-separated fields, got %d" % len(fields))
    pattern, cats_s, rep_s = fields
    try:
        parse_pattern(pattern)
    except ContentError as exc:
        raise ContentError("pattern %r: %s" % (pattern, exc)) from None
    cats = cats_s.split(",")
    if len(cats) > MAX_CATS_PER_LINE:
        raise ContentError("more than %d categories" % MAX_CATS_PER_LINE)
    for cat in cats:
        why = check_category(cat)
        if why:
            raise ContentError(why)
    if len(set(cats)) != len(cats):
        raise ContentError("a category is listed twice")
    if rep_s not in ("1", "2", "3", "4", "5"):
        raise ContentError("reputation %r is not one of 1..5" % rep_s)
    return pattern, cats, int(rep_s)


def parse_tsv(path):
    """Parse a categories.tsv file; return {pattern: (categories, reputation)}.

    Raises ContentError naming the file and line of the first error.
    """
    entries = {}
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ContentError("%s: cannot read: %s" % (path, exc.strerror)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError("%s: not UTF-8 (byte offset %d)" % (path, exc.start)) from None
    if not text.endswith("\n"):
        raise ContentError("%s: the last line has no newline" % path)
    lines = text[:-1].split("\n")
    if lines[0] != TSV_HEADER:
        raise ContentError("%s:1: expected the header line %r" % (path, TSV_HEADER))
    for no, line in enumerate(lines[1:], start=2):
        if line == "" or line.startswith("#"):
            continue
        try:
            pattern, cats, rep = parse_tsv_line(line)
        except ContentError as exc:
            raise ContentError("%s:%d: %s" % (path, no, exc)) from None
        if pattern in entries:
            raise ContentError("%s:%d: duplicate pattern %r" % (path, no, pattern))
        entries[pattern] = (cats, rep)
    return entries


def path_matches(pattern, path):
    """Reference matcher for activity paths (policy/content/README.md, apps.json).

    path is the request-target path with the query removed. '*' matches one or more characters
    other than '/'; the pattern matches a prefix of the path unless it ends with '$'.
    """
    anchored = pattern.endswith("$")
    if anchored:
        pattern = pattern[:-1]
    rx = "^" + "[^/]+".join(re.escape(part) for part in pattern.split("*"))
    if anchored:
        rx += "$"
    return re.match(rx, path) is not None


def query_matches(spec, query):
    """Reference matcher for an activity 'query' field against a raw query string."""
    params = query.split("&") if query else []
    if "=" in spec:
        return spec in params
    return any(p == spec or p.startswith(spec + "=") for p in params)


def pattern_covers(outer, inner):
    """True if every host matched by pattern inner is also matched by pattern outer."""
    k1, n1 = parse_pattern(outer)
    k2, n2 = parse_pattern(inner)

    def below(name, base):          # name is base or a subdomain of base
        return name == base or name.endswith("." + base)
    if k2 == "exact":
        return pattern_matches(outer, n2)
    if k2 == "sub":                 # hosts strictly below n2
        return (k1 in ("tree", "sub") and below(n2, n1)) or False
    # k2 == "tree": n2 itself and everything below it
    if k1 == "tree":
        return below(n2, n1)
    if k1 == "sub":
        return n2.endswith("." + n1)
    return False
