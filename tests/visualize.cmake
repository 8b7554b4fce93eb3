# etpu visualize (issue 15): the HTML page and the command
# (tests/visualize_html.py: well formed, no network, every op drawn where
# etpu compile puts it, deterministic, the exit-code table), and the page in
# headless Chromium (tests/visualize_browser.py, below).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME visualize_html
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/visualize_html.py
      --etpu $<TARGET_FILE:etpu> --shared ${ETPU_SHARED_DATA})
  set_tests_properties(visualize_html PROPERTIES TIMEOUT 300)
else()
  message(WARNING "Python 3 not found: test visualize_html is not registered")
endif()
