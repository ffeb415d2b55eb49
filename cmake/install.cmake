# What `cmake --install build --prefix P` puts where, the CMake package (find_package(Ember)), the
# pkg-config file and the Debian package (CPack, scripts/package). docs/getting-started.md is the
# user's side of it.
#
#   P/bin/ember, ember-cluster, ember-chaos      the command and the launchers
#   P/include/ember/ember.hpp                    what applications include, and the headers it needs
#   P/lib/libember_*.a                           the libraries (static)
#   P/lib/cmake/Ember/                           EmberConfig.cmake (+ version, targets, FindCAF.cmake)
#   P/lib/pkgconfig/ember.pc
#   P/libexec/ember/                             the programs `ember chaos` runs (+ a link to ember)
#   P/share/ember/conf/, P/share/ember/fault/    conf templates, the chaos scenarios
#   P/share/doc/ember/                           README, docs/, examples/standalone (the template)

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# -- the public headers --------------------------------------------------------
# <ember/ember.hpp> and everything it includes: the API is template code, so the headers of the
# storage, shuffle and scheduler pieces its operators instantiate are installed too (the public
# API is what ember.hpp declares; the others are its implementation, docs/getting-started.md).
# Nothing here may include CAF, Cap'n Proto or another folder's private header: the integration
# test `integration_install` builds examples/standalone against the install prefix alone and
# fails if one does.
set(ember_public_headers
    api/ember.hpp api/actions.hpp api/broadcast.hpp api/cached.hpp api/context.hpp
    api/context_impl.hpp api/dataset.hpp api/function.hpp api/narrow.hpp api/node.hpp
    api/task.hpp api/wide.hpp
    scheduler/lineage.hpp scheduler/map_output_registry.hpp
    shuffle/external.hpp shuffle/frame.hpp shuffle/hash_map.hpp shuffle/partitioned_output.hpp
    shuffle/serialized_sorter.hpp shuffle/shuffle_file.hpp
    storage/block_manager.hpp storage/broadcast.hpp storage/hash.hpp storage/serde.hpp
    storage/storage_level.hpp)

set(public_header_dir ${PROJECT_BINARY_DIR}/public_headers)
set(public_header_inputs)
set(public_header_outputs)
foreach(header IN LISTS ember_public_headers)
  list(APPEND public_header_inputs ${PROJECT_SOURCE_DIR}/${header})
  if(header STREQUAL "api/ember.hpp")
    list(APPEND public_header_outputs ${public_header_dir}/ember/ember.hpp)
  else()
    list(APPEND public_header_outputs ${public_header_dir}/ember/${header})
  endif()
endforeach()
add_custom_command(
  OUTPUT ${public_header_outputs}
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT_DIR=${public_header_dir}
          "-DHEADERS=${ember_public_headers}" -P ${PROJECT_SOURCE_DIR}/cmake/public_headers.cmake
  DEPENDS ${public_header_inputs} ${PROJECT_SOURCE_DIR}/cmake/public_headers.cmake
  COMMENT "Public headers for include/ember/"
  VERBATIM)
add_custom_target(ember_public_headers ALL DEPENDS ${public_header_outputs})
install(DIRECTORY ${public_header_dir}/ember DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
target_include_directories(ember INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

# -- libraries and the CMake package -------------------------------------------
# Ember::ember is the in-tree `ember` target: an interface bundling the static ember_* libraries,
# whose own dependencies (CAF, Cap'n Proto, spdlog, LZ4, xxHash, OpenSSL) EmberConfig.cmake finds
# again with find_dependency, as this build found them.
get_target_property(ember_libraries ember INTERFACE_LINK_LIBRARIES)
list(FILTER ember_libraries INCLUDE REGEX "^ember_")
install(TARGETS ember ${ember_libraries} EXPORT EmberTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
set(ember_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/Ember)
install(EXPORT EmberTargets NAMESPACE Ember:: DESTINATION ${ember_cmake_dir})
configure_package_config_file(cmake/EmberConfig.cmake.in ${PROJECT_BINARY_DIR}/EmberConfig.cmake
                              INSTALL_DESTINATION ${ember_cmake_dir})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/EmberConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/EmberConfig.cmake ${PROJECT_BINARY_DIR}/EmberConfigVersion.cmake
        DESTINATION ${ember_cmake_dir})
install(FILES cmake/caf.cmake DESTINATION ${ember_cmake_dir} RENAME FindCAF.cmake)

# -- pkg-config ------------------------------------------------------------------
# Static libraries: --libs lists every ember library, dependents first (the reverse of the order
# the folders were added in, which is bottom-up), then what they link. The prefix is found from
# the .pc file's own place, so an unpacked .deb (dpkg -x) works too.
set(pc_libs "")
set(reversed ${ember_libraries})
list(REVERSE reversed)
foreach(lib IN LISTS reversed)
  string(APPEND pc_libs " -l${lib}")
endforeach()
file(RELATIVE_PATH pc_prefix_from_pcfiledir /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" pc_prefix_from_pcfiledir "${pc_prefix_from_pcfiledir}")
configure_file(cmake/ember.pc.in ${PROJECT_BINARY_DIR}/ember.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ember.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# -- the command, the launchers, the chaos harness's programs --------------------
install(TARGETS ember_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/ember-cluster ${PROJECT_SOURCE_DIR}/scripts/ember-chaos
        DESTINATION ${CMAKE_INSTALL_BINDIR})
# `ember chaos --bin-dir` wants ember and the programs its scenarios run in one directory: they go
# to libexec (not on PATH), with a relative link to the installed ember.
set(chaos_programs gen_text baseline_wordcount gen_records baseline_sort wordcount terasort chaos_wordcount)
install(TARGETS ${chaos_programs} RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/ember)
file(RELATIVE_PATH ember_from_libexec /p/${CMAKE_INSTALL_LIBEXECDIR}/ember /p/${CMAKE_INSTALL_BINDIR}/ember)
install(CODE "file(CREATE_LINK ${ember_from_libexec}
              \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}/ember/ember\" SYMBOLIC)")
file(GLOB chaos_scenarios CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fault/*.json)
install(FILES ${chaos_scenarios} DESTINATION ${CMAKE_INSTALL_DATADIR}/ember/fault)

# -- conf templates and docs -----------------------------------------------------
install(DIRECTORY ${PROJECT_SOURCE_DIR}/conf/ DESTINATION ${CMAKE_INSTALL_DATADIR}/ember/conf)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/standalone DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Everything the rules above copy, for scripts/package and the install tests: `cmake --install`
# does not build, and fails on a file that was not built. Nor does the `install` target (or
# cpack, which runs it) build `all` first: that would build every test, minutes of work the
# package does not need; scripts/package builds this target instead.
add_custom_target(ember_install_targets DEPENDS ember_public_headers ${ember_libraries} ember_cli
                                                ${chaos_programs})
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# -- the Debian package (scripts/package: cpack -G DEB) ---------------------------
# One package with the command, the launchers, the libraries and headers: the libraries are
# static, so an application build needs the -dev packages of what they link; the command's own
# shared libraries come from dpkg-shlibdeps. Versions: the static libraries hold code generated
# by capnp and compiled against spdlog/CAF headers, so those -dev packages must be the ones this
# build used (Debian 12: CAF 0.17.6, Cap'n Proto 0.9.2, spdlog 1.10).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ember)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Ember developers <ember@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Spark-like cluster runtime for batch data processing in C++")
set(CPACK_PACKAGE_DESCRIPTION "Ember runs C++ data-parallel applications (datasets, shuffles, caching)
in local mode or on a standalone cluster of ember master and workers. This package holds the
ember command, the cluster launcher, the static libraries, headers, CMake package and
pkg-config file to build applications with find_package(Ember).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
string(REGEX MATCH "^[0-9]+\\.[0-9]+" capnp_minor "${CapnProto_VERSION}")
string(REGEX MATCH "[0-9]+$" capnp_patch "${CapnProto_VERSION}")
math(EXPR capnp_next_patch "${capnp_patch} + 1")
string(REGEX MATCH "^[0-9]+\\.[0-9]+" spdlog_minor "${spdlog_VERSION}")
string(REGEX MATCH "[0-9]+$" spdlog_minor_number "${spdlog_minor}")
string(REGEX MATCH "^[0-9]+" spdlog_major "${spdlog_VERSION}")
math(EXPR spdlog_next_minor "${spdlog_minor_number} + 1")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libcaf-dev (>= 0.17.6), libcaf-dev (<< 0.18), libcapnp-dev (>= ${CapnProto_VERSION}), libcapnp-dev (<< ${capnp_minor}.${capnp_next_patch}), libspdlog-dev (>= 1:${spdlog_minor}), libspdlog-dev (<< 1:${spdlog_major}.${spdlog_next_minor}), liblz4-dev, libxxhash-dev, libssl-dev, libcpp-httplib-dev, nlohmann-json3-dev, libjs-bootstrap5, libjs-d3, libjs-jquery-datatables, pkgconf | pkg-config")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cmake (>= 3.16), g++ (>= 4:12)")
include(CPack)
