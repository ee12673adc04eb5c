/**
 * Orchestration benchmark: the pipeline with instant fake providers, so what is measured is the
 * SQL state machine and the queues (begin_step, complete_step, fan-out), not media work.
 * Reports per-transition latency (p50, p95) and transitions per second with 1, 10 and 50
 * generations in flight. Not a test: it asserts nothing and prints figures.
 */
import { asUser, createSql, type Sql } from "../../supabase/functions/_shared/db.ts";
import {
  type PipelineStep,
  runWorker,
  type StepContext,
  type StepHandler,
} from "../../supabase/functions/_shared/pipeline/worker.ts";
import { stageOrder } from "../pipeline/drive.ts";
import { percentile } from "./lib/stats.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const SCENES = 3;

const instant: Record<PipelineStep, StepHandler> = {
  script: () =>
    Promise.resolve({
      outputs: {
        title: "Bench",
        script: "x",
        characters: ["Ada"],
        model: "offline-rules-v1",
        provider: "offline",
        scenes: Array.from({ length: SCENES }, (_, i) => ({
          scene_number: i + 1,
          location: "Lab",
          time_of_day: "noon",
          characters: ["Ada"],
          key_actions: [],
          visual_description: "A lab.",
          narration: "Ada works.",
          dialogue: [],
          estimated_duration_seconds: 2,
        })),
      },
      usage: [{ model: "offline-rules-v1", input_tokens: 100, output_tokens: 100 }],
    }),
  images: (c: StepContext) =>
    Promise.resolve({
      outputs: {
        storage_path: `${c.unit}.png`,
        url: "u",
        width: 854,
        height: 480,
        provider: "offline",
        model: "offline-card-renderer",
      },
      usage: [{ model: "offline-card-renderer", units: 1 }],
    }),
  audio: (c: StepContext) =>
    Promise.resolve({
      outputs: {
        scene_id: (c.scene as { id: string }).id,
        provider: "offline",
        model: "espeak-ng",
        storage_path: "a.wav",
        url: "u",
        lines: [{
          sequence_order: 0,
          audio_type: "narration",
          speaker: "Narrator",
          text: "Ada works.",
          storage_path: "a",
          url: "u",
          duration_ms: 1000,
        }],
      },
      usage: [{ model: "espeak-ng", units: 1 }],
    }),
  video: (c: StepContext) =>
    Promise.resolve({
      outputs: {
        scene_id: (c.scene as { id: string }).id,
        scene_number: (c.scene as { scene_number: number }).scene_number,
        storage_path: "v.mp4",
        url: "u",
        duration_seconds: 1,
        provider: "offline",
        model: "offline-ffmpeg-motion",
      },
      usage: [{ model: "offline-ffmpeg-motion", units: 1 }],
    }),
  lipsync: () =>
    Promise.resolve({
      outputs: {
        storage_path: "v.mp4",
        url: "u",
        applied: false,
        provider: "offline",
        model: "offline-lipsync-passthrough",
      },
      usage: [{ model: "offline-lipsync-passthrough" }],
    }),
  merge: (c: StepContext) =>
    Promise.resolve({
      outputs: {
        storage_path: "final.mp4",
        url: "u",
        duration_seconds: 3,
        file_size_bytes: 1,
        provider: "offline",
        model: "ffmpeg-concat",
        assets: (c.clips as { scene_video_id: string }[]).map((clip, i) => ({
          scene_video_id: clip.scene_video_id,
          url: "u",
          sequence_order: i,
        })),
      },
      usage: [{ model: "ffmpeg-concat", units: 3 }],
    }),
};

async function runRound(sql: Sql, inFlight: number) {
  const [{ id: userId }] =
    await sql`insert into auth.users (email) values (${`bench-${crypto.randomUUID()}@bench.local`}) returning id`;
  try {
    await sql`update public.user_subscriptions set video_count_limit = 100000 where user_id = ${userId}`;
    const [{ id: bookId }] =
      await sql`insert into public.books (user_id, title) values (${userId}, 'Bench') returning id`;
    const chapters = await sql`
      insert into public.chapters (book_id, chapter_number, title, content)
      select ${bookId}, n, 'C' || n, 'Ada works.' from generate_series(1, ${inFlight}) n returning id`;
    const ids: string[] = [];
    for (const chapter of chapters) {
      ids.push(
        await asUser(
          sql,
          userId,
          async (tx) => (await tx`select public.start_video_generation(${chapter.id}) as id`)[0].id,
        ),
      );
    }
    const latencies: number[] = [];
    const steps = await stageOrder(sql);
    const started = performance.now();
    let remaining = inFlight;
    while (remaining > 0) {
      await Promise.all(steps.map((step) =>
        runWorker(sql, {
          step,
          handler: instant[step],
          concurrency: 10,
          onMessage: (outcome, ms) => outcome === "completed" && latencies.push(ms),
        })
      ));
      [{ remaining }] = await sql`
        select count(*)::int as remaining from public.video_generations where id = any(${ids}) and status <> 'completed'`;
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      transitions: latencies.length,
      seconds,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
    };
  } finally {
    await sql`delete from auth.users where id = ${userId}`;
  }
}

const sql = createSql(dbUrl, { max: 20 });
try {
  await runRound(sql, 5); // warm-up
  console.log("pipeline orchestration (instant providers, 3 scenes + 1 portrait per generation)");
  console.log("  in flight  transitions  wall (s)  p50 (ms)  p95 (ms)  transitions/s");
  for (const inFlight of [1, 10, 50]) {
    const r = await runRound(sql, inFlight);
    console.log(
      `  ${String(inFlight).padStart(9)}  ${String(r.transitions).padStart(11)}  ${
        r.seconds.toFixed(2).padStart(8)
      }  ${r.p50.toFixed(2).padStart(8)}  ${r.p95.toFixed(2).padStart(8)}  ${
        (r.transitions / r.seconds).toFixed(0).padStart(13)
      }`,
    );
  }
} finally {
  await sql.end();
}
