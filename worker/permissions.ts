/** How the worker service's process is started: its Deno permissions, the tools it may run and nothing else. */

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
  return ["run", ...WORKER_PERMISSIONS, entry, ...args];
}
