/**
 * Paid work outside a video's units: its calls reserved before they are made (private.reserve_cost,
 * refused past the user's period budget), and their usage recorded through private.record_usage
 * inside the caller's transaction, which settles the reservation.
 */
import type { Json, Sql } from "./db.ts";
import { wasUnbilled } from "./errors.ts";
import type { UsageCall } from "./pipeline/worker.ts";

/** The most a piece of work may use, priced at `model`: {input_tokens, output_tokens, images, characters, seconds}. */
export interface Reservation {
  key: string;
  userId: string;
  model: string;
  quantity: Record<string, number>;
}

/** Runs `call` once its cost is reserved. A call that fails releases the reservation only when the
 * provider refused it (nothing was billed); otherwise it stays counted, abandoned. */
export async function reservedCall<T>(
  sql: Sql,
  reservation: Reservation,
  call: () => Promise<T>,
): Promise<T> {
  const { key, userId, model, quantity } = reservation;
  await sql`select private.reserve_cost(${key}, ${userId}, ${model}, ${sql.json(quantity as Json)})`;
  try {
    return await call();
  } catch (error) {
    await sql`select private.fail_cost(${key}, ${wasUnbilled(error)})`;
    throw error;
  }
}

/** Sums calls per model and records one usage_logs row per model under `keyPrefix:model` (naming the
 * job row they paid for, when there is one); the reservation keyed `keyPrefix` is settled. */
export async function recordUsage(
  tx: Sql,
  userId: string,
  keyPrefix: string,
  calls: UsageCall[],
  durationMs: number,
  jobId: string | null = null,
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
    }, p_job_id => ${jobId})`;
  }
  await tx`select private.settle_cost(${keyPrefix})`;
}
