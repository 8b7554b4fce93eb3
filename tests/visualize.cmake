# etpu visualize (issue 15): the HTML page and the command
# (tests/visualize_html.py: well formed, no network, every op drawn where
# etpu compile puts it, deterministic, the exit-code table), and the page in
# headless Chromium (tests/visualize_browser.py, below).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME visualize_html
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/visualize_html.py
      --etpu ${ETPU_RUN_etpu} --shared ${ETPU_SHARED_DATA})
  set_tests_properties(visualize_html PROPERTIES TIMEOUT 300)
else()
  message(WARNING "Python 3 not found: test visualize_html is not registered")
endif()

# The pages of 7 shared models (and a synthetic one of 1,238 ops) in headless Chromium (Debian's chromium,
# driven by playwright-core pinned in tools/browser/package-lock.json; no
# browser download): no console error, every op a node placed as etpu
# compile says, CPU ops marked, the search finds a tensor, a screenshot that
# is not blank (kept in build/tests/visualize_browser/), and the render time
# of each page printed. ctest shows nothing of a skipped test but its name,
# so without node, chromium or `npm ci` in tools/browser the test is
# registered as visualize_browser_SKIPPED_needs_node_chromium_and_npm_ci_in_tools_browser
# (listed under "The following tests did not run"); the glob re-runs at build
# time, so the next build after `npm ci` registers it as visualize_browser.
find_program(ETPU_NODE node)
find_program(ETPU_CHROMIUM NAMES chromium chromium-browser)
file(GLOB ETPU_BROWSER_PACKAGES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/browser/node_modules/playwright-core/package.json)
if(ETPU_NODE AND ETPU_CHROMIUM AND ETPU_BROWSER_PACKAGES)
  set(ETPU_BROWSER_TEST visualize_browser)
else()
  set(ETPU_BROWSER_TEST visualize_browser_SKIPPED_needs_node_chromium_and_npm_ci_in_tools_browser)
  message(STATUS "visualize_browser will be skipped: it needs Node.js, Debian's chromium (apt-get install nodejs "
                 "npm chromium) and `npm ci` in tools/browser")
endif()
if(Python3_Interpreter_FOUND)
  set(ETPU_BROWSER_ARGS --etpu ${ETPU_RUN_etpu} --shared ${ETPU_SHARED_DATA}
    --work ${CMAKE_CURRENT_BINARY_DIR}/visualize_browser --make-large $<TARGET_FILE:test_visualize>)
  if(ETPU_NODE)
    list(APPEND ETPU_BROWSER_ARGS --node ${ETPU_NODE})
  endif()
  if(ETPU_CHROMIUM)
    list(APPEND ETPU_BROWSER_ARGS --chromium ${ETPU_CHROMIUM})
  endif()
  add_test(NAME ${ETPU_BROWSER_TEST}
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/visualize_browser.py ${ETPU_BROWSER_ARGS})
  set_tests_properties(${ETPU_BROWSER_TEST} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
endif()

# The library function on models made in the test (tests/test_visualize.c, no
# shared data): argument errors, a 1,238-op model, its etpu-compiled form,
# broken payloads, broken appended ZIPs, every allocation failing.
add_executable(test_visualize test_visualize.c)
target_link_libraries(test_visualize PRIVATE etpu_testutil)
add_test(NAME visualize_lib COMMAND test_visualize)
set_tests_properties(visualize_lib PROPERTIES TIMEOUT 300)
