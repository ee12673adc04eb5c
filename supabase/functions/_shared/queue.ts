/**
 * A consumer for the content queues (ingest, embed, plot): read a batch with a visibility timeout,
 * process with bounded concurrency while a heartbeat extends the timeout, back off retryable
 * errors, and hand permanent ones (or messages read too often) to the queue's failure function.
 * `process` acknowledges the message itself, in the SQL transaction that saves its result.
 */
import type { Sql } from "./db.ts";
import { errorMessage, isRetryable } from "./errors.ts";

export interface QueueMessage<T> {
  msg_id: string;
  read_ct: number;
  message: T;
}

export interface ConsumerOptions<T> {
  queue: string;
  process: (msg: QueueMessage<T>) => Promise<void>;
  /** Records a permanent failure and archives the message. */
  fail: (msg: QueueMessage<T>, error: string) => Promise<void>;
  batchSize?: number;
  concurrency?: number;
  visibilitySeconds?: number;
  maxAttempts?: number;
  baseBackoffSeconds?: number;
  budgetMs?: number;
  log?: (line: string) => void;
}

export interface ConsumerSummary {
  read: number;
  done: number;
  retried: number;
  failed: number;
}

export async function mapWithConcurrency<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(runners);
}

/** Exponential backoff with a ceiling: base, 2 x base, 4 x base ... at most 300 s. */
export function backoffSeconds(attempt: number, base: number): number {
  return Math.min(300, base * 2 ** Math.max(0, attempt - 1));
}

export async function consumeQueue<T>(sql: Sql, options: ConsumerOptions<T>): Promise<ConsumerSummary> {
  const {
    queue,
    batchSize = 4,
    concurrency = 2,
    visibilitySeconds = 120,
    maxAttempts = 5,
    baseBackoffSeconds = 3,
    budgetMs = 100_000,
    log = () => {},
  } = options;
  const summary: ConsumerSummary = { read: 0, done: 0, retried: 0, failed: 0 };
  const deadline = Date.now() + budgetMs;
  while (Date.now() < deadline) {
    const batch = await sql<QueueMessage<T>[]>`
      select msg_id, read_ct, message from pgmq.read(${queue}, ${visibilitySeconds}, ${batchSize})`;
    if (batch.length === 0) break;
    summary.read += batch.length;
    await mapWithConcurrency(batch, concurrency, async (msg) => {
      if (msg.read_ct > maxAttempts) {
        await options.fail(msg, `read ${msg.read_ct} times without finishing (the worker stopped each time)`);
        summary.failed++;
        return;
      }
      const heartbeat = setInterval(() => {
        sql`select pgmq.set_vt(${queue}, ${msg.msg_id}::bigint, ${visibilitySeconds})`.catch(() => {});
      }, (visibilitySeconds * 1000) / 2);
      try {
        await options.process(msg);
        summary.done++;
      } catch (error) {
        const message = errorMessage(error);
        if (isRetryable(error) && msg.read_ct < maxAttempts) {
          const delay = backoffSeconds(msg.read_ct, baseBackoffSeconds);
          await sql`select pgmq.set_vt(${queue}, ${msg.msg_id}::bigint, ${delay})`;
          summary.retried++;
          log(`${queue} ${msg.msg_id}: retry in ${delay} s: ${message}`);
        } else {
          await options.fail(msg, message);
          summary.failed++;
          log(`${queue} ${msg.msg_id}: failed: ${message}`);
        }
      } finally {
        clearInterval(heartbeat);
      }
    });
  }
  return summary;
}
