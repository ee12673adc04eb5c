/** One Postgres client per process, through the `postgres` library. */
import postgres from "postgres";
import { config } from "./env.ts";

export type Sql = postgres.Sql;
/** Row, insert and enum types generated from the schema by `npm run types`. */
export type { Database, Enums, Tables, TablesInsert } from "./database.types.ts";

/** A value `sql.json()` accepts: plain objects, arrays and scalars. */
export type Json = postgres.JSONValue;

export function createSql(url: string, options: { max?: number } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 4,
    idle_timeout: 20,
    connect_timeout: 10,
    prepare: false, // works through Supabase's transaction pooler too
    onnotice: () => {},
  });
}

let shared: Sql | undefined;

export function sql(): Sql {
  shared ??= createSql(config().databaseUrl, { max: 8 });
  return shared;
}

/** Runs `body` as PostgREST would for this user: role authenticated with their JWT claims. */
export async function asUser<T>(sql: Sql, userId: string, body: (tx: Sql) => Promise<T>): Promise<T> {
  return await sql.begin(async (tx) => {
    // One statement, as PostgREST sets a request's claims and role.
    await tx`select set_config('request.jwt.claims', ${
      JSON.stringify({ sub: userId, role: "authenticated", aud: "authenticated" })
    }, true), set_config('role', 'authenticated', true)`;
    return await body(tx as unknown as Sql);
  }) as T;
}
