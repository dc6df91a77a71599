#!/usr/bin/env python3
"""policy/schema.json against the policy files (python3-jsonschema, draft 2020-12).

Every policy under policy/ (default.json, examples) must validate; the invalid policies whose
fault is structural (types, unknown fields, enums, ranges) must fail the schema too, so the
schema and the loader agree. Prints "N passed, N failed"; exit 0 pass, 1 fail, 77 skipped.
"""
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed: skipped")
    sys.exit(77)

SRC = os.environ.get("TG_SRC") or os.path.join(os.path.dirname(__file__), "..")
SCHEMA_REJECTS = [
    "07-missing-version", "08-version-2", "09-version-string", "10-unknown-top-field",
    "12-settings-not-object", "13-default-action-bad", "14-ech-bad-type", "15-quic-bad",
    "16-m365-bad", "17-implicit-bypass-not-bool", "18-failures-zero", "19-ttl-float",
    "20-total-max-too-big", "21-ca-missing-action-bad", "22-ca-missing-unknown-field",
    "23-upstream-ttl-30", "24-fail-bad-value", "25-fail-unknown-class", "26-port-zero",
    "27-port-duplicate", "28-ports-empty", "30-os-hint-confidence", "31-user-no-name",
    "40-name-control-char", "41-name-too-long", "42-endpoint-no-os", "43-endpoint-bad-os",
    "49-app-group-no-apps", "50-rule-no-name", "51-rule-no-action", "53-decrypt-action-block",
    "59-sni-not-array", "60-sni-item-number", "61-sni-double-star", "63-match-field-wrong-list",
    "64-match-unknown-field", "65-reputation-out-of-range", "67-reputation-empty", "68-ja4-bad",
    "69-os-list-bad", "70-managed-string", "73-enabled-string", "75-casb-bad-activity",
    "76-casb-action-decrypt", "77-dlp-no-detectors", "78-dlp-bad-type", "79-dlp-regex-no-pattern",
    "80-dlp-words-on-card", "81-dlp-scan-too-big", "82-dlp-keywords-empty",
    "83-filtering-not-array", "84-schema-not-string", "85-schema-not-top-level",
]


def main():
    with open(os.path.join(SRC, "policy", "schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    passed = failed = 0
    files = [os.path.join(SRC, "policy", "default.json")]
    files += sorted(p for p in glob.glob(os.path.join(SRC, "policy", "examples", "*.json"))
                    if not p.endswith(".scenarios.json"))
    for path in files:
        with open(path) as f:
            errors = list(validator.iter_errors(json.load(f)))
        if errors:
            failed += 1
            print("FAIL: %s: %s at %s" % (path, errors[0].message, list(errors[0].path)))
        else:
            passed += 1
    for name in SCHEMA_REJECTS:
        path = os.path.join(SRC, "test", "data", "policy-invalid", name + ".json")
        with open(path) as f:
            doc = json.load(f)
        if validator.is_valid(doc):
            failed += 1
            print("FAIL: %s: accepted by the schema, rejected by the loader" % name)
        else:
            passed += 1
    if len(files) < 5:
        failed += 1
        print("FAIL: expected default.json and at least 4 examples")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
