// Differential test: seer's promises model (promises_model_stdio) against the reference server of
// @resonatehq/sdk@0.11.5 (its in-process `Server`, as `LocalNetwork` uses it).
//
//   node differential.mjs --model <promises_model_stdio> [--requests N] [--seed S] [--coverage]
//
// Generates random request sequences (every kind, malformed ones included, time advancing so that
// promise timeouts, lease expiries and retries happen), answers each request with the SDK server,
// then feeds the same sequences to the model and compares responses and emitted messages (in order)
// exactly. On the first divergence it prints the request sequence that produced it and exits 1.
//
// How each generated request is judged (see also systems/promises/spec.md §6, §11.2):
//   - The SDK's own request guard (types.js: isRequest) rejects it: the SDK server never sees such a
//     request. The model must answer 400 with kind/corrId/version echoed (strings, else "") and emit
//     nothing. The request is not given to the SDK.
//   - The guard accepts it but it breaks one of the spec's well-formedness tightenings A4 (numbers are
//     integers within ±(2^53−1)) or A5 (tag/header values are strings; arrays are not objects):
//     judged like the previous case.
//   - A well-formed schedule.get/create/delete: the model does not implement module S and must
//     answer 501 "Not implemented" (spec §5.4). Not given to the SDK.
//   - Everything else goes to both and must agree exactly, after exactly these adjustments of the
//     SDK's answer:
//       A2   every `preload` record the SDK returns is replaced by its view at `now` (a stored
//            pending promise at or past its deadline reads as timed out), as the spec requires;
//       A10  a 422 `task.suspend` whose data is {} reads "Awaited promise not found";
//       snap `debug.snap`'s `messages` (the SDK's outbox, which the model does not have: spec §2,
//            §7) is replaced by [].
//     Each adjustment is counted and reported.
// The generator avoids the other inputs on which the spec deliberately departs from the SDK: extra
// fields inside a Value (A15), and `resonate:delay` strings that JS's Number() reads as a future time
// but the spec's digits-only rule does not (A6; the generated ones are digits, "-1", "abc" and "",
// which is 0 to Number() and never in the future since times here are >= 0). Cron schedules are out
// (module S). Responses to malformed requests are compared by status and echo only (spec §6).
import { spawnSync } from "node:child_process";
import { isDeepStrictEqual } from "node:util";

const sdkDir = new URL("./node_modules/@resonatehq/sdk/dist/src/network/", import.meta.url);
const { Server } = await import(new URL("local.js", sdkDir));
const { isRequest } = await import(new URL("types.js", sdkDir));

// ---------------------------------------------------------------------------------------------
// Options and a small seeded PRNG (mulberry32), so every run is reproducible.
// ---------------------------------------------------------------------------------------------
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const modelPath = opt("model");
const totalRequests = Number(opt("requests", 2000));
const seed0 = Number(opt("seed", 1));
const showCoverage = args.includes("--coverage");
if (!modelPath) {
  console.error("usage: node differential.mjs --model <promises_model_stdio> [--requests N] [--seed S]");
  process.exit(2);
}

let rngState = seed0 >>> 0;
const rnd = () => {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;

// ---------------------------------------------------------------------------------------------
// Request generator (after /tmp/promises-research/fuzz/fuzz2.mjs, extended to every kind).
// ---------------------------------------------------------------------------------------------
// A small window of live ids (so requests collide), one of them replaced by a fresh id now and then
// (so that long sequences do not end with every promise settled).
const IDS = [];
let freshIds = 0;
const resetIds = () => IDS.splice(0, IDS.length, "a", "b", "c", "d", "e", "f", "g");
const rotateIds = () => { IDS[int(IDS.length)] = `n${freshIds++}`; };
const TARGETS = ["T1", "T2"];
const PIDS = ["p1", "p2"];
let corr = 0;

const head = () => {
  const h = { corrId: `c${corr++}`, version: pick(["2026-04-01", "v"]) };
  if (chance(0.05)) h.auth = "token";
  if (chance(0.05)) h["resonate:debug_time"] = int(100000);
  if (chance(0.05)) h["resonate:origin"] = pick(IDS);
  return h;
};

const value = (tag) => {
  switch (int(4)) {
    case 0: return {};
    case 1: return { data: `${tag}${int(9)}` };
    case 2: return { headers: {}, data: "" };
    default: return { headers: { h: String(int(3)) }, data: `${tag}${int(9)}` };
  }
};

const tagsGen = (now) => {
  const t = {};
  if (chance(0.6)) t["resonate:target"] = chance(0.05) ? "" : pick(TARGETS);
  if (chance(0.3)) t["resonate:timer"] = chance(0.9) ? "true" : "false";
  if (chance(0.3)) t["resonate:scope"] = pick(["global", "local"]);
  if (chance(0.1)) t["resonate:external"] = "true";
  if (chance(0.4)) t["resonate:branch"] = chance(0.05) ? "" : pick(["a", "b"]);
  if (chance(0.1)) t["resonate:delay"] = pick([String(now + int(100000) - 5000), "-1", "abc", ""]);
  if (chance(0.1)) t.user = "u";
  return t;
};

const timeoutAt = (now) => now + int(chance(0.5) ? 300000 : 30000) - 2000;
const create = (now, id) => ({
  kind: "promise.create", head: head(),
  data: { id, timeoutAt: timeoutAt(now), param: value("p"), tags: tagsGen(now) },
});
const settle = (id) => ({
  kind: "promise.settle", head: head(),
  data: { id, state: pick(["resolved", "rejected", "rejected_canceled"]), value: value("v") },
});
const callback = (awaiter, awaited = pick(IDS.filter((x) => x !== awaiter || chance(0.05)))) => ({
  kind: "promise.register_callback", head: head(), data: { awaited, awaiter },
});

// Picks ids the SDK server's state makes interesting (tasks in a given state, pending promises) most
// of the time, so that successful transitions are as common as refusals.
function chooser(sdk) {
  const tasksIn = (...states) => [...sdk.tasks.values()].filter((t) => states.includes(t.state)).map((t) => t.id);
  const pendingPromises = () => [...sdk.promises.values()].filter((p) => p.state === "pending").map((p) => p.id);
  const from = (ids) => (ids.length > 0 && chance(0.75) ? pick(ids) : pick(IDS));
  return {
    task: (...states) => from(tasksIn(...states)),
    pending: () => from(pendingPromises()),
    version: (id) => {
      const t = sdk.tasks.get(id);
      return t && chance(0.9) ? t.version : int(4);
    },
  };
}

function genValid(now, sdk) {
  const c = chooser(sdk);
  const any = pick(IDS);
  const r = (kind, data) => ({ kind, head: head(), data });
  switch (int(30)) {
    case 0: return r("promise.get", { id: any });
    case 1: case 2: case 3: return create(now, any);
    case 4: return settle(chance(0.5) ? c.pending() : any);
    case 5: return callback(c.task("pending", "acquired", "suspended", "halted"), c.pending());
    case 6: return r("promise.register_listener", { awaited: chance(0.5) ? c.pending() : any, address: pick(["L1", "L2"]) });
    case 7: case 8: {
      const action = create(now, chance(0.3) ? c.task("pending", "fulfilled") : any);
      if (chance(0.95)) action.data.tags["resonate:target"] = pick(TARGETS);
      return r("task.create", { pid: pick(PIDS), ttl: int(20000), action });
    }
    case 9: case 10: {
      const id = c.task("pending");
      return r("task.acquire", { id, version: c.version(id), pid: pick(PIDS), ttl: int(20000) });
    }
    case 11: {
      const id = c.task("acquired");
      return r("task.release", { id, version: c.version(id) });
    }
    case 12: case 13: case 14: {
      const id = c.task("acquired");
      const other = () => pick(IDS.filter((x) => x !== id || chance(0.05)));
      const awaited = () => { const a = c.pending(); return a !== id && chance(0.7) ? a : other(); };
      const actions = Array.from({ length: chance(0.05) ? 0 : 1 + int(2) }, () => callback(id, awaited()));
      if (actions.length && chance(0.03)) actions[0].data.awaiter = pick(IDS);
      return r("task.suspend", { id, version: c.version(id), actions });
    }
    case 15: case 16: {
      const id = c.task("acquired");
      const action = settle(chance(0.95) ? id : any);
      return r("task.fulfill", { id, version: c.version(id), action });
    }
    case 17: {
      const id = c.task("acquired");
      const action = chance(0.5) ? create(now, any) : settle(chance(0.5) ? c.pending() : any);
      return r("task.fence", { id, version: c.version(id), action });
    }
    case 18: {
      const tasks = Array.from({ length: int(4) }, () => ({ id: pick(IDS), version: int(4) }));
      const id = c.task("acquired");
      if (chance(0.8)) tasks.unshift({ id, version: c.version(id) });
      return r("task.heartbeat", { pid: pick(PIDS), tasks });
    }
    case 19: return r("task.halt", { id: c.task("pending", "acquired", "suspended", "halted") });
    case 20: return r("task.continue", { id: c.task("halted") });
    case 21: return r("task.get", { id: any });
    case 22: return r(pick(["promise.search", "task.search", "schedule.search"]), chance(0.5) ? {} : { limit: int(10), cursor: "x" });
    case 23: {
      const k = pick(["schedule.get", "schedule.delete", "schedule.create"]);
      if (k !== "schedule.create") return r(k, { id: `s${int(3)}` });
      return r(k, { id: `s${int(3)}`, cron: "* * * * *", promiseId: "{{.id}}.{{.timestamp}}",
        promiseTimeout: 60000, promiseParam: {}, promiseTags: { "resonate:target": "T1" } });
    }
    case 24: return r(pick(["debug.start", "debug.stop", "debug.snap", "debug.snap"]), {});
    case 25: return chance(0.1) ? r("debug.reset", {}) : r("debug.snap", {});
    default: return r("debug.tick", { time: now });
  }
}

// Mutations towards malformed requests: drop or retype one node anywhere in the request.
const WRONG = [null, 0, 1.5, 2 ** 60, -1, "s", "", true, [], {}, { data: 1 }, ["x"]];
function paths(node, prefix = []) {
  if (typeof node !== "object" || node === null) return [];
  const out = [];
  for (const k of Object.keys(node)) {
    out.push([...prefix, k]);
    out.push(...paths(node[k], [...prefix, k]));
  }
  return out;
}
function mutate(req) {
  switch (int(8)) {
    case 0: return pick([null, 5, "x", [], [req]]);
    case 1: return { ...req, kind: pick(["promise.nope", 7, "", null]) };
    case 2: { const r = structuredClone(req); r.head.corrId = pick([7, null]); return r; }
    default: {
      const r = structuredClone(req);
      const all = paths(r);
      if (all.length === 0) return r;
      const path = pick(all);
      let parent = r;
      for (const k of path.slice(0, -1)) parent = parent[k];
      const key = path[path.length - 1];
      if (chance(0.3) && !Array.isArray(parent)) delete parent[key];
      else parent[key] = structuredClone(pick(WRONG));
      return r;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The spec's tightenings of the SDK guard (A4, A5), on a request the guard accepted.
// ---------------------------------------------------------------------------------------------
const isObj = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v) => Number.isSafeInteger(v);
const strMap = (m) => isObj(m) && Object.values(m).every((x) => typeof x === "string");
const goodValue = (v) => isObj(v) && (v.headers === undefined || strMap(v.headers));
const goodHead = (h) => h["resonate:debug_time"] === undefined || isInt(h["resonate:debug_time"]);
const goodEnvelope = (r) => isObj(r) && goodHead(r.head) && isObj(r.data);
const goodCreate = (r) => goodEnvelope(r) && isInt(r.data.timeoutAt) && goodValue(r.data.param) && strMap(r.data.tags);
const goodSettle = (r) => goodEnvelope(r) && goodValue(r.data.value);
const optInt = (v) => v === undefined || isInt(v);

function tightened(req) {
  if (!goodEnvelope(req)) return true;
  const d = req.data;
  switch (req.kind) {
    case "promise.create": return !goodCreate(req);
    case "promise.settle": return !goodSettle(req);
    case "promise.search": case "schedule.search": return !(optInt(d.limit) && (d.tags === undefined || strMap(d.tags)));
    case "task.search": return !optInt(d.limit);
    case "task.create": return !(isInt(d.ttl) && goodCreate(d.action));
    case "task.acquire": return !(isInt(d.version) && isInt(d.ttl));
    case "task.release": return !isInt(d.version);
    case "task.suspend": return !(isInt(d.version) && d.actions.every(goodEnvelope));
    case "task.fulfill": return !(isInt(d.version) && goodSettle(d.action));
    case "task.fence": return !(isInt(d.version) && (d.action.kind === "promise.create" ? goodCreate(d.action) : goodSettle(d.action)));
    case "task.heartbeat": return !d.tasks.every((t) => isObj(t) && isInt(t.version));
    case "schedule.create": return !(isInt(d.promiseTimeout) && goodValue(d.promiseParam) && strMap(d.promiseTags));
    case "debug.tick": return !isInt(d.time);
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Expected answers.
// ---------------------------------------------------------------------------------------------
const counts = { requests: 0, sequences: 0, compared: 0, malformed: 0, tightened: 0, moduleS: 0, a2: 0, a10: 0, snap: 0 };
const coverage = new Map();

const timeoutState = (tags) => (tags["resonate:timer"] === "true" ? "resolved" : "rejected_timedout");
const viewRecord = (p, now) =>
  p.state === "pending" && now >= p.timeoutAt ? { ...p, state: timeoutState(p.tags), settledAt: p.timeoutAt } : p;

// The SDK's answer as LocalNetwork.send shapes it, with the A2/A10/snap adjustments counted.
function sdkAnswer(server, now, req) {
  // Clone at once: the SDK's answers share live objects with its state (e.g. debug.snap's arrays).
  const result = structuredClone(server.apply(now, structuredClone(req)));
  const r = result.response;
  let data = r.data;
  if (isObj(data) && Array.isArray(data.preload)) {
    const viewed = data.preload.map((p) => viewRecord(p, now));
    if (!isDeepStrictEqual(viewed, data.preload)) counts.a2++;
    data = { ...data, preload: viewed };
  }
  if (r.kind === "task.suspend" && r.head.status === 422 && isDeepStrictEqual(data, {})) {
    counts.a10++;
    data = "Awaited promise not found";
  }
  if (r.kind === "debug.snap" && r.head.status === 200) {
    if (data.messages.length > 0) counts.snap++;
    data = { ...data, messages: [] };
  }
  const response = { kind: r.kind, head: { corrId: req.head.corrId, status: r.head.status, version: req.head.version }, data };
  const messages = result.changes.filter((c) => c.kind === "message.send").map((c) => ({ address: c.address, message: c.message }));
  const key = `${r.kind} ${r.head.status}${typeof data === "string" ? ` ${data}` : ""}${messages.length ? " +msg" : ""}`;
  coverage.set(key, (coverage.get(key) ?? 0) + 1);
  return { response, messages };
}

const echo = (req, f) => (isObj(req) && typeof req[f] === "string" ? req[f] : "");
const headEcho = (req, f) => (isObj(req) && isObj(req.head) && typeof req.head[f] === "string" ? req.head[f] : "");

// A check for requests the SDK server is not given.
function rejected(req, status) {
  return (got) => {
    const r = got.response;
    return (
      isObj(r) && r.head?.status === status && r.kind === echo(req, "kind") &&
      r.head.corrId === headEcho(req, "corrId") && r.head.version === headEcho(req, "version") &&
      typeof r.data === "string" && r.data.length > 0 &&
      (status !== 501 || r.data === "Not implemented") &&
      Array.isArray(got.messages) && got.messages.length === 0
    );
  };
}

// ---------------------------------------------------------------------------------------------
// Generate all sequences with the SDK, then run the model once over all of them.
// ---------------------------------------------------------------------------------------------
const started = Date.now();
const sequences = [];
while (counts.requests < totalRequests) {
  const server = new Server();
  resetIds();
  const length = Math.min(50 + int(350), totalRequests - counts.requests);
  let now = pick([0, 1_700_000_000_000, int(1e9)]);
  const steps = [];
  for (let i = 0; i < length; i++) {
    now += chance(0.03) ? 30000 + int(20000) : int(2500);
    if (chance(0.03)) rotateIds();
    let req = genValid(now, server);
    if (i === length - 1) req = { kind: "debug.snap", head: head(), data: {} };  // end with a state dump
    else if (chance(0.1)) req = mutate(req);
    const scheduleKind = isObj(req) && ["schedule.get", "schedule.create", "schedule.delete"].includes(req.kind);
    let expected;
    if (!isRequest(req)) {
      counts.malformed++;
      expected = { check: rejected(req, 400), text: "400 (malformed per the SDK's guard)" };
    } else if (tightened(req)) {
      counts.tightened++;
      expected = { check: rejected(req, 400), text: "400 (malformed per spec A4/A5)" };
    } else if (scheduleKind) {
      counts.moduleS++;
      expected = { check: rejected(req, 501), text: "501 (module S not implemented)" };
    } else {
      counts.compared++;
      let answer;
      try {
        answer = sdkAnswer(server, now, req);
      } catch (e) {
        console.log(`SDK server threw on sequence ${sequences.length} step ${i}: ${e.stack}`);
        console.log(JSON.stringify({ now, request: req }));
        process.exit(1);
      }
      expected = { answer };
    }
    steps.push({ now, req, expected });
    counts.requests++;
  }
  sequences.push(steps);
  counts.sequences++;
}
const generated = Date.now();

const lines = [];
for (const steps of sequences) {
  lines.push(JSON.stringify({ reset: true }));
  for (const s of steps) lines.push(JSON.stringify({ now: s.now, request: s.req }));
}
const run = spawnSync(modelPath, [], { input: `${lines.join("\n")}\n`, maxBuffer: 1 << 30, encoding: "utf8" });
if (run.error || run.status !== 0) {
  console.log(`model failed: ${run.error ?? `exit ${run.status}`}\n${run.stderr}`);
  process.exit(1);
}
const outputs = run.stdout.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
if (outputs.length !== lines.length) {
  console.log(`model answered ${outputs.length} lines for ${lines.length} inputs`);
  process.exit(1);
}

// The first path at which two JSON values differ, to point at the divergence in a long answer.
function firstDiff(a, b, path = "") {
  if (isDeepStrictEqual(a, b)) return null;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDiff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
  } else if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDiff(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path || "(root)"}: expected ${JSON.stringify(a)}, model ${JSON.stringify(b)}`;
}

const canon = (x) => JSON.stringify(x, (k, v) => (isObj(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
let line = 0;
for (let q = 0; q < sequences.length; q++) {
  if (!isDeepStrictEqual(outputs[line++], { reset: true })) {
    console.log(`model did not acknowledge the reset before sequence ${q}`);
    process.exit(1);
  }
  for (let i = 0; i < sequences[q].length; i++) {
    const { now, req, expected } = sequences[q][i];
    const got = outputs[line++];
    const ok = expected.check ? expected.check(got) : isDeepStrictEqual(got, expected.answer);
    if (ok) continue;
    console.log(`DIVERGENCE in sequence ${q} (seed ${seed0}) at step ${i}, now=${now}`);
    console.log("request sequence (model input lines, from a fresh state):");
    for (const s of sequences[q].slice(0, i + 1)) console.log(JSON.stringify({ now: s.now, request: s.req }));
    console.log(`expected: ${expected.check ? expected.text : canon(expected.answer)}`);
    console.log(`model   : ${canon(got)}`);
    if (!expected.check) console.log(`first difference at ${firstDiff(expected.answer, got)}`);
    process.exit(1);
  }
}

const finished = Date.now();
console.log(
  `promises differential: ${counts.requests} requests in ${counts.sequences} sequences agree (seed ${seed0}): ` +
    `${counts.compared} compared with the SDK server, ${counts.malformed} malformed per the SDK guard, ` +
    `${counts.tightened} malformed per spec A4/A5 only, ${counts.moduleS} schedule requests (501); ` +
    `adjustments A2 ${counts.a2}, A10 ${counts.a10}, snap outbox ${counts.snap}; ` +
    `${coverage.size} distinct (kind, status, text) outcomes; ` +
    `${generated - started} ms generating + SDK, ${finished - generated} ms model + comparison`,
);
if (showCoverage) for (const [k, n] of [...coverage].sort()) console.log(`  ${String(n).padStart(6)}  ${k}`);
