# Optimized kernels (src/kernels/opt/): each compared bit for bit with its
# scalar reference over random layers, every requantization mode.
add_executable(test_kernels_opt test_kernels_opt.c)
target_link_libraries(test_kernels_opt PRIVATE etpu_testutil)
add_test(NAME kernels_opt COMMAND test_kernels_opt)
# The tester catches a faulty kernel: each level above scalar, with its GEMM
# and depthwise kernels made to drop their last step, must differ from the
# reference (test_kernels_opt --seed-fault; skipped where only scalar runs).
add_test(NAME kernels_opt_seeded_fault COMMAND test_kernels_opt --seed-fault)
set_tests_properties(kernels_opt_seeded_fault PROPERTIES SKIP_RETURN_CODE 77)
