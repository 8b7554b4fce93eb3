# etpu compile: the real compiled pairs, and the rules on synthetic models.
add_executable(test_compile_pairs test_compile_pairs.c)
target_link_libraries(test_compile_pairs PRIVATE etpu_testutil)
add_test(NAME compile_real_pairs COMMAND test_compile_pairs)
set_tests_properties(compile_real_pairs PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
