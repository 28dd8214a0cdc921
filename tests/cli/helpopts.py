"""helpopts.py -- the commands and options xsell's --help texts print, as
the man page test (cli_man.py) and the bash completion test
(cli_completion.py) read them, so both stay in step with the code.

commands(ck)      the commands `xsell --help` lists, in its order
options(ck, cmd)  the options `xsell CMD --help` prints: every --word in
                  the text, option lines and prose alike (an option named
                  only in prose is one the command takes too)
"""
import re

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def help_text(ck, args):
    rc, out, err = ck.run(list(args) + ["--help"])
    ck.check(rc == 0 and out, "xsell %s --help: exit %r, stdout %r, stderr %r"
             % (" ".join(args), rc, out[:200], err[:200]))
    return out


def commands(ck):
    text = help_text(ck, [])
    block = text.split("commands:\n", 1)[-1].split("\n\n", 1)[0]
    cmds = re.findall(r"^  ([a-z][a-z0-9-]*) ", block, re.M)
    ck.check(len(cmds) >= 10, "xsell --help lists %d commands: %r" % (len(cmds), cmds))
    return cmds


def global_options(ck):
    """The options `xsell --help` itself prints (the shared data options)."""
    return sorted(set(OPTION.findall(help_text(ck, []))))


def options(ck, cmd):
    return sorted(set(OPTION.findall(help_text(ck, [cmd]))))
