import { sql } from "../_shared/db.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { audioStage } from "./stage.ts";

serveWorker(
  "pipeline-audio",
  (run) => runWorker(sql(), { step: "audio", handler: audioStage(stageDeps()), ...run }),
);
