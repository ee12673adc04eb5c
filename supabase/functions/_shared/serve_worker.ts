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
import type { ConsumerSummary, Outcome } from "./queue.ts";

/** How one run of a queue worker consumes: an Edge invocation's budget, or the worker service's loop. */
export interface WorkerRun {
  budgetMs: number;
  /** CPU an Edge invocation may spend before it stops reading (none in the worker service). */
  cpuBudgetMs?: number;
  /** Messages an Edge invocation may take (Edge Runtime has no CPU clock: this bounds its CPU). */
  maxMessages?: number;
  /** Per message: its outcome and the milliseconds it took. */
  onMessage?: (outcome: Outcome, ms: number) => void;
  pollSeconds: number;
  onPoll: () => Promise<unknown>;
  /** Stop reading new messages (the worker service shutting down). */
  stop?: AbortSignal;
  /** Give back the messages still in work (the worker service out of time to drain). */
  release?: AbortSignal;
}

/**
 * Records that `functionName` is polling, at most once a second, and where: `edge` for an Edge
 * invocation, the worker service's host and process otherwise.
 */
export function heartbeat(db: Sql, functionName: string, instance = "edge"): () => Promise<unknown> {
  let last = 0;
  return async () => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    await db`
      insert into private.worker_heartbeats (function_name, beat_at, instance, polling)
      values (${functionName}, clock_timestamp(), ${instance}, true)
      on conflict (function_name) do update
      set beat_at = excluded.beat_at, instance = excluded.instance, polling = true`;
  };
}

/** An Edge invocation has returned: the next scheduled one need not wait for its heartbeat to age. */
async function stoppedPolling(db: Sql, functionName: string) {
  await db`
    update private.worker_heartbeats set polling = false
    where function_name = ${functionName} and instance = 'edge'`;
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
      cpuBudgetMs: cfg.workerCpuBudgetMs,
      maxMessages: cfg.workerMaxMessages,
      pollSeconds: cfg.workerPollSeconds,
      onPoll: heartbeat(sql(), functionName),
    }).finally(() => stoppedPolling(sql(), functionName).catch(() => {}));
    const runtime = (globalThis as EdgeRuntimeGlobal).EdgeRuntime;
    if (runtime) {
      runtime.waitUntil(running.catch((error) => console.error(`${functionName}: ${error}`)));
      return json({ started: true }, 202);
    }
    const { read, completed, retried, failed, stale, released } = await running;
    return json({ read, completed, retried, failed, stale, released });
  });
}

export function serveWorker(functionName: string, work: (run: WorkerRun) => Promise<ConsumerSummary>) {
  Deno.serve(workerHandler(functionName, work));
}
