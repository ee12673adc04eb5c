import process from "node:process";
import assert from "node:assert/strict";
import { run } from "./media.ts";
import { consumeQueue, type Outcome } from "./queue.ts";
import { withSql } from "./testing.ts";

Deno.test("a message past its time limit is given up: its tools are killed and the failure is retryable", async () => {
  await withSql(async (sql) => {
    await sql`select pgmq.create('queue_probe')`;
    try {
      await sql`select pgmq.send('queue_probe', '{"n": 1}')`;
      let toolError: unknown;
      const failures: { error: string; retryable: boolean }[] = [];
      const summary = await consumeQueue<{ n: number }>(sql, {
        queue: "queue_probe",
        timeoutSeconds: 1,
        leaseSeconds: 1,
        process: async () => {
          try {
            await run("sleep", ["30"]); // no signal passed: the message's own is used
          } catch (error) {
            toolError = error;
          }
          return "completed";
        },
        fail: async (msg, error, retryable): Promise<Outcome> => {
          failures.push({ error, retryable });
          await sql`select pgmq.delete('queue_probe', ${msg.msg_id}::bigint)`;
          return "failed";
        },
      });
      assert.deepEqual(failures, [{ error: "gave up after 1 s (the step's time limit)", retryable: true }]);
      assert.equal(summary.failed, 1);
      await new Promise((r) => setTimeout(r, 200));
      assert.match(String(toolError), /sleep was stopped: the worker gave up on this step/);
    } finally {
      await sql`select pgmq.drop_queue('queue_probe')`;
    }
  });
});

Deno.test("one slow message does not hold up the others", async () => {
  await withSql(async (sql) => {
    await sql`select pgmq.create('queue_probe')`;
    try {
      await sql`select pgmq.send_batch('queue_probe', array['{"n": 0}', '{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[])`;
      const finished: number[] = [];
      await consumeQueue<{ n: number }>(sql, {
        queue: "queue_probe",
        concurrency: 2,
        process: async (msg) => {
          if (msg.message.n === 0) await new Promise((r) => setTimeout(r, 1500));
          finished.push(msg.message.n);
          await sql`select pgmq.delete('queue_probe', ${msg.msg_id}::bigint)`;
          return "completed";
        },
        fail: () => Promise.resolve("failed"),
      });
      assert.deepEqual(finished, [1, 2, 3, 0], "the other messages went through the second slot meanwhile");
    } finally {
      await sql`select pgmq.drop_queue('queue_probe')`;
    }
  });
});

Deno.test("a worker stops taking messages once its CPU budget is spent; what it took is finished", async () => {
  await withSql(async (sql) => {
    await sql`select pgmq.create('queue_probe')`;
    try {
      await sql`select pgmq.send_batch('queue_probe', array_fill('{"n": 1}'::jsonb, array[10]))`;
      const summary = await consumeQueue<{ n: number }>(sql, {
        queue: "queue_probe",
        concurrency: 1,
        cpuBudgetMs: 100,
        process: async (msg) => {
          // 40 ms of this process's CPU a message, however busy the machine is.
          const start = process.cpuUsage();
          while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000 < 40) {
            Math.sqrt(Math.random());
          }
          await sql`select pgmq.delete('queue_probe', ${msg.msg_id}::bigint)`;
          return "completed";
        },
        fail: () => Promise.resolve("failed"),
      });
      assert.ok(summary.read >= 2 && summary.read <= 4, `read ${summary.read} of 10 within 100 ms of CPU`);
      assert.equal(summary.completed, summary.read, "every message taken was finished");
      const [{ left }] = await sql`select count(*)::int as left from pgmq.q_queue_probe`;
      assert.equal(left, 10 - summary.read, "the rest wait, untouched, for the next invocation");
    } finally {
      await sql`select pgmq.drop_queue('queue_probe')`;
    }
  });
});

Deno.test("an Edge invocation takes at most maxMessages, and finishes every one it took", async () => {
  await withSql(async (sql) => {
    await sql`select pgmq.create('queue_probe')`;
    try {
      await sql`select pgmq.send_batch('queue_probe', array_fill('{"n": 1}'::jsonb, array[7]))`;
      const summary = await consumeQueue<{ n: number }>(sql, {
        queue: "queue_probe",
        concurrency: 2,
        maxMessages: 3,
        process: async (msg) => {
          await sql`select pgmq.delete('queue_probe', ${msg.msg_id}::bigint)`;
          return "completed";
        },
        fail: () => Promise.resolve("failed"),
      });
      assert.equal(summary.read, 3);
      assert.equal(summary.completed, 3);
      const [{ left, unread }] = await sql`
        select count(*)::int as left, count(*) filter (where read_ct = 0)::int as unread from pgmq.q_queue_probe`;
      assert.deepEqual([left, unread], [4, 4], "the rest were not even read");
    } finally {
      await sql`select pgmq.drop_queue('queue_probe')`;
    }
  });
});
