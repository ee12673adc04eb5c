import { sql } from "../_shared/db.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { contentProviders } from "../_shared/providers/content.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { runIngest } from "./ingest.ts";

serveWorker(
  "ingest",
  (run) => runIngest({ sql: sql(), storage: stageDeps().storage, content: contentProviders() }, run),
);
