# The interpreter against golden tensors of real TensorFlow Lite runtimes.
add_executable(test_goldens test_goldens.c)
target_link_libraries(test_goldens PRIVATE etpu_testutil)
add_test(NAME goldens_both_profiles COMMAND test_goldens)
set_tests_properties(goldens_both_profiles PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)
