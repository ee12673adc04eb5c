/**
 * The worker service's functions measured as it runs them: CPU (its process and the tools it ran:
 * ffmpeg, espeak-ng), peak resident memory and wall time per unit of work on large inputs. These are
 * the figures that place them off Edge (256 MB, 2 s of CPU a request, no subprocess). Not a test.
 * 1. ingest + embed (the books group): the corpus's largest PDF and a plain-text book at the text
 *    limit (limits.ts), each from process_book to every chapter embedded (`ingest_memory.ts` has
 *    hostile and maximal uploads, each in a process of its own).
 * 2. The media group (with the script and images stages, as local development runs them): one video
 *    of the sample chapter, per stage from pipeline_metadata, the process's CPU for all of it.
 */
import { createSql } from "../../supabase/functions/_shared/db.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import {
  asUser,
  createTestBook,
  createTestUser,
  deleteTestUser,
  SAMPLE_CHAPTER,
} from "../../supabase/functions/_shared/testing.ts";
import { waitFor } from "../functions/runner_testing.ts";
import { largestTextBook } from "./lib/books.ts";
import {
  benchDbUrl as dbUrl,
  bookOutcome,
  measure as measureUnit,
  startWorkerService,
  uploadBook,
  type WorkerProcess,
} from "./lib/worker_service.ts";

interface Row {
  what: string;
  input: string;
  cpuMs: number;
  peakMb: number;
  wallSeconds: number;
}

async function measure(worker: WorkerProcess, what: string, input: string, work: () => Promise<void>) {
  const { cpuMs, peakMb, wallSeconds } = await measureUnit(worker, work);
  return { what, input, cpuMs, peakMb, wallSeconds };
}

/** Uploads a book as its owner, asks for it to be read, and waits until every chapter is embedded. */
async function ingestBook(
  sql: ReturnType<typeof createSql>,
  storage: LocalStorage,
  userId: string,
  name: string,
  bytes: Uint8Array,
) {
  const outcome = await bookOutcome(sql, await uploadBook(sql, storage, userId, name, bytes));
  if (outcome !== "ready") throw new Error(`${name} ${outcome}`);
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
          `plain text at the text limit (${(txt.length / 2 ** 20).toFixed(1)} MiB, 400 chapters)`,
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
