#pragma once
/// Inbound consumers (DESIGN.md "Kafka"): `billing.events` -> payment and cancellation commands,
/// `tenant.usage` -> the usage view.
///
/// A consumer hands each record to a handler and, only once the handler's work is durable (the
/// append, the projection write), stores the record's offset for the next commit: a crash
/// re-delivers what was not committed (at least once), and the handlers are idempotent (a
/// repeated payment_id is a domain no-op; a usage report older than the stored one is ignored).
/// A record that can never be processed (malformed JSON, a missing field, an unknown tenant, a
/// domain refusal such as a deactivated tenant) is copied to `<topic>.dlq` (same key, value and
/// headers, plus `dlq_reason`, `dlq_detail` and the source topic/partition/offset headers) and
/// the consumer moves on. A transient failure (storage unavailable) retries the same record
/// with a capped exponential backoff, never skipping it (past librdkafka's max.poll.interval.ms,
/// 5 min, the consumer drops out of its group and the record is delivered again after the
/// rejoin: still at least once, still idempotent).
///
/// Ownership: a consumer owns one thread, a librdkafka consumer and (for dead letters) a
/// producer; the handler's captures must outlive it.
/// Threading: handlers run on the consumer's thread; status() and stop() from any thread.
/// Lifecycle: start_consumer() -> running -> stop() (finishes the record in hand unless it is
/// being retried, commits, leaves the group, joins). The destructor calls stop().

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tenant/consumers/errors.hpp"
#include "tenant/consumers/kafka.hpp"
#include "tenant/domain/commands.hpp"
#include "tenant/domain/errors.hpp"
#include "tenant/domain/types.hpp"
#include "tenant/eventstore/event_store.hpp"

namespace tenant::projections {
class read_model;
}
namespace tenant::eventstore {
class repository;
}

namespace tenant::consumers {

// ---- messages (pure parsing, no Kafka) ----

/// Why a record is dead-lettered: `code` goes to the `dlq_reason` header, `detail` to
/// `dlq_detail`. Codes: malformed_json, invalid_message, key_mismatch, unknown_tenant,
/// domain_refused (detail starts with the wire code, e.g. "TENANT_DEACTIVATED: ..."),
/// internal_error.
struct rejection {
  std::string code;
  std::string detail;
};

/// Found by ADL from parse_result<T>::value() on an error (a programmer error): throws
/// std::invalid_argument with the detail.
[[noreturn]] void throw_exception_from_error(const rejection& r, const boost::source_location& loc);

template <class T>
using parse_result = boost::system::result<T, rejection>;

/// A `billing.events` value: {"type":"payment_failed"|"payment_succeeded"|
/// "subscription_cancelled","tenant_id","payment_id","amount_cents","currency","reason",
/// "occurred_at"}. Optional fields may be absent or null.
struct billing_message {
  enum class kind : std::uint8_t { payment_failed, payment_succeeded, subscription_cancelled };
  kind type = kind::payment_failed;
  domain::tenant_id tenant;
  std::string payment_id;  ///< required for payments (the domain checks it)
  std::int64_t amount_cents = 0;
  std::string currency;
  std::string reason;
  std::optional<domain::clock_time> occurred_at;
};

/// Parses a record of `billing.events`. `key` is the record key: when non-empty it must equal
/// tenant_id (key_mismatch otherwise: it decides the partition, hence the order of a tenant's
/// messages); a value without tenant_id takes the key.
parse_result<billing_message> parse_billing_message(std::string_view key, std::string_view value);

/// record_payment or cancel_subscription.
domain::command to_command(const billing_message& m);

/// A `tenant.usage` value: {"tenant_id","seats_in_use","storage_bytes","observed_at"}.
struct usage_report {
  domain::tenant_id tenant;
  std::uint32_t seats_in_use = 0;
  std::uint64_t storage_bytes = 0;
  domain::clock_time observed_at{};
};

/// Parses a record of `tenant.usage` (same key rule as billing). observed_at is required (it
/// orders reports); seats_in_use and storage_bytes are non-negative integers.
parse_result<usage_report> parse_usage_report(std::string_view key, std::string_view value);

// ---- handlers ----

/// One record, as a handler sees it.
struct inbound_message {
  std::string_view topic;
  std::string_view key;
  std::string_view value;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

/// What became of a record.
struct handling {
  enum class kind : std::uint8_t {
    done,         ///< processed (or a no-op): commit
    dead_letter,  ///< can never be processed: copy to the DLQ, then commit
    retry,        ///< transient failure: retry the same record later
  };
  kind result = kind::done;
  rejection why;  ///< for dead_letter (code, detail) and retry (detail)

  static handling done() { return {}; }
  static handling dead_letter(std::string code, std::string detail) {
    return {kind::dead_letter, {std::move(code), std::move(detail)}};
  }
  static handling retry(std::string detail) { return {kind::retry, {"", std::move(detail)}}; }
};

using message_handler = std::function<handling(const inbound_message&)>;

/// The outcome of a command run through the repository.
struct command_outcome {
  enum class status : std::uint8_t {
    applied,      ///< events appended
    no_op,        ///< nothing to do (a repeated payment_id, a cancelled subscription)
    refused,      ///< the domain said no: `error` (tenant_not_found = unknown tenant)
    unavailable,  ///< storage or concurrency trouble: retry
  };
  status result = status::applied;
  std::optional<domain::error> error;  ///< for refused
  std::string detail;                  ///< for unavailable
};

/// Runs a command against a tenant (the aggregate repository: load, decide, append with the
/// expected version, retry on a concurrency conflict). Blocking; called on the consumer thread.
using command_executor = std::function<command_outcome(
    const domain::tenant_id&, const domain::command&, const eventstore::event_metadata&)>;

/// The aggregate repository as a command_executor: waits for repository::execute (blocking the
/// consumer thread, never an io thread). Domain errors -> refused; store errors (closed,
/// storage unavailable, conflicts after the repository's retries) -> unavailable (retried);
/// invalid_argument -> refused as validation_failed. The repository must outlive the executor.
command_executor make_repository_executor(eventstore::repository& repo);

/// billing.events: parse, run the command with metadata {correlation_id: payment_id or
/// "<topic>/<partition>/<offset>", causation_id: "kafka:<topic>/<partition>/<offset>", actor:
/// "system:billing"}, map the outcome (tenant_not_found -> unknown_tenant, validation_failed ->
/// invalid_message, other refusals -> domain_refused, unavailable -> retry).
message_handler make_billing_handler(command_executor execute);

/// Writes a usage report (read_model::apply_usage): true when stored, false when older than the
/// stored one (both are `done`); an error means retry.
using usage_writer = std::function<eventstore::result<bool>(const usage_report&)>;
/// Whether a tenant exists (its stream has events); an error means retry.
using tenant_lookup = std::function<eventstore::result<bool>(const domain::tenant_id&)>;

/// tenant.usage: parse, check the tenant exists (unknown_tenant otherwise), write.
message_handler make_usage_handler(usage_writer write, tenant_lookup exists);
/// The same over the read model and the event log (a tenant exists when its stream does).
message_handler make_usage_handler(projections::read_model& model, eventstore::event_store& store);

// ---- the consumer ----

struct consumer_config {
  std::string bootstrap_servers;  ///< required
  std::string topic;              ///< required
  std::string group_id = "tenantd";
  std::string dlq_topic;  ///< empty = `<topic>.dlq`
  /// Committed offsets are written at most this often (only offsets of processed records).
  std::chrono::milliseconds commit_interval{200};
  std::chrono::milliseconds retry_backoff{100};  ///< first retry; doubles
  std::chrono::milliseconds retry_backoff_max{5'000};
  std::chrono::milliseconds dlq_timeout{10'000};  ///< bound on one dead-letter delivery
  /// false: a record that can never be processed is logged and skipped instead of copied to the
  /// DLQ (read replicas: the writer dead-letters it already).
  bool dead_letters = true;
  client_properties consumer_properties;  ///< overrides of librdkafka properties
  client_properties producer_properties;  ///< of the dead-letter producer
};

struct consumer_status {
  std::string topic;
  std::string group_id;
  bool running = false;
  std::uint64_t processed = 0;      ///< records done
  std::uint64_t dead_lettered = 0;  ///< records copied to the DLQ
  std::uint64_t retries = 0;        ///< handler retries after transient failures
  std::string last_error;
};

class inbound_consumer {
 public:
  virtual ~inbound_consumer() = default;
  virtual consumer_status status() const = 0;
  virtual void stop() = 0;
};

/// Subscribes (group `group_id`, from the earliest record when the group has no offsets) and
/// starts the thread. errc::invalid_argument, errc::invalid_config.
result<std::unique_ptr<inbound_consumer>> start_consumer(consumer_config config,
                                                         message_handler handler);

}  // namespace tenant::consumers
