/**
 * Storage objects on the local stack, served as Supabase Storage serves them: a request needs a
 * token; the service role reads everything, a user only what the storage.objects policies let them
 * select (checked in the database as that user), and a signed URL only its own object until it
 * expires. Public buckets are read without a token.
 */
import { jwtVerify } from "jose";
import { asUser, type Sql } from "../../supabase/functions/_shared/db.ts";
import { LOCAL_JWT_SECRET } from "../../supabase/functions/_shared/env.ts";
import { safeObjectName } from "../../supabase/functions/_shared/storage.ts";

const CONTENT_TYPES: Record<string, string> = { png: "image/png", wav: "audio/wav", mp4: "video/mp4" };
const secret = new TextEncoder().encode(LOCAL_JWT_SECRET);
const error = (status: number, message: string) => Response.json({ error: message }, { status });

async function claimsOf(token: string): Promise<Record<string, unknown> | null> {
  try {
    return (await jwtVerify(token, secret, { requiredClaims: ["exp"] })).payload;
  } catch {
    return null;
  }
}

/** Answers /storage/v1/object/... requests; null for any other path. */
export async function serveStorage(req: Request, sql: Sql, storageDir: string): Promise<Response | null> {
  const url = new URL(req.url);
  const match = url.pathname.match(
    /^\/storage\/v1\/object\/(?:(authenticated|public|sign)\/)?([^/]+)\/(.+)$/,
  );
  if (!match) return null;
  if (req.method !== "GET" && req.method !== "HEAD") {
    return error(405, "objects are uploaded through Storage");
  }
  const [, kind, bucket] = match;
  let path: string;
  try {
    path = safeObjectName(decodeURIComponent(match[3]));
  } catch {
    return error(400, "invalid object name");
  }
  const found = async () => {
    const [row] = await sql<{ public: boolean; stored: boolean }[]>`
      select b.public, exists (select 1 from storage.objects o where o.bucket_id = b.id and o.name = ${path}) as stored
      from storage.buckets b where b.id = ${bucket}`;
    return row;
  };

  if (kind === "sign") {
    const claims = await claimsOf(url.searchParams.get("token") ?? "");
    if (!claims || claims.url !== `${bucket}/${path}`) {
      return error(400, "the signed URL is invalid or has expired");
    }
  } else if (kind === "public") {
    if (!(await found())?.public) return error(400, "the bucket is not public");
  } else {
    const token = req.headers.get("Authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
    const claims = token ? await claimsOf(token) : null;
    if (!claims) return error(401, "send a valid access token as Authorization: Bearer <token>");
    if (claims.role !== "service_role") {
      if (claims.role !== "authenticated" || typeof claims.sub !== "string") {
        return error(404, "object not found");
      }
      // The user's own view of storage.objects: the same policies as Supabase Storage applies.
      const [{ visible }] = await asUser(sql, claims.sub, (tx) =>
        tx<{ visible: boolean }[]>`
          select exists (select 1 from storage.objects where bucket_id = ${bucket} and name = ${path}) as visible`);
      if (!visible) return error(404, "object not found");
    }
  }
  if (!(await found())?.stored) return error(404, "object not found");
  try {
    const file = await Deno.open(`${storageDir}/${bucket}/${path}`, { read: true });
    const type = CONTENT_TYPES[path.split(".").pop() ?? ""] ?? "application/octet-stream";
    return new Response(req.method === "HEAD" ? null : file.readable, { headers: { "Content-Type": type } });
  } catch {
    return error(404, "object not found");
  }
}
