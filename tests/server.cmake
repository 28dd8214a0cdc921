# Server tests (included by tests/CMakeLists.txt): `xsell serve` on the
# example data, driven over ZeroMQ by /usr/bin/python3 with python3-zmq and
# python3-msgpack.  Each script starts its own servers on free loopback
# ports (--port-file), kills them in a finally block and checks exit 0 on
# SIGTERM; every socket has timeouts, nothing may hang.
#
#   server_ops          every op and reply shape, every error case of
#                       docs/protocol.md, REQ and DEALER envelopes,
#                       multi-frame messages, --max-msg
#   server_fuzz         ~14,000 random and mutated messages, 64 in flight:
#                       one well-formed reply each, the server unharmed
#   server_concurrency  8 clients x 10,000 requests checked byte for byte;
#                       ingest under 4 readers, every read a whole batch state
#   server_shutdown     SIGTERM under load (correct reply or none), requests
#                       taken before the signal answered, SIGINT when idle
#   server_valgrind     a short session under valgrind memcheck (skipped
#                       without valgrind, or in a sanitizer build)
#   server_blend        the blend against a Python model of its method, the
#                       fill, business rules on every plugin, the catalog
#                       op, --set weight/exclude_owned
#
# Scripts: tests/server/SCRIPT.py XSELL SOURCE_DIR [--option value].
if(NOT DEFINED XS_TEST_PLUGIN_DIR)
  set(XS_TEST_PLUGIN_DIR ${CMAKE_BINARY_DIR}/test-plugins)
endif()
if(XSELL_SANITIZE)
  set(XS_SERVER_SANITIZE ON)
else()
  set(XS_SERVER_SANITIZE OFF)
endif()

function(xs_add_server_test name timeout)
  add_test(NAME ${name}
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/server/${name}.py
            $<TARGET_FILE:xsell_cli> ${PROJECT_SOURCE_DIR} ${ARGN})
  set_tests_properties(${name} PROPERTIES
    LABELS server
    SKIP_RETURN_CODE 77
    TIMEOUT ${timeout}
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endfunction()

xs_add_server_test(server_ops 120 --test-plugin-dir ${XS_TEST_PLUGIN_DIR})
xs_add_server_test(server_fuzz 120)
xs_add_server_test(server_concurrency 300)
xs_add_server_test(server_shutdown 120)
xs_add_server_test(server_blend 180)
xs_add_server_test(server_valgrind 600 --sanitize ${XS_SERVER_SANITIZE})
set_tests_properties(server_valgrind PROPERTIES LABELS "server;valgrind")
# CPU bound on both sides: alone, so that its timings mean something
set_tests_properties(server_concurrency PROPERTIES PROCESSORS 2)
