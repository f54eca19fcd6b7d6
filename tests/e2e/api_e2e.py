#!/usr/bin/python3
"""The REST API end to end: the real tenantd on a free loopback port with a fresh data
directory, driven over HTTP by http.client. Covers every route of both API families, every
error code the routes produce, read-your-writes, ETag/If-Match, idempotent replays (also
across a restart), pagination edges, time travel, the events route and the provisioning
process manager. Tokens come from `tenantctl token` when this build has it.

Run through ctest (label e2e), or: TENANTD_BIN=... TENANTCTL_BIN=... python3 api_e2e.py -v"""
import concurrent.futures
import http.client
import json
import os
import pty
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tenantd_harness import Tenantd, binary, tenantctl_supports, wait_until  # noqa: E402

AUTH = tenantctl_supports("token")
SECRET = "e2e-secret-0123456789abcdef0123456789abcdef"
MISSING = "tn_01890a5d-ac96-774b-bcce-b302099a8057"

TMS_KEYS = {"id", "name", "address", "city", "country_code", "country_name", "description",
            "is_trashed"}
RESOURCE_KEYS = {"id", "name", "status", "created_at", "subscription", "plan", "admin_email",
                 "domain", "settings", "address", "city", "country_code", "country_name",
                 "post_code", "description", "is_trashed", "group_id", "group_name",
                 "user_status", "updated_at", "version"}
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "message"}


def start_server(*extra):
    args = ["--rate-limits", "off", *extra]
    return Tenantd(args, jwt_secret=SECRET if AUTH else None).start()


class ApiTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = start_server()
        try:
            cls.admin = cls.server.token("e2e-admin", "platform:admin")
            cls.alice = cls.server.token("alice")
            cls.bob = cls.server.token("bob")
            cls.reader = cls.server.token("carol", "tenants:read")
        except Exception:
            # unittest skips tearDownClass when setUpClass fails: do not leak the process.
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.cleanup()

    # ---- helpers ----

    def call(self, method, path, body=None, token="admin", **kw):
        tok = {"admin": self.admin, "alice": self.alice, "bob": self.bob,
               "reader": self.reader, None: None}.get(token, token)
        return self.server.request(method, path, body=body, token=tok, **kw)

    def assertProblem(self, res, status, code):
        self.assertEqual(res.status, status, res)
        self.assertEqual(res.header("content-type"), "application/problem+json", res)
        self.assertTrue(PROBLEM_KEYS <= set(res.json), res)
        self.assertEqual(res.json["code"], code, res)
        self.assertEqual(res.json["status"], status, res)
        if status == 422:
            self.assertIsInstance(res.json.get("errors"), dict, res)
        else:
            self.assertNotIn("errors", res.json, res)

    def exchange_raw(self, data):
        """Sends raw bytes on a fresh connection; everything received until the server closes."""
        with socket.create_connection((self.server.host, self.server.port), timeout=10) as s:
            s.sendall(data)
            received = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return received
                received += chunk

    def create(self, name="Acme Corporation", token="admin", **fields):
        body = {"name": name, "plan": "starter", "admin_email": "admin@acme.example", **fields}
        res = self.call("POST", "/api/v1/tenants", body, token=token)
        self.assertEqual(res.status, 201, res)
        return res

    def create_active(self, name, token="admin", **fields):
        """A tenant the provisioning process manager has activated: its version no longer moves
        behind the test's back (TenantProvisioned is appended asynchronously)."""
        tid = self.create(name, token=token, **fields).json["id"]
        ok = wait_until(lambda: self.call("GET", "/api/v1/tenants/" + tid, token=token)
                        .json["status"] == "active", 15)
        self.assertTrue(ok, "the tenant never became active")
        return tid

    # ---- the Tenant API ----

    def test_create_answers_the_full_resource(self):
        res = self.create("Acme Full", plan="professional",
                          settings={"timezone": "America/New_York", "locale": "en-US",
                                    "max_seats": 50}, country_code="us")
        t = res.json
        self.assertEqual(set(t), RESOURCE_KEYS)
        self.assertTrue(t["id"].startswith("tn_"))
        self.assertEqual(t["status"], "provisioning")
        self.assertEqual(t["subscription"]["plan"], "professional")
        self.assertEqual(t["subscription"]["status"], "trialing")
        self.assertEqual(t["country_name"], "United States")
        self.assertEqual(t["version"], 1)
        self.assertEqual(res.header("etag"), '"1"')
        self.assertTrue(res.header("x-event-position").isdigit())
        self.assertEqual(res.header("location"), f"{self.server.base}/api/v1/tenants/{t['id']}")
        # Trial: 14 days after creation.
        from datetime import datetime, timedelta
        parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
        self.assertEqual(parse(t["subscription"]["trial_ends_at"]) - parse(t["created_at"]),
                         timedelta(days=14))
        got = self.call("GET", "/api/v1/tenants/" + t["id"])
        self.assertEqual(got.status, 200)
        self.assertEqual(got.json["name"], "Acme Full")

    def test_provisioning_manager_activates_new_tenants(self):
        tid = self.create("Acme Provisioned").json["id"]
        active = wait_until(lambda: self.call("GET", "/api/v1/tenants/" + tid).json["status"]
                            == "active", 15)
        self.assertTrue(active, "the tenant never became active")
        events = self.call("GET", f"/api/v1/tenants/{tid}/events").json["data"]
        self.assertEqual([e["type"] for e in events], ["TenantCreated", "TenantProvisioned"])
        self.assertEqual(events[1]["metadata"]["actor"], "system:provisioning")

    def test_validation_and_request_errors(self):
        bad = self.call("POST", "/api/v1/tenants", {"name": "abc", "country_code": "XX"})
        self.assertProblem(bad, 422, "VALIDATION_FAILED")
        self.assertEqual(bad.json["message"], "The given data was invalid.")
        for field in ("name", "plan", "admin_email", "country_code"):
            self.assertIn(field, bad.json["errors"])
        nested = self.call("POST", "/api/v1/tenants",
                           {"name": "Acme Nested", "plan": "starter", "admin_email": "a@b.example",
                            "settings": {"max_seats": 0, "timezone": "Mars/Olympus"}})
        self.assertProblem(nested, 422, "VALIDATION_FAILED")
        self.assertIn("settings.max_seats", nested.json["errors"])
        self.assertIn("settings.timezone", nested.json["errors"])
        self.assertProblem(self.call("POST", "/api/v1/tenants", raw_body="{nope"), 400,
                           "BAD_REQUEST")
        self.assertProblem(self.call("POST", "/api/v1/tenants", raw_body='{"name":"x"}',
                                     content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")
        # A body the client says is compressed is not read as plain JSON (that created a tenant).
        gzip = self.call("POST", "/api/v1/tenants", {"name": "Acme Gzip", "plan": "starter",
                                                     "admin_email": "a@b.example"},
                         headers={"Content-Encoding": "gzip"})
        self.assertProblem(gzip, 415, "UNSUPPORTED_MEDIA_TYPE")
        self.assertIn("Content-Encoding 'gzip'", gzip.json["detail"])
        big = '{"name":"' + "x" * (70 * 1024) + '"}'
        self.assertProblem(self.call("POST", "/api/v1/tenants", raw_body=big, fresh=True), 413,
                           "PAYLOAD_TOO_LARGE")
        self.assertProblem(self.call("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND")
        wrong = self.call("PATCH", "/api/v1/tenants/" + MISSING)
        self.assertProblem(wrong, 405, "METHOD_NOT_ALLOWED")
        self.assertIn("GET", wrong.header("allow"))
        self.assertProblem(self.call("GET", "/api/v1/tenants/" + MISSING), 404, "TENANT_NOT_FOUND")
        self.assertProblem(self.call("GET", "/api/v1/tenants/not-an-id"), 404, "TENANT_NOT_FOUND")
        self.assertProblem(self.call("POST", f"/api/v1/tenants/{MISSING}/suspend"), 404,
                           "TENANT_NOT_FOUND")

    def test_framing_that_could_smuggle_a_request_is_refused_and_closes(self):
        # Were the body read as a second request, it would be answered (then the connection
        # closed by its Connection: close).
        smuggled = (b"GET /api/v1/tenants/count HTTP/1.1\r\nHost: x\r\n"
                    b"Authorization: Bearer " + self.admin.encode() + b"\r\n"
                    b"Connection: close\r\n\r\n")
        for coding in (b"gzip", b"chunked, chunked", b"gzip, chunked", b"identity"):
            head = b"GET /livez HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding + b"\r\n\r\n"
            chunks = b"" if b"chunked" not in coding else b"5\r\nhello\r\n0\r\n\r\n"
            received = self.exchange_raw(head + chunks + smuggled)
            self.assertEqual(received.count(b"HTTP/1.1 "), 1, (coding, received))
            self.assertTrue(received.startswith(b"HTTP/1.1 400 "), (coding, received))
            self.assertIn(b"\r\nConnection: close\r\n", received, (coding, received))
            self.assertIn(b'"code":"BAD_REQUEST"', received, (coding, received))
        both = (b"POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                b"Content-Length: 5\r\n\r\nhello")
        received = self.exchange_raw(both + smuggled)
        self.assertTrue(received.startswith(b"HTTP/1.1 400 "), received)
        self.assertEqual(received.count(b"HTTP/1.1 "), 1, received)

    def test_a_header_read_once_sent_twice_is_refused_and_closes(self):
        admin = b"Authorization: Bearer " + self.admin.encode() + b"\r\n"
        reader = b"Authorization: Bearer " + self.reader.encode() + b"\r\n"
        for fields in (admin + reader, b"Host: y\r\n" + admin,
                       admin + b"X-Tenant-Id: " + MISSING.encode() + b"\r\nX-Tenant-Id: x\r\n"):
            received = self.exchange_raw(b"GET /api/v1/tenants/count HTTP/1.1\r\nHost: x\r\n" +
                                         fields + b"Connection: close\r\n\r\n")
            self.assertTrue(received.startswith(b"HTTP/1.1 400 "), (fields, received))
            self.assertIn(b"header must appear only once.", received, (fields, received))
        received = self.exchange_raw(b"GET /livez HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertTrue(received.startswith(b"HTTP/1.1 400 "), received)
        received = self.exchange_raw(b"GET /livez HTTP/1.0\r\n\r\n")
        self.assertTrue(received.startswith(b"HTTP/1.0 200 "), received)

    def test_head_is_get_without_the_body(self):
        tid = self.create_active("Acme Head")
        get = self.call("GET", "/api/v1/tenants/" + tid)
        self.assertEqual(get.status, 200, get)
        auth = b"Authorization: Bearer " + self.admin.encode() + b"\r\n"
        target = b"/api/v1/tenants/" + tid.encode()
        # Pipelined on one connection: a body after the HEAD answer would be read as the start
        # of the GET's answer.
        received = self.exchange_raw(
            b"HEAD " + target + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n" +
            b"HEAD /api/v1/tenants/" + MISSING.encode() + b" HTTP/1.1\r\nHost: x\r\n" + auth +
            b"\r\nGET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, rest = received.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), received)
        self.assertIn(b"\r\nContent-Length: %d" % len(get.raw.encode()), head)
        self.assertIn(b"\r\nETag: " + get.header("etag").encode(), head)
        missing, rest = rest.split(b"\r\n\r\n", 1)
        self.assertTrue(missing.startswith(b"HTTP/1.1 404 "), received)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 "), received)
        self.assertTrue(rest.endswith(b'{"status":"ok"}'), received)
        wrong = self.call("DELETE", "/api/v1/tenants/count")
        self.assertProblem(wrong, 405, "METHOD_NOT_ALLOWED")
        self.assertEqual(wrong.header("allow"), "GET, HEAD")

    def test_plan_limit_and_duplicate_domain(self):
        over = self.call("POST", "/api/v1/tenants",
                         {"name": "Acme Seats", "plan": "starter", "admin_email": "a@b.example",
                          "settings": {"max_seats": 11}})
        self.assertProblem(over, 422, "PLAN_LIMIT_EXCEEDED")
        self.assertIn("settings.max_seats", over.json["errors"])
        tid = self.create("Acme Domain", domain="unique-e2e.example").json["id"]
        dup = self.call("POST", "/api/v1/tenants",
                        {"name": "Acme Copycat", "plan": "starter", "admin_email": "a@b.example",
                         "domain": "UNIQUE-e2e.example"})
        self.assertProblem(dup, 409, "DUPLICATE_DOMAIN")
        # Deactivation releases the domain.
        self.assertEqual(self.call("DELETE", "/api/v1/tenants/" + tid).status, 200)
        again = self.call("POST", "/api/v1/tenants",
                          {"name": "Acme Copycat", "plan": "starter", "admin_email": "a@b.example",
                           "domain": "unique-e2e.example"})
        self.assertEqual(again.status, 201, again)

    def test_lifecycle_and_refusals(self):
        tid = self.create_active("Acme Lifecycle")
        base = "/api/v1/tenants/" + tid
        s = self.call("POST", base + "/suspend", {"reason": "e2e"})
        self.assertEqual((s.status, s.json["status"]), (200, "suspended"))
        noop = self.call("POST", base + "/suspend")
        self.assertEqual(noop.status, 200)
        self.assertEqual(noop.header("etag"), s.header("etag"))
        self.assertEqual(noop.header("x-event-position"), s.header("x-event-position"))
        self.assertProblem(self.call("PUT", base + "/plan", {"plan": "enterprise"}), 403,
                           "TENANT_SUSPENDED")
        self.assertProblem(self.call("PUT", base, {"name": "Acme Lifecycle", "plan": "starter",
                                                   "admin_email": "a@b.example"}),
                           403, "TENANT_SUSPENDED")
        self.assertProblem(self.call("PUT", base + "/switch"), 403, "TENANT_SUSPENDED")
        pay = self.call("POST", base + "/payments", {"status": "succeeded", "payment_id": "p-1",
                                                     "amount_cents": 990, "currency": "EUR"})
        self.assertEqual(pay.status, 200)
        self.assertEqual(pay.json["subscription"]["status"], "active")
        self.assertEqual(pay.json["status"], "suspended")
        r = self.call("POST", base + "/reactivate")
        self.assertEqual(r.json["status"], "active")
        d = self.call("PUT", base + "/deactivate?user_status=2")
        self.assertEqual((d.json["status"], d.json["is_trashed"], d.json["user_status"]),
                         ("deactivated", True, 2))
        self.assertProblem(self.call("POST", base + "/suspend"), 409, "TENANT_DEACTIVATED")
        self.assertProblem(self.call("POST", base + "/payments",
                                     {"status": "failed", "payment_id": "p-2"}),
                           409, "TENANT_DEACTIVATED")
        self.assertEqual(self.call("DELETE", base).status, 200)  # no-op
        a = self.call("PUT", base + "/activate", {"user_status": 1})
        self.assertEqual((a.json["status"], a.json["is_trashed"], a.json["user_status"]),
                         ("active", False, 1))
        c = self.call("POST", base + "/subscription/cancel", {"reason": "budget"})
        self.assertEqual(c.json["subscription"]["status"], "cancelled")
        self.assertIsNotNone(c.json["subscription"]["cancelled_at"])

    def test_payment_policy_suspends_after_three_failures(self):
        tid = self.create("Acme Payments").json["id"]
        base = f"/api/v1/tenants/{tid}/payments"
        for i in range(3):
            r = self.call("POST", base, {"status": "failed", "payment_id": f"f-{i}",
                                         "amount_cents": 100, "currency": "usd",
                                         "reason": "card declined"})
            self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "suspended")
        self.assertEqual(r.json["subscription"]["status"], "past_due")
        repeat = self.call("POST", base, {"status": "failed", "payment_id": "f-2"})
        self.assertEqual(repeat.header("etag"), r.header("etag"))
        self.assertProblem(self.call("POST", base, {"status": "maybe"}), 422, "VALIDATION_FAILED")

    def test_update_plan_and_if_match(self):
        tid = self.create_active("Acme Update", description="first")
        base = "/api/v1/tenants/" + tid
        body = {"name": "Acme Updated", "plan": "professional", "admin_email": "new@acme.example",
                "settings": {"max_seats": 30}}
        cur = self.call("GET", base).header("etag")
        stale = self.call("PUT", base, body, headers={"If-Match": '"999"'})
        self.assertProblem(stale, 412, "PRECONDITION_FAILED")
        self.assertEqual(stale.header("etag"), cur)
        # Entity tags that are not the ETag (weak ones included) do not match; only what is no
        # entity tag at all is malformed.
        for tag in ("W/" + cur, '"abc"', '"-1"', '""'):
            r = self.call("PUT", base, body, headers={"If-Match": tag})
            self.assertProblem(r, 412, "PRECONDITION_FAILED")
            self.assertEqual(r.header("etag"), cur)
        self.assertProblem(self.call("PUT", base, body, headers={"If-Match": "abc"}), 400,
                           "BAD_REQUEST")
        missing = "/api/v1/tenants/" + MISSING
        for tag in ('"1"', "*"):
            self.assertProblem(self.call("PUT", missing, body, headers={"If-Match": tag}), 404,
                               "TENANT_NOT_FOUND")
        ok = self.call("PUT", base, body, headers={"If-Match": cur})
        self.assertEqual(ok.status, 200, ok)
        self.assertEqual((ok.json["name"], ok.json["plan"], ok.json["description"]),
                         ("Acme Updated", "professional", None))
        self.assertEqual(ok.header("etag"), f'"{ok.json["version"]}"')
        star = self.call("PUT", base + "/plan", {"plan": "enterprise"}, headers={"If-Match": "*"})
        self.assertEqual(star.json["plan"], "enterprise")
        self.assertProblem(self.call("PUT", base + "/plan", {"plan": "platinum"}), 422,
                           "VALIDATION_FAILED")
        down = self.call("PUT", base + "/plan", {"plan": "starter"})
        self.assertEqual(down.json["plan"], "starter")
        self.assertEqual(down.json["settings"]["max_seats"], 10)  # lowered to the new limit
        got = self.call("GET", base)
        self.assertEqual(got.header("etag"), down.header("etag"))

    def test_read_your_writes(self):
        res = self.create("Acme Visible")
        pos = res.header("x-event-position")
        listed = self.call("GET", "/api/v1/tenants?name=acme%20visible",
                           headers={"X-Min-Position": pos})
        self.assertEqual(listed.status, 200)
        self.assertEqual([t["id"] for t in listed.json["data"]], [res.json["id"]])
        count = self.call("GET", "/api/v1/tenants/count?name=ACME%20VISIBLE",
                          headers={"X-Min-Position": pos})
        self.assertEqual(count.json, {"count": 1})
        late = self.call("GET", "/api/v1/tenants", headers={"X-Min-Position": "99999999"})
        self.assertProblem(late, 503, "UNAVAILABLE")
        self.assertProblem(self.call("GET", "/api/v1/tenants", headers={"X-Min-Position": "soon"}),
                           400, "BAD_REQUEST")

    def test_idempotent_replays(self):
        body = {"name": "Acme Idempotent", "plan": "starter", "admin_email": "a@b.example"}
        key = {"Idempotency-Key": "create-acme-idem"}
        a = self.call("POST", "/api/v1/tenants", body, headers=key)
        b = self.call("POST", "/api/v1/tenants", body, headers=key)
        self.assertEqual(a.status, 201)
        self.assertEqual(b.status, 201)
        self.assertEqual(b.header("idempotent-replayed"), "true")
        self.assertIsNone(a.header("idempotent-replayed"))
        self.assertEqual(a.raw, b.raw)
        self.assertEqual(a.header("location"), b.header("location"))
        reused = self.call("POST", "/api/v1/tenants", {**body, "name": "Acme Other"}, headers=key)
        self.assertProblem(reused, 422, "IDEMPOTENCY_KEY_REUSED")
        bad = self.call("POST", "/api/v1/tenants", {"name": "x"},
                        headers={"Idempotency-Key": "bad-create"})
        again = self.call("POST", "/api/v1/tenants", {"name": "x"},
                          headers={"Idempotency-Key": "bad-create"})
        self.assertEqual((bad.status, again.status), (422, 422))
        self.assertEqual(again.header("idempotent-replayed"), "true")
        n = self.call("GET", "/api/v1/tenants/count?name=acme%20idempotent",
                      headers={"X-Min-Position": a.header("x-event-position")})
        self.assertEqual(n.json["count"], 1)
        self.assertProblem(self.call("POST", "/api/v1/tenants", body,
                                     headers={"Idempotency-Key": "has space"}),
                           400, "BAD_REQUEST")

    def test_concurrent_requests_with_one_key_have_one_original(self):
        body = {"name": "Acme Racing", "plan": "starter", "admin_email": "a@b.example"}
        headers = {"Idempotency-Key": "create-race", "Content-Type": "application/json"}
        if self.admin:
            headers["Authorization"] = "Bearer " + self.admin
        start = threading.Barrier(8)

        def post():  # one connection each, all sent at once
            conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
            try:
                start.wait()
                conn.request("POST", "/api/v1/tenants", body=json.dumps(body), headers=headers)
                res = conn.getresponse()
                return (res.status, res.getheader("Idempotent-Replayed"), res.read(),
                        res.getheader("X-Event-Position"))
            finally:
                conn.close()

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: post(), range(8)))
        self.assertEqual({a[0] for a in answers}, {201}, answers)
        self.assertEqual(len({a[2] for a in answers}), 1, answers)
        self.assertEqual(sorted(str(a[1]) for a in answers), ["None"] + ["true"] * 7, answers)
        n = self.call("GET", "/api/v1/tenants/count?name=acme%20racing",
                      headers={"X-Min-Position": answers[0][3]})
        self.assertEqual(n.json["count"], 1)

    def test_lists_pagination_and_filters(self):
        made = [self.create(f"Paged Tenant {i:02d}",
                            description="Blue whale logistics" if i % 3 == 0 else "red").json
                for i in range(25)]
        q = "/api/v1/tenants?description=blue%20WHA&per_page=4"
        first = self.call("GET", q)
        self.assertEqual(first.status, 200, first)
        meta = first.json["meta"]
        self.assertEqual((meta["total"], meta["per_page"], meta["last_page"], meta["from"],
                          meta["to"]), (9, 4, 3, 1, 4))
        self.assertEqual(meta["path"], f"{self.server.base}/api/v1/tenants")
        links = first.json["links"]
        self.assertEqual(links["first"],
                         f"{self.server.base}/api/v1/tenants?page=1&description=blue%20WHA&per_page=4")
        self.assertIsNone(links["prev"])
        ids = [t["id"] for t in first.json["data"]]
        self.assertEqual(ids, [t["id"] for t in made if t["name"] in
                               {f"Paged Tenant {i:02d}" for i in (0, 3, 6, 9)}])
        nxt = links["next"][len(self.server.base):]
        second = self.call("GET", nxt)
        self.assertEqual(second.json["meta"]["current_page"], 2)
        self.assertEqual(self.call("GET", "/api/v1/tenants/count?description=blue%20wha").json,
                         {"count": 9})
        for page in ("1000", "1000000000001", "99999999999999999999999"):  # no largest page
            past = self.call("GET", "/api/v1/tenants?page=" + page)
            self.assertEqual((past.status, past.json["data"]), (200, []), past)
            self.assertIsNone(past.json["links"]["next"])
        blank = self.call("GET", "/api/v1/tenants?per_page=&plan=starter")
        self.assertEqual(blank.json["links"]["next"],
                         f"{self.server.base}/api/v1/tenants?page=2&per_page=10&plan=starter")
        # A JSON integer of any size is valid JSON: 422 naming the field's bound, not 400.
        big = self.call("POST", "/api/v1/tenants",
                        raw_body='{"name":"Acme Big","plan":"starter","admin_email":"a@b.example",'
                                 '"settings":{"max_seats":18446744073709551616}}')
        self.assertProblem(big, 422, "VALIDATION_FAILED")
        self.assertEqual(big.json["errors"]["settings.max_seats"],
                         ["The settings.max seats may not be greater than 4294967295."])
        for bad in ("page=0", "page=-1", "page=abc", "per_page=0", "per_page=101",
                    "per_page=2.5", "status=zombie", "plan=free"):
            self.assertProblem(self.call("GET", "/api/v1/tenants?" + bad), 422,
                               "VALIDATION_FAILED")
        self.assertEqual(
            self.call("GET", "/api/v1/tenants?per_page=100").json["meta"]["per_page"], 100)
        # Characters browsers and PHP clients leave unencoded in a query ([ ] | { } ^) are read
        # as their escapes would be, not refused as an invalid target.
        raw = self.call("GET", "/api/v1/tenants?description=whale|x[y]&per_page=4&z[w]={v}^")
        self.assertEqual(raw.status, 200, raw)
        self.assertEqual(raw.json["meta"]["total"], 0)
        self.assertIn("description=whale%7Cx%5By%5D", raw.json["links"]["first"])
        self.assertProblem(self.call("GET", "/api/v1/tenants?description=blue%zz"), 400,
                           "BAD_REQUEST")

    def test_time_travel_and_events(self):
        tid = self.create("Acme History").json["id"]
        base = "/api/v1/tenants/" + tid
        self.call("PUT", base + "/plan", {"plan": "professional"})
        self.call("POST", base + "/suspend")
        v1 = self.call("GET", base + "?as_of_version=1")
        self.assertEqual((v1.status, v1.json["plan"], v1.header("etag")), (200, "starter", '"1"'))
        now = self.call("GET", base).json
        at = self.call("GET", base + "?as_of=" + now["created_at"])
        self.assertEqual(at.status, 200)
        self.assertProblem(self.call("GET", base + "?as_of=1999-01-01T00:00:00Z"), 404,
                           "TENANT_NOT_FOUND")
        self.assertProblem(self.call("GET", base + "?as_of_version=zero"), 422,
                           "VALIDATION_FAILED")
        self.assertProblem(self.call("GET", base + "?as_of=last%20week"), 422, "VALIDATION_FAILED")
        events = self.call("GET", base + "/events?per_page=2")
        self.assertEqual(events.status, 200)
        versions = [e["version"] for e in events.json["data"]]
        self.assertEqual(versions, [1, 2])
        self.assertEqual(events.json["data"][0]["type"], "TenantCreated")
        self.assertGreaterEqual(events.json["meta"]["total"], 3)
        for e in events.json["data"]:
            self.assertEqual(e["stream_id"], tid)
            for k in ("event_id", "position", "occurred_at", "data", "metadata"):
                self.assertIn(k, e)
        self.assertProblem(self.call("GET", f"/api/v1/tenants/{MISSING}/events"), 404,
                           "TENANT_NOT_FOUND")

    def test_usage(self):
        tid = self.create("Acme Usage").json["id"]
        u = self.call("GET", f"/api/v1/tenants/{tid}/usage")
        self.assertEqual(u.status, 200, u)
        self.assertEqual(set(u.json), {"tenant_id", "plan", "seats_in_use", "seat_limit",
                                       "storage_bytes", "api_calls_today", "api_calls_month",
                                       "events_recorded", "observed_at"})
        self.assertEqual((u.json["tenant_id"], u.json["seat_limit"]), (tid, 10))
        self.assertGreaterEqual(u.json["api_calls_today"], 1)

    def test_switch(self):
        owner = "alice" if AUTH else "admin"
        t = self.create("Acme Switch", token=owner)
        tid = t.json["id"]
        s = self.call("PUT", f"/api/v1/tenants/{tid}/switch", token=owner,
                      headers={"X-Min-Position": t.header("x-event-position")})
        self.assertEqual(s.status, 200, s)
        self.assertEqual(s.json, {"success": True})
        self.assertTrue(s.header("x-event-position").isdigit())
        self.assertProblem(self.call("PUT", f"/api/v1/tenants/{MISSING}/switch"), 404,
                           "TENANT_NOT_FOUND")

    @unittest.skipUnless(AUTH, "tenantctl token not in this build")
    def test_tokens_and_scoping(self):
        res = self.call("GET", "/api/v1/tenants", token=None)
        if res.status == 200:
            # tenantctl mints tokens but this tenantd does not install the platform middleware
            # yet (issue 6): nothing to check. Once it does, a token-less call must be a 401.
            self.skipTest("tenantd does not enforce bearer tokens yet")
        self.assertProblem(res, 401, "UNAUTHENTICATED")
        self.assertTrue(res.header("www-authenticate", ).startswith("Bearer"))
        mine = self.create("Alice Company", token="alice")
        tid = mine.json["id"]
        self.assertProblem(self.call("GET", "/api/v1/tenants/" + tid, token="bob"), 403,
                           "FORBIDDEN")
        self.assertProblem(self.call("POST", "/api/v1/tenants",
                                     {"name": "Reader Company", "plan": "starter",
                                      "admin_email": "a@b.example"}, token="reader"),
                           403, "FORBIDDEN")
        listed = self.call("GET", "/api/v1/tenants?per_page=100", token="alice",
                           headers={"X-Min-Position": mine.header("x-event-position")})
        self.assertIn(tid, [t["id"] for t in listed.json["data"]])
        for t in listed.json["data"]:
            events = self.call("GET", f"/api/v1/tenants/{t['id']}/events").json["data"]
            self.assertIn(events[0]["metadata"]["actor"], ("alice",))

    # ---- the TMS-compatible API ----

    def test_tms_v1(self):
        c = self.call("POST", "/v1/tenants",
                      {"name": "Company TMS", "country_code": "US", "city": "New York",
                       "address": "115 East 23rd Street 5th Floor", "post_code": "10010",
                       "description": "New York", "plan": "enterprise"})
        self.assertEqual(c.status, 200, c)
        self.assertEqual(set(c.json), {"data"})
        self.assertEqual(set(c.json["data"]), TMS_KEYS)
        self.assertEqual(c.json["data"]["country_name"], "United States")
        tid = c.json["data"]["id"]
        self.assertEqual(self.call("GET", "/api/v1/tenants/" + tid).json["plan"], "starter")
        bad = self.call("POST", "/v1/tenants", {"country_code": "XX"})
        self.assertEqual(bad.status, 422)
        self.assertEqual(bad.json["message"], "The given data was invalid.")
        self.assertEqual(bad.json["errors"]["name"], ["The name field is required."])
        self.assertEqual(bad.json["errors"]["country_code"],
                         ["The country code field is invalid. It must be ISO 3166-1 alpha-2 "
                          "country code."])
        u = self.call("PUT", "/v1/tenants/" + tid, {"name": "Company TMS Renamed",
                                                     "country_code": "DE"})
        self.assertEqual((u.status, set(u.json["data"])), (200, TMS_KEYS))
        self.assertEqual(u.json["data"]["country_name"], "Germany")
        g = self.call("GET", "/v1/tenants/" + tid)
        self.assertEqual(g.json["data"]["name"], "Company TMS Renamed")
        d = self.call("PUT", f"/v1/tenants/{tid}/deactivate", {"user_status": 0})
        self.assertEqual((d.status, d.json), (200, {"is_trashed": True}))
        a = self.call("PUT", f"/v1/tenants/{tid}/activate?user_status=1")
        self.assertEqual((a.status, a.json), (200, {"is_trashed": False}))
        sw = self.call("PUT", f"/v1/tenants/{tid}/switch")
        self.assertEqual((sw.status, sw.json), (200, {"success": True}))
        lst = self.call("GET", "/v1/tenants?name=company%20tms%20renamed",
                        headers={"X-Min-Position": sw.header("x-event-position")})
        self.assertEqual(lst.status, 200)
        self.assertEqual(set(lst.json), {"data", "links", "meta"})
        item = lst.json["data"][0]
        self.assertEqual(set(item), TMS_KEYS | {"group_id", "group_name"})
        self.assertEqual((item["group_id"], item["group_name"]), ("0", ""))
        self.assertEqual(lst.json["links"]["first"],
                         f"{self.server.base}/v1/tenants?page=1&name=company%20tms%20renamed")
        self.assertEqual(lst.json["meta"]["path"], f"{self.server.base}/v1/tenants")
        self.assertEqual(self.call("GET", "/v1/tenants/count?name=Company%20TMS%20Renamed").json,
                         {"count": 1})
        self.assertProblem(self.call("PUT", f"/v1/tenants/{MISSING}/activate"), 404,
                           "TENANT_NOT_FOUND")
        self.assertProblem(self.call("GET", "/v1/tenants?per_page=500"), 422, "VALIDATION_FAILED")

    def test_tms_v01_is_deprecated(self):
        res = self.call("GET", "/v0.1/tenants")
        self.assertEqual(res.status, 200)
        self.assertTrue(res.header("deprecation"))
        self.assertTrue(res.header("sunset"))
        self.assertEqual(res.header("link"),
                         f'<{self.server.base}/v1/tenants>; rel="successor-version"')
        self.assertEqual(res.json["meta"]["path"], f"{self.server.base}/v0.1/tenants")
        c = self.call("POST", "/v0.1/tenants", {"name": "Company Old"})
        self.assertEqual((c.status, set(c.json["data"])), (200, TMS_KEYS))
        self.assertTrue(c.header("deprecation"))
        self.assertIsNone(self.call("GET", "/v1/tenants").header("deprecation"))
        # Every other /v0.1 route answers as its /v1 twin, with the headers.
        tid = c.json["data"]["id"]
        checks = [
            ("GET", f"/v0.1/tenants/{tid}", None, lambda j: set(j["data"]) == TMS_KEYS),
            ("PUT", f"/v0.1/tenants/{tid}", {"name": "Company Older", "country_code": "FR"},
             lambda j: j["data"]["country_name"] == "France"),
            ("PUT", f"/v0.1/tenants/{tid}/deactivate", {"user_status": 2},
             lambda j: j == {"is_trashed": True}),
            ("PUT", f"/v0.1/tenants/{tid}/activate", None, lambda j: j == {"is_trashed": False}),
            ("PUT", f"/v0.1/tenants/{tid}/switch", None, lambda j: j == {"success": True}),
            ("GET", "/v0.1/tenants/count?name=company%20older", None,
             lambda j: j == {"count": 1}),
        ]
        for method, path, body, ok in checks:
            r = self.call(method, path, body)
            self.assertEqual(r.status, 200, (path, r))
            self.assertTrue(ok(r.json), (path, r))
            self.assertTrue(r.header("deprecation") and r.header("sunset"), path)
            successor = "/v1" + path[len("/v0.1"):].split("?")[0]
            self.assertEqual(r.header("link"),
                             f'<{self.server.base}{successor}>; rel="successor-version"', path)
        self.assertProblem(self.call("GET", "/v0.1/tenants/" + MISSING), 404, "TENANT_NOT_FOUND")

    def test_openapi_document_is_served_without_a_token(self):
        res = self.call("GET", "/api/v1/openapi.json", token=None)
        self.assertEqual(res.status, 200, res)
        self.assertEqual(res.json["openapi"], "3.1.0")
        paths = res.json["paths"]
        for p in ("/api/v1/tenants", "/api/v1/tenants/{id}/events", "/v1/tenants/{id}/switch",
                  "/v0.1/tenants/count"):
            self.assertIn(p, paths)


class DataDirInUseTest(unittest.TestCase):
    """What a second writer on a running tenantd's data directory is told: one line naming the
    directory and the cause, exit non-zero, and no RocksDB "DB::Open() failed" line before it."""

    def test_a_second_writer_is_refused_with_a_clear_message(self):
        server = start_server()
        try:
            ctl = [binary("TENANTCTL_BIN"), "--data-dir", server.data_dir]
            imported = subprocess.run([*ctl, "import", "--input", "-"], input=b"",
                                      capture_output=True, timeout=60)
            self.assertEqual(imported.returncode, 2, imported.stderr)
            self.assertIn(b"in use by another process", imported.stderr)
            replay = subprocess.run([*ctl, "replay"], capture_output=True, timeout=60)
            self.assertNotEqual(replay.returncode, 0, replay.stderr)
            self.assertIn(b"in use", replay.stderr)
            second = subprocess.run([binary("TENANTD_BIN"), "--data-dir", server.data_dir,
                                     "--listen", "127.0.0.1:0"],
                                    capture_output=True, timeout=60)
            self.assertNotEqual(second.returncode, 0, second.stderr)
            self.assertIn(b"in use by another process", second.stderr)
            for out in (imported.stderr, replay.stderr, second.stderr, second.stdout):
                self.assertNotIn(b"DB::Open() failed", out)
            # The running tenantd is unaffected.
            admin = server.token("e2e-admin", "platform:admin")
            self.assertEqual(server.request("GET", "/admin/status", token=admin).status, 200)
        finally:
            server.cleanup()


class ExportImportTest(unittest.TestCase):
    """`tenantctl export | tenantctl import` moves a whole log written by tenantd, from the
    command line (issue 4 item 7): positions and event ids kept, the copy verifies, and import
    refuses a non-empty store and a malformed line, naming it."""

    def ctl(self, data_dir, *args, stdin=None):
        return subprocess.run([binary("TENANTCTL_BIN"), "--data-dir", data_dir, *args],
                              input=stdin, capture_output=True, timeout=120)

    def test_export_pipes_into_import_and_the_copy_verifies(self):
        server = start_server()
        copy = tempfile.mkdtemp(prefix="tenantd-e2e-import-")
        bad = tempfile.mkdtemp(prefix="tenantd-e2e-import-bad-")
        try:
            admin = server.token("e2e-admin", "platform:admin")
            for i in range(3):
                body = {"name": f"Acme Export {i}", "plan": "starter",
                        "admin_email": "a@b.example", "domain": f"export{i}.example"}
                res = server.request("POST", "/api/v1/tenants", body, token=admin)
                self.assertEqual(res.status, 201, res)
            # Three TenantCreated and provisioning's three TenantProvisioned.
            self.assertTrue(wait_until(lambda: server.request(
                "GET", "/admin/status", token=admin).json["head_position"] == 6, 15))

            exported = self.ctl(server.data_dir, "export")  # while tenantd runs (read-only)
            self.assertEqual(exported.returncode, 0, exported.stderr)
            lines = exported.stdout.decode().splitlines()
            self.assertEqual([json.loads(x)["position"] for x in lines], [1, 2, 3, 4, 5, 6])

            imported = self.ctl(copy, "import", stdin=exported.stdout)  # stdin by default
            self.assertEqual(imported.returncode, 0, imported.stderr)
            self.assertIn(b"imported 6 events", imported.stdout)
            verify = self.ctl(copy, "verify")
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            events = self.ctl(copy, "events")
            self.assertEqual([json.loads(x) for x in events.stdout.decode().splitlines()],
                             [json.loads(x) for x in lines])
            tid = json.loads(lines[0])["stream_id"]
            one = self.ctl(copy, "events", "--stream", tid, "--limit", "1")
            self.assertEqual(one.returncode, 0, one.stderr)
            self.assertEqual([json.loads(x)["stream_id"] for x in one.stdout.decode().splitlines()],
                             [tid])
            # A stream with no events (a typo) and a negative number are refused by name.
            missing = self.ctl(copy, "events", "--stream", "nope")
            self.assertEqual((missing.returncode, missing.stdout), (1, b""), missing.stderr)
            self.assertIn(b"no stream 'nope'", missing.stderr)
            negative = self.ctl(copy, "events", "--limit", "-1")
            self.assertNotEqual(negative.returncode, 0)
            self.assertIn(b"--limit: must be 0 or more, got -1", negative.stderr)
            for word in ("nosuchcmd", "--bogus"):
                unknown = self.ctl(copy, word)
                self.assertNotEqual(unknown.returncode, 0)
                self.assertIn(f"unknown subcommand or option '{word}'".encode(), unknown.stderr)
                self.assertIn(b"events, export, import", unknown.stderr)

            again = self.ctl(copy, "import", stdin=exported.stdout)
            self.assertNotEqual(again.returncode, 0)
            self.assertIn(b"not empty", again.stderr)

            malformed = (lines[0] + "\n{not json\n").encode()
            refused = self.ctl(bad, "import", "--input", "-", stdin=malformed)
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn(b"line 2", refused.stderr)
            self.assertEqual(self.ctl(bad, "events").stdout, b"")  # nothing written

            # Standard input left on a terminal: a clear refusal, not a wait for input.
            leader, follower = pty.openpty()
            try:
                tty = subprocess.run([binary("TENANTCTL_BIN"), "--data-dir", bad, "import"],
                                     stdin=follower, capture_output=True, timeout=30)
            finally:
                os.close(leader)
                os.close(follower)
            self.assertEqual(tty.returncode, 2, tty.stderr)
            self.assertIn(b"terminal", tty.stderr)
        finally:
            server.cleanup()
            shutil.rmtree(copy, ignore_errors=True)
            shutil.rmtree(bad, ignore_errors=True)


class RestartTest(unittest.TestCase):
    def test_state_and_idempotency_records_survive_a_restart(self):
        server = start_server()
        try:
            admin = server.token("e2e-admin", "platform:admin")
            body = {"name": "Acme Durable", "plan": "starter", "admin_email": "a@b.example"}
            key = {"Idempotency-Key": "durable-1"}
            first = server.request("POST", "/api/v1/tenants", body, token=admin, headers=key)
            self.assertEqual(first.status, 201, first)
            self.assertEqual(server.stop(), 0)
            server.proc = None
            server.start()
            admin = server.token("e2e-admin", "platform:admin")
            replay = server.request("POST", "/api/v1/tenants", body, token=admin, headers=key)
            self.assertEqual(replay.header("idempotent-replayed"), "true")
            self.assertEqual(replay.raw, first.raw)
            got = server.request("GET", "/api/v1/tenants/" + first.json["id"], token=admin)
            self.assertEqual(got.status, 200)
        finally:
            server.cleanup()


class ReplicaTest(unittest.TestCase):
    def test_a_replica_refuses_commands(self):
        server = start_server("--role", "replica")
        try:
            admin = server.token("e2e-admin", "platform:admin")
            res = server.request("POST", "/api/v1/tenants",
                                 {"name": "Acme Replica", "plan": "starter",
                                  "admin_email": "a@b.example"}, token=admin)
            self.assertEqual(res.status, 421, res)
            self.assertEqual(res.json["code"], "NOT_WRITER")
            self.assertEqual(server.request("GET", "/api/v1/tenants", token=admin).status, 200)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
