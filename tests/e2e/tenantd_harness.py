"""Shared by the end-to-end suites of tests/e2e: starts the real `tenantd` on a free loopback
port with a fresh data directory, mints tokens with the real `tenantctl`, and talks HTTP with
the standard library's http.client (an independent client: nothing of tenantd's own code).

Binaries come from the environment (tests/e2e/CMakeLists.txt sets them):
  TENANTD_BIN, TENANTCTL_BIN
Every wait is bounded."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0


def binary(name):
    path = os.environ.get(name)
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"{name} must name an executable (got {path!r})")
    return path


def tenantctl_supports(command):
    """True when this build's `tenantctl --help` lists the subcommand (`tenantctl X --help`
    is no test: CLI11 answers an unknown X with the top-level help and exit code 0)."""
    try:
        r = subprocess.run([binary("TENANTCTL_BIN"), "--help"], capture_output=True, text=True,
                           timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    listed = r.stdout.split("Subcommands:", 1)[-1] if "Subcommands:" in r.stdout else ""
    return any(line.split()[:1] == [command] for line in listed.splitlines())


def tenantd_supports(flag):
    r = subprocess.run([binary("TENANTD_BIN"), "--help"], capture_output=True, timeout=20, text=True)
    return flag in r.stdout


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (last one wins)
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


class Tenantd:
    """One tenantd process. Use as a context manager."""

    def __init__(self, extra_args=(), jwt_secret=None, env=None):
        self.data_dir = tempfile.mkdtemp(prefix="tenantd-e2e-")
        self.jwt_secret = jwt_secret
        self.extra_args = list(extra_args)
        self.env = dict(os.environ)
        # Flags only: no TENANTD_* of the caller's environment leaks into the test.
        for k in list(self.env):
            if k.startswith("TENANTD_") and k not in ("TENANTD_BIN",):
                del self.env[k]
        if env:
            self.env.update(env)
        self.proc = None
        self.base = None
        self.stdout_lines = []
        self.stderr_lines = []
        self._conn = None

    # ---- lifecycle ----

    def start(self):
        args = [binary("TENANTD_BIN"), "--data-dir", self.data_dir, "--listen", "127.0.0.1:0",
                "--log-format", "json"]
        if self.jwt_secret is not None:
            args += ["--jwt-secret", self.jwt_secret]
        args += self.extra_args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=self.env)
        url_found = threading.Event()

        def read_stdout():
            for line in self.proc.stdout:
                self.stdout_lines.append(line.rstrip("\n"))
                m = re.match(r"tenantd listening on (http\S+)", line)
                if m:
                    self.base = m.group(1)
                    url_found.set()

        def read_stderr():
            for line in self.proc.stderr:
                self.stderr_lines.append(line.rstrip("\n"))

        self._readers = [threading.Thread(target=read_stdout, daemon=True),
                         threading.Thread(target=read_stderr, daemon=True)]
        for t in self._readers:
            t.start()
        deadline = time.time() + START_TIMEOUT
        while not url_found.wait(0.1):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("tenantd did not start:\n" + "\n".join(self.stderr_lines[-30:]))
        parsed = urllib.parse.urlsplit(self.base)
        self.host, self.port = parsed.hostname, parsed.port
        return self

    def stop(self, sig=signal.SIGTERM):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.proc is None or self.proc.poll() is not None:
            self._close_pipes()
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
            raise RuntimeError("tenantd did not stop within the shutdown bound")
        finally:
            self._close_pipes()

    def _close_pipes(self):
        """Once the process has exited: its output read to the end, then the pipes closed."""
        if self.proc is None or self.proc.poll() is None:
            return
        for t in getattr(self, "_readers", []):
            t.join(timeout=2)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # ---- tokens ----

    def token(self, sub, scope="tenants:read tenants:write", tenant=None, ttl="1h"):
        """A token from `tenantctl token` with this process's secret (or None without auth)."""
        if self.jwt_secret is None:
            return None
        args = [binary("TENANTCTL_BIN"), "token", "--sub", sub, "--scope", scope, "--ttl", ttl,
                "--jwt-secret", self.jwt_secret]
        if tenant:
            args += ["--tenant", tenant]
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("tenantctl token failed: " + r.stderr)
        return r.stdout.strip().splitlines()[-1].strip()

    # ---- HTTP ----

    def request(self, method, path, body=None, headers=None, token=None, raw_body=None,
                content_type="application/json", fresh=False):
        """One request on a kept-alive connection (reopened when the server closed it)."""
        hdrs = {}
        data = None
        if raw_body is not None:
            data = raw_body if isinstance(raw_body, bytes) else raw_body.encode()
        elif body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            hdrs["Content-Type"] = content_type
        if token:
            hdrs["Authorization"] = "Bearer " + token
        if headers:
            hdrs.update(headers)
        for attempt in range(2):
            if self._conn is None or fresh:
                if self._conn is not None:
                    self._conn.close()
                self._conn = http.client.HTTPConnection(self.host, self.port,
                                                        timeout=REQUEST_TIMEOUT)
            try:
                self._conn.request(method, path, body=data, headers=hdrs)
                res = self._conn.getresponse()
                payload = res.read().decode("utf-8", "replace")
                headers_out = {k.lower(): v for k, v in res.getheaders()}
                if res.getheader("Connection", "").lower() == "close":
                    self._conn.close()
                    self._conn = None
                return Response(res.status, headers_out, payload)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                self._conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


def wait_until(predicate, timeout, interval=0.05):
    """Polls `predicate` until it returns a truthy value or `timeout` seconds passed; returns
    the last value."""
    deadline = time.time() + timeout
    value = predicate()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
