/** Semantic search over the caller's chapters: embed the query, then match_chapters under their RLS. */
import { asUser, type Database, type Sql } from "../_shared/db.ts";
import { HttpError, uuidField } from "../_shared/http.ts";
import { type EmbeddingProvider, vectorLiteral } from "../_shared/providers/embeddings.ts";
import { recordUsage, reservedCall } from "../_shared/usage.ts";

export interface SearchRequest {
  query?: unknown;
  match_count?: unknown;
  book_id?: unknown;
}

export type SearchHit = Database["public"]["Functions"]["match_chapters"]["Returns"][number];

export async function searchChapters(
  sql: Sql,
  embedder: EmbeddingProvider,
  userId: string,
  request: SearchRequest,
): Promise<{ model: string; results: SearchHit[] }> {
  const query = typeof request.query === "string" ? request.query.trim() : "";
  if (query === "") throw new HttpError(400, '"query" must be a non-empty string', "bad_request");
  if (query.length > 2000) throw new HttpError(400, '"query" is limited to 2000 characters', "bad_request");
  const matchCount = request.match_count ?? 10;
  if (typeof matchCount !== "number" || !Number.isInteger(matchCount) || matchCount < 1 || matchCount > 100) {
    throw new HttpError(400, '"match_count" must be an integer from 1 to 100', "bad_request");
  }
  const bookId = uuidField(request.book_id, "book_id", true);
  // The per-user limit is taken before the query is embedded (a paid call on hosted providers).
  await asUser(sql, userId, (tx) => tx`select private.take_rate_limit('search')`);
  const started = performance.now();
  const reservation = {
    key: `search:${crypto.randomUUID()}`,
    userId,
    model: embedder.model,
    quantity: { input_tokens: query.length }, // at most a token a character
  };
  const { vectors, usage } = await reservedCall(sql, reservation, () => embedder.embed([query]));
  await sql.begin((tx) =>
    recordUsage(tx as unknown as Sql, userId, reservation.key, [usage], performance.now() - started)
  );
  const results = await asUser(sql, userId, async (tx) => {
    await tx`select set_config('litinkai.search_counted', 'on', true)`;
    return await tx<SearchHit[]>`
      select chapter_id, chapter_number, title, book_title, similarity
      from public.match_chapters(${vectorLiteral(vectors[0])}::extensions.vector, ${matchCount}, ${bookId})`;
  });
  return { model: embedder.model, results: [...results] };
}
