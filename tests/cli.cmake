# One command-line style across the subcommands: --help, exit codes, flag
# forms, --json documents (tests/cli_consistency.py; no shared data).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME cli_consistency
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/cli_consistency.py --etpu $<TARGET_FILE:etpu>
      --helper $<TARGET_FILE:hostile_names>)
  set_tests_properties(cli_consistency PROPERTIES TIMEOUT 300)
else()
  message(WARNING "Python 3 not found: test cli_consistency is not registered")
endif()
