/** Deploys LitinkBadge on the local development chain once (stack.sh runs it after starting the chain). */
import {
  ensureContract,
  LOCAL_CHAIN_KEY,
  LOCAL_CONTRACT,
} from "../../supabase/functions/_shared/nft/polygon.ts";

const rpcUrl = Deno.env.get("POLYGON_RPC_URL") ?? "http://127.0.0.1:54345";
const address = await ensureContract({ rpcUrl, privateKey: LOCAL_CHAIN_KEY, contract: LOCAL_CONTRACT });
if (address.toLowerCase() !== LOCAL_CONTRACT.toLowerCase()) {
  console.error(`deployed at ${address}, not at ${LOCAL_CONTRACT}: the chain was not fresh`);
  Deno.exit(1);
}
console.log(`    LitinkBadge at ${address}`);
