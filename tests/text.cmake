# The escaper for strings from untrusted files (src/base/text.h).
add_executable(test_text test_text.c)
target_link_libraries(test_text PRIVATE etpu_testutil)
add_test(NAME text_escape COMMAND test_text)

# Models, labels and file names holding every byte and ANSI sequences, fed to
# every subcommand that prints (tests/hostile_strings.py; no shared data).
add_executable(hostile_names hostile_names.c)
target_link_libraries(hostile_names PRIVATE etpu_testutil)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME hostile_strings
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/hostile_strings.py
      --etpu ${ETPU_RUN_etpu} --helper ${ETPU_RUN_hostile_names} --shared ${ETPU_SHARED_DATA})
  set_tests_properties(hostile_strings PROPERTIES TIMEOUT 300)
else()
  message(WARNING "Python 3 not found: test hostile_strings is not registered")
endif()
