#include "sets.hpp"

#include <rocksdb/write_batch.h>

#include <mutex>

#include "row_codec.hpp"

namespace tenant::projections::detail {

result<std::shared_ptr<tenants_set>> load_tenants(projections_db& db, generation_ptr gen,
                                                  std::size_t cache_entries,
                                                  std::uint64_t hash_seed) {
  auto set = std::make_shared<tenants_set>();
  set->gen = std::move(gen);
  set->index = tenant_index(hash_seed);
  set->cache = std::make_unique<view_cache>(cache_entries);
  auto cp = db.load_checkpoint(set->gen->checkpoint_key());
  if (!cp) return cp.error();
  set->checkpoint = *cp;

  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2u << 20;
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(ro, set->index_cf()));
  index_entry pending;
  std::string pending_pos;
  bool have_bucket = false;
  folded_text text;
  auto flush = [&]() -> bool {
    if (!have_bucket) return true;
    const auto b = tenant_index::bucket_of(pending.status, pending.plan);
    if (!b || set->index.find(pending.id) != tenant_index::npos) return false;
    set->index.add(pending.id, *b, text.name, text.words);
    have_bucket = false;
    text = {};
    return true;
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto k = it->key().ToStringView();
    const auto v = it->value().ToStringView();
    if (k.size() != 9) return make_error_code(errc::corruption);
    if (k.substr(0, 8) != pending_pos) {
      if (!flush()) return make_error_code(errc::corruption);
      pending_pos.assign(k.substr(0, 8));
    }
    if (k[8] == index_tag_bucket) {
      if (!parse_index_bucket(v, pending)) return make_error_code(errc::corruption);
      have_bucket = true;
    } else if (k[8] == index_tag_text) {
      if (!parse_index_text(v, text)) return make_error_code(errc::corruption);
    } else {
      return make_error_code(errc::corruption);
    }
  }
  if (!it->status().ok()) return to_error(it->status());
  if (!flush()) return make_error_code(errc::corruption);
  return set;
}

result<std::shared_ptr<members_set>> load_members(projections_db& db, generation_ptr gen) {
  auto set = std::make_shared<members_set>();
  set->gen = std::move(gen);
  auto cp = db.load_checkpoint(set->gen->checkpoint_key());
  if (!cp) return cp.error();
  set->checkpoint = *cp;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(ro, set->cf()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    reader r{it->key().ToStringView()};
    const auto user = r.str();
    if (!r.ok) return make_error_code(errc::corruption);
    if (r.in.empty()) {  // the current tenant
      const auto v = it->value().ToStringView();
      if (v.size() != 16) return make_error_code(errc::corruption);
      set->index.add(user, to_uuid16(v), true);
    } else if (r.in.size() == 16) {
      set->index.add(user, to_uuid16(r.in), false);
    } else {
      return make_error_code(errc::corruption);
    }
  }
  if (!it->status().ok()) return to_error(it->status());
  return set;
}

result<tenant_view_ptr> read_row_ptr(const tenants_set& set, const uuid16& id, bool no_io) {
  std::uint64_t epoch = 0;
  if (auto v = set.cache->get(id, &epoch)) return v;
  rocksdb::ReadOptions ro;
  if (no_io) ro.read_tier = rocksdb::kBlockCacheTier;
  rocksdb::PinnableSlice value;
  auto s = set.gen->db->Get(ro, set.rows(), as_view(id), &value);
  if (s.IsNotFound()) return tenant_view_ptr();
  if (s.IsIncomplete()) return make_error_code(errc::would_block);
  if (!s.ok()) return to_error(s);
  auto v = decode_view(value.ToStringView());
  if (!v) return make_error_code(errc::corruption);
  auto ptr = std::make_shared<const tenant_view>(std::move(*v));
  set.cache->fill(id, ptr, epoch);
  return ptr;
}

std::error_code fold_into(projections_db& db, const std::vector<decoded_event>& events,
                          tenants_set* tenants, members_set* members, bool sync) {
  if (events.empty()) return {};
  const std::uint64_t last = events.back().position;
  rocksdb::WriteBatch wb;
  std::vector<tenant_change> tchanges;
  std::vector<member_change> mchanges;
  if (tenants && tenants->checkpoint.load() < last) {
    tenants_fold tf([tenants](const uuid16& id) { return read_row_ptr(*tenants, id, false); });
    const auto from = tenants->checkpoint.load();
    for (const auto& e : events) {
      if (e.position <= from) continue;
      if (auto ec = tf.apply(e); ec) return ec;
    }
    tchanges = tf.write(wb, tenants->rows(), tenants->index_cf());
    db.put_checkpoint(wb, tenants->gen->checkpoint_key(), last);
  } else {
    tenants = nullptr;
  }
  if (members && members->checkpoint.load() < last) {
    members_fold mf;
    const auto from = members->checkpoint.load();
    for (const auto& e : events)
      if (e.position > from) mf.apply(e);
    mchanges = mf.write(wb, members->cf());
    db.put_checkpoint(wb, members->gen->checkpoint_key(), last);
  } else {
    members = nullptr;
  }
  if (!tenants && !members) return {};
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  auto s = db.db()->Write(wo, &wb);
  if (!s.ok()) return to_error(s);

  if (tenants) {
    {
      std::unique_lock lk(tenants->mu);
      for (const auto& c : tchanges) {
        if (!c.bucket_changed && !c.text) continue;
        const auto& st = c.view->state;
        const auto b = tenant_index::bucket_of(st.status, st.subscription.plan);
        if (!b) continue;
        auto o = tenants->index.find(c.id);
        if (o == tenant_index::npos) {
          const folded_text empty;
          const auto& t = c.text ? *c.text : empty;
          tenants->index.add(c.id, *b, t.name, t.words);
          continue;
        }
        if (c.bucket_changed) tenants->index.set_bucket(o, *b);
        if (c.text) {
          tenants->index.set_name(o, c.text->name);
          tenants->index.set_words(o, c.text->words);
        }
      }
    }
    for (auto& c : tchanges)
      tenants->cache->put(c.id, std::move(c.view));
    tenants->checkpoint.store(last);
  }
  if (members) {
    {
      std::unique_lock lk(members->mu);
      for (const auto& c : mchanges)
        members->index.add(c.user, c.tenant, true);
    }
    members->checkpoint.store(last);
  }
  return {};
}

}  // namespace tenant::projections::detail
