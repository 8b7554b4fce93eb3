# etpu compile: the real compiled pairs, and the rules on synthetic models.
add_executable(test_compile_pairs test_compile_pairs.c)
target_link_libraries(test_compile_pairs PRIVATE etpu_testutil)
add_test(NAME compile_real_pairs COMMAND test_compile_pairs)
set_tests_properties(compile_real_pairs PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# The rules of Table 1 and the partitioner on synthetic models (no shared data).
add_executable(test_compile_rules test_compile_rules.c)
target_link_libraries(test_compile_rules PRIVATE etpu_testutil)
add_test(NAME compile_rules COMMAND test_compile_rules)
set_tests_properties(compile_rules PROPERTIES TIMEOUT 120)

# etpu compile as scripts see it: console lines log parsers read, -s table,
# .log layout, flag spellings, -n names, co-compilation, and errors that must
# write nothing (tests/compile_cli.py, Python standard library only). Exit 77
# = skipped (no shared data) unless ETPU_REQUIRE_SHARED_DATA=1.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME compile_cli
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/compile_cli.py
      --etpu ${ETPU_RUN_etpu}
      --shared ${ETPU_SHARED_DATA})
  set_tests_properties(compile_cli PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
else()
  message(WARNING "Python 3 not found: test compile_cli is not registered")
endif()

# --target: the Edge TPU latency estimate against Coral's published figures
# and Google's cycle counts, the Dev Board Micro verdict against TFLite
# Micro's own (goldens/tflm/arena.json), synthetic models for each message.
add_executable(test_target test_target.c)
target_link_libraries(test_target PRIVATE etpu_testutil)
add_test(NAME target COMMAND test_target)
set_tests_properties(target PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
