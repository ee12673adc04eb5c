/** Failure handling of the pipeline: dead workers, flaky and refusing providers, races, other users. */
import assert from "node:assert/strict";
import { createSql, type Sql } from "../../supabase/functions/_shared/db.ts";
import { PermanentError, RetryableError } from "../../supabase/functions/_shared/errors.ts";
import { clipOutputArgs, run } from "../../supabase/functions/_shared/media.ts";
import { offlineProviders } from "../../supabase/functions/_shared/providers/offline.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import {
  asUser,
  createTestBook,
  createTestUser,
  deleteTestUser,
  SAMPLE_CHAPTER,
  silentWav,
  testDatabaseUrl,
  withSql,
} from "../../supabase/functions/_shared/testing.ts";
import { drivePipeline, stageHandlers } from "./drive.ts";
import {
  runWorker,
  type StepContext,
  type StepHandler,
} from "../../supabase/functions/_shared/pipeline/worker.ts";

interface Fixture {
  sql: Sql;
  userId: string;
  chapterId: string;
  storageDir: string;
  handlers: ReturnType<typeof stageHandlers>;
}

async function withFixture(label: string, body: (f: Fixture) => Promise<void>) {
  await withSql(async (sql) => {
    const storageDir = await Deno.makeTempDir({ prefix: `litinkai-${label}-` });
    const userId = await createTestUser(sql, label);
    try {
      const { chapterIds } = await createTestBook(sql, userId, [{
        title: "The Harbour",
        content: SAMPLE_CHAPTER,
      }]);
      const storage = new LocalStorage(sql, storageDir, "http://127.0.0.1:54321");
      await body({
        sql,
        userId,
        chapterId: chapterIds[0],
        storageDir,
        handlers: stageHandlers({ storage, providers: offlineProviders }),
      });
    } finally {
      await deleteTestUser(sql, userId);
      await Deno.remove(storageDir, { recursive: true });
    }
  });
}

async function start(sql: Sql, userId: string, chapterId: string): Promise<string> {
  return await asUser(sql, userId, async (tx) => {
    const [{ id }] = await tx<
      { id: string }[]
    >`select public.start_video_generation(${chapterId}, 'cinematic', 'free') as id`;
    return id;
  });
}

async function rowCounts(sql: Sql, generationId: string) {
  const [row] = await sql`
    select
      (select count(*)::int from public.scripts where metadata->>'video_generation_id' = ${generationId}) as scripts,
      (select count(*)::int from public.image_generations where video_generation_id = ${generationId}) as images,
      (select count(*)::int from public.audio_generations where video_generation_id = ${generationId}) as audio,
      (select count(*)::int from public.scene_videos where video_generation_id = ${generationId}) as clips,
      (select count(*)::int from public.usage_logs where video_generation_id = ${generationId}) as usage_rows,
      (select count(distinct idempotency_key)::int from public.usage_logs where video_generation_id = ${generationId}) as usage_keys,
      (select total_cost_usd::numeric from public.video_generations where id = ${generationId}) as total_cost,
      (select sum(cost_usd)::numeric from public.usage_logs where video_generation_id = ${generationId}) as logged_cost`;
  return row;
}

Deno.test("a worker that dies mid-stage leaves its message to be redone, with no duplicate rows or costs", async () => {
  await withFixture("dies", async ({ sql, userId, chapterId, handlers }) => {
    const generationId = await start(sql, userId, chapterId);
    await runWorker(sql, { step: "script", handler: handlers.script });
    // A worker takes one image message with a 1 s timeout, does the work, and dies before completing.
    const [msg] = await sql`select msg_id, read_ct, message from pgmq.read('images', 1, 1)`;
    const [{ context }] = await sql<{ context: StepContext }[]>`
      select private.begin_step(${msg.message.generation_id}, 'images', ${msg.message.unit}, ${msg.read_ct}) as context`;
    await handlers.images(context, new AbortController().signal);

    const status = await drivePipeline(sql, generationId, { handlers });
    assert.equal(status, "completed");
    const [redone] = await sql`
      select retry_count from public.image_generations where video_generation_id = ${generationId} and subject_key = ${msg.message.unit}`;
    assert.equal(redone.retry_count, 1, "the abandoned unit was read again after its visibility timeout");
    const counts = await rowCounts(sql, generationId);
    const [{ units }] = await sql`
      select count(*)::int as units from private.pipeline_units where generation_id = ${generationId} and step = 'images'`;
    assert.equal(counts.scripts, 1);
    assert.equal(counts.images, units, "one image row per unit");
    assert.equal(counts.usage_rows, counts.usage_keys, "no duplicate usage");
    assert.equal(Number(counts.total_cost), Number(counts.logged_cost));
    const [{ duplicates }] = await sql`
      select count(*)::int as duplicates from (select name from storage.objects where name like ${
      userId + "/%"
    }
      group by bucket_id, name having count(*) > 1) d`;
    assert.equal(duplicates, 0, "no duplicate files");
  });
});

Deno.test("a provider failing twice then succeeding completes, with the attempts recorded", async () => {
  await withFixture("flaky", async ({ sql, userId, chapterId, handlers }) => {
    let failures = 0;
    const flaky = {
      ...handlers,
      images: async (context: StepContext, signal: AbortSignal) => {
        if (context.unit === "scene:1" && failures < 2) {
          failures++;
          throw new RetryableError("ModelsLab answered HTTP 503: overloaded");
        }
        return await handlers.images(context, signal);
      },
    };
    const generationId = await start(sql, userId, chapterId);
    const status = await drivePipeline(sql, generationId, { handlers: flaky, baseBackoffSeconds: 1 });
    assert.equal(status, "completed");
    const [image] = await sql`
      select id, retry_count, status from public.image_generations
      where video_generation_id = ${generationId} and subject_key = 'scene:1'`;
    assert.deepEqual({ retry_count: image.retry_count, status: image.status }, {
      retry_count: 2,
      status: "completed",
    });
    const retries = await sql`
      select attempt_number, error_message from public.image_generation_retries where image_generation_id = ${image.id}
      order by attempt_number`;
    assert.deepEqual(retries.map((r) => r.attempt_number), [1, 2]);
    assert.match(retries[0].error_message, /HTTP 503/);
    const [generation] =
      await sql`select pipeline_metadata from public.video_generations where id = ${generationId}`;
    assert.equal(generation.pipeline_metadata.stages.images.attempts, 3);
    assert.equal(generation.pipeline_metadata.stages.images.errors.length, 2);
  });
});

Deno.test("a permanent failure fails the generation clearly and retry_video_generation finishes it", async () => {
  await withFixture("permanent", async ({ sql, userId, chapterId, handlers }) => {
    let refused = false;
    const refusing = {
      ...handlers,
      audio: async (context: StepContext, signal: AbortSignal) => {
        if (context.unit === "scene:2" && !refused) {
          refused = true;
          throw new PermanentError("ElevenLabs refused the text: policy violation");
        }
        return await handlers.audio(context, signal);
      },
    };
    const generationId = await start(sql, userId, chapterId);
    assert.equal(await drivePipeline(sql, generationId, { handlers: refusing }), "failed");
    const [failed] =
      await sql`select status, error_message, last_completed_step from public.video_generations where id = ${generationId}`;
    assert.equal(failed.last_completed_step, "images");
    assert.match(
      failed.error_message,
      /^audio stage failed for scene:2 after 1 attempt\(s\): ElevenLabs refused the text/,
    );
    const before = await rowCounts(sql, generationId);
    const [{ waiting }] = await sql`
      select count(*)::int as waiting from pgmq.q_audio where message->>'generation_id' = ${generationId}`;
    assert.equal(
      waiting,
      0,
      "the failed stage's other messages are gone: a retry does not run any unit twice",
    );
    const [{ outcome }] = await sql`
      select private.fail_step(0, ${generationId}, 'images', 'scene:1', 'a late duplicate', false, 1) as outcome`;
    assert.equal(outcome, "stale", "a failure reported for a completed unit changes nothing");

    await asUser(sql, userId, (tx) => tx`select public.retry_video_generation(${generationId})`);
    const [{ messages, units }] = await sql`
      select (select count(*)::int from pgmq.q_audio where message->>'generation_id' = ${generationId}) as messages,
             (select count(*)::int from private.pipeline_units where generation_id = ${generationId}
                and step = 'audio' and status <> 'completed') as units`;
    assert.equal(messages, units, "one message per unfinished unit after the retry");
    assert.equal(await drivePipeline(sql, generationId, { handlers: refusing }), "completed");
    const after = await rowCounts(sql, generationId);
    assert.equal(after.scripts, 1, "the script was not generated again");
    assert.equal(after.images, before.images, "images were not made again");
    assert.equal(after.usage_rows, after.usage_keys);
    const [{ used }] =
      await sql`select video_count_used as used from public.user_subscriptions where user_id = ${userId}`;
    assert.equal(used, 1, "a retry does not count as another video");
    await assert.rejects(
      asUser(sql, userId, (tx) => tx`select public.retry_video_generation(${generationId})`),
      (e: { code?: string }) => e.code === "LT004",
    );
  });
});

Deno.test("20 concurrent start_video_generation calls against a limit of 3 start exactly 3", async () => {
  await withSql(async (sql) => {
    const userId = await createTestUser(sql, "race");
    const pool = createSql(testDatabaseUrl(), { max: 20 });
    try {
      const chapters = Array.from({ length: 20 }, (_, i) => ({ title: `C${i}`, content: `Text ${i}.` }));
      const { chapterIds } = await createTestBook(sql, userId, chapters);
      await sql`update public.user_subscriptions set video_count_limit = 3 where user_id = ${userId}`;
      const results = await Promise.allSettled(chapterIds.map((id) => start(pool, userId, id)));
      const started = results.filter((r) => r.status === "fulfilled").length;
      const refused = results.filter((r) =>
        r.status === "rejected" && (r.reason as { code?: string }).code === "LT001"
      );
      assert.equal(started, 3);
      assert.equal(refused.length, 17);
      assert.match((refused[0] as PromiseRejectedResult).reason.message, /video quota used up: 3 of 3/);
      const [row] = await sql`
        select (select video_count_used from public.user_subscriptions where user_id = ${userId}) as used,
               (select count(*)::int from public.video_generations where user_id = ${userId}) as generations`;
      assert.deepEqual({ ...row }, { used: 3, generations: 3 });
      await sql`delete from pgmq.q_script where message->>'generation_id' in
                (select id::text from public.video_generations where user_id = ${userId})`;
    } finally {
      await pool.end();
      await deleteTestUser(sql, userId);
    }
  });
});

Deno.test("a canceled generation is refunded and its queued work is dropped", async () => {
  await withFixture("cancel", async ({ sql, userId, chapterId, handlers }) => {
    const generationId = await start(sql, userId, chapterId);
    await asUser(sql, userId, (tx) => tx`select public.cancel_video_generation(${generationId})`);
    const [{ waiting }] = await sql`
      select count(*)::int as waiting from pgmq.q_script where message->>'generation_id' = ${generationId}`;
    assert.equal(waiting, 0, "canceling removes the generation's queued work");
    const summary = await runWorker(sql, { step: "script", handler: handlers.script });
    assert.equal(summary.completed, 0);
    const [row] = await sql`
      select g.status, g.script_id, s.video_count_used from public.video_generations g
      join public.user_subscriptions s on s.user_id = g.user_id where g.id = ${generationId}`;
    assert.deepEqual({ ...row }, { status: "canceled", script_id: null, video_count_used: 0 });
    await assert.rejects(
      asUser(sql, userId, (tx) => tx`select public.cancel_video_generation(${generationId})`),
      (e: { code?: string }) => e.code === "LT004",
    );
  });
});

Deno.test("canceling while a worker holds a unit: no deadlock, and that unit's job rows are closed when it ends", async () => {
  await withFixture("cancel-held", async ({ sql, userId, chapterId, handlers }) => {
    const generationId = await start(sql, userId, chapterId);
    await runWorker(sql, { step: "script", handler: handlers.script });
    // A worker claims an images unit and holds it (its transaction still open) while the user cancels.
    const claimed = await sql.reserve();
    try {
      await claimed`begin`;
      const [msg] =
        await claimed`select msg_id, message, context from private.claim_steps('images', 30, 1, 5)`;
      assert.ok(msg?.context, "the unit began");
      await asUser(sql, userId, (tx) => tx`select public.cancel_video_generation(${generationId})`);
      await claimed`commit`;
      // The worker finishes its unit: recorded as stale, and its job row no longer in progress.
      const [{ outcome }] = await sql`
        select private.complete_step(${msg.msg_id}, ${generationId}, 'images', ${msg.message.unit},
          ${
        sql.json({
          storage_path: "x",
          url: "u",
          width: 1,
          height: 1,
          model: "offline-card-renderer",
          provider: "offline",
        })
      },
          '[]', ${userId}, ${msg.context.unit_attempt}) as outcome`;
      assert.equal(outcome, "stale");
    } finally {
      claimed.release();
    }
    const jobs =
      await sql`select status::text, error_message from public.image_generations where video_generation_id = ${generationId}`;
    assert.ok(jobs.length > 0);
    assert.ok(jobs.every((j) => j.status === "failed"), JSON.stringify(jobs));
    const [{ waiting }] = await sql`
      select count(*)::int as waiting from pgmq.q_images where message->>'generation_id' = ${generationId}`;
    assert.equal(waiting, 0, "the held message was skipped by the cancel and dropped by its worker");
  });
});

Deno.test("a script past its quality's ceilings fails the generation before any media is paid for", async () => {
  await withFixture("ceiling", async ({ sql, userId, chapterId, handlers }) => {
    const generationId = await start(sql, userId, chapterId);
    // A script provider that returns the most the script limits allow: 60 maximal scenes.
    const greedy: StepHandler = async (context, signal) => {
      const result = await handlers.script(context, signal);
      const scenes = Array.from({ length: 60 }, (_, i) => ({
        scene_number: i + 1,
        location: "Harbour",
        time_of_day: "night",
        characters: ["Mara"],
        key_actions: [],
        visual_description: "The harbour at night.",
        narration: "The sea ".repeat(250).slice(0, 2000),
        dialogue: Array.from(
          { length: 40 },
          () => ({ speaker: "Mara", line: "Listen. ".repeat(62).slice(0, 500) }),
        ),
        estimated_duration_seconds: 600,
      }));
      return { ...result, outputs: { ...result.outputs, scenes } };
    };
    const summary = await runWorker(sql, { step: "script", handler: greedy });
    assert.equal(summary.stale, 1, "the unit's result was recorded as the generation failed");
    const [g] = await sql`
      select status::text, error_message, script_id is not null as scripted from public.video_generations
      where id = ${generationId}`;
    assert.equal(g.status, "failed");
    assert.match(g.error_message, /needs 60 scenes.*a free-quality video may have at most 8 scenes/);
    assert.ok(g.scripted, "the script is kept");
    const [{ queued }] = await sql`
      select count(*)::int as queued from pgmq.q_images where message->>'generation_id' = ${generationId}`;
    assert.equal(queued, 0, "no image is asked for");
    const logged = await sql`
      select resource_type::text from public.usage_logs where video_generation_id = ${generationId}`;
    assert.deepEqual(
      logged.map((r) => r.resource_type),
      ["script"],
      "the script call is logged, nothing else",
    );
  });
});

Deno.test("a chapter in production cannot be deleted; deleted after a cancel, its unit in flight is still logged", async () => {
  await withFixture("delete-in-flight", async ({ sql, userId, chapterId, handlers }) => {
    const generationId = await start(sql, userId, chapterId);
    await runWorker(sql, { step: "script", handler: handlers.script });
    const inProduction = (e: { code?: string; message?: string }) =>
      e.code === "LT009" &&
      /has a video being made .*cancel it with cancel_video_generation/.test(e.message ?? "");
    await assert.rejects(
      asUser(sql, userId, (tx) => tx`delete from public.chapters where id = ${chapterId}`),
      inProduction,
    );
    await assert.rejects(
      asUser(sql, userId, (tx) =>
        tx`delete from public.books where id = (
        select book_id from public.chapters where id = ${chapterId})`),
      inProduction,
      "nor its book",
    );
    // A worker begins an image (a paid call under way); the user cancels and deletes the chapter.
    const [msg] = await sql`select msg_id, message, context from private.claim_steps('images', 30, 1, 5)`;
    assert.ok(msg?.context, "the unit began");
    await asUser(sql, userId, (tx) => tx`select public.cancel_video_generation(${generationId})`);
    const deleted = await asUser(
      sql,
      userId,
      (tx) => tx`delete from public.chapters where id = ${chapterId}`,
    );
    assert.equal(deleted.count, 1, "after the cancel the chapter goes, and its generation with it");
    const [{ outcome }] = await sql`
      select private.complete_step(${msg.msg_id}, ${generationId}, 'images', ${msg.message.unit},
        ${sql.json({ storage_path: "x", url: "u", width: 1, height: 1 })},
        ${sql.json([{ model: "offline-card-renderer", operation: "image", units: 1 }])},
        ${userId}, ${msg.context.unit_attempt}) as outcome`;
    assert.equal(outcome, "stale");
    const logged = await sql`
      select user_id, video_generation_id, cost_usd::numeric > 0 as costed from public.usage_logs
      where idempotency_key like ${generationId + ":images:%"}`;
    assert.deepEqual(logged.map((r) => ({ ...r })), [{
      user_id: userId,
      video_generation_id: null,
      costed: true,
    }]);
  });
});

Deno.test("another user can neither start, see, retry nor cancel your generation; clients cannot write status or cost", async () => {
  await withFixture("owner", async ({ sql, userId, chapterId }) => {
    const otherId = await createTestUser(sql, "intruder");
    try {
      const generationId = await start(sql, userId, chapterId);
      const notFound = (e: { code?: string }) => e.code === "P0002";
      await assert.rejects(
        asUser(sql, otherId, (tx) => tx`select public.start_video_generation(${chapterId})`),
        notFound,
      );
      await assert.rejects(
        asUser(sql, otherId, (tx) => tx`select public.retry_video_generation(${generationId})`),
        notFound,
      );
      await assert.rejects(
        asUser(sql, otherId, (tx) => tx`select public.cancel_video_generation(${generationId})`),
        notFound,
      );
      const seen = await asUser(
        sql,
        otherId,
        (tx) => tx`select id from public.video_generations where id = ${generationId}`,
      );
      assert.equal(seen.length, 0);
      const denied = (e: { code?: string }) => e.code === "42501";
      await assert.rejects(
        asUser(
          sql,
          userId,
          (tx) => tx`update public.video_generations set status = 'completed' where id = ${generationId}`,
        ),
        denied,
      );
      await assert.rejects(
        asUser(
          sql,
          userId,
          (tx) => tx`update public.video_generations set total_cost_usd = 0 where id = ${generationId}`,
        ),
        denied,
      );
      await assert.rejects(
        asUser(
          sql,
          userId,
          (tx) =>
            tx`insert into public.video_generations (user_id, chapter_id, script_style) values (${userId}, ${chapterId}, 'narration')`,
        ),
        denied,
      );
      await assert.rejects(
        asUser(sql, userId, (tx) => tx`select public.start_video_generation(${chapterId})`),
        (e: { code?: string }) => e.code === "LT003",
      );
      await sql`delete from pgmq.q_script where message->>'generation_id' = ${generationId}`;
    } finally {
      await deleteTestUser(sql, otherId);
    }
  });
});

Deno.test("scenes finishing at the same moment start the next stage exactly once; a replayed completion changes nothing", async () => {
  await withFixture("fanin", async ({ sql, userId, chapterId, handlers }) => {
    const generationId = await start(sql, userId, chapterId);
    await runWorker(sql, { step: "script", handler: handlers.script });
    const [{ units }] = await sql`
      select count(*)::int as units from private.pipeline_units where generation_id = ${generationId} and step = 'images'`;
    // Every image unit at once, on separate connections: completions race for the last one.
    const pool = createSql(testDatabaseUrl(), { max: units });
    try {
      const summary = await runWorker(pool, {
        step: "images",
        handler: handlers.images,
        concurrency: units,
      });
      assert.equal(summary.completed, units);
    } finally {
      await pool.end();
    }
    const [row] = await sql`
      select (select count(*)::int from pgmq.q_audio where message->>'generation_id' = ${generationId}) as audio_messages,
             (select total_scenes from public.video_generations where id = ${generationId}) as scenes,
             (select current_step::text from public.video_generations where id = ${generationId}) as step`;
    assert.deepEqual({ ...row }, { audio_messages: row.scenes, scenes: row.scenes, step: "audio" });

    const before = await rowCounts(sql, generationId);
    const [{ outcome }] = await sql`
      select private.complete_step(0, ${generationId}, 'images', 'scene:1', '{}'::jsonb,
        '[{"model": "offline-card-renderer", "units": 1}]'::jsonb, ${userId}, 1) as outcome`;
    assert.equal(outcome, "stale");
    assert.deepEqual(await rowCounts(sql, generationId), before);
    const [{ late }] = await sql`
      select private.fail_step(0, ${generationId}, 'images', 'scene:1', 'late error', false, 9) as late`;
    assert.equal(late, "stale");
    const [generation] = await sql`select status from public.video_generations where id = ${generationId}`;
    assert.equal(generation.status, "audio", "a late failure report does not fail the generation");
    await sql`delete from pgmq.q_audio where message->>'generation_id' = ${generationId}`;
  });
});

Deno.test("a corrupt scene image fails that generation on its first attempt while another user's completes", async () => {
  await withFixture("corrupt", async ({ sql, userId, chapterId, storageDir, handlers }) => {
    const otherId = await createTestUser(sql, "corrupt-other");
    try {
      const { chapterIds } = await createTestBook(sql, otherId, [{
        title: "The Harbour",
        content: SAMPLE_CHAPTER,
      }]);
      const broken = await start(sql, userId, chapterId);
      const healthy = await start(sql, otherId, chapterIds[0]);
      for (const step of ["script", "images", "audio"] as const) {
        await runWorker(sql, { step, handler: handlers[step] });
      }
      // The first user's scene image is damaged in storage (a truncated upload, a bad disk).
      const [image] = await sql`
        select storage_path from public.image_generations where video_generation_id = ${broken} and subject_key = 'scene:1'`;
      const file = `${storageDir}/media/${image.storage_path}`;
      const bytes = await Deno.readFile(file);
      await Deno.writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 3)));

      // Both generations' video units go to one worker with two slots at once.
      const summary = await runWorker(sql, { step: "video", handler: handlers.video, concurrency: 2 });
      assert.equal(summary.failed, 1, JSON.stringify(summary));
      const [failed] =
        await sql`select status, error_message from public.video_generations where id = ${broken}`;
      assert.equal(failed.status, "failed");
      assert.match(
        failed.error_message,
        /^video stage failed for scene:1 after 1 attempt\(s\): the scene image is corrupt/,
      );
      const [clip] = await sql`
        select status, error_message from public.scene_videos where video_generation_id = ${broken} and scene_number = 1`;
      assert.equal(clip.status, "failed");
      assert.match(clip.error_message, /the scene image is corrupt/);
      const busy = await sql`
        select count(*)::int as n from public.scene_videos where video_generation_id = ${broken} and status = 'generating'`;
      assert.equal(busy[0].n, 0, "no job row of the failed generation looks busy");

      assert.equal(
        await drivePipeline(sql, healthy, { handlers }),
        "completed",
        "the other user's video is made",
      );
    } finally {
      await deleteTestUser(sql, otherId);
    }
  });
});

Deno.test("a cancel while a worker's paid call is under way is not refunded; the call's cost is logged and settled", async () => {
  await withFixture("cancel-in-call", async ({ sql, userId, chapterId, handlers }) => {
    const generationId = await start(sql, userId, chapterId);
    await runWorker(sql, { step: "script", handler: handlers.script });
    // One image call held open until the user has canceled.
    let calling!: () => void;
    const called = new Promise<void>((resolve) => calling = resolve);
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => answer = resolve);
    const held: StepHandler = async (context, signal) => {
      calling();
      await answered;
      return await handlers.images(context, signal);
    };
    const worker = runWorker(sql, { step: "images", handler: held, concurrency: 1, maxMessages: 1 });
    await called;
    const [open] = await sql`
      select status, model from private.cost_reservations where video_generation_id = ${generationId}
        and step = 'images'`;
    assert.deepEqual(
      { ...open },
      { status: "open", model: "modelslab-flux" },
      "the call is reserved at free's image model",
    );
    await asUser(sql, userId, (tx) => tx`select public.cancel_video_generation(${generationId})`);
    answer();
    const summary = await worker;
    assert.equal(summary.stale, 1, "the answer arrives after the cancel");
    const [row] = await sql`
      select (g.pipeline_metadata ->> 'refunded')::boolean as refunded, s.video_count_used,
        (select count(*)::int from public.usage_logs l where l.video_generation_id = g.id and l.resource_type = 'image')
          as images_logged,
        (select status from private.cost_reservations r where r.video_generation_id = g.id and r.step = 'images')
          as reservation
      from public.video_generations g join public.user_subscriptions s on s.user_id = g.user_id
      where g.id = ${generationId}`;
    assert.deepEqual({ ...row }, {
      refunded: false,
      video_count_used: 1,
      images_logged: 1,
      reservation: "settled",
    });
  });
});

Deno.test("a video whose next call would pass the period's budget fails before the call, saying so", async () => {
  await withFixture("budget-mid-run", async ({ sql, userId, chapterId, handlers }) => {
    const generationId = await start(sql, userId, chapterId);
    await runWorker(sql, { step: "script", handler: handlers.script });
    // The user's other work has used all but a tenth of a cent of the free period's $2.
    await sql`select private.record_usage(${userId}, null, 'eleven_multilingual_v2', 'plot', 'budget-mid-run',
      0, 0, 6663)`;
    let calls = 0;
    const counted: StepHandler = (context, signal) => {
      calls++;
      return handlers.images(context, signal);
    };
    const summary = await runWorker(sql, { step: "images", handler: counted });
    assert.equal(calls, 0, "no image call is made");
    assert.equal(summary.completed, 0);
    const [g] =
      await sql`select status::text, error_message from public.video_generations where id = ${generationId}`;
    assert.equal(g.status, "failed");
    assert.match(
      g.error_message,
      /^this billing period's model costs \(\$2\.00 so far\) would pass the free tier's budget of \$2\.00 with a modelslab-flux call/,
    );
    const [{ queued }] = await sql`
      select count(*)::int as queued from pgmq.q_images where message->>'generation_id' = ${generationId}`;
    assert.equal(queued, 0, "its other images are not asked for");
  });
});

/** Runs the stages before `step` for a new free-quality generation; returns its id. */
async function runUpTo(f: Fixture, step: "video" | "merge"): Promise<string> {
  const generationId = await start(f.sql, f.userId, f.chapterId);
  const before = step === "video"
    ? ["script", "images", "audio"] as const
    : ["script", "images", "audio", "video", "lipsync"] as const;
  for (const earlier of before) await runWorker(f.sql, { step: earlier, handler: f.handlers[earlier] });
  return generationId;
}

/** Replaces a stored file as the backend can (the service role's write path), behind the pipeline's back. */
async function replaceFile(f: Fixture, path: string, bytes: Uint8Array, contentType: string) {
  await new LocalStorage(f.sql, f.storageDir, "http://127.0.0.1:54321").put(
    "media",
    path,
    bytes,
    contentType,
  );
}

/** What the generation and its job row (scene 1's clip, or the merge) say after a stage failed. */
async function failure(sql: Sql, generationId: string, job: "clip" | "merge") {
  const [generation] = await sql<{ status: string; error_message: string }[]>`
    select status::text, error_message from public.video_generations where id = ${generationId}`;
  const [row] = job === "clip"
    ? await sql<{ status: string; error_message: string }[]>`
      select status::text, error_message from public.scene_videos
      where video_generation_id = ${generationId} and scene_number = 1`
    : await sql<{ status: string; error_message: string }[]>`
      select status::text, error_message from public.merge_jobs where video_generation_id = ${generationId}`;
  return {
    status: generation.status,
    error_message: generation.error_message,
    job_status: row.status,
    job_error: row.error_message,
  };
}

Deno.test("an hour of audio in a scene's folder fails that scene at once with a readable message; no clip is made", async () => {
  await withFixture("long-audio", async (f) => {
    const generationId = await runUpTo(f, "video");
    const [{ path }] = await f.sql`
      select result ->> 'storage_path' as path from private.pipeline_units
      where generation_id = ${generationId} and step = 'audio' and unit_key = 'scene:1'`;
    await replaceFile(f, path, silentWav(3600), "audio/wav");

    const started = performance.now();
    const summary = await runWorker(f.sql, { step: "video", handler: f.handlers.video, timeoutSeconds: 30 });
    assert.equal(summary.failed, 1, JSON.stringify(summary));
    assert.ok(performance.now() - started < 15_000, "failed at once, not after a clip was attempted");
    const row = await failure(f.sql, generationId, "clip");
    assert.equal(row.status, "failed");
    assert.match(
      row.error_message,
      /^video stage failed for scene:1 after 1 attempt\(s\): the scene audio is over [\d.]+ MB, more than a speech track of [\d.]+ s can be$/,
    );
    assert.deepEqual([row.job_status, row.job_error.startsWith("the scene audio is over")], ["failed", true]);
    const clips = await f.sql`
      select name from storage.objects where bucket_id = 'media' and name like ${`${f.userId}/%/scene-1/clip.mp4`}`;
    assert.equal(clips.length, 0, "no clip of the hour was made");
  });
});

Deno.test("a scene image swapped for one of another size fails that scene at once", async () => {
  await withFixture("swapped-image", async (f) => {
    const generationId = await runUpTo(f, "video");
    const [{ path }] = await f.sql`
      select storage_path as path from public.image_generations
      where video_generation_id = ${generationId} and subject_key = 'scene:1'`;
    const bigger = await offlineProviders.image.render({
      title: "Not from the pipeline",
      caption: "An image the image model never saw.",
      mood: "night",
      width: 1280,
      height: 720,
    });
    await replaceFile(f, path, bigger.png, "image/png");

    const summary = await runWorker(f.sql, { step: "video", handler: f.handlers.video, timeoutSeconds: 30 });
    assert.equal(summary.failed, 1, JSON.stringify(summary));
    const row = await failure(f.sql, generationId, "clip");
    assert.equal(
      row.error_message,
      "video stage failed for scene:1 after 1 attempt(s): the scene image is 1280x720 pixels; this video's frame is 854x480",
    );
  });
});

Deno.test("a scene clip swapped for one of another frame fails the merge at once", async () => {
  await withFixture("swapped-clip", async (f) => {
    const generationId = await runUpTo(f, "merge");
    const [{ path }] = await f.sql`
      select storage_path as path from public.scene_videos where video_generation_id = ${generationId} and scene_number = 1`;
    const small = `${f.storageDir}/small.mp4`;
    await run("ffmpeg", [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "color=c=black:s=64x36:r=25",
      "-f",
      "lavfi",
      "-i",
      "sine",
      "-pix_fmt",
      "yuv420p",
      ...clipOutputArgs(1, small),
    ]);
    await replaceFile(f, path, await Deno.readFile(small), "video/mp4");

    const summary = await runWorker(f.sql, { step: "merge", handler: f.handlers.merge, timeoutSeconds: 30 });
    assert.equal(summary.failed, 1, JSON.stringify(summary));
    const row = await failure(f.sql, generationId, "merge");
    assert.equal(
      row.error_message,
      "merge stage failed for final after 1 attempt(s): scene 1's clip is 64x36 pixels; this video's frame is 854x480",
    );
    assert.equal(row.job_status, "failed");
  });
});

Deno.test("an unexpected error in a stage reaches the owner as a reference; its paths and SQL go to the log", async () => {
  await withFixture("internal-error", async (f) => {
    const generationId = await start(f.sql, f.userId, f.chapterId);
    let calls = 0;
    const failing: StepHandler = async () => {
      calls++;
      // A worker's file, then the database's words about SQL it was sent.
      if (calls === 1) await Deno.readFile(`${f.storageDir}/not-made/scene.wav`);
      await f.sql`select secret from private.no_such_table where owner = ${f.userId}`;
      throw new Error("not reached");
    };
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    try {
      const options = { step: "script" as const, handler: failing, maxAttempts: 2, baseBackoffSeconds: 0 };
      await runWorker(f.sql, options);
      await runWorker(f.sql, options);
    } finally {
      console.error = original;
    }
    assert.equal(calls, 2);
    const [seen] = await asUser(
      f.sql,
      f.userId,
      (tx) =>
        tx<{ status: string; error_message: string; errors: { error: string }[] }[]>`
        select status::text, error_message, pipeline_metadata -> 'stages' -> 'script' -> 'errors' as errors
        from public.video_generations where id = ${generationId}`,
    );
    assert.equal(seen.status, "failed");
    const messages = [seen.error_message, ...seen.errors.map((e) => e.error)];
    assert.equal(messages.length, 3);
    for (const message of messages) {
      assert.doesNotMatch(message, /no_such_table|select|not-made|litinkai-internal-error/, message);
      const reference = message.match(
        /an internal error stopped this step; it was logged as ([0-9a-f-]{36})$/,
      )?.[1];
      assert.ok(reference, message);
      assert.ok(logged.some((line) => line.includes(reference)), "the log has it under that reference");
    }
    assert.match(logged.join("\n"), /not-made\/scene\.wav/);
    assert.match(logged.join("\n"), /no_such_table/);
  });
});
