/**
 * Which chains the mint worker can use, from the environment. Polygon: POLYGON_RPC_URL,
 * POLYGON_PRIVATE_KEY and POLYGON_CONTRACT_ADDRESS, else the local development chain when running on
 * the local stack. Algorand: ALGORAND_ALGOD_URL (and ALGORAND_ALGOD_TOKEN) with ALGORAND_MNEMONIC.
 */
import type { Hex } from "viem";
import type { ChainMinter } from "../../mint/mint.ts";
import { type AlgorandSettings, mintOnAlgorand } from "./algorand.ts";
import { LOCAL_CHAIN_KEY, LOCAL_CONTRACT, mintOnPolygon, type PolygonSettings } from "./polygon.ts";

type Env = Pick<typeof Deno.env, "get">;

export function polygonSettings(env: Env = Deno.env): PolygonSettings | null {
  const rpcUrl = env.get("POLYGON_RPC_URL");
  if (rpcUrl) {
    const privateKey = env.get("POLYGON_PRIVATE_KEY") as Hex | undefined;
    const contract = env.get("POLYGON_CONTRACT_ADDRESS") as Hex | undefined;
    if (!privateKey || !contract) return null;
    return { rpcUrl, privateKey, contract };
  }
  const local = /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(env.get("SUPABASE_URL") ?? "");
  return local
    ? {
      rpcUrl: `http://127.0.0.1:${env.get("EVM_PORT") ?? "54345"}`,
      privateKey: LOCAL_CHAIN_KEY,
      contract: LOCAL_CONTRACT,
    }
    : null;
}

export function algorandSettings(env: Env = Deno.env): AlgorandSettings | null {
  const server = env.get("ALGORAND_ALGOD_URL");
  const mnemonic = env.get("ALGORAND_MNEMONIC");
  return server && mnemonic ? { server, token: env.get("ALGORAND_ALGOD_TOKEN") ?? "", mnemonic } : null;
}

export function mintersFromEnv(env: Env = Deno.env): Partial<Record<"algorand" | "polygon", ChainMinter>> {
  const polygon = polygonSettings(env);
  const algorand = algorandSettings(env);
  return {
    ...(polygon
      ? { polygon: (wallet, uri, _metadata, attempt) => mintOnPolygon(polygon, wallet, uri, attempt) }
      : {}),
    ...(algorand
      ? { algorand: (_wallet, uri, metadata, attempt) => mintOnAlgorand(algorand, uri, metadata, attempt) }
      : {}),
  };
}
