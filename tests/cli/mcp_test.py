#!/usr/bin/env python3
"""seer mcp driven by a scripted JSON-RPC client: the handshake, the tool list with schemas, and the
design loop an agent runs (sweep -> shrink -> explain -> query -> replay), plus protocol errors.
Usage: mcp_test.py SEER"""
import json, os, subprocess, sys, tempfile

seer = sys.argv[1]
tmp = tempfile.mkdtemp()
proc = subprocess.Popen([seer, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True, cwd=tmp)
failures = []
next_id = 0


def send(obj):
    proc.stdin.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
    proc.stdin.flush()


def request(method, params=None):
    global next_id
    next_id += 1
    send({"jsonrpc": "2.0", "id": next_id, "method": method, **({"params": params} if params is not None else {})})
    reply = json.loads(proc.stdout.readline())
    assert reply.get("id") == next_id, reply
    return reply


def call(tool, **arguments):
    reply = request("tools/call", {"name": tool, "arguments": arguments})
    assert "result" in reply, reply
    result = reply["result"]
    return result, result.get("structuredContent")


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


init = request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                              "clientInfo": {"name": "test", "version": "1"}})["result"]
check(init["protocolVersion"] == "2025-06-18", "initialize echoes the protocol version")
check("tools" in init["capabilities"], "initialize announces tools")
send({"jsonrpc": "2.0", "method": "notifications/initialized"})  # no reply expected

tools = {t["name"]: t for t in request("tools/list")["result"]["tools"]}
for name in ["run", "sweep", "merge", "replay", "shrink", "explain", "check", "query"]:
    check(name in tools, f"tool {name} listed")
    check(tools.get(name, {}).get("inputSchema", {}).get("type") == "object", f"{name} has an object schema")
check("system" in tools["sweep"]["inputSchema"]["required"], "sweep requires system")

# The design loop on the counter's naive variant.
_, sweep = call("sweep", system="counter", variant="naive", seeds="1..30")
check(sweep["exit_code"] == 1 and sweep["output"]["failing"], "sweep finds failing seeds")
seed = sweep["output"]["failing"][0]["seed"]
_, shrunk = call("shrink", system="counter", variant="naive", seed=seed, output="run.json", trace="t.jsonl")
check(shrunk["exit_code"] == 1 and shrunk["output"]["shrunk"]["events"] <= shrunk["output"]["original"]["events"],
      "shrink returns a smaller failing run")
_, explained = call("explain", trace="t.jsonl")
causes = explained["output"]["causes"]
check(explained["exit_code"] == 1 and causes and causes[0]["kind"] == "outdated_read", "explain names the cause")
event = causes[0]["events"][0]
# The shrunk run's trace carries its schedule: --verify re-runs it without each cause's deviations.
_, verified = call("explain", trace="t.jsonl", verify=True)
check(verified["exit_code"] == 1 and verified["output"]["verify"]["reproduced"],
      f"explain with verify re-runs the shrunk run: {verified['output'].get('verify')}")
_, before = call("query", trace="t.jsonl", before=event, limit=5)
check(before["exit_code"] == 0 and 0 < before["output"]["count"] <= 5, "query around the cause's event")
_, replay = call("replay", run_file="run.json")
check(replay["exit_code"] == 1 and replay["output"]["identical"], "replay of the shrunk run is identical")
# Re-testing a fix: the same schedule on the fixed variant holds, on the buggy one still violates.
_, fixed = call("replay", run_file="run.json", variant="cas", recheck=True)
check(fixed["exit_code"] == 0 and fixed["output"]["recheck"], f"recheck on the fixed variant holds: {fixed}")
_, still = call("replay", run_file="run.json", recheck=True)
check(still["exit_code"] == 1, f"recheck on the buggy variant violates: {still}")
# A sweep in two shards with their out files, merged: the single sweep's failing seeds.
for i in range(2):
    _, shard = call("sweep", system="counter", variant="naive", seeds="1..30", shard=f"{i}/2", out=f"s{i}.jsonl")
    check(shard["exit_code"] in (0, 1) and shard["output"]["shard"]["index"] == i, f"sweep shard {i}/2: {shard}")
_, merged = call("merge", files=["s0.jsonl", "s1.jsonl"])
check(merged["exit_code"] == 1 and merged["output"]["complete"]
      and [f["seed"] for f in merged["output"]["failing"]] == [f["seed"] for f in sweep["output"]["failing"]],
      f"merge of the shards is the sweep: {merged}")
_, partial = call("merge", files=["s0.jsonl"])
check(partial["exit_code"] in (1, 2) and partial["output"]["missing_count"] == 15, f"merge names missing seeds: {partial}")
# A time-budgeted search finds the bug too, its reproduce line naming the fault profile.
_, search = call("sweep", system="counter", variant="naive", seed_stream=3, **{"for": "1s"})
check(search["exit_code"] == 1 and search["output"]["search"]["stream"] == 3
      and "--faults" in search["output"]["failing"][0]["reproduce"], f"a 1s search: {search}")
_, run = call("run", system="counter", variant="cas", seed=1)
check(run["exit_code"] == 0 and run["output"]["ok"], "run of a holding seed")
with open(os.path.join(tmp, "h.jsonl"), "w") as f:
    subprocess.run([seer, "run", "register", "--variant", "correct", "--seed", "1", "--history", f.name],
                   stdout=subprocess.DEVNULL, check=False)
_, checked = call("check", model="register", init="0", files=["h.jsonl"])
check(checked["exit_code"] == 0, f"check of a linearizable history: {checked}")

# Errors an agent can act on.
result, bad = call("run", system="nosuch", seed=1)
check(result["isError"] and bad["exit_code"] == 2 and "unknown system" in bad["error"], "bad system is an input error")
result, _ = call("run", system="counter", seed="one")
check(result["isError"] and "seed" in result["content"][0]["text"], "wrong argument type is reported")
result, _ = call("run", system="counter", seed=1, colour="red")
check(result["isError"] and "colour" in result["content"][0]["text"], "unknown argument is reported")
result, _ = call("nosuchtool")
check(result["isError"], "unknown tool is an error")
check(request("no/such/method").get("error", {}).get("code") == -32601, "unknown method: -32601")
send("this is not json")
check(json.loads(proc.stdout.readline()).get("error", {}).get("code") == -32700, "parse error: -32700")
check(request("ping").get("result") == {}, "ping")
# A message beyond the 1 MiB bound is skipped to its newline with one parse error, and the server
# goes on (before the bound, a peer that never sent a newline held it until memory ran out).
send('{"jsonrpc": "2.0", "id": 99, "method": "ping", "params": {"pad": "' + "x" * (2 << 20) + '"}}')
long_reply = json.loads(proc.stdout.readline())
check(long_reply.get("error", {}).get("code") == -32700 and "1048576 bytes" in long_reply["error"]["message"],
      f"an overlong message: -32700 naming the bound: {long_reply}")
check(request("ping").get("result") == {}, "the server answers after an overlong message")

proc.stdin.close()
check(proc.wait(timeout=30) == 0, "server exits 0 at end of input")
if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("mcp: ok")
