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
# the same (tests/CMakeLists.txt, etpu_test_program). The C library is
# built with large-file support (CMakeLists.txt), which a 32-bit target needs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# Multiarch: the target's libraries (libpng, libjpeg) live under
# /usr/lib/arm-linux-gnueabihf and their headers under /usr/include.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# No `-L /usr/<triplet>`: the programs load the multiarch C library
# (libc6:armhf, which libpng-dev:armhf brings) through /lib's dynamic loader;
# mixing the cross package's loader with it makes pthread_create hang or crash
# under qemu 7.2.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm;-cpu;max)
