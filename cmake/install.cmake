# Installing seer (cmake --install): the public headers, the libraries a user's program links, the
# `seer` and `seer-resonate` programs, and the CMake package (docs/dependency.md). A Debian
# package from CPack (cpack -G DEB in the build tree).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The format versions, read from the header that defines them so the package never disagrees.
file(STRINGS "${PROJECT_SOURCE_DIR}/include/seer/trace/vocabulary.hpp" _seer_formats
     REGEX "inline constexpr int k(Trace|Run)Format = [0-9]+;")
string(REGEX MATCH "kTraceFormat = ([0-9]+)" _ "${_seer_formats}")
set(SEER_TRACE_FORMAT ${CMAKE_MATCH_1})
string(REGEX MATCH "kRunFormat = ([0-9]+)" _ "${_seer_formats}")
set(SEER_RUN_FORMAT ${CMAKE_MATCH_1})
if(NOT SEER_TRACE_FORMAT OR NOT SEER_RUN_FORMAT)
  message(FATAL_ERROR "cannot read the format versions from include/seer/trace/vocabulary.hpp")
endif()

# The libraries a program built on seer links, each seer::<name without the seer_ prefix>.
set(SEER_EXPORTED_LIBRARIES
  seer_check seer_history seer_sim seer_service_clients seer_services seer_sqlite seer_runtime
  seer_explain seer_shrink seer_counterfactual seer_view seer_export seer_cli seer_cli_main
  # The built-in example systems, for a program that asks for them (seer_add_simulation's
  # BUILTIN_SYSTEMS); only seer/systems/builtin.hpp of theirs is public.
  seer_systems seer_promises_model seer_promises_checker seer_promises_concrete seer_promises_design
  seer_promises_sim)
foreach(library ${SEER_EXPORTED_LIBRARIES})
  string(REGEX REPLACE "^seer_" "" export_name ${library})
  set_target_properties(${library} PROPERTIES EXPORT_NAME ${export_name})
endforeach()
install(TARGETS ${SEER_EXPORTED_LIBRARIES} EXPORT seerTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS seer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET seer-resonate)
  install(TARGETS seer-resonate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/seer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SEER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/seer)
install(EXPORT seerTargets NAMESPACE seer:: DESTINATION ${SEER_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/seerConfig.cmake.in
  ${PROJECT_BINARY_DIR}/seerConfig.cmake INSTALL_DESTINATION ${SEER_CMAKE_DIR})
# 0.x: a minor version may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/seerConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/seerConfig.cmake ${PROJECT_BINARY_DIR}/seerConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/seerHelpers.cmake DESTINATION ${SEER_CMAKE_DIR})

# cpack -G DEB: a Debian 12 package of the above.
set(CPACK_PACKAGE_NAME seer)
set(CPACK_PACKAGE_VENDOR "seer maintainers")
set(CPACK_PACKAGE_CONTACT "seer maintainers <maintainers@seer.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Design distributed systems: deterministic simulation, checkers, causal explanations")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# The programs' shared libraries (libsqlite3, libpq, cpp-httplib, ...) from dpkg-shlibdeps; what a
# project building on the package needs besides.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libsqlite3-dev, nlohmann-json3-dev, libfmt-dev, libcli11-dev, g++ (>= 4:12) | clang (>= 1:14), cmake (>= 3.25)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
