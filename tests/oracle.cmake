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

find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME oracle_litert
    COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/oracle_litert.py
      --driver $<TARGET_FILE:oracle_driver>
      --etpu $<TARGET_FILE:etpu>
      --oracle ${CMAKE_SOURCE_DIR}/tools/oracle
      --shared ${ETPU_SHARED_DATA}
      --work ${CMAKE_CURRENT_BINARY_DIR}/oracle_litert
      ${ETPU_ORACLE_ARGS})
  set_tests_properties(oracle_litert PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 2700)
else()
  message(WARNING "Python 3 not found: test oracle_litert is not registered")
endif()
