# docs/openapi.yaml, converted to JSON at build time and compiled into tenant_api as
# tenant::api::openapi_json() (served at /api/v1/openapi.json). Needs python3 with PyYAML
# (Debian python3-yaml).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
execute_process(COMMAND ${Python3_EXECUTABLE} -c "import yaml"
  RESULT_VARIABLE _tenant_pyyaml OUTPUT_QUIET ERROR_QUIET)
if(NOT _tenant_pyyaml EQUAL 0)
  message(FATAL_ERROR "python3 with PyYAML is needed to embed docs/openapi.yaml (apt install python3-yaml)")
endif()
set(_tenant_openapi_yaml ${PROJECT_SOURCE_DIR}/docs/openapi.yaml)
set(_tenant_openapi_cpp ${CMAKE_CURRENT_BINARY_DIR}/generated/openapi_json.cpp)
add_custom_command(OUTPUT ${_tenant_openapi_cpp}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/generated
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/embed.py ${_tenant_openapi_yaml}
          ${_tenant_openapi_cpp}
  DEPENDS ${_tenant_openapi_yaml} ${CMAKE_CURRENT_LIST_DIR}/embed.py
  COMMENT "Embedding docs/openapi.yaml as JSON"
  VERBATIM)
target_sources(tenant_api PRIVATE ${_tenant_openapi_cpp})
