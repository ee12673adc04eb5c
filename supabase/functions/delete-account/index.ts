import { configuredAuthAdmin } from "../_shared/auth_admin.ts";
import { sql } from "../_shared/db.ts";
import { configuredStorage } from "../_shared/pipeline/deps.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { runAccountDeletions } from "./delete.ts";

serveWorker(
  "delete-account",
  async (run) =>
    await runAccountDeletions(
      { sql: sql(), storage: configuredStorage(), auth: await configuredAuthAdmin() },
      run,
    ),
);
