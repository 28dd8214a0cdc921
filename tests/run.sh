#!/bin/sh
# The whole test suite: installs what is missing, builds twice (release with
# -Werror, then Debug with AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs every CTest test in both.  Tests needing ../shared/data are reported
# as skipped when it is absent.
set -eu
cd "$(dirname "$0")/.."
sh tests/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXSELL_WERROR=ON
cmake --build build -j"$jobs"
cmake --build build -j"$jobs" --target bench # not built by default: kept compiling
(cd build && ctest --output-on-failure -j"$jobs")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DXSELL_SANITIZE=ON -DXSELL_WERROR=ON
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs")
