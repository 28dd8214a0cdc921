# Unit tests of the core library, one program per feature (see tests/test_util.h).
xs_add_test(test_dict)
xs_add_test(test_loaders)
xs_add_test(test_cooc)
xs_add_test(test_measure)
xs_add_test(test_topk)
