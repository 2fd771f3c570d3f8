#!/usr/bin/env python3
"""Shrinks the first N failing seeds of each example system's failing variant and reports, per
system: shrink time (median, max), candidate runs, events before and after, the explanation's
slice, and the top cause kinds. Usage: shrink_survey.py SEER [N] (default N=20). Prints a Markdown
table for BENCHMARKS.md."""
import collections, json, os, statistics, subprocess, sys, tempfile

seer = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
cases = [
    ("counter", "naive", []),
    ("register", "naive", []),
    ("jobs", "naive", []),
    ("bank", "check-then-act", []),
    ("segments", "list-then-put", ["--service", "object-store=stale-list"]),
    ("kv-contract", "default", ["--service", "kv=stale"]),
]
tmp = tempfile.mkdtemp()
print("| system / variant | seeds | shrink time median / max | runs median | events before -> after (median) | slice median / max | top causes |")
print("|---|---|---|---|---|---|---|")
for system, variant, extra in cases:
    sweep = subprocess.run([seer, "sweep", system, "--variant", variant, "--seeds", "1..400", "--json", *extra],
                           capture_output=True, text=True)
    seeds = [f["seed"] for f in json.loads(sweep.stdout)["failing"]][:n]
    times, runs, before, after, slices = [], [], [], [], []
    causes = collections.Counter()
    for seed in seeds:
        run_file, trace = os.path.join(tmp, "r.json"), os.path.join(tmp, "t.jsonl")
        out = subprocess.run([seer, "shrink", system, "--variant", variant, "--seed", str(seed), *extra,
                              "-o", run_file, "--trace", trace, "--json"], capture_output=True, text=True)
        r = json.loads(out.stdout)
        times.append(r["elapsed_s"]); runs.append(r["runs"])
        before.append(r["original"]["events"]); after.append(r["shrunk"]["events"])
        x = json.loads(subprocess.run([seer, "explain", trace, "--json"], capture_output=True, text=True).stdout)
        slices.append(len(x["slice"]))
        causes[x["causes"][0]["kind"] if x["causes"] else "none"] += 1
    med = statistics.median
    print(f"| {system} / {variant} | {len(seeds)} | {med(times):.2f} s / {max(times):.2f} s | {med(runs):.0f} "
          f"| {med(before):.0f} -> {med(after):.0f} | {med(slices):.0f} / {max(slices)} "
          f"| {', '.join(f'{k} {v}' for k, v in causes.most_common())} |")
