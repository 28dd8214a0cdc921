# Unit tests of the core library, one program per feature (see tests/test_util.h).
xs_add_test(test_dict)
xs_add_test(test_eval)
xs_add_test(test_loaders)
xs_add_test(test_cooc)
xs_add_test(test_measure)
xs_add_test(test_segment)
xs_add_test(test_topk)
xs_add_test(test_plugin_util)
xs_add_test(test_upsell)
xs_add_test(test_popular)
add_dependencies(test_upsell upsell)
add_dependencies(test_popular popular)
xs_add_test(test_recency)
xs_add_test(test_score)
add_dependencies(test_score recency popular)
add_dependencies(test_recency recency)

# The shape of the code: what libxsell and the plugins export against the
# headers, the modules' order and include cycles, file lengths, and every
# header compiling on its own and with all the others.
add_test(NAME symbols COMMAND /usr/bin/python3
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/symbols.py $<TARGET_FILE:xsell>
  ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER} ${XSELL_BUILD_PLUGIN_DIR})
add_test(NAME layers COMMAND /usr/bin/python3
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/layers.py ${PROJECT_SOURCE_DIR})
add_test(NAME headers COMMAND /usr/bin/python3
  ${CMAKE_CURRENT_SOURCE_DIR}/unit/headers.py ${PROJECT_SOURCE_DIR}
  ${CMAKE_C_COMPILER})
set_tests_properties(symbols layers headers PROPERTIES LABELS unit)
