# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE): a Debian package of a build for
# another prefix would put the programs under /usr/local, where a package may not install anything
# (lintian: dir-or-file-in-usr-local), so cpack refuses to make one.
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "Debian packages install under /usr, this build under ${CPACK_PACKAGING_INSTALL_PREFIX}: "
    "configure a build with -DCMAKE_INSTALL_PREFIX=/usr for them")
endif()
