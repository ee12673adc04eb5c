import assert from "node:assert/strict";
import { createTestUser, deleteTestUser, withSql } from "../_shared/testing.ts";
import { localServiceRoleToken } from "../_shared/auth.ts";
import { checkHealth, healthResponse } from "./health.ts";

Deno.test("health reports the extensions and a queue's depth", async () => {
  await withSql(async (sql) => {
    await sql`select pgmq.create('health_probe')`;
    try {
      await sql`select pgmq.send_batch('health_probe', array['{}', '{}']::jsonb[])`;
      await sql`select pgmq.send('health_probe', '{}', 60)`;
      const health = await checkHealth(sql);
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

Deno.test("a model without a price is logged at no cost and shows in health, failing nothing", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "unpriced");
    try {
      const [{ cost }] = await sql`
        select private.record_usage(${userId}, null, 'brand-new-model-v9', 'script', ${`health:${userId}`},
          1000, 500) as cost`;
      assert.equal(Number(cost), 0);
      const [row] = await sql`
        select resource_type::text, provider, cost_usd::numeric, metadata from public.usage_logs
        where idempotency_key = ${`health:${userId}`}`;
      assert.deepEqual([row.resource_type, row.provider, Number(row.cost_usd), row.metadata.missing_price], [
        "script",
        "unknown",
        0,
        true,
      ]);
      const health = await checkHealth(sql);
      assert.equal(health.ok, false);
      assert.deepEqual(health.modelsWithoutPrice.find((m) => m.model === "brand-new-model-v9"), {
        model: "brand-new-model-v9",
        calls: 1,
      });
    } finally {
      await deleteTestUser(sql, userId);
    }
    assert.equal((await checkHealth(sql)).modelsWithoutPrice.length, 0, "gone with the user's usage");
  });
});

Deno.test("health tells anonymous callers and users only that it is alive; the service role sees the details", async () => {
  await withSql(async (sql) => {
    const call = async (authorization?: string) =>
      await (await healthResponse(
        sql,
        new Request("http://localhost/functions/v1/health", {
          headers: authorization ? { Authorization: authorization } : {},
        }),
      )).json();
    assert.deepEqual(await call(), { ok: true });
    assert.deepEqual(await call("Bearer not-a-token"), { ok: true });
    const service = await call(`Bearer ${await localServiceRoleToken()}`);
    assert.ok(Array.isArray(service.queues) && service.queues.length > 0, "queue depths");
    assert.ok(Array.isArray(service.workers) && "modelsWithoutPrice" in service);
  });
});
