# On-device learning (src/learn/): softmax regression and weight imprinting.
# learn_math needs nothing; learn_models uses the shared mobilenet embedding
# extractor (skipped when ../shared/data is absent).
add_executable(test_learn test_learn.c)
target_link_libraries(test_learn PRIVATE etpu_testutil)
add_test(NAME learn_math COMMAND test_learn math)
add_test(NAME learn_models COMMAND test_learn models)
set_tests_properties(learn_models PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)

# The CLI (tools/etpu/learn.c) on libcoral's imprinting images
# (tests/learn_cli.py): imprint on a --make model and again with
# --keep-classes on its own output, train, compile both outputs and run
# them, byte-identical repeats, and every error path (exit code, one stderr
# line, input unchanged, output written atomically).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME learn_cli
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/learn_cli.py
      --etpu ${ETPU_RUN_etpu} --shared ${ETPU_SHARED_DATA})
  set_tests_properties(learn_cli PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1500)
else()
  message(WARNING "Python 3 not found: test learn_cli is not registered")
endif()
