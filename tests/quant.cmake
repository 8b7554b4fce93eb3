# Post-training quantization (src/quant/): etpu's int8 quantizer against
# TensorFlow's on the shared MLPerf Tiny models (skipped without ../shared/data).
add_executable(test_quant test_quant.c)
target_link_libraries(test_quant PRIVATE etpu_testutil)
add_test(NAME quant_models COMMAND test_quant)
set_tests_properties(quant_models PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
