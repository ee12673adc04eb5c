import { hasServiceRole } from "../_shared/auth.ts";
import type { Sql } from "../_shared/db.ts";
import { json } from "../_shared/http.ts";

export interface QueueDepth {
  queue: string;
  length: number;
  visible: number;
  oldestAgeSeconds: number | null;
}

export interface WorkerBeat {
  worker: string;
  lastPolledSecondsAgo: number;
}

export interface Health {
  ok: boolean;
  postgres: string;
  extensions: Record<string, string>;
  queues: QueueDepth[];
  /** When each queue worker last polled its queue. */
  workers: WorkerBeat[];
  /** Models used in the last 7 days without a price: their calls were logged at no cost. */
  modelsWithoutPrice: { model: string; calls: number }[];
}

/** What anyone may know: the database answers. */
export async function checkLiveness(sql: Sql): Promise<{ ok: boolean }> {
  const [{ alive }] = await sql<{ alive: boolean }[]>`select true as alive`;
  return { ok: alive };
}

/** Liveness for everyone; the details (queues, workers, prices) for the service role only. */
export async function healthResponse(sql: Sql, req: Request): Promise<Response> {
  return json(await hasServiceRole(req) ? await checkHealth(sql) : await checkLiveness(sql));
}

/**
 * Reports whether the database answers, which extensions it has, each queue's depth, when each
 * worker last polled, and any model used without a price. `ok` is false when a price is missing.
 */
export async function checkHealth(sql: Sql): Promise<Health> {
  const [{ version }] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
  const extensions = await sql<{ extname: string; extversion: string }[]>`
    select extname, extversion from pg_extension where extname in ('vector', 'pg_cron', 'pgmq', 'pg_net')`;
  const queues = await sql<
    {
      queue_name: string;
      queue_length: string;
      queue_visible_length: string;
      oldest_msg_age_sec: number | null;
    }[]
  >`select queue_name, queue_length, queue_visible_length, oldest_msg_age_sec from private.queue_depths()`;
  const workers = await sql<{ function_name: string; age: number }[]>`
    select function_name, extract(epoch from clock_timestamp() - beat_at)::float8 as age
    from private.worker_heartbeats order by function_name`;
  const unpriced = await sql<{ model_used: string; calls: string }[]>`
    select model_used, calls from private.models_missing_prices()`;
  return {
    ok: unpriced.length === 0,
    postgres: version,
    extensions: Object.fromEntries(extensions.map((e) => [e.extname, e.extversion])),
    queues: queues.map((q) => ({
      queue: q.queue_name,
      length: Number(q.queue_length),
      visible: Number(q.queue_visible_length),
      oldestAgeSeconds: q.oldest_msg_age_sec,
    })),
    workers: workers.map((w) => ({
      worker: w.function_name,
      lastPolledSecondsAgo: Math.round(w.age * 10) / 10,
    })),
    modelsWithoutPrice: unpriced.map((m) => ({ model: m.model_used, calls: Number(m.calls) })),
  };
}
