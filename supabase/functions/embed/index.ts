import { sql } from "../_shared/db.ts";
import { contentProviders } from "../_shared/providers/content.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { runEmbed } from "./embed.ts";

serveWorker("embed", (run) => runEmbed(sql(), contentProviders().embedder, run));
