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

# The ops of issue #16 item 13 (TILE, MIRROR_PAD, ABS, POW, FLOOR_MOD, SHAPE,
# SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, Convolution2DTransposeBias, MUL
# saturation, RESIZE_BILINEAR across quantizations) against hand-computed
# values, and traffic_model / legacy DeepLab with the shared data.
add_executable(test_new_ops test_new_ops.c)
target_link_libraries(test_new_ops PRIVATE etpu_testutil)
add_test(NAME new_ops COMMAND test_new_ops)
set_tests_properties(new_ops PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
