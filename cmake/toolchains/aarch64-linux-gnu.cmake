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
# the same (tests/CMakeLists.txt, ETPU_RUN_<program>). qemu's `-cpu max`
# exposes the dot-product extension, so the neondot kernels run too.
set(ETPU_CROSS_PROCESSOR aarch64)
set(ETPU_CROSS_TRIPLET aarch64-linux-gnu)
set(ETPU_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake.inc)
