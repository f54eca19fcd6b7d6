#include "rdkafka.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>

namespace tenant::consumers::detail {

namespace {

std::shared_ptr<spdlog::logger> kafka_logger() {
  if (auto l = spdlog::get("kafka")) return l;
  return spdlog::default_logger();
}

// librdkafka logs with syslog levels from its own threads; spdlog loggers are thread-safe.
void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  spdlog::level::level_enum l = spdlog::level::debug;
  if (level <= 3)
    l = spdlog::level::err;
  else if (level == 4)
    l = spdlog::level::warn;
  else if (level <= 6)
    l = spdlog::level::info;
  kafka_logger()->log(l, "librdkafka {} {}: {}", rk ? rd_kafka_name(rk) : "-", fac, buf);
}

}  // namespace

result<conf_ptr> make_conf(const client_properties& props, std::string& error) {
  conf_ptr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      error = k + ": " + err;
      return make_error_code(errc::invalid_config);
    }
  }
  return conf;
}

result<producer_ptr> make_producer(conf_ptr conf, std::string& error) {
  char err[512];
  // rd_kafka_new takes ownership of the configuration only on success.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err);
  if (!rk) {
    error = err;
    return make_error_code(errc::invalid_config);
  }
  (void)conf.release();
  return producer_ptr(rk);
}

result<consumer_ptr> make_consumer(conf_ptr conf, std::string& error) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), err, sizeof err);
  if (!rk) {
    error = err;
    return make_error_code(errc::invalid_config);
  }
  (void)conf.release();
  rd_kafka_poll_set_consumer(rk);
  return consumer_ptr(rk);
}

std::optional<std::string_view> header(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs)
    return std::nullopt;
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(hdrs, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return std::nullopt;
  if (!value) return std::string_view();
  return std::string_view(static_cast<const char*>(value), size);
}

std::string_view key_of(const rd_kafka_message_t* m) {
  if (!m->key) return {};
  return {static_cast<const char*>(m->key), m->key_len};
}

std::string_view value_of(const rd_kafka_message_t* m) {
  if (!m->payload) return {};
  return {static_cast<const char*>(m->payload), m->len};
}

result<int> partition_count(rd_kafka_t* rk, const std::string& topic,
                            std::chrono::milliseconds timeout) {
  topic_ptr t(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  if (!t) return make_error_code(errc::invalid_argument);
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(rk, 0, t.get(), &raw, to_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return to_error(err);
  metadata_ptr md(raw);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& mt = md->topics[i];
    if (topic != mt.topic) continue;
    if (mt.err != RD_KAFKA_RESP_ERR_NO_ERROR) return to_error(mt.err);
    if (mt.partition_cnt <= 0) return make_error_code(errc::unavailable);
    return mt.partition_cnt;
  }
  return make_error_code(errc::unavailable);
}

std::error_code to_error(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return {};
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
      return make_error_code(errc::timed_out);
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
      return make_error_code(errc::unavailable);
    case RD_KAFKA_RESP_ERR__DESTROY:
      return make_error_code(errc::closed);
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return make_error_code(errc::invalid_argument);
    default:
      return make_error_code(errc::kafka_error);
  }
}

int to_ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(d.count(), 0, INT_MAX));
}

}  // namespace tenant::consumers::detail

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer builds only. librdkafka starts its threads with C11 thrd_create, which glibc
// implements by calling its internal pthread_create, past TSan's interceptor: TSan then has no
// state for those threads and crashes in their first malloc (SEGV in the mock cluster's
// "rdk:mock" thread). These definitions take precedence over glibc's for librdkafka (symbol
// interposition; the executable exports them because librdkafka.so references them) and go
// through the intercepted pthread_create/pthread_join, with the int result carried in the
// thread's void* as glibc's own thrd_create does. What librdkafka does inside its threads stays
// invisible to TSan (it is not instrumented; tests/tsan.supp ignores its interceptor calls).
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

struct c11_start {
  thrd_start_t fn;
  void* arg;
};

void* run_c11_thread(void* p) {
  const c11_start s = *static_cast<c11_start*>(p);
  delete static_cast<c11_start*>(p);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(s.fn(s.arg)));
}

}  // namespace

extern "C" int thrd_create(thrd_t* thr, thrd_start_t fn, void* arg) {
  auto* s = new (std::nothrow) c11_start{fn, arg};
  if (!s) return thrd_nomem;
  pthread_t t;
  const int rc = pthread_create(&t, nullptr, run_c11_thread, s);
  if (rc != 0) {
    delete s;
    return rc == EAGAIN ? thrd_nomem : thrd_error;
  }
  *thr = t;
  return thrd_success;
}

extern "C" int thrd_join(thrd_t thr, int* res) {
  void* r = nullptr;
  if (pthread_join(thr, &r) != 0) return thrd_error;
  if (res) *res = static_cast<int>(reinterpret_cast<std::intptr_t>(r));
  return thrd_success;
}
#endif
