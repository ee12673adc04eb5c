/** Runs the stage workers in this process until a generation finishes: for tests, the demo and benchmarks. */
import type { Sql } from "../db.ts";
import type { StageDeps } from "./deps.ts";
import { type PipelineStep, runWorker, type StepHandler, type WorkerSummary } from "./worker.ts";
import { scriptStage } from "../../pipeline-script/stage.ts";
import { imagesStage } from "../../pipeline-images/stage.ts";
import { audioStage } from "../../pipeline-audio/stage.ts";
import { videoStage } from "../../pipeline-video/stage.ts";
import { lipsyncStage } from "../../pipeline-lipsync/stage.ts";
import { mergeStage } from "../../pipeline-merge/stage.ts";

export const STEPS: PipelineStep[] = ["script", "images", "audio", "video", "lipsync", "merge"];

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

/** Polls every stage's queue in order until the generation is completed, failed or cancelled. */
export async function drivePipeline(sql: Sql, generationId: string, options: DriveOptions): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  while (Date.now() < deadline) {
    for (const step of STEPS) {
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
    if (["completed", "failed", "cancelled"].includes(row.status)) return row.status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`generation ${generationId} did not finish within ${options.timeoutMs ?? 300_000} ms`);
}
