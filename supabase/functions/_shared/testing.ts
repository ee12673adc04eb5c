/** Helpers for Deno tests that need the local database. */
import { createSql, type Sql } from "./db.ts";

/** The local stack's URL, or the one the test runner passes in. */
export function testDatabaseUrl(): string {
  return Deno.env.get("SUPABASE_DB_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
}

/** Runs `body` with a client of its own and always closes it. */
export async function withSql<T>(body: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = createSql(testDatabaseUrl(), { max: 4 });
  try {
    return await body(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
