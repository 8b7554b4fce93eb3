# The Edge TPU package reader (src/model/package.c): Google's compiled models
# of the shared data and hand-assembled packages (tests/test_package.c).
add_executable(test_package test_package.c)
target_link_libraries(test_package PRIVATE etpu_testutil)
add_test(NAME package_reader COMMAND test_package)
set_tests_properties(package_reader PROPERTIES SKIP_RETURN_CODE 77)

# The parameter codec (src/compile/params.c): every shared compiled pair
# byte for byte, decode(encode(x)) == x, a wrong pair (tests/test_params.c).
add_executable(test_params test_params.c)
target_link_libraries(test_params PRIVATE etpu_testutil)
add_test(NAME params_codec COMMAND test_params)
set_tests_properties(params_codec PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)

# etpu inspect --source: "all layers equal" for true pairs, the first
# differing layer named for a wrong pair (MobileNet v2's source against the
# inat_bird compiled model). Registered when the shared data is there.
if(EXISTS "${ETPU_SHARED_DATA}/coral")
  set(_c "${ETPU_SHARED_DATA}/coral")
  foreach(pair mobilenet_v1_0.25_128_quant mobilenet_v2_1.0_224_quant mobilenet_edgetpu_0.75_224_post_training_quant
               deeplabv3_mnv2_dm05_pascal_quant posenet/posenet_mobilenet_v1_075_353_481_16_quant_decoder)
    string(REPLACE "/" "_" _n "${pair}")
    add_test(NAME inspect_source_${_n}
      COMMAND etpu inspect ${_c}/${pair}_edgetpu.tflite --source ${_c}/${pair}.tflite)
    set_tests_properties(inspect_source_${_n} PROPERTIES PASS_REGULAR_EXPRESSION "\nall layers equal: ")
  endforeach()
  add_test(NAME inspect_source_wrong_pair
    COMMAND etpu inspect ${_c}/legacy/mobilenet_v2_1.0_224_inat_bird_quant_edgetpu.tflite
      --source ${_c}/mobilenet_v2_1.0_224_quant.tflite)
  set_tests_properties(inspect_source_wrong_pair PROPERTIES
    PASS_REGULAR_EXPRESSION "\nfirst differing layer: layer 0 \\(op 0 CONV_2D\\): weights differ"
    FAIL_REGULAR_EXPRESSION "all layers equal")
endif()
