#pragma once
// Folding a batch of events into the projections' rows: the one code path shared by the live
// projector, the online rebuild and the offline replay, so all three produce the same bytes.
//
// A batch is folded in memory first (a tenant touched twice in a batch is written once), then
// written into a caller-supplied WriteBatch together with the checkpoints, then the caller
// applies the returned changes to the in-memory indexes.

#include <rocksdb/write_batch.h>

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "keys.hpp"
#include "tenant/domain/events.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/event_store.hpp"
#include "tenant/projections/errors.hpp"
#include "tenant/projections/views.hpp"

namespace tenant::projections::detail {

/// The text keys of the list filters for a profile.
struct folded_text {
  std::string name;
  std::vector<std::string> words;
  friend bool operator==(const folded_text&, const folded_text&) = default;
};
folded_text fold_text(const domain::tenant_profile& p);

/// An event ready to fold.
struct decoded_event {
  std::uint64_t position = 0;
  std::uint64_t version = 0;     ///< the stream version (1: the stream's first event)
  std::optional<uuid16> tenant;  ///< set for tenant streams ("tn_" + UUID)
  domain::event event;
  std::optional<folded_text> text;  ///< pre-folded for TenantCreated/TenantUpdated, if asked
};

/// Decodes a stored event (upcasting old schemas); `fold` also folds the text of events that
/// carry a profile (done on the decoding thread in replays, off the writer's critical path).
result<decoded_event> decode(const eventstore::recorded_event& r, bool fold);
/// The same into `out` (a default-constructed element of the caller's batch: no moves).
std::error_code decode_into(const eventstore::recorded_event& r, bool fold, decoded_event& out);

/// The offline replay's decoder: one pass over an envelope exactly as stored (no copy of it into
/// a recorded_event, no second parse of its header, no DOM). It takes only the form
/// encode_envelope/encode_data write at the current schema: every key once, the codec's types,
/// `metadata` an object of strings or nulls. For anything else (older schemas, unknown, missing
/// or repeated keys, a wrong type) it returns false and `out` is unspecified: the caller decodes
/// the envelope through the codec instead (decode_into), which stays the reference. When it
/// returns true, `out` is what decode_into makes of the same bytes (checked for every event type
/// by decode_stored_test and log_scan_test and, through the replay, by ReplayBatchProperty).
///
/// Two readers: decode_exact reads the bytes in place as the encoder writes them (no whitespace,
/// no escapes, plain integers) and gives up on anything else; decode_on_demand (simdjson
/// On-Demand) reads any valid JSON. decode_stored tries them in that order.
bool decode_stored(std::string_view envelope, bool fold, decoded_event& out);
/// A recorded event as decode_into decodes it, read the fast way: decode_stored on its stored
/// envelope, decode_into for what that does not take. The live projector's and the replay's
/// decoding.
std::error_code decode_recorded(const eventstore::recorded_event& r, bool fold, decoded_event& out);
bool decode_exact(std::string_view envelope, decoded_event& out);
bool decode_on_demand(std::string_view envelope, decoded_event& out);

/// Index entry values (tindex column family).
std::string index_bucket_value(const uuid16& id, domain::tenant_status s, domain::plan_tier p);
std::string index_text_value(const folded_text& t);
/// index_text_value(fold_text(p)) appended to `out`, without the intermediate strings.
void append_index_text_value(std::string& out, const domain::tenant_profile& p);
struct index_entry {
  uuid16 id{};
  domain::tenant_status status = domain::tenant_status::none;
  domain::plan_tier plan = domain::plan_tier::starter;
  folded_text text;
};
bool parse_index_bucket(std::string_view v, index_entry& e);
bool parse_index_text(std::string_view v, folded_text& t);

/// What the in-memory side applies after the batch is written.
struct tenant_change {
  uuid16 id{};
  tenant_view_ptr view;
  bool indexed_before = false;  ///< false: add to the index (a new tenant)
  bool bucket_changed = false;
  std::optional<folded_text> text;  ///< set when the name or the description changed (or new)
};

struct member_change {
  std::string user;
  uuid16 tenant{};
};

/// Where a batch gets a tenant's view as of the start of the batch (null: no row). Shared, never
/// changed: the fold keeps it as the "before" of the batch and copies it once to fold into.
using view_loader = std::function<result<tenant_view_ptr>(const uuid16&)>;

/// The "tenants" projection over one batch.
class tenants_fold {
 public:
  explicit tenants_fold(view_loader load) : load_(std::move(load)) {}
  std::error_code apply(const decoded_event& e);
  /// Rows and index entries into `wb`; then the changes for the in-memory side.
  std::vector<tenant_change> write(rocksdb::WriteBatch& wb, rocksdb::ColumnFamilyHandle* rows,
                                   rocksdb::ColumnFamilyHandle* index);
  bool empty() const { return order_.empty(); }

 private:
  struct work {
    tenant_view_ptr before;  // null: no row before the batch
    tenant_view now;
    std::optional<folded_text> text;  // of `now`'s profile, when an event carried it
  };
  view_loader load_;
  std::unordered_map<uuid16, work, uuid16_hash> touched_;
  std::vector<uuid16> order_;
};

/// The "memberships" projection over one batch (blind writes: no reads needed).
class members_fold {
 public:
  void apply(const decoded_event& e);
  std::vector<member_change> write(rocksdb::WriteBatch& wb, rocksdb::ColumnFamilyHandle* cf);

 private:
  std::vector<member_change> changes_;
};

}  // namespace tenant::projections::detail
