#!/usr/bin/python3
"""run_clients.py -- the example clients against a live server.

Run by ctest (tests/examples.cmake) as

    /usr/bin/python3 tests/examples/run_clients.py --xsell PATH/TO/xsell \\
        --source-dir SRC [--plugin-dir DIR] [--cmake CMAKE]

1. builds examples/c-client out of tree, with its own CMakeLists.txt and with
   its Makefile, warnings as errors;
2. starts `xsell serve` on the sample store, on a free port (--port-file);
3. runs examples/python/storefront.py, then the C client (under valgrind
   when it is installed): each must exit 0 and show the product its checkout
   ingested in the product's "also bought" list, and the C client must see
   the Python client's order too;
4. checks both exit 1 on an error reply and on a timeout;
5. stops the server with SIGTERM: it must exit 0;
6. makes CURVE keys with `xsell keygen` (server, and shop as a write key),
   starts `xsell serve --curve-key server.key --clients DIR` and runs both
   clients again with --curve-server-key and --curve-key, checked as in 3;
   without keys each must time out (exit 1), and a secret key others may
   read, or only one of the two options, must be refused.

The servers are killed whatever happens.  Exit 0 when every check passed, 1
otherwise (each failure printed).
"""
import argparse
import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3"
failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def run(cmd, timeout, **kw):
    """Runs cmd, returns (rc, stdout, stderr); rc None on a timeout."""
    print("$ " + " ".join(cmd), flush=True)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        print(out + err + f"(timed out after {timeout} s)", flush=True)
        return None, out, err
    sys.stdout.write(p.stdout + p.stderr)
    sys.stdout.flush()
    return p.returncode, p.stdout, p.stderr


def free_port():
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_storefront(name, rc, out, catalog, product):
    """The output of one storefront run; returns its new product's id."""
    if not check(rc == 0, f"{name} exits 0 (got {rc})"):
        return None
    title = catalog.get(product)
    check(f"1. Product page: {product}  {title}" in out,
          f"{name} prints the product's title from the catalog ({title!r})")
    m = re.search(r"^   -> (\S+) is now #(\d+): the orders count at once$", out, re.M)
    if not check(m is not None, f"{name} shows its ingested product in the 'also bought' list"):
        return None
    new_item = m.group(1)
    before, _, after = out.partition("\n3. Checkout: ")
    check(new_item not in before, f"{name}: {new_item} is not shown before the checkout")
    check(re.search(rf"^   \d+\. {re.escape(new_item)} ", after, re.M) is not None,
          f"{name}: {new_item} is listed after the checkout")
    check(re.search(r"^2\. Basket page: \S+, \S+$", out, re.M) is not None,
          f"{name} asks for a basket of two items")
    return new_item


def start_server(xsell, args, tmp, name, env):
    """Starts `xsell serve ARGS --port-file ...` (its output in a log file
    in TMP); returns (process, log, port file, endpoint), the endpoint
    None when no port file came."""
    stem = os.path.join(tmp, name.replace(" ", "-"))
    port_file = stem + ".port"
    cmd = [xsell, "serve"] + args + ["--port-file", port_file]
    print("$ " + " ".join(cmd), flush=True)
    log = open(stem + ".log", "w+")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 30
    while not os.path.exists(port_file) and server.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    endpoint = None
    if check(os.path.exists(port_file), f"the {name} writes its port file"):
        with open(port_file) as f:
            endpoint = f.read().strip()
        print(f"{name} at {endpoint}", flush=True)
    return server, log, port_file, endpoint


def stop_server(server, port_file, name):
    """SIGTERM: the server must exit 0 and remove its port file."""
    server.send_signal(signal.SIGTERM)
    try:
        rc = server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 0, f"the {name} exits 0 on SIGTERM (got {rc})")
    check(not os.path.exists(port_file), f"the {name} removes its port file")


def run_both(src, c_client, valgrind, endpoint, catalog_csv, catalog, env, extra=(),
             label=""):
    """Both storefronts against endpoint, checked; the C one after the
    Python one, and it must see the Python one's order."""
    extra = list(extra)
    rc, out, _ = run([PYTHON, os.path.join(src, "examples/python/storefront.py"),
                      "--connect", endpoint, "--catalog", catalog_csv] + extra, 60, env=env)
    py_item = check_storefront("storefront.py" + label, rc, out, catalog, "P000030")
    rc, out, _ = run(valgrind + [c_client, "--connect", endpoint, "--catalog", catalog_csv]
                     + extra, 120, env=env)
    what = "storefront (C" + (", under valgrind)" if valgrind else ")") + label
    c_item = check_storefront(what, rc, out, catalog, "P000030")
    if py_item and c_item:
        first_page = out.partition("\n2. Basket page")[0]
        check(py_item in first_page,
              f"the C client sees the Python client's order ({py_item}) at once{label}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xsell", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--plugin-dir")
    ap.add_argument("--cmake", default="cmake")
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    events = os.path.join(src, "examples/data/events.csv")
    catalog_csv = os.path.join(src, "examples/data/catalog.csv")
    with open(catalog_csv, newline="", encoding="utf-8-sig") as f:
        catalog = {r["item"]: r["title"] for r in csv.DictReader(f)}
    env = dict(os.environ, LC_ALL="C", PYTHONDONTWRITEBYTECODE="1")
    env.pop("XSELL_PLUGIN_PATH", None)

    tmp = tempfile.mkdtemp(prefix="xsell_examples_")
    servers = []  # (process, log, name)
    try:
        # 1. The C client, out of tree: CMake, then the Makefile.
        cbuild = os.path.join(tmp, "c-client-cmake")
        rc, _, _ = run([args.cmake, "-S", os.path.join(src, "examples/c-client"), "-B", cbuild,
                        "-DCMAKE_C_FLAGS=-Werror"], 120, env=env)
        if check(rc == 0, "cmake configures examples/c-client"):
            rc, _, _ = run([args.cmake, "--build", cbuild], 180, env=env)
            check(rc == 0, "examples/c-client builds with -Wall -Wextra -Werror (CMake)")
        c_client = os.path.join(cbuild, "storefront")
        mbuild = os.path.join(tmp, "c-client-make")
        os.mkdir(mbuild)
        if shutil.which("make"):
            rc, _, _ = run(["make", "-f", os.path.join(src, "examples/c-client/Makefile"),
                            "CFLAGS=-O2 -g -Werror"], 180, cwd=mbuild, env=env)
            check(rc == 0 and os.access(os.path.join(mbuild, "storefront"), os.X_OK),
                  "examples/c-client builds with -Wall -Wextra -Werror (Makefile)")
        if not os.access(c_client, os.X_OK):
            return 1

        # 2. The server, on a free port.
        serve = ["--events", events, "--catalog", catalog_csv,
                 "--bind", "tcp://127.0.0.1:*", "--threads", "2"]
        if args.plugin_dir:
            serve += ["--plugin-dir", args.plugin_dir]
        server, log, port_file, endpoint = start_server(args.xsell, serve, tmp, "server", env)
        servers.append((server, log, "server"))
        if endpoint is None:
            return 1

        # 3. Both clients.
        valgrind = []
        if shutil.which("valgrind"):
            valgrind = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                        "--errors-for-leak-kinds=definite,indirect,possible"]
        run_both(src, c_client, valgrind, endpoint, catalog_csv, catalog, env)

        # 4. Error replies and timeouts: exit 1, the error on stderr.
        dead = f"tcp://127.0.0.1:{free_port()}"
        clients = (("storefront.py", [PYTHON, os.path.join(src, "examples/python/storefront.py")]),
                   ("storefront (C)", valgrind + [c_client]))
        for name, client in clients:
            rc, _, err = run(client + ["--connect", endpoint, "--k", "0"], 120, env=env)
            check(rc == 1 and "bad_request" in err,
                  f"{name} exits 1 on an error reply and prints its code (rc {rc})")
            rc, _, err = run(client + ["--connect", dead, "--timeout-ms", "300"], 120, env=env)
            check(rc == 1 and "timeout" in err, f"{name} exits 1 on a timeout (rc {rc})")

        # 5. SIGTERM: the server stops and exits 0.
        stop_server(server, port_file, "server")

        # 6. CURVE: keys from `xsell keygen`, shop.pub as a write key (the
        # checkout ingests), and the same runs with the keys.
        keys = os.path.join(tmp, "keys")
        os.makedirs(os.path.join(keys, "clients", "write"))
        for name in ("server", "shop"):
            rc, _, _ = run([args.xsell, "keygen", name], 30, cwd=keys, env=env)
            check(rc == 0, f"xsell keygen {name} exits 0 (got {rc})")
        shutil.copy(os.path.join(keys, "shop.pub"), os.path.join(keys, "clients", "write"))
        server_pub, shop_key = os.path.join(keys, "server.pub"), os.path.join(keys, "shop.key")
        curve_server, log, port_file, endpoint = start_server(
            args.xsell, serve + ["--curve-key", os.path.join(keys, "server.key"),
                                 "--clients", os.path.join(keys, "clients")],
            tmp, "CURVE server", env)
        servers.append((curve_server, log, "CURVE server"))
        if endpoint is None:
            return 1
        with_keys = ["--curve-server-key", server_pub, "--curve-key", shop_key]
        run_both(src, c_client, valgrind, endpoint, catalog_csv, catalog, env, with_keys,
                 " (CURVE)")

        # Without keys no reply comes; a world-readable secret key and one
        # option without the other are refused before anything is sent.
        loose_key = os.path.join(keys, "loose.key")
        shutil.copy(shop_key, loose_key)
        os.chmod(loose_key, 0o644)
        clients = (("storefront.py", [PYTHON, os.path.join(src, "examples/python/storefront.py")]),
                   ("storefront (C)", [c_client]))
        for name, client in clients:
            t0 = time.monotonic()
            rc, _, err = run(client + ["--connect", endpoint, "--timeout-ms", "300"], 30, env=env)
            took = time.monotonic() - t0
            check(rc == 1 and "timeout" in err and took < 10,
                  f"{name} without keys times out against the CURVE server, exit 1"
                  f" (rc {rc}, {took:.1f} s)")
            rc, _, err = run(client + ["--connect", endpoint, "--timeout-ms", "300",
                                       "--curve-server-key", server_pub,
                                       "--curve-key", loose_key], 30, env=env)
            check(rc == 1 and "chmod 600" in err,
                  f"{name} refuses a secret key others may read (rc {rc})")
            rc, _, err = run(client + ["--connect", endpoint, "--curve-key", shop_key], 30,
                             env=env)
            check(rc == 2 and "go together" in err,
                  f"{name}: --curve-key without --curve-server-key is a usage error (rc {rc})")

        stop_server(curve_server, port_file, "CURVE server")
    finally:
        for server, log, name in servers:
            if server.poll() is None:
                server.kill()
                server.wait()
            log.seek(0)
            print(f"--- {name} log\n" + log.read(), end="", flush=True)
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
