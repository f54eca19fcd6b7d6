#!/usr/bin/env python3
"""Writes an NDJSON event log of N tenants for the memory scenario of bench/run (issue 8).

Each tenant gets the two events tenantd writes for a create: TenantCreated (the envelope and
data fields exactly as tenantd's API writes them, with a unique domain so that the reservation
index is populated too) and TenantProvisioned (the provisioning process manager's answer).
Positions are contiguous from 1 and versions per stream 1, 2, as `tenantctl import` requires.

Seeding through the HTTP API would measure the POST path for an hour (1M fsynced creates); the
import appends the same envelopes through the event store (its indexes, its domain
reservations) and `tenantctl replay` builds the same projections tenantd would have built, so
the tenantd that starts on the result holds what a tenantd with 1M created tenants holds.

usage: bench/scale_seed.py --tenants N > log.ndjson
"""
import argparse
import sys

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
         "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"]
PLANS = ["starter", "starter", "starter", "professional", "enterprise"]
CITIES = [("US", "United States", "New York"), ("DE", "Germany", "Berlin"),
          ("FR", "France", "Paris"), ("GB", "United Kingdom", "London"),
          ("JP", "Japan", "Tokyo")]
BASE_MS = 1_790_000_000_000  # 2026-09: a fixed clock keeps the file deterministic


def uuid7(ms, seq, salt):
    """A version-7 UUID (RFC 9562 layout) from a millisecond time and a 74-bit counter."""
    rand = (seq << 8 | salt) & ((1 << 74) - 1)
    hi = rand >> 62
    lo = rand & ((1 << 62) - 1)
    v = (ms << 80) | (0x7 << 76) | (hi << 64) | (0b10 << 62) | lo
    h = f"{v:032x}"
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def iso(ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenants", type=int, required=True)
    n = ap.parse_args().tenants
    out = sys.stdout
    buf = []
    pos = 0
    iso_cache = {}
    for i in range(n):
        ms = BASE_MS + i // 64  # 64 creates per millisecond
        if ms not in iso_cache:  # two timestamps per millisecond, formatted once
            iso_cache.clear()
            iso_cache[ms] = (iso(ms), iso(ms + 14 * 86_400_000))
        when, trial = iso_cache[ms]
        tid = "tn_" + uuid7(ms, i, 1)
        created_id = uuid7(ms, i, 2)
        corr = uuid7(ms, i, 3)
        prov_id = uuid7(ms, i, 4)
        loc = "loc_" + uuid7(ms, i, 5)
        cc, country, city = CITIES[i % len(CITIES)]
        desc = f"{WORDS[i % 16]} {WORDS[(i * 7) % 16]} logistics"
        plan = PLANS[i % len(PLANS)]
        pos += 1
        buf.append(
            f'{{"event_id":"{created_id}","type":"TenantCreated","schema_version":2,'
            f'"stream_id":"{tid}","tenant_id":"{tid}","version":1,"position":{pos},'
            f'"occurred_at":"{when}","data":{{"id":"{tid}","name":"Scale tenant {i:07d}",'
            f'"plan":"{plan}","admin_email":"admin{i}@scale.example",'
            f'"domain":"t{i:07d}.scale.example",'
            f'"settings":{{"timezone":null,"locale":null,"max_seats":null}},"address":null,'
            f'"city":"{city}","country_code":"{cc}","country_name":"{country}",'
            f'"post_code":null,"description":"{desc}","group_id":"0","group_name":"",'
            f'"trial_ends_at":"{trial}","created_by":"bench"}},'
            f'"metadata":{{"correlation_id":"{corr}","causation_id":"","actor":"bench",'
            f'"traceparent":""}}}}\n')
        pos += 1
        buf.append(
            f'{{"event_id":"{prov_id}","type":"TenantProvisioned","schema_version":1,'
            f'"stream_id":"{tid}","tenant_id":"{tid}","version":2,"position":{pos},'
            f'"occurred_at":"{when}","data":{{"default_location_id":"{loc}"}},'
            f'"metadata":{{"correlation_id":"","causation_id":"{created_id}",'
            f'"actor":"system:provisioning","traceparent":""}}}}\n')
        if len(buf) >= 20_000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


if __name__ == "__main__":
    main()
