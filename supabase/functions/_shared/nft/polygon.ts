/**
 * Polygon (any EVM chain): mints a badge on the LitinkBadge ERC-721 contract (OpenZeppelin, compiled
 * with solc: LitinkBadge.sol / LitinkBadge.json) through viem. Locally the chain is the development
 * chain the stack starts; hosted, an RPC URL, the platform's key and the deployed contract's address.
 */
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  keccak256,
  type Log,
  parseEventLogs,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import artifact from "./LitinkBadge.json" with { type: "json" };

export const LITINK_BADGE_ABI = artifact.abi as Abi;
export const LITINK_BADGE_BYTECODE = artifact.bytecode as Hex;

/** The development chain's first deterministic account (a well-known test key, never for real funds). */
export const LOCAL_CHAIN_KEY: Hex = "0x4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d";
/** Where that account's first deployment lands on a fresh development chain. */
export const LOCAL_CONTRACT: Hex = "0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab";

export interface PolygonSettings {
  rpcUrl: string;
  privateKey: Hex;
  contract: Hex;
}

export interface Minted {
  asset_id: string;
  transaction_id: string;
  contract_address: string;
  wallet_address: string;
}

/** The chain as viem wants it described, from the id its RPC endpoint reports. */
function chainOf(settings: PolygonSettings, id: number) {
  return {
    id,
    name: `chain ${id}`,
    nativeCurrency: { name: "POL", symbol: "POL", decimals: 18 },
    rpcUrls: { default: { http: [settings.rpcUrl] } },
  };
}

function clients(settings: PolygonSettings) {
  const transport = http(settings.rpcUrl, { timeout: 20_000, retryCount: 0 });
  const account = privateKeyToAccount(settings.privateKey);
  return {
    account,
    reader: createPublicClient({ transport }),
    writer: createWalletClient({ account, transport }),
  };
}

/** A transaction sent by an earlier attempt, and where to record a new one before waiting for it. */
export interface SentTransaction {
  previousTransaction: string | null;
  sent: (transactionId: string) => Promise<void>;
}

/**
 * Mints one token to `to` (the platform's own account when null) with `tokenUri` and waits for the
 * receipt. An earlier attempt's transaction that made it onto the chain is used instead of minting again.
 */
export async function mintOnPolygon(
  settings: PolygonSettings,
  to: string | null,
  tokenUri: string,
  attempt: SentTransaction = { previousTransaction: null, sent: () => Promise.resolve() },
): Promise<Minted> {
  const { account, reader, writer } = clients(settings);
  const owner = getAddress(to ?? account.address);
  if (attempt.previousTransaction) {
    // An earlier attempt's transaction: mined (use it), still pending (wait for it), or gone (mint anew).
    const previous = attempt.previousTransaction as Hex;
    const earlier = await reader.getTransactionReceipt({ hash: previous }).catch(() => null) ??
      (await reader.getTransaction({ hash: previous }).catch(() => null)
        ? await reader.waitForTransactionReceipt({ hash: previous, timeout: 60_000 })
        : null);
    if (earlier?.status === "success") return mintedFrom(settings, owner, previous, earlier.logs);
  }
  const chain = chainOf(settings, await reader.getChainId());
  // Signed first and recorded by its hash before it is sent: whatever happens after, a retry finds it.
  const request = await writer.prepareTransactionRequest({
    account,
    chain,
    to: settings.contract,
    data: encodeFunctionData({ abi: LITINK_BADGE_ABI, functionName: "mint", args: [owner, tokenUri] }),
  });
  const signed = await writer.signTransaction(
    { ...request, chain } as Parameters<typeof writer.signTransaction>[0],
  );
  const hash = keccak256(signed);
  await attempt.sent(hash);
  await writer.sendRawTransaction({ serializedTransaction: signed });
  const receipt = await reader.waitForTransactionReceipt({ hash, timeout: 60_000 });
  if (receipt.status !== "success") throw new Error(`mint transaction ${hash} reverted`);
  return mintedFrom(settings, owner, hash, receipt.logs);
}

function mintedFrom(settings: PolygonSettings, owner: string, hash: Hex, logs: Log[]): Minted {
  const [transfer] = parseEventLogs({ abi: LITINK_BADGE_ABI, logs, eventName: "Transfer" }) as unknown as {
    args: { tokenId: bigint; to: string };
  }[];
  if (!transfer) throw new Error(`mint transaction ${hash} emitted no Transfer`);
  return {
    asset_id: `${getAddress(settings.contract)}/${transfer.args.tokenId}`,
    transaction_id: hash,
    contract_address: getAddress(settings.contract),
    wallet_address: getAddress(transfer.args.to ?? owner),
  };
}

/** What the chain says of a token: its owner and URI (tests and the worker's checks). */
export async function readToken(settings: PolygonSettings, tokenId: bigint) {
  const { reader } = clients(settings);
  const [owner, uri] = await Promise.all([
    reader.readContract({
      address: settings.contract,
      abi: LITINK_BADGE_ABI,
      functionName: "ownerOf",
      args: [tokenId],
    }),
    reader.readContract({
      address: settings.contract,
      abi: LITINK_BADGE_ABI,
      functionName: "tokenURI",
      args: [tokenId],
    }),
  ]);
  return { owner: owner as string, uri: uri as string };
}

/** Deploys the contract when the chain has none at `settings.contract` (the development chain). */
export async function ensureContract(settings: PolygonSettings): Promise<Hex> {
  const { account, reader, writer } = clients(settings);
  const code = await reader.getCode({ address: settings.contract });
  if (code && code !== "0x") return settings.contract;
  const hash = await writer.deployContract({
    abi: LITINK_BADGE_ABI,
    bytecode: LITINK_BADGE_BYTECODE,
    args: [account.address],
    chain: chainOf(settings, await reader.getChainId()),
  });
  const receipt = await reader.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error("the contract deployment created no contract");
  return getAddress(receipt.contractAddress);
}
