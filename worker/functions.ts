/**
 * Every queue worker the worker service can run, by function name: the same handlers and consumer
 * loop an Edge invocation runs, with every provider (offline ones included: they need the tools only
 * this service has). Which of them a deployment runs is the placement table's to say.
 */
import { configuredAuthAdmin } from "../supabase/functions/_shared/auth_admin.ts";
import type { Sql } from "../supabase/functions/_shared/db.ts";
import { config } from "../supabase/functions/_shared/env.ts";
import { mintersFromEnv } from "../supabase/functions/_shared/nft/chains.ts";
import { configuredStorage, type StageDeps } from "../supabase/functions/_shared/pipeline/deps.ts";
import { type PipelineStep, runWorker } from "../supabase/functions/_shared/pipeline/worker.ts";
import { contentProviders } from "../supabase/functions/_shared/providers/content.ts";
import { selectProviders } from "../supabase/functions/_shared/providers/select.ts";
import type { ConsumerSummary } from "../supabase/functions/_shared/queue.ts";
import type { WorkerRun } from "../supabase/functions/_shared/serve_worker.ts";
import { runAccountDeletions } from "../supabase/functions/delete-account/delete.ts";
import { runMint } from "../supabase/functions/mint/mint.ts";
import { imagesStage } from "../supabase/functions/pipeline-images/stage.ts";
import { scriptStage } from "../supabase/functions/pipeline-script/stage.ts";
import { runPlot } from "../supabase/functions/plot/plot.ts";
import { runAudiobookExport } from "./audiobook-export/export.ts";
import { runEmbed } from "./embed/embed.ts";
import { runIngest } from "./ingest/ingest.ts";
import { audioStage } from "./pipeline-audio/stage.ts";
import { lipsyncStage } from "./pipeline-lipsync/stage.ts";
import { mergeStage } from "./pipeline-merge/stage.ts";
import { videoStage } from "./pipeline-video/stage.ts";

export type WorkerFunction = (sql: Sql, run: WorkerRun) => Promise<ConsumerSummary>;

let deps: StageDeps | undefined;

/** Storage and every provider, chosen from the configuration once per process. */
export function serviceDeps(): StageDeps {
  deps ??= { storage: configuredStorage(), providers: selectProviders(config()) };
  return deps;
}

function stage(
  step: PipelineStep,
  handler: (deps: StageDeps) => ReturnType<typeof scriptStage>,
): WorkerFunction {
  return (sql, run) => runWorker(sql, { step, handler: handler(serviceDeps()), ...run });
}

export const WORKER_FUNCTIONS: Record<string, WorkerFunction> = {
  "ingest": (sql, run) => runIngest({ sql, storage: configuredStorage(), content: contentProviders() }, run),
  "embed": (sql, run) => runEmbed(sql, contentProviders().embedder, run),
  "plot": (sql, run) => runPlot(sql, contentProviders(), run),
  "mint": (sql, run) => runMint({ sql, storage: configuredStorage(), minters: mintersFromEnv() }, run),
  "delete-account": async (sql, run) =>
    await runAccountDeletions({ sql, storage: configuredStorage(), auth: await configuredAuthAdmin() }, run),
  "pipeline-script": stage("script", scriptStage),
  "pipeline-images": stage("images", imagesStage),
  "pipeline-audio": stage("audio", audioStage),
  "pipeline-video": stage("video", videoStage),
  "pipeline-lipsync": stage("lipsync", lipsyncStage),
  "pipeline-merge": stage("merge", mergeStage),
  "audiobook-export": (sql, run) => runAudiobookExport({ sql, ...serviceDeps() }, run),
};
