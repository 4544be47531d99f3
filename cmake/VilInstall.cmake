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

# pkg-config. The file finds its prefix from its own folder (${pcfiledir}), so
# it stays right after `cmake --install --prefix X` or a move. A static library
# has no record of what it needs, so there its dependencies are in Requires and
# plain `pkg-config --cflags --libs vil_trigger_cdc` links; a shared one needs
# them only for --static.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(VIL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(VIL_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(VIL_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH vil_pc_up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" vil_pc_up "${vil_pc_up}")  # lib -> "../.."
  set(VIL_PC_PREFIX "\${pcfiledir}/${vil_pc_up}")
  set(VIL_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(VIL_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
get_target_property(vil_library_type vil_trigger_cdc TYPE)
if(vil_library_type STREQUAL "STATIC_LIBRARY")
  set(VIL_PC_REQUIRES "Requires: libpq libcurl rdkafka libnats fmt yaml-cpp")
else()
  set(VIL_PC_REQUIRES "Requires.private: libpq libcurl rdkafka libnats fmt yaml-cpp")
endif()
configure_file(cmake/vil_trigger_cdc.pc.in ${PROJECT_BINARY_DIR}/vil_trigger_cdc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vil_trigger_cdc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
