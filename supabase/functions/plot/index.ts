import { sql } from "../_shared/db.ts";
import { contentProviders } from "../_shared/providers/content.ts";
import { serveWorker } from "../_shared/serve_worker.ts";
import { runPlot } from "./plot.ts";

serveWorker("plot", (run) => runPlot(sql(), contentProviders(), run));
