# The example clients against a live server (included by tests/CMakeLists.txt):
#
#   examples_clients   builds examples/c-client out of tree (its own
#                      CMakeLists.txt, then its Makefile; -Werror), starts
#                      `xsell serve` on a free port, runs
#                      examples/python/storefront.py and the C client (under
#                      valgrind when installed), checks that each checkout's
#                      new product shows in the "also bought" list, that
#                      error replies and timeouts exit 1, and that the server
#                      exits 0 on SIGTERM.
add_test(NAME examples_clients
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/examples/run_clients.py
          --xsell $<TARGET_FILE:xsell_cli>
          --source-dir ${PROJECT_SOURCE_DIR}
          --plugin-dir ${XSELL_BUILD_PLUGIN_DIR}
          --cmake ${CMAKE_COMMAND})
set_tests_properties(examples_clients PROPERTIES
  LABELS examples
  TIMEOUT 300
  ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
