# Scale benchmark (issue 8, bench/run's full run): single-append p50/p99 with 10k vs 10M events
# in the log (bench/scale_append.cpp).
#   ./build/release/bench/scale_append_bench --sizes 10000,10000000
tenant_add_bench(scale_append_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/scale_append.cpp
  DEPS tenant::eventstore)
