# On-device learning (src/learn/): softmax regression and weight imprinting.
# learn_math needs nothing; learn_models uses the shared mobilenet embedding
# extractor (skipped when ../shared/data is absent).
add_executable(test_learn test_learn.c)
target_link_libraries(test_learn PRIVATE etpu_testutil)
add_test(NAME learn_math COMMAND test_learn math)
add_test(NAME learn_models COMMAND test_learn models)
set_tests_properties(learn_models PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
