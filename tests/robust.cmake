# Robustness: corrupted models (robust_corrupt), allocation failures
# (robust_oom), and libFuzzer targets (fuzz_model for the model reader,
# fuzz_package for the Edge TPU package reader; with ETPU_FUZZ=ON).
#
# Both tests need the shared data and exit 77 (skipped) when it is absent.
# robust_corrupt (~22,000 variants of 158 models) takes ~15 s in a normal
# build and ~50 s under ASan+UBSan (ETPU_SANITIZE=ON) on an idle machine;
# see the header comment of robust_corrupt.c. robust_repro holds minimal
# reproductions of library bugs found here (fails until they are fixed).
foreach(t robust_corrupt robust_oom)
  add_executable(${t} ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE etpu_testutil)
  add_test(NAME ${t} COMMAND ${t})
  set_tests_properties(${t} PROPERTIES SKIP_RETURN_CODE 77 LABELS robust)
endforeach()
set_tests_properties(robust_corrupt PROPERTIES TIMEOUT 900)

# Minimal reproductions of library bugs these tests found (no shared data).
add_executable(robust_repro ${CMAKE_CURRENT_SOURCE_DIR}/robust_repro.c)
target_link_libraries(robust_repro PRIVATE etpu_testutil)
add_test(NAME robust_repro COMMAND robust_repro)
set_tests_properties(robust_repro PROPERTIES LABELS robust)

# The fuzz target compiles its own copy of the library sources with
# -fsanitize=fuzzer so that libFuzzer sees coverage inside etpu (the etpu_obj
# target, built with the global flags, is left as it is). Configure a separate
# build directory:
#   cmake -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DETPU_FUZZ=ON -DETPU_SANITIZE=ON
#   cmake --build build-fuzz --target fuzz_model
#   tests/fuzz/run_fuzz.sh 600 build-fuzz
#   tests/fuzz/run_fuzz_package.sh 600 build-fuzz
if(ETPU_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ETPU_FUZZ=ON needs clang (-DCMAKE_C_COMPILER=clang)")
  endif()
  set(ETPU_FUZZ_LIB_SOURCES "")
  foreach(src ${ETPU_SOURCES})
    if(IS_ABSOLUTE "${src}")
      list(APPEND ETPU_FUZZ_LIB_SOURCES ${src})
    else()
      list(APPEND ETPU_FUZZ_LIB_SOURCES ${CMAKE_SOURCE_DIR}/${src})
    endif()
  endforeach()
  etpu_ukernel_properties() # the per-ISA flags of the micro-kernels, in this directory too
  add_executable(fuzz_model ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_model.c ${ETPU_FUZZ_LIB_SOURCES})
  target_include_directories(fuzz_model PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
                                                ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_options(fuzz_model PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
                                            -fno-omit-frame-pointer)
  target_link_options(fuzz_model PRIVATE -fsanitize=fuzzer,address,undefined)
  target_include_directories(fuzz_model PRIVATE ${PNG_INCLUDE_DIRS} ${JPEG_INCLUDE_DIRS})
  target_link_libraries(fuzz_model PRIVATE PNG::PNG JPEG::JPEG Threads::Threads m)
  # The package reader on its own (seeds: run_fuzz_package.sh cuts the custom
  # options out of the shared compiled models with extract_options).
  add_executable(fuzz_package ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_package.c ${ETPU_FUZZ_LIB_SOURCES})
  target_include_directories(fuzz_package PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
                                                  ${CMAKE_CURRENT_SOURCE_DIR} ${PNG_INCLUDE_DIRS} ${JPEG_INCLUDE_DIRS})
  target_compile_options(fuzz_package PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
                                              -fno-omit-frame-pointer)
  target_link_options(fuzz_package PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_package PRIVATE PNG::PNG JPEG::JPEG Threads::Threads m)
  add_executable(extract_options ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/extract_options.c)
  target_link_libraries(extract_options PRIVATE etpu_static)
endif()

# Models declaring more memory than a 32-bit size_t addresses (a 3 GiB
# tensor, shape products that wrap 32 bits) are refused with a message naming
# the tensor (tests/test_size_limits.c; the interpreter part runs on 32-bit
# targets — the armhf CI stage — and reports skipped elsewhere).
add_executable(test_size_limits ${CMAKE_CURRENT_SOURCE_DIR}/test_size_limits.c)
target_link_libraries(test_size_limits PRIVATE etpu_testutil)
add_test(NAME size_limits COMMAND test_size_limits)
set_tests_properties(size_limits PROPERTIES SKIP_RETURN_CODE 77 LABELS robust)
