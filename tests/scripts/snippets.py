#!/usr/bin/env python3
"""The code in README.md and docs/pages/*.md, tested (issue 28): every snippet is compiled or run.

  snippets.py cpp OUT_DIR FILE...        write each ```cpp block as a translation unit OUT_DIR/snippet_N.cpp
                                         (#include lines on top, the rest inside main()); the install
                                         check's consumer project compiles and links them
  snippets.py run [--sim EXE] [--train EXE] [--repro EXE] [--python PY] FILE...
                                         run every ```python block (in a scratch folder, the package on
                                         PYTHONPATH) and every gengap-* command of the shell blocks with
                                         --check (every input, output and memory estimate validated,
                                         nothing run), on fixture files this script writes; the
                                         gengap-sim commands with --shard and gengap-sim merge run
                                         for real, in order (merge reads what the shards wrote)

A command line that needs what the machine lacks (a GPU, another host) or that elides its arguments
("...") is listed as not run, with the reason; anything else that fails makes the exit code 1.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

BLOCK = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(files, langs):
    """(file, line, lang, text) of every fenced block whose language is in `langs`."""
    for f in files:
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        for m in BLOCK.finditer(text):
            if m.group(1) in langs:
                yield f, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)


def write_cpp(out_dir, files):
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    for f, line, _, body in blocks(files, {"cpp", "c++"}):
        includes = [l for l in body.splitlines() if l.startswith("#include")]
        rest = [l for l in body.splitlines() if not l.startswith("#include")]
        unit = ["// %s:%d" % (os.path.relpath(f), line)] + includes + ["", "int main() {"] + ["  " + l for l in rest] + ["  return 0;", "}", ""]
        with open(os.path.join(out_dir, "snippet_%d.cpp" % n), "w", encoding="utf-8") as out:
            out.write("\n".join(unit))
        n += 1
    print("%d C++ snippets written to %s" % (n, out_dir))
    return 0


FIXTURES = {
    "my_walk.json": '{"environments": 8, "t_max": 1000}\n',
    "my_run.json": '{"model": "f1", "batch_size": 128, "epochs": 1}\n',
    "distances.csv": "t,d\n" + "".join("%d,%g\n" % (t, 1 + 0.5 * (t ** 0.3)) for t in (2, 4, 8, 16, 32, 64, 128, 256)),
    "seeds.csv": "t,s1,s2,s3\n" + "".join("%d,%g,%g,%g\n" % (t, t ** 0.2, 1.1 * t ** 0.2, 0.9 * t ** 0.2) for t in range(100, 4001, 100)),
    "runs.csv": "t,s1,s2,s3\n" + "".join("%d,%g,%g,%g\n" % (t, t ** 0.2, 1.1 * t ** 0.2, 0.9 * t ** 0.2) for t in range(100, 4001, 100)),
}


def shell_commands(files):
    """(where, argv) of every gengap-* command in the shell blocks (continuations joined, comments dropped)."""
    for f, line, _, body in blocks(files, {"sh", "bash", "shell", ""}):
        joined = body.replace("\\\n", " ")
        for k, l in enumerate(joined.splitlines()):
            for part in re.split(r"&&|;", l):
                try:
                    argv = shlex.split(part, comments=True)
                except ValueError:
                    continue
                while argv and "=" in argv[0] and not argv[0].startswith("-"):  # VAR=value prefixes
                    argv = argv[1:]
                if argv and os.path.basename(argv[0]) in ("gengap-sim", "gengap-train", "gengap-repro"):
                    yield "%s:%d" % (os.path.relpath(f), line + 1 + k), argv


def run_all(args):
    scratch = tempfile.mkdtemp(prefix="snippets-")
    for name, content in FIXTURES.items():
        with open(os.path.join(scratch, name), "w") as f:
            f.write(content)
    exes = {"gengap-sim": args.sim, "gengap-train": args.train, "gengap-repro": args.repro}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    failed, ran, not_run = [], 0, []
    for where, argv in shell_commands(args.files):
        prog = os.path.basename(argv[0])
        why = None
        if "..." in argv:
            why = "its arguments are elided"
        elif any(a.startswith("cuda") for a in argv):
            why = "needs a GPU"
        elif "--master-addr" in argv:
            why = "needs the other hosts of a job"
        elif not exes[prog]:
            why = prog + " is not built here"
        if why:
            not_run.append("%s: %s (%s)" % (where, " ".join(argv), why))
            continue
        # Shards and their merge run for real, in order (the examples are small): merge --check reads
        # the shard files the commands before it write.
        real = prog == "gengap-sim" and ("--shard" in argv or argv[1:2] == ["merge"])
        cmd = [exes[prog]] + [os.path.join(root, a) if a.startswith("repro/configs/") else a for a in argv[1:]] + ([] if real else ["--check"])
        p = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, timeout=600)
        ran += 1
        if p.returncode != 0:
            failed.append("%s: %s -> exit %d: %s" % (where, " ".join(argv), p.returncode, p.stderr.strip()[-400:]))
    if args.python:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        for f, line, _, body in blocks(args.files, {"python"}):
            p = subprocess.run([args.python, "-c", body], cwd=scratch, env=env, capture_output=True, text=True, timeout=900)
            ran += 1
            if p.returncode != 0:
                failed.append("%s:%d (python) -> exit %d: %s" % (os.path.relpath(f), line, p.returncode, p.stderr.strip()[-600:]))
    for n in not_run:
        print("not run: " + n)
    for x in failed:
        print("FAILED: " + x)
    print("%d snippets run, %d failed, %d not run" % (ran, len(failed), len(not_run)))
    return 1 if failed or ran == 0 else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("cpp")
    c.add_argument("out_dir")
    c.add_argument("files", nargs="+")
    r = sub.add_parser("run")
    r.add_argument("--sim", default="")
    r.add_argument("--train", default="")
    r.add_argument("--repro", default="")
    r.add_argument("--python", default="")
    r.add_argument("files", nargs="+")
    a = ap.parse_args()
    return write_cpp(a.out_dir, a.files) if a.mode == "cpp" else run_all(a)


if __name__ == "__main__":
    sys.exit(main())
