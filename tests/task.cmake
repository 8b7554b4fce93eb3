# Task outputs (src/runtime/task.c): the library's recognition and decoding
# on built models and the shared ones (test_task.c), and `etpu run`'s task
# output and --draw PNGs against the shared references (task_cli.py). Exit
# 77 = skipped (no shared data) unless ETPU_REQUIRE_SHARED_DATA=1.
add_executable(test_task test_task.c)
target_link_libraries(test_task PRIVATE etpu_testutil)
add_test(NAME task_api COMMAND test_task)
set_tests_properties(task_api PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)

find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME task_cli
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/task_cli.py
      --etpu ${ETPU_RUN_etpu} --shared ${ETPU_SHARED_DATA})
  set_tests_properties(task_cli PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
else()
  message(WARNING "Python 3 not found: test task_cli is not registered")
endif()
