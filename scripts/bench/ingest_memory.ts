/**
 * Ingest memory (figures, not a test): the books group of the worker service reading hostile and
 * maximal uploads, each in a process of its own started for it, from process_book until the book
 * has failed or every chapter is embedded. Peak RSS is the whole process's (VmHWM), against the
 * budget in limits.ts (BOOKS_WORKER.memoryBudgetMb); CPU and wall time are per upload.
 * `npm run bench -- ingest_memory`.
 */
import { createSql } from "../../supabase/functions/_shared/db.ts";
import { BOOKS_WORKER, DEFAULT_LIMITS } from "../../supabase/functions/_shared/books/limits.ts";
import { LocalStorage } from "../../supabase/functions/_shared/storage.ts";
import { createTestUser, deleteTestUser } from "../../supabase/functions/_shared/testing.ts";
import { chaptersAtTextLimit, prose } from "../../supabase/functions/_shared/books/test_fixtures.ts";
import { hostileUploads, largestTextBook, largestUploads, uploadLimitText } from "./lib/books.ts";
import { benchDbUrl, bookOutcome, measure, startWorkerService, uploadBook } from "./lib/worker_service.ts";

const MB = 1e6;

/** One heading over a whole book at the text limit (it becomes chapters of at most 512 Ki characters). */
function oneHeadingBook(): Uint8Array {
  const words = chaptersAtTextLimit().reduce((n, c) => n + c.paragraphs.join(" ").split(" ").length, 0);
  return new TextEncoder().encode(`# The Only Heading\n\n${prose(words)}`);
}

async function main() {
  const sql = createSql(benchDbUrl, { max: 4 });
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-bench-ingest-memory-" });
  const storage = new LocalStorage(sql, storageDir, "http://127.0.0.1:54321");
  const userId = await createTestUser(sql, "bench-ingest-memory");
  // One user uploads every case: more than the hourly process_book limit allows.
  await sql`update private.rate_limits set max_calls = 1000 where action = 'process_book'`;
  const corpus = new URL("../../supabase/functions/_shared/books/corpus/files/", import.meta.url);
  const uploads: [string, Uint8Array][][] = [
    ...(await hostileUploads()).map((u) => [u]),
    [["upload-limit.txt", uploadLimitText()]],
    [["text-limit.txt", largestTextBook()]],
    [["one-heading.md", oneHeadingBook()]],
    [["debian-reference.dblatex.pdf", await Deno.readFile(new URL("debian-reference.dblatex.pdf", corpus))]],
    ...largestUploads().map((u) => [u]),
    largestUploads(), // both at once: read one after the other while the first one's chapters are embedded
  ];
  const rows: string[] = [];
  let highest = 0;
  try {
    for (const books of uploads) {
      const label = books.map(([name]) => name).join(" + ");
      const size = books.map(([, bytes]) => `${(bytes.length / MB).toFixed(bytes.length < MB ? 3 : 1)} MB`)
        .join(" + ");
      console.log(`  ${label} (${size})`);
      const worker = await startWorkerService(["--group", "books"], storageDir);
      try {
        const { result, cpuMs, peakMb, wallSeconds } = await measure(worker, async () => {
          const ids = [];
          for (const [name, bytes] of books) ids.push(await uploadBook(sql, storage, userId, name, bytes));
          return await Promise.all(ids.map((id) => bookOutcome(sql, id)));
        });
        highest = Math.max(highest, peakMb);
        const outcome = result.map((r) => r.length > 90 ? `${r.slice(0, 90)}...` : r).join("; ");
        rows.push(
          `  | ${label} | ${size} | ${outcome} | ${peakMb.toFixed(0)} | ${(cpuMs / 1000).toFixed(2)} | ${
            wallSeconds.toFixed(1)
          } |`,
        );
      } finally {
        await worker.stop();
      }
    }
  } finally {
    await sql`update private.rate_limits set max_calls = 20 where action = 'process_book'`;
    await deleteTestUser(sql, userId);
    await Deno.remove(storageDir, { recursive: true });
    await sql.end();
  }
  console.log(
    `\n  The books worker, one process per row (limits: upload ${
      DEFAULT_LIMITS.maxFileBytes / 2 ** 20
    } MiB, ` +
      `text ${DEFAULT_LIMITS.maxTextChars.toLocaleString("en")} characters, V8 ${BOOKS_WORKER.v8Flags})`,
  );
  console.log("  | upload | size | outcome | peak RSS MB | CPU s | wall s |");
  console.log("  | --- | --- | --- | ---: | ---: | ---: |");
  for (const row of rows) console.log(row);
  console.log(
    `\n  highest peak ${highest.toFixed(0)} MB: ${
      highest < BOOKS_WORKER.memoryBudgetMb ? "within" : "OVER"
    } the budget of ${BOOKS_WORKER.memoryBudgetMb} MB`,
  );
}

await main();
