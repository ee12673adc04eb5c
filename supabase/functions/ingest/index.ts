import { sql } from "../_shared/db.ts";
import { handle, json } from "../_shared/http.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { contentProviders } from "../_shared/providers/content.ts";
import { runIngest } from "./ingest.ts";

Deno.serve(handle(async () => {
  const summary = await runIngest({ sql: sql(), storage: stageDeps().storage, content: contentProviders() });
  return json(summary);
}));
