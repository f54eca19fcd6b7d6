"""Disk trouble (issue 9, part 3): the data directory turns read-only under load.

tenantd runs with its data directory on an ext4 file system of its own: an image file on a loop
device, mounted with errors=remount-ro. `mount -o remount,abort` then aborts the journal: the
file system becomes read-only with tenantd's files still open (every write and fsync gets
EROFS, /proc/mounts shows emergency_ro), which a tmpfs cannot do (it refuses remount,ro while
files are open for writing). Needs root, losetup, mkfs.ext4 and e2fsck; skipped with exit code
77 otherwise, or when the loop mount fails. The test:

  1. creates and updates tenants, then runs a few concurrent writers; every 2xx is recorded
     (tenant id, X-Event-Position, version, the state it implies);
  2. aborts the file system under that load: every command sent afterwards answers 503 in the
     problem shape (never a 500, never a hang: every request has a bounded timeout), tenantd
     logs a line naming the cause ("Read-only file system"), /readyz answers within a bound;
  3. while read-only, every acknowledged tenant reads back with its acknowledged state, and
     the list and count answer;
  4. stops tenantd with SIGTERM (it must exit within a bound), unmounts, repairs the file
     system with e2fsck -fy (what was written but never synced is lost here, so the check
     below means something), mounts it again and restarts tenantd: every command acknowledged
     before the abort started is in the log at its position (one answered while the abort
     ran may be missing only as part of a lost tail: see Acks.reconcile), every acknowledged
     tenant reads back, new commands succeed, and `tenantctl verify` passes.

  python3 readonly_e2e.py [--size-mb N] [--writers N] [--keep]
Mounts and loop devices are removed on every exit path (umount, then a bounded umount -l)."""
import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import tenantd_harness as h  # noqa: E402

SKIP = 77
REQUEST_TIMEOUT = 20.0  # no command or query may take longer, read-only or not
STOP_TIMEOUT = 30.0  # SIGTERM to exit
PLANS = ["starter", "professional", "enterprise"]


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def fail(msg):
    raise Failure(msg)


def log(msg):
    print("readonly_e2e: " + msg, flush=True)


def run(args, timeout=60, check=True):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        fail("%s exited with %d: %s" % (" ".join(args), r.returncode, (r.stderr or r.stdout)[-500:]))
    return r


# ---- the file system ----

class LoopFs:
    """An ext4 image on a loop device, mounted at `mnt`. close() undoes whatever was done."""

    def __init__(self, work, size_mb):
        self.image = os.path.join(work, "fs.img")
        self.mnt = os.path.join(work, "mnt")
        self.size_mb = size_mb
        self.dev = None
        self.mounted = False

    def create(self):
        for tool in ("losetup", "mkfs.ext4", "e2fsck", "mount", "umount"):
            if shutil.which(tool) is None:
                raise Skip("%s is not installed" % tool)
        os.mkdir(self.mnt)
        with open(self.image, "wb") as f:
            f.truncate(self.size_mb << 20)
        r = run(["losetup", "-f", "--show", self.image], check=False)
        if r.returncode != 0 or not r.stdout.strip().startswith("/dev/"):
            raise Skip("no loop device: " + (r.stderr or r.stdout).strip()[:300])
        self.dev = r.stdout.strip()
        r = run(["mkfs.ext4", "-q", "-F", self.dev], timeout=120, check=False)
        if r.returncode != 0:
            raise Skip("mkfs.ext4 failed: " + r.stderr.strip()[:300])
        self.mount()

    def mount(self):
        r = run(["mount", "-t", "ext4", "-o", "errors=remount-ro", self.dev, self.mnt],
                check=False)
        if r.returncode != 0:
            raise Skip("cannot mount the loop device: " + r.stderr.strip()[:300])
        self.mounted = True

    def options(self):
        """The mount options /proc/mounts shows for the mount point (None: not mounted)."""
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 4 and parts[1] == self.mnt:
                    return parts[3]
        return None

    def abort(self):
        """Aborts the journal: from here on every write and sync gets EROFS."""
        run(["mount", "-o", "remount,abort", self.mnt])

    def umount(self):
        if not self.mounted:
            return
        r = run(["umount", self.mnt], timeout=60, check=False)
        if r.returncode != 0:
            # Something still holds it (a process that would not die): detach it lazily, so
            # the loop device can go and the test does not leave a mount behind.
            run(["umount", "-l", self.mnt], timeout=60, check=False)
        self.mounted = False

    def fsck(self):
        """e2fsck -fy: 0 clean, 1 errors fixed; anything else fails the test."""
        r = run(["e2fsck", "-fy", self.dev], timeout=300, check=False)
        if r.returncode not in (0, 1):
            fail("e2fsck -fy exited with %d:\n%s" % (r.returncode, r.stdout[-2000:]))
        return r.returncode

    def close(self):
        try:
            self.umount()
        finally:
            if self.dev:
                for _ in range(10):  # the kernel may need a moment after a lazy umount
                    if run(["losetup", "-d", self.dev], check=False).returncode == 0:
                        break
                    time.sleep(0.5)
                self.dev = None


# ---- HTTP ----

class Client:
    """One kept-alive connection with a bounded timeout per request. A timeout or a dropped
    connection is a failure: tenantd must answer, read-only or not."""

    def __init__(self, port, token):
        self.port, self.token = port, token
        self.conn = None

    def call(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=REQUEST_TIMEOUT)
        hdrs = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        started = time.time()
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            r = self.conn.getresponse()
            payload = r.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            self.close()
            fail("%s %s: no answer after %.1f s (%r)" % (method, path, time.time() - started, e))
        headers = {k.lower(): v for k, v in r.getheaders()}
        if headers.get("connection", "").lower() == "close":
            self.close()
        return h.Response(r.status, headers, payload)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def problem_error(res, status):
    """None when `res` is a problem document with this status, else what is wrong."""
    if res.status != status:
        return "expected %d, got %r" % (status, res)
    body = res.json if isinstance(res.json, dict) else {}
    missing = [k for k in ("type", "title", "status", "detail") if k not in body]
    if missing:
        return "the %d answer lacks %s: %r" % (status, missing, res)
    if "problem+json" not in (res.header("content-type") or ""):
        return "the %d answer has content-type %r" % (status, res.header("content-type"))
    return None


def tenant_body(name, plan):
    return {"name": name, "plan": plan, "admin_email": "ops@readonly.example"}


class Acks:
    """Every acknowledged command, and per tenant what it may look like: the state of its last
    acknowledgement, or of a later command that failed (a failed command may have reached the
    disk anyway and survive the repair: it was not acknowledged, so either outcome is right)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.list = []  # {"tenant", "position", "version", "name", "plan", "kind"}
        self.last = {}  # tenant -> the latest acknowledged entry
        self.unanswered = {}  # tenant -> [(name, plan)] of failed commands after `last`

    def add(self, kind, res, name, plan):
        a = {"kind": kind, "tenant": res.json["id"], "version": int(res.json["version"]),
             "position": int(res.header("x-event-position")), "name": name, "plan": plan,
             "at": time.time()}
        if res.json.get("name") != name or res.json.get("plan") != plan:
            fail("the %s answer does not show the command's state: %r" % (kind, res))
        with self.lock:
            self.list.append(a)
            prev = self.last.get(a["tenant"])
            if prev is None or prev["version"] < a["version"]:
                self.last[a["tenant"]] = a
                self.unanswered[a["tenant"]] = []
        return a

    def failed(self, tenant, name, plan):
        with self.lock:
            self.unanswered.setdefault(tenant, []).append((name, plan))

    def reconcile(self, events, abort_started, restarted_at):
        """Holds the acknowledgements against the log as the repair left it. Every command
        acknowledged before the abort started must be there at its position. One answered
        while the abort ran may be missing, but only as part of a lost tail of the log: when
        the journal is aborted, the kernel can report an fdatasync that overlaps the abort as
        successful and e2fsck then drops that last transaction (a plain write + fdatasync loop
        shows the same, see docs/reliability.md); its position may hold an event appended
        after the restart. Returns the acknowledgements lost that way; from here on the
        expectations are the surviving ones."""
        check_positions(events)
        survivors, lost = [], []
        for a in self.list:
            if a["position"] <= len(events) and matches(events[a["position"] - 1], a):
                survivors.append(a)
                continue
            if a["at"] < abort_started:
                fail("acknowledged before the abort and lost: %s; the log (1..%d) has %s" % (
                    a, len(events), json.dumps(events[a["position"] - 1])[:400]
                    if a["position"] <= len(events) else "nothing there"))
            if a["position"] <= len(events) and \
                    occurred(events[a["position"] - 1]) < restarted_at:
                fail("answered during the abort, %s is replaced in the log by %s" % (
                    a, json.dumps(events[a["position"] - 1])[:400]))
            lost.append(a)
        self.list = survivors
        self.last = {}
        for a in survivors:
            prev = self.last.get(a["tenant"])
            if prev is None or prev["version"] < a["version"]:
                self.last[a["tenant"]] = a
        return lost


class Writer(threading.Thread):
    """Creates and updates its own tenants on its own connection until told to stop. Every
    answer is classified against the moment the file system was aborted."""

    def __init__(self, idx, port, token, acks, aborted_at, tenants):
        super().__init__(daemon=True)
        self.idx = idx
        self.client = Client(port, token)
        self.acks = acks
        # [abort started, abort done] (None until then), set by the main thread: a command sent
        # after the abort is done must be refused; one answered before it started must not be.
        self.aborted_at = aborted_at
        self.tenants = dict(tenants)  # id -> (name, plan) as last acknowledged
        self.stopping = False
        self.after_abort = 0  # commands sent after the abort (all must be 503)
        self.acked_in_flight = 0  # 2xx for commands sent before the abort, answered after
        self.errors = []
        self.first_refusal = None

    def run(self):
        n = 0
        try:
            while not self.stopping and len(self.errors) < 5:
                n += 1
                sent_at = time.time()
                if not self.tenants or n % 4 == 0:
                    name, plan = "Ro W%d Create %05d" % (self.idx, n), PLANS[n % 3]
                    tid = None
                    res = self.client.call("POST", "/api/v1/tenants", tenant_body(name, plan))
                    ok, kind = 201, "create"
                else:
                    tid = sorted(self.tenants)[n % len(self.tenants)]
                    plan = self.tenants[tid][1]
                    name = "Ro W%d Update %05d" % (self.idx, n)  # always a change: no no-op
                    res = self.client.call("PUT", "/api/v1/tenants/" + tid,
                                           tenant_body(name, plan))
                    ok, kind = 200, "update"
                aborted = self.aborted_at[0]
                done = self.aborted_at[1]
                after = done is not None and sent_at > done
                if after:
                    self.after_abort += 1
                if res.status == ok:
                    if after:
                        self.errors.append("a %s sent after the abort succeeded: %r" % (kind, res))
                        continue
                    if aborted is not None:
                        self.acked_in_flight += 1
                    a = self.acks.add(kind, res, name, plan)
                    self.tenants[a["tenant"]] = (name, plan)
                    continue
                err = problem_error(res, 503)
                if err:
                    self.errors.append("%s %s: %s" % (kind, "before" if not after else "after",
                                                       err))
                    continue
                if aborted is None:
                    # A 503 before the abort: tolerated (not acknowledged), but odd; say so.
                    self.errors.append("a %s answered 503 before the abort: %r" % (kind, res))
                    continue
                if self.first_refusal is None:
                    self.first_refusal = res
                if tid is not None:
                    self.acks.failed(tid, name, plan)
                time.sleep(0.02)  # refused: do not spin
        except Failure as e:
            self.errors.append(str(e))
        finally:
            self.client.close()


# ---- checks ----

def read_log(data_dir):
    r = run([h.binary("TENANTCTL_BIN"), "--data-dir", data_dir, "events"], timeout=300)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def occurred(event):
    """occurred_at as epoch seconds ("2026-01-15T09:30:00.123Z")."""
    text = event["occurred_at"]
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in text else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.datetime.strptime(text, fmt).replace(
        tzinfo=datetime.timezone.utc).timestamp()


def check_positions(events):
    positions = [e["position"] for e in events]
    if positions != list(range(1, len(events) + 1)):
        fail("log positions are not exactly 1..%d" % len(events))


def matches(event, a):
    want_type = "TenantCreated" if a["kind"] == "create" else "TenantUpdated"
    return event["tenant_id"] == a["tenant"] and event["version"] == a["version"] and \
        event["type"] == want_type and event["data"].get("name") == a["name"]


def check_log(events, acks):
    check_positions(events)
    for a in acks.list:
        if a["position"] > len(events):
            fail("acknowledged %s lost: the log ends at %d" % (a, len(events)))
        e = events[a["position"] - 1]
        if not matches(e, a):
            fail("acknowledged %s, but the log has at its position: %s" % (a, json.dumps(e)[:400]))


def check_reads(client, acks, after_restart):
    """Every acknowledged tenant reads back with its acknowledged name and plan, at its
    acknowledged version or later (the provisioning process manager appends TenantProvisioned
    on its own). While read-only nothing else can have been stored; after the repair a refused
    command may have survived (see Acks)."""
    for tid, a in acks.last.items():
        res = client.call("GET", "/api/v1/tenants/" + tid)
        if res.status != 200:
            fail("GET acknowledged tenant %s answered %r; acknowledged: %s" % (
                tid, res, [x for x in acks.list if x["tenant"] == tid]))
        got = (res.json.get("name"), res.json.get("plan"))
        version = int(res.json.get("version", 0))
        if version < a["version"]:
            fail("tenant %s reads version %d; acknowledged: %s" % (
                tid, version, [x for x in acks.list if x["tenant"] == tid]))
        if got == (a["name"], a["plan"]):
            continue
        if after_restart and version > a["version"] and got in acks.unanswered.get(tid, []):
            continue
        fail("tenant %s reads %r at version %d; acknowledged %r at version %d%s" % (
            tid, got, version, (a["name"], a["plan"]), a["version"],
            "" if not after_restart else " (refused since: %r)" % acks.unanswered.get(tid)))


def check_list_and_count(client):
    lst = client.call("GET", "/api/v1/tenants?per_page=100")
    if lst.status != 200 or not isinstance(lst.json, dict) or "meta" not in lst.json:
        fail("the list answered %r" % lst)
    cnt = client.call("GET", "/api/v1/tenants/count")
    if cnt.status != 200 or not isinstance(cnt.json, dict) or "count" not in cnt.json:
        fail("count answered %r" % cnt)
    if cnt.json["count"] != lst.json["meta"]["total"]:
        fail("count %r and the list's total %r disagree" % (cnt.json["count"],
                                                            lst.json["meta"]["total"]))
    return cnt.json["count"]


def readyz(client):
    res = client.call("GET", "/readyz")
    if res.status not in (200, 503) or not isinstance(res.json, dict) or \
            "checks" not in res.json:
        fail("/readyz answered %r" % res)
    return res


RO_PATTERN = re.compile(r"read-only file system|erofs", re.I)


def ro_lines(node):
    return [line for line in node.stderr_lines + node.stdout_lines if RO_PATTERN.search(line)]


def non_access_lines(lines):
    return [line for line in lines if '"logger":"access"' not in line]


# ---- the scenario ----

def scenario(args, fs):
    node = h.Tenantd(["--rate-limits", "off", "--durability", "fsync"],
                     jwt_secret="readonly-suite-secret-0123456789abcdef01")
    os.rmdir(node.data_dir)
    node.data_dir = os.path.join(fs.mnt, "data")
    try:
        return run_scenario(args, fs, node)
    except Failure:
        if node.proc is not None:
            code = node.proc.poll()
            log("tenantd %s; its last log lines:\n%s" % (
                "is running" if code is None else "exited with %s" % code,
                "\n".join(node.stderr_lines[-40:])))
        raise
    finally:
        # Whatever happened, no tenantd may keep the mount busy.
        if node.proc is not None and node.proc.poll() is None:
            node.proc.kill()
            node.proc.wait(30)


def stop_within_bound(node, what):
    """SIGTERM; the process must exit by itself within STOP_TIMEOUT."""
    node.proc.send_signal(signal.SIGTERM)
    started = time.time()
    try:
        rc = node.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        node.proc.kill()
        node.proc.wait(30)
        fail("%s: tenantd did not exit within %d s of SIGTERM; last log lines:\n%s" % (
            what, STOP_TIMEOUT, "\n".join(node.stderr_lines[-20:])))
    if node._conn is not None:
        node._conn.close()
        node._conn = None
    if rc < 0:
        fail("%s: tenantd died of signal %d on SIGTERM; last log lines:\n%s" % (
            what, -rc, "\n".join(node.stderr_lines[-30:])))
    return rc, time.time() - started


def run_scenario(args, fs, node):
    node.start()
    token = node.token("readonly-suite", scope="platform:admin tenants:read tenants:write")
    client = Client(node.port, token)
    acks = Acks()

    # 1. Creates and updates with the file system healthy.
    owned = [dict() for _ in range(args.writers)]
    for i in range(40):
        name, plan = "Ro Before %03d" % i, PLANS[i % 3]
        res = client.call("POST", "/api/v1/tenants", tenant_body(name, plan))
        if res.status != 201:
            fail("create on a healthy disk answered %r" % res)
        a = acks.add("create", res, name, plan)
        owned[i % args.writers][a["tenant"]] = (name, plan)
    for i, tid in enumerate(sorted(acks.last)[:20]):
        plan = acks.last[tid]["plan"]
        name = "Ro Renamed %03d" % i
        res = client.call("PUT", "/api/v1/tenants/" + tid, tenant_body(name, plan))
        if res.status != 200:
            fail("update on a healthy disk answered %r" % res)
        a = acks.add("update", res, name, plan)
        for o in owned:
            if tid in o:
                o[tid] = (name, plan)
    log("%d commands acknowledged on a healthy disk" % len(acks.list))

    # 2. Abort the file system under load.
    aborted_at = [None, None]
    writers = [Writer(i, node.port, token, acks, aborted_at, owned[i])
               for i in range(args.writers)]
    for w in writers:
        w.start()
    healthy = len(acks.list)
    time.sleep(args.load_before)
    under_load = len(acks.list) - healthy
    log_mark = len(node.stderr_lines)
    aborted_at[0] = time.time()
    fs.abort()
    aborted_at[1] = time.time()
    log("abort from %.3f to %.3f" % (aborted_at[0], aborted_at[1]))
    opts = fs.options() or ""
    log("file system aborted under load after %d more acknowledgements (mount options: %s)" % (
        under_load, opts))
    # ext4 keeps the mount "rw" and flags it emergency_ro (kernels before 6.12: "ro").
    if not re.search(r"(^|,)(ro|emergency_ro)(,|$)", opts):
        fail("the aborted file system is not read-only: %s" % opts)
    # Every writer must see several refusals; bounded.
    deadline = time.time() + args.load_after
    while time.time() < deadline and \
            any(w.after_abort < 10 and w.is_alive() and not w.errors for w in writers):
        time.sleep(0.1)
    for w in writers:
        w.stopping = True
    for w in writers:
        w.join(REQUEST_TIMEOUT + 5)
        if w.is_alive():
            fail("writer %d still waits for an answer" % w.idx)
    errors = [e for w in writers for e in w.errors]
    if errors:
        fail("%d wrong answers under load, e.g.:\n  %s" % (len(errors), "\n  ".join(errors[:5])))
    if node.proc.poll() is not None:
        fail("tenantd exited after the abort (code %s); last log lines:\n%s" % (
            node.proc.returncode, "\n".join(node.stderr_lines[-30:])))
    refused = sum(w.after_abort for w in writers)
    if any(w.after_abort == 0 for w in writers):
        fail("a writer sent nothing after the abort: %r" % [w.after_abort for w in writers])
    in_flight = sum(w.acked_in_flight for w in writers)
    sample = next(w.first_refusal for w in writers if w.first_refusal is not None)
    log("%d commands sent after the abort, all 503 (e.g. %s); %d in flight at the abort "
        "acknowledged" % (refused, sample.json.get("detail"), in_flight))

    # More commands on a fresh connection, each kind: still 503, never 500.
    tid = sorted(acks.last)[0]
    last = acks.last[tid]
    for method, path, body in [
            ("POST", "/api/v1/tenants", tenant_body("Ro After Abort", "starter")),
            ("PUT", "/api/v1/tenants/" + tid, tenant_body("Ro After Abort 2", last["plan"])),
            ("PUT", "/api/v1/tenants/%s/plan" % tid,
             {"plan": next(p for p in PLANS if p != last["plan"])}),
            ("POST", "/api/v1/tenants/%s/suspend" % tid, {"reason": "read-only test"})]:
        res = client.call(method, path, body)
        err = problem_error(res, 503)
        if err:
            fail("%s %s on a read-only disk: %s" % (method, path, err))
        if path.endswith("/plan") or path.endswith("/suspend") or method == "PUT":
            acks.failed(tid, body.get("name", last["name"]), body.get("plan", last["plan"]))

    # The log names the cause, in tenantd's own words (not only in RocksDB's warnings).
    def own_lines():
        return [line for line in ro_lines(node) if "event store:" in line]
    if not h.wait_until(own_lines, 10, 0.1):
        fail("no log line of the event store names the read-only file system; last lines:\n" +
             "\n".join(non_access_lines(node.stderr_lines)[-30:]))
    log("logged: " + own_lines()[0][:300])

    # /readyz answers within the bound. A check that names the read-only disk must make the
    # node unready (as for a full disk: the same write_failure() of the event store); a check
    # that is unready must say why.
    res = readyz(client)
    log("/readyz while read-only: %d %s" % (res.status, json.dumps(res.json["checks"])[:500]))
    naming = [name for name, c in res.json["checks"].items()
              if RO_PATTERN.search(str(c.get("detail", "")))]
    for name, c in res.json["checks"].items():
        if not c.get("ready") and not c.get("detail"):
            fail("/readyz: check %s is not ready and says nothing" % name)
    if naming and res.status != 503:
        fail("/readyz names the read-only disk (%s) but answers %d" % (naming, res.status))
    if "eventstore" not in naming:
        fail("/readyz: the eventstore check does not name the read-only disk: %r" % res.json)

    # 3. Queries keep working.
    check_reads(client, acks, after_restart=False)
    total = check_list_and_count(client)
    log("read-only: all %d acknowledged tenants read back with their acknowledged state; "
        "list and count answer (%d)" % (len(acks.last), total))
    if node.proc.poll() is not None:
        fail("tenantd exited while read-only (code %s)" % node.proc.returncode)

    # Refusals are not logged one by one: a read-only disk must not flood the log.
    ro_log = non_access_lines(node.stderr_lines[log_mark:])
    log("%d log lines (other than access lines) while read-only" % len(ro_log))
    if len(ro_log) > args.max_log_lines:
        fail("%d log lines while read-only (more than %d), e.g.:\n%s" % (
            len(ro_log), args.max_log_lines, "\n".join(ro_log[:20])))

    # 4. Stop, repair, restart.
    client.close()
    lines_before_stop = len(node.stderr_lines)
    rc, took = stop_within_bound(node, "read-only")
    log("SIGTERM on the read-only disk: exit code %d after %.1f s" % (rc, took))
    if rc != 0:
        fail("tenantd exited with %d on SIGTERM; its last lines:\n%s" % (
            rc, "\n".join(node.stderr_lines[lines_before_stop:][-30:])))
    fs.umount()
    fsck_rc = fs.fsck()
    fs.mount()
    log("e2fsck -fy exit code %d; mounted again (%s)" % (fsck_rc, fs.options()))

    # tenantd opens the repaired store itself (RocksDB's point-in-time WAL recovery drops a torn
    # tail), then the log is read beside it. Events appended since (the provisioning process
    # manager's) carry a later occurred_at than the restart.
    node.stdout_lines.clear()
    node.stderr_lines.clear()
    restarted_at = time.time()
    node.start()
    if not h.wait_until(lambda: node.request("GET", "/readyz").status == 200, 60, 0.2):
        fail("tenantd did not become ready after the repair: %r" % node.request("GET", "/readyz"))
    recovered = read_log(node.data_dir)
    acked = len(acks.list)
    early = sum(1 for a in acks.list if a["at"] < aborted_at[0])
    lost = acks.reconcile(recovered, aborted_at[0], restarted_at)
    kept = sum(1 for e in recovered if occurred(e) < restarted_at)
    log("after the repair the log kept 1..%d: all %d commands acknowledged before the abort; "
        "%d of the %d answered while it ran lost with the aborted journal%s" % (
            kept, early, len(lost), acked - early,
            "" if not lost else " (positions %s)" % sorted(a["position"] for a in lost)))

    client = Client(node.port, token)
    check_reads(client, acks, after_restart=True)
    check_list_and_count(client)
    for i in range(10):
        name = "Ro Repaired %02d" % i
        res = client.call("POST", "/api/v1/tenants", tenant_body(name, "starter"))
        if res.status != 201:
            fail("create after the repair answered %r" % res)
        acks.add("create", res, name, "starter")
    tid = sorted(acks.last)[1]
    res = client.call("PUT", "/api/v1/tenants/" + tid,
                      tenant_body("Ro Repaired Update", acks.last[tid]["plan"]))
    if res.status != 200:
        fail("update after the repair answered %r" % res)
    acks.add("update", res, "Ro Repaired Update", acks.last[tid]["plan"])
    client.close()
    rc, took = stop_within_bound(node, "after the repair")
    if rc != 0:
        fail("tenantd exited with %d on SIGTERM after the repair" % rc)

    events = read_log(node.data_dir)
    check_log(events, acks)
    v = run([h.binary("TENANTCTL_BIN"), "--data-dir", node.data_dir, "verify"], timeout=300,
            check=False)
    if v.returncode != 0:
        fail("tenantctl verify failed:\n" + v.stdout[-2000:] + v.stderr[-2000:])
    log("OK: %d acknowledged commands (%d tenants) all in the log of %d events after the "
        "repair; new commands succeed; tenantctl verify ok" % (
            len(acks.list), len(acks.last), len(events)))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=256)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--load-before", type=float, default=1.5,
                    help="seconds of concurrent load before the abort")
    ap.add_argument("--load-after", type=float, default=20.0,
                    help="at most this long of load after the abort")
    ap.add_argument("--max-log-lines", type=int, default=50,
                    help="most log lines (other than access lines) while read-only")
    ap.add_argument("--keep", action="store_true", help="keep the image of a failed run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root (loop devices, mount)")
        return SKIP
    work = tempfile.mkdtemp(prefix="tenantd-ro-")
    fs = LoopFs(work, args.size_mb)
    ok = False
    try:
        fs.create()
        log("ext4 on %s mounted at %s" % (fs.dev, fs.mnt))
        rc = scenario(args, fs)
        ok = rc == 0
        return rc
    except Skip as e:
        log("SKIP: %s" % e)
        ok = True
        return SKIP
    except Failure as e:
        log("FAIL: %s" % e)
        return 1
    except Exception as e:  # the harness (a start that failed, a timeout): still a failure
        log("FAIL: %r" % e)
        return 1
    finally:
        fs.close()
        if ok or not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log("kept %s" % work)


if __name__ == "__main__":
    sys.exit(main())
