#!/usr/bin/env python3
"""A soak of seer-resonate with the real SDK (issue 20), not part of CI's normal run.

Runs the server on a SQLite file, W SDK workers (tests/promises/sdk/app.ts) and D drivers that
start countdowns one after another, plus a probe client that creates and reads promises over
HTTP. Every --chaos-every seconds it SIGKILLs the server and restarts it on the same file and
port, and SIGKILLs one worker and starts another. Every --sample-every seconds it records the
server's RSS, its open connections, the probe's latency percentiles and errors, and the drivers'
completed and failed countdowns; at the end it writes samples.csv, soak.svg (four charts over
time) and a summary, in --out.

  scripts/soak_resonate.py --server build/release/systems/promises/seer-resonate \\
      [--minutes 60] [--workers 4] [--drivers 4] [--chaos-every 120] [--out /tmp/seer-soak]

Needs node and the SDK installed in tests/promises/node_modules (run_sdk_test.sh installs them).
"""
import argparse
import csv
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROMISES = os.path.join(HERE, "..", "tests", "promises")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def connections(port):
    out = subprocess.run(["ss", "-Htn", "state", "established", f"sport = :{port}"],
                         capture_output=True, text=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


class Soak:
    def __init__(self, args):
        self.args = args
        self.out = args.out
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = os.path.join(self.out, "soak.db")
        self.run_dir = os.path.join(self.out, "run")
        os.makedirs(self.run_dir, exist_ok=True)
        self.lock = threading.Lock()
        self.latencies = []  # the probe's, since the last sample
        self.errors = 0
        self.done = 0  # countdowns completed since the last sample
        self.failed = 0
        self.events = []  # (t, what)
        self.stopping = False
        self.server = None
        self.workers = {}
        self.start = time.monotonic()

    def log(self, what):
        t = time.monotonic() - self.start
        self.events.append((t, what))
        print(f"[{t:7.1f} s] {what}", flush=True)

    def start_server(self):
        err = open(os.path.join(self.out, "server.log"), "a")
        self.server = subprocess.Popen(
            [self.args.server, "--db", self.db, "--port", str(self.port), "--json"],
            stdout=subprocess.PIPE, stderr=err, text=True)
        line = self.server.stdout.readline()
        if not line:
            raise RuntimeError("the server did not start (see server.log)")

    def start_worker(self, name):
        log = open(os.path.join(self.out, f"{name}.log"), "a")
        self.workers[name] = subprocess.Popen(
            ["node", self.app, "worker", self.url, name, self.run_dir], stdout=log,
            stderr=subprocess.STDOUT)

    def compile_app(self):
        tsc = os.path.join(PROMISES, "node_modules", ".bin", "tsc")
        if not os.path.exists(tsc):
            sys.exit("tests/promises/node_modules is missing: run tests/promises/run_sdk_test.sh once")
        build = os.path.join(self.out, "app")
        subprocess.run([tsc, "-p", os.path.join(PROMISES, "sdk", "tsconfig.json"), "--outDir", build],
                       check=True)
        link = os.path.join(build, "node_modules")
        if not os.path.exists(link):
            os.symlink(os.path.join(PROMISES, "node_modules"), link)
        self.app = os.path.join(build, "app.js")

    def driver(self, d):
        n = 0
        while not self.stopping:
            n += 1
            rid = f"soak.d{d}.{n}.{random.randrange(1 << 30)}"
            try:
                p = subprocess.run(["node", self.app, "driver", self.url, rid, "2", self.run_dir],
                                   capture_output=True, text=True, timeout=120)
                ok = p.returncode == 0 and '"result":"4,1"' in p.stdout
                output = f"exit {p.returncode}\n{p.stdout}{p.stderr}"
            except subprocess.TimeoutExpired:
                ok = False
                output = "no result within 120 s"
            with self.lock:
                if ok:
                    self.done += 1
                else:
                    self.failed += 1
                    # What the failing driver said, to tell a lost workflow from a client error.
                    t = time.monotonic() - self.start
                    with open(os.path.join(self.out, "failed-drivers.log"), "a") as f:
                        f.write(f"--- {t:.1f} s {rid}\n{output}\n")

    def probe(self):
        i = 0
        while not self.stopping:
            i += 1
            pid = f"probe-{i}"  # each its own origin: the probe measures the server, not one origin
            for kind, data in (("promise.create", {"id": pid, "timeoutAt": 4_000_000_000_000,
                                                   "param": {"data": "eA=="}, "tags": {}}),
                               ("promise.get", {"id": pid})):
                body = json.dumps({"kind": kind, "head": {"corrId": pid, "version": "soak"},
                                   "data": data})
                t0 = time.monotonic()
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                    c.request("POST", "/", body, {"Content-Type": "application/json"})
                    status = c.getresponse().status
                    c.close()
                except OSError:
                    status = 0
                ms = (time.monotonic() - t0) * 1000
                with self.lock:
                    if status == 200:
                        self.latencies.append(ms)
                    else:
                        self.errors += 1
            time.sleep(0.05)

    def chaos(self):
        self.server.send_signal(signal.SIGKILL)
        self.server.wait()
        self.start_server()
        name = random.choice(sorted(self.workers))
        self.workers[name].send_signal(signal.SIGKILL)
        self.workers[name].wait()
        self.start_worker(name)
        self.log(f"SIGKILL: server (restarted) and worker {name} (restarted)")

    def run(self):
        self.compile_app()
        self.start_server()
        for w in range(self.args.workers):
            self.start_worker(f"w{w}")
        # Drivers start once every worker listens: a task sent to a group with no stream is dropped
        # (as by any poll server) and waits for its retry.
        for w in range(self.args.workers):
            ready = os.path.join(self.run_dir, f"worker-w{w}.ready")
            for _ in range(300):
                if os.path.exists(ready):
                    break
                time.sleep(0.1)
        time.sleep(1)
        threads = [threading.Thread(target=self.driver, args=(d,), daemon=True)
                   for d in range(self.args.drivers)]
        threads.append(threading.Thread(target=self.probe, daemon=True))
        for t in threads:
            t.start()
        samples = []
        end = self.start + self.args.minutes * 60
        next_chaos = self.start + self.args.chaos_every
        while time.monotonic() < end:
            time.sleep(self.args.sample_every)
            now = time.monotonic()
            with self.lock:
                lat = sorted(self.latencies)
                row = {
                    "t_s": round(now - self.start, 1),
                    "rss_mib": round(rss_mib(self.server.pid), 1),
                    "connections": connections(self.port),
                    "p50_ms": round(lat[len(lat) // 2], 2) if lat else "",
                    "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2) if lat else "",
                    "probe_ok": len(lat),
                    "probe_errors": self.errors,
                    "countdowns_done": self.done,
                    "countdowns_failed": self.failed,
                }
                self.latencies, self.errors, self.done, self.failed = [], 0, 0, 0
            samples.append(row)
            print(json.dumps(row), flush=True)
            if self.args.chaos_every > 0 and now >= next_chaos:
                self.chaos()
                next_chaos = now + self.args.chaos_every
        self.stopping = True
        for p in self.workers.values():
            p.send_signal(signal.SIGKILL)
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=30)
        return samples

    def report(self, samples):
        with open(os.path.join(self.out, "samples.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(samples[0]))
            w.writeheader()
            w.writerows(samples)
        write_svg(os.path.join(self.out, "soak.svg"), samples, self.events)
        p99 = [s["p99_ms"] for s in samples if s["p99_ms"] != ""]
        summary = {
            "minutes": self.args.minutes,
            "samples": len(samples),
            "kills": len(self.events),
            "rss_mib_first_last_max": [samples[0]["rss_mib"], samples[-1]["rss_mib"],
                                       max(s["rss_mib"] for s in samples)],
            "connections_max": max(s["connections"] for s in samples),
            "probe_ok": sum(s["probe_ok"] for s in samples),
            "probe_errors": sum(s["probe_errors"] for s in samples),
            "probe_p99_ms_median_max": [sorted(p99)[len(p99) // 2], max(p99)] if p99 else [],
            "countdowns_done": sum(s["countdowns_done"] for s in samples),
            "countdowns_failed": sum(s["countdowns_failed"] for s in samples),
        }
        with open(os.path.join(self.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        print(json.dumps(summary, indent=2))


def write_svg(path, samples, events):
    """Four line charts over time (RSS, connections, probe p50/p99, errors), kills as red lines."""
    charts = [("server RSS (MiB)", ["rss_mib"]), ("open connections", ["connections"]),
              ("probe latency (ms): p50, p99", ["p50_ms", "p99_ms"]),
              ("per sample: probe errors, countdowns failed", ["probe_errors", "countdowns_failed"])]
    width, height, pad = 900, 180, 40
    colours = ["#1f77b4", "#d62728"]
    t_max = max(s["t_s"] for s in samples) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{len(charts) * (height + pad) + pad}" font-family="sans-serif" font-size="12">']
    for c, (title, keys) in enumerate(charts):
        top = pad + c * (height + pad)
        values = [float(s[k]) for s in samples for k in keys if s[k] != ""]
        v_max = max(values) if values else 1
        v_max = v_max or 1
        parts.append(f'<text x="{pad}" y="{top - 8}">{title} (max {v_max:g})</text>')
        parts.append(f'<rect x="{pad}" y="{top}" width="{width - 2 * pad}" height="{height}" '
                     'fill="none" stroke="#999"/>')
        for t, _ in events:
            x = pad + (width - 2 * pad) * t / t_max
            parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + height}" '
                         'stroke="#f88" stroke-dasharray="3,3"/>')
        for k, key in enumerate(keys):
            points = [(pad + (width - 2 * pad) * s["t_s"] / t_max,
                       top + height - height * float(s[key]) / v_max)
                      for s in samples if s[key] != ""]
            if points:
                d = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                parts.append(f'<polyline points="{d}" fill="none" stroke="{colours[k]}"/>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--server", required=True)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--drivers", type=int, default=4)
    ap.add_argument("--chaos-every", type=float, default=120, help="seconds; 0: no kills")
    ap.add_argument("--sample-every", type=float, default=5)
    ap.add_argument("--out", default="/tmp/seer-soak")
    args = ap.parse_args()
    if shutil.which("node") is None:
        sys.exit("node is not installed")
    os.makedirs(args.out, exist_ok=True)
    args.server = os.path.abspath(args.server)
    soak = Soak(args)
    try:
        samples = soak.run()
    finally:
        soak.stopping = True
        for p in list(soak.workers.values()) + ([soak.server] if soak.server else []):
            if p.poll() is None:
                p.kill()
    soak.report(samples)


if __name__ == "__main__":
    main()
