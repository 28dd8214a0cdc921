#!/bin/sh
# bench/client/run.sh [ROUNDS] [REQUESTS]: the Python client package's cost
# per request next to a bare pyzmq + msgpack REQ loop (client_overhead.py
# says how).  Needs build/bin/xsell (or XSELL=PATH); results in
# bench/RESULTS.md, "Python client".
set -eu
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/client/client_overhead.py "$@"
