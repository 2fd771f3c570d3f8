// The real @resonatehq/sdk (0.11.5) against seer-resonate: durable functions that call each other
// through the server, sleep on durable timers, and finish although their worker is killed.
//
//   node app.js worker <url> <pid> <dir>   serve the functions until killed
//   node app.js driver <url> <id> <n> <dir> start countdown(<n>) as <id>, print its result as JSON
//
// Side effects leave files in <dir>, so the test sees how far a run got and who did what.
import "./polyfill.js";
import { Resonate, type Context } from "@resonatehq/sdk";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// A leaf, run on whichever worker takes its task: its result goes back through the server.
function square(_ctx: Context, i: number, dir: string, pid: string): number {
  appendFileSync(join(dir, "squares.log"), `${i} ${pid}\n`);
  return i * i;
}

// A local step that leaves a mark: the test kills the worker once it sees one.
function mark(_ctx: Context, dir: string, name: string): void {
  writeFileSync(join(dir, name), "");
}

function* countdown(ctx: Context, n: number, dir: string): Generator<any, string, any> {
  const parts: number[] = [];
  for (let i = n; i > 0; i--) {
    parts.push(yield* ctx.rpc<number>("square", i, dir, process.env.SEER_PID ?? "?"));
    yield* ctx.run(mark, dir, `reached-${i}`);
    yield* ctx.sleep(400);
  }
  return parts.join(",");
}

// RESONATE_TOKEN, passed on explicitly: SDK 0.11.5's HttpNetwork reads it from the environment, but
// its poll stream (PollMessageSource) gets only the constructor's `token`, so with the variable alone
// the stream would go unauthenticated (and be refused 401).
const token = process.env.RESONATE_TOKEN || undefined;

async function main(): Promise<void> {
  const [mode, url, a, b, c] = process.argv.slice(2);
  if (mode === "worker") {
    process.env.SEER_PID = a;
    // Workers are in the group "default", where rpc sends by default. A short lease, so a killed worker's tasks come back within seconds, not the default minute.
    const resonate = new Resonate({ url, pid: a, ttl: 2000, token });
    resonate.register("countdown", countdown);
    resonate.register("square", square);
    writeFileSync(join(b, `worker-${a}.ready`), "");
    return new Promise<void>(() => {}); // serve until killed
  }
  if (mode === "driver") {
    const resonate = new Resonate({ url, group: "drivers", pid: "driver", token });
    const handle = await resonate.beginRpc<string>(
      a,
      "countdown",
      Number(b),
      c,
    );
    const result = await handle.result();
    process.stdout.write(JSON.stringify({ id: a, result }) + "\n");
    await resonate.stop();
    process.exit(0);
  }
  process.stderr.write("usage: app.js worker <url> <pid> <dir> | driver <url> <id> <n> <dir>\n");
  process.exit(2);
}

main().catch((e) => {
  process.stderr.write(`sdk test: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
