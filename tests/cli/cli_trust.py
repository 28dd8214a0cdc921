"""cli_trust.py -- plugin trust end to end (docs/plugins.md, "Trust").

  - `xsell plugins --plugin-dir DIR` where DIR is world-writable, or the file
    is group- or world-writable, or (as root) owned by uid 65534: the file is
    reported on stderr with "refused" and the reason, exit 1, and it was
    never dlopen()ed -- marker.so (testgood with a constructor creating
    $XS_MARKER_FILE) leaves no marker; the other plugins are still listed;
  - `recommend` from such a directory fails (exit 1) naming it, no marker;
  - a relative XSELL_PLUGIN_PATH entry is refused (exit 1, an environment
    problem like a missing file), naming the entry, and nothing is loaded;
  - the control: the same file, ours, 0644 in a 0755 directory, is listed
    and loaded (the marker appears).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_trust")
tp_dir = ck.getenv("XS_TEST_PLUGIN_DIR")
plugin_dir = ck.getenv("XS_PLUGIN_DIR")
small = ck.data("cli", "small_baskets.csv")
cp_file = os.path.join(plugin_dir, "copurchase.so")
marker = os.path.join(ck.tmp, "marker")
ck.env["XS_MARKER_FILE"] = marker


def put(d, mode_dir, mode_file):
    """marker.so copied into directory d as m.so; returns the file."""
    os.makedirs(d, exist_ok=True)
    os.chmod(d, mode_dir)
    f = os.path.join(d, "m.so")
    shutil.copy(os.path.join(tp_dir, "marker.so"), f)
    os.chmod(f, mode_file)
    return f


def listing(d, label, code, why=None):
    """`xsell plugins --plugin-dir d`: checks the exit code, and when why is
    given that d's m.so is refused for it and never loaded."""
    if os.path.exists(marker):
        os.unlink(marker)
    rc, out, err = ck.run(["plugins", "--plugin-dir", d])
    f = os.path.join(d, "m.so")
    ck.check(rc == code, "%s: exit %d, want %d\n%s" % (label, rc, code, err))
    ck.check(cp_file in out, "%s: copurchase not listed:\n%s" % (label, out))
    if why:
        ck.check(any(l.startswith("xsell plugins:") and f in l and
                     "refused" in l and why in l for l in err.splitlines()),
                 "%s: no 'refused ... %s' line for %s:\n%s"
                 % (label, why, f, err))
        ck.check(f not in out, "%s: refused file listed:\n%s" % (label, out))
        ck.check(not os.path.exists(marker),
                 "%s: refused, but %s was dlopen()ed" % (label, f))
    else:
        ck.check(f in out and err == "", "%s: %s not listed:\n%s\n%s"
                 % (label, f, out, err))
        ck.check(os.path.exists(marker), "%s: listed but no marker" % label)


# the control: ours, 0755 and 0644
ok = os.path.join(ck.tmp, "ok")
f = put(ok, 0o755, 0o644)
listing(ok, "0755 dir, 0644 file", 0)
# the file writable by others
os.chmod(f, 0o664)
listing(ok, "group-writable file", 1, "group-writable")
os.chmod(f, 0o666)
listing(ok, "world-writable file", 1, "world-writable")
os.chmod(f, 0o644)
# the directory writable by others
ww = os.path.join(ck.tmp, "ww")
put(ww, 0o777, 0o644)
listing(ww, "world-writable dir", 1, "world-writable")
rec = ["recommend", "--baskets", small, "--items", "milk", "--plugin", "m",
       "--plugin-dir", ww]
if os.path.exists(marker):
    os.unlink(marker)
ck.expect(rec, 1, stderr_has=[os.path.join(ww, "m.so"), "refused",
                              "directory %s is world-writable" % ww])
ck.check(not os.path.exists(marker), "recommend: refused, but loaded")
# the same through XSELL_PLUGIN_PATH
if os.path.exists(marker):
    os.unlink(marker)
ck.expect(rec[:-2], 1, env={"XSELL_PLUGIN_PATH": ww},
          stderr_has=["refused", "world-writable"])
ck.check(not os.path.exists(marker), "XSELL_PLUGIN_PATH: refused, but loaded")

# another owner (root only: chown)
if os.geteuid() == 0:
    os.chown(f, 65534, 65534)
    listing(ok, "file of uid 65534", 1, "owned by uid 65534")
    os.chown(f, 0, 0)
    os.chown(ok, 65534, 65534)
    listing(ok, "dir of uid 65534", 1, "owned by uid 65534")
    os.chown(ok, 0, 0)
    listing(ok, "ours again", 0)
else:
    print("cli_trust: not root, ownership cases skipped", file=sys.stderr)

# relative XSELL_PLUGIN_PATH entries
for path in ("ok", "%s:ok" % ok, "./ok"):
    env = {"XSELL_PLUGIN_PATH": path}
    ck.expect(["plugins"], 1, env=env,
              stderr_has=["XSELL_PLUGIN_PATH", "relative"])
    ck.expect(rec[:-2] + ["--format", "json"], 1, env=env,
              stderr_has=["XSELL_PLUGIN_PATH", "relative"])

ck.finish()
