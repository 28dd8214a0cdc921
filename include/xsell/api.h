/*
 * xsell/api.h -- XS_API marks what libxsell exports.
 *
 * libxsell is built with -fvisibility=hidden: a function is part of the
 * library's interface when, and only when, a header of include/xsell/
 * declares it with XS_API (tests/unit/symbols.py checks both directions).
 */
#ifndef XSELL_API_H
#define XSELL_API_H

#if defined(__GNUC__)
#define XS_API __attribute__((visibility("default")))
#else
#define XS_API
#endif

#endif
