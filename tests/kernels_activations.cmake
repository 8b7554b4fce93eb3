# Activation, resize, LSTM and custom-op kernels: fixed-point functions, edge
# values, and every such op of the golden sets run alone (shared data).
add_executable(test_kernels_activations test_kernels_activations.c)
target_link_libraries(test_kernels_activations PRIVATE etpu_testutil)
add_test(NAME kernels_activations COMMAND test_kernels_activations)
set_tests_properties(kernels_activations PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
