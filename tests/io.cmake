# The io stage (src/io/): image decoding, resize, input conversion, .npy,
# labels, corrupt files; and `etpu run` driven from Python.
add_executable(test_io test_io.c)
target_link_libraries(test_io PRIVATE etpu_testutil)
add_test(NAME io COMMAND test_io)
set_tests_properties(io PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# `etpu run` end to end: outputs, .npy files, labels and every error path,
# on tiny runnable models that `test_io --write-models` builds
# (tests/run_cli.py); and the end-to-end checks of Coral's own tests on the
# shared models (tests/e2e_coral.py), which reports the checks whose models
# etpu cannot run yet and fails only on a wrong answer.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME run_cli
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/run_cli.py
      --etpu ${ETPU_RUN_etpu} --test-io ${ETPU_RUN_test_io} --shared ${ETPU_SHARED_DATA})
  set_tests_properties(run_cli PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
  add_test(NAME e2e_coral
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/e2e_coral.py
      --etpu ${ETPU_RUN_etpu} --shared ${ETPU_SHARED_DATA})
  set_tests_properties(e2e_coral PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1500)
else()
  message(WARNING "Python 3 not found: tests run_cli and e2e_coral are not registered")
endif()
