import { sql } from "../_shared/db.ts";
import { handle } from "../_shared/http.ts";
import { healthResponse } from "./health.ts";

Deno.serve(handle((req) => healthResponse(sql(), req)));
