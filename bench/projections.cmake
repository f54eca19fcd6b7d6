# Projection benchmarks.
#   projections_replay_bench: `tenantctl replay`'s engine over a log of 1M events (~200k tenants,
#   realistic mix), against a plain scan of the `events` column family parsing every value with
#   simdjson, in the same run; prints events/s of both and the ratio. The log is generated once
#   and kept under $TENANT_BENCH_DIR (default /tmp/tenant-bench-projections).
#     ./build/release/bench/projections_replay_bench
#     TENANT_BENCH_EVENTS=200000 ./build/release/bench/projections_replay_bench   # smaller
#   projections_query_bench: the list index at 1M tenants (build, memory, deep pages, filters),
#   the read model's lookups and its start-up (index load) time.
tenant_add_bench(projections_replay_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/projections_replay.cpp
  DEPS tenant::projections tenant::eventstore RocksDB::rocksdb simdjson::simdjson)
tenant_add_bench(projections_query_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/projections_query.cpp
  DEPS tenant::projections tenant::eventstore RocksDB::rocksdb)
target_include_directories(projections_query_bench PRIVATE ${PROJECT_SOURCE_DIR}/projections/src
  ${PROJECT_SOURCE_DIR}/eventstore/src)
# The log is settled with the event store's own column family options (rocksdb_layout.hpp).
target_include_directories(projections_replay_bench PRIVATE ${PROJECT_SOURCE_DIR}/eventstore/src)
