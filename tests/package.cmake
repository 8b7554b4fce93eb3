# The Edge TPU package reader (src/model/package.c): Google's compiled models
# of the shared data and hand-assembled packages (tests/test_package.c).
add_executable(test_package test_package.c)
target_link_libraries(test_package PRIVATE etpu_testutil)
add_test(NAME package_reader COMMAND test_package)
set_tests_properties(package_reader PROPERTIES SKIP_RETURN_CODE 77)
