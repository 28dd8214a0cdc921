"""cli_plugins.py -- `xsell plugins` and the plugin search path, end to end.

  - `xsell plugins` lists the built-in copurchase from the build tree, exit 0;
    `--format json` is one valid JSON document with name, version, abi,
    description and file;
  - `--plugin-dir DIR` of the test plugins: the good ones listed on stdout,
    every broken one reported on stderr naming its file, exit 1 -- and the
    json stays valid;
  - search order: --plugin-dir, then XSELL_PLUGIN_PATH (colon separated, in
    order), then the build default; a file name seen earlier hides later
    ones; `recommend --plugin NAME` loads the first one found.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_plugins")
tp_dir = ck.getenv("XS_TEST_PLUGIN_DIR")
plugin_dir = ck.getenv("XS_PLUGIN_DIR")
small = ck.data("cli", "small_baskets.csv")
cp_file = os.path.join(plugin_dir, "copurchase.so")
BUILTIN = ["copurchase", "upsell", "recency", "popular", "ease"]

GOOD = {"testgood.so": "testgood", "marker.so": "testgood",
        "create_fails.so": "broken",
        "create_silent.so": "broken", "prepare_fails.so": "broken",
        "dup_name.so": "copurchase", "older.so": "older",
        "newer.so": "newer"}
BROKEN = ["bad_abi.so", "null_entry.so", "no_entry.so", "bad_name.so",
          "null_name.so", "long_name.so", "no_create.so", "no_recommend.so",
          "no_destroy.so", "unresolved.so", "small_size.so", "not_elf.so",
          "empty.so"]


def listed(doc, label):
    """[(name, file)] of a json listing, checking each entry's shape."""
    out = []
    if not ck.check(isinstance(doc, dict) and list(doc) == ["plugins"] and
                    isinstance(doc["plugins"], list),
                    "%s: json shape %r" % (label, doc)):
        return out
    for p in doc["plugins"]:
        ok = (isinstance(p, dict) and
              set(p) == {"name", "version", "abi", "description", "file"} and
              isinstance(p["abi"], int))
        ck.check(ok, "%s: entry %r" % (label, p))
        if ok:
            out.append((p["name"], p["file"]))
    return out


# -- the default: the build tree's copurchase ------------------------------------
rc, out, err = ck.expect(["plugins"], 0, stdout_has=["copurchase", cp_file])
ck.check(err == "", "plugins: stderr %r" % err)
doc = ck.json_of(["plugins", "--format", "json"])
got = listed(doc, "plugins --format json")
ck.check(("copurchase", cp_file) in got, "plugins json: %r" % got)
# the ABI the headers declare, read from the source tree
with open(os.path.join(os.environ["XS_SOURCE_DIR"], "include", "xsell",
                       "plugin.h")) as f:
    ABI = int(re.search(r"#define XS_PLUGIN_ABI (\d+)", f.read()).group(1))
for p in (doc or {}).get("plugins", []):
    if p.get("name") == "copurchase":
        ck.check(p["abi"] == ABI and p["version"] and p["description"],
                 "copurchase entry %r" % p)

# -- the test plugins: good ones listed, broken ones reported, exit 1 ------------
for fmt in ("table", "json"):
    rc, out, err = ck.run(["plugins", "--plugin-dir", tp_dir, "--format", fmt])
    label = "plugins --plugin-dir test-plugins --format " + fmt
    ck.check(rc == 1, "%s: exit %d, want 1" % (label, rc))
    for f in BROKEN:
        path = os.path.join(tp_dir, f)
        ck.check(any(l.startswith("xsell plugins:") and path in l
                     for l in err.splitlines()),
                 "%s: no stderr line for %s:\n%s" % (label, path, err))
        ck.check(path not in out, "%s: broken %s on stdout" % (label, f))
    for f in GOOD:
        path = os.path.join(tp_dir, f)
        ck.check(path in out, "%s: %s not listed:\n%s" % (label, f, out))
        ck.check(path not in err, "%s: %s reported broken:\n%s"
                 % (label, f, err))
    ck.check(cp_file in out, "%s: the build default's copurchase is missing"
             % label)
    if fmt == "json":
        try:
            doc = __import__("json").loads(out)
        except ValueError as ex:
            ck.fail("%s: stdout is not JSON (%s):\n%s" % (label, ex, out))
            doc = None
        got = listed(doc, label) if doc is not None else []
        want = sorted([(n, os.path.join(tp_dir, f)) for f, n in GOOD.items()]
                      + [(n, os.path.join(plugin_dir, n + ".so"))
                         for n in BUILTIN])
        ck.check(sorted(got) == want, "%s:\n  got  %s\n  want %s"
                 % (label, sorted(got), want))
        # --plugin-dir first
        ck.check(got and got[0][1].startswith(tp_dir + "/"),
                 "%s: --plugin-dir not listed first: %r" % (label, got))

# -- search order ---------------------------------------------------------------------
A = os.path.join(ck.tmp, "a")
Bd = os.path.join(ck.tmp, "b")
D = os.path.join(ck.tmp, "d")
for d in (A, Bd, D):
    os.makedirs(d)
# "tp" is a good plugin in D and B, one whose create() fails in A
shutil.copy(os.path.join(tp_dir, "testgood.so"), os.path.join(D, "tp.so"))
shutil.copy(os.path.join(tp_dir, "create_fails.so"), os.path.join(A, "tp.so"))
shutil.copy(os.path.join(tp_dir, "testgood.so"), os.path.join(Bd, "tp.so"))
shutil.copy(os.path.join(tp_dir, "testgood.so"), os.path.join(Bd, "only_b.so"))
nowhere = os.path.join(ck.tmp, "nowhere")


def plugin_files(args, env, label):
    doc = ck.json_of(["plugins", "--format", "json"] + args, label, env=env)
    return [f for n, f in listed(doc, label)] if doc is not None else []


env_ab = {"XSELL_PLUGIN_PATH": "%s:%s::%s" % (nowhere, A, Bd)}
files = plugin_files(["--plugin-dir", D], env_ab, "plugins -d D, path A:B")
want = [os.path.join(D, "tp.so"), os.path.join(Bd, "only_b.so"), cp_file]
ck.check(files[:3] == want, "search order: listed %s, want %s first"
         % (files, want))
# A's tp.so is hidden by D's (it would otherwise be listed, it loads fine)
ck.check(os.path.join(A, "tp.so") not in files, "A/tp.so not hidden")
files = plugin_files([], env_ab, "plugins, path A:B")
ck.check(files[:3] == [os.path.join(A, "tp.so"), os.path.join(Bd, "only_b.so"),
                       cp_file], "XSELL_PLUGIN_PATH order: %s" % files)
files = plugin_files([], {"XSELL_PLUGIN_PATH": Bd + ":" + A}, "path B:A")
ck.check(files[:2] == [os.path.join(Bd, "only_b.so"),
                       os.path.join(Bd, "tp.so")],
         "XSELL_PLUGIN_PATH B:A: %s" % files)

rec = ["recommend", "--baskets", small, "--items", "milk", "--plugin", "tp",
       "--format", "json", "--k", "2"]
# --plugin-dir first: D's good tp, though A comes first in the path
doc = ck.json_of(rec + ["--plugin-dir", D], "recommend tp from D", env=env_ab)
ck.check(doc == {"items": [{"item": "bread", "score": 5, "plugin": "testgood"},
                           {"item": "yogurt", "score": 4,
                            "plugin": "testgood"}]},
         "recommend --plugin tp (D): %r" % doc)
# without --plugin-dir, A's tp is found first, and its create() fails
ck.expect(rec, 1, env=env_ab, stderr_has=[os.path.join(A, "tp.so"),
                                          "the frobnicator is missing"])
# B before A: B's good tp
ck.expect(rec, 0, env={"XSELL_PLUGIN_PATH": Bd + ":" + A},
          stdout_has="testgood")
# copurchase comes from the build default when nothing hides it ...
ck.expect(rec[:5] + ["--plugin", "copurchase"], 0, env=env_ab)
# ... and a file of that name earlier in the path hides it
shutil.copy(os.path.join(tp_dir, "testgood.so"),
            os.path.join(A, "copurchase.so"))
doc = ck.json_of(rec[:5] + ["--format", "json"], "copurchase hidden",
                 env=env_ab)
ck.check(doc is not None and doc["items"] and
         doc["items"][0]["plugin"] == "testgood",
         "A/copurchase.so did not hide the build default's: %r" % doc)
ck.expect(rec[:5] + ["--plugin", "copurchase"], 0, env={},
          stdout_has="copurchase")
# the evidence of another plugin passes through
doc = ck.json_of(rec + ["--plugin-dir", D, "--explain"], "testgood explain")
ck.check(doc is not None and doc["items"] and
         doc["items"][0].get("name") == "bread" and
         doc["items"][0].get("id") == 1, "testgood explain: %r" % doc)
# --plugin may be a path; the plugin is then asked by its own name
doc = ck.json_of(rec[:5] + ["--plugin", os.path.join(tp_dir, "testgood.so"),
                            "--format", "json", "--k", "1"], "--plugin PATH")
ck.check(doc == {"items": [{"item": "bread", "score": 5,
                            "plugin": "testgood"}]},
         "--plugin %s/testgood.so: %r" % (tp_dir, doc))
want = ck.json_of(rec[:5] + ["--format", "json"], "copurchase by name")
doc = ck.json_of(rec[:5] + ["--plugin", cp_file, "--format", "json"],
                 "copurchase by path")
ck.check(doc == want and want and want["items"],
         "--plugin %s: %r, by name %r" % (cp_file, doc, want))
# --plugin-dir that does not exist: harmless, just nothing there
ck.expect(["plugins", "--plugin-dir", nowhere], 0, stdout_has=cp_file)

ck.finish()
