/**
 * How an Edge-placed function's process is started locally, as Edge Runtime would run it: no
 * subprocess permission and a 256 MB heap. The runner and the Edge constraints harness both use it.
 */

/** Edge Runtime's permissions: network, environment, reading, system info; never --allow-run. */
export const EDGE_PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-sys", "--no-prompt"];

/** Hosted Edge Functions' memory per request, as the V8 heap cap. */
export const EDGE_HEAP_MB = 256;

/** `deno` arguments that run `entry` (an index.ts) with Edge's limits, writing only under `writable`. */
export function edgeFunctionArgs(entry: string, writable: string[]): string[] {
  return [
    "run",
    ...EDGE_PERMISSIONS,
    `--allow-write=${writable.join(",")}`,
    `--v8-flags=--max-old-space-size=${EDGE_HEAP_MB}`,
    entry,
  ];
}
