# The Python package's tests (tests/python/), run by /usr/bin/python3 -m
# pytest against the built package (build/python) when ETPU_PYTHON built it;
# otherwise one test says why they are skipped.
set(ETPU_PY_TESTS interpreter pycoral_style parity)
if(ETPU_PYTHON_BUILT)
  foreach(t ${ETPU_PY_TESTS})
    add_test(NAME python_${t}
             COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/python/test_${t}.py)
    set_tests_properties(python_${t} PROPERTIES
      SKIP_RETURN_CODE 77
      ENVIRONMENT "PYTHONPATH=${CMAKE_BINARY_DIR}/python;ETPU_CLI=$<TARGET_FILE:etpu>;ETPU_SHARED_DATA=${ETPU_SHARED_DATA}")
  endforeach()
else()
  add_test(NAME python_skipped
           COMMAND sh -c "echo 'etpu: Python tests skipped: the package was not built (ETPU_PYTHON OFF, or python3-dev / python3-numpy missing)'; exit 77")
  set_tests_properties(python_skipped PROPERTIES SKIP_RETURN_CODE 77)
endif()
