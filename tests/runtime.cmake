# The interpreter against golden tensors of real TensorFlow Lite runtimes.
add_executable(test_goldens test_goldens.c)
target_link_libraries(test_goldens PRIVATE etpu_testutil)
add_test(NAME goldens_both_profiles COMMAND test_goldens)
set_tests_properties(goldens_both_profiles PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)

# A compiled model runs to the bytes of its source model.
add_executable(test_compiled_run test_compiled_run.c)
target_link_libraries(test_compiled_run PRIVATE etpu_testutil)
add_test(NAME compiled_equals_source COMMAND test_compiled_run)
set_tests_properties(compiled_equals_source PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)
