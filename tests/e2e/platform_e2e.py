#!/usr/bin/python3
"""Platform concerns end to end (issue 6), against the real tenantd and tenantctl on loopback:

- development tokens: the printed platform:admin token, the 0600 secret file, reuse across a
  restart, `tenantctl token` with the data directory's secret;
- a walk over every route (from the served OpenAPI document, plus /admin) with the tokens of
  the owner, another tenant's user, a read-only user, an admin and no token;
- every command route on a suspended tenant: TENANT_SUSPENDED except suspend, reactivate /
  activate, deactivate / delete, payments and subscription cancel;
- create then GET at once by a non-admin never 403s (membership projection wait);
- HTTPS with a certificate generated here (openssl CLI), TLS 1.0/1.1 refused, plain HTTP on a
  non-loopback address refused at start;
- rate limits over HTTP with small configured quotas, their headers, the 429, the metric,
  `--rate-limits off`;
- /admin/status, /metrics additions, /docs (and the page in headless chromium when installed);
- no token or secret in the logs; the access log's JSON lines (route, status, duration,
  traceparent, tenant);
- RS256 with --jwt-public-key (keys generated with the openssl CLI), algorithm confusion,
  another key, alg none, wrong iss/aud, expired, not yet valid, tampered claims.

Run through ctest (label e2e), or: TENANTD_BIN=... TENANTCTL_BIN=... python3 platform_e2e.py -v"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tenantd_harness import REQUEST_TIMEOUT, Response, Tenantd, binary, wait_until  # noqa: E402

SECRET = "platform-e2e-secret-0123456789abcdef0123456789"
MISSING = "tn_01890a5d-ac96-774b-bcce-b302099a8057"
ROUND_TRIP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def create_body(name):
    return {"name": name, "plan": "professional", "admin_email": "admin@example.com",
            "settings": {"timezone": "Europe/Berlin", "locale": "de-DE", "max_seats": 5}}


def tms_body(name):
    return {"name": name, "country_code": "DE", "city": "Berlin", "address": "Street 1",
            "post_code": "10115", "description": "platform e2e"}


def command_body(path):
    """A valid body for the command at `path` (the tenant id already substituted)."""
    if path.endswith("/plan"):
        return {"plan": "enterprise"}
    if path.endswith("/payments"):
        return {"status": "succeeded", "payment_id": "pay-" + str(time.time_ns()),
                "amount_cents": 1000, "currency": "EUR", "reason": "e2e"}
    if path.endswith("/subscription/cancel"):
        return {"reason": "e2e"}
    if re.search(r"/tenants/tn_[^/]+$", path):
        return tms_body("Renamed Tenant") if not path.startswith("/api/") else \
            create_body("Renamed Tenant")
    if path.endswith("/tenants"):
        return tms_body("Created Tenant") if not path.startswith("/api/") else \
            create_body("Created Tenant")
    return None


def tenantctl_token(sub, scope, secret=None, tenant=None, data_dir=None, ttl="1h"):
    args = [binary("TENANTCTL_BIN")]
    if data_dir:
        args += ["--data-dir", data_dir]
    args += ["token", "--sub", sub, "--scope", scope, "--ttl", ttl]
    if secret:
        args += ["--jwt-secret", secret]
    if tenant:
        args += ["--tenant", tenant]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTD_")}
    r = subprocess.run(args, capture_output=True, text=True, timeout=30, env=env)
    if r.returncode != 0:
        raise RuntimeError("tenantctl token failed: " + r.stderr)
    return r.stdout.strip().splitlines()[-1].strip()


def operations_of(spec):
    """(method, path template) of every operation in the OpenAPI document."""
    ops = []
    for path, item in spec["paths"].items():
        for method in ("get", "post", "put", "delete", "patch"):
            if method in item:
                ops.append((method.upper(), path))
    return ops


OPERATIONS_PATHS = {"/livez", "/readyz", "/metrics", "/api/v1/openapi.json", "/docs"}
SUSPEND_EXEMPT = re.compile(
    r"/(suspend|reactivate|activate|deactivate|payments|subscription/cancel)$")


class PlatformTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Tenantd(["--rate-limits", "off"], jwt_secret=SECRET).start()
        cls.admin = cls.server.token("platform-admin", "platform:admin")
        cls.owner_tok = cls.server.token("owner")
        cls.other_tok = cls.server.token("other")
        spec = cls.server.request("GET", "/api/v1/openapi.json")
        assert spec.status == 200, spec
        cls.spec = spec.json

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.cleanup()

    def call(self, method, path, body=None, token=None, headers=None):
        return self.server.request(method, path, body=body, token=token, headers=headers)

    def create(self, token, name="Platform Tenant"):
        r = self.call("POST", "/api/v1/tenants", create_body(name), token)
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def assertCode(self, res, status, code):
        self.assertEqual(res.status, status, res)
        self.assertEqual(res.json.get("code"), code, res)

    # ---- the route walk ----

    def test_every_route_with_five_callers(self):
        tenant = self.create(self.owner_tok, "Owner Tenant")
        other_tenant = self.create(self.other_tok, "Other Tenant")
        reader = self.server.token("owner-reader", "tenants:read", tenant=tenant)
        ops = operations_of(self.spec)
        self.assertIn(("GET", "/admin/status"), ops)
        walked = 0
        for method, template in ops:
            path = template.replace("{id}", tenant).replace("{name}", "tenants")
            operations = template in OPERATIONS_PATHS
            tenant_scoped = "{id}" in template
            is_admin = template.startswith("/admin/")
            query = method == "GET"
            with self.subTest(route=f"{method} {template}"):
                walked += 1
                # No token.
                r = self.call(method, path, command_body(path))
                if operations:
                    # /readyz may be 503 for a moment while projections fold the last create.
                    self.assertIn(r.status, (200, 503) if path == "/readyz" else (200,), r)
                    continue
                self.assertCode(r, 401, "UNAUTHENTICATED")
                self.assertTrue(r.header("www-authenticate").startswith("Bearer"), r)

                # Another tenant's user.
                r = self.call(method, path, command_body(path), self.other_tok)
                if is_admin or tenant_scoped:
                    self.assertCode(r, 403, "FORBIDDEN")
                elif query:
                    self.assertEqual(r.status, 200, r)
                    if path.endswith("/count"):
                        visible = self.call("GET", "/api/v1/tenants?per_page=100",
                                            token=self.other_tok)
                        self.assertEqual(r.json["count"], visible.json["meta"]["total"], r)
                        self.assertNotIn(tenant, [t["id"] for t in visible.json["data"]])
                    else:
                        ids = [t["id"] for t in r.json["data"]]
                        self.assertIn(other_tenant, ids)
                        self.assertNotIn(tenant, ids)
                else:  # create: their own tenant
                    self.assertIn(r.status, (200, 201), r)

                # A read-only user confined to the owner's tenant.
                r = self.call(method, path, command_body(path), reader)
                if is_admin or not query:
                    self.assertCode(r, 403, "FORBIDDEN")
                else:
                    self.assertEqual(r.status, 200, r)
                    if path.endswith("/tenants"):
                        self.assertEqual([t["id"] for t in r.json["data"]], [tenant], r)

                # The owner, on a fresh tenant of their own for commands (they change state).
                target = tenant if query else self.create(self.owner_tok, "Owner Command")
                opath = template.replace("{id}", target).replace("{name}", "tenants")
                r = self.call(method, opath, command_body(opath), self.owner_tok)
                if is_admin:
                    self.assertCode(r, 403, "FORBIDDEN")
                else:
                    self.assertLess(r.status, 300, r)

                # The admin: everything, on any tenant.
                target = tenant if query else self.create(self.owner_tok, "Admin Command")
                apath = template.replace("{id}", target).replace("{name}", "tenants")
                r = self.call(method, apath, command_body(apath), self.admin)
                if template.endswith("/rebuild") and r.status == 409:
                    continue  # a rebuild started by another test is still running
                self.assertLess(r.status, 300, r)
                if method == "GET" and path.endswith("/tenants"):
                    self.assertGreaterEqual(r.json["meta"]["total"], 2, r)
        self.assertGreater(walked, 30)

    def test_unknown_tenant_is_403_for_users_404_for_admins(self):
        for prefix in ("/api/v1", "/v1", "/v0.1"):
            r = self.call("GET", f"{prefix}/tenants/{MISSING}", token=self.owner_tok)
            self.assertCode(r, 403, "FORBIDDEN")
            r = self.call("GET", f"{prefix}/tenants/not-an-id", token=self.owner_tok)
            self.assertCode(r, 403, "FORBIDDEN")
            r = self.call("GET", f"{prefix}/tenants/{MISSING}", token=self.admin)
            self.assertCode(r, 404, "TENANT_NOT_FOUND")

    def test_x_tenant_id(self):
        tenant = self.create(self.owner_tok, "Header Tenant")
        theirs = self.create(self.other_tok, "Header Other")
        r = self.call("GET", "/api/v1/tenants", token=self.owner_tok,
                      headers={"X-Tenant-Id": tenant})
        self.assertEqual(r.status, 200, r)
        r = self.call("GET", "/api/v1/tenants", token=self.owner_tok,
                      headers={"X-Tenant-Id": theirs})
        self.assertCode(r, 403, "FORBIDDEN")
        scoped = self.server.token("owner", "tenants:read", tenant=tenant)
        r = self.call("GET", f"/api/v1/tenants/{tenant}", token=scoped,
                      headers={"X-Tenant-Id": theirs})
        self.assertCode(r, 403, "FORBIDDEN")

    def test_a_token_confined_to_a_tenant_creates_nothing_and_lists_only_it(self):
        tenant = self.create(self.owner_tok, "Confined Tenant")
        self.create(self.owner_tok, "Confined Sibling")  # owner's too, outside the token
        confined = self.server.token("owner", "tenants:read tenants:write", tenant=tenant)
        for prefix in ("/api/v1", "/v1", "/v0.1"):
            r = self.call("POST", f"{prefix}/tenants", create_body("Confined Create"), confined)
            self.assertCode(r, 403, "FORBIDDEN")
            self.assertIn(f"confined to tenant {tenant}", r.json["detail"], r)
            self.assertEqual(r.header("location"), None, r)
            r = self.get_as_a_client_would(f"{prefix}/tenants", confined)
            self.assertEqual([t["id"] for t in r.json["data"]], [tenant], r)
            r = self.call("GET", f"{prefix}/tenants/count", token=confined)
            self.assertEqual(r.json, {"count": 1}, r)
        self.assertEqual(self.call("GET", f"/api/v1/tenants/{tenant}", token=confined).status, 200)
        r = self.call("PUT", f"/api/v1/tenants/{tenant}/switch", token=confined)
        self.assertEqual(r.status, 200, r)

    def test_switch_needs_membership_and_adds_it(self):
        mine = self.create(self.owner_tok, "Switch Mine")
        theirs = self.create(self.other_tok, "Switch Theirs")
        r = self.call("PUT", f"/api/v1/tenants/{theirs}/switch", token=self.owner_tok)
        self.assertCode(r, 403, "FORBIDDEN")
        second = self.create(self.owner_tok, "Switch Second")
        r = self.call("PUT", f"/v1/tenants/{mine}/switch", token=self.owner_tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"success": True})
        r = self.call("GET", f"/api/v1/tenants/{second}", token=self.owner_tok)
        self.assertEqual(r.status, 200, r)

    def get_as_a_client_would(self, path, token, headers=None):
        """GET `path`; a 503 with Retry-After (the projections trail the log by more than
        --min-position-wait, which a machine loaded by sanitizer builds can reach) is retried
        after the time it names, as the contract tells clients to, at most 5 times."""
        for _ in range(5):
            r = self.call("GET", path, token=token, headers=headers)
            if r.status != 503:
                return r
            self.assertCode(r, 503, "UNAVAILABLE")
            time.sleep(int(r.header("retry-after")))
        return r

    def test_create_then_get_at_once_never_403s(self):
        fresh = self.server.token("fresh-user-" + str(time.time_ns()))
        for i in range(15):
            r = self.call("POST", "/api/v1/tenants", create_body(f"Quick Tenant {i:02d}"), fresh)
            self.assertEqual(r.status, 201, r)
            tid = r.json["id"]
            g = self.get_as_a_client_would(f"/api/v1/tenants/{tid}", fresh)
            self.assertEqual(g.status, 200, g)
            g = self.get_as_a_client_would(f"/v1/tenants/{tid}", fresh, {"X-Tenant-Id": tid})
            self.assertEqual(g.status, 200, g)

    # ---- suspension ----

    def suspended_tenant(self):
        tid = self.create(self.owner_tok, "Suspended Tenant")
        r = self.call("POST", f"/api/v1/tenants/{tid}/suspend", token=self.owner_tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "suspended", r)
        return tid

    def test_suspended_tenant_refuses_writes_except_the_exempt_ones(self):
        shared = self.suspended_tenant()
        commands = [(m, t) for m, t in operations_of(self.spec)
                    if m != "GET" and "{id}" in t and not t.startswith("/admin/")]
        self.assertGreater(len(commands), 15)
        for method, template in commands:
            exempt = SUSPEND_EXEMPT.search(template) or method == "DELETE"
            tid = self.suspended_tenant() if exempt else shared
            path = template.replace("{id}", tid)
            with self.subTest(route=f"{method} {template}"):
                r = self.call(method, path, command_body(path), self.owner_tok)
                if exempt:
                    self.assertLess(r.status, 300, r)
                else:
                    self.assertCode(r, 403, "TENANT_SUSPENDED")
        # Reads still work on a suspended tenant.
        r = self.call("GET", f"/api/v1/tenants/{shared}", token=self.owner_tok)
        self.assertEqual(r.status, 200, r)

    # ---- operations ----

    def test_admin_status_and_rebuild(self):
        self.create(self.owner_tok, "Status Tenant")
        r = self.call("GET", "/admin/status", token=self.admin)
        self.assertEqual(r.status, 200, r)
        doc = r.json
        self.assertGreater(doc["head_position"], 0)
        names = {p["name"] for p in doc["projections"]}
        self.assertIn("tenants", names)
        for p in doc["projections"]:
            self.assertIn("checkpoint", p)
            self.assertIn("lag", p)
        self.assertEqual(set(doc["build"]), {"version", "git_commit", "build_type"})
        self.assertEqual(doc["kafka"]["topic"], "tenant.events", doc)
        self.assertTrue(doc["kafka"]["bootstrap_servers"].startswith("127.0.0.1:"), doc)
        r = self.call("POST", "/admin/projections/tenants/rebuild", token=self.admin)
        self.assertEqual(r.status, 202, r)
        r = self.call("POST", "/admin/projections/nonsense/rebuild", token=self.admin)
        self.assertCode(r, 404, "NOT_FOUND")
        r = self.call("POST", "/admin/projections/tenants/rebuild", token=self.owner_tok)
        self.assertCode(r, 403, "FORBIDDEN")

    def test_metrics_and_readiness(self):
        self.create(self.owner_tok, "Metrics Tenant")
        # Ready once the projections folded the create (bounded).
        self.assertTrue(wait_until(lambda: self.call("GET", "/readyz").status == 200, 10.0))
        text = self.call("GET", "/metrics").raw
        for name in ("tenantd_events_appended_total", "tenantd_group_commit_events_bucket",
                     "tenantd_eventstore_head_position", "tenantd_projection_lag_events",
                     "tenantd_auth_failures_total", "http_requests_total"):
            self.assertIn(name, text)

    def test_threads_are_named(self):
        # top -H, ps -L and perf show tenantd's own threads by role (docs/operations.md).
        self.create(self.owner_tok, "Threads Tenant")
        task_dir = f"/proc/{self.server.proc.pid}/task"
        names = set()
        for tid in os.listdir(task_dir):
            try:
                with open(f"{task_dir}/{tid}/comm") as f:
                    names.add(f.read().strip())
            except FileNotFoundError:  # the thread ended meanwhile
                pass
        for role in ("es-writer", "repository", "projector", "provisioning", "kafka-relay"):
            self.assertIn(role, names, sorted(names))

    def test_docs(self):
        r = self.call("GET", "/docs")
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/html", r.header("content-type"))
        if "swagger-ui-bundle.js" not in r.raw:
            self.skipTest("this build has no Swagger UI assets (docs/ui/node_modules missing)")
        js = self.call("GET", "/docs/swagger-ui-bundle.js")
        self.assertEqual(js.status, 200)
        self.assertIn("javascript", js.header("content-type"))
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            self.skipTest("chromium is not installed: the page itself is not rendered")
        profile = tempfile.mkdtemp(prefix="tenantd-chromium-")
        try:
            out = subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=15000",
                 "--dump-dom", self.server.base + "/docs"],
                capture_output=True, text=True, timeout=120)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        dom = out.stdout
        self.assertIn("opblock", dom, out.stderr[-2000:])
        for path in ("/api/v1/tenants", "/api/v1/tenants/{id}/suspend", "/v1/tenants/{id}/switch"):
            self.assertIn(path, dom.replace("&#8203;", "").replace("\u200b", ""))

    def test_no_token_or_secret_in_logs(self):
        token = self.server.token("log-checker")
        tid = self.create(token, "Logged Tenant")
        self.call("GET", f"/api/v1/tenants/{tid}", token=token)
        self.call("GET", "/api/v1/tenants", token=token + "tampered")
        time.sleep(0.2)  # the access log line is written after the response
        logs = "\n".join(self.server.stderr_lines + self.server.stdout_lines)
        self.assertIn(tid, logs)  # the requests were logged...
        self.assertNotIn(token, logs)  # ...without the token,
        self.assertNotIn(token.split(".")[2], logs)  # not even its signature,
        self.assertNotIn(SECRET, logs)  # nor the secret.


    def test_access_log_lines(self):
        """One JSON line per request on the "access" logger, with the route pattern, the
        status, the duration, the traceparent and the tenant the request concerned."""
        token = self.server.token("access-logger")
        trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        r = self.call("POST", "/api/v1/tenants", create_body("Access Log Tenant"), token,
                      headers={"traceparent": trace, "X-Request-Id": "access-create-1"})
        self.assertEqual(r.status, 201, r)
        tid = r.json["id"]
        r = self.call("GET", f"/api/v1/tenants/{tid}", token=token,
                      headers={"X-Request-Id": "access-get-1"})
        self.assertEqual(r.status, 200, r)
        r = self.call("GET", f"/api/v1/tenants/{MISSING}", token=token,
                      headers={"X-Request-Id": "access-forbidden-1"})
        self.assertEqual(r.status, 403, r)

        def access_lines():
            out = {}
            for line in list(self.server.stderr_lines):
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                if isinstance(doc, dict) and doc.get("logger") == "access":
                    out[doc.get("request_id")] = doc
            return out

        want = ("access-create-1", "access-get-1", "access-forbidden-1")
        self.assertTrue(wait_until(lambda: all(k in access_lines() for k in want), 5.0),
                        self.server.stderr_lines[-10:])
        lines = access_lines()
        created = lines["access-create-1"]
        self.assertEqual(created["method"], "POST")
        self.assertEqual(created["route"], "/api/v1/tenants")
        self.assertEqual(created["status"], 201)
        self.assertEqual(created["tenant"], tid)  # the new tenant
        self.assertEqual(created["traceparent"], trace)
        self.assertIsInstance(created["duration_us"], int)
        got = lines["access-get-1"]
        self.assertEqual(got["route"], "/api/v1/tenants/{id}")
        self.assertEqual(got["path"], f"/api/v1/tenants/{tid}")
        self.assertEqual(got["tenant"], tid)
        self.assertEqual(got["status"], 200)
        # A tenant the caller may not touch is refused before it is attributed to anyone.
        refused = lines["access-forbidden-1"]
        self.assertEqual(refused["status"], 403)
        self.assertNotIn("tenant", refused)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Rs256Test(unittest.TestCase):
    """--jwt-public-key: RS256 tokens signed with the matching private key (openssl CLI) are
    accepted; HS256 tokens, even ones whose secret is the public key's PEM (algorithm
    confusion), tokens signed by another key, `alg: none`, and wrong iss/aud are refused."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tenantd-rs256-")
        cls.key = os.path.join(cls.tmp, "key.pem")
        cls.pub = os.path.join(cls.tmp, "pub.pem")
        cls.other = os.path.join(cls.tmp, "other.pem")
        for path in (cls.key, cls.other):
            subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                            "rsa_keygen_bits:2048", "-out", path],
                           check=True, capture_output=True, timeout=120)
        subprocess.run(["openssl", "pkey", "-in", cls.key, "-pubout", "-out", cls.pub],
                       check=True, capture_output=True, timeout=60)
        cls.server = Tenantd(["--rate-limits", "off", "--jwt-public-key", cls.pub,
                              "--jwt-issuer", "https://issuer.example",
                              "--jwt-audience", "tenantd"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def claims(self, **extra):
        now = int(time.time())
        c = {"sub": "rs-user", "scope": "tenants:read tenants:write", "iat": now,
             "exp": now + 600, "iss": "https://issuer.example", "aud": "tenantd"}
        c.update(extra)
        return c

    def rs256(self, claims, key=None, header=None):
        head = header or {"alg": "RS256", "typ": "JWT"}
        signing = (b64url(json.dumps(head).encode()) + "." +
                   b64url(json.dumps(claims).encode()))
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key or self.key],
                             input=signing.encode(), capture_output=True, check=True,
                             timeout=60).stdout
        return signing + "." + b64url(sig)

    def hs256(self, claims, secret):
        signing = (b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." +
                   b64url(json.dumps(claims).encode()))
        sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
        return signing + "." + b64url(sig)

    def get(self, token):
        return self.server.request("GET", "/api/v1/tenants", token=token)

    def test_rs256_token_works_for_commands_and_queries(self):
        token = self.rs256(self.claims())
        r = self.server.request("POST", "/api/v1/tenants", create_body("RS256 Tenant"),
                                token=token)
        self.assertEqual(r.status, 201, r)
        tid = r.json["id"]
        self.assertEqual(self.server.request("GET", f"/api/v1/tenants/{tid}", token=token,
                                             headers={"X-Min-Position":
                                                      r.header("x-event-position")}).status,
                         200)
        r = self.get(token)
        self.assertEqual(r.status, 200, r)
        self.assertIn(tid, [t["id"] for t in r.json["data"]])

    def assertRefused(self, token, why):
        r = self.get(token)
        self.assertEqual(r.status, 401, f"{why}: {r}")
        self.assertEqual(r.json.get("code"), "UNAUTHENTICATED", r)
        self.assertTrue((r.header("www-authenticate") or "").startswith("Bearer"), r)

    def test_refusals(self):
        with open(self.pub, "rb") as f:
            pem = f.read()
        self.assertRefused(self.hs256(self.claims(), pem), "HS256 keyed with the public key")
        self.assertRefused(self.hs256(self.claims(), b"some-secret-0123456789abcdef"), "HS256")
        self.assertRefused(self.rs256(self.claims(), key=self.other), "another key")
        none = (b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." +
                b64url(json.dumps(self.claims()).encode()) + ".")
        self.assertRefused(none, "alg none")
        self.assertRefused(self.rs256(self.claims(iss="https://evil.example")), "issuer")
        self.assertRefused(self.rs256(self.claims(aud="someone-else")), "audience")
        self.assertRefused(self.rs256(self.claims(exp=int(time.time()) - 120)), "expired")
        self.assertRefused(self.rs256(self.claims(nbf=int(time.time()) + 3600)), "not yet valid")
        good = self.rs256(self.claims())
        head, body, sig = good.split(".")
        tampered = b64url(json.dumps(self.claims(scope="platform:admin")).encode())
        self.assertRefused(".".join((head, tampered, sig)), "tampered claims")
        # ...and the untampered token still works: the refusals above are about the token.
        self.assertEqual(self.get(good).status, 200)


class DevTokenTest(unittest.TestCase):
    def test_printed_token_secret_file_and_restart(self):
        srv = Tenantd(["--rate-limits", "off"])
        try:
            srv.start()
            lines = [l for l in srv.stdout_lines if "development token" in l]
            self.assertEqual(len(lines), 1, srv.stdout_lines)
            token = lines[0].rsplit(" ", 1)[1]
            self.assertIn("platform:admin", lines[0])
            r = srv.request("GET", "/admin/status", token=token)
            self.assertEqual(r.status, 200, r)
            path = os.path.join(srv.data_dir, "dev-jwt-secret")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            with open(path) as f:
                secret = f.read().strip()
            self.assertNotIn(secret, "\n".join(srv.stderr_lines))
            self.assertNotIn(token, "\n".join(srv.stderr_lines))
            minted = tenantctl_token("dev-user", "tenants:read tenants:write",
                                     data_dir=srv.data_dir)
            r = srv.request("POST", "/api/v1/tenants", create_body("Dev Tenant"), token=minted)
            self.assertEqual(r.status, 201, r)
            srv.stop()
            srv.stdout_lines.clear()
            srv.start()
            # The secret is reused: tokens from before the restart keep working.
            r = srv.request("GET", "/api/v1/tenants", token=minted)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json["data"]), 1, r)
            self.assertEqual(srv.request("GET", "/admin/status", token=token).status, 200)
        finally:
            srv.cleanup()

    def test_configured_secret_prints_no_token(self):
        with Tenantd(["--rate-limits", "off"], jwt_secret=SECRET) as srv:
            self.assertFalse([l for l in srv.stdout_lines if "token" in l], srv.stdout_lines)
            self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "dev-jwt-secret")))
            dev = tenantctl_token("x", "tenants:read", secret="some-other-secret-0123456789")
            r = srv.request("GET", "/api/v1/tenants", token=dev)
            self.assertEqual(r.status, 401, r)


class RateLimitTest(unittest.TestCase):
    def test_limits_headers_and_429(self):
        args = ["--rate-limit-standard", "5", "--rate-limit-tms", "3"]
        with Tenantd(args, jwt_secret=SECRET) as srv:
            owner = srv.token("rl-owner")
            r = srv.request("POST", "/api/v1/tenants", create_body("Limited Tenant"), token=owner)
            self.assertEqual(r.status, 201, r)
            tid = r.json["id"]
            self.assertEqual(r.header("x-ratelimit-limit"), "5")
            hdr = {"X-Tenant-Id": tid}
            for i in range(5):
                r = srv.request("GET", f"/api/v1/tenants/{tid}", token=owner, headers=hdr)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("x-ratelimit-limit"), "5")
                self.assertEqual(r.header("x-ratelimit-remaining"), str(4 - i))
                reset = int(r.header("x-ratelimit-reset"))
                self.assertTrue(time.time() - 5 < reset <= time.time() + 61, reset)
                self.assertEqual(r.header("ratelimit-policy"),
                                 '"minute";q=5;w=60, "day";q=10000;w=86400')
                self.assertRegex(r.header("ratelimit"), r'^"minute";r=\d+;t=\d+$')
            r = srv.request("GET", f"/api/v1/tenants/{tid}", token=owner, headers=hdr)
            self.assertEqual(r.status, 429, r)
            self.assertEqual(r.json["code"], "RATE_LIMITED")
            self.assertTrue(1 <= int(r.header("retry-after")) <= 61, r.headers)
            self.assertRegex(r.header("x-rate-limit-reset"), ROUND_TRIP)
            # Operations are not counted and carry no headers.
            live = srv.request("GET", "/livez")
            self.assertEqual(live.status, 200)
            self.assertIsNone(live.header("x-ratelimit-limit"))
            # TMS routes: per endpoint.
            tms = srv.token("rl-tms")
            for _ in range(3):
                self.assertEqual(srv.request("GET", "/v1/tenants", token=tms).status, 200)
            r = srv.request("GET", "/v1/tenants", token=tms)
            self.assertEqual(r.status, 429, r)
            self.assertEqual(srv.request("GET", "/v1/tenants/count", token=tms).status, 200)
            metrics = srv.request("GET", "/metrics").raw
            m = re.search(r'tenantd_rate_limited_requests_total\{window="minute"\} (\d+)', metrics)
            self.assertTrue(m and int(m.group(1)) >= 1, metrics[-3000:])
            m = re.search(r'tenantd_rate_limited_requests_total\{window="endpoint"\} (\d+)',
                          metrics)
            self.assertTrue(m and int(m.group(1)) >= 1)

    def test_off_means_no_headers(self):
        with Tenantd(["--rate-limits", "off", "--rate-limit-standard", "2"],
                     jwt_secret=SECRET) as srv:
            tok = srv.token("unlimited")
            for _ in range(6):
                r = srv.request("GET", "/api/v1/tenants", token=tok)
                self.assertEqual(r.status, 200, r)
                for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                          "ratelimit", "ratelimit-policy"):
                    self.assertIsNone(r.header(h))


class HttpsTenantd(Tenantd):
    """tenantd with --tls-cert/--tls-key; requests over HTTPS verified against the cert."""

    def __init__(self, cert, key, **kw):
        super().__init__(["--tls-cert", cert, "--tls-key", key, "--rate-limits", "off"], **kw)
        self.ctx = ssl.create_default_context(cafile=cert)

    def request(self, method, path, body=None, headers=None, token=None, **_):
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=REQUEST_TIMEOUT,
                                           context=self.ctx)
        try:
            hdrs = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                hdrs["Content-Type"] = "application/json"
            if token:
                hdrs["Authorization"] = "Bearer " + token
            conn.request(method, path, body=data, headers=hdrs)
            res = conn.getresponse()
            payload = res.read().decode("utf-8", "replace")
            return Response(res.status, {k.lower(): v for k, v in res.getheaders()}, payload)
        finally:
            conn.close()


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("openssl"):
            raise unittest.SkipTest("the openssl CLI is needed to generate a certificate")
        cls.dir = tempfile.mkdtemp(prefix="tenantd-tls-")
        cls.cert = os.path.join(cls.dir, "cert.pem")
        cls.key = os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", cls.key, "-out", cls.cert],
                       check=True, capture_output=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_https_walk_and_old_tls_refused(self):
        with HttpsTenantd(self.cert, self.key, jwt_secret=SECRET) as srv:
            self.assertTrue(srv.base.startswith("https://"), srv.base)
            self.assertEqual(srv.request("GET", "/livez").status, 200)
            tok = srv.token("tls-user")
            r = srv.request("POST", "/api/v1/tenants", create_body("Secure Tenant"), token=tok)
            self.assertEqual(r.status, 201, r)
            self.assertTrue(r.header("location").startswith("https://"), r.headers)
            tid = r.json["id"]
            self.assertEqual(srv.request("GET", f"/api/v1/tenants/{tid}", token=tok).status, 200)
            self.assertEqual(srv.request("GET", f"/api/v1/tenants/{tid}").status, 401)

            # TLS 1.2 is accepted; 1.0 and 1.1 are refused by the server.
            self.assertEqual(self.handshake(srv, ssl.TLSVersion.TLSv1_2), "TLSv1.2")
            for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
                with self.subTest(version=old.name):
                    with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError)):
                        self.handshake(srv, old)
            # Plain HTTP on the TLS port is not served.
            with socket.create_connection((srv.host, srv.port), timeout=10) as s:
                s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
                try:
                    data = s.recv(100)
                except OSError:
                    data = b""
                self.assertFalse(data.startswith(b"HTTP/1.1 200"), data)

    def handshake(self, srv, version):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.cert)
        ctx.minimum_version = version
        ctx.maximum_version = version
        if version < ssl.TLSVersion.TLSv1_2:
            # Let the client offer the old protocol so that the refusal is the server's.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with socket.create_connection((srv.host, srv.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                return s.version()

    def test_plain_http_on_non_loopback_refused(self):
        data_dir = tempfile.mkdtemp(prefix="tenantd-e2e-")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTD_")}
            r = subprocess.run([binary("TENANTD_BIN"), "--data-dir", data_dir, "--listen",
                                "0.0.0.0:0", "--jwt-secret", SECRET],
                               capture_output=True, text=True, timeout=60, env=env)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("refusing to serve plain HTTP", r.stderr)
            self.assertIn("--insecure-http", r.stderr)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
