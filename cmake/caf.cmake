# Debian's libcaf-dev (CAF 0.17.6) ships no CMake package config: find the headers and the
# core/io/openssl libraries ourselves and wrap them in imported targets caf::core, caf::io and
# caf::openssl. Used twice: the top-level CMakeLists.txt includes it (and stops when CAF_FOUND is
# false), and `cmake --install` ships it as lib/cmake/Ember/FindCAF.cmake, where EmberConfig.cmake's
# find_dependency(CAF) runs it for applications (it then honours QUIET/REQUIRED as find modules do).
# caf::openssl needs OpenSSL::SSL: find OpenSSL first.
find_path(CAF_INCLUDE_DIR caf/all.hpp)
find_library(CAF_CORE_LIBRARY caf_core)
find_library(CAF_IO_LIBRARY caf_io)
find_library(CAF_OPENSSL_LIBRARY caf_openssl)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY CAF_OPENSSL_LIBRARY
  REASON_FAILURE_MESSAGE "CAF 0.17 is Debian's libcaf-dev (apt-get install libcaf-dev)")
mark_as_advanced(CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY CAF_OPENSSL_LIBRARY)

if(CAF_FOUND AND NOT TARGET caf::core)
  add_library(caf::core UNKNOWN IMPORTED)
  set_target_properties(caf::core PROPERTIES IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
                        INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR})
  add_library(caf::io UNKNOWN IMPORTED)
  set_target_properties(caf::io PROPERTIES IMPORTED_LOCATION ${CAF_IO_LIBRARY}
                        INTERFACE_LINK_LIBRARIES caf::core)
  # CAF's TLS transport (mutual TLS of a secured cluster, actors/remoting.cpp).
  add_library(caf::openssl UNKNOWN IMPORTED)
  set_target_properties(caf::openssl PROPERTIES IMPORTED_LOCATION ${CAF_OPENSSL_LIBRARY}
                        INTERFACE_LINK_LIBRARIES "caf::io;OpenSSL::SSL")
endif()
