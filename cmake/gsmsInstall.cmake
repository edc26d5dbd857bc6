# Copies libgsms into a prefix, with a CMake package and a pkg-config file:
#
#   cargo build --release
#   cmake -DGSMS_PREFIX=/opt/gsms -P cmake/gsmsInstall.cmake
#
# Options: -DGSMS_PROFILE=debug (default release), -DGSMS_LIBRARY_DIR=<dir> (e.g. a
# cross-compiled target/<triple>/release), -DGSMS_SYSTEM=Linux|Windows|Darwin (the system the
# libraries are for, which picks the pkg-config link flags; default: this machine's).
# scripts/package.sh makes the SDK archives with this script. Result:
#   <prefix>/include/gsms.h, gsms.hpp
#   <prefix>/lib/libgsms.{so,a,dylib}
#   Windows: <prefix>/bin/gsms.dll; <prefix>/lib/gsms.lib (import library for MSVC; cargo's
#            gsms.dll.lib), gsms_static.lib (cargo's MSVC static gsms.lib), libgsms.dll.a and
#            libgsms.a (MinGW)
#   <prefix>/lib/cmake/gsms/gsmsConfig.cmake, gsmsConfigVersion.cmake, gsms-version.txt
#   <prefix>/lib/pkgconfig/gsms.pc (and gsms-lib.pc, which it requires)
# Then: cmake -DCMAKE_PREFIX_PATH=<prefix> ...  or  PKG_CONFIG_PATH=<prefix>/lib/pkgconfig.

cmake_minimum_required(VERSION 3.14)

if(NOT GSMS_PREFIX)
  message(FATAL_ERROR "usage: cmake -DGSMS_PREFIX=<prefix> [-DGSMS_PROFILE=release|debug] [-DGSMS_LIBRARY_DIR=<dir>] [-DGSMS_SYSTEM=Linux|Windows|Darwin] -P cmake/gsmsInstall.cmake")
endif()
get_filename_component(_root "${CMAKE_CURRENT_LIST_DIR}/.." REALPATH)
get_filename_component(_prefix "${GSMS_PREFIX}" ABSOLUTE)
if(NOT GSMS_PROFILE)
  set(GSMS_PROFILE release)
endif()
if(GSMS_LIBRARY_DIR)
  set(_libdir "${GSMS_LIBRARY_DIR}")
else()
  set(_libdir "${_root}/target/${GSMS_PROFILE}")
endif()
if(NOT GSMS_SYSTEM)
  set(GSMS_SYSTEM "${CMAKE_HOST_SYSTEM_NAME}")
endif()

file(GLOB _libs LIST_DIRECTORIES false
  "${_libdir}/libgsms.so" "${_libdir}/libgsms.a" "${_libdir}/libgsms.dylib" "${_libdir}/libgsms.dll.a")
file(GLOB _dlls LIST_DIRECTORIES false "${_libdir}/gsms.dll" "${_libdir}/gsms.pdb")
set(_msvc_implib "")
set(_msvc_static "")
if(EXISTS "${_libdir}/gsms.dll.lib")
  # cargo's MSVC target: gsms.dll.lib is the import library, gsms.lib the static one.
  set(_msvc_implib "${_libdir}/gsms.dll.lib")
  if(EXISTS "${_libdir}/gsms.lib")
    set(_msvc_static "${_libdir}/gsms.lib")
  endif()
elseif(EXISTS "${_libdir}/gsms.lib")
  # GNU target plus an import library made for MSVC (scripts/platforms.sh).
  set(_msvc_implib "${_libdir}/gsms.lib")
endif()
if(NOT _libs AND NOT _msvc_implib AND NOT _msvc_static)
  message(FATAL_ERROR "no libgsms in ${_libdir}: run `cargo build --${GSMS_PROFILE}` first (or set GSMS_LIBRARY_DIR)")
endif()

file(STRINGS "${_root}/Cargo.toml" _v REGEX "^version *= *\"[^\"]+\"" LIMIT_COUNT 1)
string(REGEX REPLACE "^version *= *\"([^\"]+)\".*" "\\1" GSMS_VERSION "${_v}")

file(INSTALL "${_root}/include/gsms.h" "${_root}/bindings/cpp/gsms.hpp" DESTINATION "${_prefix}/include")
if(_libs)
  file(INSTALL ${_libs} DESTINATION "${_prefix}/lib")
endif()
if(_msvc_implib)
  file(INSTALL "${_msvc_implib}" DESTINATION "${_prefix}/lib" RENAME gsms.lib)
endif()
if(_msvc_static)
  file(INSTALL "${_msvc_static}" DESTINATION "${_prefix}/lib" RENAME gsms_static.lib)
endif()
if(_dlls)
  file(INSTALL ${_dlls} DESTINATION "${_prefix}/bin")
endif()
file(INSTALL "${_root}/cmake/gsmsConfig.cmake" "${_root}/cmake/gsmsConfigVersion.cmake"
  DESTINATION "${_prefix}/lib/cmake/gsms")
file(WRITE "${_prefix}/lib/cmake/gsms/gsms-version.txt" "${GSMS_VERSION}\n")

# pkg-config: `pkg-config --libs gsms` links the shared library, `pkg-config --static --libs gsms`
# the static one. pkg-config cannot drop a flag under --static, only add some, so gsms.pc adds
# -Wl,-Bstatic under --static and requires gsms-lib.pc, whose -lgsms comes after it (a package's
# flags come before those of what it requires) and whose private flags switch back to dynamic
# linking for the system libraries. GNU ld and lld (Linux, MinGW); Apple's ld has no -Bstatic, so
# on macOS --static adds the system libraries only: link lib/libgsms.a by its path there.
if(GSMS_SYSTEM STREQUAL "Windows")
  set(GSMS_PC_STATIC "-Wl,-Bstatic")
  set(GSMS_PC_SYSTEM_LIBS "-Wl,-Bdynamic -lws2_32 -lbcrypt -ladvapi32 -lkernel32 -lntdll -luserenv -ldbghelp")
elseif(GSMS_SYSTEM STREQUAL "Darwin")
  set(GSMS_PC_STATIC "")
  set(GSMS_PC_SYSTEM_LIBS "-liconv -lSystem -lc -lm")
else()
  set(GSMS_PC_STATIC "-Wl,-Bstatic")
  set(GSMS_PC_SYSTEM_LIBS "-Wl,-Bdynamic -lgcc_s -lutil -lrt -lpthread -lm -ldl")
endif()
configure_file("${_root}/pkgconfig/gsms.pc.in" "${_prefix}/lib/pkgconfig/gsms.pc" @ONLY)
configure_file("${_root}/pkgconfig/gsms-lib.pc.in" "${_prefix}/lib/pkgconfig/gsms-lib.pc" @ONLY)
message(STATUS "Installed gsms ${GSMS_VERSION} (${GSMS_SYSTEM}) from ${_libdir} into ${_prefix}")
