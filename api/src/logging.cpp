#include "tenant/api/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "tenant/domain/types.hpp"

namespace tenant::api {

namespace {

std::string now_rfc3339() {
  auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return domain::format_time(domain::clock_time{now.time_since_epoch()});
}

std::string rfc3339(spdlog::log_clock::time_point t) {
  auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(t);
  return domain::format_time(domain::clock_time{ms.time_since_epoch()});
}

// Application log lines as JSON objects; the message is escaped by Boost.JSON, never by hand.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    boost::json::object o;
    o["time"] = rfc3339(msg.time);
    auto level = spdlog::level::to_string_view(msg.level);
    o["level"] = std::string_view(level.data(), level.size());
    o["logger"] = std::string_view(msg.logger_name.data(), msg.logger_name.size());
    o["message"] = std::string_view(msg.payload.data(), msg.payload.size());
    auto text = boost::json::serialize(o);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

spdlog::level::level_enum to_spdlog(log_level l) {
  switch (l) {
    case log_level::trace:
      return spdlog::level::trace;
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warn:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
    case log_level::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

void configure_logging(log_level level, log_format format) {
  std::shared_ptr<spdlog::logger> app;
  if (format == log_format::json) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<json_formatter>());
    app = std::make_shared<spdlog::logger>("tenantd", sink);
  } else {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %n: %v");
    app = std::make_shared<spdlog::logger>("tenantd", sink);
  }
  app->set_level(to_spdlog(level));
  app->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(app);

  // Access lines are complete JSON objects already: write them verbatim.
  auto access_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  access_sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%v", spdlog::pattern_time_type::utc, std::string("\n")));
  auto access = std::make_shared<spdlog::logger>("access", access_sink);
  access->set_level(level == log_level::off ? spdlog::level::off : spdlog::level::info);
  spdlog::drop("access");
  spdlog::register_logger(access);
}

std::string access_log_line(const completed_request& r) {
  boost::json::object o;
  o["time"] = now_rfc3339();
  o["level"] = "info";
  o["logger"] = "access";
  o["request_id"] = r.request_id;
  o["method"] = r.method;
  o["route"] = r.route;
  o["path"] = r.path;
  o["status"] = r.status;
  // Integer microseconds: Boost.JSON would print a double as 2.45774E-1.
  o["duration_us"] = std::chrono::duration_cast<std::chrono::microseconds>(r.duration).count();
  o["remote"] = r.remote;
  o["bytes"] = r.response_bytes;
  o["tls"] = r.secure;
  if (!r.tenant.empty()) o["tenant"] = r.tenant;
  if (!r.traceparent.empty()) o["traceparent"] = r.traceparent;
  if (!r.user_agent.empty()) o["user_agent"] = r.user_agent;
  return boost::json::serialize(o);
}

void log_access(const completed_request& r) {
  auto logger = spdlog::get("access");
  if (!logger) logger = spdlog::default_logger();
  if (!logger->should_log(spdlog::level::info)) return;
  logger->info(access_log_line(r));
}

}  // namespace tenant::api
