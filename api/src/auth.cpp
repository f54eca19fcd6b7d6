#include "tenant/api/auth.hpp"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tenant/projections/read_model.hpp"

namespace tenant::api {

// ---- principal and scoping ----

bool principal::has_scope(std::string_view s) const {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}
bool principal::is_admin() const {
  return has_scope(scope_platform_admin);
}
bool principal::can_read() const {
  return is_admin() || has_scope(scope_tenants_read) || has_scope(scope_tenants_write);
}
bool principal::can_write() const {
  return is_admin() || has_scope(scope_tenants_write);
}

bool may_touch(const principal& p, const domain::tenant_id& t,
               const projections::read_model& model) {
  if (p.is_admin()) return true;
  // A token scoped to one tenant is confined to it, whatever its sub belongs to.
  if (p.tenant_id) return *p.tenant_id == t;
  return model.may_touch(p.sub, t);
}

std::optional<std::vector<domain::tenant_id>> visible_tenants(
    const principal& p, const projections::read_model& model) {
  if (p.is_admin()) return std::nullopt;
  if (p.tenant_id) return std::vector<domain::tenant_id>{*p.tenant_id};
  return model.tenants_of(p.sub);
}

// ---- tokens ----

std::string_view to_string(jwt_algorithm a) {
  return a == jwt_algorithm::rs256 ? "RS256" : "HS256";
}

std::string_view describe(token_error e) {
  switch (e) {
    case token_error::missing:
      return "A bearer token is required (Authorization: Bearer <JWT>).";
    case token_error::malformed:
      return "The bearer token is not a well-formed JWT.";
    case token_error::wrong_algorithm:
      return "The bearer token is not signed with the algorithm this service accepts.";
    case token_error::bad_signature:
      return "The bearer token's signature is invalid.";
    case token_error::expired:
      return "The bearer token has expired.";
    case token_error::not_yet_valid:
      return "The bearer token is not valid yet (nbf).";
    case token_error::wrong_issuer:
      return "The bearer token's issuer is not accepted.";
    case token_error::wrong_audience:
      return "The bearer token is not meant for this service (aud).";
    case token_error::missing_subject:
      return "The bearer token has no subject (sub).";
    case token_error::bad_claim:
      return "A claim of the bearer token has the wrong type or format.";
  }
  return "The bearer token is invalid.";
}

namespace {

// JWTs are at most a few hundred bytes; anything much larger is refused before any parsing.
constexpr std::size_t max_token_bytes = 8 * 1024;
// `sub` becomes part of a stream id ("user-" + sub) and of log lines.
constexpr std::size_t max_subject_bytes = 255;

struct jwt_deleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using jwt_ptr = std::unique_ptr<jwt_t, jwt_deleter>;

struct malloc_deleter {
  void operator()(char* p) const { std::free(p); }
};

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Unpadded base64url (RFC 7515 §2) in its canonical form only: no '=', no stray characters, and
// the unused low bits of the last character zero, so that one payload has one encoding.
std::optional<std::string> b64url_decode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = b64url_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::optional<boost::json::object> json_object_of(std::string_view b64) {
  auto text = b64url_decode(b64);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::optional<double> numeric_date(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double() && std::isfinite(v.as_double())) return v.as_double();
  return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool sane_subject(std::string_view s) {
  if (s.empty() || s.size() > max_subject_bytes) return false;
  // Control characters would forge log lines or break headers echoed by clients.
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

jwt_alg_t libjwt_alg(jwt_algorithm a) {
  return a == jwt_algorithm::rs256 ? JWT_ALG_RS256 : JWT_ALG_HS256;
}

}  // namespace

boost::system::result<std::unique_ptr<token_verifier>, std::string> token_verifier::create(
    token_settings settings) {
  settings.leeway = std::clamp(settings.leeway, std::chrono::seconds{0}, max_token_leeway);
  if (settings.key.empty()) {
    return std::string(settings.algorithm == jwt_algorithm::hs256 ? "the JWT secret is empty"
                                                                  : "the JWT public key is empty");
  }
  if (settings.algorithm == jwt_algorithm::rs256) {
    // libjwt verifies RS256 with PEM_read_bio_PUBKEY: load the key the same way now so that a
    // wrong file fails at start instead of refusing every token.
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(settings.key.data(), static_cast<int>(settings.key.size())), &BIO_free);
    if (!bio) return std::string("cannot read the JWT public key");
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (!key) {
      return std::string(
          "the JWT public key is not a PEM public key (expected -----BEGIN PUBLIC KEY-----; "
          "convert with: openssl pkey -pubin -in key.pem -out pub.pem)");
    }
    if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA)
      return std::string("the JWT public key is not an RSA key (RS256 needs one)");
  }
  return std::unique_ptr<token_verifier>(new token_verifier(std::move(settings)));
}

// Verified tokens by their exact bytes. Bounded: when full it starts over (a burst of distinct
// tokens costs one full verification each, as without the cache). Only what a verification
// concluded is kept, never the key.
struct token_verifier::verified_cache {
  static constexpr std::size_t max_entries = 4096;
  struct entry {
    principal who;
    std::optional<double> exp;
    std::optional<double> nbf;
  };
  struct hash {
    using is_transparent = void;  // find() by string_view: no copy of the token per request
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::mutex mutex;
  std::unordered_map<std::string, entry, hash, std::equal_to<>> entries;  // guarded by mutex
};

token_verifier::token_verifier(token_settings s)
    : settings_(std::move(s)), cache_(std::make_unique<verified_cache>()) {}

token_verifier::~token_verifier() {
  OPENSSL_cleanse(settings_.key.data(), settings_.key.size());
}

std::optional<std::string_view> token_verifier::bearer_token(std::string_view h) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
      s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
      s.remove_suffix(1);
    return s;
  };
  h = trim(h);
  constexpr std::string_view scheme = "bearer";
  if (h.size() <= scheme.size() || !iequals(h.substr(0, scheme.size()), scheme)) {
    return std::nullopt;
  }
  if (h[scheme.size()] != ' ' && h[scheme.size()] != '\t') return std::nullopt;
  auto token = trim(h.substr(scheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

boost::system::result<principal, token_error> token_verifier::verify(
    std::string_view token, std::chrono::system_clock::time_point now) const {
  const double t = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(settings_.leeway.count());
  // The same checks of time as below, in the same order; every other check depends only on
  // the token's bytes and the (immutable) settings, and passed when the entry was stored.
  const auto in_time = [&](const std::optional<double>& exp,
                           const std::optional<double>& nbf) -> std::optional<token_error> {
    if (exp && t >= *exp + leeway) return token_error::expired;
    if (nbf && t < *nbf - leeway) return token_error::not_yet_valid;
    return std::nullopt;
  };
  if (!token.empty() && token.size() <= max_token_bytes) {
    std::lock_guard lock(cache_->mutex);
    if (auto it = cache_->entries.find(token); it != cache_->entries.end()) {
      if (auto e = in_time(it->second.exp, it->second.nbf)) return *e;
      return it->second.who;
    }
  }
  std::optional<double> exp;
  std::optional<double> nbf;
  auto out = verify_uncached(token, now, exp, nbf);
  if (out) {
    std::lock_guard lock(cache_->mutex);
    if (cache_->entries.size() >= verified_cache::max_entries) cache_->entries.clear();
    cache_->entries.try_emplace(std::string(token), verified_cache::entry{*out, exp, nbf});
  }
  return out;
}

boost::system::result<principal, token_error> token_verifier::verify_uncached(
    std::string_view token, std::chrono::system_clock::time_point now, std::optional<double>& exp,
    std::optional<double>& nbf) const {
  if (token.empty()) return token_error::missing;
  if (token.size() > max_token_bytes) return token_error::malformed;
  const auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return token_error::malformed;
  const auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return token_error::malformed;  // a JWE (five parts) or garbage
  }

  // The header decides nothing: the algorithm must be the configured one before the token
  // reaches libjwt (which would otherwise pick the verification from `alg` — the classic
  // confusion of an HS256 token keyed with the RSA public key, or `none`).
  auto header = json_object_of(token.substr(0, dot1));
  if (!header) return token_error::malformed;
  const auto* alg = header->if_contains("alg");
  if (!alg || !alg->is_string()) return token_error::malformed;
  if (alg->as_string() != to_string(settings_.algorithm)) return token_error::wrong_algorithm;
  if (const auto* typ = header->if_contains("typ")) {
    if (!typ->is_string() || !iequals(typ->as_string(), "JWT")) return token_error::malformed;
  }
  // RFC 7515 §4.1.11: extensions we do not understand and the issuer marked critical.
  if (header->contains("crit")) return token_error::malformed;
  if (dot2 == dot1 + 1 || dot2 + 1 == token.size()) return token_error::malformed;

  auto claims = json_object_of(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) return token_error::malformed;
  if (!b64url_decode(token.substr(dot2 + 1))) return token_error::malformed;

  // Signature (libjwt). The claims used below are the bytes just decoded, which are exactly the
  // bytes the signature covers.
  const std::string copy(token);  // libjwt wants a NUL-terminated string
  jwt_t* raw = nullptr;
  const int rc =
      jwt_decode(&raw, copy.c_str(), reinterpret_cast<const unsigned char*>(settings_.key.data()),
                 static_cast<int>(settings_.key.size()));
  jwt_ptr decoded(raw);
  if (rc != 0 || !decoded) return token_error::bad_signature;
  if (jwt_get_alg(decoded.get()) != libjwt_alg(settings_.algorithm)) {
    return token_error::wrong_algorithm;
  }

  const double t = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(settings_.leeway.count());
  if (const auto* e = claims->if_contains("exp")) {
    exp = numeric_date(*e);
    if (!exp) return token_error::bad_claim;
    if (t >= *exp + leeway) return token_error::expired;
  }
  if (const auto* n = claims->if_contains("nbf")) {
    nbf = numeric_date(*n);
    if (!nbf) return token_error::bad_claim;
    if (t < *nbf - leeway) return token_error::not_yet_valid;
  }
  if (!settings_.issuer.empty()) {
    const auto* iss = claims->if_contains("iss");
    if (!iss || !iss->is_string() || iss->as_string() != settings_.issuer) {
      return token_error::wrong_issuer;
    }
  }
  if (!settings_.audience.empty()) {
    const auto* aud = claims->if_contains("aud");
    bool ok = false;
    if (aud && aud->is_string()) {
      ok = aud->as_string() == settings_.audience;
    } else if (aud && aud->is_array()) {
      for (const auto& a : aud->as_array())
        ok = ok || (a.is_string() && a.as_string() == settings_.audience);
    }
    if (!ok) return token_error::wrong_audience;
  }

  principal p;
  const auto* sub = claims->if_contains("sub");
  if (!sub || !sub->is_string() || sub->as_string().empty()) return token_error::missing_subject;
  if (!sane_subject(sub->as_string())) return token_error::bad_claim;
  p.sub = domain::user_id(std::string(sub->as_string()));

  if (const auto* scope = claims->if_contains("scope"); scope && !scope->is_null()) {
    if (!scope->is_string()) return token_error::bad_claim;
    std::string_view words = scope->as_string();
    while (!words.empty()) {
      const auto start = words.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      words.remove_prefix(start);
      const auto end = std::min(words.find(' '), words.size());
      p.scopes.emplace_back(words.substr(0, end));
      words.remove_prefix(end);
    }
  }
  if (const auto* tid = claims->if_contains("tenant_id"); tid && !tid->is_null()) {
    if (!tid->is_string()) return token_error::bad_claim;
    auto id = domain::tenant_id::parse(tid->as_string());
    if (!id) return token_error::bad_claim;
    p.tenant_id = std::move(*id);
  }
  p.effective_tenant = p.tenant_id;
  return p;
}

boost::system::result<std::string, key_error> mint_token(
    const token_claims& claims, jwt_algorithm algorithm, std::string_view key,
    std::chrono::system_clock::time_point now) {
  if (!sane_subject(claims.sub)) return key_error{"the subject must be 1-255 printable bytes"};
  if (key.empty()) return key_error{"the signing key is empty"};
  if (claims.tenant_id && !domain::tenant_id::parse(*claims.tenant_id)) {
    return key_error{"'" + *claims.tenant_id + "' is not a tenant id (tn_<uuid>)"};
  }
  const auto secs = [](std::chrono::system_clock::time_point tp) {
    return std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
  };
  boost::json::object payload;
  payload["sub"] = claims.sub;
  if (claims.tenant_id) payload["tenant_id"] = domain::tenant_id::parse(*claims.tenant_id)->str();
  payload["scope"] = claims.scope;
  payload["iat"] = secs(now);
  payload["exp"] = secs(now + claims.ttl);
  if (claims.not_before) payload["nbf"] = secs(*claims.not_before);
  if (!claims.issuer.empty()) payload["iss"] = claims.issuer;
  if (!claims.audience.empty()) payload["aud"] = claims.audience;

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0 || !raw) return key_error{"out of memory"};
  jwt_ptr j(raw);
  const auto json = boost::json::serialize(payload);
  if (jwt_add_grants_json(j.get(), json.c_str()) != 0) return key_error{"cannot set claims"};
  if (jwt_set_alg(j.get(), libjwt_alg(algorithm),
                  reinterpret_cast<const unsigned char*>(key.data()),
                  static_cast<int>(key.size())) != 0) {
    return key_error{"cannot use the signing key"};
  }
  std::unique_ptr<char, malloc_deleter> out(jwt_encode_str(j.get()));
  if (!out) {
    return key_error{algorithm == jwt_algorithm::rs256
                         ? "cannot sign: the key is not a PEM RSA private key"
                         : "cannot sign the token"};
  }
  return {boost::system::in_place_value, std::string(out.get())};
}

}  // namespace tenant::api
