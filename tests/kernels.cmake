# Kernels: requantization primitives and the int8 reference kernels, checked
# against the tflite-ref goldens (TensorFlow Lite Micro) in shared data.
add_executable(test_kernels_ref test_kernels_ref.c)
target_link_libraries(test_kernels_ref PRIVATE etpu_testutil)
add_test(NAME kernels_ref COMMAND test_kernels_ref)
set_tests_properties(kernels_ref PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
