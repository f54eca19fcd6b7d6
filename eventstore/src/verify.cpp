// tenantctl verify: one pass over `events` (full envelope decode, checks against the indexes in
// MultiGet chunks), then one pass over each index to find entries no event explains.
#include "tenant/eventstore/verify.hpp"

#include <cstdlib>
#include <filesystem>

#include "keys.hpp"
#include "pipeline.hpp"
#include "rocksdb_layout.hpp"
#include "tenant/eventstore/codec.hpp"

namespace tenant::eventstore {

namespace {

using namespace detail;

constexpr std::size_t max_listed = 100;
constexpr std::size_t chunk = 1024;

class checker {
 public:
  checker(open_db& db, verify_report& rep) : db_(db), rep_(rep) {}

  void problem(std::string text) {
    ++rep_.problem_count;
    if (rep_.problems.size() < max_listed) rep_.problems.push_back(std::move(text));
  }

  std::error_code events(const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
    std::uint64_t last = 0;
    {
      std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(read_options(), db_.cf(cf_events)));
      it->SeekToLast();
      if (it->Valid() && it->key().size() == 8)
        last = get_u64(std::string_view(it->key().data(), 8));
    }
    rep_.head = last;
    std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(read_options(), db_.cf(cf_events)));
    std::uint64_t expected = 1;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const auto key = it->key();
      if (key.size() != 8) {
        problem("events: a key of " + std::to_string(key.size()) + " bytes (expected 8)");
        continue;
      }
      const std::uint64_t pos = get_u64(std::string_view(key.data(), 8));
      if (pos != expected) {
        if (pos > expected) {
          problem("events: positions " + std::to_string(expected) + ".." + std::to_string(pos - 1) +
                  " are missing");
        } else {
          problem("events: position " + std::to_string(pos) + " out of order");
        }
      }
      expected = pos + 1;
      ++rep_.events;
      check_event(pos, std::string_view(it->value().data(), it->value().size()));
      if (pending_.size() >= chunk) flush();
      if (progress && rep_.events % 65536 == 0) progress(rep_.events, last);
    }
    flush();
    if (!it->status().ok()) return make_error_code(errc::storage_unavailable);
    if (progress) progress(rep_.events, last);
    return {};
  }

  std::error_code indexes() {
    // Stream heads: one per stream seen, equal to its last event.
    std::uint64_t n = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(read_options(), db_.cf(cf_streams)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++n;
      const std::string id = it->key().ToString();
      const auto st = streams_.find(id);
      if (st == streams_.end()) {
        problem("streams: a head for stream '" + id + "', which has no events");
        continue;
      }
      st->second.head_seen = true;
      if (it->value().size() != 16) {
        problem("streams: malformed head of '" + id + "'");
        continue;
      }
      const std::string_view v(it->value().data(), 16);
      if (get_u64(v) != st->second.version || get_u64(v.substr(8)) != st->second.last_position)
        problem("streams: head of '" + id + "' is version " + std::to_string(get_u64(v)) +
                " at position " + std::to_string(get_u64(v.substr(8))) + ", events say version " +
                std::to_string(st->second.version) + " at position " +
                std::to_string(st->second.last_position));
    }
    if (!it->status().ok()) return make_error_code(errc::storage_unavailable);
    for (const auto& [id, st] : streams_)
      if (!st.head_seen) problem("streams: no head for stream '" + id + "'");
    rep_.streams = streams_.size();

    // Every event has its stream-index and event-id entry (checked per event); equal counts
    // mean there is no entry beside them.
    for (const auto& [c, name] :
         {std::pair{cf_stream_index, "stream_index"}, std::pair{cf_event_ids, "event_ids"}}) {
      const auto count = count_keys(c);
      if (!count) return count.error();
      if (*count != rep_.events)
        problem(std::string(name) + ": " + std::to_string(*count) + " entries for " +
                std::to_string(rep_.events) + " events");
    }

    it.reset(db_.db->NewIterator(read_options(), db_.cf(cf_unique)));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      if (!streams_.contains(it->value().ToString()))
        problem("unique: '" + it->key().ToString() + "' is held by '" + it->value().ToString() +
                "', which has no events");
    if (!it->status().ok()) return make_error_code(errc::storage_unavailable);

    it.reset(db_.db->NewIterator(read_options(), db_.cf(cf_checkpoints)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string name = it->key().ToString();
      if (it->value().size() != 8) {
        problem("checkpoints: malformed value of '" + name + "'");
      } else if (const auto p = get_u64(std::string_view(it->value().data(), 8)); p > rep_.head) {
        problem("checkpoints: '" + name + "' at " + std::to_string(p) + " is past the head " +
                std::to_string(rep_.head));
      }
    }
    if (!it->status().ok()) return make_error_code(errc::storage_unavailable);
    return {};
  }

 private:
  struct stream_seen {
    std::uint64_t version = 0;
    std::uint64_t last_position = 0;
    bool head_seen = false;
  };
  struct pending_check {
    std::uint64_t position = 0;
    std::uint64_t version = 0;
    std::string stream_id;
    std::string index_key;
    std::string id_key;
  };

  static rocksdb::ReadOptions read_options() {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.readahead_size = 2u << 20;
    return ro;
  }

  result<std::uint64_t> count_keys(column c) {
    std::uint64_t n = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_.db->NewIterator(read_options(), db_.cf(c)));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      ++n;
    if (!it->status().ok()) return make_error_code(errc::storage_unavailable);
    return n;
  }

  void check_event(std::uint64_t pos, std::string_view json) {
    const std::string where = "position " + std::to_string(pos) + ": ";
    const auto env = codec::decode_envelope(json);
    if (!env) {
      problem(where + "malformed envelope");
      return;
    }
    if (env->position != pos)
      problem(where + "envelope says position " + std::to_string(env->position));
    auto& st = streams_[env->stream_id];
    if (env->version != st.version + 1)
      problem(where + "stream '" + env->stream_id + "' has version " +
              std::to_string(env->version) + " after " + std::to_string(st.version));
    st.version = env->version;
    st.last_position = pos;
    const auto id = domain::uuid::parse(env->event_id);
    pending_.push_back(pending_check{
        pos, env->version, env->stream_id, stream_index_key(env->stream_id, env->version),
        std::string(reinterpret_cast<const char*>(id->bytes.data()), 16)});
  }

  // Checks the pending events against stream_index and event_ids with two MultiGets.
  void flush() {
    if (pending_.empty()) return;
    std::vector<rocksdb::Slice> index_keys, id_keys;
    for (const auto& p : pending_) {
      index_keys.emplace_back(p.index_key);
      id_keys.emplace_back(p.id_key);
    }
    std::vector<std::string> index_values, id_values;
    const auto si = db_.db->MultiGet(
        rocksdb::ReadOptions(),
        std::vector<rocksdb::ColumnFamilyHandle*>(pending_.size(), db_.cf(cf_stream_index)),
        index_keys, &index_values);
    const auto ii = db_.db->MultiGet(
        rocksdb::ReadOptions(),
        std::vector<rocksdb::ColumnFamilyHandle*>(pending_.size(), db_.cf(cf_event_ids)), id_keys,
        &id_values);
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      const auto& p = pending_[i];
      const std::string where = "position " + std::to_string(p.position) + ": ";
      if (!si[i].ok()) {
        problem(where + "no stream_index entry for '" + p.stream_id + "' version " +
                std::to_string(p.version));
      } else if (index_values[i].size() != 8 || get_u64(index_values[i]) != p.position) {
        problem(where + "stream_index for '" + p.stream_id + "' version " +
                std::to_string(p.version) + " points elsewhere");
      }
      if (!ii[i].ok()) {
        problem(where + "no event_ids entry");
      } else if (id_values[i] != event_id_value(p.position, p.version, p.stream_id)) {
        problem(where + "event_ids entry points elsewhere (event id stored twice?)");
      }
    }
    pending_.clear();
  }

  open_db& db_;
  verify_report& rep_;
  string_map<stream_seen> streams_;
  std::vector<pending_check> pending_;
};

}  // namespace

result<verify_report> verify_rocksdb_store(
    const std::string& path,
    const std::function<void(std::uint64_t checked, std::uint64_t head)>& progress) {
  char tmpl[] = "/tmp/tenant-verify-XXXXXX";
  if (!mkdtemp(tmpl)) return make_error_code(errc::storage_unavailable);
  const std::string secondary = tmpl;
  struct cleanup {
    std::string dir;
    ~cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } guard{secondary};

  rocksdb_open_options oo;
  oo.path = path;
  oo.read_only = true;
  oo.secondary_path = secondary;
  auto db = open_layout(oo);
  if (!db) return db.error();

  verify_report rep;
  checker c(**db, rep);
  if (auto ec = c.events(progress); ec) return ec;
  if (auto ec = c.indexes(); ec) return ec;
  return rep;
}

}  // namespace tenant::eventstore
