/**
 * npm run demo: the sample book's chapter through the whole pipeline, served by the real
 * Edge Functions and their schedule, watched through the rows a client would watch.
 */
import { asUser, createSql, type Sql } from "../../supabase/functions/_shared/db.ts";
import { probeDuration, probeStreams } from "../../supabase/functions/_shared/media.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";

const root = new URL("../../", import.meta.url).pathname;
const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const storageDir = Deno.env.get("LOCAL_STORAGE_DIR") ?? `${root}.stack/storage`;
const DEMO_USER = "00000000-0000-4000-8000-00000000d3e0";
const DEMO_BOOK = "00000000-0000-4000-8000-0000000b0001";
const chapterNumber = Number(Deno.args[0] ?? 1);
const tty = Deno.stdout.isTerminal();
/** The stages in order, read from private.pipeline_stages when the demo starts. */
let STEPS: string[] = [];

function say(line: string) {
  console.log(`==> ${line}`);
}

async function startRunner(): Promise<Deno.ChildProcess> {
  const log = await Deno.open(`${root}.stack/demo-runner.log`, { write: true, create: true, truncate: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${root}scripts/functions/runner.ts`],
    env: { SUPABASE_DB_URL: dbUrl, LOCAL_STORAGE_DIR: storageDir },
    stdout: log.writable ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  child.stdout.pipeTo(log.writable).catch(() => {});
  child.stderr.pipeTo(new WritableStream()).catch(() => {});
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch("http://127.0.0.1:54321/functions/v1/health");
      await res.body?.cancel();
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGTERM");
  throw new Error("the function runner did not start: see .stack/demo-runner.log");
}

interface StageView {
  step: string;
  done: number;
  total: number;
}

/** Per-stage progress from what the demo user may read: the generation and its job tables. */
async function readProgress(sql: Sql, generationId: string) {
  return await asUser(sql, DEMO_USER, async (tx) => {
    const [g] = await tx`
      select status, current_step, progress_percentage, error_message, script_id, pipeline_metadata
      from public.video_generations where id = ${generationId}`;
    const [c] = await tx`
      select
        (select count(*)::int from public.image_generations where video_generation_id = ${generationId} and status = 'completed') as images,
        (select count(distinct scene_description_id)::int from public.audio_generations where video_generation_id = ${generationId} and status = 'completed') as audio,
        (select count(*)::int from public.scene_videos where video_generation_id = ${generationId} and status = 'completed') as video,
        (select count(*)::int from public.lipsync_jobs where video_generation_id = ${generationId} and status = 'completed') as lipsync,
        (select count(*)::int from public.merge_jobs where video_generation_id = ${generationId} and status = 'completed') as merge`;
    const stages = g.pipeline_metadata.stages ?? {};
    const views: StageView[] = STEPS.map((step) => ({
      step,
      total: stages[step]?.units ?? 0,
      done: step === "script" ? (g.script_id ? 1 : 0) : c[step],
    }));
    return { generation: g, views };
  });
}

function bar(done: number, total: number, width = 30): string {
  const filled = total ? Math.round((done / total) * width) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total || "?"}`;
}

function draw(views: StageView[], overall: number, redraw: boolean) {
  const lines = [
    ...views.map((v) => `  ${v.step.padEnd(8)} ${bar(v.done, v.total)}`),
    `  ${"overall".padEnd(8)} ${bar(Math.round(overall), 100)}%`,
  ];
  if (redraw) Deno.stdout.writeSync(new TextEncoder().encode(`\x1b[${lines.length}A`));
  console.log(lines.join("\n"));
}

async function main() {
  const started = performance.now();
  const sql = createSql(dbUrl, { max: 2 });
  let runner: Deno.ChildProcess | undefined;
  try {
    STEPS = (await sql`select step::text from private.pipeline_stages order by position`).map((r) => r.step);
    const [chapter] = await sql`
      select id, title from public.chapters where book_id = ${DEMO_BOOK} and chapter_number = ${chapterNumber}`;
    if (!chapter) {
      throw new Error(`the sample book has no chapter ${chapterNumber}: run 'npm run stack -- reset'`);
    }
    // The demo account is reused on every run: give its quota back and clear its earlier videos.
    await sql`delete from public.video_generations where user_id = ${DEMO_USER}`;
    await sql`update public.user_subscriptions set video_count_used = 0 where user_id = ${DEMO_USER}`;

    say("Starting the Edge Functions and their worker schedule (log: .stack/demo-runner.log)");
    runner = await startRunner();
    say(`Starting a cinematic video of chapter ${chapterNumber}, "${chapter.title}", as the demo user`);
    const generationId = await asUser(sql, DEMO_USER, async (tx) => {
      const [{ id }] =
        await tx`select public.start_video_generation(${chapter.id}, 'cinematic', 'free') as id`;
      return id as string;
    });
    say(`Generation ${generationId}: progress from video_generations and the job tables`);

    let drawn = false;
    let last = "";
    while (true) {
      const { generation, views } = await readProgress(sql, generationId);
      const snapshot = JSON.stringify(views) + generation.status;
      if (tty || snapshot !== last) {
        draw(views, Number(generation.progress_percentage), tty && drawn);
        drawn = true;
        last = snapshot;
      }
      if (generation.status === "failed") throw new Error(`generation failed: ${generation.error_message}`);
      if (generation.status === "completed") break;
      if (performance.now() - started > 600_000) throw new Error("the demo took longer than 10 minutes");
      await new Promise((r) => setTimeout(r, 300));
    }

    const [g] =
      await sql`select m.storage_path, g.video_url, g.pipeline_metadata, g.total_cost_usd, g.created_at, g.completed_at
                from public.video_generations g
                join public.merge_jobs m on m.video_generation_id = g.id where g.id = ${generationId}`;
    const costs = await sql`
      select split_part(idempotency_key, ':', 2) as step, sum(cost_usd)::numeric as cost, count(*)::int as calls
      from public.usage_logs where video_generation_id = ${generationId} group by 1`;
    const file = `${storageDir}/media/${g.storage_path}`;
    const seconds = await probeDuration(file);
    const streams = (await probeStreams(file)).join(" + ");
    console.log("");
    console.log("  stage     time (s)  attempts  calls  cost (USD)  provider / model");
    let work = 0;
    for (const step of STEPS) {
      const s = g.pipeline_metadata.stages[step];
      const c = costs.find((r) => r.step === step);
      const time = (Date.parse(s.completed_at) - Date.parse(s.started_at)) / 1000;
      work += time;
      console.log(
        `  ${step.padEnd(8)}  ${time.toFixed(2).padStart(8)}  ${String(s.attempts).padStart(8)}  ${
          String(c?.calls ?? 0).padStart(5)
        }  ${Number(c?.cost ?? 0).toFixed(6).padStart(10)}  ${s.provider} / ${s.model}`,
      );
    }
    console.log(
      `  ${"total".padEnd(8)}  ${"".padStart(8)}  ${"".padStart(8)}  ${"".padStart(5)}  ${
        Number(g.total_cost_usd).toFixed(6).padStart(10)
      }`,
    );
    console.log("");
    say(`MP4: ${file}`);
    // Storage serves it to its owner's token, or to a signed link like this one (valid for an hour).
    const signed = await new LocalStorage(sql, storageDir, "http://127.0.0.1:54321").signedUrl(
      "media",
      g.storage_path,
      3600,
    );
    say(`${seconds.toFixed(1)} s, ${streams}; for an hour at ${signed} while 'npm start' runs`);
    const total = (g.completed_at.getTime() - g.created_at.getTime()) / 1000;
    say(
      `Generation: ${
        total.toFixed(2)
      } s from start_video_generation to the MP4, of which the stages' own work ${
        work.toFixed(2)
      } s and waiting between them ${(total - work).toFixed(2)} s (${
        ((total - work) / total * 100).toFixed(1)
      }%)`,
    );
    say(
      `Wall time: ${((performance.now() - started) / 1000).toFixed(1)} s (including starting the functions)`,
    );
  } finally {
    if (runner) {
      runner.kill("SIGTERM");
      await runner.status;
    }
    await sql.end();
  }
}

try {
  await main();
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
}
