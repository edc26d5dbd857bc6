# Version check for find_package(gsms <version>): the package version is the crate version
# (Cargo.toml in the source tree; gsms-version.txt next to this file in an installed prefix).
# Compatible when the major matches and the version is at least the one asked for; while the
# major is 0, the minor must match too (Cargo's rule).

set(PACKAGE_VERSION "")
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/../Cargo.toml")
  file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/../Cargo.toml" _gsms_v REGEX "^version *= *\"[^\"]+\"" LIMIT_COUNT 1)
  string(REGEX REPLACE "^version *= *\"([^\"]+)\".*" "\\1" PACKAGE_VERSION "${_gsms_v}")
elseif(EXISTS "${CMAKE_CURRENT_LIST_DIR}/gsms-version.txt")
  file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/gsms-version.txt" PACKAGE_VERSION LIMIT_COUNT 1)
endif()
unset(_gsms_v)

if(PACKAGE_VERSION STREQUAL "")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
  return()
endif()

set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(NOT PACKAGE_FIND_VERSION OR PACKAGE_FIND_VERSION STREQUAL "")
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
elseif(PACKAGE_VERSION VERSION_GREATER_EQUAL PACKAGE_FIND_VERSION)
  string(REGEX MATCH "^[0-9]+" _gsms_have_major "${PACKAGE_VERSION}")
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" _gsms_have_mm "${PACKAGE_VERSION}")
  if(_gsms_have_major STREQUAL PACKAGE_FIND_VERSION_MAJOR)
    if(NOT _gsms_have_major STREQUAL "0" OR PACKAGE_FIND_VERSION_COUNT LESS 2
       OR _gsms_have_mm STREQUAL "${PACKAGE_FIND_VERSION_MAJOR}.${PACKAGE_FIND_VERSION_MINOR}")
      set(PACKAGE_VERSION_COMPATIBLE TRUE)
    endif()
  endif()
endif()
if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
unset(_gsms_have_major)
unset(_gsms_have_mm)
