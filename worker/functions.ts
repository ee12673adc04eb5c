/**
 * Every queue worker the worker service can run, by function name: the same handlers and consumer
 * loop an Edge invocation runs, with every provider (offline ones included: they need the tools only
 * this service has). Which of them a deployment runs is the placement table's to say. Each function's
 * code is imported when it first runs, so a process loads only its own group's (the books group's
 * memory budget has no room for the media stages' and the chain clients' modules).
 */
import type { Sql } from "../supabase/functions/_shared/db.ts";
import type { StageDeps } from "../supabase/functions/_shared/pipeline/deps.ts";
import type { PipelineStep, StepHandler } from "../supabase/functions/_shared/pipeline/worker.ts";
import type { ConsumerSummary } from "../supabase/functions/_shared/queue.ts";
import type { WorkerRun } from "../supabase/functions/_shared/serve_worker.ts";

export type WorkerFunction = (sql: Sql, run: WorkerRun) => Promise<ConsumerSummary>;

let deps: Promise<StageDeps> | undefined;

/** Storage and every provider, chosen from the configuration once per process. */
export function serviceDeps(): Promise<StageDeps> {
  deps ??= (async () => {
    const [{ configuredStorage }, { selectProviders }, { config }] = await Promise.all([
      import("../supabase/functions/_shared/pipeline/deps.ts"),
      import("../supabase/functions/_shared/providers/select.ts"),
      import("../supabase/functions/_shared/env.ts"),
    ]);
    return { storage: configuredStorage(), providers: selectProviders(config()) };
  })();
  return deps;
}

function stage(step: PipelineStep, load: () => Promise<(deps: StageDeps) => StepHandler>): WorkerFunction {
  return async (sql, run) => {
    const [{ runWorker }, handler, stageDeps] = await Promise.all([
      import("../supabase/functions/_shared/pipeline/worker.ts"),
      load(),
      serviceDeps(),
    ]);
    return runWorker(sql, { step, handler: handler(stageDeps), ...run });
  };
}

const storage = async () =>
  (await import("../supabase/functions/_shared/pipeline/deps.ts")).configuredStorage();
const content = async () =>
  (await import("../supabase/functions/_shared/providers/content.ts")).contentProviders();

export const WORKER_FUNCTIONS: Record<string, WorkerFunction> = {
  "ingest": async (sql, run) => {
    const { runIngest } = await import("./ingest/ingest.ts");
    return runIngest({ sql, storage: await storage(), content: await content() }, run);
  },
  "embed": async (sql, run) => {
    const { runEmbed } = await import("./embed/embed.ts");
    return runEmbed(sql, (await content()).embedder, run);
  },
  "plot": async (sql, run) => {
    const { runPlot } = await import("../supabase/functions/plot/plot.ts");
    return runPlot(sql, await content(), run);
  },
  "mint": async (sql, run) => {
    const [{ runMint }, { mintersFromEnv }] = await Promise.all([
      import("../supabase/functions/mint/mint.ts"),
      import("../supabase/functions/_shared/nft/chains.ts"),
    ]);
    return runMint({ sql, storage: await storage(), minters: mintersFromEnv() }, run);
  },
  "pipeline-script": stage(
    "script",
    async () => (await import("../supabase/functions/pipeline-script/stage.ts")).scriptStage,
  ),
  "pipeline-images": stage(
    "images",
    async () => (await import("../supabase/functions/pipeline-images/stage.ts")).imagesStage,
  ),
  "pipeline-audio": stage("audio", async () => (await import("./pipeline-audio/stage.ts")).audioStage),
  "pipeline-video": stage("video", async () => (await import("./pipeline-video/stage.ts")).videoStage),
  "pipeline-lipsync": stage(
    "lipsync",
    async () => (await import("./pipeline-lipsync/stage.ts")).lipsyncStage,
  ),
  "pipeline-merge": stage("merge", async () => (await import("./pipeline-merge/stage.ts")).mergeStage),
  "delete-account": async (sql, run) => {
    const [{ runAccountDeletions }, { configuredAuthAdmin }] = await Promise.all([
      import("../supabase/functions/delete-account/delete.ts"),
      import("../supabase/functions/_shared/auth_admin.ts"),
    ]);
    return runAccountDeletions({ sql, storage: await storage(), auth: await configuredAuthAdmin() }, run);
  },
  "audiobook-export": async (sql, run) => {
    const { runAudiobookExport } = await import("./audiobook-export/export.ts");
    return runAudiobookExport({ sql, ...(await serviceDeps()) }, run);
  },
};
