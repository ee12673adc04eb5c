import { sql } from "../_shared/db.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { lipsyncStage } from "./stage.ts";

serveWorker(
  "pipeline-lipsync",
  (run) => runWorker(sql(), { step: "lipsync", handler: lipsyncStage(stageDeps()), ...run }),
);
