#pragma once
/// Pagination of lists and of a tenant's events (DESIGN.md "HTTP", Lists), shared by both APIs:
/// `page` from 1, `per_page` 1..100 (default 10); the body's `links` and `meta` as Laravel's
/// length-aware paginator writes them (seed 001).
///
///   "links": {"first": "<path>?page=1", "last": "<path>?page=4", "prev": null,
///             "next": "<path>?page=2"},
///   "meta": {"current_page": 1, "from": 1, "last_page": 4, "path": "<path>", "per_page": 10,
///            "to": 10, "total": 37}
///
/// Links keep the request's other query parameters (filters) after `page`, and `per_page` as
/// the effective value when the request named it, so that a client following `next` gets the
/// same list. Any positive integer is a page: one past the end is not an error, `data` is empty
/// and `from`/`to` are null. Pure functions, thread-safe.

#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tenant/api/problem.hpp"

namespace tenant::api {

inline constexpr std::uint64_t default_per_page = 10;
inline constexpr std::uint64_t max_per_page = 100;

struct page_request {
  std::uint64_t page = 1;
  std::uint64_t per_page = default_per_page;
  /// Index of the page's first item (0-based); UINT64_MAX when beyond 64 bits (past any end).
  std::uint64_t offset() const {
    return page - 1 > UINT64_MAX / per_page ? UINT64_MAX : (page - 1) * per_page;
  }
};

/// Reads `page` and `per_page` from the decoded query parameters. An empty value counts as
/// absent (Laravel's ConvertEmptyStringsToNull). Errors: one 422 VALIDATION_FAILED with every
/// message ("page": ["The page must be an integer."], "per_page": ["The per page must be
/// between 1 and 100."], ...).
boost::system::result<page_request, problem> parse_page_request(
    const std::vector<std::pair<std::string, std::string>>& query);

/// A query parameter that must be a positive integer (`page`, `as_of_version`), as Laravel's
/// `integer|min:1` reads it: an optional sign and digits; else "The <label> must be an
/// integer." or "The <label> must be at least 1." in `errors[key]`. Values beyond 64 bits read
/// as UINT64_MAX (a page or a version past any end).
std::optional<std::uint64_t> parse_positive_integer(std::string_view value, const std::string& key,
                                                    domain::field_errors& errors);

/// Percent-encodes a query component (everything but RFC 3986 unreserved characters).
std::string encode_query_component(std::string_view s);

/// Appends `"links":{...},"meta":{...}` (no surrounding braces or commas) for a page holding
/// `items` of `total` items. `path_url` is the absolute list URL without a query
/// ("http://host/v1/tenants"); `query` the request's decoded parameters (`page` is replaced).
void append_page_links_meta(std::string& out, const page_request& page, std::uint64_t total,
                            std::uint64_t items, std::string_view path_url,
                            const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace tenant::api
