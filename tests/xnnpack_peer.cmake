# Issue 12 item 4: a second, native, bit-exact oracle for `--profile litert`.
# bench_xnnpack --check builds each shared model (Coral's MobileNets v1 and
# v2, mnv2_int8io up to its int8 SOFTMAX, DeepLab v3's MobileNet v2 backbone
# up to its resize, micro_speech up to its int8 SOFTMAX) from Debian's
# XNNPACK operators and asserts that every op output XNNPACK computes equals
# etpu's litert bytes (8-bit pooling aside: LiteRT runs it in TFLite's
# builtin kernel), on photos and seeded random inputs, with 1 and 2 threads;
# and that each model builds at least as many ops as it does today
# (bench/bench_xnnpack.c, default_models). No timing. Without
# libxnnpack-dev / libpthreadpool-dev it exits 77 (skipped), but fails when
# CI=true; without the shared data likewise, failing when
# ETPU_REQUIRE_SHARED_DATA=1.
include(${CMAKE_SOURCE_DIR}/bench/xnnpack.cmake)
set(ETPU_PEER_IMAGES cat.bmp bird.bmp grace_hopper.bmp dragonfly.bmp)
set(ETPU_PEER_RANDOM 2)
if(ETPU_SANITIZE) # memory errors, not arithmetic: fewer inputs through the slow instrumented kernels
  set(ETPU_PEER_IMAGES cat.bmp)
  set(ETPU_PEER_RANDOM 1)
endif()
set(ETPU_PEER_ARGS --check --random ${ETPU_PEER_RANDOM})
foreach(img ${ETPU_PEER_IMAGES})
  list(APPEND ETPU_PEER_ARGS --image ${ETPU_SHARED_DATA}/coral/${img})
endforeach()
if(CMAKE_CROSSCOMPILING)
  # The peer is Debian's x86-64 XNNPACK build, compared on the host; a cross
  # build's bytes are compared with the host's by tests/arch_digests.py.
  add_test(NAME xnnpack_peer COMMAND sh -c
    "echo 'xnnpack_peer: skipped: cross build (${CMAKE_SYSTEM_PROCESSOR}): the XNNPACK peer runs on the x86-64 host only'; exit 77")
elseif(ETPU_HAVE_XNNPACK)
  add_test(NAME xnnpack_peer COMMAND bench_xnnpack ${ETPU_PEER_ARGS})
else()
  add_test(NAME xnnpack_peer COMMAND sh -c
    "echo 'xnnpack_peer: skipped: libxnnpack-dev and libpthreadpool-dev are not installed (bench_xnnpack not built)'; if [ \"$CI\" = true ]; then exit 1; fi; exit 77")
endif()
set_tests_properties(xnnpack_peer PROPERTIES SKIP_RETURN_CODE 77 LABELS peer TIMEOUT 1800)
