# Model I/O: round trip over every shared model, and builder/editor unit tests.
add_executable(test_roundtrip test_roundtrip.c)
target_link_libraries(test_roundtrip PRIVATE etpu_testutil)
add_test(NAME roundtrip_shared_models COMMAND test_roundtrip)
set_tests_properties(roundtrip_shared_models PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

add_executable(test_builder test_builder.c)
target_link_libraries(test_builder PRIVATE etpu_testutil)
add_test(NAME builder_and_editor COMMAND test_builder)
