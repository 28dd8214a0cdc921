#!/usr/bin/env python3
"""layers.py -- the shape of the code, checked (docs/architecture.md):

  - every file of core/ belongs to one module (its folder), and includes
    headers of its own module or of modules below it only:
        util < data < engine < serve, offline, persist < cli
    (serve, offline and persist never include each other); the public headers of
    include/xsell/ belong to modules too (table below);
  - no include cycle among the files of core/ and include/xsell/;
  - no C source or header anywhere in the tree (core, plugins, include,
    tests, bench, examples) is over 1,000 lines.

usage: layers.py SOURCE_DIR; exits 0 when all holds, 1 with one line per
problem otherwise.
"""
import os
import re
import sys

RANK = {"util": 0, "data": 1, "engine": 2, "serve": 3, "offline": 3,
        "persist": 3, "cli": 4}
PUBLIC = {  # include/xsell/NAME -> module
    "api.h": "util", "error.h": "util", "dict.h": "util", "topk.h": "util",
    "json.h": "util", "parse.h": "util", "plugin.h": "util",
    "plugin_util.h": "util",
    "dataset.h": "data", "catalog.h": "data", "cooc.h": "data",
    "measure.h": "data", "rules.h": "data", "itemsets.h": "data",
    "engine.h": "engine", "loader.h": "engine",
    "server.h": "serve", "datadir.h": "persist",
    "score.h": "offline", "eval.h": "offline", "segment.h": "offline",
    "gen.h": "offline", "clv.h": "offline",
    "xsell.h": "cli",
}
MAX_LINES = 1000
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    src = os.path.abspath(sys.argv[1])
    problems = []
    files = {}  # key "core/engine/x.c" or "include/xsell/y.h" -> text
    for top in ("core", "include/xsell"):
        for d, _, names in os.walk(os.path.join(src, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = os.path.join(d, n)
                    files[os.path.relpath(p, src)] = open(p, encoding="utf-8").read()
    if not files:
        print("no sources under %s" % src)
        return 1

    def module(key):
        if key.startswith("include/xsell/"):
            return PUBLIC.get(os.path.basename(key))
        parts = key.split("/")
        return parts[1] if len(parts) > 2 else None

    def resolve(inc):
        if inc.startswith("xsell/"):
            return "include/" + inc
        return "core/" + inc

    graph = {}
    for key, text in sorted(files.items()):
        mod = module(key)
        if mod not in RANK:
            problems.append("%s: not in a module folder (or not in the "
                            "table of public headers)" % key)
            continue
        graph[key] = []
        for inc in INCLUDE.findall(text):
            target = resolve(inc)
            if target not in files:
                if not inc.startswith("xsell/") and "/" in inc:
                    problems.append("%s: includes %s, which does not exist"
                                    % (key, inc))
                continue  # uthash.h and the like
            graph[key].append(target)
            tmod = module(target)
            if tmod is None:
                continue
            if tmod != mod and RANK[tmod] >= RANK[mod]:
                problems.append("%s (%s) includes %s (%s): a module may use "
                                "only the modules below it"
                                % (key, mod, inc, tmod))

    # cycles: depth-first search, reporting each cycle once
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in graph.get(n, []):
            if state.get(m) == 1:
                cyc = stack[stack.index(m):] + [m]
                problems.append("include cycle: " + " -> ".join(cyc))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)

    for top in ("core", "plugins", "include", "tests", "bench", "examples"):
        for d, _, names in os.walk(os.path.join(src, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = os.path.join(d, n)
                    lines = sum(1 for _ in open(p, encoding="utf-8"))
                    if lines > MAX_LINES:
                        problems.append("%s: %d lines (at most %d)"
                                        % (os.path.relpath(p, src), lines,
                                           MAX_LINES))
    for p in problems:
        print("FAIL: " + p)
    print("layers: %d files, %d problem(s)" % (len(files), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
