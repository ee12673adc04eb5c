/** End to end: start_video_generation to a playable MP4 through the real queues and workers. */
import assert from "node:assert/strict";
import { probeDuration, probeStreams } from "../../supabase/functions/_shared/media.ts";
import { offlineProviders } from "../../supabase/functions/_shared/providers/offline.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import {
  asUser,
  createTestBook,
  createTestUser,
  deleteTestUser,
  SAMPLE_CHAPTER,
  withSql,
} from "../../supabase/functions/_shared/testing.ts";
import { drivePipeline, stageHandlers } from "./drive.ts";

Deno.test("a chapter becomes a playable MP4 with consistent rows on the way", async () => {
  await withSql(async (sql) => {
    const storageDir = await Deno.makeTempDir({ prefix: "litinkai-e2e-" });
    const userId = await createTestUser(sql, "e2e");
    try {
      const { chapterIds } = await createTestBook(sql, userId, [{
        title: "The Harbour",
        content: SAMPLE_CHAPTER,
      }]);
      const generationId = await asUser(sql, userId, async (tx) => {
        const [{ id }] = await tx<{ id: string }[]>`
          select public.start_video_generation(${chapterIds[0]}, 'cinematic', 'free') as id`;
        return id;
      });
      const storage = new LocalStorage(sql, storageDir, "http://127.0.0.1:54321");
      const status = await drivePipeline(sql, generationId, {
        handlers: stageHandlers({ storage, providers: offlineProviders }),
      });
      const [generation] = await sql`select * from public.video_generations where id = ${generationId}`;
      assert.equal(status, "completed", generation.error_message);
      const [progress] = await sql`
        select videos_created, achievements ? 'first_video' as first from public.user_progress
        where user_id = ${generation.user_id}`;
      assert.deepEqual(
        [progress.videos_created, progress.first],
        [1, true],
        "the completed video counts once",
      );
      assert.equal(Number(generation.progress_percentage), 100);
      assert.equal(generation.last_completed_step, "merge");
      assert.ok(generation.total_scenes >= 2, "the chapter was split into scenes");
      assert.equal(generation.completed_scenes, generation.total_scenes);
      for (const step of ["script", "images", "audio", "video", "lipsync", "merge"]) {
        const stage = generation.pipeline_metadata.stages[step];
        assert.ok(stage.started_at && stage.completed_at, `${step} has start and end times`);
        assert.equal(stage.provider, "offline", `${step} records its provider`);
      }

      // The MP4: video and audio, as long as the scene audio (within 10%); the merge job describes it.
      const [merge] = await sql`
        select storage_path, output_video_url, output_duration_ms, output_size_bytes, merge_type, ffmpeg_params,
          jsonb_array_length(input_videos) as inputs, started_at, completed_at
        from public.merge_jobs where video_generation_id = ${generationId}`;
      const file = `${storageDir}/media/${merge.storage_path}`;
      assert.equal(merge.output_video_url, generation.video_url);
      assert.equal(Number(merge.output_size_bytes), (await Deno.stat(file)).size);
      assert.deepEqual([merge.merge_type, merge.inputs, merge.ffmpeg_params.codec], [
        "auto",
        generation.total_scenes,
        "copy",
      ]);
      assert.ok(merge.completed_at >= merge.started_at);
      assert.deepEqual((await probeStreams(file)).sort(), ["audio", "video"]);
      const [{ audio_ms }] = await sql`
        select sum(duration_ms)::integer as audio_ms from public.audio_generations where video_generation_id = ${generationId}`;
      const mp4Seconds = await probeDuration(file);
      assert.ok(
        Math.abs(mp4Seconds - audio_ms / 1000) / (audio_ms / 1000) < 0.1,
        `MP4 ${mp4Seconds}s vs audio ${audio_ms}ms`,
      );
      assert.ok(Math.abs(merge.output_duration_ms / 1000 - mp4Seconds) < 0.05);
      assert.match(generation.video_url, /\/storage\/v1\/object\/media\/.+\/final\.mp4$/);

      // Every row on the way.
      const [counts] = await sql`
        select
          (select count(*)::int from public.scene_descriptions where script_id = ${generation.script_id}) as scenes,
          (select count(*)::int from public.image_generations where video_generation_id = ${generationId} and image_type = 'scene' and status = 'completed') as scene_images,
          (select count(*)::int from public.image_generations where video_generation_id = ${generationId} and image_type = 'character' and status = 'completed') as portraits,
          (select count(distinct scene_description_id)::int from public.audio_generations where video_generation_id = ${generationId} and status = 'completed') as scenes_with_audio,
          (select count(*)::int from public.audio_generations where video_generation_id = ${generationId} and audio_type = 'dialogue') as dialogue_lines,
          (select count(*)::int from public.scene_videos where video_generation_id = ${generationId} and status = 'completed') as clips,
          (select count(*)::int from public.lipsync_jobs where video_generation_id = ${generationId} and status = 'completed') as lipsyncs,
          (select count(*)::int from public.merge_jobs where video_generation_id = ${generationId} and status = 'completed') as merges,
          (select count(*)::int from public.merge_assets a join public.merge_jobs m on m.id = a.merge_job_id where m.video_generation_id = ${generationId}) as assets,
          (select count(*)::int from storage.objects where name like ${userId + "/%"}) as objects`;
      const n = generation.total_scenes;
      assert.deepEqual(
        { ...counts, portraits: counts.portraits > 0, dialogue_lines: counts.dialogue_lines >= 4 },
        {
          ...counts,
          scenes: n,
          scene_images: n,
          scenes_with_audio: n,
          clips: n,
          lipsyncs: n,
          merges: 1,
          assets: n,
          portraits: true,
          dialogue_lines: true,
        },
      );
      const [{ speakers }] = await sql`
        select array_agg(distinct speaker order by speaker) as speakers from public.audio_generations
        where video_generation_id = ${generationId} and audio_type = 'dialogue'`;
      assert.deepEqual(speakers, ["Mara", "Tomas"], "dialogue is voiced by its speakers");

      // Costs: the generation's total is the sum of its usage logs, one per provider call; each call
      // points at the job row it paid for, and each job row's cost is the sum of its calls.
      const [costs] = await sql`
        select sum(cost_usd)::numeric as total, count(*)::int as calls, count(distinct idempotency_key)::int as keys,
          count(*) filter (where job_id is null)::int as unkeyed
        from public.usage_logs where video_generation_id = ${generationId}`;
      assert.equal(Number(generation.total_cost_usd), Number(costs.total));
      assert.ok(Number(costs.total) > 0);
      assert.equal(costs.calls, costs.keys);
      assert.equal(costs.unkeyed, 0, "every call names its job");
      const jobs = await sql`
        select 'image' as kind, j.id, j.cost_usd from public.image_generations j where j.video_generation_id = ${generationId}
        union all select 'audio', j.id, j.cost_usd from public.audio_generations j where j.video_generation_id = ${generationId}
        union all select 'video', j.id, j.cost_usd from public.scene_videos j where j.video_generation_id = ${generationId}
        union all select 'lipsync', j.id, j.cost_usd from public.lipsync_jobs j where j.video_generation_id = ${generationId}
        union all select 'merge', j.id, j.cost_usd from public.merge_jobs j where j.video_generation_id = ${generationId}`;
      const paid = await sql`
        select job_id, sum(cost_usd)::numeric as cost from public.usage_logs
        where video_generation_id = ${generationId} group by job_id`;
      const paidBy = new Map(paid.map((p) => [p.job_id, Number(p.cost)]));
      for (const job of jobs) {
        assert.equal(
          Number(job.cost_usd),
          paidBy.get(job.id) ?? 0,
          `${job.kind} job ${job.id} costs what its calls cost`,
        );
      }
      for (const kind of ["image", "audio", "video", "merge"]) {
        assert.ok(
          jobs.some((j) => j.kind === kind && Number(j.cost_usd) > 0),
          `${kind} jobs carry their cost`,
        );
      }
      const [{ script_cost }] = await sql`
        select coalesce(sum(cost_usd), 0)::numeric as script_cost from public.usage_logs where job_id = ${generation.script_id}`;
      assert.ok(
        Math.abs(
          jobs.reduce((sum, j) => sum + Number(j.cost_usd), 0) + Number(script_cost) - Number(costs.total),
        ) < 1e-9,
        "the job rows and the script account for the whole total",
      );
      const [{ used }] =
        await sql`select video_count_used as used from public.user_subscriptions where user_id = ${userId}`;
      assert.equal(used, 1, "the video counted against the quota once");
      const queued = await sql`
        select count(*)::int as n from pgmq.q_script where message->>'generation_id' = ${generationId}
        union all select count(*)::int from pgmq.q_merge where message->>'generation_id' = ${generationId}`;
      assert.deepEqual(queued.map((r) => r.n), [0, 0], "no message is left behind");
    } finally {
      await deleteTestUser(sql, userId);
      await Deno.remove(storageDir, { recursive: true });
    }
  });
});
