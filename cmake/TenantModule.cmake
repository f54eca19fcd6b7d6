# tenant_add_module(<name> [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
#
# Creates the library tenant_<name> (alias tenant::<name>) from <name>/src/*.cpp with public
# headers under <name>/include/tenant/<name>/.
function(tenant_add_module name)
  cmake_parse_arguments(ARG "" "" "PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  if(NOT _srcs)
    # A module whose implementation has not landed yet: headers only.
    add_library(tenant_${name} INTERFACE)
    add_library(tenant::${name} ALIAS tenant_${name})
    target_include_directories(tenant_${name} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(tenant_${name} INTERFACE ${ARG_PUBLIC_DEPS})
    return()
  endif()
  add_library(tenant_${name} STATIC ${_srcs})
  add_library(tenant::${name} ALIAS tenant_${name})
  target_include_directories(tenant_${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(tenant_${name}
    PUBLIC ${ARG_PUBLIC_DEPS} tenant::sanitizers
    PRIVATE ${ARG_PRIVATE_DEPS} tenant::warnings)
endfunction()

# tenant_add_test(<name> LABELS ... SOURCES ... DEPS ...)
# One GoogleTest executable; its tests are discovered at test time so that building stays fast.
function(tenant_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LABELS;SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
    tenant::warnings tenant::sanitizers)
  target_compile_definitions(${name} PRIVATE
    TENANT_SOURCE_DIR="${PROJECT_SOURCE_DIR}" TENANT_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  # PROPERTIES are flattened into name/value pairs, so a label list would keep only its first
  # label (and `ctest -L concurrency` would find nothing): the labels go in as ONE label,
  # "unit,concurrency,eventstore", which `ctest -L <regex>` matches by any of its words.
  string(REPLACE ";" "," _labels "${ARG_LABELS}")
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${_labels}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
