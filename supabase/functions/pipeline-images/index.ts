import { sql } from "../_shared/db.ts";
import { config } from "../_shared/env.ts";
import { configuredStorage } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { hostedImageProvider } from "../_shared/providers/edge.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { imagesStage } from "./stage.ts";

// Without MODELSLAB_API_KEY every invocation answers 503 with a configuration error and takes no message.
serveWorker("pipeline-images", (run) =>
  runWorker(sql(), {
    step: "images",
    handler: imagesStage({
      storage: configuredStorage(),
      providers: { image: hostedImageProvider(config()) },
    }),
    ...run,
  }));
