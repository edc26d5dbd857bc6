# Copies libgsms into a prefix, with a CMake package and a pkg-config file:
#
#   cargo build --release
#   cmake -DGSMS_PREFIX=/opt/gsms -P cmake/gsmsInstall.cmake
#
# Options: -DGSMS_PROFILE=debug (default release), -DGSMS_LIBRARY_DIR=<dir> (e.g. a
# cross-compiled target/<triple>/release). Result:
#   <prefix>/include/gsms.h, gsms.hpp
#   <prefix>/lib/libgsms.{so,a,dylib} | gsms.dll.lib, gsms.lib   (gsms.dll goes to <prefix>/bin)
#   <prefix>/lib/cmake/gsms/gsmsConfig.cmake, gsmsConfigVersion.cmake, gsms-version.txt
#   <prefix>/lib/pkgconfig/gsms.pc
# Then: cmake -DCMAKE_PREFIX_PATH=<prefix> ...  or  PKG_CONFIG_PATH=<prefix>/lib/pkgconfig.

cmake_minimum_required(VERSION 3.14)

if(NOT GSMS_PREFIX)
  message(FATAL_ERROR "usage: cmake -DGSMS_PREFIX=<prefix> [-DGSMS_PROFILE=release|debug] -P cmake/gsmsInstall.cmake")
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

file(GLOB _libs LIST_DIRECTORIES false
  "${_libdir}/libgsms.so" "${_libdir}/libgsms.a" "${_libdir}/libgsms.dylib"
  "${_libdir}/gsms.dll.lib" "${_libdir}/gsms.lib")
file(GLOB _dlls LIST_DIRECTORIES false "${_libdir}/gsms.dll" "${_libdir}/gsms.pdb")
if(NOT _libs)
  message(FATAL_ERROR "no libgsms in ${_libdir}: run `cargo build --${GSMS_PROFILE}` first (or set GSMS_LIBRARY_DIR)")
endif()

file(STRINGS "${_root}/Cargo.toml" _v REGEX "^version *= *\"[^\"]+\"" LIMIT_COUNT 1)
string(REGEX REPLACE "^version *= *\"([^\"]+)\".*" "\\1" GSMS_VERSION "${_v}")

file(INSTALL "${_root}/include/gsms.h" "${_root}/bindings/cpp/gsms.hpp" DESTINATION "${_prefix}/include")
file(INSTALL ${_libs} DESTINATION "${_prefix}/lib")
if(_dlls)
  file(INSTALL ${_dlls} DESTINATION "${_prefix}/bin")
endif()
file(INSTALL "${_root}/cmake/gsmsConfig.cmake" "${_root}/cmake/gsmsConfigVersion.cmake"
  DESTINATION "${_prefix}/lib/cmake/gsms")
file(WRITE "${_prefix}/lib/cmake/gsms/gsms-version.txt" "${GSMS_VERSION}\n")
set(GSMS_PREFIX "${_prefix}")
configure_file("${_root}/pkgconfig/gsms.pc.in" "${_prefix}/lib/pkgconfig/gsms.pc" @ONLY)
message(STATUS "Installed gsms ${GSMS_VERSION} from ${_libdir} into ${_prefix}")
