# Event-store benchmarks: append at 1/16/64/256 concurrent appenders (fsync and os), the
# baseline of N threads each doing its own synced RocksDB Put (same run, ratio printed), append
# latency as the log grows, read stream, read all.
#   ./build/release/bench/eventstore_bench                       # everything (~2 min)
#   ./build/release/bench/eventstore_bench --benchmark_filter=append
#   TENANT_BENCH_LOG_SIZES=10000,1000000,10000000 ./build/release/bench/eventstore_bench \
#       --benchmark_filter=latency_at_log_size                    # the 10M point (~minutes)
tenant_add_bench(eventstore_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eventstore_main.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/eventstore_append.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/eventstore_read.cpp
  DEPS tenant::eventstore RocksDB::rocksdb tenant_boost)
