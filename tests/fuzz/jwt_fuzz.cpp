// Fuzz target: bearer tokens through api::token_verifier (HS256 with a secret, RS256 with a PEM
// public key) and the scoping of the principal it yields (api::may_touch, visible_tenants).
//
// Input: `authorization \0 jose-header \0 claims` (later parts may be missing).
//   - `authorization` is used twice: as the token itself, and as an `Authorization` header value
//     through token_verifier::bearer_token;
//   - `jose-header` and `claims` are base64url-encoded as they are (any bytes, not only JSON) and
//     signed four ways: HS256 with the secret (the HS256 verifier must check it), RS256 with the
//     private key (the RS256 verifier), HS256 keyed with the RSA public key's PEM (the classic
//     algorithm confusion: the RS256 verifier must refuse it) and with no signature at all. A
//     mutated header or claims part so still reaches the claim checks behind the signature.
//
// Oracle, checked by code independent of api/src/auth.cpp: a token the verifier accepts was
// signed with the configured key (HMAC recomputed, RSA signature verified with OpenSSL), names
// exactly the configured `alg` (never `none`), its `exp`/`nbf` hold at the fixed clock with the
// documented 60 s leeway, and the principal is what its claims say. An accepted token is asked
// again after its `exp` and before its `nbf`: the verifier remembers accepted tokens and must
// still refuse them then. Scoping: a non-admin with a `tenant_id` touches that tenant only, one
// without touches the tenants its `sub` belongs to, and every tenant a list may show is one the
// caller may touch.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../api/auth_test_support.hpp"
#include "tenant/api/auth.hpp"
#include "test_keys.hpp"

namespace {

namespace api = tenant::api;
namespace domain = tenant::domain;
using std::chrono::system_clock;

// The fixed clock of every verification (2026-01-15T09:30:00Z): corpus tokens are minted
// relative to it, so that a replay next year decides exactly as the run that found the input.
constexpr std::int64_t fixed_now = 1'768'469'400;
constexpr double leeway = 60;  // api::max_token_leeway, the default of token_settings
system_clock::time_point at(double seconds) {
  return system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(seconds)));
}

// Member of tenant_a only; tenant_b exists but the user does not belong to it.
const char* const member_sub = "fuzz-member";
const char* const tenant_a = "tn_0190a6c2-7b3e-7c4d-8e5f-6a7b8c9d0e1f";
const char* const tenant_b = "tn_0190a6c2-7b3e-7c4d-8e5f-6a7b8c9d0e20";

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "jwt_fuzz: %s\n", what);
  __builtin_trap();
}

std::optional<std::string> b64url_decode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

struct keys {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> rsa_private{nullptr, &EVP_PKEY_free};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> rsa_public{nullptr, &EVP_PKEY_free};
  std::unique_ptr<api::token_verifier> hs256;
  std::unique_ptr<api::token_verifier> rs256;
  api::test::fake_read_model model;

  keys() {
    namespace fz = tenant::fuzz;
    auto load = [](std::string_view pem, bool is_private) {
      std::unique_ptr<BIO, decltype(&BIO_free)> bio(
          BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
      return is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                        : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    };
    rsa_private.reset(load(fz::test_rsa_private_pem, true));
    rsa_public.reset(load(fz::test_rsa_public_pem, false));
    if (!rsa_private || !rsa_public) finding("test keys do not load");
    api::token_settings hs;
    hs.key = std::string(fz::test_hs256_secret);
    hs256 = api::test::make_verifier(hs);
    api::token_settings rs;
    rs.algorithm = api::jwt_algorithm::rs256;
    rs.key = std::string(fz::test_rsa_public_pem);
    rs256 = api::test::make_verifier(rs);
    model.add_member(member_sub, *domain::tenant_id::parse(tenant_a));
    model.add_tenant(*domain::tenant_id::parse(tenant_a), domain::plan_tier::starter);
    model.add_tenant(*domain::tenant_id::parse(tenant_b), domain::plan_tier::enterprise);
  }

  std::string rs256_sign(std::string_view input) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t len = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, rsa_private.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
      finding("RSA signing failed");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
      finding("RSA signing failed");
    }
    sig.resize(len);
    return sig;
  }

  bool rs256_valid(std::string_view input, std::string_view sig) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, rsa_public.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                            sig.size(), reinterpret_cast<const unsigned char*>(input.data()),
                            input.size()) == 1;
  }
};

const keys& the_keys() {
  static const keys k;
  return k;
}

// Reads a NumericDate the way RFC 7519 defines it; nullopt when absent.
std::optional<double> date_claim(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_double() && std::isfinite(v->as_double())) return v->as_double();
  finding("accepted a token whose exp/nbf is not a number");
}

// The oracle for a token `verifier` accepted as `who` (see the file comment).
void check_accepted(const api::token_verifier& verifier, std::string_view token,
                    const api::principal& who) {
  const auto& k = the_keys();
  const bool hs = verifier.settings().algorithm == api::jwt_algorithm::hs256;
  const auto dot1 = token.find('.');
  const auto dot2 = token.find('.', dot1 + 1);
  if (dot1 == std::string_view::npos || dot2 == std::string_view::npos ||
      token.find('.', dot2 + 1) != std::string_view::npos) {
    finding("accepted a token that is not three parts");
  }
  const auto header = b64url_decode(token.substr(0, dot1));
  const auto payload = b64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto sig = b64url_decode(token.substr(dot2 + 1));
  if (!header || !payload || !sig) finding("accepted a token that is not base64url");

  // Signed with the configured key and algorithm.
  const std::string_view signing_input = token.substr(0, dot2);
  if (hs) {
    const auto mac = api::test::hmac_sha256(tenant::fuzz::test_hs256_secret, signing_input);
    if (mac.size() != sig->size() || CRYPTO_memcmp(mac.data(), sig->data(), mac.size()) != 0)
      finding("accepted an HS256 token whose HMAC is not the secret's");
  } else if (!k.rs256_valid(signing_input, *sig)) {
    finding("accepted an RS256 token not signed by the private key");
  }
  boost::system::error_code ec;
  const auto h = boost::json::parse(*header, ec);
  if (ec || !h.is_object()) finding("accepted a token whose header is not a JSON object");
  const auto* alg = h.as_object().if_contains("alg");
  if (!alg || !alg->is_string() || alg->as_string() != (hs ? "HS256" : "RS256"))
    finding("accepted a token whose alg is not the configured algorithm");

  // Time, at the fixed clock, with the leeway.
  const auto c = boost::json::parse(*payload, ec);
  if (ec || !c.is_object()) finding("accepted a token whose claims are not a JSON object");
  const auto& claims = c.as_object();
  const auto exp = date_claim(claims, "exp");
  const auto nbf = date_claim(claims, "nbf");
  const auto now = static_cast<double>(fixed_now);
  if (exp && now >= *exp + leeway) finding("accepted an expired token");
  if (nbf && now < *nbf - leeway) finding("accepted a token before its nbf");
  // The remembered token is checked against the clock again (only dates a time_point holds).
  if (exp && std::fabs(*exp) < 4e9) {
    auto later = verifier.verify(token, at(*exp + leeway + 1));
    if (later || later.error() != api::token_error::expired)
      finding("a remembered token was accepted after its exp");
  }
  if (nbf && std::fabs(*nbf) < 4e9) {
    auto earlier = verifier.verify(token, at(*nbf - leeway - 2));
    if (earlier || earlier.error() != api::token_error::not_yet_valid)
      finding("a remembered token was accepted before its nbf");
  }

  // The principal is what the claims say.
  const auto* sub = claims.if_contains("sub");
  if (!sub || !sub->is_string() || sub->as_string().empty() || who.sub.str() != sub->as_string())
    finding("the principal's sub is not the token's");
  const auto* tid = claims.if_contains("tenant_id");
  const bool has_tid = tid && !tid->is_null();
  if (has_tid != who.tenant_id.has_value()) finding("the principal's tenant_id is not the token's");
  // The same id: a UUID's hex digits are case-insensitive on input (RFC 4122) and the principal
  // holds the canonical lowercase form (crash-uppercase-tenant-id).
  if (has_tid) {
    if (!tid->is_string()) finding("the principal's tenant_id is not the token's");
    std::string claimed(tid->as_string());
    for (char& ch : claimed)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    if (who.tenant_id->str() != claimed) finding("the principal's tenant_id is not the token's");
  }
  if (who.effective_tenant != who.tenant_id) finding("effective tenant differs from tenant_id");
  if (who.can_write() && !who.can_read()) finding("a writer that cannot read");

  // Scoping.
  for (const char* t : {tenant_a, tenant_b}) {
    const auto id = *domain::tenant_id::parse(t);
    const bool touch = api::may_touch(who, id, k.model);
    bool allowed = who.is_admin();
    if (!allowed && who.tenant_id) allowed = *who.tenant_id == id;
    if (!allowed && !who.tenant_id) allowed = who.sub.str() == member_sub && id.str() == tenant_a;
    if (touch != allowed) finding("may_touch disagrees with DESIGN.md's rule");
  }
  const auto visible = api::visible_tenants(who, k.model);
  if (visible.has_value() == who.is_admin()) finding("visible_tenants: admin xor a list");
  if (visible) {
    for (const auto& t : *visible)
      if (!api::may_touch(who, t, k.model))
        finding("a list shows a tenant the caller may not touch");
  }
}

void verify_both(std::string_view token) {
  const auto& k = the_keys();
  for (const auto* v : {k.hs256.get(), k.rs256.get()}) {
    auto r = v->verify(token, at(static_cast<double>(fixed_now)));
    if (r) check_accepted(*v, token, *r);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul1 = input.find('\0');
  const std::string_view authorization = input.substr(0, nul1);

  verify_both(authorization);
  if (auto bearer = api::token_verifier::bearer_token(authorization)) {
    if (bearer->empty() || bearer->front() == ' ' || bearer->back() == ' ' ||
        bearer->size() > authorization.size()) {
      finding("bearer_token returned an untrimmed or empty token");
    }
    if (*bearer != authorization) verify_both(*bearer);
  }
  if (nul1 == std::string_view::npos) return 0;

  const std::string_view rest = input.substr(nul1 + 1);
  const auto nul2 = rest.find('\0');
  const std::string_view header = rest.substr(0, nul2);
  const std::string_view claims = nul2 == std::string_view::npos ? "" : rest.substr(nul2 + 1);
  const std::string signing_input = api::test::b64url(header) + "." + api::test::b64url(claims);
  const auto& k = the_keys();
  const auto sign_hs = [&](std::string_view key) {
    return signing_input + "." + api::test::b64url(api::test::hmac_sha256(key, signing_input));
  };
  const auto now = at(static_cast<double>(fixed_now));

  const std::string hs = sign_hs(tenant::fuzz::test_hs256_secret);
  if (auto r = k.hs256->verify(hs, now)) check_accepted(*k.hs256, hs, *r);
  if (k.rs256->verify(hs, now)) finding("the RS256 verifier accepted an HS256 token");

  const std::string rs = signing_input + "." + api::test::b64url(k.rs256_sign(signing_input));
  if (auto r = k.rs256->verify(rs, now)) check_accepted(*k.rs256, rs, *r);
  if (k.hs256->verify(rs, now)) finding("the HS256 verifier accepted an RS256 token");

  // HS256 keyed with the public key: what a verifier that let `alg` pick the check would take.
  const std::string confused = sign_hs(tenant::fuzz::test_rsa_public_pem);
  if (k.rs256->verify(confused, now))
    finding("the RS256 verifier accepted an HMAC keyed with its public key");
  if (k.hs256->verify(confused, now)) finding("the HS256 verifier accepted another secret's HMAC");

  const std::string unsigned_token = signing_input + ".";
  if (k.hs256->verify(unsigned_token, now) || k.rs256->verify(unsigned_token, now))
    finding("a verifier accepted a token without a signature");
  return 0;
}
