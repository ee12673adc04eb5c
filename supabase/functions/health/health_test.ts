import assert from "node:assert/strict";
import { withSql } from "../_shared/testing.ts";
import { checkHealth } from "./health.ts";

Deno.test("health reports the extensions and a queue's depth", async () => {
  await withSql(async (sql) => {
    await sql`select pgmq.create('health_probe')`;
    try {
      await sql`select pgmq.send_batch('health_probe', array['{}', '{}']::jsonb[])`;
      await sql`select pgmq.send('health_probe', '{}', 60)`;
      const health = await checkHealth(sql);
      assert.equal(health.ok, true);
      assert.ok(health.extensions.vector, "pgvector is installed");
      assert.ok(health.extensions.pgmq, "pgmq is installed");
      assert.ok(health.extensions.pg_cron, "pg_cron is installed");
      const probe = health.queues.find((q) => q.queue === "health_probe");
      assert.deepEqual({ length: probe?.length, visible: probe?.visible }, { length: 3, visible: 2 });
    } finally {
      await sql`select pgmq.drop_queue('health_probe')`;
    }
  });
});
