# Input normalization from TensorFlow Lite metadata (src/model/metadata.c):
# the shared models' values and hostile metadata buffers (test_metadata.c;
# the hostile part runs without shared data), and the CLI default of
# quantize and run (metadata_cli.py). Exit 77 = skipped (no shared data)
# unless ETPU_REQUIRE_SHARED_DATA=1.
add_executable(test_metadata test_metadata.c)
target_link_libraries(test_metadata PRIVATE etpu_testutil)
add_test(NAME metadata_normalization COMMAND test_metadata)
set_tests_properties(metadata_normalization PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)

find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME metadata_cli
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/metadata_cli.py
      --etpu ${ETPU_RUN_etpu}
      --shared ${ETPU_SHARED_DATA})
  set_tests_properties(metadata_cli PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
else()
  message(WARNING "Python 3 not found: test metadata_cli is not registered")
endif()
