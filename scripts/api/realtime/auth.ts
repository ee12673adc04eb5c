/**
 * Who a channel acts for, and what private channels let them do, as Supabase Realtime decides it:
 * the token's claims, and RLS policies on realtime.messages with the channel's name as
 * `realtime.topic()`.
 */
import { decodeJwt } from "jose";
import type { Sql } from "../../../supabase/functions/_shared/db.ts";
import { ApiError, type Caller, callerOfToken, runAs, verifyToken } from "../context.ts";

export interface Session {
  token: string;
  caller: Caller;
  /** The token's `exp`, in seconds. */
  expiresAt: number;
}

/** A rejected token: `code` prefixes the reason of a refused join, `message` is the rest. */
export interface TokenProblem {
  code: string;
  message: string;
}

/** Verifies a channel's token; refusals carry the reasons Realtime gives. */
export async function sessionOfToken(token: string): Promise<Session | TokenProblem> {
  try {
    const caller = await callerOfToken(token);
    return { token, caller, expiresAt: Number(caller.claims.exp) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return await tokenProblem(token, error);
  }
}

async function tokenProblem(token: string, error: ApiError): Promise<TokenProblem> {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    return { code: "MalformedJWT", message: "The token provided is not a valid JWT" };
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp === "number" && claims.exp <= now) {
    return { code: "InvalidJWTToken", message: `Token has expired ${now - claims.exp} seconds ago` };
  }
  if (claims.exp === undefined || claims.role === undefined) {
    return { code: "InvalidJWTToken", message: "Fields `role` and `exp` are required in JWT" };
  }
  if (await verifyToken(token)) return { code: "InvalidJWTToken", message: error.message };
  return { code: "JwtSignatureError", message: "Failed to validate JWT signature" };
}

export function isTokenProblem(value: Session | TokenProblem): value is TokenProblem {
  return "code" in value;
}

export interface ReadPolicies {
  broadcast: boolean;
  presence: boolean;
}

/** Thrown to roll a transaction back once its result is known. */
class Rollback {
  constructor(readonly result: unknown) {}
}

async function rolledBack<T>(run: (keep: (result: T) => never) => Promise<unknown>): Promise<T> {
  try {
    await run((result) => {
      throw new Rollback(result);
    });
  } catch (error) {
    if (error instanceof Rollback) return error.result as T;
    throw error;
  }
  throw new Error("the transaction was expected to roll back");
}

/**
 * May the caller read the channel `topic` (join a private channel)? As Realtime checks it: in one
 * transaction, insert a probe message per extension as the database owner, switch to the caller
 * (role, JWT claims, `realtime.topic`), select the probes back through RLS, and roll everything
 * back. An empty realtime.messages would otherwise give no row to decide on.
 */
export async function readPolicies(sql: Sql, caller: Caller, topic: string): Promise<ReadPolicies> {
  const probes = { broadcast: crypto.randomUUID(), presence: crypto.randomUUID() };
  return await rolledBack<ReadPolicies>((keep) =>
    sql.begin(async (tx) => {
      await tx`insert into realtime.messages (id, topic, extension)
               values (${probes.broadcast}, ${topic}, 'broadcast'), (${probes.presence}, ${topic}, 'presence')`;
      // The settings runAs makes (context.ts), made after the probes exist, plus the topic.
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true),
                      set_config('role', ${caller.role}, true),
                      set_config('realtime.topic', ${topic}, true)`;
      const visible = new Set(
        (await tx<{ id: string }[]>`select id from realtime.messages
                                    where id in (${probes.broadcast}, ${probes.presence})`).map((row) =>
          row.id
        ),
      );
      keep({ broadcast: visible.has(probes.broadcast), presence: visible.has(probes.presence) });
    })
  );
}

/**
 * May the caller send broadcasts on the private channel `topic`? Realtime inserts a message as the
 * caller and rolls it back: allowed unless RLS (or a missing grant) refuses the insert.
 */
export async function canWriteBroadcast(sql: Sql, caller: Caller, topic: string): Promise<boolean> {
  return await rolledBack<boolean>((keep) =>
    runAs(sql, caller, async (tx) => {
      await tx`select set_config('realtime.topic', ${topic}, true)`;
      try {
        await tx`insert into realtime.messages (topic, extension) values (${topic}, 'broadcast')`;
      } catch (error) {
        if ((error as { code?: string }).code === "42501") keep(false);
        throw error;
      }
      keep(true);
    })
  );
}
