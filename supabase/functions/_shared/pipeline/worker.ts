/**
 * The pipeline stages' worker: the shared consumer loop (queue.ts) with begin_step before a unit's
 * work and complete_step or fail_step after it, each one transaction with the message.
 */
import type { Json, Sql } from "../db.ts";
import { wasUnbilled } from "../errors.ts";
import {
  consumeQueue,
  type ConsumerSummary,
  type Outcome,
  type QueueMessage,
  wakeChannelOf,
} from "../queue.ts";

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
  quality_tier: "free" | "basic" | "standard" | "premium" | "professional";
  subscription_tier: string;
  /** The unit's attempt: its cost reservation is settled under it. */
  unit_attempt: number;
  /** The model the quality calls for this step (private.quality_models); its cost is reserved. */
  model: string;
  /** The quality's frame size. */
  frame_width: number;
  frame_height: number;
  /** What the quality allows one script (private.tier_ceilings). */
  limits: { scenes: number; speech_characters: number; video_seconds: number };
  /** The longest video of its quality (private.tier_ceilings): no scene may last longer. */
  max_video_seconds: number;
  [key: string]: unknown;
}

/** Does one unit's work; `signal` aborts when the worker gives up on it (its time limit). */
export type StepHandler = (context: StepContext, signal: AbortSignal) => Promise<StepResult>;

/** A stage's row of private.pipeline_stages: its limits and retry policy. */
export interface StageSettings {
  step: PipelineStep;
  concurrency: number;
  lease_seconds: number;
  timeout_seconds: number;
  max_attempts: number;
  backoff_base_seconds: number;
}

/** Options default to the stage's row of private.pipeline_stages; tests override some. */
export interface WorkerOptions {
  step: PipelineStep;
  handler: StepHandler;
  concurrency?: number;
  /** Seconds a read message stays hidden; renewed while the handler runs, up to timeoutSeconds. */
  leaseSeconds?: number;
  /** The handler is aborted after this long. */
  timeoutSeconds?: number;
  maxAttempts?: number;
  /** First retry delay in seconds; doubles per attempt up to 300 s. */
  baseBackoffSeconds?: number;
  /** Stop reading new messages after this long (hosted functions have a wall clock). */
  budgetMs?: number;
  /** Stop reading new messages after this much CPU (hosted functions stop a request at 2 s). */
  cpuBudgetMs?: number;
  /** Stop reading new messages after this many (an Edge invocation's bound on its CPU). */
  maxMessages?: number;
  /** Wait this long for work when the queue is empty (0: return at once). */
  pollSeconds?: number;
  log?: (line: string) => void;
  /** Called per message with its outcome and the milliseconds from reading it to its recorded outcome. */
  onMessage?: (outcome: Outcome, ms: number) => void;
  onPoll?: () => Promise<unknown> | unknown;
  stop?: AbortSignal;
  release?: AbortSignal;
}

export type WorkerSummary = ConsumerSummary;

interface StepMessage {
  generation_id: string;
  step: PipelineStep;
  unit: string;
}

/** A message as private.claim_steps returns it: read, and begun when `begun` (stale: no context). */
type ClaimedMessage = QueueMessage<StepMessage> & { context?: StepContext | null; begun?: boolean };

/** Consumes one stage's queue: begin_step, the handler, then complete_step or fail_step. */
export async function runWorker(sql: Sql, options: WorkerOptions): Promise<WorkerSummary> {
  const { step, handler } = options;
  const [stage] = await sql<StageSettings[]>`
    select step, concurrency, lease_seconds, timeout_seconds, max_attempts, backoff_base_seconds
    from private.pipeline_stages where step = ${step}`;
  if (!stage) throw new Error(`no stage "${step}" in private.pipeline_stages`);
  const maxAttempts = options.maxAttempts ?? stage.max_attempts;
  const baseBackoffSeconds = options.baseBackoffSeconds ?? stage.backoff_base_seconds;
  // The attempt each message began as, for its failure: that attempt's reservation is the one to close.
  const attempts = new Map<string, number>();
  const fail = async (
    msg: QueueMessage<StepMessage>,
    error: string,
    retryable: boolean,
    cause?: unknown,
  ): Promise<Outcome> => {
    const { generation_id, unit } = msg.message;
    const attempt = attempts.get(msg.msg_id) ?? null;
    attempts.delete(msg.msg_id);
    const [{ outcome }] = await sql<{ outcome: string }[]>`
      select private.fail_step(${msg.msg_id}, ${generation_id}, ${step}, ${unit}, ${error}, ${retryable},
                               ${msg.read_ct}, ${maxAttempts}, ${baseBackoffSeconds}, ${attempt},
                               ${wasUnbilled(cause)}) as outcome`;
    return outcome === "retry" ? "retried" : outcome === "failed" ? "failed" : "stale";
  };
  const leaseSeconds = options.leaseSeconds ?? stage.lease_seconds;
  const claim = (quantity: number, waitSeconds: number) =>
    sql<ClaimedMessage[]>`
      select msg_id, read_ct, message, context, begun
      from private.claim_steps(${step}, ${leaseSeconds}, ${quantity}, ${maxAttempts}, ${waitSeconds})`;
  const begin = async (msg: ClaimedMessage): Promise<StepContext | null> => {
    if (msg.begun) return msg.context ?? null; // a stale one was deleted by claim_steps
    const { generation_id, unit } = msg.message;
    const [{ context }] = await sql<{ context: StepContext | null }[]>`
      select private.begin_step(${generation_id}, ${step}, ${unit}, ${msg.read_ct}) as context`;
    if (!context) await sql`select pgmq.delete(${step}, ${msg.msg_id}::bigint)`;
    return context;
  };
  const process = async (msg: ClaimedMessage, signal: AbortSignal): Promise<Outcome> => {
    const { generation_id, unit } = msg.message;
    const context = await begin(msg);
    if (!context) return "stale";
    attempts.set(msg.msg_id, context.unit_attempt);
    const result = await handler(context, signal);
    attempts.delete(msg.msg_id);
    const [{ outcome }] = await sql<{ outcome: string }[]>`
      select private.complete_step(${msg.msg_id}, ${generation_id}, ${step}, ${unit},
                                   ${sql.json(result.outputs as Json)}, ${
      sql.json(result.usage as unknown as Json)
    }, ${context.user_id}, ${context.unit_attempt}) as outcome`;
    return outcome === "stale" ? "stale" : "completed";
  };
  return await consumeQueue<StepMessage>(sql, {
    queue: step,
    wakeChannel: wakeChannelOf(step),
    process,
    fail,
    read: claim,
    concurrency: options.concurrency ?? stage.concurrency,
    leaseSeconds,
    timeoutSeconds: options.timeoutSeconds ?? stage.timeout_seconds,
    maxAttempts,
    budgetMs: options.budgetMs,
    cpuBudgetMs: options.cpuBudgetMs,
    maxMessages: options.maxMessages,
    pollSeconds: options.pollSeconds,
    log: options.log,
    onMessage: options.onMessage,
    onPoll: options.onPoll,
    stop: options.stop,
    release: options.release,
  });
}
