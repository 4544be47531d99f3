# `cpack -G DEB` in the build folder makes one Debian package, vil-trigger-cdc:
# vil-cdc, the static libraries with their headers, CMake package and
# pkg-config file, and the systemd service with its configuration.
#
# Its Depends are what vil-cdc links (dpkg-shlibdeps reads them from the
# binary). Building against the static library also needs the -dev packages
# of those libraries: Recommends, so that `apt install ./vil-trigger-cdc_*.deb`
# brings them and `--no-install-recommends` leaves a server without them.

set(VIL_PACKAGE_MAINTAINER "vil_trigger_cdc maintainers <maintainers@users.noreply.b-seed-b9a6c129.example>"
    CACHE STRING "The Maintainer of the Debian package")

# Files only the package has. They go to absolute places (/etc, /lib) and
# name /usr/bin/vil-cdc, so a plain `cmake --install --prefix DIR` leaves
# them out (EXCLUDE_FROM_ALL); the package installs component by component,
# which takes them in.
install(FILES packaging/vil-cdc.service DESTINATION /lib/systemd/system
        COMPONENT system EXCLUDE_FROM_ALL)
# Root's alone: the connection string may hold a password.
install(FILES packaging/config.yaml DESTINATION /etc/vil-cdc
        PERMISSIONS OWNER_READ OWNER_WRITE COMPONENT system EXCLUDE_FROM_ALL)
install(FILES README.md docs/CONFIGURATION.md CHANGELOG.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vil-trigger-cdc COMPONENT system EXCLUDE_FROM_ALL)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vil-trigger-cdc
        RENAME copyright COMPONENT system EXCLUDE_FROM_ALL)

# dpkg keeps an edited configuration file across upgrades (and asks).
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "/etc/vil-cdc/config.yaml\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vil-trigger-cdc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${VIL_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Lines of at most 80 columns, as dpkg shows them.
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "vil-cdc streams every committed change of a PostgreSQL database, in commit\n"
  "order, to a file, an HTTP endpoint, Kafka or NATS JetStream, confirming to\n"
  "the server only what was delivered. With it: the C++ library it is built on\n"
  "(static, with headers, a CMake package and a pkg-config file) and a systemd\n"
  "service that reads /etc/vil-cdc/config.yaml.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The one package, made from every component (the system files included).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "pkg-config, libpq-dev, libcurl4-openssl-dev | libcurl-dev, librdkafka-dev, libnats-dev, libfmt-dev, libyaml-cpp-dev, nlohmann-json3-dev")
# vil-cdc demo and vil::testing start a throwaway server.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
