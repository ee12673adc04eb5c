import { sql } from "../_shared/db.ts";
import { handle, json } from "../_shared/http.ts";
import { checkHealth } from "./health.ts";

Deno.serve(handle(async () => json(await checkHealth(sql()))));
