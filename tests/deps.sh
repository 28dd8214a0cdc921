#!/bin/sh
# Installs the Debian packages xsell needs to build and test, if any are
# missing.  Used by examples/demo.sh and tests/run.sh; .ci/run installs the
# same list itself.  Needs root (or sudo) only when something is missing.
set -eu
pkgs="gcc make cmake pkg-config libzmq3-dev libmsgpack-dev uthash-dev liblapacke-dev libopenblas-dev python3 python3-zmq python3-msgpack python3-numpy python3-scipy valgrind python3-pip python3-venv python3-setuptools python3-wheel man-db groff-base"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "missing packages:$missing; run as root or install them" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q $missing
