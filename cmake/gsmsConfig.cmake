# CMake package for libgsms: find_package(gsms) gives the imported target gsms::gsms.
#
#   find_package(gsms REQUIRED)
#   target_link_libraries(my_game PRIVATE gsms::gsms)
#
# Works in two layouts, detected from where this file is:
# - the source tree: <repo>/cmake/gsmsConfig.cmake. Configure with -DCMAKE_PREFIX_PATH=<repo>/cmake
#   (or -Dgsms_DIR=<repo>/cmake). Libraries come from <repo>/target/<profile>, where <profile> is
#   GSMS_PROFILE (release or debug) when set, else the first of release, debug holding a library.
#   GSMS_LIBRARY_DIR overrides the directory (e.g. target/x86_64-pc-windows-msvc/release).
# - an installed prefix made by `cmake -DGSMS_PREFIX=<prefix> -P <repo>/cmake/gsmsInstall.cmake`:
#   <prefix>/lib/cmake/gsms/gsmsConfig.cmake, headers in <prefix>/include, libraries in <prefix>/lib.
#
# Targets:
#   gsms::gsms_shared  the shared library (libgsms.so / libgsms.dylib / gsms.dll with its import
#                      library)
#   gsms::gsms_static  the static library and the system libraries it needs
#   gsms::gsms         gsms_shared, or gsms_static when GSMS_USE_STATIC_LIBS is ON (or when only
#                      the static library exists)
# Every target puts include/gsms.h and the C++ layer gsms.hpp on the include path, and requires
# C++17 of C++ code that links it (compile feature cxx_std_17: CMake raises the standard, or says
# the compiler cannot); C code is unaffected. GSMS_INCLUDE_DIRS, GSMS_LIBRARY and gsms_VERSION
# are set as well.
#
# Windows file names. Source tree: cargo's names (MSVC target: gsms.dll, import library
# gsms.dll.lib, static gsms.lib; GNU target: gsms.dll, libgsms.dll.a, libgsms.a). Installed
# prefix and the SDK archives: bin/gsms.dll; lib/gsms.lib, the import library for MSVC;
# lib/libgsms.dll.a and lib/libgsms.a for MinGW; lib/gsms_static.lib when built with MSVC.

cmake_minimum_required(VERSION 3.14)

if(TARGET gsms::gsms)
  return()
endif()

get_filename_component(_gsms_here "${CMAKE_CURRENT_LIST_DIR}" REALPATH)

if(EXISTS "${_gsms_here}/../include/gsms.h" AND EXISTS "${_gsms_here}/../Cargo.toml")
  # Source tree.
  get_filename_component(_gsms_root "${_gsms_here}/.." REALPATH)
  set(_gsms_include_dirs "${_gsms_root}/include" "${_gsms_root}/bindings/cpp")
  if(GSMS_LIBRARY_DIR)
    set(_gsms_lib_dirs "${GSMS_LIBRARY_DIR}")
  elseif(GSMS_PROFILE)
    set(_gsms_lib_dirs "${_gsms_root}/target/${GSMS_PROFILE}")
  else()
    set(_gsms_lib_dirs "${_gsms_root}/target/release" "${_gsms_root}/target/debug")
  endif()
else()
  # Installed prefix: <prefix>/lib/cmake/gsms.
  get_filename_component(_gsms_prefix "${_gsms_here}/../../.." REALPATH)
  set(_gsms_include_dirs "${_gsms_prefix}/include")
  set(_gsms_lib_dirs "${_gsms_prefix}/lib")
  if(GSMS_LIBRARY_DIR)
    set(_gsms_lib_dirs "${GSMS_LIBRARY_DIR}")
  endif()
endif()

if(WIN32)
  set(_gsms_shared_name "gsms.dll")
  if(MINGW)
    set(_gsms_implib_name "libgsms.dll.a")
    set(_gsms_static_name "libgsms.a")
  elseif(_gsms_prefix)
    set(_gsms_implib_name "gsms.lib")
    set(_gsms_static_name "gsms_static.lib")
  else()
    set(_gsms_implib_name "gsms.dll.lib")
    set(_gsms_static_name "gsms.lib")
  endif()
elseif(APPLE)
  set(_gsms_shared_name "libgsms.dylib")
  set(_gsms_static_name "libgsms.a")
else()
  set(_gsms_shared_name "libgsms.so")
  set(_gsms_static_name "libgsms.a")
endif()

# The first directory holding any library wins, so release and debug are never mixed.
set(_gsms_dir "")
foreach(_d IN LISTS _gsms_lib_dirs)
  if(EXISTS "${_d}/${_gsms_shared_name}" OR EXISTS "${_d}/${_gsms_static_name}"
     OR (WIN32 AND EXISTS "${_d}/${_gsms_implib_name}"))
    set(_gsms_dir "${_d}")
    break()
  endif()
endforeach()

if(_gsms_dir STREQUAL "")
  set(gsms_FOUND FALSE)
  set(gsms_NOT_FOUND_MESSAGE
      "libgsms not built: no ${_gsms_shared_name} or ${_gsms_static_name} in ${_gsms_lib_dirs} (run `cargo build` or `cargo build --release`, or set GSMS_LIBRARY_DIR)")
  return()
endif()

set(GSMS_INCLUDE_DIRS ${_gsms_include_dirs})

set(_gsms_shared_path "${_gsms_dir}/${_gsms_shared_name}")
if(WIN32 AND NOT EXISTS "${_gsms_shared_path}" AND EXISTS "${_gsms_dir}/../bin/${_gsms_shared_name}")
  get_filename_component(_gsms_shared_path "${_gsms_dir}/../bin/${_gsms_shared_name}" REALPATH)  # installed prefix
endif()
if(EXISTS "${_gsms_shared_path}")
  add_library(gsms::gsms_shared SHARED IMPORTED)
  set_target_properties(gsms::gsms_shared PROPERTIES
    IMPORTED_LOCATION "${_gsms_shared_path}"
    INTERFACE_INCLUDE_DIRECTORIES "${_gsms_include_dirs}"
    INTERFACE_COMPILE_FEATURES cxx_std_17)
  if(WIN32)
    set_target_properties(gsms::gsms_shared PROPERTIES IMPORTED_IMPLIB "${_gsms_dir}/${_gsms_implib_name}")
  elseif(NOT APPLE)
    # cargo's cdylib has no SONAME: link as -lgsms so the executable records "libgsms.so",
    # found through its RPATH (CMake adds the directory for the build tree) or LD_LIBRARY_PATH.
    set_target_properties(gsms::gsms_shared PROPERTIES IMPORTED_NO_SONAME TRUE)
  endif()
endif()

if(EXISTS "${_gsms_dir}/${_gsms_static_name}")
  add_library(gsms::gsms_static STATIC IMPORTED)
  set_target_properties(gsms::gsms_static PROPERTIES
    IMPORTED_LOCATION "${_gsms_dir}/${_gsms_static_name}"
    INTERFACE_INCLUDE_DIRECTORIES "${_gsms_include_dirs}"
    INTERFACE_COMPILE_FEATURES cxx_std_17)
  # What a Rust staticlib needs from the system (`rustc --print native-static-libs`).
  if(WIN32)
    set(_gsms_sys ws2_32 bcrypt advapi32 kernel32 ntdll userenv dbghelp)
  elseif(APPLE)
    set(_gsms_sys iconv System c m)
  else()
    find_package(Threads REQUIRED)
    set(_gsms_sys Threads::Threads ${CMAKE_DL_LIBS} gcc_s util rt m)
  endif()
  set_target_properties(gsms::gsms_static PROPERTIES INTERFACE_LINK_LIBRARIES "${_gsms_sys}")
endif()

if(GSMS_USE_STATIC_LIBS AND TARGET gsms::gsms_static)
  set(_gsms_pick gsms::gsms_static)
elseif(TARGET gsms::gsms_shared)
  set(_gsms_pick gsms::gsms_shared)
else()
  set(_gsms_pick gsms::gsms_static)
endif()
add_library(gsms::gsms INTERFACE IMPORTED)
set_target_properties(gsms::gsms PROPERTIES INTERFACE_LINK_LIBRARIES "${_gsms_pick}")
get_target_property(GSMS_LIBRARY ${_gsms_pick} IMPORTED_LOCATION)

if(NOT gsms_FIND_QUIETLY)
  message(STATUS "Found gsms ${gsms_VERSION}: ${GSMS_LIBRARY}")
endif()
set(gsms_FOUND TRUE)

unset(_gsms_here)
unset(_gsms_root)
unset(_gsms_prefix)
unset(_gsms_dir)
unset(_gsms_lib_dirs)
unset(_gsms_include_dirs)
unset(_gsms_pick)
unset(_gsms_sys)
unset(_gsms_shared_path)
