#pragma once
/// The provisioning process manager (DESIGN.md "Domain"): on TenantCreated it creates the
/// tenant's default location (a row of the projections database) and then issues
/// `domain::mark_provisioned`, which appends TenantProvisioned (status -> active).
///
/// Exactly-once effects: the location id and the command's event-id seed are derived from the
/// TenantCreated event id, so a crash between the two steps re-runs both idempotently (same row,
/// same event id: the store answers `replayed`). The manager's own checkpoint is durable and
/// advances only after every command of a batch was acknowledged. Replays and rebuilds of the
/// projections never touch this checkpoint, so side effects never fire twice.
///
/// Ownership: owns one thread; borrows the store and the read model (its database holds the
/// locations and the checkpoint), which must outlive it.
/// Threading: start()/stop()/status() from any thread; the issuer is called on the manager's
/// thread and may complete `done` on any thread.
/// Lifecycle: create -> start() -> stop() (waits for commands in flight) -> destroy.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "tenant/domain/commands.hpp"
#include "tenant/domain/types.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/eventstore/repository.hpp"
#include "tenant/projections/errors.hpp"
#include "tenant/projections/read_model.hpp"
#include "tenant/projections/views.hpp"

namespace tenant::projections {

/// Completion of one issued command: empty = appended, or nothing to do (already provisioned,
/// replayed event ids, tenant gone). A non-empty code is retried after a back-off (transient
/// storage errors); a domain refusal must be reported as empty (there is nothing to retry).
using provision_done = std::function<void(std::error_code)>;

/// Issues `cmd` against tenant `id` through the aggregate repository (decide + append with
/// retries on concurrency conflicts), deriving the appended events' ids from `event_id_seed`.
/// Called on the manager's thread; must not block on the append.
using provision_issuer =
    std::function<void(const domain::tenant_id& id, domain::mark_provisioned cmd,
                       std::string event_id_seed, provision_done done)>;

struct provisioning_options {
  std::size_t batch_events = 1'024;  ///< events read per batch; their commands run concurrently
  std::chrono::milliseconds retry_backoff{200};
  std::chrono::milliseconds idle_tick{100};
};

/// A default location, as stored.
struct location {
  std::string id;
  domain::tenant_id tenant;
  std::string name;  ///< "Default"
  domain::clock_time created_at{};
  friend bool operator==(const location&, const location&) = default;
};

class provisioning_manager {
 public:
  static result<std::unique_ptr<provisioning_manager>> create(eventstore::event_store& store,
                                                              read_model& model,
                                                              provision_issuer issuer,
                                                              provisioning_options options = {});
  virtual ~provisioning_manager() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  /// Checkpoint and lag, kind "process_manager", name "provisioning".
  virtual projection_status status() const = 0;
};

/// The issuer tenantd uses: `repo.execute` with the seed as event_id_seed, actor
/// "system:provisioning" and the TenantCreated event id as causation id. Domain refusals and
/// no-ops complete with an empty code; store errors (other than a closed repository during
/// shutdown) with the store's code, so they are retried.
provision_issuer repository_issuer(eventstore::repository& repo);

/// The location id for a TenantCreated event id (deterministic).
std::string default_location_id(std::string_view tenant_created_event_id);
/// The event-id seed of mark_provisioned for a TenantCreated event id (deterministic).
std::string provisioning_seed(std::string_view tenant_created_event_id);

/// Blocking: the tenant's default location, if created.
result<std::optional<location>> find_default_location(const read_model& model,
                                                      const domain::tenant_id& id);

}  // namespace tenant::projections
