# Kafka benchmarks (bench/kafka_relay.cpp): relay records/s vs `kcat -P` producing the same
# records to the same broker in the same run (ratio printed, target >= 0.8), and the latency
# from append acknowledgement to a subscriber at 1000 commands/s (target p99 < 50 ms).
#   ./build/release/bench/kafka_bench
#   TENANT_BENCH_KAFKA_EVENTS=500000 ./build/release/bench/kafka_bench --benchmark_filter='kcat|throughput'
tenant_add_bench(kafka_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/kafka_relay.cpp
  DEPS tenant::consumers tenant::eventstore PkgConfig::RDKAFKA)
