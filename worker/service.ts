/**
 * The worker service: queue workers as one long-running process reading pgmq over a direct or
 * session-mode connection, with no HTTP invocation. Each function runs the shared consumer loop
 * round after round, beats its heartbeat while it polls, and on shutdown stops reading, lets the
 * units in work finish for up to `drainSeconds`, then gives what is left back to the queue.
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

/** One round of a function's loop runs this long before the next (a fresh budget, same process). */
const ROUND_MS = 60_000;

export function startService(options: ServiceOptions): RunningService {
  const log = options.log ?? ((line) => console.log(line));
  const stop = new AbortController();
  const release = new AbortController();
  const counts: Record<string, Record<string, number>> = {};
  let consuming = 0;
  let draining = false;
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const names = Object.keys(options.functions);

  const loop = async (name: string) => {
    const work = options.functions[name];
    const beat = heartbeat(options.sql, name, options.instance);
    const total: Record<string, number> = counts[name] = {};
    let failures = 0;
    let started = false;
    const onPoll = async () => {
      await beat();
      if (!started) {
        started = true;
        if (++consuming === names.length) markReady();
      }
    };
    while (!stop.signal.aborted) {
      try {
        const summary = await work(options.sql, {
          budgetMs: ROUND_MS,
          pollSeconds: options.pollSeconds,
          onPoll,
          stop: stop.signal,
          release: release.signal,
        });
        for (const [key, value] of Object.entries(summary)) {
          if (typeof value === "number") total[key] = (total[key] ?? 0) + value;
        }
        failures = 0;
      } catch (error) {
        // The database went away or refused: try again with backoff, up to 30 s between tries.
        const wait = Math.min(30_000, 500 * 2 ** failures++);
        log(`${name}: ${errorMessage(error)}; reading again in ${wait / 1000} s`);
        await sleep(wait, stop.signal);
      }
    }
  };

  const server = Deno.serve({ port: options.healthPort, hostname: "0.0.0.0", onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/livez") return Response.json({ ok: true, functions: names });
    if (path === "/readyz") {
      const isReady = consuming === names.length && !draining;
      return Response.json(
        { ok: isReady, draining, consuming, functions: names, counts },
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
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
