/** Usage of one piece of work, recorded through private.record_usage inside the caller's transaction. */
import type { Sql } from "./db.ts";
import type { UsageCall } from "./pipeline/worker.ts";

/** Sums calls per model and records one usage_logs row per model under `keyPrefix:model`. */
export async function recordUsage(
  tx: Sql,
  userId: string,
  keyPrefix: string,
  calls: UsageCall[],
  durationMs: number,
): Promise<void> {
  const byModel = new Map<string, UsageCall>();
  for (const call of calls) {
    const sum = byModel.get(call.model) ??
      { model: call.model, operation: call.operation, input_tokens: 0, output_tokens: 0, units: 0 };
    sum.input_tokens! += call.input_tokens ?? 0;
    sum.output_tokens! += call.output_tokens ?? 0;
    sum.units! += call.units ?? 0;
    byModel.set(call.model, sum);
  }
  for (const sum of byModel.values()) {
    await tx`select private.record_usage(${userId}, null, ${sum.model}, ${sum.operation ?? "text"},
      ${`${keyPrefix}:${sum.model}`}, ${sum.input_tokens!}, ${sum.output_tokens!}, ${sum.units!}, ${
      Math.round(durationMs)
    })`;
  }
}
