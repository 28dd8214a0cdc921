"""cli_man.py -- the manual page, docs/xsell.1, in step with --help.

  - it renders with groff (-man, every warning on) and with `man -l`
    without a warning;
  - every command `xsell --help` lists has a section `.SS "xsell CMD"`;
  - every option `xsell CMD --help` prints appears in that section or in a
    shared section it names (DATA OPTIONS, PLUGIN OPTIONS); each one
    missing is reported as `xsell CMD: option --X (from xsell CMD --help)
    is not in docs/xsell.1 ...`, with where to add it;
  - the options `xsell --help` prints are in DATA OPTIONS, and --help and
    --version are in the SYNOPSIS;
  - no option in the page is one that no command's --help prints (a
    removed or misspelt option);
  - the page's version (.TH) is `xsell version`'s;
  - `cmake --install` puts the page into share/man/man1 (where `man -w
    xsell` finds it with MANPATH set to the prefix's share/man), the bash
    completion into share/bash-completion/completions/xsell and LICENSE
    into share/doc/xsell.

Run as cli_man.py XSELL BUILD_DIR CMAKE.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import helpopts  # noqa: E402
import xscli  # noqa: E402

ck = xscli.Checker("cli_man")
if len(ck.args) != 2:
    print("usage: cli_man.py XSELL BUILD_DIR CMAKE", file=sys.stderr)
    sys.exit(1)
build_dir, cmake = ck.args
page = ck.source("docs", "xsell.1")
PAGE = "docs/xsell.1"
SHARED = ("DATA OPTIONS", "PLUGIN OPTIONS")


def plain(roff):
    """roff source as text: font escapes dropped, \\- as -, \\(aq as '."""
    s = re.sub(r"\\f(\[[A-Z]*\]|[A-Z1-4P])", "", roff)
    s = s.replace("\\-", "-").replace("\\(aq", "'").replace("\\(em", "--")
    return s


def sections(roff):
    """{title: text} for every .SH and .SS (an .SH's text stops at its
    first .SS); titles unquoted."""
    out, title, lines = {}, None, []
    for line in roff.splitlines():
        m = re.match(r'\.(SH|SS)\s+"?([^"]*)"?\s*$', line)
        if m:
            if title is not None:
                out[title] = plain("\n".join(lines))
            title, lines = m.group(2), []
        else:
            lines.append(line)
    if title is not None:
        out[title] = plain("\n".join(lines))
    return out


def has_option(text, opt):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), text) is not None


with open(page, encoding="utf-8") as f:
    roff = f.read()
secs = sections(roff)

# -- rendering ----------------------------------------------------------------
env = dict(ck.env, MANWIDTH="80", LC_ALL="C.UTF-8")
if shutil.which("groff"):
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                       capture_output=True, text=True, env=env)
    ck.check(p.returncode == 0 and p.stderr == "",
             "groff -man -ww %s: exit %d, warnings:\n%s" % (PAGE, p.returncode, p.stderr))
else:
    print("cli_man: no groff, rendering not checked")
if shutil.which("man"):
    p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                       text=True, env=env)
    ck.check(p.returncode == 0 and p.stderr == "" and "XSELL(1)" in p.stdout
             and "xsell recommend" in p.stdout,
             "man -l %s: exit %d, stderr:\n%s" % (PAGE, p.returncode, p.stderr))

# -- in step with --help ------------------------------------------------------
for s in SHARED:
    ck.check(s in secs, "%s: no section .SH %s" % (PAGE, s))
every = set(helpopts.global_options(ck)) | {"--help", "--version"}  # main.c
for opt in set(helpopts.global_options(ck)) - {"--help"}:
    ck.check(has_option(secs.get("DATA OPTIONS", ""), opt),
             "xsell --help: option %s is not in %s: add it to .SH DATA OPTIONS"
             % (opt, PAGE))
for opt in ("--help", "--version"):
    ck.check(has_option(secs.get("SYNOPSIS", ""), opt),
             "%s: %s is not in the SYNOPSIS" % (PAGE, opt))
cmds = helpopts.commands(ck)
missing = 0
for cmd in cmds:
    title = "xsell " + cmd
    if not ck.check(title in secs, "xsell %s (listed by xsell --help) has no section"
                    " in %s: add .SS \"%s\" under .SH COMMANDS" % (cmd, PAGE, title)):
        continue
    text = secs[title]
    shared = [s for s in SHARED if s in text]
    where = " + ".join(['"%s"' % title] + shared)
    for opt in helpopts.options(ck, cmd):
        every.add(opt)
        found = has_option(text, opt) or any(has_option(secs.get(s, ""), opt)
                                             for s in shared)
        if not ck.check(found, "xsell %s: option %s (from xsell %s --help) is not in %s"
                        " (searched the section %s): add it there"
                        % (cmd, opt, cmd, PAGE, where)):
            missing += 1
body = "\n".join(l for l in roff.splitlines() if not l.startswith('.\\"'))
stale = sorted(set(helpopts.OPTION.findall(plain(body))) - every)
ck.check(not stale, "%s names options no command's --help prints (removed or"
         " misspelt?): %s" % (PAGE, " ".join(stale)))
rc, out, _ = ck.run(["version"])
m = re.match(r"xsell (\S+) ", out)
th = re.search(r'^\.TH XSELL 1 \S+ "xsell ([^"]+)"', roff, re.M)
ck.check(m and th and m.group(1) == th.group(1),
         "%s: .TH says version %r, xsell version says %r"
         % (PAGE, th and th.group(1), m and m.group(1)))
print("cli_man: %d commands, %d options checked, %d missing"
      % (len(cmds), len(every), missing))

# -- installed ------------------------------------------------------------------
prefix = os.path.join(ck.tmp, "prefix")
p = subprocess.run([cmake, "--install", build_dir, "--prefix", prefix],
                   capture_output=True, text=True, env=ck.env)
if ck.check(p.returncode == 0, "cmake --install: exit %d\n%s%s"
            % (p.returncode, p.stdout[-2000:], p.stderr[-2000:])):
    def same(installed, source):
        path = os.path.join(prefix, installed)
        ok = os.path.isfile(path)
        if ok:
            with open(path, "rb") as a, open(ck.source(source), "rb") as b:
                ok = a.read() == b.read()
        return ck.check(ok, "cmake --install: %s is not a copy of %s"
                        % (installed, source))
    same("share/man/man1/xsell.1", "docs/xsell.1")
    same("share/bash-completion/completions/xsell", "contrib/completion/xsell.bash")
    same("share/doc/xsell/LICENSE", "LICENSE")
    if shutil.which("man"):
        p = subprocess.run(["man", "-w", "xsell"], capture_output=True, text=True,
                           env=dict(env, MANPATH=os.path.join(prefix, "share", "man")))
        ck.check(p.stdout.strip() == os.path.join(prefix, "share/man/man1/xsell.1"),
                 "man -w xsell with MANPATH=PREFIX/share/man: %r %r"
                 % (p.stdout, p.stderr))
ck.finish()
