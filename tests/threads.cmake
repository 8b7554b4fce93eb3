# The thread pool and byte equality of every tensor across thread counts
# (1, 2, 3, 4) on the shared Coral models. CI also runs it under
# ThreadSanitizer (.ci/run).
add_executable(test_threads test_threads.c)
target_link_libraries(test_threads PRIVATE etpu_testutil)
add_test(NAME threads COMMAND test_threads)
set_tests_properties(threads PROPERTIES SKIP_RETURN_CODE 77)
