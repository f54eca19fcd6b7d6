#pragma once
/// HTTP vocabulary of the API: request/response types, the per-request context handed to
/// handlers and middleware, and response builders.
///
/// A handler is `boost::asio::awaitable<response>(request_context&)`: it reads the context and
/// returns a response, so it can be tested by building a context by hand (no socket). The server
/// sets `version`, `keep_alive`, `X-Request-Id` and `Content-Length` after the handler returns,
/// and sends no body in the answer to a HEAD (which the GET handler served).

#include <any>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <utility>
#include <vector>

namespace tenant::api {

namespace http = boost::beast::http;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

struct route_info;

/// `target` with the bytes of its query that RFC 3986 does not allow there percent-encoded, so
/// that Boost.URL's strict grammar takes it: browsers send [ ] { } | ^ ` and the backslash raw in
/// a query (the WHATWG URL standard leaves them as they are), PHP clients send `filter[name]=`,
/// and a raw UTF-8 byte (>= 0x80) means what its escape means. nullopt when there is nothing to
/// encode, or when the query holds a space, a control character or '#'. The path is never
/// changed.
std::optional<std::string> lenient_query(std::string_view target);

/// `target` parsed as an origin-form request target: as it is, else (a query with bytes browsers
/// send raw) its lenient_query form, kept in `storage`, which the returned view refers to.
boost::system::result<boost::urls::url_view> parse_target(std::string_view target,
                                                          std::string& storage);

/// What a handler needs to know about the request: the message, path and query parameters, the
/// request id, the peer, and slots where middleware leaves results for handlers (the
/// authenticated principal, a rate-limit decision).
///
/// Ownership: owns the request message. Threading: used by one request's coroutine only.
/// Lifecycle: created by the server (or a test) per request, lives until the response is
/// written. Not movable: the parsed target refers into the owned message.
class request_context {
 public:
  /// Connection facts the server knows; defaults suit tests.
  struct peer_info {
    boost::asio::ip::tcp::endpoint remote{};
    bool secure = false;          ///< the connection is TLS
    std::string public_base_url;  ///< config::public_base_url ("" = derive from Host)
  };

  explicit request_context(request req) : request_context(std::move(req), peer_info{}) {}
  request_context(request req, peer_info peer);
  request_context(const request_context&) = delete;
  request_context& operator=(const request_context&) = delete;

  const request& req() const { return req_; }
  http::verb method() const { return req_.method(); }
  /// The raw request-target, e.g. "/api/v1/tenants?page=2".
  std::string_view target() const { return req_.target(); }
  /// False when the request-target is not origin-form ("/path?query"): the router answers 400.
  bool target_valid() const { return plain_path_ || url_.has_value(); }
  /// The encoded path, without the query ("/api/v1/tenants").
  std::string_view path() const;
  /// Decoded path segments ("api", "v1", "tenants").
  const std::vector<std::string>& segments() const { return segments_; }

  /// Decoded value of the first query parameter `key`; nullopt when absent. A key without '='
  /// ("?flag") has the value "".
  std::optional<std::string> query(std::string_view key) const;
  /// Every decoded (key, value) pair in order, for handlers that need repeated keys.
  std::vector<std::pair<std::string, std::string>> query_params() const;

  /// The value of `{name}` in the matched route pattern (decoded); "" when there is none.
  std::string_view path_param(std::string_view name) const;
  void set_path_params(std::vector<std::pair<std::string, std::string>> params) {
    path_params_ = std::move(params);
  }

  /// A request header (first occurrence); "" when absent.
  std::string_view header(http::field f) const;
  std::string_view header(std::string_view name) const;

  /// The X-Request-Id the server echoes: the client's when sane, else generated.
  const std::string& request_id() const { return request_id_; }
  void set_request_id(std::string id) { request_id_ = std::move(id); }

  const boost::asio::ip::tcp::endpoint& remote() const { return peer_.remote; }
  bool secure() const { return peer_.secure; }
  /// Base of absolute links: config::public_base_url (without a trailing '/'), else
  /// "http(s)://" + Host. "" when neither is known (HTTP/1.0 without Host).
  std::string base_url() const;

  /// When the server received the request (for durations and deadlines).
  std::chrono::steady_clock::time_point received_at() const { return received_at_; }

  /// The matched route; nullptr before routing or when nothing matched.
  const route_info* route() const { return route_; }
  void set_route(const route_info* r) { route_ = r; }

  /// The tenant the request concerns, for the access log: the path's tenant once the caller
  /// may touch it, else the caller's effective tenant; a command's handler sets the tenant it
  /// acted on (a create's new id). "" when none.
  const std::string& log_tenant() const { return log_tenant_; }
  void set_log_tenant(std::string id) { log_tenant_ = std::move(id); }

  /// Typed slots for middleware results, one value per type: `ctx.emplace<principal>(...)`,
  /// `if (auto* p = ctx.get<principal>())`.
  template <class T, class... Args>
  T& emplace(Args&&... args) {
    for (auto& [type, value] : slots_) {
      if (type == typeid(T)) return value.template emplace<T>(std::forward<Args>(args)...);
    }
    slots_.emplace_back(std::type_index(typeid(T)), std::any{});
    return slots_.back().second.template emplace<T>(std::forward<Args>(args)...);
  }
  template <class T>
  T* get() {
    for (auto& [type, value] : slots_) {
      if (type == typeid(T)) return std::any_cast<T>(&value);
    }
    return nullptr;
  }
  template <class T>
  const T* get() const {
    for (const auto& [type, value] : slots_) {
      if (type == typeid(T)) return std::any_cast<T>(&value);
    }
    return nullptr;
  }

 private:
  request req_;
  peer_info peer_;
  std::optional<boost::urls::url_view> url_;  ///< parsed unless plain_path_
  /// The target url_ views when lenient_query had to encode characters of its query.
  std::string lenient_target_;
  /// The target is a path of characters that need no decoding (no '%', no query, no dot
  /// segment): its segments are its '/'-separated parts, as Boost.URL would decode them, and
  /// it is not parsed (most requests: GET /api/v1/tenants/tn_...).
  bool plain_path_ = false;
  std::vector<std::string> segments_;
  std::vector<std::pair<std::string, std::string>> path_params_;
  std::string request_id_;
  std::chrono::steady_clock::time_point received_at_ = std::chrono::steady_clock::now();
  const route_info* route_ = nullptr;
  std::string log_tenant_;
  std::vector<std::pair<std::type_index, std::any>> slots_;
};

/// `application/json` response; the value is serialized with Boost.JSON.
response json_response(http::status status, const boost::json::value& body);
/// A response with an explicit content type.
response text_response(http::status status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");

/// Appends the status line and header fields of `res` (and the empty line that ends them)
/// exactly as Beast's serializer writes them, so the server can send the head and the body in
/// one gather write without the serializer's buffer sequences. False, appending nothing, for a
/// chunked response: that one goes through Beast's serializer. A non-empty `request_id` is
/// written as one more field, `X-Request-Id`, after those of `res`: the same bytes as
/// `res.set("X-Request-Id", request_id)` before serializing, without adding the field to `res`.
bool append_response_head(const response& res, std::string& out, std::string_view request_id = {});

/// The detail of the 400 that refuses the head of `req` (request line and fields, just parsed,
/// the body not yet read); nullopt when the request may be served. The rules of RFC 9112 Beast
/// does not apply: framing (§6.1, §6.3): a Transfer-Encoding other than exactly `chunked` (case
/// aside; Beast reads `gzip` or `chunked, chunked` as "no body", so the body would be parsed as
/// the next request), one together with Content-Length, one in an HTTP/1.0 request; Host
/// (§3.2): missing from an HTTP/1.1 request; and a field the API reads one value of sent twice
/// (Host, Authorization, X-Tenant-Id, If-Match, If-None-Match, Idempotency-Key, X-Min-Position,
/// Content-Type, Content-Length, Content-Encoding, X-Request-Id, Transfer-Encoding): "The
/// Authorization header must appear only once.". The server closes the connection after the
/// answer: where such a request ends is unknown. One pass over the fields, no allocation unless
/// refusing.
std::optional<std::string> malformed_request_head(const request& req);

/// True for `application/json` with optional parameters (`; charset=utf-8`); case-insensitive.
/// A charset other than UTF-8 is refused: the JSON adapter only reads UTF-8.
bool is_json_media_type(std::string_view content_type);

namespace detail {
/// `s` cut to `max` characters with "..." appended when longer: client input quoted in a detail.
std::string shorten(std::string_view s, std::size_t max = 64);
}  // namespace detail

}  // namespace tenant::api
