/**
 * The one consumer loop every queue worker uses. It keeps up to `concurrency` messages in work and
 * reads more as soon as a slot frees (long-polling with pgmq.read_with_poll while its budget lasts),
 * so one slow message never holds up the others. Each message is leased for a short visibility
 * timeout that is renewed while it works, but never past its time limit: past that limit the work
 * is aborted (child processes are killed through the signal) and recorded as a retryable failure.
 * What a message means, and how a failure is recorded, is the caller's: `process` and `fail`.
 */
import process from "node:process";
import type { Json, Sql } from "./db.ts";
import { errorMessage, failureMessage, isRetryable, RetryableError } from "./errors.ts";
import { runWithSignal } from "./work_signal.ts";

export interface QueueMessage<T> {
  msg_id: string;
  read_ct: number;
  message: T;
}

export type Outcome = "completed" | "retried" | "failed" | "stale" | "released";

export interface ConsumerOptions<T> {
  queue: string;
  /** Does the work and acknowledges the message in the transaction that records its result. */
  process: (msg: QueueMessage<T>, signal: AbortSignal) => Promise<Outcome>;
  /** Records a failed attempt (retry later, or fail for good) and says which it was. */
  /** `cause` is what was thrown, when something was (not for a message read too often). */
  fail: (msg: QueueMessage<T>, error: string, retryable: boolean, cause?: unknown) => Promise<Outcome>;
  /** Messages in work at once. */
  concurrency?: number;
  /** Seconds a read message stays hidden; renewed while it works. A dead worker's message returns after this. */
  leaseSeconds?: number;
  /** A message's work is aborted after this many seconds (a number, or one per message). */
  timeoutSeconds?: number | ((msg: QueueMessage<T>) => number);
  /** Reads beyond this count mean the worker kept dying on the message: it fails for good. */
  maxAttempts?: number;
  /** Stop reading new messages after this long (hosted functions have a wall clock). */
  budgetMs?: number;
  /**
   * Stop reading new messages once the process has used this much CPU since the loop began (hosted
   * functions get 2 s of CPU a request); what is in work finishes.
   */
  cpuBudgetMs?: number;
  /**
   * Stop reading new messages after this many: Edge Runtime has no CPU clock to read
   * (process.cpuUsage is a stub there), so an Edge invocation bounds its CPU by counting messages.
   */
  maxMessages?: number;
  /** Wait this long for a message to arrive; 0 returns as soon as the queue has nothing visible. */
  pollSeconds?: number;
  pollIntervalMs?: number;
  log?: (line: string) => void;
  /** Per message: its outcome and the milliseconds it took. */
  onMessage?: (outcome: Outcome, ms: number) => void;
  /** After every read, empty or not: the worker is alive. */
  onPoll?: () => Promise<unknown> | unknown;
  /** Stop reading (what is in work finishes) once this aborts: shutting down, or a benchmark's end. */
  stop?: AbortSignal;
  /**
   * Once this aborts, work in progress is abandoned and its messages given back to the queue at once:
   * sent again and deleted in one transaction, so the next reader starts with a fresh read count
   * (giving back is not a failed attempt). Outputs are keyed by unit, so whoever reads the message
   * next does the work again without duplicates.
   */
  release?: AbortSignal;
  /**
   * The channel the queue's producers notify when they send (private.wake_queue_workers): the worker
   * LISTENs and reads at once instead of at its next poll. Where LISTEN is not available (through a
   * transaction pooler), it long-polls as before.
   */
  wakeChannel?: string;
  /**
   * Reads up to `quantity` messages, waiting up to `waitSeconds` for one (0: at once). Defaults to
   * pgmq.read / pgmq.read_with_poll; a worker may read and begin its messages in one transaction.
   */
  read?: (quantity: number, waitSeconds: number) => Promise<QueueMessage<T>[]>;
}

/** The channel a queue's producers notify (private.wake_queue_workers in SQL). */
export function wakeChannelOf(queue: string): string {
  return `queue_${queue}`;
}

export interface ConsumerSummary {
  read: number;
  completed: number;
  retried: number;
  failed: number;
  stale: number;
  released: number;
}

class Released extends Error {}

/** Runs `fn` over `items`, `limit` at a time; after the first failure no further item starts. */
export async function mapWithConcurrency<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  let failed = false;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failed) {
      try {
        await fn(items[next++]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  await Promise.all(runners);
}

/**
 * The content queues' failure rule: a retryable error comes back after the shared backoff (SQL's
 * private.backoff_seconds), anything else, or the last attempt, is recorded for good by `failForGood`.
 */
export async function retryOrFail<T>(
  sql: Sql,
  queue: string,
  msg: QueueMessage<T>,
  retryable: boolean,
  maxAttempts: number,
  failForGood: () => Promise<unknown>,
): Promise<Outcome> {
  if (retryable && msg.read_ct < maxAttempts) {
    await sql`select pgmq.set_vt(${queue}, ${msg.msg_id}::bigint, private.backoff_seconds(${msg.read_ct}))`;
    return "retried";
  }
  await failForGood();
  return "failed";
}

export async function consumeQueue<T>(sql: Sql, options: ConsumerOptions<T>): Promise<ConsumerSummary> {
  const {
    queue,
    concurrency = 2,
    leaseSeconds = 10,
    timeoutSeconds = 300,
    maxAttempts = 5,
    budgetMs = 100_000,
    pollSeconds = 0,
    pollIntervalMs = 25,
    log = () => {},
  } = options;
  const read = options.read ??
    ((quantity: number, waitSeconds: number) =>
      waitSeconds > 0
        ? sql<QueueMessage<T>[]>`
          select msg_id, read_ct, message
          from pgmq.read_with_poll(${queue}, ${leaseSeconds}, ${quantity}, ${waitSeconds}, ${pollIntervalMs})`
        : sql<
          QueueMessage<T>[]
        >`select msg_id, read_ct, message from pgmq.read(${queue}, ${leaseSeconds}, ${quantity})`);
  const summary: ConsumerSummary = { read: 0, completed: 0, retried: 0, failed: 0, stale: 0, released: 0 };
  const deadline = Date.now() + budgetMs;
  // Edge Runtime's process.cpuUsage() is a stub that warns on every call: there, maxMessages bounds CPU.
  const cpuClock = options.cpuBudgetMs !== undefined && !("EdgeRuntime" in globalThis);
  const cpuAtStart = cpuClock ? process.cpuUsage() : undefined;
  const budgetSpent = () => {
    if (options.maxMessages !== undefined && summary.read >= options.maxMessages) return true;
    if (!cpuAtStart) return false;
    const used = process.cpuUsage(cpuAtStart);
    return (used.user + used.system) / 1000 >= options.cpuBudgetMs!;
  };
  /** Sends the message again and deletes this copy, in one transaction. */
  const giveBack = async (msg: QueueMessage<T>): Promise<Outcome> => {
    await sql.begin((tx) => [
      tx`select pgmq.send(${queue}, ${tx.json(msg.message as Json)})`,
      tx`select pgmq.delete(${queue}, ${msg.msg_id}::bigint)`,
    ]);
    return "released";
  };
  const inFlight = new Set<Promise<void>>();
  let notified = false;
  let wake: (() => void) | undefined;
  let listening: { unlisten: () => Promise<void> } | undefined;
  if (options.wakeChannel && pollSeconds > 0) {
    try {
      listening = await sql.listen(options.wakeChannel, () => {
        notified = true;
        wake?.();
      });
    } catch (error) {
      log(`${queue}: cannot LISTEN (${errorMessage(error)}); polling instead`);
    }
  }
  /** Waits up to `seconds` for a notification that something was sent. */
  const nap = (seconds: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wake = undefined));

  const work = async (msg: QueueMessage<T>): Promise<Outcome> => {
    if (options.release?.aborted) return await giveBack(msg); // read as the drain ran out
    if (msg.read_ct > maxAttempts) {
      return await options.fail(
        msg,
        `read ${msg.read_ct} times without finishing (the worker stopped each time)`,
        false,
      );
    }
    const started = Date.now();
    const limitSeconds = typeof timeoutSeconds === "function" ? timeoutSeconds(msg) : timeoutSeconds;
    const limitMs = limitSeconds * 1000;
    const controller = new AbortController();
    const renew = setInterval(() => {
      // Up to the time limit, and a few seconds past it: the failure recorded then sets its own delay.
      const left = Math.ceil((limitMs - (Date.now() - started)) / 1000) + 5;
      if (left <= 5) return;
      sql`select pgmq.set_vt(${queue}, ${msg.msg_id}::bigint, ${Math.min(leaseSeconds, left)})`.catch(
        () => {},
      );
    }, (leaseSeconds * 1000) / 3);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onRelease = () => {};
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new RetryableError(`gave up after ${limitSeconds} s (the step's time limit)`));
      }, limitMs);
      onRelease = () => {
        reject(new Released()); // first, so a handler that rejects on abort cannot record a failure
        controller.abort();
      };
      if (options.release?.aborted) onRelease();
      else options.release?.addEventListener("abort", onRelease, { once: true });
    });
    try {
      return await Promise.race([
        runWithSignal(controller.signal, () => options.process(msg, controller.signal)),
        stopped,
      ]);
    } catch (error) {
      if (error instanceof Released) {
        clearInterval(renew);
        return await giveBack(msg);
      }
      return await options.fail(msg, failureMessage(error), isRetryable(error), error);
    } finally {
      clearInterval(renew);
      clearTimeout(timer);
      options.release?.removeEventListener("abort", onRelease);
    }
  };

  const start = (msg: QueueMessage<T>) => {
    const began = performance.now();
    const task = work(msg).then(
      (outcome) => {
        summary[outcome]++;
        options.onMessage?.(outcome, performance.now() - began);
        log(`${queue} ${msg.msg_id}: ${outcome}`);
      },
      (error) => {
        // Recording the outcome failed (the database went away): the lease expires and it comes back.
        log(`${queue} ${msg.msg_id}: could not record the outcome: ${errorMessage(error)}`);
      },
    ).finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  try {
    while (Date.now() < deadline && !options.stop?.aborted && !budgetSpent()) {
      const free = concurrency - inFlight.size;
      if (free <= 0) {
        await Promise.race(inFlight);
        continue;
      }
      const wait = Math.min(pollSeconds, Math.floor((deadline - Date.now()) / 1000));
      // Listening: a plain read, then a nap until a producer says it sent something. Otherwise the
      // read itself waits (long-polling), or, with no wait left, returns at once.
      notified = false;
      const quantity = options.maxMessages === undefined
        ? free
        : Math.min(free, options.maxMessages - summary.read);
      const batch = await read(quantity, wait > 0 && !listening ? wait : 0);
      summary.read += batch.length;
      for (const msg of batch) start(msg);
      // After starting what was read: a failed heartbeat must not strand messages already claimed.
      await Promise.resolve(options.onPoll?.()).catch((error) =>
        log(`${queue}: heartbeat failed: ${errorMessage(error)}`)
      );
      if (batch.length > 0) continue;
      if (wait > 0) {
        if (listening && !notified) await nap(Math.min(wait, 1)); // a second at most: the safety net
        continue;
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight); // what is in work may be all there is
    }
  } finally {
    await Promise.allSettled(inFlight);
    await listening?.unlisten().catch(() => {});
  }
  return summary;
}
