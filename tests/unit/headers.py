#!/usr/bin/env python3
"""headers.py -- every header compiles on its own and all of them together.

On its own: each header of include/xsell/ and core/ includes what it uses
(a file that includes it first needs nothing else).  Together: no two
headers, public or private, declare the same name differently (a type and
a function of one name, say), so any file may include any of them.

usage: headers.py SOURCE_DIR CC
"""
import glob
import os
import subprocess
import sys


def compiles(cc, src, text):
    p = subprocess.run(
        [cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra",
         "-Werror", "-fsyntax-only", "-I", os.path.join(src, "include"),
         "-I", os.path.join(src, "core"), "-x", "c", "-"],
        input=text, text=True, capture_output=True)
    return p.returncode == 0, p.stderr


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: headers.py SOURCE_DIR CC")
    src, cc = sys.argv[1:]
    heads = sorted(glob.glob(os.path.join(src, "include", "xsell", "*.h")))
    heads += sorted(glob.glob(os.path.join(src, "core", "*", "*.h")))
    names = []
    for h in heads:
        rel = os.path.relpath(h, src)
        inc = ("xsell/" + os.path.basename(h) if rel.startswith("include")
               else os.path.relpath(h, os.path.join(src, "core")))
        names.append(inc)
    fails = 0
    for inc in names:
        ok, msg = compiles(cc, src, '#include "%s"\n' % inc)
        if not ok:
            print("FAIL: %s does not compile on its own:\n%s" % (inc, msg))
            fails += 1
    ok, msg = compiles(cc, src, "".join('#include "%s"\n' % i for i in names))
    if not ok:
        print("FAIL: the headers do not compile together:\n%s" % msg)
        fails += 1
    if len(names) < 20:
        print("FAIL: only %d headers found" % len(names))
        fails += 1
    print("headers: %d, %d problem(s)" % (len(names), fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
