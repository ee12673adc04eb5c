import { sql } from "../_shared/db.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { videoStage } from "./stage.ts";

serveWorker(
  "pipeline-video",
  (run) => runWorker(sql(), { step: "video", handler: videoStage(stageDeps()), ...run }),
);
