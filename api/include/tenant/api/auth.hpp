#pragma once
/// Bearer tokens and tenant scoping (DESIGN.md "HTTP", Auth).
///
/// Every route that is not `route_kind::operations` runs behind the platform middleware
/// (platform.hpp), which verifies `Authorization: Bearer <JWT>` and leaves the caller in the
/// request context:
///
///   const principal* p = ctx.get<principal>();   // never null behind the middleware
///
/// By the time a handler runs, the middleware has already:
///   - refused a missing or invalid token (401 UNAUTHENTICATED, `WWW-Authenticate: Bearer`);
///   - checked the scope for the route kind: queries need `tenants:read` or `tenants:write`,
///     commands `tenants:write`, `/admin/*` (or tag "admin") `platform:admin` (403 FORBIDDEN);
///   - checked `X-Tenant-Id` (see principal::effective_tenant);
///   - checked that the caller may touch the tenant named by the route's `{id}` parameter
///     (403 FORBIDDEN otherwise; for a non-admin also when no such tenant exists, so that ids
///     cannot be probed; admins get the handler's 404). Switch needs nothing more: "the caller
///     may already touch T" is this check.
/// Handlers only filter lists and counts with `visible_tenants`, and record `principal::sub` as
/// the actor of the events they append.
///
/// Token rules: the algorithm is fixed by configuration (HS256 with a shared secret, or RS256
/// with a PEM public key), never taken from the token: `alg: none`, another algorithm, or an
/// HS256 token "signed" with the RSA public key as its secret are refused. `exp` and `nbf` are
/// checked when present with at most 60 s of leeway; `iss` and `aud` when configured. `sub`
/// must be a non-empty string, `scope` a string of space-separated words (unknown words are
/// ignored), `tenant_id` when present a tenant id.

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tenant/domain/types.hpp"

namespace tenant::projections {
class read_model;
}

namespace tenant::api {

// ---- scopes (the `scope` claim's words) ----
inline constexpr std::string_view scope_tenants_read = "tenants:read";
inline constexpr std::string_view scope_tenants_write = "tenants:write";
inline constexpr std::string_view scope_platform_admin = "platform:admin";

/// The authenticated caller. Left by the platform middleware in the request context for every
/// non-operations route; a plain value.
struct principal {
  domain::user_id sub;                         ///< the API user (JWT `sub`), never empty
  std::optional<domain::tenant_id> tenant_id;  ///< the token's `tenant_id` claim, if any
  std::vector<std::string> scopes;             ///< the `scope` claim's words, as sent
  /// The request's effective tenant: `X-Tenant-Id` when sent (already checked: equal to the
  /// token's `tenant_id`, or a tenant the caller may touch), else the token's `tenant_id`,
  /// else none. Also the rate-limit key when set.
  std::optional<domain::tenant_id> effective_tenant;

  bool has_scope(std::string_view s) const;
  /// `platform:admin`: may touch every tenant and call /admin/*. Implies read and write.
  bool is_admin() const;
  /// `tenants:read`, `tenants:write` or `platform:admin`.
  bool can_read() const;
  /// `tenants:write` or `platform:admin`.
  bool can_write() const;
};

/// DESIGN.md: the caller may touch tenant `t` when it is an admin, or its token's `tenant_id` is
/// `t`, or (token without `tenant_id`) its `sub` belongs to `t` in the membership projection
/// (creators belong to what they create; switch adds). Non-blocking.
bool may_touch(const principal& p, const domain::tenant_id& t,
               const projections::read_model& model);

/// The tenants a list or count may show to this caller: nullopt = every tenant (admins); the
/// token's `tenant_id` alone when it has one; else the tenants its `sub` belongs to. Pass it
/// as `list_query::visible`. Non-blocking.
std::optional<std::vector<domain::tenant_id>> visible_tenants(const principal& p,
                                                              const projections::read_model& model);

// ---- tokens ----

enum class jwt_algorithm : std::uint8_t {
  hs256,  ///< HMAC-SHA256 with a shared secret (`--jwt-secret`)
  rs256,  ///< RSASSA-PKCS1-v1_5 SHA-256; verified with a PEM public key (`--jwt-public-key`)
};
std::string_view to_string(jwt_algorithm a);  // "HS256", "RS256"

/// Most leeway ever granted to `exp`/`nbf` (DESIGN.md).
inline constexpr std::chrono::seconds max_token_leeway{60};

/// How tokens are verified.
struct token_settings {
  jwt_algorithm algorithm = jwt_algorithm::hs256;
  /// HS256: the secret's bytes; RS256: the PEM text of the public key (not a file name).
  std::string key;
  std::string issuer;    ///< required `iss` when not empty
  std::string audience;  ///< required in `aud` (a string or an array) when not empty
  std::chrono::seconds leeway = max_token_leeway;  ///< clamped to [0, max_token_leeway]
};

/// Why a token was refused. The HTTP answer is always 401; the reason goes into the problem's
/// detail (it tells a client what to fix and reveals nothing about the key).
enum class token_error : std::uint8_t {
  missing,          ///< no `Authorization: Bearer` header
  malformed,        ///< not three base64url parts of JSON, or an unusable header
  wrong_algorithm,  ///< `alg` is not the configured algorithm (`none` included)
  bad_signature,    ///< the signature does not verify with the configured key
  expired,          ///< now >= exp + leeway
  not_yet_valid,    ///< now < nbf - leeway
  wrong_issuer,     ///< `iss` differs from the configured issuer
  wrong_audience,   ///< the configured audience is not in `aud`
  missing_subject,  ///< no `sub`, or not a non-empty string
  bad_claim,        ///< `scope`, `tenant_id`, `exp`, `nbf`, `iss` or `aud` of the wrong shape
};
std::string_view describe(token_error e);

/// Lets `result<T, token_error>::value()` throw (found by ADL).
[[noreturn]] inline void throw_exception_from_error(const token_error& e,
                                                    const boost::source_location&) {
  throw std::runtime_error(std::string(describe(e)));
}

/// Verifies bearer tokens with one configured key.
///
/// Tokens that verified are remembered (a bounded map from the token's exact bytes to its
/// principal and `exp`/`nbf`): clients send the same token on every request, and checking an
/// HMAC or RSA signature plus two JSON parses per request was the largest cost of a GET. A
/// remembered token is still checked against `now` on every call; refused tokens are never
/// remembered.
///
/// Ownership: owns a copy of the key material. Threading: `verify` is const and safe from any
/// number of threads. Cheap to share behind a pointer; not copyable (the key is scrubbed on
/// destruction).
class token_verifier {
 public:
  /// Checks the settings (an empty secret, a PEM that is not an RSA public key): the error is
  /// an operator message.
  static boost::system::result<std::unique_ptr<token_verifier>, std::string> create(
      token_settings settings);
  ~token_verifier();
  token_verifier(const token_verifier&) = delete;
  token_verifier& operator=(const token_verifier&) = delete;

  /// The principal of a valid token (effective_tenant = the token's tenant_id).
  boost::system::result<principal, token_error> verify(
      std::string_view token, std::chrono::system_clock::time_point now) const;

  /// `Authorization` header value -> the token: "Bearer <token>" (scheme case-insensitive,
  /// surrounding spaces ignored); nullopt for anything else.
  static std::optional<std::string_view> bearer_token(std::string_view authorization);

  const token_settings& settings() const { return settings_; }

 private:
  explicit token_verifier(token_settings s);
  boost::system::result<principal, token_error> verify_uncached(
      std::string_view token, std::chrono::system_clock::time_point now, std::optional<double>& exp,
      std::optional<double>& nbf) const;
  struct verified_cache;
  token_settings settings_;
  std::unique_ptr<verified_cache> cache_;
};

/// Why a key, a secret file or a token to mint was refused: a message for the operator.
struct key_error {
  std::string message;
};
[[noreturn]] inline void throw_exception_from_error(const key_error& e,
                                                    const boost::source_location&) {
  throw std::runtime_error(e.message);
}

/// Claims of a token to mint (`tenantctl token`, the development token, tests).
struct token_claims {
  std::string sub;
  std::optional<std::string> tenant_id;
  std::string scope = "tenants:read tenants:write";
  std::chrono::seconds ttl{3600};                                   ///< exp = now + ttl; iat = now
  std::string issuer;                                               ///< `iss` when not empty
  std::string audience;                                             ///< `aud` when not empty
  std::optional<std::chrono::system_clock::time_point> not_before;  ///< `nbf` when set
};

/// Signs a token: HS256 with the secret, RS256 with a PEM private key. The error is a message
/// for the operator (a key that does not load, an empty subject).
boost::system::result<std::string, key_error> mint_token(const token_claims& claims,
                                                         jwt_algorithm algorithm,
                                                         std::string_view key,
                                                         std::chrono::system_clock::time_point now);

// ---- development secret ----

/// `<data-dir>/dev-jwt-secret`.
std::string dev_secret_path(std::string_view data_dir);
/// The development HS256 secret of a data directory: read from dev_secret_path, or created
/// there (64 hex characters from the OS's CSPRNG, mode 0600, written atomically) when missing,
/// so that tokens minted earlier keep working after a restart. Refuses a file readable by
/// group or others (the operator must fix its mode).
boost::system::result<std::string, key_error> load_or_create_dev_secret(std::string_view data_dir);
/// Reads an existing development secret (tenantctl token); never creates one.
boost::system::result<std::string, key_error> read_dev_secret(std::string_view data_dir);

}  // namespace tenant::api
