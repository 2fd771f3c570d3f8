#!/usr/bin/env python3
"""Issue 25's speed targets, measured side by side on one machine in one run.

    bench/issue25.py [--build DIR] [--rounds N] [--no-resonate] [--no-postgres]
                     [--json]

Runs, in this order, each with the command BENCHMARKS.md names for it:
  - the simulator: bench_sim's ping-pong and fan-out (delivered messages per CPU second);
  - the promises sweeps: `seer sweep promises --variant final|final-sql --seeds 1..2000 --jobs 2`
    (seeds per wall second on the machine's cores);
  - seer-resonate at 64 clients beside its store's one-row commit rate (`resonate_load --ceiling`),
    on SQLite and on a throwaway PostgreSQL 15 cluster (tests/promises/postgres_cluster.sh);
The checker's target (20x Porcupine) has its own side-by-side command,
bench/check/porcupine_compare.sh, which needs a copy of Porcupine's module.
Prints one table (median, and the range over the rounds) with each target. Exit 0 when every
measured target is met, 1 when one is not, 2 on bad arguments or a failed command.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(message):
    print(f"issue25: {message}", file=sys.stderr)
    sys.exit(2)


def run(cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode not in (0, 1):
        fail(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr.strip()[:300]}")
    return result


def bench_sim(build, rounds):
    binary = os.path.join(build, "bench/sim/bench_sim")
    out = run([binary, "--benchmark_filter=PingPong|FanOut", "--benchmark_min_time=1",
               f"--benchmark_repetitions={rounds}", "--benchmark_format=json"]).stdout
    rates = {"ping-pong": [], "fan-out": []}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = "ping-pong" if b["name"].startswith("BM_PingPong") else "fan-out"
        rates[name].append(b["delivered_per_s"] / 1e6)
    return rates


def sweep(build, variant, rounds, seeds=2000):
    seer = os.path.join(build, "src/cli/seer")
    rates = []
    for _ in range(rounds):
        start = time.monotonic()
        result = run([seer, "sweep", "promises", "--variant", variant, "--seeds", f"1..{seeds}",
                      "--jobs", "2", "--json"])
        wall = time.monotonic() - start
        if result.returncode != 0:
            fail(f"the {variant} sweep found a failing seed: not a speed measurement")
        rates.append(seeds / wall)
    return rates


def resonate(build, rounds, postgres):
    load = os.path.join(build, "bench/promises/resonate_load")
    server = os.path.join(build, "systems/promises/seer-resonate")
    rows = []
    for _ in range(rounds):
        cmd = [load, "--server", server, "--clients", "64", "--seconds", "10", "--ceiling", "--json"]
        if postgres:
            cmd += ["--postgres", postgres]
        report = json.loads(run(cmd).stdout)
        store = "postgres" if postgres else "sqlite"
        ops = report["loads"][0]["ops_per_sec"]
        ceiling = report[f"{store}_commit"]["transactions_per_sec"]
        p99 = report["loads"][0]["create"]["p99_ms"]
        rows.append({"ops_per_s": ops, "ceiling_tx_per_s": ceiling, "ratio": ops / ceiling,
                     "create_p99_ms": p99, "errors": report["loads"][0]["errors"]})
    return rows


def with_postgres(build, rounds):
    cluster = os.path.join(ROOT, "tests/promises/postgres_cluster.sh")
    state = tempfile.mkdtemp(prefix="issue25-pg-")
    port = str(47000 + os.getpid() % 1000)
    run(["bash", cluster, "start", state, port])
    try:
        return resonate(build, rounds, f"postgres://seer@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run(["bash", cluster, "stop", state], capture_output=True)


def spread(values, unit=""):
    return (f"{statistics.median(values):,.2f}{unit} ({min(values):,.2f} to "
            f"{max(values):,.2f})")


def main():
    parser = argparse.ArgumentParser(description="issue 25's speed targets, side by side")
    parser.add_argument("--build", default=os.path.join(ROOT, "build/release"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-resonate", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    try:
        args = parser.parse_args()
    except SystemExit as e:
        sys.exit(2 if e.code else 0)
    if args.rounds < 1:
        fail("--rounds must be at least 1")
    for needed in ["bench/sim/bench_sim", "src/cli/seer"]:
        if not os.access(os.path.join(args.build, needed), os.X_OK):
            fail(f"{os.path.join(args.build, needed)} is not built")

    results = {"load_average_before": os.getloadavg()[0]}
    rows = []  # (measure, result, target, met)
    sim = bench_sim(args.build, args.rounds)
    results["bench_sim_mps"] = sim
    for name in ("ping-pong", "fan-out"):
        median = statistics.median(sim[name])
        rows.append((f"simulator {name}, delivered messages/s per core", spread(sim[name], " M"),
                     ">= 10 M", median >= 10))
    for variant, target in (("final", 1000), ("final-sql", 300)):
        rates = sweep(args.build, variant, args.rounds)
        results[f"{variant}_seeds_per_s"] = rates
        rows.append((f"`{variant}` sweep, 2,000 seeds, 2 jobs, seeds/s", spread(rates),
                     f">= {target:,}", statistics.median(rates) >= target))
    if not args.no_resonate:
        stores = [("SQLite", None)] + ([] if args.no_postgres else [("PostgreSQL 15", "pg")])
        for store, kind in stores:
            runs = with_postgres(args.build, args.rounds) if kind else resonate(
                args.build, args.rounds, None)
            results[f"resonate_{store.split()[0].lower()}"] = runs
            ratios = [r["ratio"] for r in runs]
            p99 = statistics.median(r["create_p99_ms"] for r in runs)
            ops = statistics.median(r["ops_per_s"] for r in runs)
            rows.append((f"seer-resonate on {store}, 64 clients / one-row commit rate",
                         f"{spread(ratios)} ({ops:,.0f} ops/s, create p99 {p99:.1f} ms)",
                         ">= 0.8", statistics.median(ratios) >= 0.8))
    results["load_average_after"] = os.getloadavg()[0]
    met = all(r[3] for r in rows)
    if args.json:
        results["rows"] = [{"measure": m, "result": r, "target": t, "met": ok}
                           for m, r, t, ok in rows]
        results["all_met"] = met
        print(json.dumps(results, indent=2))
    else:
        print(f"load average {results['load_average_before']:.2f} before, "
              f"{results['load_average_after']:.2f} after; {args.rounds} rounds")
        print("| measure | median (min to max) | target | met |")
        print("|---|---|---|---|")
        for m, r, t, ok in rows:
            print(f"| {m} | {r} | {t} | {'yes' if ok else 'NO'} |")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
