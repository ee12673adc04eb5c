/**
 * Object storage with two implementations: Supabase Storage (hosted) and a local folder.
 * Both record the object in storage.objects, so paths, URLs and RLS behave the same.
 */
import { SignJWT } from "jose";
import type { Sql } from "./db.ts";
import { LOCAL_JWT_SECRET } from "./env.ts";
import { errorForStatus, PermanentError } from "./errors.ts";

export interface StoredObject {
  bucket: string;
  path: string;
  url: string;
  size: number;
  /** Not written: nothing will read it (a pipeline output of a generation that stopped). */
  skipped?: true;
}

export interface Storage {
  put(bucket: string, path: string, bytes: Uint8Array, contentType: string): Promise<StoredObject>;
  /** The object's bytes; past `maxBytes` it is not read further (ObjectTooLargeError). */
  get(bucket: string, path: string, maxBytes?: number): Promise<Uint8Array>;
  /** Writes the object to a local file as it arrives (none of it held in memory); returns its size. */
  download(bucket: string, path: string, file: string): Promise<number>;
  /** A URL that lets a hosted service fetch the object for a while without credentials. */
  signedUrl(bucket: string, path: string, expiresInSeconds: number): Promise<string>;
  /** Removes the objects; a name that is not there is no error. */
  remove(bucket: string, paths: string[]): Promise<void>;
}

/** Supabase Storage removes at most this many objects a request. */
export const REMOVE_BATCH = 1000;

/** An object larger than its reader accepts: permanent, the same object will be as large next time. */
export class ObjectTooLargeError extends PermanentError {
  constructor(
    readonly bucket: string,
    readonly path: string,
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`${bucket}/${path} is ${size} bytes or more, more than the ${maxBytes} bytes expected`);
  }
}

/** Reads a body up to `maxBytes`, stopping as soon as it is larger. */
async function readAtMost(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: (size: number) => Error,
) {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      await body.cancel().catch(() => {});
      throw tooLarge(size);
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * Refuses an object name that could leave its folder on the way to Storage or the disk: absolute,
 * `.` or `..` segments (also percent-encoded), empty segments, backslashes, control characters
 * (the same rule as private.is_safe_object_name in SQL).
 */
export function safeObjectName(path: string): string {
  const bad = path === "" || path.startsWith("/") || path.includes("\\") || path.includes("//") ||
    /%(2e|2f|5c)/i.test(path) || [...path].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) ||
    path.split("/").some((segment) => segment === "." || segment === "..");
  if (bad) throw new PermanentError(`"${path}" is not a storage object name this project accepts`);
  return path;
}

/** The object's URL, each segment encoded: nothing in a name is resolved on the way. */
function objectUrl(baseUrl: string, bucket: string, path: string, kind = ""): string {
  const encoded = safeObjectName(path).split("/").map(encodeURIComponent).join("/");
  return `${baseUrl.replace(/\/$/, "")}/storage/v1/object/${kind}${bucket}/${encoded}`;
}

/** A signed URL's token on the local stack, as Supabase Storage issues one: bucket/path and an expiry. */
export async function signLocalObjectToken(
  bucket: string,
  path: string,
  expiresInSeconds: number,
): Promise<string> {
  return await new SignJWT({ url: `${bucket}/${safeObjectName(path)}` }).setProtectedHeader({
    alg: "HS256",
    typ: "JWT",
  })
    .setIssuedAt().setExpirationTime(
      Math.floor(Date.now() / 1000) + Math.max(1, Math.floor(expiresInSeconds)),
    )
    .sign(new TextEncoder().encode(LOCAL_JWT_SECRET));
}

async function recordObject(sql: Sql, bucket: string, path: string, size: number, contentType: string) {
  const owner = path.split("/")[0];
  await sql`
    insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
    values (${bucket}, ${path}, ${/^[0-9a-f-]{36}$/.test(owner) ? owner : null}, ${owner},
            ${sql.json({ size, mimetype: contentType })})
    on conflict (bucket_id, name) do update
      set metadata = excluded.metadata, updated_at = now(), last_accessed_at = now()`;
}

/**
 * A stream's bytes written into one buffer of the length announced, so a download holds one copy of
 * an object, not its chunks and their join too (a 50 MiB book was 100 MB at once); without a length,
 * or past it (a body decoded on the way), the chunks are joined.
 */
export async function readAll(stream: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  const known = Number.isSafeInteger(length) && length >= 0;
  let out = new Uint8Array(known ? length : 0);
  let at = 0;
  const spill: Uint8Array[] = [];
  for await (const chunk of stream) {
    if (spill.length === 0 && at + chunk.length <= out.length) {
      out.set(chunk, at);
      at += chunk.length;
    } else spill.push(chunk);
  }
  if (spill.length === 0) return at === out.length ? out : out.subarray(0, at);
  const joined = new Uint8Array(at + spill.reduce((n, c) => n + c.length, 0));
  joined.set(out.subarray(0, at));
  out = joined;
  for (const chunk of spill) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Files under `<root>/<bucket>/<path>`; served by the local runner at /storage/v1/object/. */
export class LocalStorage implements Storage {
  constructor(private sql: Sql, private root: string, private baseUrl: string) {}

  filePath(bucket: string, path: string): string {
    return `${this.root}/${bucket}/${safeObjectName(path)}`;
  }

  async put(bucket: string, path: string, bytes: Uint8Array, contentType: string): Promise<StoredObject> {
    const file = this.filePath(bucket, path);
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    const partial = `${file}.partial`;
    await Deno.writeFile(partial, bytes);
    await Deno.rename(partial, file); // readers never see half a file
    await recordObject(this.sql, bucket, path, bytes.length, contentType);
    return { bucket, path, url: objectUrl(this.baseUrl, bucket, path), size: bytes.length };
  }

  /** Read straight into one buffer of the file's size: no chunks to collect, no second copy. */
  async get(bucket: string, path: string, maxBytes = Infinity): Promise<Uint8Array> {
    using file = await Deno.open(this.filePath(bucket, path));
    const { size } = await file.stat();
    if (size > maxBytes) throw new ObjectTooLargeError(bucket, path, size, maxBytes);
    const out = new Uint8Array(size);
    let at = 0;
    while (at < out.length) {
      const read = await file.read(out.subarray(at));
      if (read === null) break;
      at += read;
    }
    return at === out.length ? out : out.subarray(0, at);
  }

  async download(bucket: string, path: string, file: string): Promise<number> {
    await Deno.copyFile(this.filePath(bucket, path), file);
    return (await Deno.stat(file)).size;
  }

  /** A URL the local gateway serves without a token until it expires, as Storage's signed URLs. */
  async signedUrl(bucket: string, path: string, expiresInSeconds: number): Promise<string> {
    const token = await signLocalObjectToken(bucket, path, expiresInSeconds);
    return `${objectUrl(this.baseUrl, bucket, path, "sign/")}?token=${token}`;
  }

  /** The bytes first, then the rows: a removal cut short leaves rows, which say what to remove again. */
  async remove(bucket: string, paths: string[]): Promise<void> {
    for (const path of paths) {
      await Deno.remove(this.filePath(bucket, path)).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
    await this.sql`delete from storage.objects where bucket_id = ${bucket} and name = any(${paths})`;
  }
}

/** Supabase Storage through its REST API with the service role key (upsert on the same path). */
export class SupabaseStorage implements Storage {
  constructor(private baseUrl: string, private serviceKey: string) {}

  async put(bucket: string, path: string, bytes: Uint8Array, contentType: string): Promise<StoredObject> {
    const res = await fetch(objectUrl(this.baseUrl, bucket, path), {
      method: "POST",
      headers: {
        Authorization: `Bearer ${this.serviceKey}`,
        "Content-Type": contentType,
        "x-upsert": "true",
      },
      body: new Uint8Array(bytes),
    });
    if (!res.ok) {
      throw new Error(`storage upload of ${bucket}/${path} failed: HTTP ${res.status} ${await res.text()}`);
    }
    await res.body?.cancel();
    return { bucket, path, url: objectUrl(this.baseUrl, bucket, path), size: bytes.length };
  }

  async get(bucket: string, path: string, maxBytes = Infinity): Promise<Uint8Array> {
    const res = await fetch(objectUrl(this.baseUrl, bucket, path, "authenticated/"), {
      headers: { Authorization: `Bearer ${this.serviceKey}` },
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`storage download of ${bucket}/${path} failed: HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get("Content-Length") ?? NaN);
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw new ObjectTooLargeError(bucket, path, declared, maxBytes);
    }
    if (!res.body) return new Uint8Array();
    // Bounded: stop as soon as it is larger; unbounded: one buffer of the length announced.
    return Number.isFinite(maxBytes)
      ? await readAtMost(res.body, maxBytes, (read) => new ObjectTooLargeError(bucket, path, read, maxBytes))
      : await readAll(res.body, declared);
  }

  async download(bucket: string, path: string, file: string): Promise<number> {
    const res = await fetch(objectUrl(this.baseUrl, bucket, path, "authenticated/"), {
      headers: { Authorization: `Bearer ${this.serviceKey}` },
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`storage download of ${bucket}/${path} failed: HTTP ${res.status}`);
    }
    const out = await Deno.open(file, { write: true, create: true, truncate: true });
    await res.body.pipeTo(out.writable); // closes the file
    return (await Deno.stat(file)).size;
  }

  async signedUrl(bucket: string, path: string, expiresInSeconds: number): Promise<string> {
    const base = `${this.baseUrl.replace(/\/$/, "")}/storage/v1`;
    const res = await fetch(objectUrl(this.baseUrl, bucket, path, "sign/"), {
      method: "POST",
      headers: { Authorization: `Bearer ${this.serviceKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ expiresIn: expiresInSeconds }),
    });
    if (!res.ok) throw new Error(`signing ${bucket}/${path} failed: HTTP ${res.status} ${await res.text()}`);
    const { signedURL } = await res.json() as { signedURL: string };
    return `${base}${signedURL}`;
  }

  async remove(bucket: string, paths: string[]): Promise<void> {
    const url = `${this.baseUrl.replace(/\/$/, "")}/storage/v1/object/${encodeURIComponent(bucket)}`;
    for (let at = 0; at < paths.length; at += REMOVE_BATCH) {
      const res = await fetch(url, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${this.serviceKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ prefixes: paths.slice(at, at + REMOVE_BATCH).map(safeObjectName) }),
      });
      if (!res.ok) throw errorForStatus(`Storage (removing from ${bucket})`, res.status, await res.text());
      await res.body?.cancel();
    }
  }
}
