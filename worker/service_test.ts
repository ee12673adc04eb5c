/**
 * The worker service as an orchestrator meets it: readiness after its first poll, heartbeats that say
 * where it runs, a drain that lets short units finish and gives long ones back, and the process
 * exiting 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import type { Sql } from "../supabase/functions/_shared/db.ts";
import { consumeQueue } from "../supabase/functions/_shared/queue.ts";
import { testDatabaseUrl, withSql } from "../supabase/functions/_shared/testing.ts";
import { waitFor, waitUntilReady } from "../scripts/functions/runner_testing.ts";
import { chooseFunctions } from "./main.ts";
import type { WorkerFunction } from "./functions.ts";
import { startService } from "./service.ts";

const QUEUE = "worker_service_probe";

/** A queue worker whose units take `ms` (or until aborted) and are acknowledged when done. */
function sleepyWorker(ms: number, done: string[]): WorkerFunction {
  return (sql, run) =>
    consumeQueue<{ n: number }>(sql, {
      queue: QUEUE,
      leaseSeconds: 2,
      timeoutSeconds: 60,
      ...run,
      process: async (msg, signal) => {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(new Error("aborted"));
          });
        });
        await sql`select pgmq.delete(${QUEUE}, ${msg.msg_id}::bigint)`;
        done.push(String(msg.message.n));
        return "completed";
      },
      fail: () => Promise.resolve("failed"),
    });
}

async function withQueue(body: (sql: Sql) => Promise<void>) {
  await withSql(async (sql) => {
    await sql`select pgmq.create(${QUEUE})`;
    try {
      await body(sql);
    } finally {
      await sql`select pgmq.drop_queue(${QUEUE})`;
      await sql`delete from private.worker_heartbeats where function_name = ${QUEUE}`;
    }
  });
}

async function health(port: number, path: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.body?.cancel();
  return res.status;
}

Deno.test("worker service: ready once consuming, heartbeats with its instance, a short unit drains", async () => {
  await withQueue(async (sql) => {
    const done: string[] = [];
    const service = startService({
      sql,
      functions: { [QUEUE]: sleepyWorker(1500, done) },
      healthPort: 0,
      drainSeconds: 10,
      pollSeconds: 1,
      instance: "worker:test:1",
      log: () => {},
    });
    await service.ready;
    assert.equal(await health(service.port, "/livez"), 200);
    assert.equal(await health(service.port, "/readyz"), 200);
    const [beat] = await sql`select instance from private.worker_heartbeats where function_name = ${QUEUE}`;
    assert.equal(beat.instance, "worker:test:1");

    await sql`select pgmq.send(${QUEUE}, '{"n": 1}'::jsonb)`;
    await waitFor("the unit to start", 10_000, async () => {
      const [m] = await sql`select read_ct from ${sql(`pgmq.q_${QUEUE}`)}`.catch(() => [undefined]);
      return m && m.read_ct > 0 ? true : undefined;
    });
    const stopping = service.shutdown();
    assert.equal(await health(service.port, "/readyz"), 503, "not ready while draining");
    await stopping;
    assert.deepEqual(done, ["1"], "the unit in work finished");
    const [{ left }] = await sql`select count(*)::int as left from ${sql(`pgmq.q_${QUEUE}`)}`;
    assert.equal(left, 0);
    assert.equal(service.counts[QUEUE].completed, 1);
  });
});

Deno.test("worker service: a unit longer than the drain is given back to the queue at once, not failed", async () => {
  await withQueue(async (sql) => {
    const done: string[] = [];
    const service = startService({
      sql,
      functions: { [QUEUE]: sleepyWorker(60_000, done) },
      healthPort: 0,
      drainSeconds: 1,
      pollSeconds: 1,
      instance: "worker:test:2",
      log: () => {},
    });
    await service.ready;
    await sql`select pgmq.send(${QUEUE}, '{"n": 2}'::jsonb)`;
    await waitFor("the unit to start", 10_000, async () => {
      const [m] = await sql`select read_ct from ${sql(`pgmq.q_${QUEUE}`)}`;
      return m && m.read_ct > 0 ? true : undefined;
    });
    const began = Date.now();
    await service.shutdown();
    assert.ok(Date.now() - began < 8_000, "the drain is bounded");
    assert.deepEqual(done, []);
    // (A read already waiting when the drain began may take the given-back copy and give it back again.)
    assert.ok(service.counts[QUEUE].released >= 1, `released ${service.counts[QUEUE].released}`);
    const rows = await sql`
      select read_ct, message, vt <= clock_timestamp() as visible from ${sql(`pgmq.q_${QUEUE}`)}`;
    assert.equal(rows.length, 1, "one copy of the message, not two");
    assert.equal(rows[0].visible, true, "visible again for another replica");
    assert.equal(rows[0].read_ct, 0, "with a fresh read count: giving back is not a failed attempt");
    assert.deepEqual(rows[0].message, { n: 2 });
  });
});

Deno.test("worker service process: SIGTERM drains and exits 0", async () => {
  const port = 54321 + 95;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("./main.ts", import.meta.url).pathname, "plot"],
    env: { SUPABASE_DB_URL: testDatabaseUrl(), WORKER_HEALTH_PORT: String(port), WORKER_POLL_SECONDS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  try {
    await waitUntilReady(port, 30_000);
  } finally {
    child.kill("SIGTERM");
  }
  const { code, stdout } = await output;
  const log = new TextDecoder().decode(stdout);
  assert.equal(code, 0, log);
  assert.match(log, /consuming plot/);
  assert.match(log, /stopped/);
});

Deno.test("worker service: which functions a command line means", () => {
  const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
  assert.deepEqual(chooseFunctions(["--group", "media"], env({})), [
    "audiobook-export",
    "pipeline-audio",
    "pipeline-images",
    "pipeline-lipsync",
    "pipeline-merge",
    "pipeline-video",
  ], "without a ModelsLab key the offline renderer needs the worker service");
  assert.deepEqual(
    chooseFunctions(["--group=media"], env({ MODELSLAB_API_KEY: "k" })),
    ["audiobook-export", "pipeline-audio", "pipeline-lipsync", "pipeline-merge", "pipeline-video"],
    "with it, images run on Edge",
  );
  assert.deepEqual(chooseFunctions(["video", "merge"], env({})), ["pipeline-merge", "pipeline-video"]);
  assert.deepEqual(chooseFunctions([], env({ MODELSLAB_API_KEY: "k" })), [
    "audiobook-export",
    "embed",
    "ingest",
    "pipeline-audio",
    "pipeline-lipsync",
    "pipeline-merge",
    "pipeline-video",
  ]);
  assert.throws(() => chooseFunctions(["--group", "gpu"], env({})), /unknown worker group "gpu"/);
  assert.throws(() => chooseFunctions(["health"], env({})), /HTTP function/);
  assert.throws(() => chooseFunctions(["thumbnails"], env({})), /no function or queue named "thumbnails"/);
});
