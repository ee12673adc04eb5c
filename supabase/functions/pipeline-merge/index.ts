import { sql } from "../_shared/db.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { mergeStage } from "./stage.ts";

serveWorker(
  "pipeline-merge",
  (run) => runWorker(sql(), { step: "merge", handler: mergeStage(stageDeps()), ...run }),
);
