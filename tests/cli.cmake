# Plugin loader, copurchase and command-line tests (included by
# tests/CMakeLists.txt).
#
#   test_plugin_loader   every way a plugin file can be wrong, the search path
#   test_copurchase      the copurchase plugin through the engine API, on a
#                        hand-made fixture with answers worked out by hand
#   cli_*                the xsell command end to end (/usr/bin/python3)
#   *_rules (label data) real data against an independent brute force; skipped
#                        (exit 77) when ../shared/data lacks the file
#
# Test plugins go to their own directory, never to build/plugins, so that
# nothing broken is ever found by the default search path.
set(XS_TEST_PLUGIN_DIR ${CMAKE_BINARY_DIR}/test-plugins)
set(XS_TEST_PLUGIN_TARGETS)

function(xs_test_plugin name src)
  add_library(xs_tp_${name} MODULE ${src})
  set_target_properties(xs_tp_${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${XS_TEST_PLUGIN_DIR}
    C_VISIBILITY_PRESET hidden)
  target_include_directories(xs_tp_${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(xs_tp_${name} PRIVATE m)
  if(ARGN)
    target_compile_definitions(xs_tp_${name} PRIVATE ${ARGN})
  endif()
  set(XS_TEST_PLUGIN_TARGETS ${XS_TEST_PLUGIN_TARGETS} xs_tp_${name} PARENT_SCOPE)
endfunction()

xs_test_plugin(testgood plugins/testgood.c)
foreach(kind bad_abi null_entry no_entry bad_name null_name long_name
        no_create no_recommend no_destroy create_fails create_silent
        dup_name unresolved small_size prepare_fails)
  string(TOUPPER ${kind} KIND)
  xs_test_plugin(${kind} plugins/broken.c XS_BROKEN=XS_BROKEN_${KIND})
endforeach()
foreach(kind older newer)
  string(TOUPPER ${kind} KIND)
  xs_test_plugin(${kind} plugins/versions.c XS_VERSIONS=XS_VERSIONS_${KIND})
endforeach()
# Files that merely end in .so: not an ELF object, and an empty one.
file(MAKE_DIRECTORY ${XS_TEST_PLUGIN_DIR})
file(WRITE ${XS_TEST_PLUGIN_DIR}/not_elf.so "this is a text file, not a shared object\n")
file(WRITE ${XS_TEST_PLUGIN_DIR}/empty.so "")

set(XS_TEST_ENV
  "XS_TEST_DATA=${CMAKE_CURRENT_SOURCE_DIR}/data"
  "XS_SHARED_DATA=${XSELL_SHARED_DATA}"
  "XS_BUILD_DIR=${CMAKE_BINARY_DIR}"
  "XS_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
  "XS_TEST_PLUGIN_DIR=${XS_TEST_PLUGIN_DIR}"
  "XS_PLUGIN_DIR=${XSELL_BUILD_PLUGIN_DIR}"
  "XS_XSELL=$<TARGET_FILE:xsell_cli>"
  "PYTHONDONTWRITEBYTECODE=1")

foreach(t test_plugin_loader test_plugin_abi test_copurchase)
  xs_add_test(${t})
  add_dependencies(${t} copurchase ${XS_TEST_PLUGIN_TARGETS})
  set_tests_properties(${t} PROPERTIES ENVIRONMENT "${XS_TEST_ENV}" TIMEOUT 60)
endforeach()

# The blend through the engine: every built-in plugin, the fan-out pool.
xs_add_test(test_blend)
target_link_libraries(test_blend PRIVATE Threads::Threads)
add_dependencies(test_blend copurchase upsell recency popular ${XS_TEST_PLUGIN_TARGETS})
set_tests_properties(test_blend PROPERTIES ENVIRONMENT "${XS_TEST_ENV}" TIMEOUT 120)

# Python CLI tests: argv[1] is the xsell binary; everything else comes from
# the environment above.
function(xs_add_cli_test name script)
  add_test(NAME ${name}
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/${script}
            $<TARGET_FILE:xsell_cli> ${ARGN})
  set_tests_properties(${name} PROPERTIES
    SKIP_RETURN_CODE 77
    TIMEOUT 120
    ENVIRONMENT "${XS_TEST_ENV}")
endfunction()

xs_add_cli_test(cli_usage cli_usage.py)
xs_add_cli_test(cli_errors cli_errors.py)
xs_add_cli_test(cli_recommend cli_recommend.py)
xs_add_cli_test(cli_rules cli_rules.py)
xs_add_cli_test(cli_plugins cli_plugins.py)
xs_add_cli_test(cli_blend cli_blend.py)
xs_add_cli_test(cli_segment cli_segment.py)
# skipped when Chromium is not installed
xs_add_cli_test(segment_report_browser segment_report_browser.py)
xs_add_cli_test(cli_score cli_score.py)
xs_add_cli_test(cli_eval cli_eval.py)
xs_add_cli_test(cli_eval_ml cli_eval.py ml)
xs_add_cli_test(groceries_rules groceries_rules.py groceries)
xs_add_cli_test(online_retail_rules groceries_rules.py online_retail)
set_tests_properties(groceries_rules online_retail_rules cli_eval_ml PROPERTIES LABELS data)
