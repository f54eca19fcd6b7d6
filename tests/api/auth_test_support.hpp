#pragma once
// Helpers for the auth, rate-limit and platform tests: hand-made JWTs (so that tests do not
// depend on the code under test to build their inputs), RSA keys generated per run, and a
// read model whose memberships, tenants and position the test sets.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tenant/api/auth.hpp"
#include "tenant/projections/read_model.hpp"

namespace tenant::api::test {

inline std::string b64url(std::string_view in) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (in.size() - i == 1) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
  } else if (in.size() - i == 2) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
  }
  return out;
}

inline std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

/// header.payload.signature with an HMAC-SHA256 signature over the first two parts, whatever
/// `alg` the header claims (that is the point of the confusion tests).
inline std::string hs256_jwt(const boost::json::object& header, const boost::json::object& claims,
                             std::string_view secret) {
  const std::string signing_input =
      b64url(boost::json::serialize(header)) + "." + b64url(boost::json::serialize(claims));
  return signing_input + "." + b64url(hmac_sha256(secret, signing_input));
}

inline std::string hs256_jwt(const boost::json::object& claims, std::string_view secret) {
  return hs256_jwt({{"alg", "HS256"}, {"typ", "JWT"}}, claims, secret);
}

struct rsa_keys {
  std::string private_pem;
  std::string public_pem;
};

inline rsa_keys make_rsa_keys() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
  if (!key) throw std::runtime_error("EVP_RSA_gen failed");
  const auto to_string = [](BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub.get(), key.get());
  return {to_string(priv.get()), to_string(pub.get())};
}

/// token_verifier::create that throws on a bad setting (test set-up only).
inline std::unique_ptr<token_verifier> make_verifier(token_settings s) {
  auto v = token_verifier::create(std::move(s));
  if (!v) throw std::runtime_error(v.error());
  return std::move(*v);
}

/// A read model with hand-set memberships, tenants and position; everything else inert.
class fake_read_model final : public projections::read_model {
 public:
  void add_member(const std::string& user, const domain::tenant_id& t) {
    std::lock_guard l(mu_);
    members_[user].insert(t.str());
  }
  void add_tenant(const domain::tenant_id& t, domain::plan_tier plan) {
    std::lock_guard l(mu_);
    auto v = std::make_shared<projections::tenant_view>();
    v->state.id = t;
    v->state.subscription.plan = plan;
    tenants_[t.str()] = v;
  }
  void set_position(std::uint64_t p) {
    std::lock_guard l(mu_);
    position_ = p;
  }

  void start() override {}
  void stop() override {}
  projections::lookup try_find(const domain::tenant_id& id) const override {
    std::lock_guard l(mu_);
    auto it = tenants_.find(id.str());
    if (it == tenants_.end()) return {projections::lookup_status::not_found, nullptr};
    return {projections::lookup_status::found, it->second};
  }
  projections::result<projections::tenant_view_ptr> find(
      const domain::tenant_id& id) const override {
    return try_find(id).view;
  }
  bool exists(const domain::tenant_id& id) const override { return try_find(id).view != nullptr; }
  std::uint64_t count(const projections::list_query&) const override { return 0; }
  projections::id_page list_ids(const projections::list_query&) const override { return {}; }
  projections::result<projections::view_page> list(const projections::list_query&) const override {
    return projections::view_page{};
  }
  projections::result<std::optional<projections::usage_view>> usage(
      const domain::tenant_id&) const override {
    return std::optional<projections::usage_view>{};
  }
  std::uint32_t seats_in_use(const domain::tenant_id&) const override { return 0; }
  projections::result<bool> apply_usage(const domain::tenant_id&, std::uint32_t, std::uint64_t,
                                        domain::clock_time) override {
    return false;
  }
  void record_api_call(const domain::tenant_id&) override {}
  bool may_touch(const domain::user_id& user, const domain::tenant_id& t) const override {
    std::lock_guard l(mu_);
    auto it = members_.find(user.str());
    return it != members_.end() && it->second.count(t.str()) > 0;
  }
  std::vector<domain::tenant_id> tenants_of(const domain::user_id& user) const override {
    std::lock_guard l(mu_);
    std::vector<domain::tenant_id> out;
    auto it = members_.find(user.str());
    if (it == members_.end()) return out;
    for (const auto& s : it->second)
      out.push_back(*domain::tenant_id::parse(s));
    return out;
  }
  std::optional<domain::tenant_id> current_tenant(const domain::user_id&) const override {
    return std::nullopt;
  }
  std::uint64_t position() const override {
    std::lock_guard l(mu_);
    return position_;
  }
  void wait_for_position(std::uint64_t n, std::chrono::steady_clock::time_point,
                         projections::position_handler done) override {
    done(position() >= n);
  }
  std::vector<projections::projection_status> status() const override { return {}; }
  bool caught_up(std::uint64_t) const override { return true; }
  std::error_code rebuild(std::string_view) override { return {}; }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> members_;
  std::map<std::string, projections::tenant_view_ptr> tenants_;
  std::uint64_t position_ = 0;
};

}  // namespace tenant::api::test
