/**
 * Where each function runs in production: a hosted Edge Function (256 MB, 2 s of CPU a request,
 * 150/400 s wall clock, no subprocess) or the worker service (a long-running container process
 * reading pgmq directly, scaled by KEDA). The runner, the worker service, the Edge harness, the
 * deploy script and the Kubernetes manifests all read this one table.
 */

export type Home = "edge" | "worker";

export interface Placement {
  /** The function's name: its folder under supabase/functions (Edge) or its worker service name. */
  name: string;
  home: Home;
  /** The pgmq queue it consumes; none for an HTTP function. */
  queue?: string;
  /** The worker service's group (one Kubernetes Deployment each) for what runs there. */
  group?: WorkerGroup;
  /**
   * Edge-placed stages whose offline provider needs a tool (ffmpeg, espeak-ng): the keys of the
   * hosted provider that lets them run on Edge. Without them (local development), the worker
   * service runs the stage with the offline provider, in `fallbackGroup`.
   */
  hostedKeys?: string[];
  fallbackGroup?: WorkerGroup;
  /** Why it lives there (measured figures are in docs/deploying.md). */
  why: string;
}

export type WorkerGroup = "media" | "books";

export const WORKER_GROUPS: Record<WorkerGroup, string> = {
  media: "audio, video, lipsync, merge and audiobooks: ffmpeg and espeak-ng, minutes of media work",
  books: "ingestion and embedding: a large book's extraction passes 2 s of CPU, index builds take minutes",
};

export const PLACEMENTS: readonly Placement[] = [
  { name: "health", home: "edge", why: "a few queries" },
  { name: "search", home: "edge", why: "one embedding call and one query" },
  { name: "billing-checkout", home: "edge", why: "one Stripe call" },
  { name: "billing-portal", home: "edge", why: "one Stripe call" },
  { name: "stripe-webhook", home: "edge", why: "a signature check and one transaction" },
  { name: "generate-script", home: "edge", why: "one language-model call" },
  { name: "plot", home: "edge", queue: "plot", why: "one language-model call a book" },
  { name: "mint", home: "edge", queue: "mint", why: "one signed transaction a badge" },
  {
    name: "delete-account",
    home: "edge",
    queue: "delete_account",
    why: "Storage and Auth API calls, a thousand files a round",
  },
  { name: "pipeline-script", home: "edge", queue: "script", why: "one language-model call a generation" },
  {
    name: "pipeline-images",
    home: "edge",
    queue: "images",
    hostedKeys: ["MODELSLAB_API_KEY"],
    fallbackGroup: "media",
    why: "one image-model call a scene; the offline renderer needs ffmpeg",
  },
  { name: "ingest", home: "worker", queue: "ingest", group: "books", why: "CPU of the largest books" },
  {
    name: "embed",
    home: "worker",
    queue: "embed",
    group: "books",
    why: "a library's search index builds for minutes, past Edge's wall clock",
  },
  { name: "pipeline-audio", home: "worker", queue: "audio", group: "media", why: "ffmpeg joins the lines" },
  { name: "pipeline-video", home: "worker", queue: "video", group: "media", why: "ffmpeg encodes the clips" },
  {
    name: "pipeline-lipsync",
    home: "worker",
    queue: "lipsync",
    group: "media",
    why: "ffmpeg re-encodes the synced clips",
  },
  { name: "pipeline-merge", home: "worker", queue: "merge", group: "media", why: "ffmpeg joins the video" },
  {
    name: "audiobook-export",
    home: "worker",
    queue: "audiobook_export",
    group: "media",
    why: "ffmpeg encodes a book's narration; espeak-ng speaks it offline",
  },
];

type Env = Pick<typeof Deno.env, "get">;

/** Where a function runs under this configuration: Edge, or the worker service's group. */
export function effectiveHome(
  placement: Placement,
  env: Env = Deno.env,
): { home: Home; group?: WorkerGroup } {
  if (placement.home === "worker") return { home: "worker", group: placement.group };
  const missing = (placement.hostedKeys ?? []).some((key) => !env.get(key)?.trim());
  if (missing && placement.fallbackGroup) return { home: "worker", group: placement.fallbackGroup };
  return { home: "edge" };
}

/** The functions the worker service runs for these groups under this configuration. */
export function workerFunctions(groups: readonly WorkerGroup[], env: Env = Deno.env): Placement[] {
  return PLACEMENTS.filter((p) => {
    const where = effectiveHome(p, env);
    return where.home === "worker" && where.group !== undefined && groups.includes(where.group);
  });
}

/** The functions served as Edge Functions under this configuration. */
export function edgeFunctions(env: Env = Deno.env): Placement[] {
  return PLACEMENTS.filter((p) => effectiveHome(p, env).home === "edge");
}

/** The placement of a function or queue name; a clear error for an unknown one. */
export function placementOf(nameOrQueue: string): Placement {
  const found = PLACEMENTS.find((p) => p.name === nameOrQueue || p.queue === nameOrQueue);
  if (!found) {
    const known = PLACEMENTS.filter((p) => p.queue).map((p) => p.queue).join(", ");
    throw new Error(`no function or queue named "${nameOrQueue}" (queues: ${known})`);
  }
  return found;
}
