# Requirement 1 of the foundation issue: every model under ../shared/data
# opens and verifies, and `etpu inspect --json` agrees with an independent
# oracle — Debian's flatc reading the same file with TensorFlow Lite's schema
# (tests/inspect_models.py). Plus the CLI's handling of bad input
# (tests/cli_errors.py). Both scripts use the Python standard library only.
# Exit 77 = skipped (no shared data or no flatc), unless
# ETPU_REQUIRE_SHARED_DATA=1, when they fail instead.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME inspect_shared_models
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/inspect_models.py
      --etpu ${ETPU_RUN_etpu}
      --shared ${ETPU_SHARED_DATA}
      --schema ${ETPU_SHARED_DATA}/schema/schema_for_debian_flatc.fbs)
  set_tests_properties(inspect_shared_models PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)

  add_test(NAME cli_errors
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/cli_errors.py
      --etpu ${ETPU_RUN_etpu}
      --shared ${ETPU_SHARED_DATA})
  set_tests_properties(cli_errors PROPERTIES TIMEOUT 300)
else()
  message(WARNING "Python 3 not found: tests inspect_shared_models and cli_errors are not registered")
endif()
