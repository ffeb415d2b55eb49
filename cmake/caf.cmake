# Debian's libcaf-dev (CAF 0.17.6) ships no CMake package config: find the headers and the
# core/io libraries ourselves and wrap them in imported targets caf::core and caf::io.
find_path(CAF_INCLUDE_DIR caf/all.hpp)
find_library(CAF_CORE_LIBRARY caf_core)
find_library(CAF_IO_LIBRARY caf_io)
find_library(CAF_OPENSSL_LIBRARY caf_openssl)
if(NOT CAF_INCLUDE_DIR OR NOT CAF_CORE_LIBRARY OR NOT CAF_IO_LIBRARY OR NOT CAF_OPENSSL_LIBRARY)
  message(FATAL_ERROR "CAF 0.17 not found (headers: ${CAF_INCLUDE_DIR}, caf_core: ${CAF_CORE_LIBRARY}, "
                      "caf_io: ${CAF_IO_LIBRARY}, caf_openssl: ${CAF_OPENSSL_LIBRARY}); run scripts/setup to install libcaf-dev")
endif()
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
