/**
 * Algorand: a badge becomes an ARC-3 asset (one unit, no decimals, the metadata's ipfs:// URL with
 * "#arc3" and its SHA-256 as the metadata hash), created by the platform's account through algosdk.
 * An asset reaches a user's wallet only after the wallet opts in to it, so Algorand badges stay in
 * the platform's custodial account (the row's wallet_address says which) until then.
 */
import algosdk from "algosdk";
import type { Minted, SentTransaction } from "./polygon.ts";

export interface AlgorandSettings {
  server: string;
  token: string;
  mnemonic: string;
  /** Tests pass a client answering with recorded algod responses. */
  client?: algosdk.Algodv2;
}

export async function mintOnAlgorand(
  settings: AlgorandSettings,
  tokenUri: string,
  metadata: Uint8Array,
  attempt: SentTransaction = { previousTransaction: null, sent: () => Promise.resolve() },
): Promise<Minted> {
  const algod = settings.client ?? new algosdk.Algodv2(settings.token, settings.server, "");
  const account = algosdk.mnemonicToSecretKey(settings.mnemonic);
  // An earlier attempt's transaction that was confirmed is the asset; it is not created again.
  if (attempt.previousTransaction) {
    const earlier = await algod.pendingTransactionInformation(attempt.previousTransaction).do().catch(() =>
      null
    );
    if (earlier?.confirmedRound && earlier.assetIndex !== undefined) {
      return {
        asset_id: String(earlier.assetIndex),
        transaction_id: attempt.previousTransaction,
        contract_address: "",
        wallet_address: account.addr.toString(),
      };
    }
  }
  const name = JSON.parse(new TextDecoder().decode(metadata)).name as string;
  const suggestedParams = await algod.getTransactionParams().do();
  const txn = algosdk.makeAssetCreateTxnWithSuggestedParamsFromObject({
    sender: account.addr,
    total: 1,
    decimals: 0,
    defaultFrozen: false,
    unitName: "LTKB",
    assetName: name.slice(0, 32),
    assetURL: `${tokenUri}#arc3`,
    assetMetadataHash: new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(metadata))),
    manager: account.addr,
    suggestedParams,
  });
  await attempt.sent(txn.txID());
  const { txid } = await algod.sendRawTransaction(txn.signTxn(account.sk)).do();
  const confirmed = await algosdk.waitForConfirmation(algod, txid, 8);
  if (confirmed.assetIndex === undefined) {
    throw new Error(`asset creation ${txid} confirmed without an asset id`);
  }
  return {
    asset_id: String(confirmed.assetIndex),
    transaction_id: txid,
    contract_address: "",
    wallet_address: account.addr.toString(),
  };
}
