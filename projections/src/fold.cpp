#include "fold.hpp"

#include <algorithm>
#include <type_traits>

#include "row_codec.hpp"
#include "tenant/domain/tenant.hpp"
#include "tenant/eventstore/codec.hpp"
#include "tenant/projections/search_text.hpp"
#include "tenant_index.hpp"

namespace tenant::projections::detail {

namespace codec = eventstore::codec;
using namespace tenant::domain;

folded_text fold_text(const tenant_profile& p) {
  return folded_text{fold_name(p.name),
                     p.description ? fold_words(*p.description) : std::vector<std::string>{}};
}

std::error_code decode_into(const eventstore::recorded_event& r, bool fold, decoded_event& d) {
  auto ev = codec::decode_event(r);
  if (!ev) return make_error_code(errc::corruption);
  d.position = r.position;
  d.tenant = tenant_key(r.stream_id);
  d.event = std::move(*ev);
  d.text.reset();
  if (fold) {
    if (const auto* c = std::get_if<tenant_created>(&d.event.data)) {
      d.text = fold_text(c->profile);
    } else if (const auto* u = std::get_if<tenant_updated>(&d.event.data)) {
      d.text = fold_text(u->profile);
    }
  }
  return {};
}

result<decoded_event> decode(const eventstore::recorded_event& r, bool fold) {
  decoded_event d;
  if (auto ec = decode_into(r, fold, d); ec) return ec;
  return d;
}

std::string index_bucket_value(const uuid16& id, tenant_status s, plan_tier p) {
  std::string v(as_view(id));
  v.push_back(static_cast<char>(s));
  v.push_back(static_cast<char>(p));
  return v;
}

std::string index_text_value(const folded_text& t) {
  std::string v;
  put_str(v, t.name);
  put_varint(v, t.words.size());
  for (const auto& w : t.words)
    put_str(v, w);
  return v;
}

bool parse_index_bucket(std::string_view v, index_entry& e) {
  if (v.size() != 18) return false;
  e.id = to_uuid16(v.substr(0, 16));
  e.status = static_cast<tenant_status>(static_cast<unsigned char>(v[16]));
  e.plan = static_cast<plan_tier>(static_cast<unsigned char>(v[17]));
  return tenant_index::bucket_of(e.status, e.plan).has_value();
}

bool parse_index_text(std::string_view v, folded_text& t) {
  reader r{v};
  t.name = r.str();
  const auto n = r.varint();
  if (!r.ok || n > v.size()) return false;
  t.words.clear();
  t.words.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n && r.ok; ++i)
    t.words.emplace_back(r.str());
  return r.ok && r.in.empty();
}

// ---- tenants ----

std::error_code tenants_fold::apply(const decoded_event& e) {
  if (!e.tenant) return {};  // not a tenant stream (an API user's stream)
  auto it = touched_.find(*e.tenant);
  if (it == touched_.end()) {
    auto before = load_(*e.tenant);
    if (!before) return before.error();
    work w;
    if (*before) w.now = **before;
    w.before = std::move(*before);
    it = touched_.emplace(*e.tenant, std::move(w)).first;
    order_.push_back(*e.tenant);
  }
  work& w = it->second;
  const bool existed = w.now.state.exists();
  w.now.state = evolve(std::move(w.now.state), e.event);
  w.now.state.seen_payment_ids.clear();
  w.now.last_position = e.position;
  if (!existed && w.now.created_position == 0 &&
      std::holds_alternative<tenant_created>(e.event.data))
    w.now.created_position = e.position;
  if (e.text) {
    w.text = e.text;
  } else if (std::holds_alternative<tenant_created>(e.event.data) ||
             std::holds_alternative<tenant_updated>(e.event.data)) {
    w.text.reset();  // folded later, from the final profile
  }
  return {};
}

std::vector<tenant_change> tenants_fold::write(rocksdb::WriteBatch& wb,
                                               rocksdb::ColumnFamilyHandle* rows,
                                               rocksdb::ColumnFamilyHandle* index) {
  std::vector<tenant_change> out;
  out.reserve(order_.size());
  std::string row;
  for (const auto& id : order_) {
    work& w = touched_.at(id);
    row.clear();
    encode_view(w.now, row);
    wb.Put(rows, as_view(id), row);

    tenant_change c;
    c.id = id;
    const auto& now = w.now.state;
    const auto bucket = tenant_index::bucket_of(now.status, now.subscription.plan);
    if (bucket && w.now.created_position != 0) {
      const bool indexed_before = w.before && w.before->state.exists() &&
                                  w.before->created_position == w.now.created_position;
      c.indexed_before = indexed_before;
      const auto& old = indexed_before ? w.before->state : now;
      c.bucket_changed = !indexed_before || old.status != now.status ||
                         old.subscription.plan != now.subscription.plan;
      const bool text_changed = !indexed_before || old.profile.name != now.profile.name ||
                                old.profile.description != now.profile.description;
      if (c.bucket_changed)
        wb.Put(index, index_key(w.now.created_position, index_tag_bucket),
               index_bucket_value(id, now.status, now.subscription.plan));
      if (text_changed) {
        c.text = w.text ? std::move(*w.text) : fold_text(now.profile);
        wb.Put(index, index_key(w.now.created_position, index_tag_text), index_text_value(*c.text));
      }
    }
    c.view = std::make_shared<const tenant_view>(std::move(w.now));
    out.push_back(std::move(c));
  }
  touched_.clear();
  order_.clear();
  return out;
}

// ---- memberships ----

void members_fold::apply(const decoded_event& e) {
  if (const auto* c = std::get_if<tenant_created>(&e.event.data)) {
    const auto t = tenant_key(c->id);
    if (!c->created_by.empty() && t) changes_.push_back({c->created_by.str(), *t});
  } else if (const auto* s = std::get_if<user_switched_tenant>(&e.event.data)) {
    const auto t = tenant_key(s->tenant);
    if (!s->user.empty() && t) changes_.push_back({s->user.str(), *t});
  }
}

std::vector<member_change> members_fold::write(rocksdb::WriteBatch& wb,
                                               rocksdb::ColumnFamilyHandle* cf) {
  for (const auto& c : changes_) {
    std::string k = member_prefix(c.user);
    wb.Put(cf, k, as_view(c.tenant));  // current tenant
    k.append(as_view(c.tenant));
    wb.Put(cf, k, rocksdb::Slice());  // membership
  }
  return std::move(changes_);
}

}  // namespace tenant::projections::detail
