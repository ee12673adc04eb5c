/**
 * Our engine against pgflow on the same six-step chain (figures, not a test). pgflow's SQL comes
 * from @pgflow/core (npm) and is applied to a scratch database on the same local stack, with the
 * same pgmq and the same Supabase bootstrap: both sides broadcast progress through the local
 * realtime.send stand-in (pgflow per step event, ours per generation change).
 * Both sides: instant handlers, six workers long-polling with pgmq.read_with_poll (25 ms), up to
 * 10 messages at once each. Ours: one unit per stage (a one-scene script without characters).
 * pgflow: its two-phase worker protocol (read, start_tasks, complete_task). Rounds interleave the two.
 * Hand-off: from one step's completion to the next step's completion; throughput: tasks per second.
 */
import { createSql, type Sql } from "../../supabase/functions/_shared/db.ts";
import {
  type PipelineStep,
  runWorker,
  type StepHandler,
} from "../../supabase/functions/_shared/pipeline/worker.ts";
import { stageOrder } from "../pipeline/drive.ts";
import { benchChapters, startGenerations, waitUntilCompleted } from "./lib/generations.ts";
import { percentile } from "./lib/stats.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const scratchUrl = dbUrl.replace(/\/[^/?]+(\?.*)?$/, "/pgflow_bench$1");
// The bootstrap is the superuser's: on the local stack bench.sh passes supabase_admin's URL.
const adminScratchUrl = (Deno.env.get("LOCAL_ADMIN_DB_URL") ?? dbUrl).replace(
  /\/[^/?]+(\?.*)?$/,
  "/pgflow_bench$1",
);
const root = new URL("../../", import.meta.url).pathname;
const STEPS = ["script", "images", "audio", "video", "lipsync", "merge"];
const POLL_MS = 25;
const BATCH = 10;

// Ours ------------------------------------------------------------------------------------------
const done = (extra: Record<string, unknown> = {}) => ({
  outputs: { storage_path: "x", url: "u", provider: "offline", ...extra },
  usage: [],
});
const oursHandlers: Record<PipelineStep, StepHandler> = {
  script: () =>
    Promise.resolve({
      outputs: {
        title: "Bench",
        script: "x",
        characters: [],
        model: "offline-rules-v1",
        provider: "offline",
        scenes: [{
          scene_number: 1,
          location: "Dock",
          time_of_day: "morning",
          characters: [],
          key_actions: [],
          visual_description: "A dock.",
          dialogue: [],
          narration: "Ada works.",
          estimated_duration_seconds: 2,
        }],
      },
      usage: [],
    }),
  images: () => Promise.resolve(done({ width: 16, height: 9, model: "offline-card-renderer" })),
  audio: () =>
    Promise.resolve(done({
      model: "espeak-ng",
      duration_ms: 1000,
      lines: [{ sequence_order: 0, voice_id: "v", storage_path: "a", url: "u", duration_ms: 1000 }],
    })),
  video: () => Promise.resolve(done({ duration_seconds: 1, model: "offline-ffmpeg-motion" })),
  lipsync: () => Promise.resolve(done({ applied: false, model: "offline-lipsync-passthrough" })),
  merge: (c) =>
    Promise.resolve(done({
      duration_seconds: 1,
      file_size_bytes: 1,
      model: "ffmpeg-concat",
      assets: (c.clips as { scene_video_id: string }[]).map((clip, i) => ({
        scene_video_id: clip.scene_video_id,
        url: "u",
        sequence_order: i,
      })),
    })),
};

// Each engine's six workers keep their connections across rounds, as running workers do (a fresh
// connection compiles every function it calls once: milliseconds that would be charged to a hand-off).
const oursPools = STEPS.map(() => createSql(dbUrl, { max: 12 }));
const pgflowPools = STEPS.map(() => createSql(scratchUrl, { max: 12 }));

async function oursRound(sql: Sql, inFlight: number) {
  const steps = await stageOrder(sql);
  const pools = oursPools;
  const stop = new AbortController();
  const workers = steps.map((step, i) =>
    runWorker(pools[i], {
      step,
      handler: oursHandlers[step],
      concurrency: BATCH,
      pollSeconds: 1,
      budgetMs: 600_000,
      stop: stop.signal,
    })
  );
  const { userId, chapterIds } = await benchChapters(sql, inFlight);
  try {
    await new Promise((r) => setTimeout(r, 300)); // every worker is polling
    const started = performance.now();
    const ids = await startGenerations(sql, userId, chapterIds);
    await waitUntilCompleted(sql, ids);
    const seconds = (performance.now() - started) / 1000;
    const rows = await sql`
      select array_agg(extract(epoch from (g.pipeline_metadata -> 'stages' -> s.step::text ->> 'completed_at')::timestamptz)
        order by s.position) as done
      from public.video_generations g cross join private.pipeline_stages s where g.id = any(${ids}) group by g.id`;
    return {
      handoffs: handoffsOf(rows.map((r) => (r.done as string[]).map(Number))),
      tasks: 6 * inFlight,
      seconds,
    };
  } finally {
    stop.abort();
    await Promise.all(workers);
    await sql`delete from auth.users where id = ${userId}`;
  }
}

// pgflow ----------------------------------------------------------------------------------------
async function preparePgflow(admin: Sql) {
  await admin`drop database if exists pgflow_bench with (force)`;
  await admin`create database pgflow_bench`;
  const flow = createSql(scratchUrl, { max: 2 });
  try {
    // The same Supabase stand-ins as ours (pgmq included), so pgflow's realtime.send costs what our broadcasts cost.
    const boot = createSql(adminScratchUrl, { max: 1 });
    try {
      await boot.unsafe(await Deno.readTextFile(`${root}scripts/sql/bootstrap.sql`));
    } finally {
      await boot.end();
    }
    const dir = `${root}node_modules/@pgflow/core/dist/supabase/migrations`;
    const files = [...Deno.readDirSync(dir)].map((f) => f.name).filter((n) => n.endsWith(".sql")).sort();
    for (const file of files) await flow.unsafe(await Deno.readTextFile(`${dir}/${file}`));
    await flow`select pgflow.create_flow('chain')`;
    for (const [i, step] of STEPS.entries()) {
      if (i === 0) await flow`select pgflow.add_step('chain', ${step})`;
      else await flow`select pgflow.add_step('chain', ${step}, ${[STEPS[i - 1]]}::text[])`;
    }
  } finally {
    await flow.end();
  }
}

/** pgflow's worker protocol: read (long-poll), start_tasks, then complete_task per task. */
async function pgflowWorker(sql: Sql, workerId: string, stop: AbortSignal) {
  await sql`insert into pgflow.workers (worker_id, queue_name, function_name) values (${workerId}, 'chain', 'bench')`;
  while (!stop.aborted) {
    const msgs = await sql<{ msg_id: string }[]>`
      select msg_id from pgmq.read_with_poll('chain', 30, ${BATCH}, 1, ${POLL_MS})`;
    if (msgs.length === 0) continue;
    const tasks = await sql<{ run_id: string; step_slug: string; task_index: number }[]>`
      select run_id, step_slug, task_index from pgflow.start_tasks('chain', ${
      msgs.map((m) => m.msg_id)
    }::bigint[], ${workerId})`;
    await Promise.all(
      tasks.map((t) =>
        sql`select pgflow.complete_task(${t.run_id}, ${t.step_slug}, ${t.task_index}, '{"ok": true}'::jsonb)`
      ),
    );
  }
}

async function pgflowRound(flow: Sql, inFlight: number) {
  const pools = pgflowPools;
  const stop = new AbortController();
  const workers = pools.map((pool) => pgflowWorker(pool, crypto.randomUUID(), stop.signal));
  try {
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const runs: string[] = [];
    for (let i = 0; i < inFlight; i++) {
      runs.push((await flow`select run_id from pgflow.start_flow('chain', '{}')`)[0].run_id);
    }
    for (;;) {
      const [{ remaining }] = await flow`
        select count(*)::int as remaining from pgflow.runs where run_id = any(${runs}) and status <> 'completed'`;
      if (remaining === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (performance.now() - started) / 1000;
    const rows = await flow`
      select array_agg(extract(epoch from s.completed_at) order by array_position(${STEPS}::text[], s.step_slug)) as done
      from pgflow.step_states s where s.run_id = any(${runs}) group by s.run_id`;
    return {
      handoffs: handoffsOf(rows.map((r) => (r.done as string[]).map(Number))),
      tasks: 6 * inFlight,
      seconds,
    };
  } finally {
    stop.abort();
    await Promise.all(workers);
  }
}

function handoffsOf(runs: number[][]): number[] {
  return runs.flatMap((done) => done.slice(1).map((t, i) => (t - done[i]) * 1000));
}

const sql = createSql(dbUrl, { max: 4 });
const flow = createSql(scratchUrl, { max: 4 });
try {
  await preparePgflow(sql);
  console.log(
    "six-step chain, instant handlers, six long-polling workers: ours against pgflow " +
      "(@pgflow/core 0.8.1, start_tasks), interleaved rounds",
  );
  console.log("  in flight  engine   hand-offs  p50 (ms)  p95 (ms)  tasks/s");
  for (const inFlight of [1, 10, 50]) {
    const rounds = Math.max(1, Math.ceil(150 / (5 * inFlight)));
    const results = {
      ours: { h: [] as number[], tasks: 0, s: 0 },
      pgflow: { h: [] as number[], tasks: 0, s: 0 },
    };
    await oursRound(sql, Math.min(inFlight, 5)); // warm both up
    await pgflowRound(flow, Math.min(inFlight, 5));
    for (let i = 0; i < rounds; i++) {
      for (
        const [name, round] of [["ours", () => oursRound(sql, inFlight)], [
          "pgflow",
          () => pgflowRound(flow, inFlight),
        ]] as const
      ) {
        const r = await round();
        results[name].h.push(...r.handoffs);
        results[name].tasks += r.tasks;
        results[name].s += r.seconds;
      }
    }
    for (const name of ["ours", "pgflow"] as const) {
      const h = results[name].h.sort((a, b) => a - b);
      console.log(
        `  ${String(inFlight).padStart(9)}  ${name.padEnd(7)}  ${String(h.length).padStart(9)}  ${
          percentile(h, 50).toFixed(1).padStart(8)
        }  ${percentile(h, 95).toFixed(1).padStart(8)}  ${
          (results[name].tasks / results[name].s).toFixed(0).padStart(7)
        }`,
      );
    }
  }
} finally {
  await Promise.all([...oursPools, ...pgflowPools].map((p) => p.end()));
  await flow.end();
  await sql`drop database if exists pgflow_bench with (force)`;
  await sql.end();
}
