/**
 * The queue worker harness every pipeline stage uses: read a batch with a visibility timeout,
 * process it with bounded concurrency, keep long work invisible, and record each outcome
 * through the stage's SQL functions (one transaction with the message).
 */
import type { Json, Sql } from "../db.ts";
import { errorMessage, isRetryable } from "../errors.ts";
import { mapWithConcurrency } from "../queue.ts";

export type PipelineStep = "script" | "images" | "audio" | "video" | "lipsync" | "merge";

export interface UsageCall {
  model: string;
  operation?: string;
  input_tokens?: number;
  output_tokens?: number;
  units?: number;
  duration_ms?: number;
}

export interface StepResult {
  outputs: Record<string, unknown>;
  usage: UsageCall[];
}

/** What begin_step returns: the generation, the unit, and the rows the unit needs. */
export interface StepContext {
  generation_id: string;
  user_id: string;
  step: PipelineStep;
  unit: string;
  attempt: number;
  script_style: "cinematic" | "narration" | "educational";
  quality_tier: "basic" | "standard" | "premium" | "professional";
  subscription_tier: string;
  [key: string]: unknown;
}

export type StepHandler = (context: StepContext) => Promise<StepResult>;

export interface WorkerOptions {
  step: PipelineStep;
  handler: StepHandler;
  batchSize?: number;
  concurrency?: number;
  /** Seconds a read message stays hidden; extended while the handler runs. */
  visibilitySeconds?: number;
  maxAttempts?: number;
  /** First retry delay in seconds; doubles per attempt up to 300 s. */
  baseBackoffSeconds?: number;
  /** Stop reading new batches after this long (hosted functions have a wall clock). */
  budgetMs?: number;
  log?: (line: string) => void;
  /** Called per message with its outcome and the milliseconds from begin_step to the recorded outcome. */
  onMessage?: (outcome: string, ms: number) => void;
}

export interface WorkerSummary {
  read: number;
  completed: number;
  retried: number;
  failed: number;
  stale: number;
}

interface QueueMessage {
  msg_id: string;
  read_ct: number;
  message: { generation_id: string; step: PipelineStep; unit: string };
}

/** Reads and processes messages until the queue has none visible or the budget is spent. */
export async function runWorker(sql: Sql, options: WorkerOptions): Promise<WorkerSummary> {
  const {
    step,
    handler,
    batchSize = 4,
    concurrency = 2,
    visibilitySeconds = 120,
    maxAttempts = 5,
    baseBackoffSeconds = 3,
    budgetMs = 100_000,
    log = () => {},
    onMessage,
  } = options;
  const summary: WorkerSummary = { read: 0, completed: 0, retried: 0, failed: 0, stale: 0 };
  const deadline = Date.now() + budgetMs;

  while (Date.now() < deadline) {
    const batch = await sql<QueueMessage[]>`
      select msg_id, read_ct, message from pgmq.read(${step}, ${visibilitySeconds}, ${batchSize})`;
    if (batch.length === 0) break;
    summary.read += batch.length;
    await mapWithConcurrency(batch, concurrency, async (msg) => {
      const started = performance.now();
      const outcome = await processMessage(sql, msg, {
        step,
        handler,
        visibilitySeconds,
        maxAttempts,
        baseBackoffSeconds,
      });
      onMessage?.(outcome, performance.now() - started);
      summary[outcome]++;
      log(`${step} ${msg.message.unit} of ${msg.message.generation_id}: ${outcome}`);
    });
  }
  return summary;
}

type Outcome = "completed" | "retried" | "failed" | "stale";

async function processMessage(
  sql: Sql,
  msg: QueueMessage,
  opts: {
    step: PipelineStep;
    handler: StepHandler;
    visibilitySeconds: number;
    maxAttempts: number;
    baseBackoffSeconds: number;
  },
): Promise<Outcome> {
  const { generation_id, unit } = msg.message;
  const { step } = opts;
  const fail = async (error: string, retryable: boolean): Promise<Outcome> => {
    const [{ outcome }] = await sql<{ outcome: string }[]>`
      select private.fail_step(${msg.msg_id}, ${generation_id}, ${step}, ${unit}, ${error}, ${retryable},
                               ${msg.read_ct}, ${opts.maxAttempts}, ${opts.baseBackoffSeconds}) as outcome`;
    return outcome === "retry" ? "retried" : outcome === "failed" ? "failed" : "stale";
  };

  if (msg.read_ct > opts.maxAttempts) {
    // Read this often without a recorded outcome: the worker kept dying on it.
    return await fail(`read ${msg.read_ct} times without finishing (the worker stopped each time)`, false);
  }
  const [{ context }] = await sql<{ context: StepContext | null }[]>`
    select private.begin_step(${generation_id}, ${step}, ${unit}, ${msg.read_ct}) as context`;
  if (!context) {
    await sql`select pgmq.delete(${step}, ${msg.msg_id}::bigint)`;
    return "stale";
  }

  const heartbeat = setInterval(() => {
    sql`select pgmq.set_vt(${step}, ${msg.msg_id}::bigint, ${opts.visibilitySeconds})`.catch(() => {});
  }, (opts.visibilitySeconds * 1000) / 2);
  try {
    const result = await opts.handler(context);
    const [{ outcome }] = await sql<{ outcome: string }[]>`
      select private.complete_step(${msg.msg_id}, ${generation_id}, ${step}, ${unit},
                                   ${sql.json(result.outputs as Json)}, ${
      sql.json(result.usage as unknown as Json)
    }) as outcome`;
    return outcome === "stale" ? "stale" : "completed";
  } catch (error) {
    return await fail(errorMessage(error), isRetryable(error));
  } finally {
    clearInterval(heartbeat);
  }
}
