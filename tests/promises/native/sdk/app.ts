// The real @resonatehq/sdk (0.11.5) with PostgresNetwork on the native target (resonate.sql): no
// server, the SDK's nodes call the database's functions. The durable functions of
// tests/promises/sdk/app.ts: a countdown that calls a function on another worker (rpc) and sleeps
// on durable timers, and finishes although its worker is killed.
//
//   node app.js worker <db-url> <pid> <dir>   serve the functions until killed
//   node app.js driver <db-url> <id> <n> <dir> start countdown(<n>) as <id>, print its result
import "../../sdk/polyfill.js";
import { ConsoleLogger, Resonate, type Context } from "@resonatehq/sdk";
import { PostgresNetwork } from "@resonatehq/sdk/postgres";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function square(_ctx: Context, i: number, dir: string, pid: string): number {
  appendFileSync(join(dir, "squares.log"), `${i} ${pid}\n`);
  return i * i;
}

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

// The network's warnings (a failed drain or LISTEN) on stderr, where the test looks for them.
const logger = new ConsoleLogger("warn");

async function main(): Promise<void> {
  const [mode, connectionString, a, b, c] = process.argv.slice(2);
  if (mode === "worker") {
    process.env.SEER_PID = a;
    // A short lease, so a killed worker's task is released by a sweep within seconds.
    const network = new PostgresNetwork({ connectionString, group: "default", pid: a, logger });
    const resonate = new Resonate({ network, pid: a, ttl: 2000 });
    resonate.register("countdown", countdown);
    resonate.register("square", square);
    writeFileSync(join(b, `worker-${a}.ready`), "");
    return new Promise<void>(() => {}); // serve until killed
  }
  if (mode === "driver") {
    const network = new PostgresNetwork({ connectionString, group: "drivers", pid: "driver", logger });
    const resonate = new Resonate({ network, group: "drivers", pid: "driver" });
    const handle = await resonate.beginRpc<string>(a, "countdown", Number(b), c);
    const result = await handle.result();
    process.stdout.write(JSON.stringify({ id: a, result }) + "\n");
    await resonate.stop();
    process.exit(0);
  }
  process.stderr.write("usage: app.js worker <db> <pid> <dir> | driver <db> <id> <n> <dir>\n");
  process.exit(2);
}

main().catch((e) => {
  process.stderr.write(`sdk test: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
