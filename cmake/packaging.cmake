# The Debian package (`make deb`): install() rules for what it holds, CPack's DEB generator
# settings, and the files made from the built binary at build time.
#
# This file has two uses:
#  - include()d at the end of CMakeLists.txt: the install rules, CPack's settings and the target
#    herald_package_files (not part of `all`: `make deb` builds it);
#  - run as a script by that target (cmake -DHERALD=... -DOUT=... -P packaging.cmake): writes the
#    bash completion (from `herald completion bash`), the gzipped man page and the gzipped Debian
#    changelog into OUT.
# Everything is dated from SOURCE_DATE_EPOCH, or else the last commit's date, never the clock's,
# and gzip -n stores no name or time: the same commit makes the same files.
# packaging/ holds the sources: the man page, configuration, copyright, maintainer scripts and
# the systemd units (packaging/systemd/).

if(CMAKE_SCRIPT_MODE_FILE)
  # In: HERALD (the built binary), OUT (a directory), SOURCE_DIR, VERSION.
  foreach(var HERALD OUT SOURCE_DIR VERSION)
    if(NOT DEFINED ${var})
      message(FATAL_ERROR "packaging.cmake: -D${var}= is required")
    endif()
  endforeach()
  if(NOT DEFINED ENV{SOURCE_DATE_EPOCH})
    execute_process(COMMAND git -C "${SOURCE_DIR}" log -1 --format=%ct
                    OUTPUT_VARIABLE epoch OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE failed ERROR_QUIET)
    if(failed OR epoch STREQUAL "")
      message(FATAL_ERROR "packaging.cmake: set SOURCE_DATE_EPOCH (no git history to date the package from)")
    endif()
    set(ENV{SOURCE_DATE_EPOCH} "${epoch}")
  endif()
  # string(TIMESTAMP) reads SOURCE_DATE_EPOCH itself.
  string(TIMESTAMP rfc2822_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
  string(TIMESTAMP iso_date "%Y-%m-%d" UTC)
  file(MAKE_DIRECTORY "${OUT}")

  # The bash completion, from the binary itself, so that it lists exactly its commands.
  execute_process(COMMAND "${HERALD}" completion bash OUTPUT_FILE "${OUT}/herald.bash"
                  RESULT_VARIABLE failed ERROR_VARIABLE errors)
  file(SIZE "${OUT}/herald.bash" size)
  if(failed OR size EQUAL 0)
    message(FATAL_ERROR "`${HERALD} completion bash` failed (${failed}): ${errors}")
  endif()

  # The man page, with the version and date filled in.
  set(HERALD_VERSION "${VERSION}")
  set(HERALD_DATE "${iso_date}")
  configure_file("${SOURCE_DIR}/packaging/herald.1" "${OUT}/herald.1" @ONLY)

  # The Debian changelog: one entry, for this version.
  file(WRITE "${OUT}/changelog"
"herald (${VERSION}) bookworm; urgency=medium

  * Herald ${VERSION}, packaged for Debian 12 (bookworm): the herald binary, its
    configuration in /etc/herald, data in /var/lib/herald owned by the herald
    system user, and hardened systemd units (herald.service, herald@.service).

 -- Herald authors <dev@herald.invalid>  ${rfc2822_date}
")
  foreach(file herald.1 changelog)
    execute_process(COMMAND gzip -9 -n -c "${OUT}/${file}" OUTPUT_FILE "${OUT}/${file}.gz" RESULT_VARIABLE failed)
    if(failed)
      message(FATAL_ERROR "gzip ${OUT}/${file} failed")
    endif()
  endforeach()
  return()
endif()

# Release builds (the package's) record source paths relative to the tree, so that the binary
# does not depend on where the tree was checked out.
string(APPEND CMAKE_CXX_FLAGS_RELEASE " -ffile-prefix-map=${CMAKE_SOURCE_DIR}/=")
# CPack installs what the install rules name; it need not build every target (`all`) first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(HERALD_PACKAGE_FILES ${CMAKE_BINARY_DIR}/package)
add_custom_target(herald_package_files
  COMMAND ${CMAKE_COMMAND} -DHERALD=$<TARGET_FILE:herald> -DOUT=${HERALD_PACKAGE_FILES}
          -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DVERSION=${PROJECT_VERSION} -P ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "Making the package's man page, changelog and bash completion")
add_dependencies(herald_package_files herald)

# What the package installs. Relative destinations are under /usr (CPACK_PACKAGING_INSTALL_PREFIX).
install(TARGETS herald RUNTIME DESTINATION bin)
install(FILES ${HERALD_PACKAGE_FILES}/herald.1.gz DESTINATION share/man/man1)
install(FILES ${HERALD_PACKAGE_FILES}/herald.bash DESTINATION share/bash-completion/completions RENAME herald)
install(FILES packaging/copyright ${HERALD_PACKAGE_FILES}/changelog.gz DESTINATION share/doc/herald)
# The configuration: a conffile; postinst gives it to group herald (0640 root:herald), the user
# does not exist yet when dpkg unpacks it, hence not world-readable meanwhile.
install(FILES packaging/herald.toml DESTINATION /etc/herald PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES packaging/systemd/herald.service packaging/systemd/herald@.service DESTINATION /lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME herald)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Herald authors")
set(CPACK_PACKAGE_CONTACT "Herald authors <dev@herald.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_SOURCE_DIR}/build/deb)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "secure, self-hostable patient-messaging server")
set(CPACK_PACKAGE_DESCRIPTION
    "Herald sends email, text messages and letters for services. It speaks
the GOV.UK Notify v2 API, so that its official client libraries work
unchanged, and NHS Notify's comms/v1 API. Every personal field is
encrypted at rest under per-service, per-day data keys, kept in an
embedded SQLite database or in PostgreSQL, and security events go to a
tamper-evident audit log.
.
This package runs it as the herald system user under hardened systemd
units: herald.service (every role) or herald@api, herald@worker and
herald@admin.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Libraries from dpkg-shlibdeps; postinst needs adduser, and deb-systemd-helper/-invoke.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
include(CPack)
