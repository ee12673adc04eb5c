/**
 * The audiobook export measured as the worker service runs it: CPU (its process and the tools it ran:
 * espeak-ng, ffmpeg), peak resident memory and wall time for a book at the free quality's ceiling
 * (about 100,000 characters spoken offline), made into an M4B and an MP3. Not a test.
 */
import { createSql } from "../../supabase/functions/_shared/db.ts";
import {
  asUser,
  createTestBook,
  createTestUser,
  deleteTestUser,
} from "../../supabase/functions/_shared/testing.ts";
import { freePort, processCpuMs, processPeakRssMb } from "../edge/harness.ts";
import { waitFor, waitUntilReady } from "../functions/runner_testing.ts";
import { workerServiceArgs } from "../../worker/permissions.ts";

const dbUrl = Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

/** Chapters of varied prose, about 5,000 characters each: 19 of them and their titles stay under 100,000. */
function chapters(count: number): { title: string; content: string }[] {
  const sentences = [
    "The harbour keeper watched the grey ships come in while the gulls argued over the nets.",
    "Mara climbed the stair with the oil can and counted the steps aloud, as her father had.",
    "By noon the fog had lifted, and the whole bay shone like a plate of hammered tin.",
    "Tomas said nothing for a long time, then asked whether the letter had been answered.",
    "Nobody in the village remembered the winter the lamp went dark, but everyone told of it.",
  ];
  return Array.from({ length: count }, (_, c) => {
    const paragraphs: string[] = [];
    let size = 0;
    for (let p = 0; size < 4_900; p++) {
      const paragraph = Array.from({ length: 4 }, (_, i) => sentences[(c + p + i) % sentences.length]).join(
        " ",
      );
      paragraphs.push(paragraph);
      size += paragraph.length + 2;
    }
    return { title: `Chapter ${c + 1}`, content: paragraphs.join("\n\n") };
  });
}

async function main() {
  const sql = createSql(dbUrl, { max: 4 });
  const storageDir = await Deno.makeTempDir({ prefix: "litinkai-bench-audiobook-" });
  const userId = await createTestUser(sql, "bench-audiobook");
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: workerServiceArgs(["audiobook_export"]),
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
  const rows: string[] = [];
  try {
    await waitUntilReady(port);
    const { bookId } = await createTestBook(sql, userId, chapters(19));
    for (const format of ["m4b", "mp3"]) {
      const cpu = processCpuMs(child.pid, { tools: true });
      const started = performance.now();
      const exportId = await asUser(sql, userId, async (tx) => {
        const [{ id }] =
          await tx`select public.start_audiobook_export(${bookId}, null, ${format}, 'narration') as id`;
        return id as string;
      });
      const row = await waitFor(`the ${format} export`, 900_000, async () => {
        const [e] = await sql`select * from public.audiobook_exports where id = ${exportId}`;
        if (e.status === "failed") throw new Error(`the export failed: ${e.error_message}`);
        return e.status === "completed" ? e : undefined;
      });
      const cpuMs = processCpuMs(child.pid, { tools: true }) - cpu;
      const wall = (performance.now() - started) / 1000;
      rows.push(
        `  | audiobook-export | ${row.total_chapters} chapters, ${
          row.speech_characters.toLocaleString("en")
        } characters ` +
          `spoken offline, ${(row.duration_ms / 60_000).toFixed(0)} min, ${format.toUpperCase()} ` +
          `(${(Number(row.size_bytes) / 1e6).toFixed(1)} MB) | ${(cpuMs / 1000).toFixed(1)} | ` +
          `${processPeakRssMb(child.pid).toFixed(0)} | ${wall.toFixed(1)} |`,
      );
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await deleteTestUser(sql, userId);
    await Deno.remove(storageDir, { recursive: true });
    await sql.end();
  }
  console.log("\n  | worker function | input | CPU s (process + tools) | peak RSS MB | wall s |");
  console.log("  | --- | --- | ---: | ---: | ---: |");
  for (const row of rows) console.log(row);
}

await main();
