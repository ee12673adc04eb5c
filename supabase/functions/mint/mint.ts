/**
 * Mint worker: an earned badge becomes an NFT. Its image and metadata (ARC-3 or ERC-721) are
 * content-addressed (ipfs:// CIDs), stored beside the user's media, and the token is minted on the
 * chain the user chose; the row and the message are settled in one transaction.
 */
import type { WorkerRun } from "../_shared/serve_worker.ts";
import type { Json, Sql } from "../_shared/db.ts";
import { PermanentError } from "../_shared/errors.ts";
import { tokenMetadata } from "../_shared/nft/metadata.ts";
import type { Minted } from "../_shared/nft/polygon.ts";
import { consumeQueue, type ConsumerSummary, type QueueMessage, wakeChannelOf } from "../_shared/queue.ts";
import type { Storage } from "../_shared/storage.ts";

export const MINT_ATTEMPTS = 5;

/** A transaction already sent for this NFT (by an earlier attempt), and how to record a new one. */
export interface MintAttempt {
  previousTransaction: string | null;
  sent: (transactionId: string) => Promise<void>;
}

/**
 * Mints on one chain: the token URI (ipfs://...) to the wallet, or the platform's account when null.
 * A minter records its transaction through `attempt.sent` before waiting for it, and looks up
 * `attempt.previousTransaction` before sending another: a retry never mints twice.
 */
export type ChainMinter = (
  wallet: string | null,
  tokenUri: string,
  metadata: Uint8Array,
  attempt: MintAttempt,
) => Promise<Minted>;

/** What a user may read of a failure: no endpoint URLs (an RPC URL can hold an API key). */
export function publicReason(error: string): string {
  return error.replace(/\b(?:https?|wss?):\/\/[^\s"'<>)]+/g, "<endpoint>").slice(0, 500);
}

export interface MintDeps {
  sql: Sql;
  storage: Storage;
  minters: Partial<Record<"algorand" | "polygon", ChainMinter>>;
}

interface MintContext {
  nft: {
    id: string;
    user_id: string;
    blockchain: "algorand" | "polygon";
    wallet_address: string | null;
    transaction_id: string | null;
  };
  badge: {
    name: string;
    description: string;
    category: string;
    rarity: string;
    xp_reward: number;
    icon_url: string;
  };
  earned: { earned_at: string };
  owner: { display_name: string | null };
}

const MIMETYPES: Record<string, string> = { svg: "image/svg+xml", png: "image/png" };

async function mint(deps: MintDeps, msg: QueueMessage<{ nft_id: string }>): Promise<"completed" | "stale"> {
  const { sql, storage } = deps;
  const [{ context }] = await sql<{ context: MintContext | null }[]>`
    select private.begin_mint(${msg.message.nft_id}) as context`;
  if (!context) {
    await sql`select pgmq.delete('mint', ${msg.msg_id}::bigint)`;
    return "stale";
  }
  const { nft, badge } = context;
  const minter = deps.minters[nft.blockchain];
  if (!minter) throw new PermanentError(`minting on ${nft.blockchain} is not configured`);
  // The badge's icon, from the public badges bucket its icon_url points into.
  const iconName = badge.icon_url?.split("/").pop() ?? "";
  let image: Uint8Array;
  try {
    image = await storage.get("badges", iconName);
  } catch {
    throw new PermanentError(`the badge's icon badges/${iconName} is not in storage`);
  }
  const files = await tokenMetadata(
    nft.blockchain,
    badge,
    { bytes: image, mimetype: MIMETYPES[iconName.split(".").pop() ?? ""] ?? "application/octet-stream" },
    { earned_at: context.earned.earned_at },
  );
  // Stored under their CIDs in the public nfts bucket, so the bytes behind each ipfs:// URI can be
  // fetched and pinned by anyone (and no user can replace them).
  await storage.put("nfts", files.imageCid, image, MIMETYPES[iconName.split(".").pop() ?? ""] ?? "");
  await storage.put("nfts", `${files.metadataCid}.json`, files.metadata, "application/json");
  const metadataUri = `ipfs://${files.metadataCid}`;
  const minted = await minter(nft.wallet_address, metadataUri, files.metadata, {
    previousTransaction: nft.transaction_id,
    sent: async (transactionId) => {
      await sql`select private.note_mint_transaction(${nft.id}, ${transactionId})`;
    },
  });
  await sql`select private.complete_mint(${msg.msg_id}, ${nft.id}, ${
    sql.json({
      ...minted,
      metadata_uri: metadataUri,
      image_uri: `ipfs://${files.imageCid}`,
      // Held by the platform (Algorand, until the wallet opts in): the wallet asked for is kept here.
      attributes: minted.wallet_address !== nft.wallet_address && nft.wallet_address
        ? { ...files.attributes, requested_wallet: nft.wallet_address }
        : files.attributes,
    } as unknown as Json)
  })`;
  return "completed";
}

export async function runMint(
  deps: MintDeps,
  options: Partial<WorkerRun> = {},
): Promise<ConsumerSummary> {
  return await consumeQueue<{ nft_id: string }>(deps.sql, {
    queue: "mint",
    wakeChannel: wakeChannelOf("mint"),
    concurrency: 1, // one platform account signs: its transactions go one at a time
    leaseSeconds: 60,
    timeoutSeconds: 120,
    maxAttempts: MINT_ATTEMPTS,
    ...options, // the run's budget, polling, heartbeat and stop signals
    process: (msg) => mint(deps, msg),
    fail: async (msg, error, retryable) => {
      const [{ outcome }] = await deps.sql<{ outcome: string }[]>`
        select private.fail_mint(${msg.msg_id}, ${msg.message.nft_id}, ${publicReason(error)},
          ${!retryable || msg.read_ct >= MINT_ATTEMPTS}, ${msg.read_ct}) as outcome`;
      return outcome === "retry" ? "retried" : "failed";
    },
  });
}
