/**
 * The worker service: queue workers as one long-running process reading pgmq over a direct or
 * session-mode connection, with no HTTP invocation. Each function runs the shared consumer loop
 * until shutdown (started again after a database error), beats its heartbeat while it polls, and on
 * shutdown stops reading, lets the units in work finish for up to `drainSeconds`, then gives what
 * is left back to the queue.
 * A small HTTP server answers /livez and /readyz for the orchestrator.
 */
import type { Sql } from "../supabase/functions/_shared/db.ts";
import { errorMessage } from "../supabase/functions/_shared/errors.ts";
import { heartbeat } from "../supabase/functions/_shared/serve_worker.ts";
import type { WorkerFunction } from "./functions.ts";

export interface ServiceOptions {
  sql: Sql;
  /** Function name to its worker. */
  functions: Record<string, WorkerFunction>;
  /** Port of /livez and /readyz; 0 picks a free one. */
  healthPort: number;
  /** Address the health server listens on (all IPv4 addresses by default, for the kubelet's probes). */
  healthHost?: string;
  /** On shutdown, how long units in work may take to finish before their messages are given back. */
  drainSeconds: number;
  /** Long-poll wait of each read. */
  pollSeconds: number;
  /** Host and process, recorded with every heartbeat. */
  instance: string;
  log?: (line: string) => void;
}

export interface RunningService {
  /** The health server's port. */
  port: number;
  /** Resolves once every function is consuming. */
  ready: Promise<void>;
  /** Messages each function finished, retried, failed or gave back, so far. */
  counts: Record<string, Record<string, number>>;
  /** Stops reading, drains, releases what is left; resolves when every loop has returned. */
  shutdown(): Promise<void>;
}

export function startService(options: ServiceOptions): RunningService {
  const log = options.log ?? ((line) => console.log(line));
  const stop = new AbortController();
  const release = new AbortController();
  const counts: Record<string, Record<string, number>> = {};
  /** The loops whose last read succeeded. */
  const consuming = new Set<string>();
  let draining = false;
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const names = Object.keys(options.functions);

  const loop = async (name: string) => {
    const work = options.functions[name];
    const beat = heartbeat(options.sql, name, options.instance);
    const total: Record<string, number> = counts[name] = {};
    let failures = 0;
    const onPoll = async () => {
      failures = 0;
      consuming.add(name);
      if (consuming.size === names.length) markReady();
      await beat();
    };
    while (!stop.signal.aborted) {
      try {
        // One loop until shutdown: no round boundary at which the free slots wait for a long unit.
        await work(options.sql, {
          budgetMs: Number.POSITIVE_INFINITY,
          pollSeconds: options.pollSeconds,
          onPoll,
          onMessage: (outcome) => void (total[outcome] = (total[outcome] ?? 0) + 1),
          stop: stop.signal,
          release: release.signal,
        });
      } catch (error) {
        // The database went away or refused: not ready; try again with backoff, up to 30 s apart.
        consuming.delete(name);
        const wait = Math.min(30_000, 500 * 2 ** failures++);
        log(`${name}: ${errorMessage(error)}; reading again in ${wait / 1000} s`);
        await sleep(wait, stop.signal);
      }
    }
  };

  const server = Deno.serve({
    port: options.healthPort,
    hostname: options.healthHost ?? "0.0.0.0",
    onListen: () => {},
  }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/livez") return Response.json({ ok: true, functions: names });
    if (path === "/readyz") {
      const isReady = consuming.size === names.length && !draining;
      return Response.json(
        { ok: isReady, draining, consuming: [...consuming], functions: names, counts },
        { status: isReady ? 200 : 503 },
      );
    }
    return Response.json({ error: "not found: use /livez or /readyz" }, { status: 404 });
  });

  const loops = names.map((name) => loop(name));
  log(`worker service ${options.instance}: consuming ${names.join(", ")}; health on :${server.addr.port}`);

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      draining = true;
      log(`draining: no new messages; units in work have ${options.drainSeconds} s to finish`);
      stop.abort();
      const timer = setTimeout(() => {
        log("drain time is up: giving the remaining messages back to their queues");
        release.abort();
      }, options.drainSeconds * 1000);
      await Promise.allSettled(loops);
      clearTimeout(timer);
      await server.shutdown();
      log("stopped");
    })();

  return { port: server.addr.port, ready, counts, shutdown };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
