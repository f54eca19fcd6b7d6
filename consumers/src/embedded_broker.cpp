#include "tenant/consumers/embedded_broker.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

#include "rdkafka.hpp"
#include "tenant/consumers/kafka.hpp"

namespace tenant::consumers {

namespace {
// Kafka protocol API key of Produce requests (the mock cluster's error injection is per API).
constexpr std::int16_t produce_api_key = 0;
}  // namespace

std::vector<topic_spec> default_broker_topics(std::string_view events) {
  return {
      {std::string(events), 6},      {std::string(billing_topic), 3}, {dlq_topic(billing_topic), 1},
      {std::string(usage_topic), 3}, {dlq_topic(usage_topic), 1},
  };
}

struct embedded_broker::impl {
  std::mutex mu;  // guards cluster against stop()
  detail::producer_ptr handle;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap;
  int brokers = 0;

  void destroy() {
    std::lock_guard lk(mu);
    // The mock cluster must be destroyed before the handle it was created on.
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
    cluster = nullptr;
    handle.reset();
  }
};

result<std::unique_ptr<embedded_broker>> embedded_broker::start(
    const embedded_broker_options& options) {
  if (options.brokers < 1 || options.brokers > 9) return make_error_code(errc::invalid_argument);
  std::string error;
  // The mock cluster needs a client handle for its logging and timers; it never produces.
  auto conf =
      detail::make_conf({{"client.id", "tenantd-embedded-broker"}, {"log_level", "3"}}, error);
  if (!conf) return conf.error();
  auto handle = detail::make_producer(std::move(*conf), error);
  if (!handle) {
    spdlog::error("embedded broker: {}", error);
    return make_error_code(errc::broker_failed);
  }
  auto p = std::make_unique<impl>();
  p->handle = std::move(*handle);
  p->brokers = options.brokers;
  p->cluster = rd_kafka_mock_cluster_new(p->handle.get(), options.brokers);
  if (!p->cluster) return make_error_code(errc::broker_failed);
  p->bootstrap = rd_kafka_mock_cluster_bootstraps(p->cluster);
  std::unique_ptr<embedded_broker> b(new embedded_broker(std::move(p)));
  for (const auto& t : options.topics) {
    if (auto ec = b->create_topic(t.name, t.partitions)) return ec;
  }
  return b;
}

embedded_broker::embedded_broker(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

embedded_broker::~embedded_broker() {
  stop();
}

const std::string& embedded_broker::bootstrap_servers() const {
  return impl_->bootstrap;
}

int embedded_broker::brokers() const {
  return impl_->brokers;
}

std::error_code embedded_broker::create_topic(std::string_view name, int partitions) {
  if (name.empty() || partitions < 1) return make_error_code(errc::invalid_argument);
  std::lock_guard lk(impl_->mu);
  if (!impl_->cluster) return make_error_code(errc::closed);
  const std::string n(name);
  const auto err = rd_kafka_mock_topic_create(impl_->cluster, n.c_str(), partitions,
                                              std::min(3, impl_->brokers));
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return {};
  return detail::to_error(err);
}

std::error_code embedded_broker::set_broker_down(int id) {
  if (id < 1 || id > impl_->brokers) return make_error_code(errc::invalid_argument);
  std::lock_guard lk(impl_->mu);
  if (!impl_->cluster) return make_error_code(errc::closed);
  return detail::to_error(rd_kafka_mock_broker_set_down(impl_->cluster, id));
}

std::error_code embedded_broker::set_broker_up(int id) {
  if (id < 1 || id > impl_->brokers) return make_error_code(errc::invalid_argument);
  std::lock_guard lk(impl_->mu);
  if (!impl_->cluster) return make_error_code(errc::closed);
  return detail::to_error(rd_kafka_mock_broker_set_up(impl_->cluster, id));
}

void embedded_broker::fail_produce_requests(std::size_t count, int kafka_error_code) {
  std::lock_guard lk(impl_->mu);
  if (!impl_->cluster || count == 0) return;
  std::vector<rd_kafka_resp_err_t> errors(count,
                                          static_cast<rd_kafka_resp_err_t>(kafka_error_code));
  rd_kafka_mock_push_request_errors_array(impl_->cluster, produce_api_key, count, errors.data());
}

void embedded_broker::stop() {
  if (impl_) impl_->destroy();
}

}  // namespace tenant::consumers
