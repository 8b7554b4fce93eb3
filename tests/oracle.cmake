# Issue 5: `--profile litert` checked live against LiteRT itself. For every
# shared quantized model LiteRT.js accepts, tests/oracle_litert.py feeds the
# same inputs (the golden inputs, edge values and seeded random bytes) to
# LiteRT.js 2.5.3 (tools/oracle/litert_run.mjs, Node) and to etpu's
# interpreter with ETPU_PROFILE_LITERT (`etpu run --profile litert` when the
# CLI has it, else oracle_driver, which uses the public API) and compares
# every output byte for byte. Needs Node and `npm ci` in tools/oracle: without
# them it exits 77 (skipped), but fails when CI=true; without the shared data
# likewise, failing when ETPU_REQUIRE_SHARED_DATA=1.
add_executable(oracle_driver oracle_driver.c)
target_link_libraries(oracle_driver PRIVATE etpu_static)

# At least 20 inputs per model (golden, edge, seeded random) plus 4 images
# decoded by etpu. Sanitizer builds look for memory errors, not arithmetic,
# and run the scalar kernels several times slower: 6 inputs and 1 image there.
set(ETPU_ORACLE_ARGS --inputs 20 --min-random 4 --images 4)
if(ETPU_SANITIZE)
  set(ETPU_ORACLE_ARGS --inputs 6 --min-random 1 --images 1)
endif()

# ctest prints nothing of a skipped test but its name (not even with
# --output-on-failure), so the name says when the oracle cannot run here and
# how to enable it: without Node or `npm ci` in tools/oracle the test is
# oracle_litert_SKIPPED_needs_node_and_npm_ci_in_tools_oracle, listed as such
# under "The following tests did not run". The glob re-runs at build time, so
# the next build after `npm ci` registers it as oracle_litert again.
find_program(ETPU_NODE node)
file(GLOB ETPU_ORACLE_PACKAGES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/oracle/node_modules/@litertjs/*)
if(ETPU_NODE AND ETPU_ORACLE_PACKAGES)
  set(ETPU_ORACLE_TEST oracle_litert)
else()
  set(ETPU_ORACLE_TEST oracle_litert_SKIPPED_needs_node_and_npm_ci_in_tools_oracle)
  message(STATUS "oracle_litert will be skipped: it needs Node.js (apt-get install nodejs npm) and "
                 "`npm ci` in tools/oracle")
endif()

find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME ${ETPU_ORACLE_TEST}
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/oracle_litert.py
      --driver ${ETPU_RUN_oracle_driver}
      --etpu ${ETPU_RUN_etpu}
      --oracle ${CMAKE_SOURCE_DIR}/tools/oracle
      --shared ${ETPU_SHARED_DATA}
      --work ${CMAKE_CURRENT_BINARY_DIR}/oracle_litert
      ${ETPU_ORACLE_ARGS})
  set_tests_properties(${ETPU_ORACLE_TEST} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 2700)
else()
  message(WARNING "Python 3 not found: test oracle_litert is not registered")
endif()
