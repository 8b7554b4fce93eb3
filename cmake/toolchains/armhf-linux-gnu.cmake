# armhf-linux-gnu.cmake — cross-builds etpu for 32-bit ARM Linux (Raspberry Pi
# OS 32-bit, armv7 hard-float) with Debian's cross compiler, and runs
# the tests under qemu-user. Debian 12 packages it needs:
#   dpkg --add-architecture armhf && apt-get update
#   apt-get install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user \
#     libpng-dev:armhf libjpeg62-turbo-dev:armhf
# Use: cmake -B build-armhf -G Ninja \
#        -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/armhf-linux-gnu.cmake
# ctest then runs every test program through CMAKE_CROSSCOMPILING_EMULATOR;
# the Python-driven tests reach the programs through wrapper scripts that do
# the same (tests/CMakeLists.txt, ETPU_RUN_<program>). The C library is
# built with large-file support (CMakeLists.txt), which a 32-bit target needs.
set(ETPU_CROSS_PROCESSOR armv7l)
set(ETPU_CROSS_TRIPLET arm-linux-gnueabihf)
set(ETPU_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake.inc)
