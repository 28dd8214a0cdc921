"""server_auth.py -- who gets in (README, "On a network").

  - `xsell keygen`: NAME.key 0600 and NAME.pub, 40 Z85 characters each,
    never overwritten;
  - protected mode: --bind tcp://0.0.0.0:* without keys exits 2 saying how
    to make keys; with --insecure it serves, warns, and `stats` says so;
  - CURVE (--curve-key, --clients), with one worker and with the proxy:
    an unknown key and a plain client get no reply (refused at the
    handshake, counted in stats); a read key may recommend, rules, stats,
    health, plugins and gets `forbidden` for ingest, catalog and save
    (counted); a write key may do all; SIGHUP reads the clients again (a
    key added gets in); the keys from the config file work too; a secret
    key others may read is refused; `xsell query` with keys.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Server, Timeout, check_error,  # noqa: E402
                      pack, unpack)
import zmq  # noqa: E402

ck = Checker("server_auth")
KEYS = os.path.join(ck.tmp, "keys")


def keygen(name):
    out = subprocess.run([ck.xsell, "keygen", os.path.join(KEYS, name)],
                         capture_output=True, text=True, timeout=30)
    ck.eq(out.returncode, 0, "keygen %s: %s" % (name, out.stderr))
    return os.path.join(KEYS, name)


def read_key(path):
    with open(path, "rb") as f:
        return f.read().strip()


def client(ctx, endpoint, name=None, server="server"):
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 1500)
    s.setsockopt(zmq.SNDTIMEO, 1500)
    if name:
        s.curve_serverkey = read_key(os.path.join(KEYS, server + ".pub"))
        s.curve_publickey = read_key(os.path.join(KEYS, name + ".pub"))
        s.curve_secretkey = read_key(os.path.join(KEYS, name + ".key"))
    s.connect(endpoint)
    return s


def call(s, req):
    s.send(pack(req))
    try:
        return unpack(s.recv())
    except zmq.Again:
        raise Timeout("no reply")


def no_reply(ctx, endpoint, name, what):
    s = client(ctx, endpoint, name)
    try:
        call(s, {"op": "health"})
        ck.fail("%s got a reply" % what)
    except Timeout:
        pass
    finally:
        s.close(0)


def test_keygen():
    os.makedirs(KEYS)
    for n in ("server", "shop", "reader", "stranger", "late"):
        keygen(n)
    k = os.path.join(KEYS, "shop")
    ck.eq(os.stat(k + ".key").st_mode & 0o777, 0o600, "mode of shop.key")
    ck.eq(len(read_key(k + ".pub")), 40, "length of shop.pub")
    ck.eq(len(read_key(k + ".key")), 40, "length of shop.key")
    before = read_key(k + ".key")
    out = subprocess.run([ck.xsell, "keygen", k], capture_output=True,
                         text=True, timeout=30)
    ck.check(out.returncode != 0 and "exists" in out.stderr,
             "keygen over existing keys: %r" % (out,))
    ck.eq(read_key(k + ".key"), before, "shop.key after a second keygen")
    clients = os.path.join(ck.tmp, "clients")
    os.makedirs(os.path.join(clients, "read"))
    os.makedirs(os.path.join(clients, "write"))
    shutil.copy(os.path.join(KEYS, "shop.pub"), os.path.join(clients, "write"))
    shutil.copy(os.path.join(KEYS, "reader.pub"), os.path.join(clients, "read"))
    return clients


def test_protected(ctx):
    pf = os.path.join(ck.tmp, "open.port")
    out = subprocess.run(
        [ck.xsell, "serve", "--events", ck.events_csv(), "--bind",
         "tcp://0.0.0.0:*", "--port-file", pf, "--plugins", "popular"],
        capture_output=True, text=True, timeout=30)
    ck.eq(out.returncode, 2, "0.0.0.0 without keys: exit code")
    ck.check("protected mode" in out.stderr and "xsell keygen" in
             out.stderr, "0.0.0.0 without keys: message %r" % out.stderr)
    srv = Server(ck, ["--bind", "tcp://0.0.0.0:*", "--insecure"],
                 label="insecure")
    ck.check("WARNING: --insecure" in srv.stderr(), "no warning: %s"
             % srv.stderr())
    ep = srv.endpoint
    s = client(ctx, ep)
    st = call(s, {"op": "stats"})
    ck.eq(st.get("security"), {"curve": False, "insecure": True,
                               "refused_handshakes": 0, "forbidden": 0},
          "stats.security with --insecure")
    s.close(0)
    srv.stop_and_check()


def test_curve(ctx, clients, threads):
    key = os.path.join(KEYS, "server.key")
    srv = Server(ck, ["--curve-key", key, "--clients", clients],
                 threads=threads, label="curve%d" % threads)
    ep = srv.endpoint
    no_reply(ctx, ep, None, "%dT: a plain client" % threads)
    no_reply(ctx, ep, "stranger", "%dT: an unknown key" % threads)
    r = client(ctx, ep, "reader")
    for op in ({"op": "recommend", "items": ["P000001"], "k": 3},
               {"op": "rules", "limit": 5}, {"op": "stats"},
               {"op": "health"}, {"op": "plugins"}):
        rep = call(r, op)
        ck.check(rep.get("ok") is True, "%dT: read key, %s: %r"
                 % (threads, op["op"], rep))
    writes = [{"op": "ingest", "events": [{"customer": "x", "item": "y"}]},
              {"op": "catalog", "items": [{"item": "y", "category": "c",
                                           "price": 1}]},
              {"op": "save"}]
    for op in writes:
        check_error(ck, call(r, op), "forbidden", "%dT: read key, %s"
                    % (threads, op["op"]), message_has="write key")
    w = client(ctx, ep, "shop")
    for op in writes[:2]:
        rep = call(w, op)
        ck.check(rep.get("ok") is True, "%dT: write key, %s: %r"
                 % (threads, op["op"], rep))
    st = call(w, {"op": "stats"})
    sec = st.get("security", {})
    ck.check(sec.get("curve") is True and sec.get("forbidden") == 3 and
             sec.get("refused_handshakes", 0) >= 1,
             "%dT: stats.security %r" % (threads, sec))
    # SIGHUP: a key added to read/ gets in
    no_reply(ctx, ep, "late", "%dT: a key not yet added" % threads)
    shutil.copy(os.path.join(KEYS, "late.pub"), os.path.join(clients, "read"))
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "clients reloaded" not in srv.stderr() and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    ck.check("clients reloaded: 2 read, 1 write" in srv.stderr(),
             "%dT: SIGHUP: %s" % (threads, srv.stderr()))
    late = client(ctx, ep, "late")
    ck.check(call(late, {"op": "health"}).get("ok") is True,
             "%dT: the key added before SIGHUP" % threads)
    os.remove(os.path.join(clients, "read", "late.pub"))
    for s in (r, w, late):
        s.close(0)
    # xsell query with keys
    q = [ck.xsell, "query", "--connect", ep, "--timeout-ms", "3000",
         "--curve-server-key", os.path.join(KEYS, "server.pub"),
         "--curve-key", os.path.join(KEYS, "reader.key")]
    out = subprocess.run(q + ["health"], capture_output=True, text=True,
                         timeout=30)
    ck.check(out.returncode == 0 and '"ok":true' in out.stdout,
             "%dT: xsell query with keys: %r" % (threads, out))
    out = subprocess.run(q + ["save"], capture_output=True, text=True,
                         timeout=30)
    ck.check(out.returncode == 1 and "forbidden" in out.stdout,
             "%dT: xsell query save with a read key: %r" % (threads, out))
    srv.stop_and_check()


def test_config_and_modes(ctx, clients):
    conf = os.path.join(ck.tmp, "serve.conf")
    with open(conf, "w") as f:
        f.write("serve.curve_key = %s\nserve.clients = %s\n"
                % (os.path.join(KEYS, "server.key"), clients))
    srv = Server(ck, ["--config", conf, "--bind", "tcp://0.0.0.0:*"],
                 label="config")
    ep = srv.endpoint
    s = client(ctx, ep, "shop")
    ck.check(call(s, {"op": "stats"}).get("security", {}).get("curve") is True,
             "keys from the config file")
    s.close(0)
    no_reply(ctx, ep, None, "config: a plain client")
    srv.stop_and_check()
    not_key = os.path.join(ck.tmp, "not.key")
    shutil.copy(ck.events_csv(), not_key)
    os.chmod(not_key, 0o600)
    for args, says in ((["--clients", clients], "--clients needs"),
                       (["--curve-key", os.path.join(KEYS, "server.key")],
                        "needs --clients"),
                       (["--curve-key", os.path.join(KEYS, "server.pub"),
                         "--clients", clients], "others may read"),
                       (["--curve-key", not_key, "--clients", clients],
                        "not a CURVE key")):
        out = subprocess.run([ck.xsell, "serve", "--events", ck.events_csv(),
                              "--bind", "tcp://127.0.0.1:*"] + args,
                             capture_output=True, text=True, timeout=30)
        ck.check(out.returncode == 2 and says in out.stderr,
                 "%s: exit %d, %r" % (args, out.returncode, out.stderr))
    empty = os.path.join(ck.tmp, "no-keys")
    os.makedirs(os.path.join(empty, "read"))
    out = subprocess.run([ck.xsell, "serve", "--events", ck.events_csv(),
                          "--bind", "tcp://127.0.0.1:*", "--curve-key",
                          os.path.join(KEYS, "server.key"), "--clients",
                          empty], capture_output=True, text=True, timeout=30)
    ck.check(out.returncode == 2 and "no key in" in out.stderr,
             "a clients directory without keys: %d %r"
             % (out.returncode, out.stderr))
    loose = os.path.join(ck.tmp, "loose.key")
    shutil.copy(os.path.join(KEYS, "server.key"), loose)
    os.chmod(loose, 0o644)
    out = subprocess.run(
        [ck.xsell, "serve", "--events", ck.events_csv(), "--bind",
         "tcp://127.0.0.1:*", "--curve-key", loose, "--clients", clients],
        capture_output=True, text=True, timeout=30)
    ck.check(out.returncode == 2 and "chmod 600" in out.stderr,
             "a secret key others may read: %r" % (out,))


def main():
    ctx = zmq.Context()
    try:
        clients = test_keygen()
        test_protected(ctx)
        for threads in (1, 2):
            test_curve(ctx, clients, threads)
        test_config_and_modes(ctx, clients)
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError, KeyError,
            OSError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
    finally:
        ctx.destroy(0)
    ck.finish()


main()
