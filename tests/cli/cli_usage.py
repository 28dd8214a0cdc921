"""cli_usage.py -- the xsell command's usage contract.

  - `xsell --help` (and -h, help) and `SUBCOMMAND --help` (and -h) for every
    subcommand exit 0 and print usage on stdout, nothing on stderr;
  - `xsell version` / `--version` print the project version;
  - usage errors exit 2 with a message on stderr and nothing on stdout:
    bad --k values, unknown --measure, unknown options, missing --items,
    both or neither of --baskets/--events, bad --format, unknown command,
    stray arguments, out-of-range thresholds.
"""
import re
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_usage")
small = ck.data("cli", "small_baskets.csv")
COMMANDS = ["recommend", "rules", "plugins", "gen", "version"]

# -- help everywhere ---------------------------------------------------------
for flag in ["--help", "-h", "help"]:
    rc, out, err = ck.expect([flag], 0, stdout_has="usage:")
    for c in COMMANDS:
        ck.check(re.search(r"^\s+%s\s" % c, out, re.M),
                 "xsell %s: command %s not listed:\n%s" % (flag, c, out))
    ck.check(err == "", "xsell %s: stderr not empty: %s" % (flag, err))

for c in COMMANDS:
    for flag in ["--help", "-h"]:
        rc, out, err = ck.expect([c, flag], 0)
        ck.check(out.startswith("usage: xsell %s" % c),
                 "xsell %s %s: stdout does not start with 'usage: xsell %s':"
                 "\n%s" % (c, flag, c, out[:300]))
        ck.check(err == "", "xsell %s %s: stderr not empty: %s"
                 % (c, flag, err))
# help wins over other (even bad) options given before it
ck.expect(["recommend", "--baskets", small, "--help"], 0,
          stdout_has="usage: xsell recommend")
ck.expect(["rules", "--min-support", "0.5", "--help"], 0,
          stdout_has="usage: xsell rules")

# -- no command, unknown command ----------------------------------------------
rc, out, err = ck.expect([], 2, stderr_has="usage:")
ck.check(out == "", "xsell without a command: stdout not empty")
rc, out, err = ck.expect(["frobnicate"], 2, stderr_has="frobnicate")
ck.check(out == "", "xsell frobnicate: stdout not empty")
ck.expect(["--frobnicate"], 2, stderr_has="--frobnicate")

# -- version ------------------------------------------------------------------
with open(ck.source("CMakeLists.txt")) as f:
    m = re.search(r"project\(xsell\s+VERSION\s+([0-9.]+)", f.read())
project_version = m.group(1) if m else None
ck.check(project_version, "no project(xsell VERSION x.y.z) in CMakeLists.txt")
for args in (["version"], ["--version"]):
    rc, out, err = ck.expect(args, 0)
    ck.check(re.match(r"^xsell %s\b" % re.escape(project_version or "?"), out),
             "xsell %s: prints %r, want 'xsell %s ...'"
             % (args[0], out, project_version))
ck.expect(["version", "extra"], 2, stderr_has="extra")

# -- usage errors: exit 2, message on stderr, nothing on stdout ----------------
base = ["recommend", "--baskets", small, "--items", "milk"]
cases = [
    (base + ["--k", "0"], "--k"),
    (base + ["--k", "-3"], "--k"),
    (base + ["--k", "100000"], "--k"),
    (base + ["--k", "1001"], "--k"),
    (base + ["--k", "abc"], "--k"),
    (base + ["--k", "1.5"], "--k"),
    (base + ["--k", ""], "--k"),
    (base + ["--k", "10x"], "--k"),
    (base + ["--k", "99999999999999999999999"], "--k"),
    (base + ["--k"], "--k"),  # value missing
    (base + ["--measure", "foo"], "foo"),
    (base + ["--measure", ""], "--measure"),
    (base + ["--min-support", "2"], "--min-support"),
    (base + ["--min-support", "-0.1"], "--min-support"),
    (base + ["--min-support", "nan"], "--min-support"),
    (base + ["--min-count", "0"], "--min-count"),
    (base + ["--min-count", "-2"], "--min-count"),
    (base + ["--min-count", "2.5"], "--min-count"),
    (base + ["--format", "bogus"], "bogus"),
    (base + ["--format", "csv"], "csv"),  # recommend: table or json
    (base + ["--bogus"], "--bogus"),
    (base + ["-x"], "-x"),
    (base + ["stray"], "stray"),
    (base + ["--plugin-opt", "nodot"], "--plugin-opt"),
    (base + ["--plugin-opt", "copurchase.noequals"], "--plugin-opt"),
    (base + ["--plugin-opt", ".measure=lift"], "--plugin-opt"),
    (base + ["--scope", "bogus"], "bogus"),
    (base + ["--columns", "item=x"], "--columns"),  # events only
    # copurchase options for another plugin
    (base + ["--plugin", "testgood", "--measure", "lift"], "copurchase"),
    (["recommend", "--baskets", small], "--items"),
    (["recommend", "--baskets", small, "--items", ""], "--items"),
    (["recommend", "--baskets", small, "--items", ",,"], "--items"),
    (["recommend", "--baskets", small, "--items", "\"unterminated"],
     "--items"),
    (["recommend", "--items", "milk"], "--baskets"),
    (["recommend", "--baskets", small, "--events", small, "--items", "milk"],
     "--baskets"),
    (["rules"], "--baskets"),
    (["rules", "--baskets", small, "--events", small], "--baskets"),
    (["rules", "--baskets", small, "--min-support", "1.5"], "--min-support"),
    (["rules", "--baskets", small, "--min-confidence", "-1"],
     "--min-confidence"),
    (["rules", "--baskets", small, "--min-confidence", "abc"],
     "--min-confidence"),
    (["rules", "--baskets", small, "--sort", "bogus"], "bogus"),
    (["rules", "--baskets", small, "--format", "bogus"], "bogus"),
    (["rules", "--baskets", small, "--bogus"], "--bogus"),
    (["rules", "--baskets", small, "stray"], "stray"),
    (["plugins", "--format", "csv"], "csv"),
    (["plugins", "--bogus"], "--bogus"),
    (["plugins", "stray"], "stray"),
    (["gen", "--bogus"], "--bogus"),
    (["gen"], "--out"),
    (["gen", "--out", ck.tmp, "--items", "abc"], "--items"),
]
for args, needle in cases:
    rc, out, err = ck.expect(args, 2, stderr_has=needle)
    ck.check(out == "", "xsell %s: usage error but stdout: %s"
             % (" ".join(args), out[:200]))
    ck.check(err.startswith("xsell"), "xsell %s: stderr does not start with "
             "'xsell': %s" % (" ".join(args), err[:200]))

# -- the edges of the valid ranges are accepted ---------------------------------
for k in ["1", "1000"]:
    ck.expect(base + ["--k", k], 0)
for ms in ["0", "1", "0.5"]:
    ck.expect(base + ["--min-support", ms], 0)
ck.expect(base + ["--min-count", "4294967295"], 0)
for m in ["count", "confidence", "lift", "jaccard", "cosine", "llr"]:
    ck.expect(base + ["--measure", m], 0)
for fmt in ["table", "json"]:
    ck.expect(base + ["--format", fmt], 0)
for fmt in ["table", "json", "csv"]:
    ck.expect(["rules", "--baskets", small, "--format", fmt], 0)
for s in ["lift", "confidence", "support", "count", "name"]:
    ck.expect(["rules", "--baskets", small, "--sort", s], 0)

ck.finish()
