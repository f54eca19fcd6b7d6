# Platform concerns (issue 6), without sockets: token verification, scoping, the rate limiter
# (hand-driven clock), the platform middleware and /docs. Included from tests/api/CMakeLists.txt.
tenant_module_test(api_platform_tests LABELS unit api
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/auth_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/rate_limit_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/platform_test.cpp
  DEPS tenant::api OpenSSL::SSL OpenSSL::Crypto)
