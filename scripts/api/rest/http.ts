/** HTTP around the Data API's queries: content negotiation, ranges, bodies and read responses. */
import { type ApiContext, type Caller, json, payloadTooLarge, readBoundedText } from "../context.ts";
import { pgrstError, unsupported } from "./errors.ts";
import { parseRangeHeader, type Preferences } from "./parse.ts";
import type { ReadPlan } from "./plan.ts";
import type { ReadResult } from "./sql.ts";

/** What the client accepts: an array (the default) or the single row's object. */
export interface Negotiated {
  singular: boolean;
  stripNulls: boolean;
  contentType: string;
}

/** The request as the handlers need it. */
export interface RestRequest {
  req: Request;
  url: URL;
  ctx: ApiContext;
  caller: Caller;
  accept: Negotiated;
  prefs: Preferences;
}

const SINGULAR_TYPES = ["application/vnd.pgrst.object+json", "application/vnd.pgrst.object"];
const ARRAY_TYPES = [
  "application/json",
  "application/vnd.pgrst.array+json",
  "application/vnd.pgrst.array",
  "*/*",
];

/** Picks the first media type of `Accept` this API produces, as PostgREST negotiates. */
export function negotiate(accept: string | null): Negotiated {
  const offered = (accept ?? "*/*").split(",").map((part) => part.trim()).filter(Boolean);
  for (const mediaType of offered) {
    const [type, ...params] = mediaType.split(";").map((s) => s.trim().toLowerCase());
    const stripNulls = params.includes("nulls=stripped");
    if (SINGULAR_TYPES.includes(type)) {
      return { singular: true, stripNulls, contentType: "application/vnd.pgrst.object+json; charset=utf-8" };
    }
    if (ARRAY_TYPES.includes(type) || type === "application/*") {
      return { singular: false, stripNulls, contentType: "application/json; charset=utf-8" };
    }
    if (type === "text/csv") throw unsupported("CSV responses (Accept: text/csv)");
    if (type === "application/geo+json") throw unsupported("GeoJSON responses");
    if (type.startsWith("application/vnd.pgrst.plan")) throw unsupported("Execution plans (explain)");
  }
  throw pgrstError(406, "PGRST107", `None of these media types are available: ${offered.join(", ")}`);
}

/** PGRST116 as PostgREST answers `.single()` when the result is not exactly one row. */
export function requireSingleRow(rows: number): never {
  throw pgrstError(
    406,
    "PGRST116",
    "JSON object requested, multiple (or no) rows returned",
    `The result contains ${rows} rows`,
  );
}

/** The Range header and limit/offset together, as PostgREST intersects them. */
export function topLevelRange(req: Request, plan: ReadPlan): { offset: number; limit?: number } {
  const header = req.method === "GET" || req.method === "HEAD"
    ? parseRangeHeader(req.headers.get("Range"))
    : undefined;
  const upperOf = (offset: number, limit?: number) => limit === undefined ? Infinity : offset + limit - 1;
  const lower = Math.max(plan.offset, header?.offset ?? 0);
  const upper = Math.min(upperOf(plan.offset, plan.limit), upperOf(header?.offset ?? 0, header?.limit));
  return { offset: lower, limit: upper === Infinity ? undefined : Math.max(0, upper - lower + 1) };
}

/** Status and Content-Range of a read (PostgREST's rangeStatusHeader). */
export function readResponse(request: RestRequest, result: ReadResult, offset: number): Response {
  const total = result.total === undefined ? undefined : Number(result.total);
  const upper = offset + result.page_total - 1;
  const range = total !== 0 && offset <= upper ? `${offset}-${upper}` : "*";
  const headers = { "Content-Range": `${range}/${total ?? "*"}`, "Content-Type": request.accept.contentType };
  if (total !== undefined && offset > total) {
    return json(
      {
        code: "PGRST103",
        message: "Requested range not satisfiable",
        details: `An offset of ${offset} was requested, but there are only ${total} rows.`,
        hint: null,
      },
      416,
      { "Content-Range": `*/${total}` },
    );
  }
  const status = total !== undefined && result.page_total < total ? 206 : 200;
  return new Response(request.req.method === "HEAD" ? null : result.body, { status, headers });
}

/**
 * A cap on JSON bodies. PostgREST has none of its own (the gateway or server in front limits them);
 * 10 MiB is far above what the clients send and keeps one request from filling the memory.
 */
const JSON_BODY_LIMIT = 10 * 1024 * 1024;

/** The request body as JSON; PGRST102 when it is not, 413 past JSON_BODY_LIMIT. */
export async function readBody(req: Request, emptyAs?: unknown): Promise<unknown> {
  const body = await readBoundedText(req, JSON_BODY_LIMIT, () => payloadTooLarge(JSON_BODY_LIMIT));
  if (body.trim() === "" && emptyAs !== undefined) return emptyAs;
  try {
    return JSON.parse(body);
  } catch {
    throw pgrstError(400, "PGRST102", "Empty or invalid json");
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
