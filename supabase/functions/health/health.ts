import type { Sql } from "../_shared/db.ts";

export interface QueueDepth {
  queue: string;
  length: number;
  visible: number;
  oldestAgeSeconds: number | null;
}

export interface Health {
  ok: boolean;
  postgres: string;
  extensions: Record<string, string>;
  queues: QueueDepth[];
}

/** Reports whether the database answers, which extensions it has, and each queue's depth. */
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
  >`select queue_name, queue_length, queue_visible_length, oldest_msg_age_sec from pgmq.metrics_all()`;
  return {
    ok: true,
    postgres: version,
    extensions: Object.fromEntries(extensions.map((e) => [e.extname, e.extversion])),
    queues: queues.map((q) => ({
      queue: q.queue_name,
      length: Number(q.queue_length),
      visible: Number(q.queue_visible_length),
      oldestAgeSeconds: q.oldest_msg_age_sec,
    })),
  };
}
