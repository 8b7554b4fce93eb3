# The shared library's exported symbols are exactly etpu.h's functions.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME abi_symbols
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/abi_symbols.py $<TARGET_FILE:etpu_shared>
                   ${CMAKE_SOURCE_DIR}/include/etpu/etpu.h)
endif()
