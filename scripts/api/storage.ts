/**
 * Storage under /storage/v1, answering what supabase-js's storage-js sends as Supabase Storage
 * answers it: upload (POST, PUT, `x-upsert`), download (authenticated, public, signed URL), signing,
 * listing and removing objects, reading buckets. Every check runs in the database as the caller
 * (role and JWT claims set as Storage sets them), so the storage.objects policies decide; the
 * bucket's file_size_limit and allowed_mime_types apply to uploads.
 *
 * Object bytes live in `<storageDir>/<bucket>/<name>`, the layout of the project's LocalStorage
 * adapter. An upload streams to a temporary file first and is renamed into place inside the
 * transaction that records its row, so a refused or failed upload leaves neither file nor row.
 *
 * Errors have Storage's shape, `{statusCode, code, error, message}`, and like Storage answer HTTP
 * 400 for every client error, the real status being `statusCode` (storage-js reads both).
 * As behind Supabase's gateway, no API key is needed here: Storage checks the bearer token itself,
 * and public and signed URLs work without one.
 */
import { errors as joseErrors, jwtVerify } from "jose";
import type { Json, Sql } from "../../supabase/functions/_shared/db.ts";
import { safeObjectName, signLocalObjectToken } from "../../supabase/functions/_shared/storage.ts";
import { multipartParts } from "./storage/multipart.ts";
import {
  type ApiContext,
  ApiError,
  bearerToken,
  boundedBody,
  type Caller,
  decodePathSegment,
  json,
  jwtSecret,
  readBoundedBytes,
  readBoundedText,
  runAs,
  type Service,
} from "./context.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** storage.search's cap on one page of a listing. */
const MAX_LIST_LIMIT = 1500;
const MAX_DELETE_PREFIXES = 1000;
const LIST_SORT_COLUMNS = ["name", "updated_at", "created_at", "last_accessed_at"];
/** The project's upload cap (supabase/config.toml [storage] file_size_limit); a bucket may set less. */
const GLOBAL_FILE_SIZE_LIMIT = 50 * 1024 * 1024;
/** A cap on JSON bodies (sign, list, remove) and on a multipart form's parts besides the file. */
const JSON_BODY_LIMIT = 1024 * 1024;

function storageError(statusCode: number, code: string, message: string, error = code): ApiError {
  return new ApiError(statusCode >= 500 ? 500 : 400, {
    statusCode: String(statusCode),
    code,
    error,
    message,
  });
}
const noSuchKey = () => storageError(404, "NoSuchKey", "Object not found", "not_found");
const noSuchBucket = () => storageError(404, "NoSuchBucket", "Bucket not found", "Bucket not found");
const accessDenied = (message: string) => storageError(403, "AccessDenied", message, "Unauthorized");
const invalidRequest = (message: string) => storageError(400, "InvalidRequest", message);
const entityTooLarge = () =>
  storageError(413, "EntityTooLarge", "The object exceeded the maximum allowed size", "Payload too large");
const bodyTooLarge = () =>
  storageError(
    413,
    "EntityTooLarge",
    `The request body is limited to ${JSON_BODY_LIMIT} bytes`,
    "Payload too large",
  );

/** Storage's own reads, past the policies (public buckets, signed URLs). */
const SERVICE: Caller = { role: "service_role", claims: { role: "service_role" } };

interface ObjectRow {
  id: string;
  name: string;
  metadata: { mimetype?: string; cacheControl?: string } | null;
  updated_at: Date;
}

type Route = (req: Request, ctx: ApiContext, bucket: string, name?: string) => Promise<Response>;

/**
 * Routes by method, the path's kind (authenticated, public, sign, list or none) and whether it
 * names an object.
 */
const ROUTES: Record<string, Route> = {
  "GET authenticated object": (req, ctx, bucket, name) => download(req, ctx, bucket, name!, true),
  "GET object": (req, ctx, bucket, name) => download(req, ctx, bucket, name!, false),
  "GET public object": publicDownload,
  "GET sign object": signedDownload,
  "POST sign object": sign,
  "POST sign bucket": signMany,
  "POST list bucket": list,
  "POST object": (req, ctx, bucket, name) =>
    upload(req, ctx, bucket, name!, req.headers.get("x-upsert") === "true"),
  "PUT object": (req, ctx, bucket, name) => upload(req, ctx, bucket, name!, true),
  "DELETE bucket": remove,
};

export const storage: Service = async (req, ctx) => {
  const path = new URL(req.url).pathname.slice("/storage/v1".length);
  // HEAD is GET without the body (Deno drops it).
  const method = req.method === "HEAD" ? "GET" : req.method;
  const bucketPath = path.match(/^\/bucket(?:\/([^/]+))?\/?$/);
  if (bucketPath && method === "GET") {
    return await readBuckets(req, ctx, bucketPath[1] && decode(bucketPath[1]));
  }
  const objectPath = path.match(/^\/object\/(?:(authenticated|public|sign|list)\/)?([^/]+)(?:\/(.+))?$/);
  if (!objectPath) return null;
  const [, kind, bucket, name] = objectPath;
  const route = ROUTES[[method, kind, name === undefined ? "bucket" : "object"].filter(Boolean).join(" ")];
  if (!route) return null;
  return await route(req, ctx, decode(bucket), name === undefined ? undefined : objectName(decode(name)));
};

function decode(segment: string): string {
  return decodePathSegment(segment, () => storageError(400, "InvalidKey", `Invalid key: ${segment}`));
}

/** An object name that stays in its folder (the project's rule, shared with LocalStorage). */
function objectName(name: string): string {
  try {
    return safeObjectName(name);
  } catch {
    throw storageError(400, "InvalidKey", `Invalid key: ${name}`);
  }
}

/** Where LocalStorage keeps the object's bytes; the bucket must not climb either. */
function objectFile(ctx: ApiContext, bucket: string, name: string): string {
  return `${ctx.storageDir}/${objectName(`${bucket}/${name}`)}`;
}

/**
 * The bearer token's caller. A missing token is anon with `anonymousWithoutToken`, else refused; an
 * invalid or expired one is always refused, with the messages Storage's JWT library gives.
 */
async function callerOf(req: Request, anonymousWithoutToken = false): Promise<Caller> {
  const token = bearerToken(req);
  if (token === undefined && anonymousWithoutToken) return { role: "anon", claims: { role: "anon" } };
  let claims: Record<string, unknown>;
  try {
    claims = (await jwtVerify(token ?? "", jwtSecret)).payload;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw accessDenied("jwt expired");
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw accessDenied("invalid signature");
    throw accessDenied((error as Error).message);
  }
  const role = claims.role ?? "anon";
  if (role !== "anon" && role !== "authenticated" && role !== "service_role") {
    throw accessDenied("Access denied: Invalid role");
  }
  const userId = role === "authenticated" && typeof claims.sub === "string" ? claims.sub : undefined;
  return { role, claims, userId };
}

/** Runs `body` as the caller; the database's refusals become Storage's errors. */
async function asCaller<T>(ctx: ApiContext, caller: Caller, body: (tx: Sql) => Promise<T>): Promise<T> {
  try {
    return await runAs(ctx.sql, caller, body);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === "42501") {
      throw accessDenied(
        message?.includes("row-level security")
          ? "new row violates row-level security policy"
          : String(message),
      );
    }
    if (code === "23505") throw storageError(409, "Duplicate", "The resource already exists", "Duplicate");
    throw error;
  }
}

async function readJson(req: Request): Promise<Record<string, unknown>> {
  const text = await readBoundedText(req, JSON_BODY_LIMIT, bodyTooLarge);
  try {
    const body = JSON.parse(text);
    if (typeof body === "object" && body !== null && !Array.isArray(body)) return body;
  } catch {
    // answered below
  }
  throw invalidRequest("the body must be a JSON object");
}

async function findObject(ctx: ApiContext, caller: Caller, bucket: string, name: string): Promise<ObjectRow> {
  const [row] = await asCaller(ctx, caller, (tx) =>
    tx<ObjectRow[]>`
      select id, name, metadata, updated_at from storage.objects
      where bucket_id = ${bucket} and name = ${name}`);
  if (!row) throw noSuchKey();
  return row;
}

/** The object's bytes with the headers Storage sends; `?download` makes it an attachment. */
async function serveObject(req: Request, ctx: ApiContext, bucket: string, row: ObjectRow): Promise<Response> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(objectFile(ctx, bucket, row.name), { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw noSuchKey();
    throw error;
  }
  const headers = new Headers({
    "Content-Type": row.metadata?.mimetype ?? "application/octet-stream",
    "Content-Length": String((await file.stat()).size),
    "Cache-Control": row.metadata?.cacheControl ?? "no-cache",
    "Last-Modified": row.updated_at.toUTCString(),
  });
  const download = new URL(req.url).searchParams.get("download");
  if (download !== null) {
    const filename = download || row.name.split("/").pop()!;
    headers.set("Content-Disposition", `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`);
  }
  if (req.method === "HEAD") {
    file.close();
    return new Response(null, { headers });
  }
  return new Response(file.readable, { headers });
}

/** /object/authenticated/... wants a token; /object/<bucket>/... reads as anon without one. */
async function download(req: Request, ctx: ApiContext, bucket: string, name: string, tokenRequired: boolean) {
  const caller = await callerOf(req, !tokenRequired);
  return await serveObject(req, ctx, bucket, await findObject(ctx, caller, bucket, name));
}

async function publicDownload(req: Request, ctx: ApiContext, bucket: string, name?: string) {
  const [found] = await ctx.sql`select 1 from storage.buckets where id = ${bucket} and public`;
  if (!found) throw noSuchBucket();
  return await serveObject(req, ctx, bucket, await findObject(ctx, SERVICE, bucket, name!));
}

async function signedDownload(req: Request, ctx: ApiContext, bucket: string, name?: string) {
  let claims: Record<string, unknown>;
  try {
    // A signed URL always expires: a token without `exp` is no URL this API signed.
    claims = (await jwtVerify(new URL(req.url).searchParams.get("token") ?? "", jwtSecret, {
      requiredClaims: ["exp"],
    })).payload;
  } catch (error) {
    throw storageError(400, "InvalidJWT", (error as Error).message);
  }
  if (claims.url !== `${bucket}/${name}`) throw storageError(400, "InvalidSignature", "Invalid signature");
  return await serveObject(req, ctx, bucket, await findObject(ctx, SERVICE, bucket, name!));
}

function expiresInOf(body: Record<string, unknown>): number {
  const expiresIn = Number(body.expiresIn);
  if (!Number.isSafeInteger(expiresIn) || expiresIn < 1) {
    throw invalidRequest("expiresIn must be a positive whole number of seconds");
  }
  return expiresIn;
}

/** A signed URL for an object the caller can read, relative to /storage/v1 as Storage answers it. */
async function sign(req: Request, ctx: ApiContext, bucket: string, name?: string) {
  const caller = await callerOf(req);
  const expiresIn = expiresInOf(await readJson(req));
  await findObject(ctx, caller, bucket, name!);
  const token = await signLocalObjectToken(bucket, name!, expiresIn);
  return json({ signedURL: `/object/sign/${bucket}/${name}?token=${token}` });
}

async function signMany(req: Request, ctx: ApiContext, bucket: string) {
  const caller = await callerOf(req);
  const body = await readJson(req);
  const expiresIn = expiresInOf(body);
  if (!Array.isArray(body.paths) || !body.paths.every((path) => typeof path === "string")) {
    throw invalidRequest("paths must be a list of object names");
  }
  const paths = body.paths as string[];
  const readable = new Set(
    (await asCaller(
      ctx,
      caller,
      (tx) =>
        tx<{ name: string }[]>`select name from storage.objects where bucket_id = ${bucket} and name in ${
          tx(paths)
        }`,
    ))
      .map((row) => row.name),
  );
  return json(
    await Promise.all(paths.map(async (path) =>
      readable.has(path)
        ? {
          error: null,
          path,
          signedURL: `/object/sign/${bucket}/${path}?token=${await signLocalObjectToken(
            bucket,
            path,
            expiresIn,
          )}`,
        }
        : { error: "Either the object does not exist or you do not have access to it", path, signedURL: null }
    )),
  );
}

/**
 * Storage's mime check: the type and subtype must equal an allowed one (or `type/*`); parameters
 * such as `;charset=UTF-8` are part of the subtype, as in Storage.
 */
function checkMimeType(mimeType: string, allowed: string[]): void {
  const [type, subtype] = mimeType.split("/");
  const ok = subtype !== undefined && allowed.some((entry) => {
    const [allowedType, allowedSubtype] = entry.split("/");
    return allowedType === type && (allowedSubtype === "*" || allowedSubtype === subtype);
  });
  if (!ok) {
    throw storageError(415, "InvalidMimeType", `mime type ${mimeType} is not supported`, "invalid_mime_type");
  }
}

interface IncomingFile {
  body: ReadableStream<Uint8Array>;
  mimeType: string;
  cacheControl: string;
  userMetadata?: Record<string, unknown>;
}

/**
 * The uploaded file, at most `limit` bytes: a multipart form's file (storage-js sends Blobs so) or
 * the raw body. A raw body streams, refused at the first byte past the limit; a form is read whole
 * (bounded too) to find its parts.
 */
async function incomingFile(req: Request, limit: number): Promise<IncomingFile> {
  const contentType = req.headers.get("Content-Type") ?? "";
  const parseMetadata = (text: string | undefined) => {
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      return undefined;
    }
  };
  const boundary = contentType.match(/^multipart\/form-data;.*boundary="?([^";]+)"?/i)?.[1];
  if (boundary) {
    const form = await readBoundedBytes(req, limit + JSON_BODY_LIMIT, entityTooLarge);
    const parts = multipartParts(form, boundary);
    const file = parts?.find((part) => part.filename !== undefined);
    if (!parts || !file) throw invalidRequest("No content provided");
    if (file.content.byteLength > limit) throw entityTooLarge();
    const decoder = new TextDecoder();
    const fields = new Map(
      parts.filter((part) => part.filename === undefined).map((
        part,
      ) => [part.name, decoder.decode(part.content)]),
    );
    const cacheTime = fields.get("cacheControl");
    return {
      body: new Blob([file.content]).stream(),
      mimeType: fields.get("contentType") || file.contentType || "application/octet-stream",
      cacheControl: cacheTime ? `max-age=${cacheTime}` : "no-cache",
      userMetadata: parseMetadata(fields.get("metadata") ?? fields.get("userMetadata")),
    };
  }
  const encodedMetadata = req.headers.get("x-metadata");
  return {
    body: boundedBody(req, limit, entityTooLarge),
    mimeType: contentType || "application/octet-stream",
    cacheControl: req.headers.get("Cache-Control") ?? "no-cache",
    userMetadata: encodedMetadata ? parseMetadata(atob(encodedMetadata)) : undefined,
  };
}

/** Streams `body` to a new file at `path`; returns its size. */
async function writeFile(body: ReadableStream<Uint8Array>, path: string): Promise<number> {
  const file = await Deno.open(path, { write: true, createNew: true });
  await body.pipeTo(file.writable);
  return (await Deno.stat(path)).size;
}

/**
 * Moves an upload into place. A local limitation: bytes live at `<bucket>/<name>`, so a name cannot
 * be both an object and a folder of others (`a` and `a/b`), which Supabase Storage allows.
 */
async function placeFile(partial: string, finalPath: string, name: string): Promise<void> {
  try {
    await Deno.mkdir(finalPath.slice(0, finalPath.lastIndexOf("/")), { recursive: true });
    await Deno.rename(partial, finalPath);
  } catch (error) {
    const clash = error instanceof Deno.errors.AlreadyExists || error instanceof Deno.errors.NotADirectory ||
      error instanceof Deno.errors.IsADirectory;
    if (!clash) throw error;
    throw storageError(
      409,
      "ResourceAlreadyExists",
      `${name} clashes with an object or folder of the same name (the local Storage keeps objects as files)`,
    );
  }
}

async function upload(req: Request, ctx: ApiContext, bucketId: string, name: string, upsert: boolean) {
  // As Storage, an object name is not a folder.
  if (name.endsWith("/")) throw storageError(400, "InvalidKey", `Invalid key: ${name}`);
  const caller = await callerOf(req);
  const [bucket] = await ctx.sql<{ file_size_limit: string | null; allowed_mime_types: string[] | null }[]>`
    select file_size_limit, allowed_mime_types from storage.buckets where id = ${bucketId}`;
  if (!bucket) throw noSuchBucket();
  const file = await incomingFile(
    req,
    Math.min(Number(bucket.file_size_limit ?? GLOBAL_FILE_SIZE_LIMIT), GLOBAL_FILE_SIZE_LIMIT),
  );
  if (bucket.allowed_mime_types?.length) checkMimeType(file.mimeType, bucket.allowed_mime_types);
  const finalPath = objectFile(ctx, bucketId, name);
  const uploads = `${ctx.storageDir}/.uploads`;
  await Deno.mkdir(uploads, { recursive: true });
  const partial = `${uploads}/${crypto.randomUUID()}`;
  try {
    const size = await writeFile(file.body, partial);
    const metadata = {
      size,
      mimetype: file.mimeType,
      cacheControl: file.cacheControl,
      lastModified: new Date().toUTCString(),
      contentLength: size,
      httpStatusCode: 200,
    };
    const owner = typeof caller.claims.sub === "string" ? caller.claims.sub : null;
    const id = await asCaller(ctx, caller, async (tx) => {
      const row = {
        id: crypto.randomUUID(),
        bucket_id: bucketId,
        name,
        owner: owner && UUID.test(owner) ? owner : null,
        owner_id: owner,
        metadata: tx.json(metadata),
        user_metadata: file.userMetadata === undefined ? null : tx.json(file.userMetadata as Json),
        version: crypto.randomUUID(),
      };
      // The policies decide here: insert (and update, for an upsert) as the caller. An upsert keeps
      // the existing row's id, which its returning needs the select policy to read, as in Storage.
      let id: string = row.id;
      if (upsert) {
        [{ id }] = await tx<{ id: string }[]>`
          insert into storage.objects ${tx(row)}
          on conflict (bucket_id, name) do update
            set metadata = excluded.metadata, user_metadata = excluded.user_metadata,
                version = excluded.version, owner = excluded.owner, owner_id = excluded.owner_id,
                updated_at = now(), last_accessed_at = now()
          returning id`;
      } else {
        await tx`insert into storage.objects ${tx(row)}`;
      }
      await placeFile(partial, finalPath, name);
      return id;
    });
    return json({ Id: id, Key: `${bucketId}/${name}` });
  } finally {
    // Still there unless it was renamed into place.
    await Deno.remove(partial).catch(() => {});
  }
}

/** One level of the folder under `prefix`: sub-folders (no id) and files, as storage.search lists them. */
async function list(req: Request, ctx: ApiContext, bucket: string) {
  const caller = await callerOf(req);
  const body = await readJson(req);
  let prefix = typeof body.prefix === "string" ? body.prefix : "";
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
  const search = typeof body.search === "string" ? body.search : "";
  const limit = Math.min(Math.max(Math.floor(Number(body.limit ?? 100)) || 100, 1), MAX_LIST_LIMIT);
  const offset = Math.max(Math.floor(Number(body.offset ?? 0)) || 0, 0);
  const sortBy = body.sortBy ?? {};
  if (typeof sortBy !== "object" || sortBy === null || Array.isArray(sortBy)) {
    throw invalidRequest("body/sortBy must be object");
  }
  const { column = "name", order = "asc" } = sortBy as Record<string, unknown>;
  if (typeof column !== "string") throw invalidRequest("body/sortBy/column must be string");
  if (typeof order !== "string") throw invalidRequest("body/sortBy/order must be string");
  const sortColumn = LIST_SORT_COLUMNS.includes(column) ? column : "name";
  const descending = order.toLowerCase() === "desc";
  const pattern = `${(prefix + search).replace(/[\\%_]/g, "\\$&")}%`;
  const rows = await asCaller(ctx, caller, (tx) => {
    const direction = descending ? tx`desc` : tx`asc`;
    // Folders come first when sorting by a date (they have none), as in storage.search.
    const orderBy = sortColumn === "name"
      ? tx`lower(name) collate "C" ${direction}`
      : tx`(id is not null), ${tx(sortColumn)} ${direction}, lower(name) collate "C" ${direction}`;
    return tx`
      with matched as (
        select substr(name, ${
      prefix.length + 1
    }) as rest, id, updated_at, created_at, last_accessed_at, metadata
        from storage.objects where bucket_id = ${bucket} and name ilike ${pattern}
      ), entries as (
        select split_part(rest, '/', 1) as name, null::uuid as id, null::timestamptz as updated_at,
               null::timestamptz as created_at, null::timestamptz as last_accessed_at, null::jsonb as metadata
        from matched where strpos(rest, '/') > 0 group by 1
        union all
        select rest, id, updated_at, created_at, last_accessed_at, metadata
        from matched where strpos(rest, '/') = 0
      )
      select * from entries order by ${orderBy} limit ${limit} offset ${offset}`;
  });
  return json(rows);
}

/** Deletes the named objects the caller may delete (the others stay); answers the deleted rows. */
async function remove(req: Request, ctx: ApiContext, bucket: string) {
  const caller = await callerOf(req);
  const { prefixes } = await readJson(req);
  if (
    !Array.isArray(prefixes) || prefixes.length === 0 || prefixes.length > MAX_DELETE_PREFIXES ||
    !prefixes.every((name) => typeof name === "string")
  ) {
    throw invalidRequest(`prefixes must list 1 to ${MAX_DELETE_PREFIXES} object names`);
  }
  const deleted = await asCaller(ctx, caller, (tx) =>
    tx<{ name: string }[]>`
      delete from storage.objects where bucket_id = ${bucket} and name in ${
      tx(prefixes as string[])
    } returning *`);
  for (const { name } of deleted) {
    try {
      await Deno.remove(objectFile(ctx, bucket, name));
    } catch {
      // Bytes already gone, or a name no file could have.
    }
  }
  return json(deleted);
}

/** listBuckets and getBucket: the buckets the caller may see under storage.buckets' policies. */
async function readBuckets(req: Request, ctx: ApiContext, id?: string) {
  const caller = await callerOf(req);
  const buckets = await asCaller(ctx, caller, (tx) =>
    tx`
      select id, name, coalesce(owner::text, '') as owner, public, file_size_limit::float8 as file_size_limit,
             allowed_mime_types, created_at, updated_at, 'STANDARD' as type
      from storage.buckets ${id === undefined ? tx`` : tx`where id = ${id}`} order by name`);
  if (id === undefined) return json(buckets);
  if (!buckets[0]) throw noSuchBucket();
  return json(buckets[0]);
}
