# Post-training quantization (src/quant/): etpu's int8 quantizer against
# TensorFlow's on the shared MLPerf Tiny models (skipped without ../shared/data).
add_executable(test_quant test_quant.c)
target_link_libraries(test_quant PRIVATE etpu_testutil)
add_test(NAME quant_models COMMAND test_quant)
set_tests_properties(quant_models PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# The quantizer against the 8-bit spec on TensorFlow's quantizer test models,
# every single-op float model and every float model of shared/data/float.
add_executable(test_quant_spec test_quant_spec.c)
target_link_libraries(test_quant_spec PRIVATE etpu_testutil)
add_test(NAME quant_spec COMMAND test_quant_spec)
set_tests_properties(quant_spec PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
