import { requireUser } from "../_shared/auth.ts";
import { sql } from "../_shared/db.ts";
import { handle, HttpError, json, readJson } from "../_shared/http.ts";
import { contentProviders } from "../_shared/providers/content.ts";
import { searchChapters, type SearchRequest } from "./search.ts";

Deno.serve(handle(async (req) => {
  if (req.method !== "POST") {
    throw new HttpError(405, "use POST with {query, match_count?, book_id?}", "method_not_allowed");
  }
  const userId = await requireUser(req);
  return json(
    await searchChapters(sql(), contentProviders().embedder, userId, await readJson<SearchRequest>(req)),
  );
}));
