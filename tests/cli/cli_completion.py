"""cli_completion.py -- bash completion (contrib/completion/xsell.bash),
run in bash as bash runs it: the file sourced in `bash --norc`, `complete
-p xsell` names the function, which is called with COMP_WORDS and
COMP_CWORD set and its COMPREPLY read back.

  - `xsell <TAB>` offers exactly the commands `xsell --help` lists, `xsell
    se<TAB>` serve and segment, `xsell -<TAB>` --help and --version;
  - `xsell CMD --<TAB>` offers exactly the options `xsell CMD --help`
    prints, for every command (so new options complete without an edit);
  - a FILE argument completes file names, a DIR argument directories only,
    a value (--k N) nothing, a flag (--explain) the options again;
  - `xsell query <TAB>` the ops; the JSON after the op, nothing;
    `xsell snapshot <TAB>` directories;
  - the same through `xsell` found on PATH.

Skipped when bash is missing.  Run as cli_completion.py XSELL.
"""
import os
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import helpopts  # noqa: E402
import xscli  # noqa: E402

ck = xscli.Checker("cli_completion")
bash = shutil.which("bash")
if not bash:
    print("cli_completion: skipped: no bash")
    sys.exit(xscli.SKIP)
script = ck.source("contrib", "completion", "xsell.bash")
xsell = os.path.abspath(ck.xsell)

# a directory to complete in: two files, two directories
files = os.path.join(ck.tmp, "files")
for d in ("dir-a", "dir-b"):
    os.makedirs(os.path.join(files, d))
for f in ("data-1.csv", "data-2.csv"):
    ck.write(os.path.join("files", f), "x\n")
F = files + "/"

CASES = []  # (words, want) with want a list, or a callable check


def complete(cases, bin_word):
    """Runs every case in one bash; returns the COMPREPLY lists, sorted."""
    lines = ["source %s || exit 3" % shlex.quote(script),
             "spec=$(complete -p xsell) || exit 4",
             'echo "SPEC $spec"',
             'fn=${spec#*-F }; fn=${fn%% *}']
    for words in cases:
        w = [bin_word] + words
        lines.append("COMP_WORDS=(%s); COMP_CWORD=%d; COMPREPLY=(); $fn; "
                     "echo \"REPLY $(printf '%%s\\n' \"${COMPREPLY[@]}\" | sort | "
                     "tr '\\n' ' ')\""
                     % (" ".join(shlex.quote(x) for x in w), len(w) - 1))
    env = dict(ck.env, PATH=os.path.dirname(xsell) + os.pathsep + ck.env.get("PATH", ""))
    p = subprocess.run([bash, "--norc", "--noprofile", "-c", "\n".join(lines)],
                       capture_output=True, text=True, env=env, timeout=120)
    out = p.stdout.splitlines()
    ck.check(p.returncode == 0 and p.stderr == "",
             "bash: exit %d, stderr:\n%s" % (p.returncode, p.stderr))
    spec = [l for l in out if l.startswith("SPEC ")]
    ck.check(spec and spec[0].startswith("SPEC complete -F ") and
             spec[0].endswith(" xsell"), "complete -p xsell: %r" % spec)
    replies = [l[len("REPLY "):].split() for l in out if l.startswith("REPLY ")]
    ck.check(len(replies) == len(cases), "bash printed %d replies for %d cases"
             % (len(replies), len(cases)))
    return replies


cmds = helpopts.commands(ck)
cases = [
    ([""], sorted(cmds)),
    (["se"], ["segment", "serve"]),
    (["-"], ["--help", "--version"]),
    (["serve", "--curve"], ["--curve-key"]),
    (["query", "--curve"], ["--curve-key", "--curve-server-key"]),
    (["score", "--out", F + "da"], [F + "data-1.csv", F + "data-2.csv"]),
    (["recommend", "--events", F], sorted(F + x for x in
                                          ("data-1.csv", "data-2.csv", "dir-a", "dir-b"))),
    (["serve", "--data-dir", F], [F + "dir-a", F + "dir-b"]),
    (["eval", "--save-split", F + "dir-"], [F + "dir-a", F + "dir-b"]),
    (["recommend", "--k", ""], []),
    (["recommend", "--explain", "--k"], ["--k", "--keep-owned"]),
    (["query", ""], sorted(["recommend", "ingest", "catalog", "rules", "stats",
                            "health", "plugins", "save"])),
    (["query", "--connect", "tcp://127.0.0.1:5555", "h"], ["health"]),
    (["query", "health", ""], []),
    (["snapshot", F], [F + "dir-a", F + "dir-b"]),
]
for cmd in cmds:
    cases.append(([cmd, "--"], helpopts.options(ck, cmd)))
for bin_word in (xsell, "xsell"):
    replies = complete([w for w, _ in cases], bin_word)
    for (words, want), got in zip(cases, replies):
        line = "%s %s" % (os.path.basename(bin_word), " ".join(words))
        if words[-1] == "--" and len(words) == 2:
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            ck.check(not missing and not extra,
                     "`%s<TAB>`: options of `xsell %s --help` not offered: %s;"
                     " offered but not in --help: %s" % (line, words[0], missing, extra))
        else:
            ck.check(got == want, "`%s<TAB>`: offered %s, want %s" % (line, got, want))
ck.finish()
