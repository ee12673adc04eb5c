/**
 * npm run demo: the sample book's chapter through the whole pipeline, as a frontend does it: the
 * official supabase-js client signs in as the demo user against the local API, starts the video,
 * and draws its progress bars from Realtime events (the private `user:<id>` Broadcast channel and
 * postgres_changes on the job tables), never by polling.
 */
import { createClient, type RealtimeChannel } from "@supabase/supabase-js";
import { createSql } from "../../supabase/functions/_shared/db.ts";
import type { Database } from "../../supabase/functions/_shared/database.types.ts";
import { probeDuration, probeStreams } from "../../supabase/functions/_shared/media.ts";
import { ANON_KEY } from "../api/context.ts";

const root = new URL("../../", import.meta.url).pathname;
const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const storageDir = Deno.env.get("LOCAL_STORAGE_DIR") ?? `${root}.stack/storage`;
const API_URL = "http://127.0.0.1:54321";
const DEMO_USER = "00000000-0000-4000-8000-00000000d3e0";
/** The seed's demo account (supabase/seed.sql). */
const DEMO_EMAIL = "demo@litinkai.test";
const DEMO_PASSWORD = "litinkai-demo";
const DEMO_BOOK = "00000000-0000-4000-8000-0000000b0001";
const chapterNumber = Number(Deno.args[0] ?? 1);
const tty = Deno.stdout.isTerminal();
const STEPS = ["script", "images", "audio", "video", "lipsync", "merge"] as const;
type Step = typeof STEPS[number];
/** Each stage's job table, streamed through postgres_changes; the script stage is on the generation row. */
const JOB_TABLES: Record<Exclude<Step, "script">, string> = {
  images: "image_generations",
  audio: "audio_generations",
  video: "scene_videos",
  lipsync: "lipsync_jobs",
  merge: "merge_jobs",
};

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
      const res = await fetch(`${API_URL}/functions/v1/health`);
      await res.body?.cancel();
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGTERM");
  throw new Error("the local API did not start: see .stack/demo-runner.log");
}

interface StageView {
  step: string;
  done: number;
  total: number;
}

type GenerationRecord = Database["public"]["Tables"]["video_generations"]["Row"];

/** What the demo knows of its generation, only from Realtime events. */
class ProgressFromEvents {
  generation: GenerationRecord | undefined;
  /** Per stage: job row id -> whether it is completed (audio: per scene). */
  readonly jobs = new Map<Step, Map<string, boolean>>();
  events = 0;

  /** Known once start_video_generation returns; events of other generations are ignored. */
  generationId: string | undefined;

  onGeneration(record: GenerationRecord) {
    if (!this.generationId || record.id !== this.generationId) return;
    this.events++;
    // Events of one channel arrive in commit order; a later row never gives way to an earlier one.
    if (!this.generation || Date.parse(record.updated_at) >= Date.parse(this.generation.updated_at)) {
      this.generation = record;
    }
  }

  onJob(step: Step, row: Record<string, unknown>) {
    if (!this.generationId || row.video_generation_id !== this.generationId) return;
    this.events++;
    const key = String(step === "audio" ? row.scene_description_id : row.id);
    const rows = this.jobs.get(step) ?? new Map<string, boolean>();
    rows.set(key, (rows.get(key) ?? false) || row.status === "completed");
    this.jobs.set(step, rows);
  }

  views(): StageView[] {
    const stages = (this.generation?.pipeline_metadata as { stages?: Record<string, { units?: number }> })
      ?.stages ?? {};
    return STEPS.map((step) => ({
      step,
      total: stages[step]?.units ?? 0,
      done: step === "script"
        ? (this.generation?.script_id ? 1 : 0)
        : [...(this.jobs.get(step)?.values() ?? [])].filter(Boolean).length,
    }));
  }
}

function subscribed(channel: RealtimeChannel): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.subscribe((status, err) => {
      if (status === "SUBSCRIBED") resolve();
      else if (status !== "CLOSED") {
        reject(new Error(`Realtime channel ${channel.topic}: ${status} ${err?.message ?? ""}`));
      }
    });
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
  const supabase = createClient<Database>(API_URL, ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
  try {
    // The demo account is reused on every run: give its quota back and clear its earlier videos.
    await sql`delete from public.video_generations where user_id = ${DEMO_USER}`;
    await sql`update public.user_subscriptions set video_count_used = 0 where user_id = ${DEMO_USER}`;

    say(
      "Starting the local API, the Edge Functions, their worker schedule and the worker service (log: .stack/demo-runner.log)",
    );
    runner = await startRunner();
    const signIn = await supabase.auth.signInWithPassword({ email: DEMO_EMAIL, password: DEMO_PASSWORD });
    if (signIn.error) throw new Error(`signing in as ${DEMO_EMAIL}: ${signIn.error.message}`);
    say(`Signed in as ${DEMO_EMAIL} through supabase-js at ${API_URL}`);
    const { data: chapter, error: chapterError } = await supabase.from("chapters").select("id, title")
      .eq("book_id", DEMO_BOOK).eq("chapter_number", chapterNumber).maybeSingle();
    if (chapterError) throw new Error(chapterError.message);
    if (!chapter) {
      throw new Error(`the sample book has no chapter ${chapterNumber}: run 'npm run stack -- reset'`);
    }

    // Listen before starting, so that no event of the new generation is missed.
    const progress = new ProgressFromEvents();
    let changed: () => void = () => {};
    const notify = () => changed();
    await supabase.realtime.setAuth();
    const userChannel = supabase.channel(`user:${DEMO_USER}`, { config: { private: true } })
      .on("broadcast", { event: "*" }, (message) => {
        const payload = message.payload as { table?: string; record?: GenerationRecord };
        if (payload.table === "video_generations" && payload.record) progress.onGeneration(payload.record);
        notify();
      });
    const jobsChannel = supabase.channel("demo-jobs");
    for (const [step, table] of Object.entries(JOB_TABLES) as [Step, string][]) {
      jobsChannel.on("postgres_changes", {
        event: "*",
        schema: "public",
        table,
        filter: `user_id=eq.${DEMO_USER}`,
      }, (p) => {
        progress.onJob(step, p.new as Record<string, unknown>);
        notify();
      });
    }
    await Promise.all([subscribed(userChannel), subscribed(jobsChannel)]);

    say(`Starting a cinematic video of chapter ${chapterNumber}, "${chapter.title}", as the demo user`);
    const start = await supabase.rpc("start_video_generation", {
      chapter_id: chapter.id,
      script_style: "cinematic",
      quality_tier: "free",
    });
    if (start.error) throw new Error(start.error.message);
    const generationId = progress.generationId = start.data;
    say(
      `Generation ${generationId}: progress from Realtime events (private channel user:<id>, postgres_changes)`,
    );

    let drawn = false;
    let last = "";
    while (true) {
      const generation = progress.generation;
      const views = progress.views();
      const snapshot = JSON.stringify(views) + generation?.status;
      if (generation && (tty || snapshot !== last)) {
        draw(views, Number(generation.progress_percentage), tty && drawn);
        drawn = true;
        last = snapshot;
      }
      if (generation?.status === "failed") throw new Error(`generation failed: ${generation.error_message}`);
      if (generation?.status === "completed") break;
      if (performance.now() - started > 600_000) throw new Error("the demo took longer than 10 minutes");
      // The next Realtime event wakes the loop; the timeout only bounds how long a lost socket goes unnoticed.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 30_000);
        changed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    say(`${progress.events} Realtime events drove the progress bars`);
    await supabase.removeAllChannels();

    // The summary, read as the demo user: the generation, its usage and its MP4 through Storage.
    const { data: g, error: readError } = await supabase.from("video_generations")
      .select("pipeline_metadata, total_cost_usd, created_at, completed_at, merge_jobs(storage_path)")
      .eq("id", generationId).single();
    if (readError) throw new Error(readError.message);
    const { data: usage } = await supabase.from("usage_logs").select("idempotency_key, cost_usd")
      .eq("video_generation_id", generationId);
    const costOf = (step: string) => {
      const rows = (usage ?? []).filter((u) => u.idempotency_key?.split(":")[1] === step);
      return { calls: rows.length, cost: rows.reduce((sum, u) => sum + Number(u.cost_usd), 0) };
    };
    const stages =
      (g.pipeline_metadata as { stages: Record<string, Record<string, string | number>> }).stages;
    // Where each stage ran: an Edge Function invocation, or the worker service's process.
    const beats = await sql<{ function_name: string; instance: string }[]>`
      select function_name, instance from private.worker_heartbeats where function_name like 'pipeline-%'`;
    const ranIn = (step: string) => {
      const instance = beats.find((b) => b.function_name === `pipeline-${step}`)?.instance ?? "?";
      return instance === "edge" ? "Edge Function" : `worker service (${instance.replace(/^worker:/, "")})`;
    };
    console.log("");
    console.log("  stage     time (s)  attempts  calls  cost (USD)  provider / model, where it ran");
    let work = 0;
    for (const step of STEPS) {
      const s = stages[step];
      const c = costOf(step);
      const time = (Date.parse(String(s.completed_at)) - Date.parse(String(s.started_at))) / 1000;
      work += time;
      console.log(
        `  ${step.padEnd(8)}  ${time.toFixed(2).padStart(8)}  ${String(s.attempts).padStart(8)}  ${
          String(c.calls).padStart(5)
        }  ${c.cost.toFixed(6).padStart(10)}  ${s.provider} / ${s.model}, ${ranIn(step)}`,
      );
    }
    console.log(
      `  ${"total".padEnd(8)}  ${"".padStart(8)}  ${"".padStart(8)}  ${"".padStart(5)}  ${
        Number(g.total_cost_usd).toFixed(6).padStart(10)
      }`,
    );
    console.log("");
    const storagePath = g.merge_jobs?.storage_path; // one-to-one: merge_jobs.video_generation_id is unique
    if (!storagePath) throw new Error("the completed generation has no merged video");
    const download = await supabase.storage.from("media").download(storagePath);
    if (download.error) throw new Error(`downloading the MP4: ${download.error.message}`);
    const file = `${root}.stack/demo.mp4`;
    await Deno.writeFile(file, new Uint8Array(await download.data.arrayBuffer()));
    const seconds = await probeDuration(file);
    const streams = (await probeStreams(file)).join(" + ");
    say(
      `MP4 made by the ${ranIn("merge")}, downloaded through Storage to ${file}: ${
        seconds.toFixed(1)
      } s, ${streams}`,
    );
    const signed = await supabase.storage.from("media").createSignedUrl(storagePath, 3600);
    if (signed.data) say(`For an hour at ${signed.data.signedUrl} while 'npm start' runs`);
    const total = (Date.parse(g.completed_at!) - Date.parse(g.created_at)) / 1000;
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
    await supabase.removeAllChannels();
    await supabase.auth.signOut().catch(() => {});
    await sql.end();
  }
}

try {
  await main();
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
}
