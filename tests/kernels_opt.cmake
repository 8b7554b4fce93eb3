# Optimized kernels (src/kernels/opt/): each compared bit for bit with its
# scalar reference over random layers, every requantization mode.
add_executable(test_kernels_opt test_kernels_opt.c)
target_link_libraries(test_kernels_opt PRIVATE etpu_testutil)
add_test(NAME kernels_opt COMMAND test_kernels_opt)
