/**
 * Orchestration benchmark: the pipeline with instant fake providers, so what is measured is the
 * SQL state machine and the queues (begin_step, complete_step, fan-out), not media work.
 * 1. Per-transition overhead: a unit's begin_step + complete_step (p50, p95) and transitions per
 *    second, with the stage workers run pass by pass.
 * 2. Hand-offs: six long-polling workers (as served), and the time from one stage's completion to
 *    the next stage's first unit starting (p50, p95), with units per second.
 * Each with 1, 10 and 50 generations in flight. Not a test: it asserts nothing and prints figures.
 */
import { createSql, type Sql } from "../../supabase/functions/_shared/db.ts";
import {
  type PipelineStep,
  runWorker,
  type StepContext,
  type StepHandler,
} from "../../supabase/functions/_shared/pipeline/worker.ts";
import { stageOrder } from "../pipeline/drive.ts";
import { benchChapters, startGenerations, waitUntilCompleted } from "./lib/generations.ts";
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

/** The six workers' connections, kept across rounds as running workers keep theirs. */
const workerPools = Array.from({ length: 6 }, () => createSql(dbUrl, { max: 12 }));

async function runRound(sql: Sql, inFlight: number) {
  const { userId, chapterIds } = await benchChapters(sql, inFlight);
  const ids = await startGenerations(sql, userId, chapterIds);
  try {
    const latencies: number[] = [];
    const steps = await stageOrder(sql);
    const started = performance.now();
    let remaining = inFlight;
    while (remaining > 0) {
      await Promise.all(steps.map((step, i) =>
        runWorker(workerPools[i], {
          step,
          handler: instant[step],
          concurrency: 3, // as the figures before the engine's rewrite were measured
          onMessage: (outcome, ms) => outcome === "completed" && latencies.push(ms),
        })
      ));
      [{ remaining }] = await sql`
        select count(*)::int as remaining from public.video_generations where id = any(${ids}) and status <> 'completed'`;
    }
    return { samples: latencies, seconds: (performance.now() - started) / 1000 };
  } finally {
    await sql`delete from auth.users where id = ${userId}`;
  }
}

/** Six long-polling workers, each on its own connections, until every generation is completed. */
async function handoffRound(sql: Sql, inFlight: number) {
  const steps = await stageOrder(sql);
  const pools = workerPools;
  const stop = new AbortController();
  let units = 0;
  const workers = steps.map((step, i) =>
    runWorker(pools[i], {
      step,
      handler: instant[step],
      concurrency: 10,
      pollSeconds: 1,
      budgetMs: 600_000,
      stop: stop.signal,
      onMessage: (outcome) => outcome === "completed" && units++,
    })
  );
  const { userId, chapterIds } = await benchChapters(sql, inFlight);
  await new Promise((r) => setTimeout(r, 300)); // every worker is polling
  const started = performance.now();
  const ids = await startGenerations(sql, userId, chapterIds);
  try {
    await waitUntilCompleted(sql, ids);
    const seconds = (performance.now() - started) / 1000;
    // From a stage's last unit completing to the next stage's first unit starting (and from the start
    // to the script stage's first unit).
    const [{ handoffs }] = await sql`
      select array_agg(extract(epoch from ((g.pipeline_metadata -> 'stages' -> s.step::text ->> 'started_at')::timestamptz
          - coalesce((g.pipeline_metadata -> 'stages' -> p.step::text ->> 'completed_at')::timestamptz, g.created_at)))
          * 1000) as handoffs
      from public.video_generations g
      cross join private.pipeline_stages s
      left join private.pipeline_stages p on p.position = s.position - 1
      where g.id = any(${ids})`;
    return { samples: (handoffs as number[]).map(Number), units, seconds };
  } finally {
    stop.abort();
    await Promise.all(workers);
    await sql`delete from auth.users where id = ${userId}`;
  }
}

/** Rounds enough for at least 300 samples at each level (one generation gives 15 transitions). */
function roundsFor(inFlight: number): number {
  return Math.ceil(300 / (15 * inFlight));
}

function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

const sql = createSql(dbUrl, { max: 20 });
try {
  await runRound(sql, 5); // warm-up
  console.log(
    "per-transition overhead: begin_step + complete_step of a unit (instant providers, 3 scenes + 1 portrait)",
  );
  console.log("  in flight  rounds  transitions  p50 (ms)  p95 (ms)  transitions/s");
  for (const inFlight of [1, 10, 50]) {
    const rounds = roundsFor(inFlight);
    const samples: number[] = [];
    let seconds = 0;
    for (let i = 0; i < rounds; i++) {
      const r = await runRound(sql, inFlight);
      samples.push(...r.samples);
      seconds += r.seconds;
    }
    const { p50, p95 } = summarize(samples);
    console.log(
      `  ${String(inFlight).padStart(9)}  ${String(rounds).padStart(6)}  ${
        String(samples.length).padStart(11)
      }  ${p50.toFixed(2).padStart(8)}  ${p95.toFixed(2).padStart(8)}  ${
        (samples.length / seconds).toFixed(0).padStart(13)
      }`,
    );
  }
  console.log("hand-offs with six long-polling workers (as served): a stage's end to the next stage's start");
  console.log("  in flight  rounds  hand-offs  p50 (ms)  p95 (ms)  units/s");
  for (const inFlight of [1, 10, 50]) {
    const rounds = roundsFor(inFlight);
    const samples: number[] = [];
    let units = 0;
    let seconds = 0;
    for (let i = 0; i < rounds; i++) {
      const r = await handoffRound(sql, inFlight);
      samples.push(...r.samples);
      units += r.units;
      seconds += r.seconds;
    }
    const { p50, p95 } = summarize(samples);
    console.log(
      `  ${String(inFlight).padStart(9)}  ${String(rounds).padStart(6)}  ${
        String(samples.length).padStart(9)
      }  ${p50.toFixed(1).padStart(8)}  ${p95.toFixed(1).padStart(8)}  ${
        (units / seconds).toFixed(0).padStart(7)
      }`,
    );
  }
} finally {
  await Promise.all(workerPools.map((p) => p.end()));
  await sql.end();
}
