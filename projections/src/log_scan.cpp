#include "log_scan.hpp"

#include <stdlib.h>

#include <filesystem>

#include "db.hpp"
#include "keys.hpp"
#include "tenant/eventstore/codec.hpp"

namespace tenant::projections::detail {

namespace {

// Each field must sit exactly at `from` as encode_envelope writes it (`"key":value,`), so the
// scan can never read a key inside another value or skip unknown keys. Anything else (escapes,
// non-ASCII or control characters, numbers JSON or uint64 would not take) returns nullopt and
// the caller falls back to the codec's full parse.

// The string value of `prefix` (`"key":"`) at `from`; `from` moves past the comma after it.
std::optional<std::string_view> string_field(std::string_view json, std::string_view prefix,
                                             std::size_t& from) {
  if (json.compare(from, prefix.size(), prefix) != 0) return std::nullopt;
  const auto start = from + prefix.size();
  const auto end = json.find('"', start);
  if (end == std::string_view::npos || end + 1 >= json.size() || json[end + 1] != ',')
    return std::nullopt;
  const auto v = json.substr(start, end - start);
  for (const char c : v)
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80)
      return std::nullopt;
  from = end + 2;
  return v;
}

// The unsigned number of `prefix` (`"key":`) at `from`; `from` moves past the comma after it.
std::optional<std::uint64_t> number_field(std::string_view json, std::string_view prefix,
                                          std::size_t& from) {
  if (json.compare(from, prefix.size(), prefix) != 0) return std::nullopt;
  const std::size_t start = from + prefix.size();
  std::size_t i = start;
  std::uint64_t v = 0;
  // At most 19 digits: always below 2^64 (longer numbers go to the full parse).
  while (i < json.size() && json[i] >= '0' && json[i] <= '9') {
    if (i - start == 19) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(json[i++] - '0');
  }
  if (i == start || (json[start] == '0' && i - start > 1)) return std::nullopt;  // JSON: no 01
  if (i >= json.size() || json[i] != ',') return std::nullopt;
  from = i + 1;
  return v;
}

}  // namespace

bool scan_envelope_header(std::string_view json, eventstore::recorded_event& out) {
  // encode_envelope's order: event_id, type, schema_version, stream_id, tenant_id, version,
  // position, occurred_at, data, metadata. Searching in that order never looks inside `data`.
  if (json.empty() || json[0] != '{') return false;
  std::size_t at = 1;
  const auto id = string_field(json, R"("event_id":")", at);
  const auto type = id ? string_field(json, R"("type":")", at) : std::nullopt;
  const auto schema = type ? number_field(json, R"("schema_version":)", at) : std::nullopt;
  const auto stream = schema ? string_field(json, R"("stream_id":")", at) : std::nullopt;
  const auto tenant = stream ? string_field(json, R"("tenant_id":")", at) : std::nullopt;
  const auto version = tenant ? number_field(json, R"("version":)", at) : std::nullopt;
  const auto position = version ? number_field(json, R"("position":)", at) : std::nullopt;
  const auto occurred = position ? string_field(json, R"("occurred_at":")", at) : std::nullopt;
  if (!occurred || json.compare(at, 7, "\"data\":") != 0) return false;
  // What the codec's decode_envelope also checks in the header (fuzzing found an envelope
  // with a malformed event id that this scan accepted and the codec refused).
  if (*schema == 0 || *schema > 0xffff || *version == 0 || *position == 0 || type->empty() ||
      stream->empty() || !parse_uuid16(*id))
    return false;
  const auto t = domain::parse_time(*occurred);
  if (!t) return false;
  out.event_id.assign(*id);
  out.type.assign(*type);
  out.schema_version = static_cast<std::uint32_t>(*schema);
  out.stream_id.assign(*stream);
  out.tenant_id.assign(*tenant);
  out.version = *version;
  out.position = *position;
  out.occurred_at = *t;
  return true;
}

result<std::unique_ptr<log_scanner>> log_scanner::open(const std::string& path) {
  std::unique_ptr<log_scanner> self(new log_scanner());
  rocksdb::DBOptions dbo;
  dbo.max_open_files = -1;  // required by secondary instances
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(dbo, path, &names);
  if (!s.ok()) return make_error_code(errc::invalid_argument);
  if (std::find(names.begin(), names.end(), "events") == names.end())
    return make_error_code(errc::corruption);
  char tmpl[] = "/tmp/tenant-replay-scan-XXXXXX";
  if (!mkdtemp(tmpl)) return make_error_code(errc::storage_unavailable);
  self->secondary_dir_ = tmpl;
  // Only `events` (and `default`, which RocksDB requires): a secondary instance opens the table
  // reader of every file of the families it opens (max_open_files = -1), and the indexes' files
  // (event ids, stream index) with their Bloom filters are never read by a scan.
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  descs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  descs.emplace_back("events", rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenAsSecondary(dbo, path, self->secondary_dir_, descs, &self->handles_, &raw);
  if (!s.ok()) return to_error(s);
  self->db_.reset(raw);
  self->events_ = self->handles_[1];
  std::unique_ptr<rocksdb::Iterator> it(
      self->db_->NewIterator(rocksdb::ReadOptions(), self->events_));
  it->SeekToLast();
  if (it->Valid()) {
    if (it->key().size() != 8) return make_error_code(errc::corruption);
    self->head_ = get_u64(it->key().ToStringView());
  }
  if (!it->status().ok()) return to_error(it->status());
  return self;
}

log_scanner::~log_scanner() {
  for (auto* h : handles_)
    db_->DestroyColumnFamilyHandle(h);
  db_.reset();
  std::error_code ec;
  if (!secondary_dir_.empty()) std::filesystem::remove_all(secondary_dir_, ec);
}

std::error_code log_scanner::scan_values(
    std::uint64_t first, std::uint64_t last,
    const std::function<std::error_code(std::uint64_t, std::string_view)>& f) const {
  if (first > last) return {};
  rocksdb::ReadOptions ro;
  const std::string upper = be64(last + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  ro.readahead_size = 2u << 20;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  std::uint64_t expected = first;
  for (it->Seek(be64(first)); it->Valid(); it->Next()) {
    const auto key = it->key();
    if (key.size() != 8 || get_u64(key.ToStringView()) != expected)
      return make_error_code(errc::corruption);
    if (auto ec = f(expected, it->value().ToStringView()); ec) return ec;
    ++expected;
  }
  if (!it->status().ok()) return to_error(it->status());
  if (expected != last + 1) return make_error_code(errc::corruption);
  return {};
}

std::error_code log_scanner::scan(
    std::uint64_t first, std::uint64_t last,
    const std::function<std::error_code(eventstore::recorded_event&)>& f) const {
  eventstore::recorded_event r;
  return scan_values(first, last, [&](std::uint64_t position, std::string_view value) {
    if (auto ec = to_recorded_event(position, value, r); ec) return ec;
    return f(r);
  });
}

std::error_code to_recorded_event(std::uint64_t position, std::string_view value,
                                  eventstore::recorded_event& r) {
  if (!scan_envelope_header(value, r)) {
    auto full = eventstore::codec::to_recorded(value);
    if (!full) return make_error_code(errc::corruption);
    r = std::move(*full);
  }
  if (r.position != position) return make_error_code(errc::corruption);
  r.envelope_json.assign(value);
  return {};
}

}  // namespace tenant::projections::detail
