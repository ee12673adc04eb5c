/**
 * The local API at http://127.0.0.1:54321: the subset of Supabase's services our clients use, one
 * module per service, behind one port as Supabase's gateway serves them. Production uses
 * Supabase's own services; anything outside the subset answers 501 naming the feature.
 */
import { createSql } from "../../supabase/functions/_shared/db.ts";
import { auth } from "./auth.ts";
import { type ApiContext, ApiError, errorResponse, json, type Service } from "./context.ts";
import { realtime } from "./realtime.ts";
import { rest } from "./rest.ts";
import { storage } from "./storage.ts";

export const SERVICES: Record<string, Service> = {
  "/auth/v1": auth,
  "/rest/v1": rest,
  "/storage/v1": storage,
  "/realtime/v1": realtime,
};

const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers":
    "authorization, x-client-info, apikey, content-type, prefer, range, accept-profile, content-profile, x-upsert, cache-control, x-supabase-api-version, x-metadata",
  "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
  "Access-Control-Expose-Headers":
    "Content-Range, Range, Location, X-Supabase-Api-Version, Content-Disposition",
};

/** Answers what no service claims (the runner's Edge Functions), or null. */
export type Fallback = (req: Request) => Promise<Response | null>;

/** Routes a request to its service, then to `fallback`; what nobody answers is a 501. */
export function createApiHandler(ctx: ApiContext, fallback?: Fallback): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    const { pathname } = new URL(req.url);
    const prefix = Object.keys(SERVICES).find((p) => pathname === p || pathname.startsWith(`${p}/`));
    let res: Response | null = null;
    try {
      if (prefix) res = await SERVICES[prefix](req, ctx);
      else if (fallback) res = await fallback(req);
    } catch (error) {
      if (error instanceof ApiError) res = errorResponse(error);
      else {
        // The caller gets a reference; the log gets what happened (it may name files and tables).
        const reference = crypto.randomUUID();
        console.error(`[api] ${req.method} ${pathname}: internal error ${reference}:`, error);
        res = json({ message: `something went wrong on our side; it was logged as ${reference}` }, 500);
      }
    }
    res ??= json({
      message:
        `${req.method} ${pathname} is not part of the local API's subset of Supabase (see docs/local-api.md)`,
    }, 501);
    if (res.status === 101) return res; // a websocket upgrade
    // A proxied response's headers are immutable: answer with a copy.
    const answer = new Response(res.body, res);
    for (const [k, v] of Object.entries(CORS)) answer.headers.set(k, v);
    return answer;
  };
}

export interface RunningApi {
  url: string;
  ctx: ApiContext;
  close(): Promise<void>;
}

/** Starts the API on `port` (0 picks a free one); tests start their own. */
export function startApi(options: {
  port?: number;
  dbUrl?: string;
  storageDir?: string;
  fallback?: Fallback;
} = {}): RunningApi {
  const dbUrl = options.dbUrl ?? Deno.env.get("SUPABASE_DB_URL") ??
    "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
  const storageDir = options.storageDir ?? Deno.env.get("LOCAL_STORAGE_DIR") ??
    new URL("../../.stack/storage", import.meta.url).pathname;
  const sql = createSql(dbUrl, { max: 10 });
  const ctx: ApiContext = { sql, dbUrl, storageDir, publicUrl: "", onClose: [] };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
    createApiHandler(ctx, options.fallback),
  );
  ctx.publicUrl = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: ctx.publicUrl,
    ctx,
    async close() {
      await Promise.allSettled(ctx.onClose.map((close) => close()));
      await server.shutdown();
      await sql.end({ timeout: 5 });
    },
  };
}
