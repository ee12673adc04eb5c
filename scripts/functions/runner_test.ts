/**
 * The local runner as an operator meets it: the served functions, their worker loop, and what
 * happens when a function process is killed in the middle of its work.
 */
import assert from "node:assert/strict";
import {
  asUser,
  createTestBook,
  createTestUser,
  deleteTestUser,
  SAMPLE_CHAPTER,
  withSql,
} from "../../supabase/functions/_shared/testing.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { type ServedFunction, servedFunctions, waitFor, withRunner } from "./runner_testing.ts";

const GATEWAY_PORT = 54621;

async function functions(): Promise<ServedFunction[]> {
  return (await servedFunctions(GATEWAY_PORT)) ?? [];
}

async function counts(sql: Sql, generationId: string) {
  const [row] = await sql`
    select
      (select count(*)::int from public.scene_videos where video_generation_id = ${generationId}) as clips,
      (select total_scenes from public.video_generations where id = ${generationId}) as scenes,
      (select count(*)::int from public.usage_logs where video_generation_id = ${generationId}) as usage_rows,
      (select count(distinct idempotency_key)::int from public.usage_logs where video_generation_id = ${generationId}) as usage_keys,
      (select total_cost_usd::numeric from public.video_generations where id = ${generationId}) as total_cost,
      (select sum(cost_usd)::numeric from public.usage_logs where video_generation_id = ${generationId}) as logged_cost,
      (select max(attempts)::int from private.pipeline_units where generation_id = ${generationId} and step = 'video') as video_attempts`;
  return row;
}

Deno.test("the worker service killed in the middle of a scene is restarted and its generation completes", async () => {
  await withSql(async (sql) => {
    const storageDir = await Deno.makeTempDir({ prefix: "litinkai-runner-" });
    const userId = await createTestUser(sql, "runner");
    try {
      const { chapterIds } = await createTestBook(sql, userId, [{
        title: "The Harbour",
        content: SAMPLE_CHAPTER,
      }]);
      await withRunner(GATEWAY_PORT, storageDir, async () => {
        const generationId = await asUser(sql, userId, async (tx) => {
          const [{ id }] = await tx`select public.start_video_generation(${chapterIds[0]}) as id`;
          return id as string;
        });
        // The moment a scene clip is being made, the worker service's process is killed (kill -9).
        await waitFor("a scene clip in the making", 120_000, async () => {
          const [row] = await sql`
            select 1 from public.scene_videos where video_generation_id = ${generationId} and status = 'generating'`;
          return row ? true : undefined;
        });
        const victim = (await functions()).find((f) => f.name === "worker-service")!;
        Deno.kill(victim.pid, "SIGKILL");

        const status = await waitFor("the generation to finish", 120_000, async () => {
          const [g] = await sql`select status from public.video_generations where id = ${generationId}`;
          return ["completed", "failed", "canceled"].includes(g.status) ? g.status as string : undefined;
        });
        const [g] = await sql`select error_message from public.video_generations where id = ${generationId}`;
        assert.equal(status, "completed", g.error_message);

        const restarted = (await functions()).find((f) => f.name === "worker-service")!;
        assert.notEqual(restarted.pid, victim.pid, "a new worker service process runs");
        assert.ok(restarted.restarts >= 1);
        const beats = await sql<{ function_name: string; instance: string }[]>`
          select function_name, instance from private.worker_heartbeats
          where function_name in ('pipeline-script', 'pipeline-video', 'pipeline-merge') order by function_name`;
        assert.deepEqual(
          beats.map((b) => [b.function_name, b.instance.replace(/:\d+$/, ":<pid>")]),
          [
            ["pipeline-merge", `worker:${Deno.hostname()}:<pid>`],
            ["pipeline-script", "edge"],
            ["pipeline-video", `worker:${Deno.hostname()}:<pid>`],
          ],
          "the script stage ran as an Edge Function, the media stages in the worker service",
        );
        const c = await counts(sql, generationId);
        assert.equal(c.clips, c.scenes, "one clip per scene, none twice");
        assert.equal(c.usage_rows, c.usage_keys, "no provider call is costed twice");
        assert.equal(Number(c.total_cost), Number(c.logged_cost));
        assert.ok(c.video_attempts >= 2, "the interrupted scene was done again");
      });
    } finally {
      await deleteTestUser(sql, userId);
      await Deno.remove(storageDir, { recursive: true });
    }
  });
});
