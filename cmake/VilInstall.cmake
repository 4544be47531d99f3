# Install rules: headers, libraries, the vil-cdc program, a CMake package
# (find_package(vil_trigger_cdc) -> vil::trigger_cdc, vil::testing) and a
# pkg-config file.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/vil DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(vil_installed_targets vil_trigger_cdc)
if(TARGET vil_testing)
  list(APPEND vil_installed_targets vil_testing)
endif()
install(TARGETS ${vil_installed_targets} EXPORT vil_trigger_cdcTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT vil_trigger_cdcTargets NAMESPACE vil::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vil_trigger_cdc)

configure_package_config_file(cmake/vil_trigger_cdcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/vil_trigger_cdcConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vil_trigger_cdc)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vil_trigger_cdcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vil_trigger_cdcConfig.cmake
              ${PROJECT_BINARY_DIR}/vil_trigger_cdcConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vil_trigger_cdc)

configure_file(cmake/vil_trigger_cdc.pc.in ${PROJECT_BINARY_DIR}/vil_trigger_cdc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vil_trigger_cdc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
