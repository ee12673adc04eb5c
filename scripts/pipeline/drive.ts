/** Runs the stage workers in this process until a generation finishes: for tests, the demo and benchmarks. */
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import type { StageDeps } from "../../supabase/functions/_shared/pipeline/deps.ts";
import {
  type PipelineStep,
  runWorker,
  type StepHandler,
  type WorkerSummary,
} from "../../supabase/functions/_shared/pipeline/worker.ts";
import { scriptStage } from "../../supabase/functions/pipeline-script/stage.ts";
import { imagesStage } from "../../supabase/functions/pipeline-images/stage.ts";
import { audioStage } from "../../worker/pipeline-audio/stage.ts";
import { videoStage } from "../../worker/pipeline-video/stage.ts";
import { lipsyncStage } from "../../worker/pipeline-lipsync/stage.ts";
import { mergeStage } from "../../worker/pipeline-merge/stage.ts";

/** The stages in order, from private.pipeline_stages. */
export async function stageOrder(sql: Sql): Promise<PipelineStep[]> {
  const rows = await sql<
    { step: PipelineStep }[]
  >`select step from private.pipeline_stages order by position`;
  return rows.map((r) => r.step);
}

export function stageHandlers(deps: StageDeps): Record<PipelineStep, StepHandler> {
  return {
    script: scriptStage(deps),
    images: imagesStage(deps),
    audio: audioStage(deps),
    video: videoStage(deps),
    lipsync: lipsyncStage(deps),
    merge: mergeStage(deps),
  };
}

export interface DriveOptions {
  handlers: Record<PipelineStep, StepHandler>;
  timeoutMs?: number;
  /** Called after every worker pass, e.g. to draw progress. */
  onPass?: (step: PipelineStep, summary: WorkerSummary) => Promise<void> | void;
  maxAttempts?: number;
  baseBackoffSeconds?: number;
  leaseSeconds?: number;
}

/** Polls every stage's queue in order until the generation is completed, failed or canceled. */
export async function drivePipeline(sql: Sql, generationId: string, options: DriveOptions): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  const steps = await stageOrder(sql);
  while (Date.now() < deadline) {
    for (const step of steps) {
      const summary = await runWorker(sql, {
        step,
        handler: options.handlers[step],
        concurrency: 2,
        leaseSeconds: options.leaseSeconds,
        maxAttempts: options.maxAttempts,
        baseBackoffSeconds: options.baseBackoffSeconds,
      });
      await options.onPass?.(step, summary);
    }
    const [row] = await sql<
      { status: string }[]
    >`select status from public.video_generations where id = ${generationId}`;
    if (!row) throw new Error(`generation ${generationId} disappeared`);
    if (["completed", "failed", "canceled"].includes(row.status)) return row.status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`generation ${generationId} did not finish within ${options.timeoutMs ?? 300_000} ms`);
}
