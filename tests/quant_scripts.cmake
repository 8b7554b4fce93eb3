# `etpu quantize` from the outside (Python standard library only; exit 77 =
# skipped without ../shared/data unless ETPU_REQUIRE_SHARED_DATA=1):
#   quant_cli       errors name the file and the rule, atomic output, input
#                   model untouched, byte-identical output twice (seconds)
#   quant_accuracy  issue 6 requirement 3: etpu-quantized MobileNet v1 0.25
#                   (128, 224; --gptq --bias-correct) agree with float top-1
#                   at least as often as Google's quantized releases on 24
#                   photos; quantized
#                   DeepLab v3 keeps > 95% of the float mask (about 20 s in
#                   Release, under 2 minutes under ASan+UBSan, so it runs
#                   there too: the quantizer's rules on real models)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME quant_cli
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/quant_cli.py
      --etpu ${ETPU_RUN_etpu} --shared ${ETPU_SHARED_DATA})
  set_tests_properties(quant_cli PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
  add_test(NAME quant_accuracy
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/quant_accuracy.py
      --etpu ${ETPU_RUN_etpu} --shared ${ETPU_SHARED_DATA})
  set_tests_properties(quant_accuracy PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1500)
else()
  message(WARNING "Python 3 not found: tests quant_cli and quant_accuracy are not registered")
endif()
