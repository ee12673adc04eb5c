import { sql } from "../_shared/db.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { imagesStage } from "./stage.ts";

serveWorker(
  "pipeline-images",
  (run) => runWorker(sql(), { step: "images", handler: imagesStage(stageDeps()), ...run }),
);
