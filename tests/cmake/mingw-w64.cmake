# CMake toolchain for Windows x64 with Debian's mingw-w64 (posix threads), used by
# scripts/test_package.sh to build against the windows-x64 SDK archive and run under wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
# libstdc++, libgcc and winpthreads linked in: the programs need no DLL besides gsms.dll.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
