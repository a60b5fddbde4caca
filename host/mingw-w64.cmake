# CMake toolchain for the Windows build: x86_64-w64-mingw32 from Debian's
# gcc-mingw-w64-x86-64. Tests of the result run under Wine (ctest uses the emulator).
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=host/mingw-w64.cmake \
#         -DLUA_SOURCE_DIR=... -DCMOCKA_SOURCE_DIR=...     (build.sh test does this)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
find_program(WINE NAMES wine wine64)
if(WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${WINE})
endif()
