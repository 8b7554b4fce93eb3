# The Python package's tests (tests/python/), run by /usr/bin/python3 -m
# pytest against the built package (build/python) when ETPU_PYTHON built it;
# otherwise one test says why they are skipped.
set(ETPU_PY_TESTS interpreter pycoral_style parity learn tools visualize)
if(ETPU_PYTHON_BUILT)
  set(ETPU_PY_ENV "PYTHONPATH=${CMAKE_BINARY_DIR}/python;ETPU_CLI=$<TARGET_FILE:etpu>;ETPU_SHARED_DATA=${ETPU_SHARED_DATA}")
  if(ETPU_SANITIZE)
    # A sanitized libetpu.so inside an unsanitized python3: the ASan runtime
    # must be loaded first. Python's own allocations are not ours to leak-check.
    if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
      set(ETPU_ASAN_RT_NAME libclang_rt.asan-${CMAKE_SYSTEM_PROCESSOR}.so)
    else()
      set(ETPU_ASAN_RT_NAME libasan.so)
    endif()
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=${ETPU_ASAN_RT_NAME}
                    OUTPUT_VARIABLE ETPU_ASAN_RT OUTPUT_STRIP_TRAILING_WHITESPACE)
    list(APPEND ETPU_PY_ENV "LD_PRELOAD=${ETPU_ASAN_RT}" "ASAN_OPTIONS=detect_leaks=0")
  endif()
  foreach(t ${ETPU_PY_TESTS})
    add_test(NAME python_${t}
             COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/python/test_${t}.py)
    set_tests_properties(python_${t} PROPERTIES
      SKIP_RETURN_CODE 77
      ENVIRONMENT "${ETPU_PY_ENV}")
  endforeach()
else()
  add_test(NAME python_skipped
           COMMAND sh -c "echo 'etpu: Python tests skipped: the package was not built (ETPU_PYTHON OFF, or python3-dev / python3-numpy missing)'; exit 77")
  set_tests_properties(python_skipped PROPERTIES SKIP_RETURN_CODE 77)
endif()
