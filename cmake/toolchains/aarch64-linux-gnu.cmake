# aarch64-linux-gnu.cmake — cross-builds etpu for 64-bit ARM Linux (Raspberry
# Pi OS 64-bit, the Coral Dev Board) with Debian's cross compiler, and runs
# the tests under qemu-user. Debian 12 packages it needs:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
#     libpng-dev:arm64 libjpeg62-turbo-dev:arm64
# Use: cmake -B build-aarch64 -G Ninja \
#        -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# ctest then runs every test program through CMAKE_CROSSCOMPILING_EMULATOR;
# the Python-driven tests reach the programs through wrapper scripts that do
# the same (tests/CMakeLists.txt, etpu_test_program). qemu's `-cpu max`
# exposes the dot-product extension, so the neondot kernels run too.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Multiarch: the target's libraries (libpng, libjpeg) live under
# /usr/lib/aarch64-linux-gnu and their headers under /usr/include.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# No `-L /usr/<triplet>`: the programs load the multiarch C library
# (libc6:arm64, which libpng-dev:arm64 brings) through /lib's dynamic loader;
# mixing the cross package's loader with it makes pthread_create hang or crash
# under qemu 7.2.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-cpu;max)
