#!/usr/bin/python3
"""docs/asyncapi.yaml against the codec's golden envelopes (tests/fixtures/events): every event
type has a message, every fixture validates against its message's payload schema, every data
field a fixture carries is declared (the schemas have not drifted from the codec), and the
inbound message schemas accept and refuse what the consumers accept and refuse.

Usage: asyncapi_fixtures.py <source dir>"""
import glob
import json
import os
import sys

import jsonschema
import yaml


def main(src):
    with open(os.path.join(src, "docs", "asyncapi.yaml")) as f:
        doc = yaml.safe_load(f)
    failures = []

    def validator(pointer):
        schema = dict(doc)
        schema["$ref"] = pointer
        return jsonschema.Draft7Validator(schema)

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            path = node["$ref"].lstrip("#/").split("/")
            node = doc
            for p in path:
                node = node[p]
        return node

    def declared(node, schema_version, out):
        """Property names declared for `data` under a schema, following allOf/if/then/else."""
        node = resolve(node)
        if not isinstance(node, dict):
            return
        out.update(node.get("properties", {}).keys())
        for sub in node.get("allOf", []):
            declared(sub, schema_version, out)
        if "if" in node:
            cond = node["if"]["properties"]["schema_version"]["const"]
            declared(node["then"] if schema_version == cond else node["else"], schema_version, out)

    def data_schema(message, schema_version):
        payload = resolve(doc["components"]["messages"][message]["payload"])
        for part in payload["allOf"]:
            if "$ref" in part:
                continue  # the envelope: its `data` is any object
            if "if" in part:
                cond = part["if"]["properties"]["schema_version"]["const"]
                branch = part["then"] if schema_version == cond else part["else"]
                return branch["properties"]["data"]
            if "data" in part.get("properties", {}):
                return part["properties"]["data"]
        return {}

    types = doc["components"]["schemas"]["EventType"]["enum"]
    channel = doc["channels"]["tenantEvents"]["messages"]
    for t in types:
        if t not in channel:
            failures.append(f"event type {t} has no message on tenant.events")

    fixtures = sorted(glob.glob(os.path.join(src, "tests", "fixtures", "events", "*.json")) +
                      glob.glob(os.path.join(src, "tests", "fixtures", "events", "v1", "*.json")))
    seen_types = set()
    for path in fixtures:
        with open(path) as f:
            env = json.load(f)
        t = env["type"]
        seen_types.add(t)
        v = validator(f"#/components/messages/{t}/payload")
        for err in v.iter_errors(env):
            failures.append(f"{os.path.relpath(path, src)}: {err.message} at {list(err.path)}")
        names = set()
        declared(data_schema(t, env["schema_version"]), env["schema_version"], names)
        for key in env["data"]:
            if key not in names:
                failures.append(f"{os.path.relpath(path, src)}: data.{key} is not in the schema")
        # A changed type must not validate: the schemas really discriminate.
        other = "PaymentSucceeded" if t != "PaymentSucceeded" else "PaymentFailed"
        if validator(f"#/components/messages/{other}/payload").is_valid(env):
            failures.append(f"{os.path.relpath(path, src)} also validates as {other}")
    for t in types:
        if t not in seen_types:
            failures.append(f"no fixture for {t}")

    tid = "tn_0194c3a2-7f00-7000-8000-00000000a11c"
    billing = validator("#/components/messages/BillingEvent/payload")
    good = [
        {"type": "payment_failed", "tenant_id": tid, "payment_id": "p-1", "amount_cents": 4900,
         "currency": "EUR", "reason": "card_declined", "occurred_at": "2026-01-15T09:30:00Z"},
        {"type": "subscription_cancelled", "tenant_id": tid, "reason": "churn"},
    ]
    bad = [
        {"type": "payment_failed", "tenant_id": tid},  # no payment_id
        {"type": "refund", "tenant_id": tid, "payment_id": "p"},
        {"type": "payment_failed", "tenant_id": "acme", "payment_id": "p"},
        {"type": "payment_failed", "tenant_id": tid, "payment_id": "p", "amount_cents": "12"},
    ]
    for m in good:
        if not billing.is_valid(m):
            failures.append(f"billing schema refuses {m}")
    for m in bad:
        if billing.is_valid(m):
            failures.append(f"billing schema accepts {m}")
    usage = validator("#/components/messages/UsageReport/payload")
    if not usage.is_valid({"tenant_id": tid, "seats_in_use": 3, "storage_bytes": 1,
                           "observed_at": "2026-01-15T09:30:00Z"}):
        failures.append("usage schema refuses a report")
    for m in ({"tenant_id": tid, "seats_in_use": 3}, {"tenant_id": tid, "seats_in_use": -1,
                                                       "observed_at": "2026-01-15T09:30:00Z"}):
        if usage.is_valid(m):
            failures.append(f"usage schema accepts {m}")

    headers = validator("#/components/schemas/CloudEventsHeaders")
    sample = {"ce_specversion": "1.0", "ce_id": "0194c3a2-7f00-7000-8000-000000000001",
              "ce_type": "TenantCreated", "ce_source": "/tenants", "ce_subject": tid,
              "ce_time": "2026-01-15T09:31:00.123Z", "content-type": "application/json",
              "position": "41", "version": "1"}
    if not headers.is_valid(sample):
        failures.append("header schema refuses the relay's headers")
    if headers.is_valid(dict(sample, position="0")):
        failures.append("header schema accepts position 0")

    for f in failures:
        print("FAIL:", f)
    print(f"{len(fixtures)} fixtures, {len(types)} event types: "
          f"{'ok' if not failures else str(len(failures)) + ' problem(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
