import { sql } from "../_shared/db.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { scriptStage } from "./stage.ts";

serveWorker(
  "pipeline-script",
  (run) => runWorker(sql(), { step: "script", handler: scriptStage(stageDeps()), ...run }),
);
