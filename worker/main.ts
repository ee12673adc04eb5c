/**
 * The worker service's entry: `npm run worker -- [--group media|books]... [queue or function]...`.
 * With neither, it runs every group the placement table gives the worker service under this
 * configuration. SIGTERM or SIGINT drains it (see service.ts) and exits 0.
 */
import { createSql } from "../supabase/functions/_shared/db.ts";
import { config, ConfigError } from "../supabase/functions/_shared/env.ts";
import {
  placementOf,
  WORKER_GROUPS,
  workerFunctions,
  type WorkerGroup,
} from "../supabase/functions/_shared/placement.ts";
import { WORKER_FUNCTIONS } from "./functions.ts";
import { startService } from "./service.ts";

/** The functions named on the command line, by group, queue or function name. */
export function chooseFunctions(args: string[], env: Pick<typeof Deno.env, "get"> = Deno.env): string[] {
  const groups: WorkerGroup[] = [];
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--group" || arg.startsWith("--group=")) {
      const group = arg.includes("=") ? arg.slice("--group=".length) : args[++i];
      if (!(group in WORKER_GROUPS)) {
        throw new ConfigError(
          `unknown worker group "${group}" (groups: ${Object.keys(WORKER_GROUPS).join(", ")})`,
        );
      }
      groups.push(group as WorkerGroup);
    } else {
      const placement = placementOf(arg);
      if (!placement.queue) {
        throw new ConfigError(`${placement.name} is an HTTP function, not a queue worker`);
      }
      names.push(placement.name);
    }
  }
  if (groups.length === 0 && names.length === 0) groups.push(...Object.keys(WORKER_GROUPS) as WorkerGroup[]);
  const chosen = new Set([...workerFunctions(groups, env).map((p) => p.name), ...names]);
  return [...chosen].sort();
}

function seconds(name: string, fallback: number): number {
  const value = Number(Deno.env.get(name) ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a number of seconds`);
  return value;
}

if (import.meta.main) {
  try {
    const names = chooseFunctions(Deno.args);
    if (names.length === 0) throw new ConfigError("no queue to consume under this configuration");
    const cfg = config();
    // Each loop holds a LISTEN connection and a read; each unit in work needs one more.
    const sql = createSql(cfg.databaseUrl, { max: Math.max(8, names.length * 4) });
    const service = startService({
      sql,
      functions: Object.fromEntries(names.map((name) => [name, WORKER_FUNCTIONS[name]])),
      healthPort: Number(Deno.env.get("WORKER_HEALTH_PORT") ?? 8080),
      healthHost: Deno.env.get("WORKER_HEALTH_HOST") || undefined,
      drainSeconds: seconds("WORKER_DRAIN_SECONDS", 25),
      pollSeconds: cfg.workerPollSeconds,
      instance: `worker:${Deno.hostname()}:${Deno.pid}`,
    });
    const shutdown = async () => {
      await service.shutdown();
      await sql.end({ timeout: 5 });
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGTERM", shutdown);
    Deno.addSignalListener("SIGINT", shutdown);
  } catch (error) {
    console.error(`worker service: ${error instanceof Error ? error.message : error}`);
    Deno.exit(error instanceof ConfigError ? 2 : 1);
  }
}
