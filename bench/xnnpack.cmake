# Finds Debian's XNNPACK (libxnnpack-dev) and pthreadpool (libpthreadpool-dev)
# for bench_xnnpack, the native peer and second bit-exact oracle of the
# litert profile. Sets ETPU_HAVE_XNNPACK and ETPU_XNNPACK_LIBRARIES. Included
# by tests/xnnpack_peer.cmake and bench/CMakeLists.txt; the find results are
# cached, so the second include only reads them. -DETPU_XNNPACK_PEER=OFF
# leaves the peer out even when the packages are installed.
option(ETPU_XNNPACK_PEER "Build bench_xnnpack and its test when libxnnpack-dev is installed" ON)
find_path(ETPU_XNNPACK_INCLUDE_DIR xnnpack.h)
find_path(ETPU_PTHREADPOOL_INCLUDE_DIR pthreadpool.h)
find_library(ETPU_XNNPACK_LIBRARY XNNPACK)
find_library(ETPU_PTHREADPOOL_LIBRARY pthreadpool)
if(ETPU_XNNPACK_PEER AND ETPU_XNNPACK_INCLUDE_DIR AND ETPU_PTHREADPOOL_INCLUDE_DIR AND ETPU_XNNPACK_LIBRARY
   AND ETPU_PTHREADPOOL_LIBRARY)
  set(ETPU_HAVE_XNNPACK ON)
  set(ETPU_XNNPACK_LIBRARIES ${ETPU_XNNPACK_LIBRARY} ${ETPU_PTHREADPOOL_LIBRARY} m)
else()
  set(ETPU_HAVE_XNNPACK OFF)
  get_property(reported GLOBAL PROPERTY ETPU_XNNPACK_REPORTED)
  if(NOT reported)
    message(STATUS "XNNPACK peer: libxnnpack-dev or libpthreadpool-dev not found (or ETPU_XNNPACK_PEER=OFF): "
                   "bench_xnnpack is not built and the xnnpack_peer test skips")
  endif()
endif()
set_property(GLOBAL PROPERTY ETPU_XNNPACK_REPORTED ON)
