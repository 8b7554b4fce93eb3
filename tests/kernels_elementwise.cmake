# Elementwise, pooling, reduction and data-movement kernels (tensor_ops.h):
# plans, exact and bounded comparisons with double-precision formulas,
# hand-computed ties per arithmetic scheme, argument checks. No shared data.
add_executable(test_kernels_elementwise test_kernels_elementwise.c)
target_link_libraries(test_kernels_elementwise PRIVATE etpu_testutil)
add_test(NAME kernels_elementwise COMMAND test_kernels_elementwise)
set_tests_properties(kernels_elementwise PROPERTIES TIMEOUT 300)
