"""Crash under load (issue 9, part 1).

A driver sends creates, updates and plan changes over 64 connections to the real tenantd
(durability fsync, an external broker from `tenantctl broker`), records every 2xx answer
(tenant id, X-Event-Position, the version and the state it implies), and kills tenantd with
SIGKILL at random moments, restarting it each time on the same data directory. Afterwards:

  * every acknowledged command is in the log, at the position it was acknowledged with, with
    the version and the content it implied (`tenantctl events`);
  * positions in the log are exactly 1..head;
  * `tenantctl verify` passes (contiguous positions and versions, projections equal to a fresh
    replay);
  * the API serves every acknowledged tenant at (at least) its acknowledged version;
  * `tenant.events` holds every event of the log once after dedupe by event_id, each tenant's
    events in version order.

  python3 crash_e2e.py [--kills N] [--connections N] [--seed S]   (CI: the defaults, 20 kills)
Every wait is bounded; the random choices come from --seed, printed at the start."""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import tenantd_harness as h  # noqa: E402

from kafka import KafkaConsumer, TopicPartition  # noqa: E402  (Debian python3-kafka)

START_TIMEOUT = 60.0
PLANS = ["starter", "professional", "enterprise"]


def fail(msg):
    raise AssertionError(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_token(sub):
    """(secret, platform:admin token) when this build has authentication, else (None, None)."""
    if not (h.tenantd_supports("--jwt-secret") and h.tenantctl_supports("token")):
        return None, None
    secret = "fault-suite-secret-%s-0123456789abcdef" % sub
    r = subprocess.run([h.binary("TENANTCTL_BIN"), "token", "--sub", sub,
                        "--scope", "platform:admin tenants:read tenants:write",
                        "--ttl", "2h", "--jwt-secret", secret],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        fail("tenantctl token: " + r.stderr)
    return secret, r.stdout.strip().splitlines()[-1].strip()


class Node:
    """tenantd on a fixed port and data directory, killed and restarted at will."""

    def __init__(self, data_dir, port, brokers, secret):
        self.data_dir, self.port, self.brokers, self.secret = data_dir, port, brokers, secret
        self.proc = None
        self.log = open(os.path.join(os.path.dirname(data_dir), "tenantd.log"), "a")
        self.starts = 0

    def start(self):
        args = [h.binary("TENANTD_BIN"), "--data-dir", self.data_dir,
                "--listen", "127.0.0.1:%d" % self.port, "--kafka-brokers", self.brokers,
                "--durability", "fsync", "--log-format", "json"]
        if self.secret:
            args += ["--jwt-secret", self.secret]
        if h.tenantd_supports("--rate-limits"):
            args += ["--rate-limits", "off"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTD_")}
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=env)
        self.starts += 1
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("tenantd exited with %s at start %d (see %s)" % (
                    self.proc.returncode, self.starts, self.log.name))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/livez")
                if c.getresponse().status == 200:
                    c.close()
                    return
                c.close()
            except OSError:
                pass
            time.sleep(0.05)
        fail("tenantd did not answer /livez within %ss" % START_TIMEOUT)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
                fail("tenantd did not stop on SIGTERM within 60 s")

    def wait_ready(self, limit=60.0):
        deadline = time.time() + limit
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        fail("/readyz did not answer 200 within %ss" % limit)


class Driver(threading.Thread):
    """One connection's worth of load. Each tenant belongs to one driver, so its commands are
    sequential and the driver knows what each acknowledged answer implies."""

    def __init__(self, idx, port, token, seed, acks, lock, allow_503=True, pace=0.0):
        super().__init__(daemon=True)
        self.allow_503 = allow_503
        self.pace = pace  # seconds between commands (0: as fast as answers come)
        self.errors = []  # answers no command may get; checked by the main thread
        self.idx, self.port, self.token = idx, port, token
        self.rng = random.Random(seed * 1000 + idx)
        self.acks, self.lock = acks, lock
        self.tenants = {}  # id -> {"plan", "name"} as last acknowledged
        self.stopping = False
        self.sent = 0
        self.conn = None

    def call(self, method, path, body):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = {"Content-Type": "application/json"}
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        try:
            self.conn.request(method, path, body=json.dumps(body).encode(), headers=hdrs)
            r = self.conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            return None, None, None

    def run(self):
        n = 0
        while not self.stopping:
            n += 1
            roll = self.rng.random()
            if not self.tenants or roll < 0.3:
                name = "Crash %d-%d" % (self.idx, n)
                body = {"name": name, "plan": self.rng.choice(PLANS),
                        "admin_email": "owner%d@crash.example" % self.idx,
                        "domain": "t%d-%d.crash.example" % (self.idx, n)}
                kind, method, path = "create", "POST", "/api/v1/tenants"
            else:
                tid = self.rng.choice(sorted(self.tenants))
                if roll < 0.65:
                    name = "Crash %d-%d renamed" % (self.idx, n)
                    body = {"name": name, "plan": self.tenants[tid]["plan"],
                            "admin_email": "owner%d@crash.example" % self.idx}
                    kind, method, path = "update", "PUT", "/api/v1/tenants/" + tid
                else:
                    plan = self.rng.choice([p for p in PLANS if p != self.tenants[tid]["plan"]])
                    body = {"plan": plan}
                    kind, method, path = "plan", "PUT", "/api/v1/tenants/%s/plan" % tid
            self.sent += 1
            if self.pace:
                time.sleep(self.pace)
            status, headers, data = self.call(method, path, body)
            if status is None:
                time.sleep(0.05)  # tenantd is down (killed): try again once it is back
                continue
            if not 200 <= status < 300:
                # 503 while starting, or a 4xx the random load provoked (e.g. a plan limit):
                # not acknowledged, so nothing to check.
                if status >= 500 and (status != 503 or not self.allow_503):
                    self.errors.append("%s %s answered %d: %s" % (method, path, status,
                                                                  data[:300]))
                continue
            res = json.loads(data)
            tid = res["id"]
            ack = {"kind": kind, "tenant": tid, "position": int(headers["x-event-position"]),
                   "version": int(res["version"])}
            if kind in ("create", "update"):
                ack["name"] = body["name"]
            if kind == "plan":
                ack["plan"] = body["plan"]
            if res.get("plan") not in PLANS:
                self.errors.append("answer without a plan: %r" % res)
                continue
            self.tenants[tid] = {"plan": res["plan"], "name": res["name"]}
            with self.lock:
                self.acks.append(ack)


def read_log(data_dir):
    r = subprocess.run([h.binary("TENANTCTL_BIN"), "--data-dir", data_dir, "events"],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        fail("tenantctl events failed: " + r.stderr)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def check_log(log, acks):
    positions = [e["position"] for e in log]
    if positions != list(range(1, len(log) + 1)):
        fail("log positions are not exactly 1..%d" % len(log))
    by_pos = {e["position"]: e for e in log}
    for a in acks:
        e = by_pos.get(a["position"])
        if e is None:
            fail("acknowledged %s lost: position %d not in the log" % (a, a["position"]))
        if e["tenant_id"] != a["tenant"] or e["version"] != a["version"]:
            fail("acknowledged %s, but the log has %s v%d at that position" % (
                a, e["tenant_id"], e["version"]))
        if a["kind"] == "create" and (e["type"] != "TenantCreated" or
                                      e["data"]["name"] != a["name"]):
            fail("acknowledged create %s, log has %s" % (a, e))
        if a["kind"] == "update" and e["type"] == "TenantUpdated" and \
                e["data"].get("name") not in (None, a["name"]):
            fail("acknowledged update %s, log has %s" % (a, e))
        if a["kind"] == "plan" and e["type"] in ("PlanUpgraded", "PlanDowngraded") and \
                e["data"]["to"] != a["plan"]:
            fail("acknowledged plan change %s, log has %s" % (a, e))


def relay_checkpoint(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("tenantd_kafka_relay_checkpoint_position"):
            return int(float(line.split()[-1]))
    return None


def wait_for_relay(port, head, limit=180.0):
    """Until the relay's checkpoint (delivery-confirmed) reaches the log's head."""
    deadline = time.time() + limit
    started = time.time()
    cp = relay_checkpoint(port)
    first = cp
    while time.time() < deadline and (cp is None or cp < head):
        time.sleep(0.5)
        cp = relay_checkpoint(port)
    if cp is None or cp < head:
        fail("relay checkpoint %s (was %s at restart) did not reach the head %d within %d s" % (
            cp, first, head, limit))
    print("crash_e2e: relay drained %s..%d in %.1f s" % (first, head, time.time() - started),
          flush=True)


class Collector(threading.Thread):
    """Reads tenant.events from the beginning for the whole run. It must read while the load
    runs: the embedded broker (librdkafka's mock cluster) keeps only the newest 5 MiB of each
    partition, so records read only at the end could already be gone."""

    def __init__(self, brokers):
        super().__init__(daemon=True)
        self.brokers = brokers
        self.records = []
        self.ids = set()
        self.lock = threading.Lock()
        self.stopping = False
        self.error = None

    def run(self):
        try:
            consumer = KafkaConsumer(bootstrap_servers=self.brokers, group_id=None,
                                     enable_auto_commit=False, auto_offset_reset="earliest",
                                     consumer_timeout_ms=200)
            deadline = time.time() + 60
            parts = None
            while not parts and time.time() < deadline and not self.stopping:
                parts = consumer.partitions_for_topic("tenant.events")
                if not parts:
                    time.sleep(0.2)
                    consumer.topics()  # refresh the metadata
            if not parts:
                raise RuntimeError("tenant.events does not exist on the broker")
            consumer.assign([TopicPartition("tenant.events", p) for p in sorted(parts)])
            consumer.seek_to_beginning()
            while not self.stopping:
                for _, msgs in consumer.poll(timeout_ms=200).items():
                    with self.lock:
                        self.records.extend(msgs)
                        for m in msgs:
                            self.ids.add(dict(m.headers)["ce_id"].decode())
            consumer.close()
        except Exception as e:  # reported by check_topic
            self.error = e

    def seen(self):
        with self.lock:
            return set(self.ids)


def check_topic(collector, log, limit=120.0):
    want = {e["event_id"] for e in log}
    deadline = time.time() + limit
    while time.time() < deadline and not want <= collector.seen() and collector.error is None:
        time.sleep(0.2)
    collector.stopping = True
    collector.join(30)
    if collector.error is not None:
        fail("reading tenant.events: %r" % collector.error)
    missing = want - collector.seen()
    if missing:
        pos = sorted(e["position"] for e in log if e["event_id"] in missing)
        # The embedded broker keeps only the newest 5 MiB per partition: say whether it dropped
        # records, so a reader that fell behind is not mistaken for a relay that lost events.
        probe = KafkaConsumer(bootstrap_servers=collector.brokers, group_id=None)
        tps = [TopicPartition("tenant.events", p)
               for p in sorted(probe.partitions_for_topic("tenant.events") or [])]
        first = probe.beginning_offsets(tps)
        probe.close()
        fail("%d events of the log never reached tenant.events within %d s: positions %d..%d "
             "(of 1..%d); first offsets still on the broker: %s" % (
                 len(missing), limit, pos[0], pos[-1], len(log),
                 [first[t] for t in tps]))
    records = collector.records
    last = {}
    dupes = 0
    first_seen = set()
    for r in sorted(records, key=lambda m: (m.partition, m.offset)):
        env = json.loads(r.value)
        if env["event_id"] in first_seen:
            dupes += 1
            continue
        first_seen.add(env["event_id"])
        if r.key.decode() != env["tenant_id"]:
            fail("record key %r for tenant %s" % (r.key, env["tenant_id"]))
        s = env["stream_id"]
        if env["version"] != last.get(s, 0) + 1:
            fail("stream %s: version %d after %d on the topic" % (s, env["version"],
                                                                   last.get(s, 0)))
        last[s] = env["version"]
    return len(records), dupes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=int(os.environ.get("CRASH_KILLS", "20")))
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    print("crash_e2e: seed %d, %d kills, %d connections" % (args.seed, args.kills,
                                                            args.connections), flush=True)
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="tenantd-crash-")
    broker = subprocess.Popen([h.binary("TENANTCTL_BIN"), "broker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    node = None
    ok = False
    try:
        brokers = broker.stdout.readline().strip()
        if not brokers.startswith("127.0.0.1:"):
            fail("tenantctl broker printed %r" % brokers)
        secret, token = admin_token("crash-driver")
        node = Node(os.path.join(work, "data"), free_port(), brokers, secret)
        node.start()
        collector = Collector(brokers)
        collector.start()
        acks, lock = [], threading.Lock()
        drivers = [Driver(i, node.port, token, args.seed, acks, lock)
                   for i in range(args.connections)]
        for d in drivers:
            d.start()
        started = time.time()
        for k in range(args.kills):
            time.sleep(rng.uniform(0.2, 1.5))
            node.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            node.start()
        time.sleep(1.0)
        for d in drivers:
            d.stopping = True
        for d in drivers:
            d.join(60)
            if d.is_alive():
                fail("a driver did not finish within 60 s")
        errors = [e for d in drivers for e in d.errors]
        if errors:
            fail("%d commands got a server error, e.g. %s" % (len(errors), errors[:3]))
        elapsed = time.time() - started
        sent = sum(d.sent for d in drivers)
        node.wait_ready()

        # The API serves every acknowledged tenant at (at least) its acknowledged version.
        latest = {}
        for a in acks:
            latest[a["tenant"]] = max(latest.get(a["tenant"], 0), a["version"])
        c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)
        hdrs = {"Authorization": "Bearer " + token} if token else {}
        for tid, version in latest.items():
            c.request("GET", "/api/v1/tenants/" + tid, headers=hdrs)
            r = c.getresponse()
            body = r.read()
            if r.status != 200:
                fail("GET %s after the crashes: %d %s" % (tid, r.status, body[:200]))
            if json.loads(body)["version"] < version:
                fail("GET %s: version %d < acknowledged %d" % (tid, json.loads(body)["version"],
                                                                version))
        c.close()
        node.stop()

        log = read_log(node.data_dir)
        check_log(log, acks)
        v = subprocess.run([h.binary("TENANTCTL_BIN"), "--data-dir", node.data_dir, "verify"],
                           capture_output=True, text=True, timeout=600)
        if v.returncode != 0:
            fail("tenantctl verify failed:\n" + v.stdout[-2000:] + v.stderr[-2000:])

        # The relay resumes from its checkpoint and publishes the rest.
        node.start()
        wait_for_relay(node.port, len(log))
        records, dupes = check_topic(collector, log)
        node.stop()
        print("crash_e2e: %d kills in %.1f s; %d commands sent, %d acknowledged, all in the log "
              "(%d events); verify ok; tenant.events: %d records, %d duplicates dropped, "
              "per-tenant order ok" % (args.kills, elapsed, sent, len(acks), len(log), records,
                                       dupes), flush=True)
        if len(acks) < args.kills:
            fail("only %d commands were acknowledged: the load did not run" % len(acks))
        ok = True
    finally:
        if node:
            try:
                node.stop()
            except AssertionError:
                pass
        broker.send_signal(signal.SIGTERM)
        try:
            broker.wait(30)
        except subprocess.TimeoutExpired:
            broker.kill()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("crash_e2e: kept %s for inspection" % work, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
