# One helper to declare a module library and one to declare a test, so every
# target gets the same warnings, sanitizers and include root.

set(VOUCHSAFE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Wunused -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion -Wformat=2)

function(vouchsafe_apply_flags target)
  target_compile_options(${target} PRIVATE ${VOUCHSAFE_WARNINGS})
  if(VOUCHSAFE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(VOUCHSAFE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                           -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(VOUCHSAFE_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
    # libFuzzer's convention: code may shrink a cost bound (not remove it)
    # so that the fuzzer can afford the bounded path on every input.
    target_compile_definitions(${target} PRIVATE FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# vouchsafe_library(NAME SOURCES ... DEPS ...): src/<NAME>/ as vouchsafe_<NAME>.
function(vouchsafe_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(vouchsafe_${name} STATIC ${ARG_SOURCES})
  target_include_directories(vouchsafe_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(vouchsafe_${name} PUBLIC ${ARG_DEPS})
  vouchsafe_apply_flags(vouchsafe_${name})
endfunction()

# vouchsafe_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary.
function(vouchsafe_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    VOUCHSAFE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    VOUCHSAFE_VECTORS_DIR="${VOUCHSAFE_VECTORS_DIR}")
  vouchsafe_apply_flags(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# vouchsafe_masa_load(): the MASA load client, defined once for the two
# places that build it (the benchmarks; the tests when the benchmarks are
# off, for the fault run's voucher-requests).
function(vouchsafe_masa_load)
  add_executable(masa_load ${PROJECT_SOURCE_DIR}/bench/masa_load.cpp
                           ${PROJECT_SOURCE_DIR}/bench/handshake_floor.cpp
                           ${PROJECT_SOURCE_DIR}/bench/gnutls_floor.cpp)
  target_link_libraries(masa_load PRIVATE vouchsafe_pledge vouchsafe_registrar vouchsafe_net
                                          vouchsafe_crypto vouchsafe_core)
  vouchsafe_apply_flags(masa_load)
endfunction()
