import { sql } from "../_shared/db.ts";
import { mintersFromEnv } from "../_shared/nft/chains.ts";
import { configuredStorage } from "../_shared/pipeline/deps.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { runMint } from "./mint.ts";

serveWorker(
  "mint",
  (run) => runMint({ sql: sql(), storage: configuredStorage(), minters: mintersFromEnv() }, run),
);
