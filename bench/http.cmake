# HTTP benchmarks. baseline_http is the denominator of the HTTP ratios: a minimal Beast server
# returning a fixed body (--body-size), driven by wrk against tenantd with the same body size in
# the same run (see api/README.md, "Benchmarks").
tenant_add_bench(baseline_http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/baseline_http.cpp
  DEPS tenant::boost CLI11::CLI11)
