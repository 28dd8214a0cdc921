#!/usr/bin/env python3
"""symbols.py -- libxsell exports exactly what include/xsell/*.h declares.

The declared functions come from the compiler itself: `cc -aux-info` over
<xsell/xsell.h> lists every function prototype with the header it stands
in; static inline helpers and xs_plugin_entry (the symbol a plugin exports,
not the library) are left out.  The exported ones come from `nm -D
--defined-only` of the built library.  Both directions are checked: a
declared function the library does not export (XS_API forgotten), and an
exported symbol no header declares (a private helper leaking out).

With PLUGIN_DIR, every *.so there (the built-in plugins) must export one
symbol, xs_plugin_entry, and nothing else.

usage: symbols.py LIBXSELL.so SOURCE_DIR CC [PLUGIN_DIR]
"""
import glob
import os
import re
import subprocess
import sys
import tempfile


def declared(src, cc):
    with tempfile.TemporaryDirectory() as tmp:
        aux = os.path.join(tmp, "aux.txt")
        p = subprocess.run(
            [cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-fsyntax-only",
             "-I", os.path.join(src, "include"), "-aux-info", aux, "-x", "c",
             "-"],
            input="#include <xsell/xsell.h>\n", text=True,
            capture_output=True)
        if p.returncode != 0:
            sys.exit("FAIL: %s cannot compile <xsell/xsell.h>:\n%s"
                     % (cc, p.stderr))
        text = open(aux).read()
    names = {}
    for line in text.splitlines():
        m = re.match(r"/\* (\S*include/xsell/[\w.]+):\d+:\w+ \*/ (.*)", line)
        if not m or not m.group(2).startswith("extern "):
            continue  # other headers, or static inline
        f = re.search(r"(\w+) \(", m.group(2))
        if f and f.group(1) != "xs_plugin_entry":
            names[f.group(1)] = os.path.basename(m.group(1))
    return names


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], text=True,
                         capture_output=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtWwDdBbRrVvi":
            syms.add(parts[2].split("@")[0])
    return syms


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: symbols.py LIBXSELL.so SOURCE_DIR CC [PLUGIN_DIR]")
    lib, src, cc = sys.argv[1:4]
    decl = declared(src, cc)
    exp = exported(lib)
    fails = 0
    for name in sorted(set(decl) - exp):
        print("FAIL: %s (declared in %s) is not exported: XS_API missing?"
              % (name, decl[name]))
        fails += 1
    for name in sorted(exp - set(decl)):
        print("FAIL: %s is exported but no public header declares it"
              % name)
        fails += 1
    if len(decl) < 50:  # the check itself must see the headers
        print("FAIL: only %d declarations found" % len(decl))
        fails += 1
    plugins = sorted(glob.glob(os.path.join(sys.argv[4], "*.so"))) \
        if len(sys.argv) == 5 else []
    for so in plugins:
        got = exported(so)
        if got != {"xs_plugin_entry"}:
            print("FAIL: %s exports %s, want xs_plugin_entry alone"
                  % (os.path.basename(so), sorted(got)))
            fails += 1
    if len(sys.argv) == 5 and len(plugins) < 4:
        print("FAIL: %d plugins in %s" % (len(plugins), sys.argv[4]))
        fails += 1
    print("symbols: %d declared, %d exported, %d plugin(s), %d problem(s)"
          % (len(decl), len(exp), len(plugins), fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
