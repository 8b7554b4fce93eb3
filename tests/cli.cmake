# One command-line style across the subcommands: --help, exit codes, flag
# forms, --json documents (tests/cli_consistency.py; no shared data).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME cli_consistency
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/cli_consistency.py --etpu ${ETPU_RUN_etpu}
      --helper ${ETPU_RUN_hostile_names})
  set_tests_properties(cli_consistency PROPERTIES TIMEOUT 300)
else()
  message(WARNING "Python 3 not found: test cli_consistency is not registered")
endif()

# The README names every subcommand and only paths that exist, links nowhere
# outside the repository, and its first command leaves the clone clean
# (tests/readme_check.py).
if(Python3_Interpreter_FOUND)
  add_test(NAME readme_check
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/readme_check.py
      --source ${CMAKE_SOURCE_DIR} --etpu ${ETPU_RUN_etpu})
endif()
