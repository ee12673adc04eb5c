/**
 * The production topology on one machine. A local stand-in for Supabase's Edge Runtime and for
 * pg_cron + pg_net serves the Edge-placed functions (the placement table) behind the local API
 * (http://127.0.0.1:54321/functions/v1/<name>, beside Auth, the Data API, Storage and Realtime),
 * each in its own process as Edge Runtime would run it: no subprocess permission, a 256 MB heap.
 * It keeps every Edge-placed queue worker in private.edge_function_schedules invoked (a new
 * invocation as soon as the last one returns), and runs the worker service (worker/main.ts) as a
 * separate process for the rest. Any process that exits is restarted, with backoff.
 */
import { localServiceRoleToken } from "../../supabase/functions/_shared/auth.ts";
import { createSql } from "../../supabase/functions/_shared/db.ts";
import { LOCAL_JWT_SECRET } from "../../supabase/functions/_shared/env.ts";
import { edgeFunctions } from "../../supabase/functions/_shared/placement.ts";
import { workerServiceArgs } from "../../worker/permissions.ts";
import { ANON_KEY, SERVICE_ROLE_KEY } from "../api/context.ts";
import { startApi } from "../api/server.ts";
import { edgeFunctionArgs } from "./edge_process.ts";

const root = new URL("../../", import.meta.url).pathname;
const functionsDir = `${root}supabase/functions`;
const gatewayPort = Number(Deno.env.get("FUNCTIONS_PORT") ?? 54321);
const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const firstFunctionPort = gatewayPort + 100;
const storageDir = Deno.env.get("LOCAL_STORAGE_DIR") ?? `${root}.stack/storage`;

interface Served {
  name: string;
  /** The function's port, or the worker service's health port. */
  port: number;
  child: Deno.ChildProcess;
  restarts: number;
}

/** The worker service's health endpoints (/livez, /readyz). */
const workerHealthPort = gatewayPort + 90;

let stopping = false;

function log(message: string) {
  console.log(`[runner ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** The Edge-placed functions under this configuration (pipeline-images only with MODELSLAB_API_KEY). */
async function discoverFunctions(): Promise<string[]> {
  const names: string[] = [];
  for (const placement of edgeFunctions()) {
    try {
      await Deno.stat(`${functionsDir}/${placement.name}/index.ts`);
      names.push(placement.name);
    } catch {
      throw new Error(
        `${placement.name} is placed on Edge but supabase/functions/${placement.name}/index.ts is missing`,
      );
    }
  }
  return names.sort();
}

const functionEnv = () => ({
  SUPABASE_DB_URL: dbUrl,
  SUPABASE_URL: `http://127.0.0.1:${gatewayPort}`,
  LOCAL_STORAGE_DIR: storageDir,
});

export { EDGE_PERMISSIONS } from "./edge_process.ts";

/** An Edge Function's process, with Edge Runtime's limits: no subprocess, a 256 MB heap. */
function spawnFunction(name: string, port: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: edgeFunctionArgs(`${functionsDir}/${name}/index.ts`, [
      storageDir,
      Deno.env.get("TMPDIR") ?? "/tmp",
    ]),
    cwd: root,
    env: { DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`, ...functionEnv() },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

/** The worker service, as production runs it: every group the placement gives it here. */
function spawnWorkerService(): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: workerServiceArgs(),
    cwd: root,
    env: { ...functionEnv(), WORKER_HEALTH_PORT: String(workerHealthPort), WORKER_HEALTH_HOST: "127.0.0.1" },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

/** Runs a process and restarts it whenever it exits: 0.5 s, then doubling up to 30 s. */
function supervise(name: string, port: number, spawn: () => Deno.ChildProcess): Served {
  const served: Served = { name, port, child: spawn(), restarts: 0 };
  const watch = () => {
    const startedAt = Date.now();
    served.child.status.then((status) => {
      if (stopping) return;
      if (Date.now() - startedAt > 60_000) served.restarts = 0; // it had been healthy for a while
      const delay = Math.min(30_000, 500 * 2 ** served.restarts);
      served.restarts++;
      log(`${name} exited (${status.signal ?? `code ${status.code}`}); restarting in ${delay / 1000} s`);
      setTimeout(() => {
        if (stopping) return;
        served.child = spawn();
        log(`${name} restarted (pid ${served.child.pid})`);
        watch();
      }, delay);
    });
  };
  watch();
  return served;
}

async function waitUntilListening(port: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`function on port ${port} did not start within ${timeoutMs / 1000}s`);
}

/** The Edge Functions' share of the gateway; null for any other path (the API answers 501). */
async function proxy(
  req: Request,
  served: Map<string, Served>,
  processes: Map<string, Served>,
): Promise<Response | null> {
  const url = new URL(req.url);
  if (url.pathname === "/_runner/functions") { // every process (functions, worker service), for tools and tests
    return Response.json([...processes.values()].map((s) => ({
      name: s.name,
      pid: s.child.pid,
      port: s.port,
      restarts: s.restarts,
    })));
  }
  const match = url.pathname.match(/^\/functions\/v1\/([^/]+)(\/.*)?$/);
  if (!match) return null;
  const target = served.get(match[1]);
  if (!target) return Response.json({ error: `no function at ${url.pathname}` }, { status: 404 });
  const upstream = new URL(`http://127.0.0.1:${target.port}${match[2] ?? "/"}${url.search}`);
  return await fetch(upstream, { method: req.method, headers: req.headers, body: req.body });
}

interface Schedule {
  function_name: string;
  interval_seconds: number;
}

async function readSchedules(): Promise<Schedule[]> {
  const sql = createSql(dbUrl, { max: 1 });
  try {
    const exists = await sql`select to_regclass('private.edge_function_schedules') is not null as ok`;
    if (!exists[0].ok) return [];
    return await sql<Schedule[]>`
      select function_name, interval_seconds from private.edge_function_schedules where enabled order by function_name`;
  } finally {
    await sql.end();
  }
}

/** The runner invokes the workers as the service role, as the hosted pg_cron job does with Vault's key. */
const serviceToken = await localServiceRoleToken();

/** Keeps a worker invoked: each invocation returns when its budget is spent, and the next one starts. */
async function keepInvoking(schedule: Schedule) {
  while (!stopping) {
    let failed = false;
    const began = Date.now();
    try {
      const res = await fetch(`http://127.0.0.1:${gatewayPort}/functions/v1/${schedule.function_name}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${serviceToken}` },
        body: JSON.stringify({ trigger: "runner" }),
      });
      await res.body?.cancel();
      if (!res.ok) {
        failed = true;
        if (!stopping) log(`${schedule.function_name}: HTTP ${res.status}`);
      }
    } catch (error) {
      failed = true;
      if (!stopping) log(`${schedule.function_name}: ${error instanceof Error ? error.message : error}`);
    }
    // A failing worker (its process restarting, say) is asked again after its schedule's interval; one
    // that returns at once (it does not poll) not more often than every quarter of a second.
    if (failed) await new Promise((r) => setTimeout(r, schedule.interval_seconds * 1000));
    else if (Date.now() - began < 250) await new Promise((r) => setTimeout(r, 250));
  }
}

async function main() {
  const names = await discoverFunctions();
  log(`starting ${names.length} Edge Functions (no subprocess, 256 MB heap): ${names.join(", ")}`);
  const served = new Map(
    names.map((
      name,
      i,
    ) => [name, supervise(name, firstFunctionPort + i, () => spawnFunction(name, firstFunctionPort + i))]),
  );
  await Promise.all([...served.values()].map((s) => waitUntilListening(s.port)));
  const workerService = supervise("worker-service", workerHealthPort, spawnWorkerService);
  const processes = new Map([...served, ["worker-service", workerService]]);

  const api = startApi({
    port: gatewayPort,
    dbUrl,
    storageDir,
    fallback: (req) => proxy(req, served, processes),
  });
  log(`API on ${api.url}: /auth/v1, /rest/v1, /storage/v1, /realtime/v1, /functions/v1/<name>`);
  console.log(`
         API URL: ${api.url}
          DB URL: ${dbUrl}
      JWT secret: ${LOCAL_JWT_SECRET}
        anon key: ${ANON_KEY}
service_role key: ${SERVICE_ROLE_KEY}
`);

  const schedules = (await readSchedules()).filter((s) => served.has(s.function_name));
  const workers = schedules.map((s) => keepInvoking(s));
  log(
    schedules.length
      ? `keeping workers polling their queues: ${schedules.map((s) => s.function_name).join(", ")}`
      : "no worker schedules in the database yet",
  );
  log("ready; Ctrl-C stops everything");

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log("stopping");
    for (const s of processes.values()) {
      try {
        s.child.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    await Promise.allSettled([...processes.values()].map((s) => s.child.status));
    await Promise.allSettled(workers);
    await api.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

await main();
