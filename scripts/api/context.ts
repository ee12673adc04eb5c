/**
 * What every service of the local API shares: the database, the project's keys, and who a request
 * is. The keys and tokens are those `supabase start` issues (HS256 with the local secret), so
 * supabase-js works against this API unchanged.
 */
import { jwtVerify } from "jose";
import { localProjectKey } from "../../supabase/functions/_shared/auth.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { LOCAL_JWT_SECRET } from "../../supabase/functions/_shared/env.ts";

export interface ApiContext {
  /** A pool connected as the database owner; services switch role per request (see `runAs`). */
  sql: Sql;
  dbUrl: string;
  /** Where the local Storage adapter keeps object bytes (`<dir>/<bucket>/<name>`). */
  storageDir: string;
  /** The API's own base URL, e.g. http://127.0.0.1:54321. */
  publicUrl: string;
  /** Run when the API stops: a service with long-lived state (sockets, replication) registers here. */
  onClose: (() => Promise<void>)[];
}

/** A service answers the requests under its prefix; null means "not mine". */
export type Service = (req: Request, ctx: ApiContext) => Promise<Response | null>;

export const jwtSecret = new TextEncoder().encode(LOCAL_JWT_SECRET);

export const ANON_KEY = await localProjectKey("anon");
export const SERVICE_ROLE_KEY = await localProjectKey("service_role");

export type Role = "anon" | "authenticated" | "service_role";

export interface Caller {
  role: Role;
  /** The verified JWT claims, as PostgREST puts them in `request.jwt.claims`. */
  claims: Record<string, unknown>;
  /** The user's id for role authenticated. */
  userId?: string;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.message ?? body.msg ?? body.error ?? status));
  }
}

/** A JSON response; every service answers errors through this. */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

export function errorResponse(error: ApiError): Response {
  return json(error.body, error.status);
}

/** 413 for a body past `limit` bytes, shaped as the gateway in front of the services answers. */
export function payloadTooLarge(limit: number): ApiError {
  return new ApiError(413, { message: `The request body is limited to ${limit} bytes` });
}

/** A percent-decoded path segment; malformed encoding throws `malformed()` (the service's 400). */
export function decodePathSegment(segment: string, malformed: () => Error): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw malformed();
  }
}

/**
 * The request body, at most `limit` bytes: refused up front when its Content-Length says more,
 * otherwise counted while it streams, the stream failing with `tooLarge()` at the first byte past
 * the limit (and the rest left unread). `tooLarge` gives the service's own error shape.
 */
export function boundedBody(
  req: Request,
  limit: number,
  tooLarge: () => Error,
): ReadableStream<Uint8Array> {
  if (Number(req.headers.get("Content-Length") ?? 0) > limit) throw tooLarge();
  let size = 0;
  return (req.body ?? new Blob([]).stream()).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > limit) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
}

/** The whole body as bytes, at most `limit` of them (see `boundedBody`). */
export async function readBoundedBytes(
  req: Request,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(boundedBody(req, limit, tooLarge)).arrayBuffer());
}

/** The whole body as text, at most `limit` bytes (see `boundedBody`). */
export async function readBoundedText(req: Request, limit: number, tooLarge: () => Error): Promise<string> {
  return await new Response(boundedBody(req, limit, tooLarge)).text();
}

/** Verifies a token signed with the local secret; null when invalid or expired. */
export async function verifyToken(token: string): Promise<Record<string, unknown> | null> {
  try {
    return (await jwtVerify(token, jwtSecret, { requiredClaims: ["exp"] })).payload as Record<
      string,
      unknown
    >;
  } catch {
    return null;
  }
}

export function bearerToken(req: Request): string | undefined {
  return req.headers.get("Authorization")?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
}

/**
 * The API gateway's key check (Kong's key-auth on hosted Supabase): every request carries the
 * project's anon or service-role key as `apikey` (header, or query parameter for websockets).
 */
export function requireApiKey(req: Request): void {
  const url = new URL(req.url);
  const key = req.headers.get("apikey") ?? url.searchParams.get("apikey");
  if (!key) throw new ApiError(401, { message: "No API key found in request" });
  if (key !== ANON_KEY && key !== SERVICE_ROLE_KEY) throw new ApiError(401, { message: "Invalid API key" });
}

/** Who makes the request: the Authorization token's role, or anon without one (as PostgREST). */
export async function callerOf(req: Request): Promise<Caller> {
  const token = bearerToken(req) ?? req.headers.get("apikey") ?? undefined;
  if (!token) return { role: "anon", claims: { role: "anon" } };
  return await callerOfToken(token);
}

export async function callerOfToken(token: string): Promise<Caller> {
  const claims = await verifyToken(token);
  if (!claims) {
    throw new ApiError(401, {
      code: "PGRST301",
      message: "JWT expired or invalid",
      details: null,
      hint: null,
    });
  }
  const role = claims.role;
  if (role === "anon" || role === "service_role") return { role, claims };
  if (role === "authenticated" && typeof claims.sub === "string") {
    return { role, claims, userId: claims.sub };
  }
  throw new ApiError(401, {
    code: "PGRST301",
    message: "JWT role is not one this API serves",
    details: null,
    hint: null,
  });
}

/**
 * Runs `body` in one transaction as PostgREST runs a request: the caller's role and JWT claims set
 * locally, so RLS and `auth.uid()` see them. The service role bypasses RLS as on Supabase. Reads
 * (GET, HEAD) run read-only, as PostgREST runs them.
 */
export async function runAs<T>(
  sql: Sql,
  caller: Caller,
  body: (tx: Sql) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  return await sql.begin(options.readOnly ? "read only" : "read write", async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true),
                    set_config('role', ${caller.role}, true)`;
    return await body(tx as unknown as Sql);
  }) as T;
}
