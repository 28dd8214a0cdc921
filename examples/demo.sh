#!/bin/sh
# The main job: installs what is missing, builds xsell and asks it for
# recommendations on the bundled sample store (examples/data, made with
# `xsell gen --customers 2000 --items 300 --orders 5000 --seed 42`).
set -eu
cd "$(dirname "$0")/.."
sh tests/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target xsell_cli plugins >/dev/null
x=build/bin/xsell
data="--events examples/data/events.csv --catalog examples/data/catalog.csv"
echo "== $x plugins"
$x plugins
echo
echo "== customers who bought P000030 also bought (lift, pairs seen >= 3 times):"
# shellcheck disable=SC2086
$x recommend $data --items P000030 --k 5 --min-count 3 --explain
echo
echo "== a basket of two items, ranked by Dunning's log-likelihood ratio:"
# shellcheck disable=SC2086
$x recommend $data --items P000030,P000012 --k 5 --measure llr
echo
echo "== the strongest pairwise rules (support >= 0.2%, confidence >= 20%):"
# shellcheck disable=SC2086
$x rules $data --min-support 0.002 --min-confidence 0.2 --format table | head -8
