// Validation of the editable tenant fields: each rule, its boundary and its exact message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tenant/domain/errors.hpp"
#include "tenant/domain/profile.hpp"

namespace tenant::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// A body that passes every rule of the /api/v1 dialect.
raw_profile valid_raw() {
  raw_profile r;
  r.name = "Acme Corp";
  r.plan = "professional";
  r.admin_email = "admin@acme.com";
  return r;
}

validation_outcome validate(const raw_profile& r, validation_rules rules = {}) {
  return validate_profile(r, rules);
}

// The messages for one field, when the body is otherwise valid.
std::vector<std::string> messages(const validation_outcome& o, const std::string& field) {
  const auto it = o.errors.find(field);
  return it == o.errors.end() ? std::vector<std::string>{} : it->second;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

TEST(Validation, AcceptsTheSeed002Body) {
  auto r = valid_raw();
  r.timezone = "America/New_York";
  r.locale = "en-US";
  r.max_seats = 50;
  const auto o = validate(r);
  ASSERT_TRUE(o.value) << ::testing::PrintToString(o.errors);
  EXPECT_THAT(o.errors, IsEmpty());
  EXPECT_FALSE(o.plan_limit_exceeded);
  EXPECT_EQ(o.value->profile.name, "Acme Corp");
  EXPECT_EQ(o.value->plan, plan_tier::professional);
  EXPECT_EQ(o.value->profile.admin_email, "admin@acme.com");
  EXPECT_EQ(o.value->profile.settings.timezone, "America/New_York");
  EXPECT_EQ(o.value->profile.settings.locale, "en-US");
  EXPECT_EQ(o.value->profile.settings.max_seats, 50u);
  EXPECT_EQ(o.value->profile.group_id, "0");
  EXPECT_EQ(o.value->country_name, "");
}

TEST(Validation, ReportsTheSeed001ErrorsTogether) {
  raw_profile r;
  r.country_code = "XX";
  const auto o = validate(r, validation_rules{.require_plan = false, .require_admin_email = false});
  EXPECT_FALSE(o.value);
  EXPECT_FALSE(o.plan_limit_exceeded);
  const field_errors expected{
      {"name", {"The name field is required."}},
      {"country_code",
       {"The country code field is invalid. It must be ISO 3166-1 alpha-2 country code."}},
  };
  EXPECT_EQ(o.errors, expected);
}

TEST(Validation, ReportsEveryRequiredFieldOfApiV1) {
  const auto o = validate(raw_profile{});
  const field_errors expected{
      {"admin_email", {"The admin email field is required."}},
      {"name", {"The name field is required."}},
      {"plan", {"The plan field is required."}},
  };
  EXPECT_EQ(o.errors, expected);
}

TEST(Validation, TmsDialectDefaultsThePlanAndMakesEmailOptional) {
  raw_profile r;
  r.name = "Company";
  r.country_code = "us";
  r.city = "New York";
  r.address = "115 East 23rd Street 5th Floor";
  r.description = "New York";
  const auto o = validate(r, validation_rules{.require_plan = false,
                                              .require_admin_email = false,
                                              .default_plan = plan_tier::starter});
  ASSERT_TRUE(o.value) << ::testing::PrintToString(o.errors);
  EXPECT_EQ(o.value->plan, plan_tier::starter);
  EXPECT_EQ(o.value->profile.country_code, "US");
  EXPECT_EQ(o.value->country_name, "United States");
  EXPECT_FALSE(o.value->profile.admin_email);
}

// ---- name ----

TEST(Validation, NameIsTrimmedOfUnicodeWhitespace) {
  auto r = valid_raw();
  r.name = "\u3000\u00a0 Acme Corp\t\n\u2028";
  const auto o = validate(r);
  ASSERT_TRUE(o.value);
  EXPECT_EQ(o.value->profile.name, "Acme Corp");
}

TEST(Validation, NameOfOnlyWhitespaceIsMissing) {
  auto r = valid_raw();
  r.name = " \u00a0\t ";
  EXPECT_THAT(messages(validate(r), "name"), ElementsAre("The name field is required."));
  r.name = "";
  EXPECT_THAT(messages(validate(r), "name"), ElementsAre("The name field is required."));
}

// ASCII-only values take a shortcut that must trim exactly what ICU's White_Space does: tab,
// line feed, vertical tab, form feed, carriage return and space, but not U+001C..U+001F.
TEST(Validation, AsciiValuesAreTrimmedOfExactlyUnicodeWhitespace) {
  auto r = valid_raw();
  r.name = "\t\n\v\f\r Acme Corp \r\f\v\n\t";
  auto o = validate(r);
  ASSERT_TRUE(o.value);
  EXPECT_EQ(o.value->profile.name, "Acme Corp");
  // Not trimmed: control characters, which no field takes.
  r.name = "\x1c\x1f Acme Corp\x1e";
  EXPECT_THAT(messages(validate(r), "name"),
              ElementsAre("The name must not contain control characters."));
  r.name = "  Acme Corp\u00a0";  // not all ASCII: the code-point path, same rule
  o = validate(r);
  ASSERT_TRUE(o.value);
  EXPECT_EQ(o.value->profile.name, "Acme Corp");
}

TEST(Validation, NameLengthBoundariesCountCodePoints) {
  auto r = valid_raw();
  r.name = "Abcd";
  EXPECT_THAT(messages(validate(r), "name"),
              ElementsAre("The name must be at least 5 characters."));
  r.name = "  Abcd  ";  // trimmed before counting
  EXPECT_THAT(messages(validate(r), "name"),
              ElementsAre("The name must be at least 5 characters."));
  r.name = "Abcde";
  EXPECT_TRUE(validate(r).value);
  r.name = "Ääääé";  // 5 code points, 10 bytes
  EXPECT_TRUE(validate(r).value);
  r.name = "日本語会社";  // 5 code points, 15 bytes
  EXPECT_TRUE(validate(r).value);
  r.name = "日本語会";
  EXPECT_FALSE(validate(r).value);
  r.name = repeat("é", 255);  // 510 bytes, 255 characters
  EXPECT_TRUE(validate(r).value);
  r.name = repeat("a", 256);
  EXPECT_THAT(messages(validate(r), "name"),
              ElementsAre("The name may not be greater than 255 characters."));
}

TEST(Validation, IllFormedUtf8IsNotAString) {
  auto r = valid_raw();
  r.name = std::string("Acme \xff Corp");
  EXPECT_THAT(messages(validate(r), "name"), ElementsAre("The name must be a string."));
  r = valid_raw();
  r.city = std::string("\xc3");  // truncated sequence
  EXPECT_THAT(messages(validate(r), "city"), ElementsAre("The city must be a string."));
}

// Control characters (Cc) are refused wherever they are, ASCII or not; the description, the
// one free-text field of several lines, takes tab, line feed and carriage return.
TEST(Validation, ControlCharactersAreRefused) {
  for (const std::string& bad :
       {std::string("Acme\0Corp", 9), std::string("Acme\nCorp"), std::string("Acme\x1b[31mCorp"),
        std::string("Acme Corp\x7f!"), std::string("Acmé\u0085Corp"), std::string("Acmé\tCorp")}) {
    auto r = valid_raw();
    r.name = bad;
    EXPECT_THAT(messages(validate(r), "name"),
                ElementsAre("The name must not contain control characters."))
        << bad;
    r = valid_raw();
    r.city = bad;
    EXPECT_THAT(messages(validate(r), "city"),
                ElementsAre("The city must not contain control characters."))
        << bad;
  }
  auto r = valid_raw();
  r.description = "First line\r\n\tsecond line, café";
  auto o = validate(r);
  ASSERT_TRUE(o.value);
  EXPECT_EQ(o.value->profile.description, "First line\r\n\tsecond line, café");
  r.description = std::string("Bell\a");
  EXPECT_THAT(messages(validate(r), "description"),
              ElementsAre("The description must not contain control characters."));
}

// Text with nothing visible is blank: required fields are missing, optional ones absent.
TEST(Validation, TextWithNothingVisibleIsBlank) {
  auto r = valid_raw();
  r.name = "\u200b\u200b\u200b\u200b\u200b";  // five zero-width spaces
  EXPECT_THAT(messages(validate(r), "name"), ElementsAre("The name field is required."));
  r.name = "\u200f\u200e\u2060\ufe0f\u00ad\u3000";  // marks, joiner, selector, soft hyphen
  EXPECT_THAT(messages(validate(r), "name"), ElementsAre("The name field is required."));
  r = valid_raw();
  r.city = "\u200b";
  r.description = "\u200d\u200d";
  const auto o = validate(r);
  ASSERT_TRUE(o.value);
  EXPECT_FALSE(o.value->profile.city);
  EXPECT_FALSE(o.value->profile.description);
  // Invisible characters inside visible text stay (ZWJ emoji sequences, soft hyphens).
  r = valid_raw();
  r.name = "Acme\u00adCorp \U0001F469\u200d\U0001F4BB";
  const auto kept = validate(r);
  ASSERT_TRUE(kept.value);
  EXPECT_EQ(kept.value->profile.name, "Acme\u00adCorp \U0001F469\u200d\U0001F4BB");
}

// ---- plan ----

TEST(Validation, PlanMustBeOneOfTheTiers) {
  auto r = valid_raw();
  for (const char* p : {"starter", "professional", "enterprise"}) {
    r.plan = p;
    const auto o = validate(r);
    ASSERT_TRUE(o.value) << p;
    EXPECT_EQ(to_string(o.value->plan), p);
  }
  for (const char* p : {"Starter", "gold", "enterprise-plus"}) {
    r.plan = p;
    EXPECT_THAT(messages(validate(r), "plan"), ElementsAre("The selected plan is invalid.")) << p;
  }
  r.plan = " enterprise ";  // trimmed first, like every string
  EXPECT_TRUE(validate(r).value);
}

TEST(Validation, InvalidPlanIsReportedEvenWhenNotRequired) {
  raw_profile r;
  r.name = "Company";
  r.plan = "platinum";
  const auto o = validate(r, validation_rules{.require_plan = false, .require_admin_email = false});
  EXPECT_THAT(messages(o, "plan"), ElementsAre("The selected plan is invalid."));
}

// ---- admin_email ----

TEST(Validation, AdminEmailMustBeAnAddress) {
  auto r = valid_raw();
  for (const char* ok : {"a@b.co", "first.last+tag@sub.example.com", "o'brien@example.ie",
                         "ADMIN@ACME.COM", "x_y-z@xn--bcher-kva.example"}) {
    r.admin_email = ok;
    EXPECT_TRUE(validate(r).value) << ok;
  }
  for (const char* bad :
       {"admin", "admin@", "@acme.com", "admin@acme", "a..b@acme.com", ".a@acme.com", "a.@acme.com",
        "a b@acme.com", "admin@acme..com", "admin@-acme.com", "admin@acme.com.", "admin@1.2.3.4",
        "a@b@c.com", "\"quoted\"@acme.com", "ädmin@acme.com"}) {
    r.admin_email = bad;
    EXPECT_THAT(messages(validate(r), "admin_email"),
                ElementsAre("The admin email must be a valid email address."))
        << bad;
  }
}

TEST(Validation, AdminEmailLengthLimits) {
  auto r = valid_raw();
  r.admin_email = repeat("a", 64) + "@acme.com";
  EXPECT_TRUE(validate(r).value);
  r.admin_email = repeat("a", 65) + "@acme.com";  // local part over 64 octets
  EXPECT_FALSE(validate(r).value);
  // 254 characters in all is the most an address may have.
  const std::string host = repeat("b", 60) + "." + repeat("c", 60) + "." + repeat("d", 60) + ".";
  std::string at254 = repeat("a", 64) + "@" + host;
  at254 += repeat("e", 254 - at254.size());
  ASSERT_EQ(at254.size(), 254u);
  r.admin_email = at254;
  EXPECT_TRUE(validate(r).value);
  r.admin_email = at254 + "e";
  EXPECT_THAT(messages(validate(r), "admin_email"),
              ElementsAre("The admin email may not be greater than 254 characters."));
}

// ---- domain ----

TEST(Validation, DomainIsLowercasedAndChecked) {
  auto r = valid_raw();
  r.domain = "  Acme.Example.COM ";
  auto o = validate(r);
  ASSERT_TRUE(o.value);
  EXPECT_EQ(o.value->profile.domain, "acme.example.com");
  for (const char* ok : {"a.io", "xn--bcher-kva.example", "1password.com", "a-b.c-d.org"}) {
    r.domain = ok;
    EXPECT_TRUE(validate(r).value) << ok;
  }
  for (const char* bad : {"localhost", "acme..com", "-acme.com", "acme-.com", "acme.com.",
                          ".acme.com", "acme_corp.com", "acme corp.com", "bücher.de", "10.0.0.1",
                          "https://acme.com", "acme.com/path"}) {
    r.domain = bad;
    EXPECT_THAT(messages(validate(r), "domain"),
                ElementsAre("The domain must be a valid domain name."))
        << bad;
  }
}

TEST(Validation, DomainLabelAndTotalLengthBoundaries) {
  auto r = valid_raw();
  r.domain = repeat("a", 63) + ".com";
  EXPECT_TRUE(validate(r).value);
  r.domain = repeat("a", 64) + ".com";
  EXPECT_FALSE(validate(r).value);
  // 253 characters: four 62-character labels and a 1-character TLD.
  std::string d = repeat("a", 62) + "." + repeat("b", 62) + "." + repeat("c", 62) + "." +
                  repeat("d", 62) + ".e";
  ASSERT_EQ(d.size(), 253u);
  r.domain = d;
  EXPECT_TRUE(validate(r).value);
  r.domain = "f" + d;
  EXPECT_THAT(messages(validate(r), "domain"),
              ElementsAre("The domain may not be greater than 253 characters."));
}

TEST(Validation, DomainCheckAcceptsOnlyTheNormalisedForm) {
  EXPECT_TRUE(is_valid_domain_name("acme.com"));
  EXPECT_FALSE(is_valid_domain_name("Acme.com"));
  EXPECT_FALSE(is_valid_domain_name(""));
}

// ---- settings ----

TEST(Validation, TimezoneMustBeAnIanaZone) {
  auto r = valid_raw();
  for (const char* ok : {"America/New_York", "Europe/Kyiv", "UTC", "Asia/Kolkata", "US/Eastern"}) {
    r.timezone = ok;
    EXPECT_TRUE(validate(r).value) << ok;
  }
  for (const char* bad :
       {"Mars/Olympus", "america/new_york", "GMT+5", "Etc/Unknown", "+02:00", "America/New York"}) {
    r.timezone = bad;
    EXPECT_THAT(messages(validate(r), "settings.timezone"),
                ElementsAre("The settings.timezone must be a valid timezone."))
        << bad;
  }
}

TEST(Validation, LocaleMustBeAWellFormedBcp47Tag) {
  auto r = valid_raw();
  for (const char* ok : {"en-US", "en", "de-DE-1996", "zh-Hant-TW", "sr-Latn-RS",
                         "en-US-u-ca-gregory", "es-419", "x-private", "i-klingon"}) {
    r.locale = ok;
    EXPECT_TRUE(validate(r).value) << ok;
  }
  for (const char* bad :
       {"en_US", "en--US", "en-", "e", "123", "root", "toolonglanguage", "en US", "en-US!"}) {
    r.locale = bad;
    EXPECT_THAT(messages(validate(r), "settings.locale"),
                ElementsAre("The settings.locale must be a valid BCP 47 language tag."))
        << bad;
  }
}

TEST(Validation, MaxSeatsMustBePositive) {
  auto r = valid_raw();
  r.max_seats = 0;
  EXPECT_THAT(messages(validate(r), "settings.max_seats"),
              ElementsAre("The settings.max seats must be at least 1."));
  r.max_seats = -5;
  EXPECT_THAT(messages(validate(r), "settings.max_seats"),
              ElementsAre("The settings.max seats must be at least 1."));
  r.max_seats = 1;
  EXPECT_TRUE(validate(r).value);
}

TEST(Validation, MaxSeatsWithinThePlanLimitAtTheBoundary) {
  auto r = valid_raw();
  r.plan = "starter";
  r.max_seats = 10;
  EXPECT_TRUE(validate(r).value);
  r.plan = "professional";
  r.max_seats = 50;
  EXPECT_TRUE(validate(r).value);
  r.plan = "enterprise";
  r.max_seats = 4294967295;  // unlimited plan: only the type's range
  EXPECT_TRUE(validate(r).value);
  r.max_seats = 4294967296;
  EXPECT_THAT(messages(validate(r), "settings.max_seats"),
              ElementsAre("The settings.max seats may not be greater than 4294967295."));
}

TEST(Validation, MaxSeatsAboveThePlanLimitAloneIsPlanLimitExceeded) {
  auto r = valid_raw();
  r.plan = "starter";
  r.max_seats = 11;
  const auto o = validate(r);
  EXPECT_FALSE(o.value);
  EXPECT_TRUE(o.plan_limit_exceeded);
  const field_errors expected{
      {"settings.max_seats",
       {"The settings.max seats may not be greater than 10, the seat limit of the starter "
        "plan."}}};
  EXPECT_EQ(o.errors, expected);
  const auto e = to_error(o);
  EXPECT_EQ(e.code, errc::plan_limit_exceeded);
  EXPECT_EQ(e.fields, expected);
}

TEST(Validation, MaxSeatsAboveThePlanLimitWithOtherErrorsIsValidationFailed) {
  auto r = valid_raw();
  r.plan = "professional";
  r.max_seats = 51;
  r.country_code = "ZZ";
  const auto o = validate(r);
  EXPECT_FALSE(o.value);
  EXPECT_FALSE(o.plan_limit_exceeded);
  EXPECT_EQ(o.errors.size(), 2u);
  EXPECT_THAT(messages(o, "settings.max_seats"),
              ElementsAre("The settings.max seats may not be greater than 50, the seat limit of "
                          "the professional plan."));
  EXPECT_EQ(to_error(o).code, errc::validation_failed);
  EXPECT_EQ(to_error(o).fields, o.errors);
}

TEST(Validation, ConfiguredSeatLimitsApply) {
  auto r = valid_raw();
  r.plan = "starter";
  r.max_seats = 11;
  validation_rules rules;
  rules.limits.starter = 20;
  EXPECT_TRUE(validate(r, rules).value);
  rules.limits.starter = std::nullopt;  // unlimited
  r.max_seats = 100000;
  EXPECT_TRUE(validate(r, rules).value);
}

// ---- country ----

TEST(Validation, CountryCodeIsUppercasedAndNamedInEnglish) {
  auto r = valid_raw();
  const std::pair<const char*, const char*> cases[] = {
      {"us", "United States"}, {"GB", "United Kingdom"}, {"de", "Germany"},
      {"Kr", "South Korea"},   {"ci", "Côte d’Ivoire"},  {" fr ", "France"}};
  for (const auto& [code, name] : cases) {
    r.country_code = code;
    const auto o = validate(r);
    ASSERT_TRUE(o.value) << code;
    EXPECT_EQ(o.value->country_name, name);
    EXPECT_EQ(o.value->profile.country_code->size(), 2u);
  }
}

TEST(Validation, CountryCodeMustBeAssignedAlpha2) {
  auto r = valid_raw();
  // XK (user-assigned), EA/IC/DG (exceptionally reserved) are regions to ICU but not ISO codes.
  for (const char* bad : {"XX", "ZZ", "USA", "U", "1A", "XK", "EA", "IC", "DG", "AN", "U$"}) {
    r.country_code = bad;
    EXPECT_THAT(
        messages(validate(r), "country_code"),
        ElementsAre(
            "The country code field is invalid. It must be ISO 3166-1 alpha-2 country code."))
        << bad;
  }
}

TEST(Validation, ExactlyTheAssignedCodesAreAccepted) {
  int accepted = 0;
  for (char a = 'A'; a <= 'Z'; ++a)
    for (char b = 'A'; b <= 'Z'; ++b)
      if (is_valid_country_code(std::string{a, b})) {
        ++accepted;
        EXPECT_FALSE(country_name(std::string{a, b}).empty()) << a << b;
      }
  EXPECT_EQ(accepted, 249);  // ISO 3166-1 assigns 249 alpha-2 codes
  EXPECT_EQ(country_name("XK"), "");
  EXPECT_FALSE(is_valid_country_code("us"));  // the check wants the normalised form
}

// ---- free-text lengths ----

struct length_case {
  std::optional<std::string> raw_profile::*field;
  const char* key;
  const char* attribute;
  std::size_t max;
};

class FreeTextLength : public ::testing::TestWithParam<length_case> {};

TEST_P(FreeTextLength, AtTheLimitPassesOneMoreFails) {
  const auto& c = GetParam();
  auto r = valid_raw();
  r.*c.field = repeat("ü", c.max);
  EXPECT_TRUE(validate(r).value) << c.key;
  r.*c.field = repeat("ü", c.max + 1);
  EXPECT_THAT(messages(validate(r), c.key),
              ElementsAre(std::string("The ") + c.attribute + " may not be greater than " +
                          std::to_string(c.max) + " characters."));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, FreeTextLength,
    ::testing::Values(length_case{&raw_profile::address, "address", "address", 255},
                      length_case{&raw_profile::city, "city", "city", 255},
                      length_case{&raw_profile::post_code, "post_code", "post code", 20},
                      length_case{&raw_profile::description, "description", "description", 2000},
                      length_case{&raw_profile::group_id, "group_id", "group id", 255},
                      length_case{&raw_profile::group_name, "group_name", "group name", 255}),
    [](const auto& param_info) { return std::string(param_info.param.key); });

TEST(Validation, OptionalTextIsTrimmedAndEmptyMeansAbsent) {
  auto r = valid_raw();
  r.city = "  New York ";
  r.address = "   ";
  r.description = "";
  r.group_id = " ";
  const auto o = validate(r);
  ASSERT_TRUE(o.value);
  EXPECT_EQ(o.value->profile.city, "New York");
  EXPECT_FALSE(o.value->profile.address);
  EXPECT_FALSE(o.value->profile.description);
  EXPECT_EQ(o.value->profile.group_id, "0");  // seed 001's "no group"
}

// ---- type errors from the JSON adapter ----

TEST(Validation, TypeErrorsAreMergedWithoutRequiredOnTop) {
  raw_profile r = valid_raw();
  r.name.reset();  // the adapter saw a number, so it set no value
  r.type_errors["name"] = {"The name must be a string."};
  r.type_errors["settings.max_seats"] = {"The settings.max seats must be an integer."};
  r.country_code = "QQ";
  const auto o = validate(r);
  EXPECT_FALSE(o.value);
  const field_errors expected{
      {"country_code",
       {"The country code field is invalid. It must be ISO 3166-1 alpha-2 country code."}},
      {"name", {"The name must be a string."}},
      {"settings.max_seats", {"The settings.max seats must be an integer."}},
  };
  EXPECT_EQ(o.errors, expected);
}

TEST(Validation, ATypeErrorAloneFailsValidation) {
  raw_profile r = valid_raw();
  r.type_errors["settings"] = {"The settings must be an object."};
  const auto o = validate(r);
  EXPECT_FALSE(o.value);
  EXPECT_FALSE(o.plan_limit_exceeded);
  EXPECT_THAT(messages(o, "settings"), ElementsAre("The settings must be an object."));
}

// ---- single-field checks ----

TEST(SingleFieldChecks, AgreeWithValidation) {
  EXPECT_TRUE(is_valid_timezone("Europe/Berlin"));
  EXPECT_FALSE(is_valid_timezone(""));
  EXPECT_FALSE(is_valid_timezone(std::string("Europe/Berlin\0x", 15)));
  EXPECT_TRUE(is_valid_locale("fr-CA"));
  EXPECT_FALSE(is_valid_locale(std::string("fr\0CA", 5)));
  EXPECT_TRUE(is_valid_email("ops@tenant.example"));
  EXPECT_FALSE(is_valid_email(""));
  EXPECT_EQ(country_name("US"), "United States");
  EXPECT_EQ(country_name("us"), "");
  EXPECT_EQ(country_name(""), "");
}

TEST(Errors, WireCodes) {
  EXPECT_EQ(to_code(errc::tenant_not_found), "TENANT_NOT_FOUND");
  EXPECT_EQ(to_code(errc::tenant_suspended), "TENANT_SUSPENDED");
  EXPECT_EQ(to_code(errc::tenant_deactivated), "TENANT_DEACTIVATED");
  EXPECT_EQ(to_code(errc::plan_limit_exceeded), "PLAN_LIMIT_EXCEEDED");
  EXPECT_EQ(to_code(errc::duplicate_domain), "DUPLICATE_DOMAIN");
  EXPECT_EQ(to_code(errc::validation_failed), "VALIDATION_FAILED");
  EXPECT_EQ(to_code(errc::tenant_already_exists), "CONCURRENCY_CONFLICT");
}

}  // namespace
}  // namespace tenant::domain
