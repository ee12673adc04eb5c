import { requireUser } from "../_shared/auth.ts";
import { sql } from "../_shared/db.ts";
import { handle, HttpError, json, readJson } from "../_shared/http.ts";
import { config } from "../_shared/env.ts";
import { scriptProvider } from "../_shared/providers/edge.ts";
import { generateScript, type GenerateScriptRequest } from "./generate.ts";

Deno.serve(handle(async (req) => {
  if (req.method !== "POST") {
    throw new HttpError(405, "use POST with {chapter_id, style}", "method_not_allowed");
  }
  const userId = await requireUser(req);
  const request = await readJson<GenerateScriptRequest>(req);
  return json(await generateScript(sql(), scriptProvider(config()), userId, request), 201);
}));
