/**
 * Scale-out benchmark: the worker service as N separate processes (replicas, as KEDA would run them
 * on Kubernetes) against a backlog of generations whose hosted providers answer from recordings
 * with realistic latency (lib/recorded_providers.ts). Storage goes through the local Storage API,
 * as on hosted Supabase. In one run a replica is killed with SIGKILL while a provider call of one
 * of its units is in flight, and a replacement starts. Reports generations per minute per replica
 * count and checks that nothing was duplicated: rows, stored files, costs.
 *
 * Environment: BENCH_SCALE_GENERATIONS (40), BENCH_SCALE_REPLICAS (1,2,4), BENCH_SCALE_LATENCY
 * (0.5: provider delays times this), BENCH_SCALE_SCENES (2 per generation), BENCH_SCALE_KILL_AT
 * (2: the replica count of the run with the kill; 0 for none), BENCH_SCALE_USERS (4),
 * BENCH_SCALE_SEED (22), BENCH_SCALE_TIMEOUT_MINUTES (10 per run).
 */
import { freePort, processCpuMs } from "../edge/harness.ts";
import { waitUntilReady } from "../functions/runner_testing.ts";
import { workerServiceArgs } from "../../worker/permissions.ts";
import { asUser, createSql, type Sql } from "../../supabase/functions/_shared/db.ts";
import { SupabaseStorage } from "../../supabase/functions/_shared/storage.ts";
import { SAMPLE_CHAPTER } from "../../supabase/functions/_shared/testing.ts";
import { SERVICE_ROLE_KEY } from "../api/context.ts";
import { startApi } from "../api/server.ts";
import {
  type PaidEndpoint,
  type RecordedProviders,
  startRecordedProviders,
} from "./lib/recorded_providers.ts";

const root = new URL("../../", import.meta.url).pathname;
const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

function numberEnv(name: string, fallback: number): number {
  const value = Number(Deno.env.get(name) ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

const GENERATIONS = Math.max(1, Math.round(numberEnv("BENCH_SCALE_GENERATIONS", 40)));
const REPLICAS = (Deno.env.get("BENCH_SCALE_REPLICAS") ?? "1,2,4").split(",").map(Number).filter((n) =>
  n > 0
);
const SCALE = numberEnv("BENCH_SCALE_LATENCY", 0.5);
const SCENES = Math.max(1, Math.round(numberEnv("BENCH_SCALE_SCENES", 2)));
const KILL_AT = numberEnv("BENCH_SCALE_KILL_AT", 2);
const USERS = Math.max(1, Math.round(numberEnv("BENCH_SCALE_USERS", 4)));
const SEED = numberEnv("BENCH_SCALE_SEED", 22);
const TIMEOUT_MS = numberEnv("BENCH_SCALE_TIMEOUT_MINUTES", 10) * 60_000;
const QUEUES = ["script", "images", "audio", "video", "lipsync", "merge"];

interface Replica {
  id: number;
  port: number;
  child: Deno.ChildProcess;
  logged: Promise<void>;
}

interface RunResult {
  replicas: number;
  generations: number;
  completed: number;
  minutes: number;
  killed: string;
  duplicateRows: number;
  duplicateFiles: number;
  duplicateCosts: number;
  costMismatches: number;
  repeatedAfterKill: number;
  repeatedOther: number;
  /** CPU seconds the replicas (and their ffmpeg runs) used, and the run's wall-clock seconds. */
  cpu: number;
  wall: number;
  notes: string[];
}

function log(line: string) {
  console.log(`  [${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/** Copies a child's output to its log file. */
async function copyTo(stream: ReadableStream<Uint8Array>, file: Deno.FsFile) {
  for await (const chunk of stream) await file.write(chunk);
}

async function spawnReplica(
  id: number,
  env: Record<string, string>,
  workDir: string,
): Promise<Replica> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: workerServiceArgs(QUEUES),
    cwd: root,
    env: { ...env, WORKER_HEALTH_PORT: String(port) },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const file = await Deno.open(`${workDir}/replica-${id}.log`, { create: true, append: true });
  const logged = Promise.allSettled([copyTo(child.stdout, file), copyTo(child.stderr, file)]).then(() =>
    file.close()
  );
  return { id, port, child, logged };
}

/** CPU seconds of a replica and of the ffmpeg runs it has waited for (0 once it is gone). */
function cpuSeconds(replica: Replica): number {
  try {
    return processCpuMs(replica.child.pid, { tools: true }) / 1000;
  } catch {
    return 0;
  }
}

async function stopReplica(replica: Replica) {
  try {
    replica.child.kill("SIGTERM");
  } catch {
    // already gone
  }
  await replica.child.status;
  await replica.logged;
}

/** Users with a raised video limit (as the other benchmarks) and one chapter per generation. */
async function createBacklogChapters(sql: Sql, run: number) {
  const users: string[] = [];
  const chapters: { userId: string; chapterId: string }[] = [];
  for (let u = 0; u < USERS; u++) {
    const [{ id }] = await sql`
      insert into auth.users (email) values (${`scaleout-${run}-${u}-${
      crypto.randomUUID().slice(0, 8)
    }@bench.local`})
      returning id`;
    users.push(id);
    // Premium: its ladder calls hosted voice, video and lipsync models (free's run offline).
    await sql`update public.user_subscriptions set video_count_limit = 100000, tier = 'premium' where user_id = ${id}`;
  }
  const books = await Promise.all(users.map(async (userId) => {
    const [{ id }] =
      await sql`insert into public.books (user_id, title, status) values (${userId}, 'Scale-out', 'ready') returning id`;
    return id as string;
  }));
  for (let k = 1; k <= GENERATIONS; k++) {
    const u = (k - 1) % USERS;
    const [{ id }] = await sql`
      insert into public.chapters (book_id, chapter_number, title, content)
      values (${books[u]}, ${k}, ${`The harbour, story ${k}`}, ${SAMPLE_CHAPTER}) returning id`;
    chapters.push({ userId: users[u], chapterId: id });
  }
  return { users, chapters };
}

async function cleanup(sql: Sql, users: string[], storageDir: string) {
  for (const userId of users) {
    await sql`delete from storage.objects where bucket_id = 'media' and name like ${`${userId}/%`}`;
    await sql`delete from auth.users where id = ${userId}`;
    await Deno.remove(`${storageDir}/media/${userId}`, { recursive: true }).catch(() => {});
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      n += entry.isDirectory ? await countFiles(`${dir}/${entry.name}`) : 1;
    }
  } catch {
    // no folder: no files
  }
  return n;
}

/** Rows, files and costs of the run's generations: anything beyond one per natural key is a duplicate. */
async function verify(sql: Sql, ids: string[], storageDir: string, providers: RecordedProviders) {
  const [rows] = await sql`
    with g as (select unnest(${ids}::uuid[]) as id)
    select
      (select count(*) from public.video_generations v join g using (id) where v.status = 'completed')::int as completed,
      (select coalesce(sum(n - 1), 0) from (select count(*) n from public.scene_videos x join g on g.id = x.video_generation_id
        group by x.video_generation_id, x.scene_number) d)::int as videos,
      (select coalesce(sum(n - 1), 0) from (select count(*) n from public.lipsync_jobs x join g on g.id = x.video_generation_id
        group by x.scene_video_id) d)::int as lipsync,
      (select coalesce(sum(n - 1), 0) from (select count(*) n from public.merge_jobs x join g on g.id = x.video_generation_id
        group by x.video_generation_id) d)::int as merges,
      (select coalesce(sum(n - 1), 0) from (select count(*) n from public.image_generations x join g on g.id = x.video_generation_id
        group by x.video_generation_id, x.subject_key) d)::int as images,
      (select coalesce(sum(n - 1), 0) from (select count(*) n from public.audio_generations x join g on g.id = x.video_generation_id
        group by x.video_generation_id, x.scene_description_id, x.audio_type, x.sequence_order) d)::int as audio,
      (select count(*) from public.video_generations v join g using (id)
        where (select count(*) from public.scene_videos x where x.video_generation_id = v.id) <> v.total_scenes
           or (select count(*) from public.lipsync_jobs x where x.video_generation_id = v.id) <> v.total_scenes
           or (select count(*) from public.merge_jobs x where x.video_generation_id = v.id) <> 1)::int as wrong_counts`;
  const [costs] = await sql`
    with g as (select unnest(${ids}::uuid[]) as id)
    select
      (select count(*) - count(distinct idempotency_key) + count(*) filter (where idempotency_key is null)
        from public.usage_logs u join g on g.id = u.video_generation_id)::int as duplicate_keys,
      (select count(*) from public.video_generations v join g using (id)
        where v.total_cost_usd <> (select coalesce(sum(u.cost_usd), 0) from public.usage_logs u
                                   where u.video_generation_id = v.id))::int as mismatches,
      (select count(*) filter (where r.status = 'abandoned') from private.cost_reservations r join g
        on g.id = r.video_generation_id)::int as abandoned,
      (select count(*) filter (where r.status = 'open') from private.cost_reservations r join g
        on g.id = r.video_generation_id)::int as still_open`;
  const usage = await sql<{ operation: string; n: number }[]>`
    select operation, count(*)::int as n from public.usage_logs where video_generation_id = any(${ids}) group by operation`;
  // Stored objects per generation: each unit writes fixed names, so every extra object is a duplicate.
  const expected = await sql<
    { id: string; user_id: string; scenes: number; synced: number; lines: number; portraits: number }[]
  >`
    select v.id, v.user_id, v.total_scenes as scenes,
      (select count(*) from public.lipsync_jobs l where l.video_generation_id = v.id
        and l.output_video_url like '%/lipsync.mp4')::int as synced,
      (select count(*) from public.audio_generations a where a.video_generation_id = v.id)::int as lines,
      (select count(*) from public.image_generations i where i.video_generation_id = v.id and i.image_type = 'character')::int
        as portraits
    from public.video_generations v where v.id = any(${ids})`;
  let duplicateFiles = 0;
  let missingFiles = 0;
  let diskMismatches = 0;
  for (const g of expected) {
    // Per scene: image, track, clip (and synced clip); per line: its WAV; per portrait: its image; one MP4.
    const want = g.scenes * 3 + g.synced + g.lines + g.portraits + 1;
    const prefix = `${g.user_id}/generations/${g.id}/`;
    const [{ n }] = await sql`
      select count(*)::int as n from storage.objects where bucket_id = 'media' and name like ${`${prefix}%`}`;
    if (n > want) duplicateFiles += n - want;
    if (n < want) missingFiles += want - n;
    if (await countFiles(`${storageDir}/media/${prefix}`) !== n) diskMismatches++;
  }
  // Paid provider calls per unit: a unit called twice was paid twice at the provider.
  const byKey = new Map<string, { endpoint: PaidEndpoint; calls: number; replicas: Set<number> }>();
  for (const call of providers.calls) {
    const entry = byKey.get(call.key) ?? { endpoint: call.endpoint, calls: 0, replicas: new Set<number>() };
    entry.calls++;
    entry.replicas.add(call.replica);
    byKey.set(call.key, entry);
  }
  return { rows, costs, usage, duplicateFiles, missingFiles, diskMismatches, byKey };
}

async function runOnce(
  sql: Sql,
  replicaCount: number,
  kill: boolean,
  baseEnv: Record<string, string>,
  providers: RecordedProviders,
  workDir: string,
  storageDir: string,
  runNumber: number,
): Promise<RunResult> {
  providers.reset();
  const notes: string[] = [];
  const replicas: Replica[] = [];
  const { users, chapters } = await createBacklogChapters(sql, runNumber);
  try {
    for (let i = 1; i <= replicaCount; i++) {
      replicas.push(await spawnReplica(i, { ...baseEnv, ...providers.envFor(i) }, workDir));
    }
    await Promise.all(replicas.map((r) => waitUntilReady(r.port, 90_000)));
    log(`${replicaCount} replica(s) ready; starting ${GENERATIONS} generations`);
    const ids: string[] = [];
    for (const { userId, chapterId } of chapters) {
      ids.push(
        await asUser(
          sql,
          userId,
          async (tx) =>
            (await tx`select public.start_video_generation(${chapterId}, 'cinematic', 'premium') as id`)[0]
              .id as string,
        ),
      );
    }
    const started = Date.now();
    let killed = "no";
    let killedReplica = 0;
    let killedAt = 0;
    let cpu = 0;
    const sceneUnits = GENERATIONS * SCENES;
    for (;;) {
      const [state] = await sql`
        select count(*) filter (where status = 'completed')::int as completed,
               count(*) filter (where status in ('failed', 'canceled'))::int as ended,
               (select count(*) from public.scene_videos where video_generation_id = any(${ids}) and status = 'completed')::int
                 as clips,
               (select count(*) from public.scene_videos where video_generation_id = any(${ids}) and status = 'generating')::int
                 as generating
        from public.video_generations where id = any(${ids})`;
      if (state.completed + state.ended === GENERATIONS) break;
      if (Date.now() - started > TIMEOUT_MS) {
        notes.push(`timed out after ${TIMEOUT_MS / 60_000} min with ${state.completed} completed`);
        break;
      }
      if (kill && !killedReplica && state.clips >= sceneUnits / 4) {
        // The victim: a replica with a paid video or lipsync call in flight, so it dies mid-unit.
        const busy = providers.calls.filter((c) =>
          !c.endedAt && (c.endpoint === "video" || c.endpoint === "lipsync") &&
          replicas.some((r) => r.id === c.replica)
        );
        if (busy.length) {
          const victim = replicas.find((r) => r.id === busy[0].replica)!;
          const inFlight = providers.calls.filter((c) => c.replica === victim.id && !c.endedAt);
          cpu += cpuSeconds(victim);
          victim.child.kill("SIGKILL");
          await victim.child.status;
          killedReplica = victim.id;
          killedAt = Date.now();
          killed = `r${victim.id} at ${((killedAt - started) / 1000).toFixed(0)} s`;
          log(
            `kill -9 replica ${victim.id} (pid ${victim.child.pid}) with ${inFlight.length} paid call(s) in flight ` +
              `(${
                inFlight.map((c) => c.endpoint).join(", ")
              }); ${state.generating} scene video(s) generating`,
          );
          notes.push(
            `replica ${victim.id} killed with ${inFlight.length} paid call(s) in flight: ` +
              inFlight.map((c) => c.key.replace(/https?:\/\/[^/]+\/storage\/v1\/object\/sign\/media\//, ""))
                .join("; "),
          );
          replicas.splice(replicas.indexOf(victim), 1);
          await victim.logged;
          // As Kubernetes would: a new pod replaces the dead one (here after 2 s).
          await new Promise((r) => setTimeout(r, 2000));
          const replacement = await spawnReplica(replicaCount + 1, {
            ...baseEnv,
            ...providers.envFor(replicaCount + 1),
          }, workDir);
          replicas.push(replacement);
          log(`replacement replica ${replacement.id} started`);
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const [{ seconds }] = await sql`
      select extract(epoch from max(completed_at) - min(created_at))::float8 as seconds
      from public.video_generations where id = any(${ids})`;
    cpu += replicas.reduce((sum, r) => sum + cpuSeconds(r), 0);
    const wall = (Date.now() - started) / 1000;
    await Promise.all(replicas.map(stopReplica));
    replicas.length = 0;

    const check = await verify(sql, ids, storageDir, providers);
    const r = check.rows;
    const duplicateRows = r.videos + r.lipsync + r.merges + r.images + r.audio;
    if (r.wrong_counts) {
      notes.push(`${r.wrong_counts} generation(s) without one clip and lipsync job per scene and one merge`);
    }
    if (check.missingFiles) notes.push(`${check.missingFiles} stored object(s) missing`);
    if (check.diskMismatches) {
      notes.push(`${check.diskMismatches} generation(s) whose files on disk differ from storage.objects`);
    }
    if (providers.inputFailures.length) {
      notes.push(
        `ModelsLab could not fetch ${providers.inputFailures.length} input(s): ${providers.inputFailures[0]}`,
      );
    }
    let repeatedAfterKill = 0;
    let repeatedOther = 0;
    const units: Record<string, { units: number; calls: number }> = {};
    for (const [key, entry] of check.byKey) {
      const tally = units[entry.endpoint] ??= { units: 0, calls: 0 };
      tally.units++;
      tally.calls += entry.calls;
      if (entry.calls <= 1) continue;
      if (killedReplica && entry.replicas.has(killedReplica)) repeatedAfterKill += entry.calls - 1;
      else {
        repeatedOther += entry.calls - 1;
        notes.push(`paid call repeated without a kill: ${key} (${entry.calls} calls)`);
      }
    }
    // A call whose answer never came (its replica died) keeps its reservation, counted as spent.
    notes.push(
      `reservations of calls whose answer never came (abandoned, counted as spent): ${check.costs.abandoned}; ` +
        `still open: ${check.costs.still_open}`,
    );
    const usage = Object.fromEntries(check.usage.map((u) => [u.operation, u.n]));
    notes.push(
      "provider units / calls / usage rows: " + Object.entries(units).map(([endpoint, t]) =>
        `${endpoint} ${t.units}/${t.calls}/${usage[endpoint] ?? 0}`
      ).join(", ") + `; ModelsLab "processing" answers: ${providers.processing}`,
    );
    return {
      replicas: replicaCount,
      generations: GENERATIONS,
      completed: r.completed,
      minutes: Number(seconds) / 60,
      killed,
      duplicateRows,
      duplicateFiles: check.duplicateFiles,
      duplicateCosts: check.costs.duplicate_keys,
      costMismatches: check.costs.mismatches,
      repeatedAfterKill,
      repeatedOther,
      cpu,
      wall,
      notes,
    };
  } finally {
    await Promise.all(replicas.map(stopReplica));
    await cleanup(sql, users, storageDir);
  }
}

/** Whether the workers can use the Storage API as on hosted: an upload, a signed URL, and a fetch of it. */
async function storageApiWorks(apiUrl: string): Promise<string | null> {
  try {
    const storage = new SupabaseStorage(apiUrl, SERVICE_ROLE_KEY);
    const path = `scaleout-probe/${crypto.randomUUID()}.wav`;
    await storage.put("media", path, new TextEncoder().encode("probe"), "audio/wav");
    const res = await fetch(await storage.signedUrl("media", path, 60));
    const text = await res.text();
    return res.ok && text === "probe" ? null : `signed URL answered ${res.status}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const sql = createSql(dbUrl, { max: 8 });
const workDir = await Deno.makeTempDir({ prefix: "litinkai-scaleout-" });
const storageDir = `${workDir}/storage`;
const api = startApi({ port: 0, dbUrl, storageDir });
const providers = await startRecordedProviders({ scale: SCALE, seed: SEED, scenes: SCENES, workDir });
try {
  const storageProblem = await storageApiWorks(api.url);
  await sql`delete from storage.objects where bucket_id = 'media' and name like 'scaleout-probe/%'`;
  const baseEnv: Record<string, string> = {
    SUPABASE_DB_URL: dbUrl,
    SUPABASE_URL: api.url,
    LOCAL_STORAGE_DIR: storageDir,
    WORKER_DRAIN_SECONDS: "5",
    OPENROUTER_API_KEY: "",
    ...(storageProblem
      ? { STORAGE_BACKEND: "local", SUPABASE_SERVICE_ROLE_KEY: "" }
      : { STORAGE_BACKEND: "supabase", SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY }),
  };
  console.log(
    `scale-out: ${GENERATIONS} generations of ${SCENES} scenes (and a portrait) per run, replicas ${
      REPLICAS.join(", ")
    }, provider latency x${SCALE} (script 3-6 s, image 2-5 s, speech 1-3 s, video 5-10 s, lipsync 3-6 s at x1)`,
  );
  console.log(
    storageProblem
      ? `  storage: LOCAL, video and lipsync OFFLINE (the Storage API did not work: ${storageProblem})`
      : `  storage: the Storage API (local API at ${api.url}), ModelsLab video and lipsync with signed URLs`,
  );
  const results: RunResult[] = [];
  for (const [i, n] of REPLICAS.entries()) {
    console.log(`run ${i + 1}: ${n} replica(s)${n === KILL_AT ? ", one killed mid-unit" : ""}`);
    results.push(await runOnce(sql, n, n === KILL_AT, baseEnv, providers, workDir, storageDir, i + 1));
  }
  const base = results.find((r) => r.replicas === 1);
  const baseRate = base ? base.completed / base.minutes : 0;
  console.log(
    "\n  replicas | generations | minutes | generations/min | per replica | efficiency | killed      | " +
      "duplicates (rows/files/costs) | paid calls repeated after the kill",
  );
  for (const r of results) {
    const rate = r.completed / r.minutes;
    console.log(
      `  ${String(r.replicas).padStart(8)} | ${`${r.completed}/${r.generations}`.padStart(11)} | ${
        r.minutes.toFixed(2).padStart(7)
      } | ${rate.toFixed(1).padStart(15)} | ${(rate / r.replicas).toFixed(1).padStart(11)} | ${
        (baseRate ? `${(rate / (baseRate * r.replicas) * 100).toFixed(0)}%` : "-").padStart(10)
      } | ${r.killed.padEnd(11)} | ${
        `${r.duplicateRows}/${r.duplicateFiles}/${r.duplicateCosts}`.padStart(29)
      } | ${r.repeatedAfterKill}${r.repeatedOther ? ` (+${r.repeatedOther} without a kill)` : ""}`,
    );
  }
  for (const r of results) {
    r.notes.push(
      `replicas used ${r.cpu.toFixed(0)} CPU s (ffmpeg included) in ${r.wall.toFixed(0)} s: ${
        (r.cpu / r.wall).toFixed(2)
      } of the ${navigator.hardwareConcurrency} cores`,
    );
    if (r.costMismatches) {
      r.notes.push(`${r.costMismatches} generation(s) whose total_cost_usd is not the sum of usage_logs`);
    }
    for (const note of r.notes) console.log(`  ${r.replicas} replica(s): ${note}`);
  }
  console.log(
    "  efficiency: generations/min over (1-replica rate x replicas); 2 cores shared with other work, so figures are noisy",
  );
  const failed = results.filter((r) =>
    r.completed < r.generations || r.duplicateRows || r.duplicateFiles || r.duplicateCosts ||
    r.costMismatches ||
    r.repeatedOther
  );
  if (failed.length) {
    console.log(
      `  FAILED: ${failed.map((r) => `${r.replicas} replica(s)`).join(", ")} (see the notes above)`,
    );
    Deno.exitCode = 1;
  }
} finally {
  await providers.close();
  await api.close();
  await sql.end({ timeout: 5 });
  await Deno.remove(workDir, { recursive: true }).catch(() => {});
}
