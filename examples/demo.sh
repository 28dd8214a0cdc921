#!/bin/sh
# The main job: installs what is missing, builds xsell, starts the server on
# the bundled sample store (examples/data, made with
# `xsell gen --customers 2000 --items 300 --orders 5000 --seed 42`), asks it
# for recommendations as a storefront would (each plugin, then the blend),
# ingests an order, marks an item out of stock, asks again,
# and stops it.
set -eu
cd "$(dirname "$0")/.."
sh tests/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target xsell_cli plugins >/dev/null
x=build/bin/xsell
tmp=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
$x serve --events examples/data/events.csv --catalog examples/data/catalog.csv \
    --bind 'tcp://127.0.0.1:*' --port-file "$tmp/port" &
server=$!
i=0
while [ ! -s "$tmp/port" ]; do
    i=$((i + 1))
    [ $i -gt 300 ] && { echo "the server did not start" >&2; exit 1; }
    sleep 0.1
done
ep=$(cat "$tmp/port")
q() { echo "\$ xsell query $*"; $x query --connect "$ep" "$@"; echo; }
echo
q health
q plugins
echo "== product page: customers who bought P000030 also bought (copurchase)"
q recommend '{"items": ["P000030"], "k": 5, "explain": true, "plugin": "copurchase"}'
echo "== the same page, a better version of it (upsell)"
q recommend '{"items": ["P000030"], "k": 3, "explain": true, "plugin": "upsell"}'
echo "== a returning customer: what they are likely to buy next (recency)"
q recommend '{"customer": "C001462", "k": 5, "plugin": "recency"}'
echo "== basket page for that customer: the blend (the default: copurchase, recency, a little popular)"
q recommend '{"items": ["P000030", "P000251"], "customer": "C001462", "k": 5}'
echo "== a first visit: nothing known, the blend falls back to best sellers"
q recommend '{"customer": "C-new", "k": 3}'
echo "== checkout: two orders with a product nobody bought before (one order is not"
echo "   evidence yet: copurchase counts pairs seen in at least 2 orders)"
q ingest '{"events": [{"customer": "C-demo", "item": "P000030", "order": "O-demo", "price": 4.2},
                      {"customer": "C-demo", "item": "P-NEW", "order": "O-demo", "price": 9.9},
                      {"customer": "C-demo2", "item": "P000030", "order": "O-demo2", "price": 4.2},
                      {"customer": "C-demo2", "item": "P-NEW", "order": "O-demo2", "price": 9.9}]}'
echo "== the product page again: the new orders count at once"
q recommend '{"items": ["P000030"], "k": 3, "explain": true, "plugin": "copurchase"}'
echo "== P000251 sold out: the catalog op takes it off every answer"
q catalog '{"items": [{"item": "P000251", "category": "desserts", "price": 1.28, "in_stock": false}]}'
q recommend '{"items": ["P000030"], "k": 3}'
q stats
kill -TERM "$server"
wait "$server"
echo "server stopped cleanly (exit $?)"
