#include "tenant/api/idempotency.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "routes_support.hpp"
#include "tenant/api/problem.hpp"

namespace tenant::api {

namespace {

std::string sha256_hex(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = md != nullptr && EVP_DigestInit_ex(md, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(md, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(md, b.data(), b.size()) == 1 &&
            EVP_DigestUpdate(md, c.data(), c.size()) == 1 &&
            EVP_DigestFinal_ex(md, digest, &len) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) throw std::runtime_error("SHA-256 unavailable");  // OpenSSL misconfigured: a bug
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

bool applies(const request_context& ctx) {
  const auto* r = ctx.route();
  if (r == nullptr || r->kind != route_kind::command) return false;
  const auto m = ctx.method();
  return m == http::verb::post || m == http::verb::put || m == http::verb::delete_;
}

bool storable(const response& res) {
  const auto code = static_cast<unsigned>(res.result());
  return code < 500 && code != 429;
}

}  // namespace

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > max_idempotency_key_length) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string scoped_idempotency_key(std::string_view sub, std::string_view key) {
  const std::string prefix = std::to_string(sub.size()) + ":";
  return sha256_hex(prefix, sub, key);
}

std::string request_fingerprint(const request& req) {
  std::string out(req.method_string());
  out += ' ';
  out += req.target();
  out += ' ';
  out += sha256_hex(req.body());
  return out;
}

std::string serialize_response(const response& res) {
  boost::json::object o;
  o["status"] = static_cast<unsigned>(res.result());
  boost::json::array headers;
  for (const auto& f : res) {
    // Framing is recomputed on replay.
    if (f.name() == http::field::content_length || f.name() == http::field::connection) continue;
    headers.push_back(
        boost::json::array{boost::json::string(f.name_string()), boost::json::string(f.value())});
  }
  o["headers"] = std::move(headers);
  o["body"] = res.body();
  return boost::json::serialize(o);
}

std::optional<response> parse_stored_response(std::string_view stored) {
  boost::system::error_code ec;
  auto v = boost::json::parse(stored, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* status = o.if_contains("status");
  const auto* headers = o.if_contains("headers");
  const auto* body = o.if_contains("body");
  if (!status || !status->is_int64() || !headers || !headers->is_array() || !body ||
      !body->is_string())
    return std::nullopt;
  const auto code = status->as_int64();
  if (code < 100 || code > 599) return std::nullopt;
  response res{static_cast<http::status>(code), 11};
  for (const auto& h : headers->as_array()) {
    if (!h.is_array() || h.as_array().size() != 2 || !h.as_array()[0].is_string() ||
        !h.as_array()[1].is_string())
      return std::nullopt;
    res.insert(std::string_view(h.as_array()[0].as_string()),
               std::string_view(h.as_array()[1].as_string()));
  }
  res.body() = std::string(body->as_string());
  res.prepare_payload();
  return res;
}

namespace {

// The scoped keys with a request in flight. Requests with one key run one at a time, in arrival
// order: the first is the original; the ones queued behind it find its record when their turn
// comes and replay it (or, when its answer was not stored, a 5xx or a 429, run themselves).
// Without this, concurrent requests all missed the record and ran: the store's event-id
// idempotency kept one set of events, but every racer answered as the original.
class key_queue {
 public:
  using grant = std::function<void(bool)>;

  /// Calls `granted(true)` once the key is the caller's: at once when no request holds it, else
  /// when the ones ahead released it. From any thread; `granted` must not block.
  void acquire(const std::string& key, grant granted) {
    {
      std::lock_guard lock(mutex_);
      auto [it, fresh] = waiting_.try_emplace(key);
      if (!fresh) {
        it->second.push_back(std::move(granted));
        return;
      }
    }
    granted(true);
  }

  /// Hands the key to the next request waiting for it, or frees it.
  void release(const std::string& key) {
    grant next;
    {
      std::lock_guard lock(mutex_);
      auto it = waiting_.find(key);
      if (it == waiting_.end()) return;
      if (it->second.empty()) {
        waiting_.erase(it);
        return;
      }
      next = std::move(it->second.front());
      it->second.pop_front();
    }
    next(true);
  }

 private:
  std::mutex mutex_;
  /// A key is present while a request holds it; its value are the requests queued behind.
  std::unordered_map<std::string, std::deque<grant>> waiting_;
};

// Releases a key when the request that holds it is answered (or its coroutine destroyed).
class key_hold {
 public:
  key_hold(key_queue& q, const std::string& key) : queue_(q), key_(key) {}
  ~key_hold() { queue_.release(key_); }
  key_hold(const key_hold&) = delete;
  key_hold& operator=(const key_hold&) = delete;

 private:
  key_queue& queue_;
  const std::string& key_;
};

// The middleware's work for a command that carries an Idempotency-Key. By reference: the
// middleware's captures live as long as the router, `ctx` as long as the request.
boost::asio::awaitable<response> with_idempotency_key(
    eventstore::event_store& store, blocking_pool& pool, key_queue& in_flight,
    const std::function<std::string(const request_context&)>& sub_of,
    const std::function<domain::clock_time()>& clock, request_context& ctx, next_handler next,
    std::string_view key) {
  if (!valid_idempotency_key(key)) {
    co_return to_response(
        make_problem(problem_code::bad_request,
                     "The Idempotency-Key header must be 1 to 255 visible ASCII characters."));
  }
  const std::string scoped = scoped_idempotency_key(sub_of(ctx), key);
  std::string fingerprint = request_fingerprint(ctx.req());

  auto turn = [&in_flight, &scoped](key_queue::grant granted) {
    in_flight.acquire(scoped, std::move(granted));
  };
  co_await detail::await_callback<bool>(turn);
  const key_hold hold(in_flight, scoped);

  // By reference: see routes_support.hpp on coroutine parameters.
  auto found =
      co_await run_blocking(pool, [&store, &scoped] { return store.load_idempotency(scoped); });
  if (!found) {
    spdlog::error("idempotency record unreadable: {}", found.error().message());
    co_return to_response(to_problem(found.error()));
  }
  if (*found) {
    const auto& record = **found;
    if (record.request_fingerprint != fingerprint)
      co_return to_response(make_problem(problem_code::idempotency_key_reused));
    if (auto replay = parse_stored_response(record.response)) {
      replay->set("Idempotent-Replayed", "true");
      co_return std::move(*replay);
    }
    // A record this code cannot read (written by a future version?): run the request again;
    // the event-id seed still prevents a second append.
    spdlog::warn("idempotency record of another format; running the request again");
  }

  ctx.emplace<detail::idempotency_seed>(detail::idempotency_seed{scoped});
  response res = co_await next(ctx);
  if (storable(res)) {
    eventstore::idempotency_record record{std::move(fingerprint), serialize_response(res), clock()};
    auto stored = co_await run_blocking(pool, [&store, &scoped, &record] {
      return store.store_idempotency(scoped, std::move(record));
    });
    // The command took effect: answer it even if the record could not be kept (a retry then
    // replays the events through the seed).
    if (stored) spdlog::warn("idempotency record not stored: {}", stored.message());
  }
  // The key's events were stored by an earlier run whose record is gone (a crash between the
  // append and the record, an expired record): this answer is that run's, replayed.
  if (ctx.get<detail::replayed_events>() != nullptr) res.set("Idempotent-Replayed", "true");
  co_return res;
}

}  // namespace

middleware make_idempotency_middleware(eventstore::event_store& store, blocking_pool& pool,
                                       std::function<std::string(const request_context&)> sub_of,
                                       std::function<domain::clock_time()> clock) {
  if (!clock) {
    clock = [] {
      return std::chrono::time_point_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now());
    };
  }
  // A request without the header (every query, most commands) is passed on from a plain
  // function: no coroutine frame of this middleware's own.
  return [&store, &pool, in_flight = std::make_shared<key_queue>(), sub_of = std::move(sub_of),
          clock = std::move(clock)](request_context& ctx,
                                    next_handler next) -> boost::asio::awaitable<response> {
    if (!applies(ctx)) return next(ctx);
    const auto it = ctx.req().find("Idempotency-Key");
    if (it == ctx.req().end()) return next(ctx);
    return with_idempotency_key(store, pool, *in_flight, sub_of, clock, ctx, next, it->value());
  };
}

}  // namespace tenant::api
