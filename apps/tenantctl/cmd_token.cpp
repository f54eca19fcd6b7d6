// tenantctl token: mints a bearer token for tenantd (DESIGN.md "Executables").
//
//   tenantctl token --sub alice [--tenant tn_…] [--scope "tenants:read tenants:write"] [--ttl 1h]
//
// Key, first found: --jwt-private-key PEM (RS256), --jwt-secret / TENANTD_JWT_SECRET (HS256),
// else the development secret tenantd generated in <data-dir>/dev-jwt-secret (HS256). The token
// alone goes to stdout (scripts capture it); errors to stderr, exit 1 (2 for usage errors).
#include <openssl/crypto.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "command.hpp"
#include "tenant/api/auth.hpp"
#include "tenant/api/config.hpp"

namespace {

struct token_options {
  std::string sub;
  std::string tenant;
  std::string scope = "tenants:read tenants:write";
  std::string ttl = "1h";
  std::string secret;
  std::string private_key_file;
  std::string issuer;
  std::string audience;
};

const tenantctl::registrar reg{
    "token", "Mint a bearer token (HS256 with the tenantd secret, or RS256 with a private key)",
    [](CLI::App& sub, tenantctl::global_options& g) -> std::function<int()> {
      auto o = std::make_shared<token_options>();
      sub.add_option("--sub", o->sub, "the API user (JWT sub)")->required();
      sub.add_option("--tenant", o->tenant, "confine the token to this tenant (tenant_id claim)");
      sub.add_option("--scope", o->scope,
                     "space-separated scopes: tenants:read tenants:write platform:admin")
          ->capture_default_str();
      sub.add_option("--ttl", o->ttl, "lifetime: 30m, 1h, 24h ...")->capture_default_str();
      sub.add_option("--jwt-secret", o->secret, "HS256 shared secret (tenantd --jwt-secret)")
          ->envname("TENANTD_JWT_SECRET");
      sub.add_option("--jwt-private-key", o->private_key_file,
                     "PEM RSA private key file: mint RS256 (tenantd --jwt-public-key)");
      sub.add_option("--issuer", o->issuer, "iss claim (tenantd --jwt-issuer)")
          ->envname("TENANTD_JWT_ISSUER");
      sub.add_option("--audience", o->audience, "aud claim (tenantd --jwt-audience)")
          ->envname("TENANTD_JWT_AUDIENCE");
      return [&g, o]() -> int {
        namespace api = tenant::api;
        auto ttl = api::parse_duration(o->ttl);
        if (!ttl) {
          std::fprintf(stderr, "token: --ttl: %s\n", ttl.error().message.c_str());
          return 2;
        }
        api::token_claims claims;
        claims.sub = o->sub;
        if (!o->tenant.empty()) claims.tenant_id = o->tenant;
        claims.scope = o->scope;
        claims.ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
        if (claims.ttl.count() <= 0) {
          std::fprintf(stderr, "token: --ttl must be at least one second\n");
          return 2;
        }
        claims.issuer = o->issuer;
        claims.audience = o->audience;

        api::jwt_algorithm alg = api::jwt_algorithm::hs256;
        std::string key;
        if (!o->private_key_file.empty()) {
          std::ifstream in(o->private_key_file, std::ios::binary);
          if (!in) {
            std::fprintf(stderr, "token: cannot read %s\n", o->private_key_file.c_str());
            return 1;
          }
          key.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
          alg = api::jwt_algorithm::rs256;
        } else if (!o->secret.empty()) {
          key = o->secret;
        } else {
          auto dev = api::read_dev_secret(g.data_dir);
          if (!dev) {
            std::fprintf(stderr,
                         "token: no key: give --jwt-secret (or TENANTD_JWT_SECRET), "
                         "--jwt-private-key, or --data-dir of a tenantd that generated a "
                         "development secret (%s)\n",
                         dev.error().message.c_str());
            return 1;
          }
          key = std::move(*dev);
        }
        auto token = api::mint_token(claims, alg, key, std::chrono::system_clock::now());
        OPENSSL_cleanse(key.data(), key.size());
        if (!token) {
          std::fprintf(stderr, "token: %s\n", token.error().message.c_str());
          return 1;
        }
        std::printf("%s\n", token->c_str());
        return 0;
      };
    }};

}  // namespace
