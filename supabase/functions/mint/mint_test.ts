/**
 * Minting through the real queue and SQL: on the local EVM chain (Polygon's path), checked on chain,
 * and on Algorand against recorded algod responses.
 */
import assert from "node:assert/strict";
import algosdk from "algosdk";
import { ipfsCid } from "../_shared/nft/metadata.ts";
import { mintOnAlgorand } from "../_shared/nft/algorand.ts";
import { polygonSettings } from "../_shared/nft/chains.ts";
import { mintOnPolygon, readToken } from "../_shared/nft/polygon.ts";
import { LocalStorage } from "../_shared/storage.ts";
import { asUser, createTestUser, deleteTestUser, withSql } from "../_shared/testing.ts";
import type { Sql } from "../_shared/db.ts";
import { type ChainMinter, publicReason, runMint } from "./mint.ts";
import { RetryableError } from "../_shared/errors.ts";
import { createPublicClient, http } from "viem";

// The development chain the stack started (EVM_PORT, 54345 by default), as the worker finds it locally.
const local = polygonSettings({
  get: (name: string) => (name === "SUPABASE_URL" ? "http://127.0.0.1:54321" : Deno.env.get(name)),
})!;
const USER_WALLET = "0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0"; // the development chain's second account
const PLATFORM = "0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1";

async function withBadge(
  body: (ctx: { sql: Sql; storage: LocalStorage; userId: string; badgeId: string }) => Promise<void>,
) {
  await withSql(async (sql) => {
    const dir = await Deno.makeTempDir({ prefix: "litinkai-mint-" });
    const userId = await createTestUser(sql, "mint");
    try {
      const storage = new LocalStorage(sql, dir, "http://127.0.0.1:54321");
      const icon = await Deno.readFile(new URL("../../seed/badges/first-book.svg", import.meta.url));
      await storage.put("badges", "first-book.svg", icon, "image/svg+xml");
      await sql`select private.record_progress_event(${userId}, 'book_ready', 'mint-test-book')`;
      const [{ id: badgeId }] = await sql`select id from public.badges where name = 'First Book'`;
      await body({ sql, storage, userId, badgeId });
    } finally {
      await deleteTestUser(sql, userId);
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const request = (sql: Sql, userId: string, badgeId: string, chain: string, wallet: string | null = null) =>
  asUser(
    sql,
    userId,
    async (tx) =>
      (await tx<
        { id: string }[]
      >`select public.request_badge_nft(${badgeId}, ${chain}::public.blockchain, ${wallet}) as id`)[0].id,
  );

Deno.test("an earned badge is minted on the local chain to the user's wallet; owner, URI and CIDs check out", async () => {
  await withBadge(async ({ sql, storage, userId, badgeId }) => {
    const nftId = await request(sql, userId, badgeId, "polygon", USER_WALLET);
    const minter: ChainMinter = (wallet, uri) => mintOnPolygon(local, wallet, uri);
    const summary = await runMint({ sql, storage, minters: { polygon: minter } });
    assert.equal(summary.completed, 1);
    const [nft] = await sql`select * from public.nfts where id = ${nftId}`;
    assert.equal(nft.status, "minted");
    assert.equal(nft.wallet_address, USER_WALLET);
    assert.match(nft.transaction_id, /^0x[0-9a-f]{64}$/);
    const tokenId = BigInt(nft.asset_id.split("/")[1]);
    assert.equal(nft.contract_address, nft.asset_id.split("/")[0]);
    const onChain = await readToken(local, tokenId);
    assert.equal(onChain.owner, USER_WALLET, "the token belongs to the user's wallet on chain");
    assert.equal(onChain.uri, nft.metadata_uri, "and points at the row's metadata");
    // Anyone can recompute the CIDs from the stored bytes.
    const metadataCid = nft.metadata_uri.replace("ipfs://", "");
    const metadata = await storage.get("nfts", `${metadataCid}.json`);
    assert.equal(await ipfsCid(metadata), metadataCid);
    const json = JSON.parse(new TextDecoder().decode(metadata));
    assert.equal(json.image, nft.image_uri);
    assert.equal(json.name, "First Book");
    assert.ok(
      json.attributes.some((a: { trait_type: string; value: unknown }) =>
        a.trait_type === "rarity" && a.value === "common"
      ),
    );
    const image = await storage.get("nfts", nft.image_uri.replace("ipfs://", ""));
    assert.equal(`ipfs://${await ipfsCid(image)}`, nft.image_uri);
    assert.deepEqual(
      image,
      await Deno.readFile(new URL("../../seed/badges/first-book.svg", import.meta.url)),
    );

    // Once per badge and chain: asking again changes nothing and mints nothing.
    assert.equal(await request(sql, userId, badgeId, "polygon"), nftId);
    assert.equal((await runMint({ sql, storage, minters: { polygon: minter } })).read, 0);
  });
});

Deno.test("without a wallet the token stays with the platform; an unconfigured chain fails clearly and is retried", async () => {
  await withBadge(async ({ sql, storage, userId, badgeId }) => {
    const nftId = await request(sql, userId, badgeId, "polygon");
    const failed = await runMint({ sql, storage, minters: {} });
    assert.equal(failed.failed, 1, "a missing chain is a permanent error");
    const [row] = await sql`select status::text, error_message from public.nfts where id = ${nftId}`;
    assert.deepEqual(row, { status: "failed", error_message: "minting on polygon is not configured" });

    assert.equal(await request(sql, userId, badgeId, "polygon"), nftId, "asking again retries the same NFT");
    await runMint({ sql, storage, minters: { polygon: (wallet, uri) => mintOnPolygon(local, wallet, uri) } });
    const [nft] =
      await sql`select status::text, wallet_address, asset_id from public.nfts where id = ${nftId}`;
    assert.equal(nft.status, "minted");
    assert.equal(nft.wallet_address, PLATFORM, "custodial: the platform's account holds it");
    assert.equal((await readToken(local, BigInt(nft.asset_id.split("/")[1]))).owner, PLATFORM);
  });
});

Deno.test("a worker that dies after sending the mint transaction does not mint twice on retry", async () => {
  await withBadge(async ({ sql, storage, userId, badgeId }) => {
    const nftId = await request(sql, userId, badgeId, "polygon", USER_WALLET);
    // The first attempt's transaction is sent and mined, but the worker dies before recording it.
    const dying: ChainMinter = async (wallet, uri, _metadata, attempt) => {
      await mintOnPolygon(local, wallet, uri, attempt);
      throw new RetryableError("the worker stopped while waiting for the receipt");
    };
    assert.equal((await runMint({ sql, storage, minters: { polygon: dying } })).retried, 1);
    const [{ transaction_id: sent }] = await sql`select transaction_id from public.nfts where id = ${nftId}`;
    assert.match(sent, /^0x[0-9a-f]{64}$/, "the sent transaction was recorded");
    await sql`update pgmq.q_mint set vt = now() where message ->> 'nft_id' = ${nftId}`; // skip the backoff
    const nonce = () =>
      createPublicClient({ transport: http(local.rpcUrl) }).getTransactionCount({ address: PLATFORM });
    const before = await nonce();
    const minter: ChainMinter = (wallet, uri, _metadata, attempt) =>
      mintOnPolygon(local, wallet, uri, attempt);
    assert.equal((await runMint({ sql, storage, minters: { polygon: minter } })).completed, 1);
    assert.equal(await nonce(), before, "the retry sent no second transaction");
    const [nft] =
      await sql`select status::text, transaction_id, asset_id from public.nfts where id = ${nftId}`;
    assert.deepEqual([nft.status, nft.transaction_id], ["minted", sent]);
    assert.equal((await readToken(local, BigInt(nft.asset_id.split("/")[1]))).owner, USER_WALLET);
  });
});

Deno.test("a failure shown to the user names no endpoint (an RPC URL can hold an API key)", () => {
  assert.equal(
    publicReason(
      "HTTP request failed.\nURL: https://polygon-mainnet.g.alchemy.com/v2/SECRETKEY123\nDetails: 429",
    ),
    "HTTP request failed.\nURL: <endpoint>\nDetails: 429",
  );
});

/** An algod that answers as a real one does (JSON, and msgpack for pending transactions), recorded shapes. */
function recordedAlgod(assetIndex: bigint) {
  const calls: string[] = [];
  const json = (name: string) =>
    new TextEncoder().encode(
      Deno.readTextFileSync(new URL(`../_shared/nft/recorded/${name}.json`, import.meta.url)),
    );
  let sent: algosdk.SignedTransaction | undefined;
  const ok = (body: Uint8Array) => ({ status: 200, body, headers: { "content-type": "application/json" } });
  const client: algosdk.BaseHTTPClient = {
    get(relativePath: string) {
      calls.push(`GET ${relativePath}`);
      if (relativePath === "/v2/transactions/params") return Promise.resolve(ok(json("algod_params")));
      if (relativePath.startsWith("/v2/status")) return Promise.resolve(ok(json("algod_status")));
      if (relativePath.startsWith("/v2/transactions/pending/")) {
        const pending = new algosdk.modelsv2.PendingTransactionResponse({
          poolError: "",
          txn: sent!,
          confirmedRound: 52463811n,
          assetIndex,
        });
        return Promise.resolve({
          status: 200,
          body: algosdk.encodeMsgpack(pending),
          headers: { "content-type": "application/msgpack" },
        });
      }
      return Promise.resolve({ status: 404, body: new Uint8Array(), headers: {} });
    },
    post(relativePath: string, data: Uint8Array) {
      calls.push(`POST ${relativePath}`);
      sent = algosdk.decodeSignedTransaction(data);
      return Promise.resolve(ok(new TextEncoder().encode(JSON.stringify({ txId: sent.txn.txID() }))));
    },
    delete() {
      return Promise.reject(new Error("not used"));
    },
  };
  return { algod: new algosdk.Algodv2(client, ""), calls, sent: () => sent };
}

Deno.test("Algorand: an ARC-3 asset created by the platform's account (recorded algod responses)", async () => {
  const account = algosdk.generateAccount();
  const mnemonic = algosdk.secretKeyToMnemonic(account.sk);
  const { algod, calls, sent } = recordedAlgod(734295812n);
  const metadata = new TextEncoder().encode(JSON.stringify({ name: "First Book", decimals: 0 }));
  const cid = await ipfsCid(metadata);
  const minted = await mintOnAlgorand(
    { server: "", token: "", mnemonic, client: algod },
    `ipfs://${cid}`,
    metadata,
  );
  assert.equal(minted.asset_id, "734295812");
  assert.equal(minted.wallet_address, account.addr.toString());
  const txn = sent()!.txn;
  assert.equal(minted.transaction_id, txn.txID());
  const params = txn.assetConfig!;
  assert.equal(params.assetURL, `ipfs://${cid}#arc3`, "ARC-3: the metadata URL ends in #arc3");
  assert.equal(params.total, 1n);
  assert.equal(params.decimals, 0);
  assert.equal(params.assetName, "First Book");
  assert.deepEqual(params.assetMetadataHash, new Uint8Array(await crypto.subtle.digest("SHA-256", metadata)));
  assert.ok(calls.includes("POST /v2/transactions"));
});

Deno.test("the contract's ABI and bytecode are what solc compiles from LitinkBadge.sol and OpenZeppelin", async () => {
  const check = await new Deno.Command("node", {
    args: [new URL("../../../scripts/nft/compile.cjs", import.meta.url).pathname, "--check"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
});
