# The escaper for strings from untrusted files (src/base/text.h).
add_executable(test_text test_text.c)
target_link_libraries(test_text PRIVATE etpu_testutil)
add_test(NAME text_escape COMMAND test_text)
