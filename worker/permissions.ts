/**
 * How the worker service's process is started: its Deno permissions, the tools it may run and nothing
 * else; and for a process of the books group alone, the V8 heap settings of its memory budget.
 */
import { BOOKS_WORKER } from "../supabase/functions/_shared/books/limits.ts";

export const WORKER_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-run=ffmpeg,ffprobe,espeak-ng",
  "--allow-sys",
];

const entry = new URL("./main.ts", import.meta.url).pathname;

/** `deno` arguments that run the worker service with `args` (groups, queues). */
export function workerServiceArgs(args: string[] = []): string[] {
  const booksAlone = args.join(" ") === "--group books" || args.join(" ") === "--group=books";
  const v8 = booksAlone ? [`--v8-flags=${BOOKS_WORKER.v8Flags}`] : [];
  return ["run", ...v8, ...WORKER_PERMISSIONS, entry, ...args];
}
