import { sql } from "../_shared/db.ts";
import { handle, json } from "../_shared/http.ts";
import { stageDeps } from "../_shared/pipeline/deps.ts";
import { runWorker } from "../_shared/pipeline/worker.ts";
import { lipsyncStage } from "./stage.ts";

Deno.serve(
  handle(async () => json(await runWorker(sql(), { step: "lipsync", handler: lipsyncStage(stageDeps()) }))),
);
