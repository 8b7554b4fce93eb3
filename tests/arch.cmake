# Byte equality across architectures (issue 19): tests/arch_digests.py writes
# the SHA-256 of what `etpu inspect/compile/run/quantize/imprint` give on the
# shared models to arch_digests.txt in the build folder; with
# -DETPU_DIGEST_REFERENCE=FILE (another build's arch_digests.txt: .ci/run
# passes x86-64's to the aarch64 and armhf builds) every digest must equal it.
set(ETPU_DIGEST_REFERENCE "" CACHE FILEPATH "arch_digests.txt of another build that this build's must equal")
if(Python3_Interpreter_FOUND)
  set(ETPU_DIGEST_ARGS --etpu ${ETPU_RUN_etpu} --shared ${ETPU_SHARED_DATA} -o ${CMAKE_BINARY_DIR}/arch_digests.txt)
  if(ETPU_DIGEST_REFERENCE)
    list(APPEND ETPU_DIGEST_ARGS --reference ${ETPU_DIGEST_REFERENCE})
  endif()
  add_test(NAME arch_digests COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/arch_digests.py ${ETPU_DIGEST_ARGS})
  set_tests_properties(arch_digests PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)
else()
  message(WARNING "Python 3 not found: test arch_digests is not registered")
endif()
