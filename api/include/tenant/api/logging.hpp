#pragma once
/// Process-wide logging set-up (spdlog). Call once at start-up, before threads start.
///
/// JSON format writes one object per line: {"time":"2026-01-15T09:30:00.123Z","level":"info",
/// "logger":"tenantd","message":"..."}. The "access" logger writes the request objects of
/// `access_log_line` as they are (always JSON). Logs go to stderr. Never pass a token, a
/// secret or an Authorization header to a logger.

#include <string>

#include "tenant/api/config.hpp"
#include "tenant/api/server.hpp"

namespace tenant::api {

/// Replaces spdlog's default logger ("tenantd") and registers the "access" logger.
void configure_logging(log_level level, log_format format);

/// One access-log object: time, level, logger, request_id, method, route, path, status,
/// duration_us, remote, bytes, tls, and traceparent / user_agent when the request had them.
std::string access_log_line(const completed_request& r);

/// Writes access_log_line(r) on the "access" logger (the default logger if none).
void log_access(const completed_request& r);

}  // namespace tenant::api
