/**
 * The delete-account worker: for each deletion asked for (public.delete_account, or an auth user
 * deleted elsewhere), the account's files are removed through Storage, then its auth user through
 * Auth's admin API, which takes every row with it. Rounds are small (a batch of files each) so an
 * Edge invocation stays within its limits whatever an account holds; a failed round is tried again
 * after the shared backoff, for as long as it takes.
 */
import type { AuthAdmin } from "../_shared/auth_admin.ts";
import type { Sql } from "../_shared/db.ts";
import { consumeQueue, type ConsumerSummary, type QueueMessage, wakeChannelOf } from "../_shared/queue.ts";
import type { WorkerRun } from "../_shared/serve_worker.ts";
import { REMOVE_BATCH, type Storage } from "../_shared/storage.ts";

export const QUEUE = "delete_account";

/** Files one round removes at most: one Storage request. */
export const FILES_PER_ROUND = REMOVE_BATCH;

export interface AccountDeletionDeps {
  sql: Sql;
  storage: Storage;
  auth: AuthAdmin;
}

interface Work {
  user_id: string;
  step: "files" | "sweep";
  auth_user_exists: boolean;
}

type DeletionMessage = QueueMessage<{ deletion_id: string }>;

async function round(deps: AccountDeletionDeps, msg: DeletionMessage): Promise<"completed" | "stale"> {
  const { sql, storage, auth } = deps;
  const id = msg.message.deletion_id;
  const [{ work }] = await sql<{ work: Work | null }[]>`
    select private.begin_account_deletion_round(${id}) as work`;
  if (!work) {
    await sql`select pgmq.delete(${QUEUE}, ${msg.msg_id}::bigint)`;
    return "stale";
  }
  const files = await sql<{ bucket_id: string; name: string }[]>`
    select bucket_id, name from private.account_deletion_objects(${id}, ${FILES_PER_ROUND + 1})`;
  const byBucket = new Map<string, string[]>();
  for (const file of files.slice(0, FILES_PER_ROUND)) {
    byBucket.set(file.bucket_id, [...(byBucket.get(file.bucket_id) ?? []), file.name]);
  }
  for (const [bucket, names] of byBucket) await storage.remove(bucket, names);
  if (files.length > FILES_PER_ROUND) {
    await sql`select private.continue_account_deletion(${msg.msg_id}, ${id})`;
    return "completed";
  }
  if (work.step === "files" && work.auth_user_exists) await auth.deleteUser(work.user_id);
  await sql`select private.finish_account_deletion_round(${msg.msg_id}, ${id})`;
  return "completed";
}

export async function runAccountDeletions(
  deps: AccountDeletionDeps,
  options: Partial<WorkerRun> = {},
): Promise<ConsumerSummary> {
  return await consumeQueue<{ deletion_id: string }>(deps.sql, {
    queue: QUEUE,
    wakeChannel: wakeChannelOf(QUEUE),
    concurrency: 1,
    leaseSeconds: 20,
    timeoutSeconds: 60,
    ...options, // the run's budget, polling, heartbeat and stop signals
    process: (msg) => round(deps, msg),
    fail: async (msg, error) => {
      await deps
        .sql`select private.account_deletion_failed(${msg.msg_id}, ${msg.message.deletion_id}, ${error})`;
      return "retried";
    },
  });
}
