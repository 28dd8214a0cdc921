#!/usr/bin/python3
"""python_package.py -- the Python client package (clients/python), from
`pip install` to its tests against a live server.

Run by ctest (tests/clients/CMakeLists.txt) as

    /usr/bin/python3 tests/clients/python_package.py --xsell PATH/TO/xsell \\
        --source-dir SRC --version PROJECT_VERSION

1. copies clients/python to a temporary directory (pip builds in the tree
   it installs from; the source tree stays clean) and installs it, offline,
   with Debian's pip into a venv that sees the system's pyzmq and msgpack:
   `python3 -m venv --system-site-packages`, then `pip install
   --no-build-isolation --no-index` (README, "The Python package");
2. checks the installed package: imported from the venv, not the source
   tree; its version and the distribution's are the project's;
   its declared dependencies are pyzmq and msgpack only;
3. runs the package's tests (clients/python/tests, unittest) with the venv's
   python, from outside the source tree, against servers they start from
   --xsell: every op, errors as exceptions, timeouts, fields passed
   through, CURVE keys with read and write roles.

Exit 0 when every check passed, 1 otherwise, 77 (skipped) when Debian's
python3-venv, python3-pip, python3-setuptools or python3-wheel is missing
(tests/deps.sh installs them).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PYTHON = "/usr/bin/python3"
failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def run(cmd, timeout=240, **kw):
    print("$ " + " ".join(cmd), flush=True)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        print(f"(timed out after {timeout} s)", flush=True)
        return None, "", ""
    sys.stdout.write(p.stdout + p.stderr)
    sys.stdout.flush()
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xsell", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--version", required=True)
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    for mod in ("venv", "pip", "setuptools", "wheel"):
        if subprocess.run([PYTHON, "-c", f"import {mod}"],
                          capture_output=True).returncode != 0:
            print(f"python_package: skipped: no python3 {mod} module")
            return 77

    env = dict(os.environ, LC_ALL="C", PYTHONDONTWRITEBYTECODE="1",
               PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    for k in ("PYTHONPATH", "PIP_INDEX_URL", "PIP_FIND_LINKS", "XSELL_PLUGIN_PATH"):
        env.pop(k, None)
    tmp = tempfile.mkdtemp(prefix="xsell_pypkg_")
    try:
        pkg = os.path.join(tmp, "python")
        shutil.copytree(os.path.join(src, "clients", "python"), pkg,
                        ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                      "__pycache__"))
        venv = os.path.join(tmp, "venv")
        py = os.path.join(venv, "bin", "python")
        # The venv without its own pip (ensurepip takes half a minute on a
        # busy machine); Debian's pip installs into it with --python, the
        # same pip 23 as `venv/bin/pip` would be.
        rc, _, _ = run([PYTHON, "-m", "venv", "--without-pip", "--system-site-packages",
                        venv], env=env)
        if not check(rc == 0, "python3 -m venv --system-site-packages makes a venv"):
            return 1
        rc, _, _ = run([PYTHON, "-m", "pip", "--python", py, "install",
                        "--no-build-isolation", "--no-index", "--no-cache-dir", pkg],
                       env=env, cwd=tmp)
        if not check(rc == 0, "pip install --no-build-isolation --no-index"
                     " clients/python (offline) exits 0"):
            return 1

        probe = ("import importlib.metadata as m, xsell, json; "
                 "print(json.dumps([xsell.__file__, xsell.__version__, "
                 "m.version('xsell'), m.requires('xsell')]))")
        rc, out, _ = run([py, "-c", probe], env=env, cwd=tmp)
        if check(rc == 0, "the venv imports the installed package"):
            where, version, dist_version, requires = json.loads(out)
            check(os.path.realpath(where).startswith(os.path.realpath(venv) + os.sep),
                  f"xsell is imported from the venv ({where})")
            check(version == args.version and dist_version == args.version,
                  f"xsell.__version__ {version} and the distribution's {dist_version}"
                  f" are the project's {args.version} (pyproject.toml, __init__.py)")
            names = sorted(re.split(r"[\s(<>=!~;\[]", r, 1)[0] for r in requires or [])
            check(names == ["msgpack", "pyzmq"],
                  f"the package depends on pyzmq and msgpack only ({requires})")

        tests = os.path.join(pkg, "tests")
        rc, out, err = run([py, "-m", "unittest", "discover", "-s", tests, "-t", tests, "-v"],
                           timeout=240, cwd=tmp,
                           env=dict(env, XSELL=os.path.abspath(args.xsell),
                                    XSELL_SOURCE=src))
        check(rc == 0, "the package's tests pass against live servers (rc %s)" % rc)
        check("skipped" not in (out + err).split("Ran ")[-1],
              "none of the package's tests was skipped")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
