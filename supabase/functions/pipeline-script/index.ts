import { sql } from "../_shared/db.ts";
import { config } from "../_shared/env.ts";
import { configuredStorage } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { scriptProvider } from "../_shared/providers/edge.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { scriptStage } from "./stage.ts";

serveWorker("pipeline-script", (run) =>
  runWorker(sql(), {
    step: "script",
    handler: scriptStage({ storage: configuredStorage(), providers: { script: scriptProvider(config()) } }),
    ...run,
  }));
