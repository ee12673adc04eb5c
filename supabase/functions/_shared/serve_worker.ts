/**
 * Serves a queue worker. Each invocation consumes the worker's queue, long-polling, until its budget
 * is spent, and says it is alive in private.worker_heartbeats while it polls (the hosted pg_cron job
 * invokes a worker only when no invocation is alive). On Supabase's Edge Runtime the work continues
 * in the background after a 202 (EdgeRuntime.waitUntil); elsewhere the response is the work's counts.
 */
import { requireServiceRole } from "./auth.ts";
import { type Sql, sql } from "./db.ts";
import { config } from "./env.ts";
import { handle, json } from "./http.ts";
import type { ConsumerSummary } from "./queue.ts";

export interface WorkerRun {
  budgetMs: number;
  pollSeconds: number;
  onPoll: () => Promise<unknown>;
}

/** Records that `functionName` is polling, at most once a second. */
export function heartbeat(db: Sql, functionName: string): () => Promise<unknown> {
  let last = 0;
  return async () => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    await db`
      insert into private.worker_heartbeats (function_name, beat_at) values (${functionName}, clock_timestamp())
      on conflict (function_name) do update set beat_at = excluded.beat_at`;
  };
}

interface EdgeRuntimeGlobal {
  EdgeRuntime?: { waitUntil(promise: Promise<unknown>): void };
}

/**
 * The handler of a queue worker: the service role only (401/403 otherwise), and the answer is the
 * counts of what it did, never which books or users it touched.
 */
export function workerHandler(functionName: string, work: (run: WorkerRun) => Promise<ConsumerSummary>) {
  return handle(async (req) => {
    await requireServiceRole(req);
    const cfg = config();
    const running = work({
      budgetMs: cfg.workerBudgetSeconds * 1000,
      pollSeconds: cfg.workerPollSeconds,
      onPoll: heartbeat(sql(), functionName),
    });
    const runtime = (globalThis as EdgeRuntimeGlobal).EdgeRuntime;
    if (runtime) {
      runtime.waitUntil(running.catch((error) => console.error(`${functionName}: ${error}`)));
      return json({ started: true }, 202);
    }
    const { read, completed, retried, failed, stale } = await running;
    return json({ read, completed, retried, failed, stale });
  });
}

export function serveWorker(functionName: string, work: (run: WorkerRun) => Promise<ConsumerSummary>) {
  Deno.serve(workerHandler(functionName, work));
}
