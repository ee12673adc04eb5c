/** JSON responses and errors that carry their HTTP status. */
import { ConfigError } from "./env.ts";

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly code = "error") {
    super(message);
    this.name = "HttpError";
  }
}

export const corsHeaders = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type",
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
};

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...corsHeaders, "Content-Type": "application/json" },
  });
}

export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    return json({ error: error.message, code: error.code }, error.status);
  }
  const message = error instanceof Error ? error.message : String(error);
  // A deployment missing a setting says which, and is not the caller's fault.
  if (error instanceof ConfigError) {
    console.error(message);
    return json({ error: message, code: "configuration_error" }, 503);
  }
  // The database's rate limit (private.take_rate_limit) is the client's to wait out.
  if ((error as { code?: unknown } | null)?.code === "LT008") {
    return json({ error: message, code: "rate_limited" }, 429);
  }
  // The account is being deleted (private.reserve_cost): nothing new starts for it.
  if ((error as { code?: unknown } | null)?.code === "LT012") {
    return json({ error: message, code: "account_being_deleted" }, 409);
  }
  // The billing period's model budget is spent (private.reserve_cost): nothing more until the next.
  if ((error as { code?: unknown } | null)?.code === "LT010") {
    return json({ error: message, code: "budget_reached" }, 402);
  }
  // Anything else is ours to fix: its message may name tables, files or other users' rows, so the
  // caller gets a reference to it and the log gets the rest.
  const reference = crypto.randomUUID();
  console.error(`internal error ${reference}:`, error);
  return json({
    error: `something went wrong on our side; it was logged as ${reference}`,
    code: "internal_error",
    reference,
  }, 500);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A request field that must be a uuid (null when absent and `optional`), or 400. */
export function uuidField(value: unknown, name: string, optional = false): string | null {
  if (optional && (value === undefined || value === null)) return null;
  if (typeof value !== "string" || !UUID.test(value)) {
    throw new HttpError(400, `"${name}" must be a uuid`, "bad_request");
  }
  return value;
}

/** Request bodies are small: JSON requests up to 64 KiB unless a function says otherwise. */
export const JSON_BODY_LIMIT = 64 * 1024;

/** Reads the body as text, refusing (413) one larger than `limit` bytes without reading it all. */
export async function readBody(req: Request, limit: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, `the request body is limited to ${limit} bytes`, "payload_too_large");
  const declared = Number(req.headers.get("Content-Length") ?? NaN);
  if (declared > limit) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "the request body must be UTF-8 text", "bad_request");
  }
}

/** No request of ours nests deeper than this; deeper values would overflow the stack of code that recurses. */
export const JSON_MAX_DEPTH = 32;

/**
 * Refuses (400) a parsed body nesting deeper than JSON_MAX_DEPTH, or holding a string Postgres cannot
 * store: a NUL character, or half of a surrogate pair. Walks without recursion.
 */
function checkJsonValue(body: unknown): void {
  const pending: [unknown, number][] = [[body, 0]];
  const refuse = (message: string) => new HttpError(400, message, "bad_request");
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (typeof value === "string") {
      if (value.includes("\u0000")) throw refuse("the request body must not contain NUL characters");
      if (!value.isWellFormed()) throw refuse("the request body must not contain unpaired surrogates");
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= JSON_MAX_DEPTH) {
      throw refuse(`the request body is nested more than ${JSON_MAX_DEPTH} levels deep`);
    }
    if (Array.isArray(value)) {
      for (const item of value) pending.push([item, depth + 1]);
    } else {
      for (const [key, item] of Object.entries(value)) pending.push([key, depth], [item, depth + 1]);
    }
  }
}

/** Reads a JSON object body (at most `limit` bytes), or answers 400 / 413. */
export async function readJson<T extends object>(req: Request, limit = JSON_BODY_LIMIT): Promise<T> {
  const text = await readBody(req, limit);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, "the request body must be JSON", "bad_request");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, "the request body must be a JSON object", "bad_request");
  }
  checkJsonValue(body);
  return body as T;
}

/** Wraps a handler: answers CORS preflight and turns thrown errors into JSON. */
export function handle(handler: (req: Request) => Promise<Response>) {
  return async (req: Request): Promise<Response> => {
    if (req.method === "OPTIONS") return new Response("ok", { headers: corsHeaders });
    try {
      return await handler(req);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
