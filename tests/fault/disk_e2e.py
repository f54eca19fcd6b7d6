"""Disk trouble (issue 9, part 3): a full data directory.

tenantd runs with its data directory on a small tmpfs of its own (mounted by the test; needs
root, as CI has, and is skipped with exit code 77 otherwise). The test:

  1. creates tenants while there is space (every 201 is recorded);
  2. fills the file system with a filler file, then sends creates until one is refused:
     commands must fail with 503 in the problem shape (never a 500, never a hang), and
     tenantd logs a clear line naming the cause;
  3. while the disk is full, queries keep working: every acknowledged tenant reads back, the
     list answers;
  4. removes the filler: commands succeed again without a restart;
  5. restarts tenantd: every acknowledged tenant is still there and `tenantctl verify` passes.

  python3 disk_e2e.py [--size-mb N]
Every wait is bounded."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import tenantd_harness as h  # noqa: E402

SKIP = 77


def fail(msg):
    print("disk_e2e: FAIL: " + msg, flush=True)
    raise SystemExit(1)


def mount_tmpfs(path, size_mb):
    if os.geteuid() != 0:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % size_mb, "tmpfs", path],
                       capture_output=True, text=True, timeout=30)
    return r.returncode == 0


def fill(path):
    """Writes a filler file until the file system refuses (ENOSPC); returns its size."""
    written = 0
    chunk = b"\0" * (64 << 10)
    with open(path, "wb", buffering=0) as f:
        while written < (4 << 30):  # bounded: the mount is far smaller
            try:
                written += f.write(chunk)
            except OSError:
                break
        # Smaller pieces, so that not even a page is left.
        small = b"\0" * 512
        for _ in range(1 << 16):
            try:
                written += f.write(small)
            except OSError:
                break
    return written


TOKEN = None


def call(node, method, path, body=None, headers=None):
    try:
        return node.request(method, path, body, headers=headers, token=TOKEN)
    except OSError as e:
        code = node.proc.poll() if node.proc else None
        fail("%s %s: %s (tenantd exit code %s); last log lines:\n%s" % (
            method, path, e, code, "\n".join(node.stderr_lines[-15:])))


def create(node, name):
    return call(node, "POST", "/api/v1/tenants",
                {"name": name, "plan": "starter", "admin_email": "ops@disk.example"})


def assert_problem(res, status):
    if res.status != status:
        fail("expected %d, got %r" % (status, res))
    body = res.json or {}
    for key in ("type", "title", "status", "detail"):
        if key not in body:
            fail("the %d answer is not a problem document: %r" % (status, res))
    if res.header("content-type") is None or "problem+json" not in res.header("content-type"):
        fail("the %d answer has content-type %r" % (status, res.header("content-type")))


def main():
    ap = argparse.ArgumentParser()
    # Smaller than RocksDB's WAL preallocation (write buffer x 1.1), so the WAL takes its pages
    # as it grows and a full file system shows at the next write, not tens of MB later.
    ap.add_argument("--size-mb", type=int, default=32)
    args = ap.parse_args()

    mnt = tempfile.mkdtemp(prefix="tenantd-disk-")
    if not mount_tmpfs(mnt, args.size_mb):
        print("disk_e2e: SKIP: cannot mount a tmpfs (needs root and CAP_SYS_ADMIN)", flush=True)
        os.rmdir(mnt)
        return SKIP
    node = None
    filler = os.path.join(mnt, "filler")
    try:
        global TOKEN
        node = h.Tenantd(["--rate-limits", "off"],
                         jwt_secret="disk-suite-secret-0123456789abcdef0123")
        os.rmdir(node.data_dir)
        node.data_dir = os.path.join(mnt, "data")
        node.start()
        TOKEN = node.token("disk-suite", scope="platform:admin tenants:read tenants:write")

        acked = {}
        for i in range(50):
            res = create(node, "Disk Before %03d" % i)
            if res.status != 201:
                fail("create with space left answered %r" % res)
            acked[res.json["id"]] = res.json["name"]
        print("disk_e2e: %d tenants created with space left" % len(acked), flush=True)

        size = fill(filler)
        print("disk_e2e: filler of %.1f MiB fills the mount" % (size / 1048576), flush=True)

        # Until a command is refused: whatever RocksDB had already allocated may still take a
        # few writes. Every 201 on the way is an acknowledgement like any other.
        refused = None
        for i in range(2000):
            res = create(node, "Disk Full %04d" % i)
            if res.status == 201:
                acked[res.json["id"]] = res.json["name"]
                continue
            refused = res
            break
        if refused is None:
            fail("2000 creates on a full disk all succeeded")
        assert_problem(refused, 503)
        print("disk_e2e: refused after %d more creates: %s" % (i, refused.json.get("detail")),
              flush=True)
        # And it stays refused while the disk is full (no crash, no 500).
        for i in range(5):
            res = create(node, "Disk Still Full %d" % i)
            if res.status == 201:
                acked[res.json["id"]] = res.json["name"]
            else:
                assert_problem(res, 503)
        if node.proc.poll() is not None:
            fail("tenantd exited on a full disk (code %s)" % node.proc.returncode)

        # /readyz: unready, its eventstore check naming the full disk.
        res = node.request("GET", "/readyz")
        check = (res.json or {}).get("checks", {}).get("eventstore", {}) \
            if isinstance(res.json, dict) else {}
        if res.status != 503 or check.get("ready") is not False or \
                "no space" not in str(check.get("detail", "")).lower():
            fail("/readyz on a full disk answered %d %r" % (res.status, res.json))
        print("disk_e2e: /readyz on a full disk: 503, eventstore: %s" % check.get("detail"),
              flush=True)

        # Queries keep working.
        for tid, name in acked.items():
            res = call(node, "GET", "/api/v1/tenants/" + tid)
            if res.status != 200 or res.json["name"] != name:
                fail("GET %s on a full disk answered %r" % (tid, res))
        res = call(node, "GET", "/api/v1/tenants?per_page=100")
        if res.status != 200:
            fail("the list on a full disk answered %r" % res)

        # A clear log line names the cause.
        text = "\n".join(node.stderr_lines + node.stdout_lines).lower()
        if "no space" not in text and "enospc" not in text:
            fail("no log line names the full disk; last lines:\n" + "\n".join(
                node.stderr_lines[-20:]))
        cause = next(line for line in node.stderr_lines + node.stdout_lines
                     if "no space" in line.lower() or "enospc" in line.lower())
        print("disk_e2e: logged: " + cause[:300], flush=True)

        # Space returns: commands succeed again, without a restart.
        os.unlink(filler)
        recovered = None
        deadline = time.time() + 60
        n = 0
        while time.time() < deadline:
            res = create(node, "Disk After %03d" % n)
            n += 1
            if res.status == 201:
                acked[res.json["id"]] = res.json["name"]
                recovered = res
                break
            assert_problem(res, 503)
            time.sleep(0.2)
        if recovered is None:
            fail("no create succeeded within 60 s after space returned")
        for i in range(20):
            res = create(node, "Disk Recovered %03d" % i)
            if res.status != 201:
                fail("create after recovery answered %r" % res)
            acked[res.json["id"]] = res.json["name"]
        print("disk_e2e: commands succeed again after %d tries" % n, flush=True)
        # Ready again without a restart: the event store and the projections (whose own
        # database may have failed a write too) recover on their own.
        if not h.wait_until(lambda: node.request("GET", "/readyz").status == 200, 60, 0.2):
            res = node.request("GET", "/readyz")
            fail("/readyz 60 s after space returned answered %d %r" % (res.status, res.json))
        projector = [line for line in node.stderr_lines + node.stdout_lines
                     if "projections: storage recovered" in line]
        print("disk_e2e: ready again without a restart%s" % (
            " (the projections' database had failed a write and was resumed)"
            if projector else ""), flush=True)

        # Nothing acknowledged is lost, across a restart too.
        rc = node.stop()
        if rc != 0:
            fail("tenantd exited with %s on SIGTERM" % rc)
        node.start()
        if not h.wait_until(lambda: node.request("GET", "/readyz").status == 200, 60, 0.2):
            fail("tenantd did not become ready after the restart")
        for tid, name in acked.items():
            res = call(node, "GET", "/api/v1/tenants/" + tid)
            if res.status != 200 or res.json["name"] != name:
                fail("acknowledged tenant %s after the restart: %r" % (tid, res))
        node.stop()
        v = subprocess.run([h.binary("TENANTCTL_BIN"), "--data-dir", node.data_dir, "verify"],
                           capture_output=True, text=True, timeout=300)
        if v.returncode != 0:
            fail("tenantctl verify failed:\n" + v.stdout[-2000:] + v.stderr[-2000:])
        print("disk_e2e: OK: %d acknowledged tenants kept; verify ok" % len(acked), flush=True)
        return 0
    finally:
        if node is not None:
            try:
                node.stop()
            except RuntimeError:
                pass
        if os.path.exists(filler):
            os.unlink(filler)
        subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=30)
        try:
            os.rmdir(mnt)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
