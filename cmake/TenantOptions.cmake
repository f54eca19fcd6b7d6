# INTERFACE targets carrying warnings and sanitizer flags; no global flags.
add_library(tenant_warnings INTERFACE)
add_library(tenant::warnings ALIAS tenant_warnings)
target_compile_options(tenant_warnings INTERFACE
  -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough
  # GCC 12 reports a false positive on Asio coroutine frames (awaitable_frame_base's sized
  # operator delete "mismatched" with its operator new); the two do match.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
  $<$<BOOL:${TENANT_WERROR}>:-Werror>)

add_library(tenant_sanitizers INTERFACE)
add_library(tenant::sanitizers ALIAS tenant_sanitizers)
if(TENANT_SANITIZER STREQUAL "asan")
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  # Clang's -fsanitize=function (part of undefined) reports false "call through a function of
  # the wrong type" in C++20 coroutine resumption (llvm/llvm-project#49689); the fuzz build is
  # Clang.
  set(_san_compile_only $<$<CXX_COMPILER_ID:Clang>:-fno-sanitize=function>)
elseif(TENANT_SANITIZER STREQUAL "tsan")
  set(_san -fsanitize=thread -fno-omit-frame-pointer)
  # Asio fences (std_fenced_block) are invisible to TSan; GCC 12 warns about each one.
  set(_san_compile_only $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
elseif(NOT TENANT_SANITIZER STREQUAL "")
  message(FATAL_ERROR "TENANT_SANITIZER must be '', asan or tsan")
endif()
if(_san)
  # The instrumentation makes GCC 12's -Wmaybe-uninitialized report std::optional members that
  # are set on every path (false positives); the release build keeps the warning.
  list(APPEND _san_compile_only $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  target_compile_options(tenant_sanitizers INTERFACE ${_san} ${_san_compile_only})
  target_link_options(tenant_sanitizers INTERFACE ${_san})
endif()

# The allocator of the programs (tenantd, tenantctl, the benchmarks): gperftools' tcmalloc
# (minimal build, Debian's libgoogle-perftools-dev). Its per-thread caches fit tenantd's
# pattern of strings allocated on one thread (a decoder, a parser) and freed on another (the
# folding or writer thread), where glibc's arenas spend their time in malloc_consolidate and
# unlink_chunk: `tenantctl replay` is 12 to 17% faster with it (docs/performance.md). Sanitizer
# builds keep their own allocator; -DTENANT_TCMALLOC=OFF keeps glibc's.
option(TENANT_TCMALLOC "Link tenantd, tenantctl and the benchmarks against tcmalloc_minimal" ON)
add_library(tenant_allocator INTERFACE)
add_library(tenant::allocator ALIAS tenant_allocator)
if(TENANT_TCMALLOC AND TENANT_SANITIZER STREQUAL "")
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
  # Linked even though no symbol of it is referenced by name: it replaces malloc and free.
  target_link_options(tenant_allocator INTERFACE "LINKER:--push-state,--no-as-needed")
  target_link_libraries(tenant_allocator INTERFACE PkgConfig::TCMALLOC)
  target_link_options(tenant_allocator INTERFACE "LINKER:--pop-state")
endif()
