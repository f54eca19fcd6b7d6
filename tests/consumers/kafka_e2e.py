#!/usr/bin/python3
"""Kafka end to end, with independent clients (Debian's python3-kafka, kcat, tenantctl):

  * `tenantctl broker` runs the embedded broker as a process of its own;
  * a writer node (tests/consumers/e2e_node.cpp: event store, repository, read model and the
    Kafka service, no HTTP) runs a command load; the broker goes down in the middle of it and
    comes back; the writer is SIGKILLed and restarted;
  * python3-kafka reads tenant.events and checks that every position of the log arrived, once
    after dedupe by event_id, with the right key, headers (CloudEvents binary mode) and value
    (valid against docs/asyncapi.yaml), in per-tenant order, one partition per tenant;
  * python3-kafka produces billing and usage records: their effects appear (events on
    tenant.events, the usage view), unprocessable ones land in the DLQs with a reason;
  * kcat and `tenantctl subscribe` read the same topic;
  * a replica node mirrors the writer's log.

Loopback only; every wait is bounded.
Usage: kafka_e2e.py --tenantctl PATH --node PATH --source DIR"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import jsonschema
import yaml
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


def wait_for(pred, limit, what):
    deadline = time.time() + limit
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    ok = pred()
    check(ok, f"timed out after {limit} s waiting for {what}")
    return ok


class Node:
    """An e2e_node process driven over its stdin/stdout (one JSON answer per command)."""

    def __init__(self, exe, brokers, data_dir, replica=False):
        args = [exe, "--brokers", brokers, "--data-dir", data_dir]
        if replica:
            args.append("--replica")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        ready = self._read(60)
        if not ready or not ready.get("ready"):
            raise RuntimeError(f"node did not start: {ready}")

    def _read(self, limit):
        result = {}

        def reader():
            for line in self.proc.stdout:
                try:
                    result["v"] = json.loads(line)
                    return
                except ValueError:
                    print("node:", line.rstrip(), flush=True)  # not an answer

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(limit)
        return result.get("v")

    def ask(self, command, limit=120):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = self._read(limit)
        if answer is None:
            raise RuntimeError(f"no answer to {command!r} within {limit} s")
        return answer

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(30)
            except Exception:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class Collector(threading.Thread):
    """Every record of a topic (all partitions, from the beginning), as it arrives."""

    def __init__(self, brokers, topic):
        super().__init__(daemon=True)
        self.consumer = KafkaConsumer(bootstrap_servers=brokers, group_id=None,
                                      enable_auto_commit=False, auto_offset_reset="earliest",
                                      consumer_timeout_ms=200)
        parts = self.consumer.partitions_for_topic(topic) or set()
        self.consumer.assign([TopicPartition(topic, p) for p in sorted(parts)])
        self.consumer.seek_to_beginning()
        self.records = []
        self.lock = threading.Lock()
        self.stopping = False

    def run(self):
        while not self.stopping:
            for tp, msgs in self.consumer.poll(timeout_ms=200).items():
                with self.lock:
                    self.records.extend(msgs)
        self.consumer.close()

    def snapshot(self):
        with self.lock:
            return list(self.records)

    def positions(self):
        return {int(dict(r.headers)["position"].decode()) for r in self.snapshot()}


def read_all(brokers, topic, count, limit=30):
    c = Collector(brokers, topic)
    c.start()
    wait_for(lambda: len(c.snapshot()) >= count, limit, f"{count} record(s) on {topic}")
    c.stopping = True
    c.join(5)
    return c.snapshot()


def verify_events(records, head, schema_doc):
    """Every position 1..head once after dedupe, headers, keys, order, schemas."""
    check(len(records) >= head, f"{len(records)} records for {head} events")
    seen = set()
    positions = set()
    partition_of = {}
    last_version = {}
    by_partition = {}
    for r in records:
        by_partition.setdefault(r.partition, []).append(r)
    for part in sorted(by_partition):
        for r in sorted(by_partition[part], key=lambda x: x.offset):
            h = {k: v.decode() for k, v in r.headers}
            env = json.loads(r.value)
            key = r.key.decode()
            if not check(h.get("ce_id") == env["event_id"], f"ce_id at {part}/{r.offset}"):
                continue
            if h["ce_id"] in seen:
                continue  # a duplicate of the at-least-once relay
            seen.add(h["ce_id"])
            positions.add(env["position"])
            check(key == env["tenant_id"], f"key {key} != tenant_id {env['tenant_id']}")
            check(h.get("ce_specversion") == "1.0", "ce_specversion")
            check(h.get("ce_type") == env["type"], "ce_type")
            check(h.get("ce_source") == "/tenants", "ce_source")
            check(h.get("ce_subject") == env["tenant_id"], "ce_subject")
            check(h.get("ce_time") == env["occurred_at"], "ce_time")
            check(h.get("content-type") == "application/json", "content-type")
            check(h.get("position") == str(env["position"]), "position header")
            check(h.get("version") == str(env["version"]), "version header")
            check(partition_of.setdefault(key, part) == part, f"tenant {key} on two partitions")
            stream = env["stream_id"]
            check(env["version"] == last_version.get(stream, 0) + 1,
                  f"stream {stream}: version {env['version']} after "
                  f"{last_version.get(stream, 0)} (order or gap)")
            last_version[stream] = env["version"]
            schema = dict(schema_doc)
            schema["$ref"] = f"#/components/messages/{env['type']}/payload"
            errors = list(jsonschema.Draft7Validator(schema).iter_errors(env))
            check(not errors, f"{env['type']} at {env['position']} vs asyncapi: "
                              f"{errors[0].message if errors else ''}")
    check(positions == set(range(1, head + 1)),
          f"positions: missing {sorted(set(range(1, head + 1)) - positions)[:10]}, "
          f"unexpected {sorted(positions - set(range(1, head + 1)))[:10]}")
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenantctl", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    with open(os.path.join(args.source, "docs", "asyncapi.yaml")) as f:
        schema_doc = yaml.safe_load(f)

    work = tempfile.mkdtemp(prefix="tenant-kafka-e2e-")
    broker = subprocess.Popen([args.tenantctl, "broker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    nodes = []
    collector = None
    try:
        brokers = broker.stdout.readline().strip()
        if not brokers.startswith("127.0.0.1:"):
            raise RuntimeError(f"tenantctl broker printed {brokers!r}")
        print("broker", brokers, flush=True)

        def control(cmd):
            broker.stdin.write(cmd + "\n")
            broker.stdin.flush()
            reply = broker.stdout.readline().strip()
            check(reply == "ok " + cmd, f"broker control {cmd!r}: {reply!r}")

        writer = Node(args.node, brokers, os.path.join(work, "writer"))
        nodes.append(writer)
        collector = Collector(brokers, "tenant.events")
        collector.start()

        # 1. Load, with a broker outage in the middle: commands keep succeeding.
        first = writer.ask("load 20 300")
        check(first["ok"], "load before the outage")
        control("down 1")
        during = writer.ask("load 10 200")
        check(during["ok"], "commands succeed while Kafka is down")
        wait_for(lambda: not writer.ask("status")["reachable"], 20, "relay to see Kafka down")
        st = writer.ask("status")
        check(st["relay_lag"] > 0, f"lag reported during the outage: {st}")
        control("up 1")
        wait_for(lambda: (lambda s: s["relay_checkpoint"] == s["head"] and s["reachable"])(
            writer.ask("status")), 60, "the backlog to drain after the outage")

        # 2. A crash of the writer: it resumes from its checkpoint.
        writer.kill()
        nodes.remove(writer)
        writer = Node(args.node, brokers, os.path.join(work, "writer"))
        nodes.append(writer)
        after = writer.ask("load 5 50")
        check(after["ok"], "load after the restart")

        # 3. Billing and usage from python3-kafka, on two fresh tenants.
        fresh = writer.ask("load 2 0")
        a, b = fresh["tenants"]
        check(writer.ask(f"deactivate {b}")["ok"], "deactivate")
        unknown = "tn_00000000-0000-7000-8000-0000000000ff"
        producer = KafkaProducer(bootstrap_servers=brokers, acks="all")

        def billing(key, value):
            producer.send("billing.events", key=key.encode(),
                          value=value if isinstance(value, bytes) else json.dumps(value).encode())

        pay = {"type": "payment_failed", "tenant_id": a, "payment_id": "e2e-pay-1",
               "amount_cents": 1200, "currency": "EUR", "reason": "card_declined",
               "occurred_at": "2026-01-15T09:30:00Z"}
        billing(a, pay)
        billing(a, pay)  # a redelivery: a no-op
        billing(a, dict(pay, type="payment_succeeded", payment_id="e2e-pay-2"))
        billing(a, {"type": "subscription_cancelled", "tenant_id": a, "reason": "churn"})
        billing(b, dict(pay, tenant_id=b, payment_id="e2e-pay-3"))  # deactivated: refused
        billing(a, b"{not json")
        billing(unknown, dict(pay, tenant_id=unknown, payment_id="e2e-pay-4"))
        producer.send("tenant.usage", key=a.encode(), value=json.dumps(
            {"tenant_id": a, "seats_in_use": 5, "storage_bytes": 4096,
             "observed_at": "2026-01-15T09:30:00Z"}).encode())
        producer.send("tenant.usage", key=unknown.encode(), value=json.dumps(
            {"tenant_id": unknown, "seats_in_use": 1,
             "observed_at": "2026-01-15T09:30:00Z"}).encode())
        producer.flush(30)
        producer.close()
        wait_for(lambda: (lambda s: s["processed"] >= 5 and s["dead_lettered"] >= 4)(
            writer.ask("status")), 60, "billing and usage records to be processed")
        types = writer.ask(f"events {a}")["types"]
        check(types == ["TenantCreated", "PaymentFailed", "PaymentSucceeded",
                        "SubscriptionCancelled"], f"billing effects on {a}: {types}")
        wait_for(lambda: writer.ask(f"usage {a}").get("seats_in_use") == 5, 30, "usage view")

        # 4. Everything published: check the topic as an independent subscriber sees it.
        wait_for(lambda: (lambda s: s["relay_checkpoint"] == s["head"])(writer.ask("status")),
                 60, "the relay to publish everything")
        head = writer.ask("status")["head"]
        wait_for(lambda: collector.positions() >= set(range(1, head + 1)), 60,
                 f"python3-kafka to receive positions 1..{head}")
        ids = verify_events(collector.snapshot(), head, schema_doc)
        payments = [json.loads(r.value) for r in collector.snapshot()
                    if dict(r.headers)["ce_type"] == b"PaymentFailed"]
        check(len({p["event_id"] for p in payments if p["data"]["payment_id"] == "e2e-pay-1"})
              == 1, "the repeated payment made exactly one event")
        print(f"tenant.events: {len(collector.snapshot())} records, {len(ids)} distinct events,"
              f" head {head}", flush=True)

        dlq = read_all(brokers, "billing.events.dlq", 3)
        reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dlq)
        check(reasons == ["domain_refused", "malformed_json", "unknown_tenant"],
              f"billing DLQ reasons {reasons}")
        check(any(r.value == b"{not json" for r in dlq), "DLQ keeps the original value")
        udlq = read_all(brokers, "tenant.usage.dlq", 1)
        check([dict(r.headers)["dlq_reason"].decode() for r in udlq] == ["unknown_tenant"],
              "usage DLQ reason")

        # 5. Other clients: kcat and tenantctl subscribe.
        kc = subprocess.run(["kcat", "-C", "-b", brokers, "-t", "tenant.events", "-o",
                             "beginning", "-e", "-q", "-f", "%h\n"], capture_output=True,
                            text=True, timeout=60)
        kcat_ids = {f.split("=", 1)[1] for line in kc.stdout.splitlines()
                    for f in line.split(",") if f.startswith("ce_id=")}
        check(kcat_ids == ids, f"kcat saw {len(kcat_ids)} distinct events, expected {len(ids)}")
        sub = subprocess.run([args.tenantctl, "subscribe", "--brokers", brokers,
                              "--from-beginning", "--idle-timeout-ms", "8000"],
                             capture_output=True, text=True, timeout=120)
        lines = [json.loads(l) for l in sub.stdout.splitlines() if l.strip()]
        check(sub.returncode == 0, f"tenantctl subscribe exit {sub.returncode}")
        check(len(lines) == len(ids) and {l["event_id"] for l in lines} == ids,
              f"tenantctl subscribe printed {len(lines)} events, expected {len(ids)} once each")
        sub = subprocess.run([args.tenantctl, "subscribe", "--brokers", brokers,
                              "--from-beginning", "--type", "SubscriptionCancelled",
                              "--idle-timeout-ms", "8000"], capture_output=True, text=True,
                             timeout=120)
        cancelled = [json.loads(l) for l in sub.stdout.splitlines() if l.strip()]
        check([c["tenant_id"] for c in cancelled] == [a], f"--type filter: {cancelled}")

        # 6. A replica mirrors the log (and keeps its own usage view).
        replica = Node(args.node, brokers, os.path.join(work, "replica"), replica=True)
        nodes.append(replica)
        wait_for(lambda: replica.ask("status")["replica_position"] == head, 60,
                 "the replica to mirror the log")
        check(replica.ask(f"events {a}") == writer.ask(f"events {a}"), "replica stream")
        wait_for(lambda: replica.ask(f"usage {a}").get("seats_in_use") == 5, 30,
                 "the replica's usage view")
    except Exception as e:  # a crash of the harness is a failure, reported as such
        check(False, f"exception: {e!r}")
    finally:
        if collector:
            collector.stopping = True
            collector.join(5)
        for n in nodes:
            n.quit()
        broker.send_signal(signal.SIGTERM)
        try:
            broker.wait(30)
        except subprocess.TimeoutExpired:
            broker.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("OK" if not FAILURES else f"{len(FAILURES)} failure(s)", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
