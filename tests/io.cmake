# The io stage (src/io/): image decoding, resize, input conversion, .npy,
# labels, corrupt files; and `etpu run` driven from Python.
add_executable(test_io test_io.c)
target_link_libraries(test_io PRIVATE etpu_testutil)
add_test(NAME io COMMAND test_io)
set_tests_properties(io PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

