/**
 * The worker service's functions measured as it runs them: CPU (its process and the tools it ran:
 * ffmpeg, espeak-ng), peak resident memory and wall time per unit of work on large inputs. These are
 * the figures that place them off Edge (256 MB, 2 s of CPU a request, no subprocess). Not a test.
 * 1. ingest + embed (the books group): the corpus's largest PDF and a plain-text book at the 50 MiB
 *    upload limit, each from process_book to every chapter embedded.
 * 2. The media group (with the script and images stages, as local development runs them): one video
 *    of the sample chapter, per stage from pipeline_metadata, the process's CPU for all of it.
 */
import { createSql, type Sql } from "../../supabase/functions/_shared/db.ts";
import { DEFAULT_LIMITS } from "../../supabase/functions/_shared/books/extract.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import {
  asUser,
  createTestBook,
  createTestUser,
  deleteTestUser,
  SAMPLE_CHAPTER,
} from "../../supabase/functions/_shared/testing.ts";
import { freePort, processCpuMs, processPeakRssMb } from "../edge/harness.ts";
import { waitFor, waitUntilReady } from "../functions/runner_testing.ts";
import { workerServiceArgs } from "../../worker/permissions.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

interface WorkerProcess {
  pid: number;
  stop(): Promise<void>;
}

async function startWorkerService(args: string[], storageDir: string): Promise<WorkerProcess> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: workerServiceArgs(args),
    env: {
      SUPABASE_DB_URL: dbUrl,
      SUPABASE_URL: "http://127.0.0.1:54321",
      LOCAL_STORAGE_DIR: storageDir,
      WORKER_HEALTH_PORT: String(port),
      WORKER_HEALTH_HOST: "127.0.0.1",
      WORKER_POLL_SECONDS: "1",
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitUntilReady(port);
  return {
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

interface Row {
  what: string;
  input: string;
  cpuMs: number;
  peakMb: number;
  wallSeconds: number;
}

async function measure(worker: WorkerProcess, what: string, input: string, work: () => Promise<void>) {
  const cpu = processCpuMs(worker.pid, { tools: true });
  const started = performance.now();
  await work();
  return {
    what,
    input,
    cpuMs: processCpuMs(worker.pid, { tools: true }) - cpu,
    peakMb: processPeakRssMb(worker.pid),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** Uploads a book as its owner, asks for it to be read, and waits until every chapter is embedded. */
async function ingestBook(sql: Sql, storage: LocalStorage, userId: string, name: string, bytes: Uint8Array) {
  const path = `${userId}/${crypto.randomUUID()}/${name}`;
  await storage.put("books", path, bytes, "application/octet-stream");
  const bookId = await asUser(sql, userId, async (tx) => {
    const [{ id }] = await tx<{ id: string }[]>`
      insert into public.books (title, file_url, source_file_size, book_type)
      values (${name}, ${path}, ${bytes.length}, 'learning') returning id`;
    await tx`select public.process_book(${id})`;
    return id;
  });
  await waitFor(`${name} to be read and embedded`, 900_000, async () => {
    const [b] = await sql<{ status: string; error_message: string | null; pending: number }[]>`
      select b.status, b.metadata -> 'error' ->> 'message' as error_message,
             (select count(*)::int from public.chapters c where c.book_id = b.id
              and not exists (select 1 from public.chapter_embeddings e where e.chapter_id = c.id)) as pending
      from public.books b where b.id = ${bookId}`;
    if (b.status === "failed") throw new Error(`${name} failed: ${b.error_message}`);
    return b.status === "ready" && b.pending === 0 ? true : undefined;
  });
}

/** A plain-text book at the upload limit: about 940 chapters (the limit is 1,000) of generated prose. */
function largestTextBook(): Uint8Array {
  const words = "the harbour keeper watched the grey ships come in while the gulls argued over the nets"
    .split(" ");
  const parts: string[] = [];
  let size = 0;
  let chapter = 0;
  while (size < DEFAULT_LIMITS.maxFileBytes - 64 * 1024) {
    const body = Array.from({ length: 10_000 }, (_, i) => words[(i * 7 + chapter) % words.length]).join(" ");
    const text = `Chapter ${++chapter}\n\n${body}.\n\n`;
    parts.push(text);
    size += text.length;
  }
  return new TextEncoder().encode(parts.join(""));
}

async function main() {
  const sql = createSql(dbUrl, { max: 4 });
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-bench-worker-" });
  const storage = new LocalStorage(sql, storageDir, "http://127.0.0.1:54321");
  const userId = await createTestUser(sql, "bench-worker");
  const rows: Row[] = [];
  try {
    const books = await startWorkerService(["--group", "books"], storageDir);
    try {
      const pdf = "debian-reference.dblatex.pdf";
      const corpus = new URL("../../supabase/functions/_shared/books/corpus/files/", import.meta.url);
      const pdfBytes = await Deno.readFile(new URL(pdf, corpus));
      rows.push(
        await measure(
          books,
          "ingest + embed",
          `${pdf} (${(pdfBytes.length / 1e6).toFixed(1)} MB)`,
          () => ingestBook(sql, storage, userId, pdf, pdfBytes),
        ),
      );
      const txt = largestTextBook();
      rows.push(
        await measure(
          books,
          "ingest + embed",
          `plain text at the upload limit (${(txt.length / 2 ** 20).toFixed(0)} MiB)`,
          () => ingestBook(sql, storage, userId, "largest.txt", txt),
        ),
      );
    } finally {
      await books.stop();
    }

    const media = await startWorkerService(["--group", "media", "script", "images"], storageDir);
    try {
      const { chapterIds } = await createTestBook(sql, userId, [{
        title: "The Harbour",
        content: SAMPLE_CHAPTER,
      }]);
      let generationId = "";
      rows.push(
        await measure(media, "script to merge", "the sample chapter, free tier (854x480)", async () => {
          generationId = await asUser(sql, userId, async (tx) => {
            const [{ id }] = await tx`select public.start_video_generation(${chapterIds[0]}) as id`;
            return id as string;
          });
          await waitFor("the video", 900_000, async () => {
            const [g] =
              await sql`select status, error_message from public.video_generations where id = ${generationId}`;
            if (g.status === "failed") throw new Error(`the generation failed: ${g.error_message}`);
            return g.status === "completed" ? true : undefined;
          });
        }),
      );
      const [g] = await sql<
        { stages: Record<string, { started_at: string; completed_at: string }>; scenes: number }[]
      >`
        select pipeline_metadata -> 'stages' as stages, total_scenes as scenes
        from public.video_generations where id = ${generationId}`;
      console.log(`  stage wall times for ${g.scenes} scenes:`);
      for (const [step, s] of Object.entries(g.stages)) {
        const seconds = (Date.parse(s.completed_at) - Date.parse(s.started_at)) / 1000;
        console.log(`    ${step.padEnd(8)} ${seconds.toFixed(2)} s`);
      }
    } finally {
      await media.stop();
    }
  } finally {
    await deleteTestUser(sql, userId);
    await Deno.remove(storageDir, { recursive: true });
    await sql.end();
  }
  console.log("\n  | worker function | input | CPU s (process + tools) | peak RSS MB | wall s |");
  console.log("  | --- | --- | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `  | ${r.what} | ${r.input} | ${(r.cpuMs / 1000).toFixed(2)} | ${r.peakMb.toFixed(0)} | ${
        r.wallSeconds.toFixed(1)
      } |`,
    );
  }
}

await main();
