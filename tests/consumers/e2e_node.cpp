// kafka_e2e_node: a tenantd-shaped process for the Kafka end-to-end scripts, without HTTP: a
// RocksDB event store, the aggregate repository, the read model and the Kafka service (writer or
// replica) against the given brokers. The script drives it with one command per stdin line and
// reads one JSON answer per stdout line:
//
//   load T N          create T tenants, then run N random commands on them (payments, plan
//                     changes, suspensions, reactivations) -> {"head":H,"tenants":[ids...]}
//   deactivate ID     -> {"ok":true}
//   status            -> {"head","relay_checkpoint","relay_lag","reachable","replica_position",
//                         "dead_lettered","processed"}
//   usage ID          -> the usage view {"seats_in_use","storage_bytes"} or {"found":false}
//   events ID         -> {"types":[...]} the tenant's stream, in version order
//   quit
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <future>
#include <iostream>
#include <random>
#include <sstream>

#include "tenant/consumers/service.hpp"
#include "tenant/eventstore/repository.hpp"
#include "tenant/projections/read_model.hpp"

namespace {

using namespace tenant;
namespace json = boost::json;

eventstore::execute_outcome run(eventstore::repository& repo, const domain::tenant_id& id,
                                domain::command cmd) {
  std::promise<eventstore::execute_outcome> p;
  auto f = p.get_future();
  eventstore::execute_options o;
  o.metadata.actor = "e2e";
  repo.execute(id, std::move(cmd), std::move(o),
               [&p](eventstore::execute_outcome out) { p.set_value(std::move(out)); });
  return f.get();
}

domain::command create(const domain::tenant_id& id, int n) {
  domain::validated_profile p;
  p.profile.name = "Tenant number " + std::to_string(n);
  p.profile.admin_email = "admin" + std::to_string(n) + "@example.test";
  p.plan = domain::plan_tier::starter;
  return domain::create_tenant{id, p, domain::user_id("e2e")};
}

void answer(const json::value& v) {
  const auto s = json::serialize(v);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kafka end-to-end node (tests only)"};
  std::string brokers, data_dir;
  bool replica = false;
  app.add_option("--brokers", brokers)->required();
  app.add_option("--data-dir", data_dir)->required();
  app.add_flag("--replica", replica);
  CLI11_PARSE(app, argc, argv);
  // stdout carries the answers only.
  spdlog::set_default_logger(spdlog::stderr_color_mt("node"));

  eventstore::rocksdb_options so;
  so.path = data_dir + "/eventstore";
  so.mode = eventstore::durability::os;
  auto store = eventstore::open_rocksdb_store(so);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().message().c_str());
    return 1;
  }
  eventstore::repository repo(**store);
  projections::read_model_options mo;
  mo.path = data_dir + "/projections";
  auto model = projections::read_model::open(**store, mo);
  if (!model) {
    std::fprintf(stderr, "read model: %s\n", model.error().message().c_str());
    return 1;
  }
  (*model)->start();
  consumers::service_config sc;
  sc.bootstrap_servers = brokers;
  sc.replica = replica;
  sc.instance_id = std::to_string(::getpid());
  auto svc = consumers::service::start(sc, **store, replica ? nullptr : &repo, model->get());
  if (!svc) {
    std::fprintf(stderr, "kafka: %s\n", svc.error().message().c_str());
    return 1;
  }
  answer(json::object{{"ready", true}});

  std::mt19937 rng(42);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "quit") break;
    if (cmd == "load") {
      int tenants = 0, commands = 0;
      in >> tenants >> commands;
      std::vector<domain::tenant_id> ids;
      json::array list;
      bool ok = true;
      // Fresh ids in every process (a restarted node must not re-create its tenants).
      static const std::string salt = std::to_string(std::random_device{}());
      static int next_tenant = 0;
      for (int i = 0; i < tenants; ++i) {
        const int n = next_tenant++;
        const auto id = domain::tenant_id::from_uuid(
            domain::uuid::derived("e2e-" + salt + "-" + std::to_string(n)));
        ok = ok && run(repo, id, create(id, n)).has_value();
        ids.push_back(id);
        list.push_back(json::string(id.str()));
      }
      static int payment = 0;
      for (int i = 0; i < commands && !ids.empty(); ++i) {
        const auto& id = ids[rng() % ids.size()];
        domain::command c;
        switch (rng() % 4) {
          case 0:
            c = domain::record_payment{false, "pay-" + std::to_string(payment++), 100, "EUR",
                                       "declined"};
            break;
          case 1:
            c = domain::record_payment{true, "pay-" + std::to_string(payment++), 100, "EUR", ""};
            break;
          case 2:
            c = domain::change_plan{
                rng() % 2 ? domain::plan_tier::professional : domain::plan_tier::starter, 0};
            break;
          default:
            c = domain::reactivate_tenant{};
            break;
        }
        (void)run(repo, id, std::move(c));  // refusals (e.g. no-op plan) are part of the load
      }
      answer(json::object{{"ok", ok}, {"head", (*store)->head()}, {"tenants", list}});
    } else if (cmd == "deactivate") {
      std::string id;
      in >> id;
      const auto t = domain::tenant_id::parse(id);
      const bool ok = t && run(repo, *t, domain::deactivate_tenant{std::nullopt, "e2e"});
      answer(json::object{{"ok", ok}});
    } else if (cmd == "status") {
      const auto s = (*svc)->status();
      std::uint64_t dead = 0, processed = 0;
      for (const auto& c : s.consumers) {
        dead += c.dead_lettered;
        processed += c.processed;
      }
      answer(json::object{
          {"head", (*store)->head()},
          {"relay_checkpoint", s.relay ? s.relay->checkpoint : 0},
          {"relay_lag", s.relay ? s.relay->lag : 0},
          {"reachable", s.kafka_reachable},
          {"replica_position", s.mirror ? s.mirror->position : 0},
          {"projections", (*model)->position()},
          {"dead_lettered", dead},
          {"processed", processed},
          {"bootstrap", s.bootstrap_servers},
      });
    } else if (cmd == "usage") {
      std::string id;
      in >> id;
      const auto t = domain::tenant_id::parse(id);
      json::object out{{"found", false}};
      if (t) {
        if (auto u = (*model)->usage(*t); u && *u)
          out = json::object{{"found", true},
                             {"seats_in_use", (*u)->seats_in_use},
                             {"storage_bytes", (*u)->storage_bytes}};
      }
      answer(out);
    } else if (cmd == "events") {
      std::string id;
      in >> id;
      json::array types;
      if (auto evs = (*store)->read_stream(id, 0, 100000))
        for (const auto& e : *evs)
          types.push_back(json::string(e.type));
      answer(json::object{{"types", types}});
    } else if (!cmd.empty()) {
      answer(json::object{{"error", "unknown command"}});
    }
  }
  (*svc)->stop();
  (*model)->stop();
  repo.stop();
  (*store)->stop();
  return 0;
}
