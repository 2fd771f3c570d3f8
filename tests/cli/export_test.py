#!/usr/bin/env python3
"""seer export (Chrome trace-event JSON, ShiViz log) and seer view on real traces: the outputs are
well-formed and consistent with the trace (one flow per delivery, valid vector clocks, the data the
viewer embeds), and bad input gives one error line and exit 2. Usage: export_test.py SEER"""
import json, os, re, subprocess, sys, tempfile

seer = sys.argv[1]
tmp = tempfile.mkdtemp()
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    return subprocess.run([seer, *args], capture_output=True, text=True, cwd=tmp)


run("run", "register", "--variant", "naive", "--faults", "partition,crash,drop,duplicate,pause", "--seed", "3",
    "--trace", "t.jsonl")
lines = open(os.path.join(tmp, "t.jsonl")).read().splitlines()
header, footer = json.loads(lines[0]), json.loads(lines[-1])
events = [json.loads(l) for l in lines[1:-1]]
kinds = {}
for e in events:
    kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
check(kinds.get("crash") and kinds.get("partition") and kinds.get("drop"), "the sample trace has faults")

# Chrome trace-event JSON.
r = run("export", "t.jsonl", "--format", "chrome", "-o", "t.chrome.json", "--json")
check(r.returncode == 0, f"export chrome: {r.stderr}")
chrome = json.load(open(os.path.join(tmp, "t.chrome.json")))["traceEvents"]
threads = {e["args"]["name"] for e in chrome if e["ph"] == "M" and e["name"] == "thread_name"}
check(threads == set(header["processes"]) | {"sim"}, f"one thread per process: {threads}")
slices = [e for e in chrome if e["ph"] == "X" and e["cat"] != "operation"]
check(len(slices) == len(events), "one slice per trace event")
flows_s = [e for e in chrome if e["ph"] == "s"]
flows_f = [e for e in chrome if e["ph"] == "f"]
check(len(flows_s) == len(flows_f) == kinds["deliver"], "one flow per delivery")
check(all(f["ts"] >= s["ts"] for s, f in zip(flows_s, flows_f)), "flows go forward in time")
ops = [e for e in chrome if e["ph"] == "X" and e["cat"] == "operation"]
check(len(ops) == kinds.get("complete", 0), "one slice per completed client operation")
downs = [e for e in chrome if e["ph"] == "b" and e["name"] == "down"]
check(len(downs) == kinds["crash"], "a down span per crash")

# ShiViz: host line + description line per event; vector clocks count each host's events.
r = run("export", "t.jsonl", "--format", "shiviz", "-o", "t.shiviz")
check(r.returncode == 0 and "(?<host>" in r.stdout, "export shiviz prints the parser regex")
log = open(os.path.join(tmp, "t.shiviz")).read().splitlines()
check(len(log) == 2 * len(events), "two lines per event")
own = {}
clocks = {}
pattern = re.compile(r"(\S*) (\{.*\})$")
for i in range(0, len(log), 2):
    m = pattern.match(log[i])
    check(m is not None, f"line {i + 1} is 'HOST {{clock}}'")
    if not m:
        break
    host, clock = m.group(1), json.loads(m.group(2))
    check(clock[host] == own.get(host, 0) + 1, f"{host}'s own clock counts its events (line {i + 1})")
    own[host] = clock[host]
    clocks[events[i // 2]["seq"]] = clock
for e in events:
    if e["kind"] == "deliver":
        send = clocks[e["parents"][-1]]
        check(all(clocks[e["seq"]].get(h, 0) >= n for h, n in send.items()), f"delivery #{e['seq']} follows its send")

# The viewer page embeds the trace and its explanation, and nothing from the network.
r = run("view", "t.jsonl", "-o", "page.html")
check(r.returncode == 0, f"view: {r.stderr}")
page = open(os.path.join(tmp, "page.html")).read()
m = re.search(r'<script id="seer-data" type="application/json">(.*?)</script>', page, re.S)
check(m is not None, "the page has its data element")
if m:
    data = json.loads(m.group(1))
    check(len(data["events"]) == len(events) and data["header"]["seed"] == 3, "the page embeds every event")
    check("slice" in data["explanation"], "the page embeds the explanation")
check(not re.search(r'(src|href)="https?:', page), "no network resources")

# A payload that would close the data element early is escaped, and reads back unchanged.
evil = [json.loads(l) for l in lines]
for e in evil[1:-1]:
    if e["kind"] == "send":
        e["payload"]["note"] = "</script><script>alert(1)</script>"
        evil_seq = e["seq"]
        break
open(os.path.join(tmp, "evil.jsonl"), "w").write("".join(json.dumps(e) + "\n" for e in evil))
r = run("view", "evil.jsonl", "-o", "evil.html", "--no-explain")
check(r.returncode == 0, f"view of the crafted trace: {r.stderr}")
page = open(os.path.join(tmp, "evil.html")).read()
check("<script>alert" not in page, "a payload cannot open a script element")
m = re.search(r'<script id="seer-data" type="application/json">(.*?)</script>', page, re.S)
data = json.loads(m.group(1)) if m else {"events": []}
check(any(e.get("payload", {}).get("note") == "</script><script>alert(1)</script>" for e in data["events"]),
      "the crafted payload reads back unchanged")

# Bad input: one line, exit 2.
open(os.path.join(tmp, "bad.jsonl"), "w").write('{"seer_trace":1}\n{"seq":1,\n')
for args in (["export", "bad.jsonl", "--format", "chrome", "-o", "x"], ["view", "bad.jsonl", "-o", "x.html"],
             ["export", "t.jsonl", "--format", "svg", "-o", "x"], ["view", "missing.jsonl", "-o", "x.html"],
             ["view", "t.jsonl", "-o", "/nonexistent/dir/x.html"]):
    r = run(*args)
    check(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and r.stderr.startswith("seer: error: "),
          f"seer {' '.join(args)}: exit {r.returncode}, stderr {r.stderr!r}")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("export: ok")
