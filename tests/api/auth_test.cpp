// Token verification table, minting, bearer parsing, scoping helpers, development secret.
#include "tenant/api/auth.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "auth_test_support.hpp"

namespace {

using namespace tenant::api;
using namespace tenant::api::test;
using std::chrono::seconds;
using clock_type = std::chrono::system_clock;

const std::string secret = "0123456789abcdef0123456789abcdef";
// A fixed instant: the table does not depend on the machine's clock.
const clock_type::time_point now = clock_type::time_point(seconds(1'768'469'400));  // 2026-01-15
const std::int64_t t = 1'768'469'400;
const std::string tenant_a = "tn_0190b1a0-0000-7000-8000-00000000000a";

std::unique_ptr<token_verifier> hs_verifier(std::string issuer = {}, std::string audience = {}) {
  token_settings s;
  s.algorithm = jwt_algorithm::hs256;
  s.key = secret;
  s.issuer = std::move(issuer);
  s.audience = std::move(audience);
  return make_verifier(s);
}

boost::json::object claims(std::int64_t exp_offset = 3600) {
  return {{"sub", "alice"}, {"scope", "tenants:read tenants:write"}, {"exp", t + exp_offset}};
}

TEST(AuthVerify, ValidTokenGivesThePrincipal) {
  auto v = hs_verifier();
  auto c = claims();
  c["tenant_id"] = tenant_a;
  auto p = v->verify(hs256_jwt(c, secret), now);
  ASSERT_TRUE(p) << describe(p.error());
  EXPECT_EQ(p->sub.str(), "alice");
  ASSERT_TRUE(p->tenant_id);
  EXPECT_EQ(p->tenant_id->str(), tenant_a);
  EXPECT_EQ(p->effective_tenant, p->tenant_id);
  EXPECT_TRUE(p->can_read());
  EXPECT_TRUE(p->can_write());
  EXPECT_FALSE(p->is_admin());
}

struct table_row {
  const char* name;
  std::function<std::string()> token;
  std::optional<token_error> expected;  // nullopt = accepted
};

TEST(AuthVerify, Table) {
  auto v = hs_verifier();
  const auto with = [](boost::json::object c, const char* k, boost::json::value val) {
    c[k] = std::move(val);
    return c;
  };
  std::vector<table_row> rows = {
      {"expired long ago", [&] { return hs256_jwt(claims(-3600), secret); }, token_error::expired},
      {"expired 59 s ago: within leeway", [&] { return hs256_jwt(claims(-59), secret); },
       std::nullopt},
      {"expired exactly 60 s ago", [&] { return hs256_jwt(claims(-60), secret); },
       token_error::expired},
      {"expired 61 s ago", [&] { return hs256_jwt(claims(-61), secret); }, token_error::expired},
      {"nbf 59 s ahead: within leeway",
       [&] { return hs256_jwt(with(claims(), "nbf", t + 59), secret); }, std::nullopt},
      {"nbf 60 s ahead: within leeway",
       [&] { return hs256_jwt(with(claims(), "nbf", t + 60), secret); }, std::nullopt},
      {"nbf 61 s ahead", [&] { return hs256_jwt(with(claims(), "nbf", t + 61), secret); },
       token_error::not_yet_valid},
      {"nbf in the past", [&] { return hs256_jwt(with(claims(), "nbf", t - 10), secret); },
       std::nullopt},
      {"wrong key", [&] { return hs256_jwt(claims(), "another secret of enough length!!"); },
       token_error::bad_signature},
      {"alg none, no signature",
       [&] {
         return b64url(R"({"alg":"none","typ":"JWT"})") + "." +
                b64url(boost::json::serialize(claims())) + ".";
       },
       token_error::wrong_algorithm},
      {"alg None (case) with an HMAC",
       [&] {
         return hs256_jwt({{"alg", "None"}}, claims(), secret);
       },
       token_error::wrong_algorithm},
      {"alg HS512 header",
       [&] {
         return hs256_jwt({{"alg", "HS512"}}, claims(), secret);
       },
       token_error::wrong_algorithm},
      {"no alg",
       [&] {
         return hs256_jwt({{"typ", "JWT"}}, claims(), secret);
       },
       token_error::malformed},
      {"crit header",
       [&] {
         return hs256_jwt({{"alg", "HS256"}, {"crit", boost::json::array{"exp"}}}, claims(),
                          secret);
       },
       token_error::malformed},
      {"tampered payload",
       [&] {
         auto good = hs256_jwt(claims(), secret);
         auto evil = claims();
         evil["scope"] = "platform:admin";
         const auto d1 = good.find('.');
         const auto d2 = good.find('.', d1 + 1);
         return good.substr(0, d1 + 1) + b64url(boost::json::serialize(evil)) + good.substr(d2);
       },
       token_error::bad_signature},
      {"signature cut",
       [&] {
         auto good = hs256_jwt(claims(), secret);
         return good.substr(0, good.rfind('.') + 1);
       },
       token_error::malformed},
      {"two parts", [&] { return std::string("abc.def"); }, token_error::malformed},
      {"five parts (JWE)", [&] { return std::string("a.b.c.d.e"); }, token_error::malformed},
      {"garbage", [&] { return std::string("not a token at all"); }, token_error::malformed},
      {"missing sub",
       [&] {
         auto c = claims();
         c.erase("sub");
         return hs256_jwt(c, secret);
       },
       token_error::missing_subject},
      {"empty sub", [&] { return hs256_jwt(with(claims(), "sub", ""), secret); },
       token_error::missing_subject},
      {"numeric sub", [&] { return hs256_jwt(with(claims(), "sub", 42), secret); },
       token_error::missing_subject},
      {"sub with a newline", [&] { return hs256_jwt(with(claims(), "sub", "a\nb"), secret); },
       token_error::bad_claim},
      {"scope not a string",
       [&] { return hs256_jwt(with(claims(), "scope", boost::json::array{"a"}), secret); },
       token_error::bad_claim},
      {"tenant_id not a tenant id",
       [&] { return hs256_jwt(with(claims(), "tenant_id", "acme"), secret); },
       token_error::bad_claim},
      {"exp a string", [&] { return hs256_jwt(with(claims(), "exp", "tomorrow"), secret); },
       token_error::bad_claim},
      {"no exp at all (accepted: exp is optional in RFC 7519)",
       [&] {
         auto c = claims();
         c.erase("exp");
         return hs256_jwt(c, secret);
       },
       std::nullopt},
  };
  for (const auto& row : rows) {
    auto r = v->verify(row.token(), now);
    if (row.expected) {
      ASSERT_FALSE(r) << row.name;
      EXPECT_EQ(r.error(), *row.expected) << row.name << ": " << describe(r.error());
    } else {
      EXPECT_TRUE(r) << row.name << ": " << (r ? "" : describe(r.error()));
    }
  }
}

TEST(AuthVerify, IssuerAndAudienceCheckedWhenConfigured) {
  auto v = hs_verifier("https://issuer.example", "tenantd");
  auto c = claims();
  EXPECT_EQ(v->verify(hs256_jwt(c, secret), now).error(), token_error::wrong_issuer);
  c["iss"] = "https://other.example";
  EXPECT_EQ(v->verify(hs256_jwt(c, secret), now).error(), token_error::wrong_issuer);
  c["iss"] = "https://issuer.example";
  EXPECT_EQ(v->verify(hs256_jwt(c, secret), now).error(), token_error::wrong_audience);
  c["aud"] = "someone-else";
  EXPECT_EQ(v->verify(hs256_jwt(c, secret), now).error(), token_error::wrong_audience);
  c["aud"] = boost::json::array{"someone-else", "tenantd"};
  EXPECT_TRUE(v->verify(hs256_jwt(c, secret), now));
  c["aud"] = "tenantd";
  EXPECT_TRUE(v->verify(hs256_jwt(c, secret), now));
  // Not configured: iss and aud are not looked at.
  EXPECT_TRUE(hs_verifier()->verify(hs256_jwt(c, secret), now));
}

TEST(AuthVerify, RS256AndAlgorithmConfusion) {
  const auto keys = make_rsa_keys();
  token_settings s;
  s.algorithm = jwt_algorithm::rs256;
  s.key = keys.public_pem;
  auto v = make_verifier(s);

  token_claims tc;
  tc.sub = "bob";
  tc.scope = "tenants:read";
  auto good = mint_token(tc, jwt_algorithm::rs256, keys.private_pem, now);
  ASSERT_TRUE(good) << good.error().message;
  auto p = v->verify(*good, now);
  ASSERT_TRUE(p) << describe(p.error());
  EXPECT_EQ(p->sub.str(), "bob");
  EXPECT_TRUE(p->can_read());
  EXPECT_FALSE(p->can_write());

  // The classic confusion: an HS256 token "signed" with the RSA public key as the secret.
  const auto forged = hs256_jwt(claims(), keys.public_pem);
  EXPECT_EQ(v->verify(forged, now).error(), token_error::wrong_algorithm);
  // Even if it claims RS256, an HMAC is not an RSA signature.
  const auto forged_rs = hs256_jwt({{"alg", "RS256"}}, claims(), keys.public_pem);
  EXPECT_EQ(v->verify(forged_rs, now).error(), token_error::bad_signature);
  // An RS256 token against an HS256 verifier.
  EXPECT_EQ(hs_verifier()->verify(*good, now).error(), token_error::wrong_algorithm);
  // Another RSA key.
  const auto other = make_rsa_keys();
  auto wrong = mint_token(tc, jwt_algorithm::rs256, other.private_pem, now);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(v->verify(*wrong, now).error(), token_error::bad_signature);
}

TEST(AuthVerify, SettingsAreCheckedAtCreation) {
  token_settings s;
  s.key = "";
  EXPECT_FALSE(token_verifier::create(s));
  s.algorithm = jwt_algorithm::rs256;
  s.key = "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n";
  EXPECT_FALSE(token_verifier::create(s));
  s.key = make_rsa_keys().private_pem;  // a private key where the public one belongs
  EXPECT_FALSE(token_verifier::create(s));
}

TEST(AuthMint, RoundTripsEveryClaim) {
  token_claims tc;
  tc.sub = "carol";
  tc.tenant_id = tenant_a;
  tc.scope = "platform:admin";
  tc.ttl = seconds(120);
  tc.issuer = "iss";
  tc.audience = "aud";
  auto tok = mint_token(tc, jwt_algorithm::hs256, secret, now);
  ASSERT_TRUE(tok);
  auto v = hs_verifier("iss", "aud");
  auto p = v->verify(*tok, now);
  ASSERT_TRUE(p) << describe(p.error());
  EXPECT_TRUE(p->is_admin());
  EXPECT_EQ(p->tenant_id->str(), tenant_a);
  // exp = now + ttl, with the 60 s leeway on top.
  EXPECT_TRUE(v->verify(*tok, now + seconds(179)));
  EXPECT_EQ(v->verify(*tok, now + seconds(180)).error(), token_error::expired);

  tc.sub = "";
  EXPECT_FALSE(mint_token(tc, jwt_algorithm::hs256, secret, now));
  tc.sub = "x";
  tc.tenant_id = "acme";
  EXPECT_FALSE(mint_token(tc, jwt_algorithm::hs256, secret, now));
  tc.tenant_id.reset();
  EXPECT_FALSE(mint_token(tc, jwt_algorithm::rs256, "not a pem", now));
}

TEST(AuthBearer, ParsesTheAuthorizationHeader) {
  EXPECT_EQ(token_verifier::bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(token_verifier::bearer_token("bearer   abc  "), "abc");
  EXPECT_EQ(token_verifier::bearer_token("BEARER\tabc"), "abc");
  EXPECT_FALSE(token_verifier::bearer_token("Bearer"));
  EXPECT_FALSE(token_verifier::bearer_token("Bearer   "));
  EXPECT_FALSE(token_verifier::bearer_token("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(token_verifier::bearer_token("Bearerabc"));
  EXPECT_FALSE(token_verifier::bearer_token(""));
}

TEST(AuthScoping, MayTouchAndVisibleTenants) {
  fake_read_model model;
  const auto a = *tenant::domain::tenant_id::parse(tenant_a);
  const auto b = *tenant::domain::tenant_id::parse("tn_0190b1a0-0000-7000-8000-00000000000b");
  model.add_member("alice", a);

  principal alice{tenant::domain::user_id("alice"), std::nullopt, {"tenants:read"}, std::nullopt};
  EXPECT_TRUE(may_touch(alice, a, model));
  EXPECT_FALSE(may_touch(alice, b, model));
  auto vis = visible_tenants(alice, model);
  ASSERT_TRUE(vis);
  EXPECT_EQ(*vis, std::vector{a});

  // A token scoped to b: confined to b even though alice belongs to a.
  principal scoped = alice;
  scoped.tenant_id = b;
  EXPECT_FALSE(may_touch(scoped, a, model));
  EXPECT_TRUE(may_touch(scoped, b, model));
  EXPECT_EQ(*visible_tenants(scoped, model), std::vector{b});

  principal admin{tenant::domain::user_id("root"), std::nullopt, {"platform:admin"}, std::nullopt};
  EXPECT_TRUE(may_touch(admin, a, model));
  EXPECT_TRUE(may_touch(admin, b, model));
  EXPECT_FALSE(visible_tenants(admin, model));
  EXPECT_TRUE(admin.can_read());
  EXPECT_TRUE(admin.can_write());

  principal nobody{tenant::domain::user_id("eve"), std::nullopt, {}, std::nullopt};
  EXPECT_FALSE(nobody.can_read());
  EXPECT_TRUE(visible_tenants(nobody, model)->empty());
}

class DevSecret : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tenantd-devsecret-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(DevSecret, CreatedPrivateAndReused) {
  EXPECT_FALSE(read_dev_secret(dir_.string()));
  auto first = load_or_create_dev_secret(dir_.string());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(dev_secret_path(dir_.string()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = load_or_create_dev_secret(dir_.string());
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(read_dev_secret(dir_.string()).value(), *first);
  // No temporary file left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_))
    ++files;
  EXPECT_EQ(files, 1u);
}

TEST_F(DevSecret, RefusesAFileOthersCanRead) {
  ASSERT_TRUE(load_or_create_dev_secret(dir_.string()));
  ::chmod(dev_secret_path(dir_.string()).c_str(), 0644);
  auto r = load_or_create_dev_secret(dir_.string());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos);
}

}  // namespace

namespace {

// token_verifier remembers tokens that verified (a GET spent a quarter of its time on the
// signature): what it remembers must never change an answer.
TEST(AuthVerifyCache, RememberedTokensAreStillCheckedAgainstTime) {
  auto v = hs_verifier();
  auto c = claims(120);
  c["nbf"] = t - 300;
  const auto tok = hs256_jwt(c, secret);
  ASSERT_TRUE(v->verify(tok, now));
  auto again = v->verify(tok, now);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->sub.str(), "alice");
  EXPECT_TRUE(again->can_write());
  // Later than exp + leeway, then earlier than nbf - leeway: the remembered entry is refused.
  EXPECT_EQ(v->verify(tok, now + seconds(180)).error(), token_error::expired);
  EXPECT_EQ(v->verify(tok, now - seconds(361)).error(), token_error::not_yet_valid);
  EXPECT_TRUE(v->verify(tok, now + seconds(179)));
}

TEST(AuthVerifyCache, OnlyTheExactBytesOfAVerifiedTokenAreRemembered) {
  auto v = hs_verifier();
  const auto tok = hs256_jwt(claims(), secret);
  ASSERT_TRUE(v->verify(tok, now));
  // The same claims signed with another key, and the good token with one signature byte
  // changed: both still go through the signature check.
  EXPECT_EQ(v->verify(hs256_jwt(claims(), "another secret of enough length!!"), now).error(),
            token_error::bad_signature);
  std::string tampered = tok;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(v->verify(tampered, now));
  // Another verifier (another key) does not share what this one remembered.
  token_settings other;
  other.key = "a different secret, 32 bytes long";
  EXPECT_EQ(make_verifier(other)->verify(tok, now).error(), token_error::bad_signature);
  // Refused tokens are not remembered: refused again.
  EXPECT_FALSE(v->verify(tampered, now));
}

TEST(AuthVerifyCache, ManyDistinctTokensAllVerify) {
  auto v = hs_verifier();
  // More distinct tokens than the cache holds: it starts over and keeps answering correctly.
  std::vector<std::string> tokens;
  for (int i = 0; i < 5000; ++i) {
    auto c = claims();
    c["sub"] = "user-" + std::to_string(i);
    tokens.push_back(hs256_jwt(c, secret));
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto p = v->verify(tokens[i], now);
    ASSERT_TRUE(p) << i;
    EXPECT_EQ(p->sub.str(), "user-" + std::to_string(i));
  }
  auto p = v->verify(tokens.front(), now);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sub.str(), "user-0");
}

}  // namespace
