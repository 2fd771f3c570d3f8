#!/usr/bin/env python3
"""Runs docs/tutorial.md: every command of its ```console blocks, in order, so the tutorial cannot
rot. Usage: tutorial_test.py DOC WORKDIR PREFIX

WORKDIR holds a copy of examples/ (the commands start there, as the tutorial's start at the root
of a seer checkout); PREFIX is where seer was installed (the tutorial's /opt/seer). In a console
block, a line starting with "$ " is a command, run with bash; the lines after it, up to the next
command or the block's end, are what it printed. `cd DIR` changes the directory of the commands
that follow. A command ending in `# exit N` must exit with N, any other with 0.

Each printed line the tutorial shows must appear in the real output, in the same order, once
elapsed times ("5.00s") and the number of sweep jobs are set aside; a line "..." stands for lines
left out, and a line ending in "..." for a line cut short (it matches the real line's start).
"""
import os
import re
import subprocess
import sys


def normalize(line):
    line = re.sub(r"\b\d+(\.\d+)?s\b", "Ns", line)
    line = re.sub(r"\(\d+ jobs?\)", "(J jobs)", line)
    return line.rstrip()


def commands(doc):
    """(line number, command, expected exit, shown output lines) for each console command."""
    out = []
    in_console = False
    current = None
    for number, line in enumerate(open(doc, encoding="utf-8"), start=1):
        line = line.rstrip("\n")
        if line.startswith("```"):
            if in_console and current:
                out.append(current)
            current = None
            in_console = line.strip() == "```console"
            continue
        if not in_console:
            continue
        if line.startswith("$ "):
            if current:
                out.append(current)
            command = line[2:]
            m = re.search(r"#\s*exit\s+(\d+)\s*$", command)
            current = (number, command, int(m.group(1)) if m else 0, [])
        elif current:
            current[3].append(line)
    return out


def shown_in(shown, actual):
    """The first shown line not found (in order) in the actual output, or None."""
    actual = [normalize(a) for a in actual]
    i = 0
    for want in shown:
        if want.strip() in ("", "..."):
            continue
        want = normalize(want)
        prefix = want.endswith("...")
        want = want[:-3] if prefix else want
        while i < len(actual) and not (
            actual[i].startswith(want) if prefix else actual[i] == want
        ):
            i += 1
        if i == len(actual):
            return want
        i += 1
    return None


def main():
    doc, workdir, prefix = sys.argv[1:4]
    cwd = os.path.abspath(workdir)
    failures = 0
    ran = 0
    for number, command, code, shown in commands(doc):
        command = command.replace("/opt/seer", prefix)
        where = f"{doc}:{number}: {command}"
        m = re.fullmatch(r"cd\s+(\S+)", command.strip())
        if m:
            cwd = os.path.normpath(os.path.join(cwd, m.group(1)))
            continue
        ran += 1
        p = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True)
        if p.returncode != code:
            print(f"FAIL {where}: exit {p.returncode}, the tutorial says {code}")
            print(p.stdout[-3000:] + p.stderr[-3000:])
            failures += 1
            continue
        missing = shown_in(shown, (p.stdout + p.stderr).splitlines())
        if missing is not None:
            print(f"FAIL {where}: the tutorial shows a line it did not print:\n  {missing}")
            print("it printed:\n" + p.stdout[-5000:])
            failures += 1
    if ran < 10:
        print(f"FAIL: only {ran} commands found in {doc}")
        failures += 1
    print(f"{ran} tutorial commands, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
