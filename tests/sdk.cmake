# The plugin SDK end to end (included by tests/CMakeLists.txt):
#
#   sdk_install   installs this build tree into a temporary prefix, checks
#                 the layout and xsell.pc, builds examples/plugin-sample out
#                 of tree with make (pkg-config) and with its CMakeLists.txt,
#                 runs its test program against the installed libxsell, and
#                 has the installed xsell load the plugin by path, by name
#                 from --plugin-dir and from pkg-config's plugindir, with
#                 known answers on tests/data/sdk; then moves the prefix and
#                 checks that xsell still finds its plugins.  Skipped (77)
#                 without make or pkg-config.
add_test(NAME sdk_install
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/sdk/sdk_install.py
          --build-dir ${CMAKE_BINARY_DIR}
          --source-dir ${PROJECT_SOURCE_DIR}
          --libdir ${CMAKE_INSTALL_LIBDIR}
          --bindir ${CMAKE_INSTALL_BINDIR}
          --includedir ${CMAKE_INSTALL_INCLUDEDIR}
          --cmake ${CMAKE_COMMAND}
          --sanitize $<IF:$<BOOL:${XSELL_SANITIZE}>,ON,OFF>)
set_tests_properties(sdk_install PROPERTIES
  LABELS sdk
  SKIP_RETURN_CODE 77
  TIMEOUT 300
  ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
