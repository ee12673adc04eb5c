/**
 * The worker service as the benchmarks run it: a process of its own (the books group with the V8
 * settings of its budget), measured from /proc (CPU with the tools it waited for, peak resident
 * memory of the whole process), and books uploaded and asked for as a user would.
 */
import type { Sql } from "../../../supabase/functions/_shared/db.ts";
import type { LocalStorage } from "../../../supabase/functions/_shared/storage.ts";
import { asUser } from "../../../supabase/functions/_shared/testing.ts";
import { freePort, processCpuMs, processPeakRssMb } from "../../edge/harness.ts";
import { waitFor, waitUntilReady } from "../../functions/runner_testing.ts";
import { workerServiceArgs } from "../../../worker/permissions.ts";

export const benchDbUrl = Deno.env.get("SUPABASE_DB_URL") ??
  "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

export interface WorkerProcess {
  pid: number;
  stop(): Promise<void>;
}

export async function startWorkerService(args: string[], storageDir: string): Promise<WorkerProcess> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: workerServiceArgs(args),
    env: {
      SUPABASE_DB_URL: benchDbUrl,
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

export interface Measured<T> {
  result: T;
  cpuMs: number;
  /** The process's peak resident memory since it started (VmHWM), in MB. */
  peakMb: number;
  wallSeconds: number;
}

export async function measure<T>(worker: WorkerProcess, work: () => Promise<T>): Promise<Measured<T>> {
  const cpu = processCpuMs(worker.pid, { tools: true });
  const started = performance.now();
  const result = await work();
  return {
    result,
    cpuMs: processCpuMs(worker.pid, { tools: true }) - cpu,
    peakMb: processPeakRssMb(worker.pid),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** Uploads a book as its owner and asks for it to be read; returns its id. */
export async function uploadBook(
  sql: Sql,
  storage: LocalStorage,
  userId: string,
  name: string,
  bytes: Uint8Array,
): Promise<string> {
  const path = `${userId}/${crypto.randomUUID()}/${name}`;
  await storage.put("books", path, bytes, "application/octet-stream");
  return await asUser(sql, userId, async (tx) => {
    const [{ id }] = await tx<{ id: string }[]>`
      insert into public.books (title, file_url, source_file_size, book_type)
      values (${name}, ${path}, ${bytes.length}, 'learning') returning id`;
    await tx`select public.process_book(${id})`;
    return id;
  });
}

/** Waits until a book is ready with every chapter embedded ("ready"), or has failed ("failed: why"). */
export async function bookOutcome(sql: Sql, bookId: string): Promise<string> {
  return await waitFor(`book ${bookId} to be read and embedded`, 900_000, async () => {
    const [b] = await sql<{ status: string; error_message: string | null; pending: number }[]>`
      select b.status, b.metadata -> 'error' ->> 'message' as error_message,
             (select count(*)::int from public.chapters c where c.book_id = b.id
              and not exists (select 1 from public.chapter_embeddings e where e.chapter_id = c.id)) as pending
      from public.books b where b.id = ${bookId}`;
    if (b.status === "failed") return `failed: ${b.error_message}`;
    return b.status === "ready" && b.pending === 0 ? "ready" : undefined;
  });
}
