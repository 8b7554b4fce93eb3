# The interpreter's CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED /
# TRANSPOSE_CONV glue on single-op models built in memory (no shared data).
add_executable(test_conv_ops test_conv_ops.c)
target_link_libraries(test_conv_ops PRIVATE etpu_testutil)
add_test(NAME conv_ops COMMAND test_conv_ops)
