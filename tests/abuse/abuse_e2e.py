"""Abuse over real sockets (issue 9, part 5): the real tenantd on a loopback port gets well over
a thousand malformed requests -- bad methods and versions, broken chunking, invalid UTF-8, huge
or negative paging, deep JSON nesting, duplicate keys, very long strings, path tricks -- and
each must be answered with a 4xx problem document while the server keeps serving; 500 slow or
idle connections (slowloris) must not stop other clients; oversized headers get 431 and
oversized bodies 413.

Every request is written byte for byte on a plain socket (no HTTP library in the way), every
wait is bounded, and the inputs come from a seeded generator, so a failure names a request
that can be sent again."""
import json
import os
import random
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import tenantd_harness as h  # noqa: E402

SEED = int(os.environ.get("ABUSE_SEED", "20261122"))
SOCKET_TIMEOUT = 15.0


def read_response(sock):
    """Reads one HTTP/1.1 response (Content-Length or close-delimited); returns (status,
    headers, body bytes). Raises on a timeout or when the server closes before a status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response: %r" % data[:200])
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, headers, rest[:n]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += sock.recv(65536)
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return status, headers, body
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return status, headers, rest
        rest += chunk


class Abuse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        args = []
        if h.tenantd_supports("--rate-limits"):
            args += ["--rate-limits", "off"]
        secret = "abuse-suite-secret-0123456789abcdef" if h.tenantd_supports("--jwt-secret") else None
        cls.d = h.Tenantd(extra_args=args, jwt_secret=secret).start()
        cls.token = cls.d.token("abuse-admin", scope="platform:admin tenants:read tenants:write") \
            if secret and h.tenantctl_supports("token") else None
        r = cls.d.request("POST", "/api/v1/tenants",
                          {"name": "Abuse Target", "plan": "professional",
                           "admin_email": "ops@abuse.example", "domain": "abuse.example"},
                          token=cls.token)
        assert r.status == 201, r
        cls.tenant = r.json["id"]

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def auth(self):
        return ("Authorization: Bearer %s\r\n" % self.token) if self.token else ""

    def send_raw(self, raw):
        with socket.create_connection((self.d.host, self.d.port), timeout=SOCKET_TIMEOUT) as s:
            s.sendall(raw)
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return read_response(s)

    def assert_problem(self, raw, status, headers, body, allowed=range(400, 500)):
        self.assertIn(status, allowed, "request %r answered %d %r" % (raw[:300], status, body[:300]))
        self.assertTrue(headers.get("content-type", "").startswith("application/problem+json"),
                        "request %r: content-type %r" % (raw[:300], headers.get("content-type")))
        doc = json.loads(body)
        for key in ("type", "title", "status", "detail", "code"):
            self.assertIn(key, doc, "request %r: problem %r" % (raw[:300], doc))
        self.assertEqual(doc["status"], status)

    def assert_alive(self):
        r = self.d.request("GET", "/api/v1/tenants/" + self.tenant, token=self.token, fresh=True)
        self.assertEqual(r.status, 200, r)

    # ---- the generators: each returns raw request bytes ----

    def req(self, method, target, body=b"", headers="", version="HTTP/1.1", ctype=True):
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        head = "%s %s %s\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s" % (
            method, target, version, self.auth())
        if body:
            if ctype:
                head += "Content-Type: application/json\r\n"
            head += "Content-Length: %d\r\n" % len(body)
        head += headers
        return head.encode("latin-1", "replace") + b"\r\n" + body

    def malformed(self, rng):
        t = "/api/v1/tenants/" + self.tenant
        kind = rng.randrange(14)
        if kind == 0:  # bad methods
            m = rng.choice(["FOO", "GETT", "BREW", "PURGE", "PROPFIND", "G\x01T", "DELETEX"])
            return self.req(m, rng.choice([t, "/api/v1/tenants", "/v1/tenants"]))
        if kind == 1:  # bad versions
            v = rng.choice(["HTTP/2.0", "HTTP/0.9", "HTTP/1.9", "HTTP/x.y", "HTTX/1.1", "HTTP/11"])
            return self.req("GET", t, version=v)
        if kind == 2:  # broken chunking
            chunks = rng.choice([b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nab\r\n0\r\n\r\n",
                                 b"-1\r\n\r\n", b"fffffffffffffffff\r\n", b"3\r\nabcXX0\r\n\r\n"])
            return ("POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s"
                    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    % self.auth()).encode() + chunks
        if kind == 3:  # invalid UTF-8 inside JSON strings
            bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                              b"\xe2\x82"])
            body = b'{"name": "T' + bad + b'", "plan": "professional", "admin_email": "a@b.example"}'
            return self.req("POST", "/api/v1/tenants", body)
        if kind == 4:  # paging out of range or not an integer
            k = rng.choice(["page", "per_page"])
            bad = ["0", "-1", "-999999999999", "1.5", "abc", "1e3", "0x10", "%00", " 1"]
            if k == "per_page":  # a page past the end, however far, is no error: 200, data []
                bad += ["101", "2147483648", "99999999999999999999999"]
            v = rng.choice(bad)
            return self.req("GET", "/api/v1/tenants?%s=%s" % (k, v.replace(" ", "%20")))
        if kind == 5:  # deep nesting
            depth = rng.choice([200, 1000, 5000, 20000])
            opener = rng.choice(["[", '{"a":'])
            closer = "]" if opener == "[" else "}"
            return self.req("POST", "/api/v1/tenants", opener * depth + "1" + closer * depth)
        if kind == 6:  # duplicate keys
            body = '{"name": "A", "name": "B", "plan": "professional", "plan": "enterprise", ' \
                   '"admin_email": "x@y.example"}'
            return self.req(rng.choice(["POST", "PUT"]),
                            rng.choice(["/api/v1/tenants", t]), body)
        if kind == 7:  # very long strings, under the body limit
            n = rng.choice([300, 5000, 60000])
            field = rng.choice(["name", "description", "admin_email", "domain", "city"])
            body = {"name": "Long", "plan": "professional", "admin_email": "l@long.example"}
            body[field] = "x" * n
            return self.req("POST", "/api/v1/tenants", json.dumps(body))
        if kind == 8:  # path tricks
            p = rng.choice(["/api/v1/../admin/status", "/api/v1/tenants/%2e%2e/admin",
                            "/api/v1/tenants/..%2f..%2fetc%2fpasswd", "/api/v1/tenants/%00",
                            "/api/v1/tenants/tn_" + "0" * 5000, "/api/v1//tenants//",
                            "/API/V1/TENANTS", "/api/v1/tenants/%zz", "/api/v1/tenants/\\..\\",
                            "/api/v1/tenants/" + self.tenant + "/../../../admin/status",
                            "/api/v1/tenants/" + self.tenant + "/nope", "*",
                            "http://evil.example/api/v1/tenants/x"])
            return self.req(rng.choice(["GET", "PUT", "DELETE"]), p)
        if kind == 9:  # not JSON at all, or JSON of the wrong shape
            body = rng.choice(["", "null", "[]", "42", '"str"', "{", '{"name":}', "{'a':1}",
                               '{"name": 5, "plan": []}', "\x00\x01\x02", "true"])
            return self.req("POST", "/api/v1/tenants", body or " ")
        if kind == 10:  # wrong or missing media type
            ctype = rng.choice(["text/plain", "application/xml", "multipart/form-data",
                                "application/x-www-form-urlencoded"])
            return self.req("POST", "/api/v1/tenants", '{"name":"A","plan":"standard"}',
                            headers="Content-Type: %s\r\n" % ctype, ctype=False)
        if kind == 11:  # bad query values on other routes
            q = rng.choice(["as_of_version=-1", "as_of_version=abc", "as_of=yesterday",
                            "as_of=2026-13-45T99:00:00Z", "as_of_version=0",
                            "as_of_version=1.5"])
            return self.req("GET", t + "?" + q)
        if kind == 12:  # bad JSON values
            body = rng.choice([
                {"name": "", "plan": "professional", "admin_email": "a@b.example"},
                {"name": "A", "plan": "platinum", "admin_email": "a@b.example"},
                {"name": "A", "plan": "professional", "admin_email": "not-an-email"},
                {"name": "A", "plan": "professional", "admin_email": "a@b.example",
                 "country_code": "XX"},
                {"name": "A", "plan": "professional", "admin_email": "a@b.example",
                 "settings": {"max_seats": -5, "timezone": "Mars/Olympus"}},
                {"plan": "platinum"}])
            return self.req("PUT" if "plan" in body and len(body) == 1 else "POST",
                            t + "/plan" if len(body) == 1 else "/api/v1/tenants",
                            json.dumps(body))
        # header abuse: bad header names and values, conflicting lengths
        hdr = rng.choice(["Content-Length: -5\r\n", "Content-Length: abc\r\n",
                          "Bad Header: x\r\n", "X-Min-Position: -1\r\n",
                          "X-Min-Position: notanumber\r\n", "If-Match: garbage\r\n",
                          "Content-Length: 5\r\nContent-Length: 6\r\n"])
        method = "PUT" if "If-Match" in hdr else "GET"
        body = b""
        if method == "PUT":
            body = json.dumps({"name": "X", "plan": "professional",
                               "admin_email": "a@b.example"}).encode()
        raw = ("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s" % (
            method, t, self.auth(), hdr)).encode()
        if body:
            raw += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        return raw + b"\r\n" + body

    # ---- the tests ----

    def test_a_thousand_malformed_requests_each_get_a_4xx_problem(self):
        rng = random.Random(SEED)
        n = int(os.environ.get("ABUSE_REQUESTS", "1200"))
        statuses = {}
        failures = []
        for i in range(n):
            raw = self.malformed(rng)
            status, headers, body = self.send_raw(raw)
            try:
                self.assert_problem(raw, status, headers, body)
            except (AssertionError, ValueError) as e:
                failures.append(str(e)[:700])
            statuses[status] = statuses.get(status, 0) + 1
            if i % 100 == 99:
                self.assert_alive()
        self.assert_alive()
        self.assertEqual(failures, [], "%d of %d malformed requests were not refused with a 4xx "
                         "problem document; distinct failures:\n%s" % (
                             len(failures), n, "\n".join(sorted(set(failures))[:20])))
        print("abuse: %d malformed requests, answers by status: %s" % (n, dict(sorted(
            statuses.items()))), file=sys.stderr)
        # The mix really exercised different refusals, not one catch-all.
        self.assertGreaterEqual(len(statuses), 4, statuses)

    def test_oversized_headers_get_431_and_bodies_413(self):
        raw = self.req("GET", "/api/v1/tenants", headers="X-Big: %s\r\n" % ("h" * 200000))
        status, headers, body = self.send_raw(raw)
        self.assert_problem(raw, status, headers, body, allowed=[431])
        big = json.dumps({"name": "B", "plan": "professional", "admin_email": "b@b.example",
                          "description": "d" * (70 * 1024)})
        raw = self.req("POST", "/api/v1/tenants", big)
        status, headers, body = self.send_raw(raw)
        self.assert_problem(raw, status, headers, body, allowed=[413])
        self.assertEqual(json.loads(body)["code"], "PAYLOAD_TOO_LARGE")
        self.assert_alive()

    def test_slow_and_idle_connections_do_not_stop_other_clients(self):
        socks = []
        try:
            for i in range(500):
                s = socket.create_connection((self.d.host, self.d.port), timeout=SOCKET_TIMEOUT)
                if i % 2 == 0:  # slowloris: a request line and a partial header, never finished
                    s.sendall(b"GET /api/v1/tenants HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                socks.append(s)
            # While they hang on, other clients are served, each within the socket timeout.
            started = time.time()
            for _ in range(50):
                self.assert_alive()
            for s in socks[1::50]:  # and the slow ones keep trickling bytes meanwhile
                try:
                    s.sendall(b"a")
                except OSError:
                    pass  # the server may already have timed the slow one out: that is fine
            self.assert_alive()
            print("abuse: 50 requests beside 500 slow/idle connections in %.2f s"
                  % (time.time() - started), file=sys.stderr)
        finally:
            for s in socks:
                s.close()
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
