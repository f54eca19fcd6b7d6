#!/usr/bin/env python3
"""Writes the seed corpora of the jwt and http_request fuzz targets (tests/fuzz/README.md).

    tests/fuzz/make_corpus.py        # rewrites corpus/jwt/seed-* and corpus/http_request/seed-*

Deterministic (fixed clock, fixed keys from test_keys.hpp, RS256 signatures by the openssl
command line: PKCS#1 v1.5 signatures are deterministic), so rerunning it changes nothing unless
this file changed. Crash inputs (crash-*) are never touched.
"""
import base64
import hashlib
import hmac
import json
import pathlib
import re
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
KEYS = (HERE / "test_keys.hpp").read_text()
SECRET = re.search(r'test_hs256_secret = "([^"]+)"', KEYS).group(1).encode()
PRIVATE_PEM = re.search(r'test_rsa_private_pem = R"PEM\((.*?)\)PEM"', KEYS, re.S).group(1)
PUBLIC_PEM = re.search(r'test_rsa_public_pem = R"PEM\((.*?)\)PEM"', KEYS, re.S).group(1)
NOW = 1768469400  # jwt_fuzz.cpp fixed_now: 2026-01-15T09:30:00Z
TENANT_A = "tn_0190a6c2-7b3e-7c4d-8e5f-6a7b8c9d0e1f"  # jwt_fuzz.cpp: the member's tenant
TENANT_B = "tn_0190a6c2-7b3e-7c4d-8e5f-6a7b8c9d0e20"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def js(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def rs256(data: bytes) -> bytes:
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as key:
        key.write(PRIVATE_PEM)
        key.flush()
        return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key.name], input=data,
                              capture_output=True, check=True).stdout


def token(header: bytes, claims: bytes, key: str = "hs") -> str:
    signing_input = b64url(header) + "." + b64url(claims)
    if key == "hs":
        sig = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    elif key == "rs":
        sig = rs256(signing_input.encode())
    elif key == "pub":  # HS256 keyed with the public key: algorithm confusion
        sig = hmac.new(PUBLIC_PEM.encode(), signing_input.encode(), hashlib.sha256).digest()
    elif key == "other":
        sig = hmac.new(b"not-the-secret", signing_input.encode(), hashlib.sha256).digest()
    else:
        sig = b""
    return signing_input + "." + b64url(sig)


HS = js({"alg": "HS256", "typ": "JWT"})
RS = js({"alg": "RS256", "typ": "JWT"})


def claims(**extra) -> bytes:
    c = {"sub": "fuzz-user", "scope": "tenants:read tenants:write", "iat": NOW, "exp": NOW + 3600}
    c.update(extra)
    return js({k: v for k, v in c.items() if v is not None})


def jwt_seeds():
    """name -> (authorization, header, claims): the jwt target's three parts."""
    seeds = {}

    def both(name, header, body, key="hs", auth=None):
        tok = token(header, body, key)
        seeds[name] = ((auth or "{}").format(tok).encode(), header, body)

    both("hs256_valid", HS, claims())
    both("hs256_bearer_header", HS, claims(), auth="Bearer {}")
    both("hs256_bearer_tab_spaces", HS, claims(), auth="  bearer\t{}  ")
    both("basic_scheme", HS, claims(), auth="Basic {}")
    both("rs256_valid", RS, claims(), key="rs")
    both("hs256_admin", HS, claims(sub="fuzz-admin", scope="platform:admin"))
    both("hs256_reader", HS, claims(scope="tenants:read"))
    both("hs256_scoped", HS, claims(tenant_id=TENANT_A))
    both("hs256_scoped_other", HS, claims(tenant_id=TENANT_B, scope="tenants:read"))
    both("hs256_member", HS, claims(sub="fuzz-member"))
    both("hs256_no_scope", HS, claims(scope=None))
    both("hs256_no_exp", HS, claims(exp=None))
    both("expired", HS, claims(exp=NOW - 3600))
    both("expired_within_leeway", HS, claims(exp=NOW - 30))
    both("expired_at_leeway", HS, claims(exp=NOW - 60))
    both("nbf_future", HS, claims(nbf=NOW + 3600))
    both("nbf_within_leeway", HS, claims(nbf=NOW + 30))
    both("exp_float", HS, claims(exp=NOW + 0.5))
    both("exp_huge", HS, claims(exp=1e300))
    both("exp_negative", HS, claims(exp=-1))
    both("exp_string", HS, claims(exp=str(NOW + 3600)))
    both("nbf_null", HS, claims()[:-1] + b',"nbf":null}')
    both("alg_none", js({"alg": "none", "typ": "JWT"}), claims(), key="none")
    both("alg_none_signed", js({"alg": "none"}), claims())
    both("alg_lowercase", js({"alg": "hs256"}), claims())
    both("alg_missing", js({"typ": "JWT"}), claims())
    both("alg_duplicate", b'{"alg":"none","alg":"HS256"}', claims())
    both("alg_rs256_hmac_public_key", RS, claims(), key="pub")
    both("alg_hs256_hmac_public_key", HS, claims(), key="pub")
    both("wrong_secret", HS, claims(), key="other")
    both("typ_lowercase", js({"alg": "HS256", "typ": "jwt"}), claims())
    both("typ_jws", js({"alg": "HS256", "typ": "JWS"}), claims())
    both("crit", js({"alg": "HS256", "crit": ["exp"]}), claims())
    both("kid_jku", js({"alg": "HS256", "kid": "../../etc/passwd", "jku": "http://x"}), claims())
    both("sub_missing", HS, claims(sub=None))
    both("sub_empty", HS, claims(sub=""))
    both("sub_number", HS, claims(sub=42))
    both("sub_control", HS, claims(sub="fuzz\nuser"))
    both("sub_long", HS, claims(sub="s" * 300))
    both("sub_unicode", HS, claims(sub="usér-ü-\u00e9"))
    both("scope_array", HS, claims(scope=["tenants:read"]))
    both("scope_spaces", HS, claims(scope="  tenants:read   platform:admin  "))
    both("tenant_id_bad", HS, claims(tenant_id="tn_not-a-uuid"))
    both("tenant_id_number", HS, claims(tenant_id=7))
    both("tenant_id_null", HS, claims()[:-1] + b',"tenant_id":null}')
    both("aud_iss", HS, claims(aud=["tenantd", "other"], iss="https://issuer.example"))
    both("claims_array", HS, b"[1,2,3]")
    both("claims_not_json", HS, b"not json")
    both("claims_deep", HS, b'{"sub":"x","a":' + b"[" * 200 + b"]" * 200 + b"}")
    good = token(HS, claims())
    h, c, s = good.split(".")
    tampered = token(HS, claims(scope="platform:admin"))
    seeds["tampered_claims"] = ((h + "." + tampered.split(".")[1] + "." + s).encode(), HS,
                                claims(scope="platform:admin"))
    seeds["padding"] = ((good + "==").encode(), HS, claims())
    seeds["jwe_five_parts"] = ((good + ".a.b").encode(), HS, claims())
    seeds["two_parts"] = ((h + "." + c).encode(), HS, claims())
    seeds["empty_signature"] = ((h + "." + c + ".").encode(), HS, claims())
    seeds["non_canonical_b64"] = ((h + "." + c + "." + s[:-1] + "B").encode(), HS, claims())
    seeds["huge_token"] = (("a" * 9000 + "." + c + "." + s).encode(), HS, claims())
    seeds["empty"] = (b"", b"", b"")
    seeds["token_only"] = (good.encode(), None, None)
    return seeds


def write_jwt(out: pathlib.Path):
    for name, (auth, header, body) in jwt_seeds().items():
        data = auth
        if header is not None:
            data += b"\0" + header + b"\0" + body
        (out / ("seed-" + name)).write_bytes(data)


def request(method, target, token=None, body=None, headers=(), version="1.1", host=True,
            content_type="application/json"):
    lines = [f"{method} {target} HTTP/{version}"]
    if host:
        lines.append("Host: tenants.example.com")
    if token:
        lines.append(f"X-Fuzz-Token: {token}")
    lines += list(headers)
    raw_body = b""
    if body is not None:
        raw_body = body if isinstance(body, bytes) else js(body)
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(raw_body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw_body


CREATE = {"name": "Acme Corporation", "plan": "professional", "admin_email": "ops@acme.example",
          "domain": "acme.example", "country_code": "DE", "description": "Widgets and gadgets",
          "settings": {"timezone": "Europe/Berlin", "locale": "de-DE", "max_seats": 20}}
NO_DOMAIN = {k: v for k, v in CREATE.items() if k != "domain"}
TMS_CREATE = {"name": "Tms Tenant Ltd", "domain": "tms.example", "country_code": "GB",
              "description": "From the TMS API"}


def http_seeds():
    s = {}
    api = "/api/v1/tenants"
    # The Tenant API, every route.
    s["api_create"] = request("POST", api, "admin", CREATE)
    s["api_create_member"] = request("POST", api, "member", NO_DOMAIN)
    s["api_create_idempotent"] = request("POST", api, "writer", {**CREATE, "domain": "idem.example"},
                                         ["Idempotency-Key: key-1"])
    s["api_list"] = request("GET", api + "?page=1&per_page=10", "admin")
    s["api_list_filters"] = request(
        "GET", api + "?name=Acme%20Corporation&description=wid%20gad&status=active&plan=starter"
        "&page=2&per_page=100", "reader")
    s["api_list_bad_paging"] = request("GET", api + "?page=0&per_page=1000", "reader")
    s["api_count"] = request("GET", api + "/count?status=provisioning", "admin")
    s["api_get"] = request("GET", api + "/{A}", "admin")
    s["api_get_as_of_version"] = request("GET", api + "/{A}?as_of_version=1", "admin")
    s["api_get_as_of"] = request("GET", api + "/{A}?as_of=2026-01-15T09:30:00Z", "admin")
    s["api_get_min_position"] = request("GET", api + "/{A}", "admin", headers=["X-Min-Position: 1"])
    s["api_get_min_position_future"] = request("GET", api + "/{A}", "admin",
                                               headers=["X-Min-Position: 999999999"])
    s["api_update"] = request("PUT", api + "/{A}", "admin", {**CREATE, "name": "Acme Renamed"},
                              ['If-Match: "1"'])
    s["api_delete"] = request("DELETE", api + "/{L}", "admin")
    s["api_deactivate"] = request("PUT", api + "/{B}/deactivate", "member")
    s["api_activate"] = request("PUT", api + "/{B}/activate", "member")
    s["api_switch"] = request("PUT", api + "/{B}/switch", "member")
    s["api_suspend"] = request("POST", api + "/{A}/suspend", "admin", {"reason": "manual"})
    s["api_reactivate"] = request("POST", api + "/{A}/reactivate", "admin")
    s["api_plan"] = request("PUT", api + "/{A}/plan", "admin", {"plan": "enterprise"})
    s["api_plan_downgrade"] = request("PUT", api + "/{A}/plan", "admin", {"plan": "starter"})
    s["api_payment_failed"] = request(
        "POST", api + "/{A}/payments", "admin",
        {"status": "failed", "payment_id": "pay_1", "amount_cents": 4900, "currency": "EUR",
         "reason": "card_declined"})
    s["api_payment_succeeded"] = request(
        "POST", api + "/{A}/payments", "admin",
        {"status": "succeeded", "payment_id": "pay_2", "amount_cents": 4900, "currency": "EUR"})
    s["api_cancel"] = request("POST", api + "/{L}/subscription/cancel", "admin",
                              {"reason": "too expensive"})
    s["api_usage"] = request("GET", api + "/{A}/usage", "scoped")
    s["api_events"] = request("GET", api + "/{A}/events?page=1&per_page=5", "admin")
    s["api_openapi"] = request("GET", "/api/v1/openapi.json")
    # The TMS API, both versions.
    for ver in ("/v1", "/v0.1"):
        tag = ver.strip("/").replace(".", "")
        s[f"{tag}_list"] = request("GET", ver + "/tenants?page=1&per_page=15", "admin")
        s[f"{tag}_count"] = request("GET", ver + "/tenants/count", "reader")
        s[f"{tag}_create"] = request("POST", ver + "/tenants", "writer", TMS_CREATE)
        s[f"{tag}_get"] = request("GET", ver + "/tenants/{B}", "member")
        s[f"{tag}_update"] = request("PUT", ver + "/tenants/{B}", "member",
                                     {"name": "Tms Renamed", "country_code": "FR"})
        s[f"{tag}_deactivate"] = request("PUT", ver + "/tenants/{L}/deactivate", "admin")
        s[f"{tag}_activate"] = request("PUT", ver + "/tenants/{L}/activate", "admin")
        s[f"{tag}_switch"] = request("PUT", ver + "/tenants/{B}/switch", "member")
    # Operations, admin, docs.
    for path in ("/livez", "/readyz", "/metrics", "/docs", "/docs/index.css", "/admin/status"):
        s["ops" + path.replace("/", "_").replace(".", "_")] = request("GET", path, "admin")
    s["admin_rebuild"] = request("POST", "/admin/projections/tenants/rebuild", "admin")
    s["admin_status_writer"] = request("GET", "/admin/status", "writer")
    # Auth and scoping.
    s["no_token"] = request("GET", api)
    s["bad_token"] = request("GET", api, headers=["Authorization: Bearer a.b.c"])
    s["basic_auth"] = request("GET", api, headers=["Authorization: Basic dXNlcjpwYXNz"])
    s["reader_writes"] = request("POST", api, "reader", CREATE)
    s["scoped_other_tenant"] = request("GET", api + "/{B}", "scoped")
    s["x_tenant_id"] = request("GET", api, "member", headers=["X-Tenant-Id: {B}"])
    s["x_tenant_id_other"] = request("GET", api, "scoped", headers=["X-Tenant-Id: {B}"])
    s["x_tenant_id_garbage"] = request("GET", api, "member", headers=["X-Tenant-Id: ../../x"])
    # HTTP-level oddities.
    s["pipelined_create_get"] = (request("POST", api, "admin", NO_DOMAIN)
                                 + request("GET", api + "/{L}", "admin")
                                 + request("PUT", api + "/{L}/plan", "admin", {"plan": "starter"}))
    s["chunked_body"] = (b"POST /api/v1/tenants HTTP/1.1\r\nHost: h\r\nX-Fuzz-Token: admin\r\n"
                         b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"10\r\n{\"name\":\"Chunked\r\n19\r\n Tenant\",\"plan\":\"starter\"\r\n"
                         b"1\r\n}\r\n0\r\n\r\n")
    s["expect_continue"] = request("POST", api, "admin", NO_DOMAIN,
                                   ["Expect: 100-continue"])
    s["http10_no_host"] = request("GET", api, "admin", version="1.0", host=False)
    s["connection_close"] = request("GET", "/livez", headers=["Connection: close"])
    s["head"] = request("HEAD", api, "admin")
    s["options"] = request("OPTIONS", api, "admin")
    s["unknown_method"] = request("BREW", api, "admin")
    s["method_not_allowed"] = request("PATCH", api + "/{A}", "admin", {"name": "x"})
    s["not_found"] = request("GET", "/api/v2/tenants", "admin")
    s["absolute_target"] = request("GET", "http://tenants.example.com/api/v1/tenants", "admin")
    s["path_tricks"] = request("GET", "/api/v1/tenants/%2e%2e/%2F..%00/{A}?page=%ff", "admin")
    s["double_slash"] = request("GET", "//api//v1/tenants/", "admin")
    s["bad_json"] = request("POST", api, "admin", b'{"name": "x",}')
    s["duplicate_keys"] = request("POST", api, "admin",
                                  b'{"name":"Duplicate Keys","name":"Other Name","plan":"starter",'
                                  b'"admin_email":"a@b.example"}')
    s["deep_json"] = request("POST", api, "admin", b"[" * 5000 + b"]" * 5000)
    s["invalid_utf8"] = request("POST", api, "admin",
                                b'{"name":"\xff\xfe bad utf8","plan":"starter","admin_email":"a@b.c"}')
    s["wrong_media_type"] = request("POST", api, "admin", CREATE, content_type="text/plain")
    s["charset_latin1"] = request("POST", api, "admin", CREATE,
                                  content_type="application/json; charset=latin1")
    s["if_match_mismatch"] = request("PUT", api + "/{A}/plan", "admin", {"plan": "professional"},
                                     ['If-Match: "999"'])
    s["idempotency_reused"] = (request("POST", api + "/{A}/suspend", "admin", {}, ["Idempotency-Key: k2"])
                               + request("POST", api + "/{A}/suspend", "admin", {"reason": "x"},
                                         ["Idempotency-Key: k2"]))
    s["huge_query"] = request("GET", api + "?page=99999999999999999999&per_page=-1", "admin")
    s["request_id"] = request("GET", "/livez", headers=["X-Request-Id: abc\tdef",
                                                        "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
    return s


def write_http(out: pathlib.Path):
    for name, data in http_seeds().items():
        (out / ("seed-" + name)).write_bytes(data)


def main():
    for target, writer in (("jwt", write_jwt), ("http_request", write_http)):
        out = HERE / "corpus" / target
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("seed-*"):
            old.unlink()
        writer(out)
        print(f"{target}: {len(list(out.glob('seed-*')))} seeds")


if __name__ == "__main__":
    main()
