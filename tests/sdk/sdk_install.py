#!/usr/bin/python3
"""sdk_install.py -- the plugin SDK path, from `cmake --install` to a plugin
built out of tree and run by the installed xsell.

Run by ctest (tests/sdk.cmake) as

    /usr/bin/python3 tests/sdk/sdk_install.py --build-dir BUILD \\
        --source-dir SRC --libdir LIBDIR --bindir BINDIR --includedir INCDIR \\
        [--cmake CMAKE] [--sanitize ON|OFF]

1. installs BUILD into a temporary prefix and checks the layout: headers,
   libxsell, bin/xsell, every built-in plugin, LIBDIR/pkgconfig/xsell.pc;
2. checks what pkg-config says of it (PKG_CONFIG_PATH=PREFIX/LIBDIR/pkgconfig):
   version, -I, -L/-lxsell, plugindir;
3. the installed xsell (not the build tree's; XSELL_PLUGIN_PATH unset) runs
   through its RPATH and lists exactly the installed built-in plugins, from
   the prefix;
4. copies examples/plugin-sample to a temporary directory and builds it
   there: `make` (warnings as errors), `make check` (test_seasonal against
   the installed libxsell; with sanitizers when the build has them, the
   plugin itself always without), and with its CMakeLists.txt;
5. runs `xsell recommend --plugin /path/seasonal.so` on tests/data/sdk (two
   years with summer and winter items) and checks the answers: the items,
   their order, and every score and explain field against a reference
   computation in this file; unknown options and bad values are refused;
6. loads the plugin by name with --plugin-dir, then after `make install`
   (into pkg-config's plugindir) with no option at all;
7. moves the installed tree elsewhere: xsell still finds its plugins.

Exit 0 when every check passed, 1 otherwise (each failure printed), 77 when
make or pkg-config is missing.
"""
import argparse
import csv
import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

failures = []

# The fixture's known answers (k = 5): (items, options) -> items in order.
# Summer: ice cream, lemonade and the sun hat sell in June-August; winter:
# gloves and cocoa in December-January; bread and water all year.
SUMMER = ["seasonal.date=2024-07-15"]
CASES = [
    ("bread", SUMMER + ["seasonal.categories=all"], ["ice_cream", "lemonade", "sunhat"]),
    ("water", SUMMER, ["lemonade"]),             # drinks only
    ("sunhat", SUMMER, []),                      # the only apparel in season is the basket's
    ("bread", ["seasonal.categories=all"], ["gloves", "cocoa"]),  # latest sale: 2024-12-18
    ("water", [], ["cocoa"]),
    ("bread", ["seasonal.date=1720000000", "seasonal.categories=all"],  # 2024-07-03
     ["ice_cream", "lemonade", "sunhat"]),
    ("bread", ["seasonal.date=2024-04-15", "seasonal.categories=all"], []),  # nothing
    # +/- 3 days: sun hats on the 13th, lemonade on the 16th, and one ice
    # cream: 2023-07-18 noon is 2.7 days away on the mean year, 2024-07-18
    # noon 3.5 days
    ("bread", SUMMER + ["seasonal.categories=all", "seasonal.window=3"],
     ["sunhat", "lemonade", "ice_cream"]),
    ("bread", SUMMER + ["seasonal.categories=all", "seasonal.min_lift=4.2"], ["ice_cream"]),
]
BAD = [
    ("seasonal.colour=red", "unknown option 'colour'"),
    ("seasonal.window=0", "window: want"),
    ("seasonal.window=200", "window: want"),
    ("seasonal.date=2024-02-30", "date: want"),
    ("seasonal.date=soon", "date: want"),
    ("seasonal.smoothing=-1", "smoothing: want"),
    ("seasonal.min_lift=0.5", "min_lift: want"),
    ("seasonal.categories=some", "categories: want"),
]


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def run(cmd, env=None, cwd=None, timeout=300):
    """Runs cmd, returns (rc, stdout, stderr); rc None on a timeout."""
    print("$ " + " ".join(cmd), flush=True)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"(timed out after {timeout} s)", flush=True)
        return None, "", ""
    sys.stdout.write(p.stdout + p.stderr)
    sys.stdout.flush()
    return p.returncode, p.stdout, p.stderr


def same(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


# ---- the reference computation (the formula of seasonal.c, written anew) ----

YEAR = 365.2425 * 86400


def reference(events, ref, window=30, smoothing=5.0, min_lift=1.5):
    """item -> (score, season, sales, lift) for every item with lift >=
    min_lift."""
    def in_season(ts):
        d = (ts - ref) % YEAR
        return min(d, YEAR - d) <= window * 86400

    sales, season = {}, {}
    for item, ts in events:
        sales[item] = sales.get(item, 0) + 1
        season[item] = season.get(item, 0) + in_season(ts)
    first, last = min(ts for _, ts in events), max(ts for _, ts in events)
    days = range(first, last + 1, 86400)  # S: the span's days in season
    share = sum(in_season(t) for t in days) / len(days)
    out = {}
    for item in sales:
        lift = (season[item] + smoothing * share) / ((sales[item] + smoothing) * share)
        if lift >= min_lift and season[item] > 0:
            out[item] = (lift * math.log1p(season[item]), season[item], sales[item], lift)
    return out


def parse_ts(s):
    t = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())


def parse_date(s):
    if s.isdigit():
        return int(s)
    return parse_ts(s + " 00:00")


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--libdir", default="lib")
    ap.add_argument("--bindir", default="bin")
    ap.add_argument("--includedir", default="include")
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--sanitize", default="OFF")
    a = ap.parse_args()
    for tool in ("make", "pkg-config"):
        if not shutil.which(tool):
            print(f"skipped: no {tool}")
            return 77
    sanitize = a.sanitize.upper() in ("ON", "1", "TRUE", "YES")
    src = os.path.abspath(a.source_dir)
    fixture = os.path.join(src, "tests", "data", "sdk")
    events_csv = os.path.join(fixture, "events.csv")
    catalog_csv = os.path.join(fixture, "catalog.csv")
    tmp = tempfile.mkdtemp(prefix="xsell-sdk-")
    try:
        return sdk(a, src, tmp, events_csv, catalog_csv, sanitize)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sdk(a, src, tmp, events_csv, catalog_csv, sanitize):
    prefix = os.path.join(tmp, "prefix")
    libdir = os.path.join(prefix, a.libdir)
    plugindir = os.path.join(libdir, "xsell", "plugins")
    xsell = os.path.join(prefix, a.bindir, "xsell")
    env = dict(os.environ)
    env.pop("XSELL_PLUGIN_PATH", None)
    env.pop("LD_LIBRARY_PATH", None)
    env["PKG_CONFIG_PATH"] = os.path.join(libdir, "pkgconfig")

    # 1. install
    rc, _, _ = run([a.cmake, "--install", a.build_dir, "--prefix", prefix], env=env)
    if not check(rc == 0, f"cmake --install exits 0 (got {rc})"):
        return 1
    headers = sorted(os.listdir(os.path.join(src, "include", "xsell")))
    inc = os.path.join(prefix, a.includedir, "xsell")
    check(all(os.path.isfile(os.path.join(inc, h)) for h in headers),
          f"every public header installed in {inc} ({len(headers)})")
    check(os.path.isfile(os.path.join(libdir, "libxsell.so")), "libxsell.so installed")
    check(os.access(xsell, os.X_OK), "bin/xsell installed")
    check(os.path.isfile(os.path.join(libdir, "pkgconfig", "xsell.pc")),
          f"{a.libdir}/pkgconfig/xsell.pc installed")
    build_plugins = os.path.join(a.build_dir, "plugins")
    builtins = sorted(f[:-3] for f in os.listdir(build_plugins) if f.endswith(".so"))
    installed = sorted(f[:-3] for f in os.listdir(plugindir) if f.endswith(".so")) \
        if os.path.isdir(plugindir) else []
    check("copurchase" in builtins and installed == builtins,
          f"built-in plugins installed in {plugindir}: {installed}, want {builtins}")

    # 2. pkg-config
    rc, out, _ = run(["pkg-config", "--modversion", "xsell"], env=env)
    vrc, vout, _ = run([xsell, "version"], env=env)
    check(rc == 0 and vrc == 0 and out.strip() and out.split()[0] in vout,
          f"pkg-config --modversion ({out.strip()}) is the installed xsell's ({vout.strip()})")
    rc, out, _ = run(["pkg-config", "--cflags", "xsell"], env=env)
    incs = [f[2:] for f in out.split() if f.startswith("-I")]
    check(rc == 0 and any(same(i, os.path.join(prefix, a.includedir)) for i in incs),
          "pkg-config --cflags gives -I for the installed include directory")
    rc, out, _ = run(["pkg-config", "--libs", "xsell"], env=env)
    check(rc == 0 and "-lxsell" in out.split() and
          any(f.startswith("-L") and same(f[2:], libdir) for f in out.split()),
          "pkg-config --libs gives -L for the installed libdir and -lxsell")
    rc, out, _ = run(["pkg-config", "--variable=plugindir", "xsell"], env=env)
    check(rc == 0 and same(out.strip(), plugindir),
          f"pkg-config --variable=plugindir xsell is {plugindir}")

    # 3. the installed xsell: runs (RPATH) and lists the installed plugins
    rc, out, _ = run([xsell, "plugins", "--format", "json"], env=env)
    listed = json.loads(out)["plugins"] if rc == 0 else []
    check(rc == 0 and sorted(p["name"] for p in listed) == builtins,
          f"installed xsell lists the built-in plugins {builtins}")
    check(listed and all(same(os.path.dirname(p["file"]), plugindir) for p in listed),
          "... each from the installed plugin directory, none from the build tree")

    # 4. the sample plugin, out of tree
    work = os.path.join(tmp, "plugin-sample")
    shutil.copytree(os.path.join(src, "examples", "plugin-sample"), work,
                    ignore=shutil.ignore_patterns("build", "*.so", "test_seasonal"))
    cflags = "-O2 -g -Wall -Wextra -Werror"
    rc, _, _ = run(["make", "CFLAGS=" + cflags], env=env, cwd=work)
    plugin = os.path.join(work, "seasonal.so")
    if not check(rc == 0 and os.path.isfile(plugin), "make builds seasonal.so"):
        return 1
    if shutil.which("nm"):
        rc, out, _ = run(["nm", "-D", "--defined-only", plugin], env=env)
        syms = [line.split()[-1] for line in out.splitlines() if line.strip()]
        check(rc == 0 and syms == ["xs_plugin_entry"],
              f"seasonal.so exports xs_plugin_entry only ({syms})")
    # test_seasonal links libxsell: with an instrumented libxsell it must be
    # instrumented too; the plugin stays a plain build.
    san = " -fsanitize=address,undefined" if sanitize else ""
    rc, _, _ = run(["make", "check", "CFLAGS=" + cflags + san], env=env, cwd=work)
    check(rc == 0, "make check: test_seasonal passes against the installed libxsell")
    cbuild = os.path.join(tmp, "cmake-build")
    rc, _, _ = run([a.cmake, "-S", work, "-B", cbuild, "-DCMAKE_C_FLAGS=-Werror" + san], env=env)
    if rc == 0:
        rc, _, _ = run([a.cmake, "--build", cbuild], env=env)
    check(rc == 0 and os.path.isfile(os.path.join(cbuild, "seasonal.so")),
          "the sample's CMakeLists.txt (pkg_check_modules) builds seasonal.so")

    # 5. known answers with --plugin PATH
    with open(events_csv, newline="") as f:
        events = [(r["item"], parse_ts(r["timestamp"])) for r in csv.DictReader(f)]
    latest = max(ts for _, ts in events)

    def recommend(items, opts, plugin_arg, extra=()):
        cmd = [xsell, "recommend", "--events", events_csv, "--catalog", catalog_csv,
               "--items", items, "--k", "5", "--plugin", plugin_arg, "--explain",
               "--format", "json", *extra]
        for o in opts:
            cmd += ["--plugin-opt", o]
        return run(cmd, env=env)

    for items, opts, want in CASES:
        label = f"--items {items} {' '.join(opts) or '(defaults)'}"
        rc, out, _ = recommend(items, opts, plugin)
        if not check(rc == 0, f"{label}: exit 0 (got {rc})"):
            continue
        got = json.loads(out)["items"]
        check([g["item"] for g in got] == want,
              f"{label}: {[g['item'] for g in got]}, want {want}")
        kv = dict(o.split(".", 1)[1].split("=", 1) for o in opts)
        ref = parse_date(kv["date"]) if "date" in kv else latest
        expect = reference(events, ref, window=int(kv.get("window", 30)),
                           min_lift=float(kv.get("min_lift", 1.5)))
        ref_text = datetime.datetime.fromtimestamp(ref, datetime.timezone.utc).strftime("%Y-%m-%d")
        ok = True
        for g in got:
            e = expect.get(g["item"])
            ok = ok and e is not None and close(g["score"], e[0]) and \
                g["season_sales"] == e[1] and g["sales"] == e[2] and \
                close(g["lift"], e[3]) and g["plugin"] == "seasonal" and \
                g["reference"] == ref_text and g["window"] == int(kv.get("window", 30))
        check(ok, f"{label}: scores and explain fields match the reference computation")

    for opt, msg in BAD:
        rc, _, err = recommend("bread", [opt], plugin)
        check(rc not in (0, None) and msg in err,
              f"{opt} refused with a message naming it (exit {rc})")

    # 6. by name: --plugin-dir, then installed into plugindir
    want = ["ice_cream", "lemonade", "sunhat"]
    rc, out, _ = recommend("bread", CASES[0][1], "seasonal", ["--plugin-dir", work])
    check(rc == 0 and [g["item"] for g in json.loads(out)["items"]] == want,
          "--plugin-dir DIR --plugin seasonal loads it by name")
    rc, _, _ = run(["make", "install"], env=env, cwd=work)
    check(rc == 0 and os.path.isfile(os.path.join(plugindir, "seasonal.so")),
          "make install puts seasonal.so in pkg-config's plugindir")
    rc, out, _ = recommend("bread", CASES[0][1], "seasonal")
    check(rc == 0 and [g["item"] for g in json.loads(out)["items"]] == want,
          "the installed xsell finds the installed seasonal by name")
    rc, out, _ = run([xsell, "plugins", "--format", "json"], env=env)
    names = sorted(p["name"] for p in json.loads(out)["plugins"]) if rc == 0 else []
    check(names == sorted(builtins + ["seasonal"]),
          f"xsell plugins lists the built-ins and seasonal ({names})")

    # 7. the installed tree moved: RPATH and plugin lookup follow it
    moved = os.path.join(tmp, "moved")
    os.rename(prefix, moved)
    xsell2 = os.path.join(moved, a.bindir, "xsell")
    rc, out, _ = run([xsell2, "plugins", "--format", "json"], env=env)
    listed = json.loads(out)["plugins"] if rc == 0 else []
    check(rc == 0 and sorted(p["name"] for p in listed) == sorted(builtins + ["seasonal"]) and
          all(same(os.path.dirname(p["file"]),
                   os.path.join(moved, a.libdir, "xsell", "plugins")) for p in listed),
          "after moving the prefix, xsell lists its plugins from the new place")
    env["PKG_CONFIG_PATH"] = os.path.join(moved, a.libdir, "pkgconfig")
    rc, out, _ = run(["pkg-config", "--variable=plugindir", "xsell"], env=env)
    check(rc == 0 and same(out.strip(), os.path.join(moved, a.libdir, "xsell", "plugins")),
          "... and xsell.pc follows it too")

    if failures:
        print(f"{len(failures)} check(s) failed:")
        for f in failures:
            print("  " + f)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
